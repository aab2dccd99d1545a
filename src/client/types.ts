/** The public types of the client API. */
import type { ACL, Stat } from "../jute/records.js";
import type { CreateMode, EventType, KeeperState } from "../protocol/constants.js";

export type { ACL, ClientInfo, Id, Stat } from "../jute/records.js";

/** A watch event, as ZooKeeper's WatchedEvent: what happened, to which path (chroot removed). */
export interface WatchEvent {
  readonly type: EventType;
  readonly state: KeeperState;
  readonly path: string;
  /** The zxid the server stamped on the notification (-1 when it sends none, as 3.8 does). */
  readonly zxid: bigint;
}

export type WatchListener = (event: WatchEvent) => void;

/**
 * The client's connection state. `connecting` is the first attempt; `disconnected` means the
 * session lives on while the client looks for a server; `expired`, `authFailed` and `closed` are
 * final.
 */
export type ClientState =
  | "connecting"
  | "connected"
  | "connectedReadOnly"
  | "disconnected"
  | "expired"
  | "authFailed"
  | "closed";

/** Per-call options every operation takes. */
export interface CallOptions {
  /** Abort this call: it rejects with the signal's reason (a reply that arrives later is dropped). */
  readonly signal?: AbortSignal;
  /** Reject with RequestTimeoutError after this long; overrides the client's requestTimeoutMs. */
  readonly timeoutMs?: number;
}

/** A watch to leave with a read: a listener, or `true` for a one-shot promise in the result. */
export interface WatchOption<W> extends CallOptions {
  readonly watch?: W;
}

export interface CreateOptions extends CallOptions {
  /** Default PERSISTENT. */
  readonly mode?: CreateMode;
  /** Default OPEN_ACL_UNSAFE (world:anyone, all permissions). */
  readonly acl?: readonly ACL[];
  /** Time to live of a TTL node, in ms (modes PERSISTENT_WITH_TTL and ..._SEQUENTIAL_WITH_TTL). */
  readonly ttlMs?: number;
}

export interface VersionOptions extends CallOptions {
  /** Expected version; -1 (the default) matches any. */
  readonly version?: number;
}

export interface DataResult {
  readonly data: Buffer;
  readonly stat: Stat;
}

export interface ChildrenResult {
  readonly children: string[];
  readonly stat: Stat;
}

export interface CreateResult {
  readonly path: string;
  readonly stat: Stat;
}

/** The ops a multi (transaction) may hold. */
export type Op =
  | {
      readonly type: "create";
      readonly path: string;
      readonly data?: Uint8Array | string;
      readonly mode?: CreateMode;
      readonly acl?: readonly ACL[];
      readonly ttlMs?: number;
    }
  | { readonly type: "delete"; readonly path: string; readonly version?: number }
  | {
      readonly type: "setData";
      readonly path: string;
      readonly data: Uint8Array | string;
      readonly version?: number;
    }
  | { readonly type: "check"; readonly path: string; readonly version: number };

/** One result of a multi, in the order of its ops. */
export type OpResult =
  /** `stat` is there when the server sends it (Apache ZooKeeper 3.8 does not, in a multi). */
  | { readonly type: "create"; readonly path: string; readonly stat: Stat | undefined }
  | { readonly type: "delete" }
  | { readonly type: "setData"; readonly stat: Stat }
  | { readonly type: "check" }
  | { readonly type: "error"; readonly err: number };

/** The reads a multiRead may hold. */
export type ReadOp =
  | { readonly type: "getData"; readonly path: string }
  | { readonly type: "getChildren"; readonly path: string };

/** One result of a multiRead: unlike multi, each read succeeds or fails on its own. */
export type ReadOpResult =
  | { readonly type: "getData"; readonly data: Buffer; readonly stat: Stat }
  | { readonly type: "getChildren"; readonly children: string[] }
  | { readonly type: "error"; readonly err: number };
