/**
 * The public client: `connect()` and the ZooKeeper class with every operation of ZooKeeper 3.8 as
 * a promise. Paths are the caller's (the chroot is applied and removed here); every call takes
 * an AbortSignal and a timeout; watches are a listener or a one-shot promise.
 */
import {
  type ACL,
  AddWatchRequest,
  CheckWatchesRequest,
  type ClientInfo,
  Create2Response,
  CreateRequest,
  CreateResponse,
  CreateTTLRequest,
  DeleteRequest,
  ExistsRequest,
  ExistsResponse,
  GetACLRequest,
  GetACLResponse,
  GetAllChildrenNumberRequest,
  GetAllChildrenNumberResponse,
  GetChildren2Response,
  GetChildrenResponse,
  GetDataRequest,
  GetDataResponse,
  GetEphemeralsRequest,
  GetEphemeralsResponse,
  type Reader,
  ReconfigRequest,
  RemoveWatchesRequest,
  SetACLRequest,
  SetDataRequest,
  type Stat,
  SyncRequest,
  SyncResponse,
  WhoAmIResponse,
  type Writer,
} from "../jute/index.js";
import { CreateMode, WatcherType } from "../protocol/constants.js";
import {
  AuthFailedError,
  ErrorCode,
  errorFromCode,
  InvalidArgumentError,
  NoWatcherError,
  SessionExpiredError,
} from "../protocol/errors.js";
import { readMultiResponse, writeMultiRequest } from "../protocol/multi.js";
import { CONFIG_NODE, OpCode } from "../protocol/opcodes.js";
import { deferred } from "../util/deferred.js";
import { OPEN_ACL_UNSAFE } from "./acl.js";
import { parseConnectString } from "./connect-string.js";
import { createOpcode, toData, ttlOf, validateCreate } from "./create.js";
import { EventQueue } from "./event-queue.js";
import { fromMultiResult, fromReadResult, multiError, toMultiOp, toReadOp } from "./multi-ops.js";
import { prependChroot, stripChroot, validatePath } from "./paths.js";
import { PersistentWatch } from "./persistent-watch.js";
import type { Session } from "./session.js";
import type {
  CallOptions,
  ChildrenResult,
  ClientState,
  CreateOptions,
  CreateResult,
  DataResult,
  Op,
  OpResult,
  ReadOp,
  ReadOpResult,
  VersionOptions,
  WatchEvent,
  WatchListener,
  WatchOption,
} from "./types.js";
import type { WatchKind } from "./watch-manager.js";

type Watched<T> = T & { readonly watch: Promise<WatchEvent> };
type ReadOptions = WatchOption<WatchListener | true | undefined>;

/** Which local watch tables a removeWatches type covers. */
const REMOVED_KINDS: Record<WatcherType, readonly WatchKind[]> = {
  Children: ["child"],
  Data: ["data", "exist"],
  Any: ["data", "exist", "child", "persistent", "persistentRecursive"],
  Persistent: ["persistent"],
  PersistentRecursive: ["persistentRecursive"],
};

export class ZooKeeper implements AsyncDisposable {
  private session: Session;
  private readonly chroot: string;
  private readonly renewing: boolean;
  private closing = false;
  private readonly stateListeners = new Set<(state: ClientState) => void>();

  /** @internal Use `connect()`. */
  constructor(session: Session, options: { renewExpiredSession?: boolean } = {}) {
    this.session = session;
    this.chroot = session.chroot;
    this.renewing = options.renewExpiredSession ?? false;
    this.follow(session);
  }

  get state(): ClientState {
    return this.session.state;
  }

  /**
   * Whether a session the server expires is followed by a new one on this client (connect's
   * renewExpiredSession). Then `expired` is a passing state, as Curator's LOST, and only
   * `closed` and `authFailed` are final.
   */
  get renewsExpiredSession(): boolean {
    return this.renewing;
  }

  get sessionId(): bigint {
    return this.session.sessionId;
  }

  /** The session's password: with sessionId, lets another client take the session over. */
  get sessionPassword(): Buffer {
    return this.session.sessionPassword;
  }

  /** The session timeout the server granted, in ms. */
  get sessionTimeoutMs(): number {
    return this.session.negotiatedTimeoutMs;
  }

  /** The highest zxid this client has seen. */
  get lastZxid(): bigint {
    return this.session.lastZxid;
  }

  /** host:port of the server the session is on now, if connected. */
  get server(): string | undefined {
    return this.session.server;
  }

  /** Calls `listener` on every state change; returns a function that stops it. */
  onState(listener: (state: ClientState) => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  /** Every state change from now on, as an async iterator that ends after a final state. */
  states(): AsyncIterableIterator<ClientState> {
    const queue: EventQueue<ClientState> = new EventQueue(() => off());
    const off = this.onState((state) => {
      queue.push(state);
      if (this.isFinal(state)) queue.end();
    });
    if (this.isFinal(this.state)) queue.end();
    return queue;
  }

  /** Resolves when the client reaches a final state: undefined if closed, the error otherwise. */
  closed(): Promise<Error | undefined> {
    if (this.isFinal(this.state)) return Promise.resolve(finalError(this.state));
    return new Promise((resolve) => {
      const off = this.onState((state) => {
        if (!this.isFinal(state)) return;
        off();
        resolve(finalError(state));
      });
    });
  }

  private isFinal(state: ClientState): boolean {
    if (state === "expired") return !this.renewing || this.closing; // close() won the race
    return state === "closed" || state === "authFailed";
  }

  /** Passes the session's state changes on; after an expiry, starts its successor if renewing. */
  private follow(session: Session): void {
    const off = session.onState((state) => {
      if (session !== this.session) return;
      if (state !== "expired" || !this.renewing || this.closing) {
        this.emit(state);
        return;
      }
      off();
      // The successor is in place before any state listener hears of the expiry, so that a
      // call a listener makes waits for the new session. (Watchers got their Expired event
      // before this, while the old session ended: a call made there fails as expired.)
      const next = session.successor();
      this.session = next;
      this.follow(next);
      this.emit("expired");
      this.emit("connecting");
      next.begin();
    });
  }

  private emit(state: ClientState): void {
    for (const listener of [...this.stateListeners]) {
      try {
        listener(state);
      } catch (error) {
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }

  // ---- create, delete, set ----

  /** Creates a znode and returns its path (with the sequence suffix for sequential modes). */
  async create(
    path: string,
    data?: Uint8Array | string | null,
    options?: CreateOptions,
  ): Promise<string> {
    const mode = options?.mode ?? CreateMode.PERSISTENT;
    const opcode = createOpcode(mode, false);
    const result = await this.sendCreate(opcode, path, data, mode, options);
    return result.path;
  }

  /** Creates a znode (create2) and returns its path and Stat. */
  async createWithStat(
    path: string,
    data?: Uint8Array | string | null,
    options?: CreateOptions,
  ): Promise<CreateResult> {
    const mode = options?.mode ?? CreateMode.PERSISTENT;
    return this.sendCreate(createOpcode(mode, true), path, data, mode, options);
  }

  private sendCreate(
    opcode: number,
    path: string,
    data: Uint8Array | string | null | undefined,
    mode: CreateMode,
    options: CreateOptions | undefined,
  ): Promise<CreateResult> {
    validateCreate(path, mode, options?.ttlMs);
    const record = {
      path: this.serverPath(path),
      data: toData(data),
      acl: [...(options?.acl ?? OPEN_ACL_UNSAFE)],
      flags: mode,
    };
    const ttl = ttlOf(options?.ttlMs);
    const chroot = this.chroot;
    return this.session.submit<CreateResult>(
      {
        opcode,
        path,
        encode: (w) =>
          opcode === OpCode.createTTL
            ? CreateTTLRequest.write(w, { ...record, ttl })
            : CreateRequest.write(w, record),
        decode: (r) => {
          if (opcode === OpCode.create)
            return { path: stripChroot(chroot, CreateResponse.read(r).path), stat: NO_STAT };
          const reply = Create2Response.read(r);
          return { path: stripChroot(chroot, reply.path), stat: reply.stat };
        },
      },
      options,
    );
  }

  /** Deletes a znode; `version` (default -1, any) must match. */
  async delete(path: string, options?: VersionOptions): Promise<void> {
    validatePath(path);
    const record = { path: this.serverPath(path), version: options?.version ?? -1 };
    return this.session.submit(
      {
        opcode: OpCode.delete,
        path,
        encode: (w) => DeleteRequest.write(w, record),
        decode: () => undefined,
      },
      options,
    );
  }

  /** Replaces a znode's data; `version` (default -1, any) must match. Returns the new Stat. */
  async setData(
    path: string,
    data: Uint8Array | string | null,
    options?: VersionOptions,
  ): Promise<Stat> {
    validatePath(path);
    const record = {
      path: this.serverPath(path),
      data: toData(data),
      version: options?.version ?? -1,
    };
    return this.session.submit(
      {
        opcode: OpCode.setData,
        path,
        encode: (w) => SetDataRequest.write(w, record),
        decode: (r) => ExistsResponse.read(r).stat,
      },
      options,
    );
  }

  // ---- reads, with watches ----

  /** The znode's Stat, or null if it does not exist. A watch fires on create, delete or change. */
  exists(
    path: string,
    options: ReadOptions & { watch: true },
  ): Promise<Watched<{ stat: Stat | null }>>;
  exists(path: string, options?: WatchOption<WatchListener>): Promise<Stat | null>;
  async exists(path: string, options?: ReadOptions): Promise<unknown> {
    validatePath(path);
    const [listener, watch] = watcher(options);
    const record = { path: this.serverPath(path), watch: listener !== undefined };
    const watches = this.session.watches;
    const stat = await this.session.submit<Stat | null>(
      {
        opcode: OpCode.exists,
        path,
        encode: (w) => ExistsRequest.write(w, record),
        decode: (r) => ExistsResponse.read(r).stat,
        // A missing node is an answer, not an error: no exception is built for it.
        recover: (err) => (err === ErrorCode.NONODE ? null : undefined),
        onReply: listener
          ? (err) => {
              if (err === 0) watches.add("data", path, listener);
              else if (err === ErrorCode.NONODE) watches.add("exist", path, listener);
            }
          : undefined,
      },
      options,
    );
    return watch ? { stat, watch } : stat;
  }

  /** The znode's data and Stat. A watch fires when its data changes or it is deleted. */
  getData(path: string, options: ReadOptions & { watch: true }): Promise<Watched<DataResult>>;
  getData(path: string, options?: WatchOption<WatchListener>): Promise<DataResult>;
  async getData(path: string, options?: ReadOptions): Promise<unknown> {
    validatePath(path);
    return this.readData(path, this.serverPath(path), options);
  }

  private async readData(
    path: string,
    serverPath: string,
    options?: ReadOptions,
  ): Promise<unknown> {
    const [listener, watch] = watcher(options);
    const result = await this.session.submit<DataResult>(
      {
        opcode: OpCode.getData,
        path,
        encode: (w) => GetDataRequest.write(w, { path: serverPath, watch: listener !== undefined }),
        decode: (r) => GetDataResponse.read(r),
        onReply: this.registerOnOk("data", path, listener),
      },
      options,
    );
    return watch ? { ...result, watch } : result;
  }

  /** The names of a znode's children. A watch fires when a child is added or removed. */
  getChildren(
    path: string,
    options: ReadOptions & { watch: true },
  ): Promise<Watched<{ children: string[] }>>;
  getChildren(path: string, options?: WatchOption<WatchListener>): Promise<string[]>;
  async getChildren(path: string, options?: ReadOptions): Promise<unknown> {
    validatePath(path);
    const [listener, watch] = watcher(options);
    const children = await this.session.submit<string[]>(
      {
        ...this.pathAndWatch(OpCode.getChildren, path, listener),
        decode: (r) => GetChildrenResponse.read(r).children,
        onReply: this.registerOnOk("child", path, listener),
      },
      options,
    );
    return watch ? { children, watch } : children;
  }

  /** The children and the znode's Stat (getChildren2). */
  getChildrenWithStat(
    path: string,
    options: ReadOptions & { watch: true },
  ): Promise<Watched<ChildrenResult>>;
  getChildrenWithStat(path: string, options?: WatchOption<WatchListener>): Promise<ChildrenResult>;
  async getChildrenWithStat(path: string, options?: ReadOptions): Promise<unknown> {
    validatePath(path);
    const [listener, watch] = watcher(options);
    const result = await this.session.submit<ChildrenResult>(
      {
        ...this.pathAndWatch(OpCode.getChildren2, path, listener),
        decode: (r) => GetChildren2Response.read(r),
        onReply: this.registerOnOk("child", path, listener),
      },
      options,
    );
    return watch ? { ...result, watch } : result;
  }

  private pathAndWatch(opcode: number, path: string, listener: WatchListener | undefined) {
    const record = { path: this.serverPath(path), watch: listener !== undefined };
    return { opcode, path, encode: (w: Writer) => GetDataRequest.write(w, record) };
  }

  private registerOnOk(kind: WatchKind, path: string, listener: WatchListener | undefined) {
    if (!listener) return undefined;
    return (err: number) => {
      if (err === 0) this.session.watches.add(kind, path, listener);
    };
  }

  /** The number of all descendants of a znode (not counting itself). */
  async getAllChildrenNumber(path: string, options?: CallOptions): Promise<number> {
    validatePath(path);
    const record = { path: this.serverPath(path) };
    return this.session.submit(
      {
        opcode: OpCode.getAllChildrenNumber,
        path,
        encode: (w) => GetAllChildrenNumberRequest.write(w, record),
        decode: (r) => GetAllChildrenNumberResponse.read(r).totalNumber,
      },
      options,
    );
  }

  /** The ephemeral znodes this session owns whose paths start with `prefixPath` (default "/"). */
  async getEphemerals(prefixPath = "/", options?: CallOptions): Promise<string[]> {
    validatePath(prefixPath);
    const record = { prefixPath: this.serverPath(prefixPath) };
    const chroot = this.chroot;
    return this.session.submit(
      {
        opcode: OpCode.getEphemerals,
        path: prefixPath,
        encode: (w) => GetEphemeralsRequest.write(w, record),
        decode: (r) => GetEphemeralsResponse.read(r).ephemerals.map((p) => stripChroot(chroot, p)),
      },
      options,
    );
  }

  // ---- ACLs ----

  async getACL(path: string, options?: CallOptions): Promise<{ acl: ACL[]; stat: Stat }> {
    validatePath(path);
    const record = { path: this.serverPath(path) };
    return this.session.submit(
      {
        opcode: OpCode.getACL,
        path,
        encode: (w) => GetACLRequest.write(w, record),
        decode: (r) => GetACLResponse.read(r),
      },
      options,
    );
  }

  /** Replaces a znode's ACL; `version` is the expected aversion (default -1, any). */
  async setACL(path: string, acl: readonly ACL[], options?: VersionOptions): Promise<Stat> {
    validatePath(path);
    if (acl.length === 0) throw new InvalidArgumentError("an ACL must have at least one entry");
    const record = { path: this.serverPath(path), acl: [...acl], version: options?.version ?? -1 };
    return this.session.submit(
      {
        opcode: OpCode.setACL,
        path,
        encode: (w) => SetACLRequest.write(w, record),
        decode: (r) => ExistsResponse.read(r).stat,
      },
      options,
    );
  }

  /** Adds an identity to the session (e.g. "digest", "user:password"), kept across reconnects. */
  async addAuth(scheme: string, auth: Uint8Array | string): Promise<void> {
    return this.session.addAuth({ scheme, auth: toData(auth) });
  }

  /** The identities the server knows this session by (3.8+). */
  async whoAmI(options?: CallOptions): Promise<ClientInfo[]> {
    return this.session.submit(
      { opcode: OpCode.whoAmI, encode() {}, decode: (r) => WhoAmIResponse.read(r).clientInfo },
      options,
    );
  }

  // ---- sync, multi ----

  /** Waits until the server this client is on has caught up with the leader, as of now. */
  async sync(path: string, options?: CallOptions): Promise<string> {
    validatePath(path);
    const record = { path: this.serverPath(path) };
    const chroot = this.chroot;
    return this.session.submit(
      {
        opcode: OpCode.sync,
        path,
        encode: (w) => SyncRequest.write(w, record),
        decode: (r) => stripChroot(chroot, SyncResponse.read(r).path),
      },
      options,
    );
  }

  /**
   * Applies every op or none (ZooKeeper's multi). On failure it rejects with the failing op's
   * error class; `error.opIndex` names the op and `error.results` holds every op's result.
   */
  async multi(ops: readonly Op[], options?: CallOptions): Promise<OpResult[]> {
    const wireOps = ops.map((op) => toMultiOp(op, this.chroot));
    const chroot = this.chroot;
    const readResults = (r: Reader) => readMultiResponse(r).map((x) => fromMultiResult(x, chroot));
    const results = await this.session.submit<OpResult[]>(
      {
        opcode: OpCode.multi,
        encode: (w) => writeMultiRequest(w, wireOps),
        decode: readResults,
        // A failed multi may carry its per-op results even under a non-zero err.
        failure: (err, r) =>
          (r.remaining > 0 ? multiError(ops, readResults(r)) : undefined) ?? errorFromCode(err),
      },
      options,
    );
    const error = multiError(ops, results);
    if (error) throw error;
    return results;
  }

  /** Reads several znodes in one round trip; each read succeeds or fails on its own. */
  async multiRead(ops: readonly ReadOp[], options?: CallOptions): Promise<ReadOpResult[]> {
    const wireOps = ops.map((op) => toReadOp(op, this.chroot));
    return this.session.submit(
      {
        opcode: OpCode.multiRead,
        encode: (w) => writeMultiRequest(w, wireOps),
        decode: (r) => readMultiResponse(r).map(fromReadResult),
      },
      options,
    );
  }

  // ---- dynamic configuration ----

  /** The ensemble's configuration (the data of /zookeeper/config, never under the chroot). */
  getConfig(options: ReadOptions & { watch: true }): Promise<Watched<DataResult>>;
  getConfig(options?: WatchOption<WatchListener>): Promise<DataResult>;
  async getConfig(options?: ReadOptions): Promise<unknown> {
    return this.readData(CONFIG_NODE, CONFIG_NODE, options);
  }

  /** Changes the ensemble's membership (needs reconfigEnabled and the super user on the server). */
  async reconfig(
    change: { joining?: string; leaving?: string; newMembers?: string; fromConfig?: bigint },
    options?: CallOptions,
  ): Promise<DataResult> {
    const record = {
      joiningServers: change.joining ?? "",
      leavingServers: change.leaving ?? "",
      newMembers: change.newMembers ?? "",
      curConfigId: change.fromConfig ?? -1n,
    };
    return this.session.submit(
      {
        opcode: OpCode.reconfig,
        encode: (w) => ReconfigRequest.write(w, record),
        decode: (r) => GetDataResponse.read(r),
      },
      options,
    );
  }

  // ---- persistent watches and watch removal ----

  /**
   * Leaves a persistent watch (3.6+) on `path`, or on its whole subtree with `recursive`. It is
   * not used up by events; iterate it with `for await`, and `remove()` it (or break) when done.
   */
  async addWatch(
    path: string,
    options?: CallOptions & { recursive?: boolean },
  ): Promise<PersistentWatch> {
    validatePath(path);
    const recursive = options?.recursive ?? false;
    const watch = new PersistentWatch(path, recursive, (w) => this.removePersistent(w));
    const record = { path: this.serverPath(path), mode: recursive ? 1 : 0 };
    await this.session.submit(
      {
        opcode: OpCode.addWatch,
        path,
        encode: (w) => AddWatchRequest.write(w, record),
        decode: () => undefined,
        onReply: this.registerOnOk(
          recursive ? "persistentRecursive" : "persistent",
          path,
          watch.listener,
        ),
      },
      options,
    );
    return watch;
  }

  private async removePersistent(watch: PersistentWatch): Promise<void> {
    const watches = this.session.watches;
    const precise = watch.recursive ? "PersistentRecursive" : "Persistent";
    if (!watches.has(REMOVED_KINDS[precise][0] as WatchKind, watch.path, watch.listener)) return;
    // Servers before 3.9 know no Persistent* watcher types: 3.8 answers MARSHALLINGERROR and
    // keeps the watch, sending events nobody reads. When this is the only watch the client has
    // on the path, Any removes exactly it, on every server since 3.6.
    const onPath = REMOVED_KINDS.Any.reduce((n, kind) => n + watches.count(kind, watch.path), 0);
    const type = onPath === 1 ? "Any" : precise;
    await this.removeWatches(watch.path, type, { listener: watch.listener, local: true });
  }

  /**
   * Removes watches of `type` on `path`: one listener's, or all. Each removed listener gets a
   * DataWatchRemoved / ChildWatchRemoved / PersistentWatchRemoved event. With `local`, the
   * watches go from the client even if the server cannot be told.
   */
  async removeWatches(
    path: string,
    type: WatcherType,
    options?: CallOptions & { listener?: WatchListener; local?: boolean },
  ): Promise<void> {
    validatePath(path);
    const kinds = REMOVED_KINDS[type];
    const listener = options?.listener;
    const watches = this.session.watches;
    if (!kinds.some((kind) => watches.has(kind, path, listener))) throw new NoWatcherError(path);
    // Tell the server to drop its watch only when no other listener here still needs it;
    // otherwise only check that the server has it (ZooKeeper's checkWatches).
    const remaining = kinds.reduce(
      (n, kind) =>
        n + watches.count(kind, path) - (listener && watches.has(kind, path, listener) ? 1 : 0),
      0,
    );
    const removeOnServer = listener === undefined || remaining === 0;
    const record = { path: this.serverPath(path), type: WatcherType[type] };
    try {
      await this.session.submit(
        {
          opcode: removeOnServer ? OpCode.removeWatches : OpCode.checkWatches,
          path,
          encode: (w) =>
            (removeOnServer ? RemoveWatchesRequest : CheckWatchesRequest).write(w, record),
          decode: () => undefined,
        },
        options,
      );
    } catch (error) {
      if (!options?.local) throw error;
    }
    const removed = watches.remove(kinds, path, listener);
    for (const [kind, listeners] of removed) {
      const eventType =
        kind === "child"
          ? "ChildWatchRemoved"
          : kind === "data" || kind === "exist"
            ? "DataWatchRemoved"
            : "PersistentWatchRemoved";
      const event: WatchEvent = { type: eventType, state: "SyncConnected", path, zxid: -1n };
      for (const l of listeners) l(event);
    }
  }

  // ---- closing ----

  /**
   * Replaces the servers this client uses (ZooKeeper's updateServerList, after a reconfig):
   * `connectString` as connect() takes it, with the same chroot or none. The session moves to
   * another server if its own left the list, or, to spread load, with probability
   * 1 - old/new when the list grew (`random`, default Math.random, draws it). Returns whether
   * it moves (it resumes there at once).
   */
  updateServerList(connectString: string, options: { random?: () => number } = {}): boolean {
    const target = parseConnectString(connectString);
    if (target.chroot !== "" && target.chroot !== this.chroot) {
      throw new InvalidArgumentError(
        `updateServerList cannot change the chroot (${this.chroot || "none"} → ${target.chroot})`,
      );
    }
    return this.session.updateServerList(target.hosts, options.random ?? Math.random);
  }

  /** Closes the session (ephemerals go at once) and the connection. Idempotent. */
  close(options?: { timeoutMs?: number }): Promise<void> {
    this.closing = true;
    return this.session.close(options?.timeoutMs ?? 2000);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  private serverPath(path: string): string {
    return prependChroot(this.chroot, path);
  }
}

const NO_STAT: Stat = Object.freeze({
  czxid: 0n,
  mzxid: 0n,
  ctime: 0n,
  mtime: 0n,
  version: 0,
  cversion: 0,
  aversion: 0,
  ephemeralOwner: 0n,
  dataLength: 0,
  numChildren: 0,
  pzxid: 0n,
});

function watcher(
  options: ReadOptions | undefined,
): [WatchListener | undefined, Promise<WatchEvent> | undefined] {
  const watch = options?.watch;
  if (watch === true) {
    const fired = deferred<WatchEvent>();
    return [(event) => fired.resolve(event), fired.promise];
  }
  return [watch, undefined];
}

function finalError(state: ClientState): Error | undefined {
  if (state === "expired") return new SessionExpiredError();
  if (state === "authFailed") return new AuthFailedError();
  return undefined;
}
