/**
 * A znode that is kept there for as long as this object runs (Curator's PersistentNode).
 * Usually EPHEMERAL: the node says "this process is alive", and goes as soon as the process or
 * its session does. What would make a plain ephemeral node vanish for good is repaired:
 * - deleted by someone else: created again (an exists watch on it tells);
 * - the session expired, on a client that renews it (connect's renewExpiredSession): created
 *   again on the new session;
 * - the connection was lost: checked again after the reconnect, since a create whose reply was
 *   lost may or may not have happened (ours if its ephemeralOwner is our session).
 *
 *     const node = new PersistentNode(zk, "/services/web/host-a", "host-a:8080");
 *     await node.start();                        // created (rejects if another session owns it)
 *     await node.setData("host-a:8081");         // kept, and written
 *     await node.close();                        // deleted
 *
 * Parents are created as needed. Sequential modes are not offered: their name changes with each
 * create, which is a different recipe (a protected sequential node, as the locks use).
 */
import {
  type ACL,
  ConnectionLossError,
  CreateMode,
  type DataResult,
  NodeExistsError,
  NoNodeError,
  type WatchEvent,
  type ZooKeeper,
} from "../index.js";
import { EventChannel } from "./leader-election-support.js";
import { deleteHeldNode, ensurePath } from "./lock-internals.js";
import { SerialTask } from "./serial-task.js";
import { followSession } from "./session-follower.js";

/** Bounded: each attempt waits on the server; a connection loss or expiry ends the round. */
const CREATE_ATTEMPTS = 10;

export interface PersistentNodeOptions {
  /** EPHEMERAL (default), PERSISTENT, CONTAINER or PERSISTENT_WITH_TTL. */
  readonly mode?: CreateMode;
  /** Default OPEN_ACL_UNSAFE. */
  readonly acl?: readonly ACL[];
  /** For PERSISTENT_WITH_TTL. */
  readonly ttlMs?: number;
}

/** Raised by start() when an ephemeral node at the path belongs to another session. */
export class NodeOwnedElsewhereError extends Error {
  constructor(path: string, owner: bigint) {
    super(`${path} is an ephemeral node of another session (0x${owner.toString(16)})`);
    this.name = "NodeOwnedElsewhereError";
  }
}

const SEQUENTIAL = new Set<CreateMode>([
  CreateMode.PERSISTENT_SEQUENTIAL,
  CreateMode.EPHEMERAL_SEQUENTIAL,
  CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL,
]);

export class PersistentNode {
  readonly path: string;
  private readonly zk: ZooKeeper;
  private readonly options: PersistentNodeOptions;
  private readonly mode: CreateMode;
  private data: Uint8Array | string;
  private readonly created = new EventChannel<string>();
  private closed = false;
  private offState: (() => void) | undefined;
  // Repairs run one at a time; a need during one asks for one more afterwards. A failure is a
  // lost connection or session, whose handler repairs again, or a node of another session,
  // whose deletion the watch reports.
  private readonly repairs = new SerialTask(
    () => this.ensure(false),
    () => this.closed,
  );
  // One listener object for every watch: the client keeps one watch per (path, listener).
  private readonly watcher = (event: WatchEvent) => {
    if (event.type === "NodeDeleted") this.repair();
    // A data change (ours or another's setData) used the one-shot watch up: set it again.
    else if (event.type === "NodeDataChanged") void this.rewatch();
  };

  constructor(
    zk: ZooKeeper,
    path: string,
    data: Uint8Array | string = "",
    options: PersistentNodeOptions = {},
  ) {
    const mode = options.mode ?? CreateMode.EPHEMERAL;
    if (SEQUENTIAL.has(mode)) {
      throw new RangeError("a PersistentNode keeps one path: sequential modes are not offered");
    }
    this.zk = zk;
    this.path = path;
    this.data = data;
    this.options = options;
    this.mode = mode;
  }

  /**
   * Creates the node (and its parents) and starts keeping it. Rejects with
   * NodeOwnedElsewhereError if an ephemeral node of another session is there; a persistent node
   * already there is taken over, its data replaced by ours.
   */
  async start(): Promise<void> {
    this.offState = followSession(this.zk, {
      reconnected: () => this.repair(),
      renewed: () => this.repair(),
      ended: () => this.stop(),
    });
    try {
      await this.ensure(true);
    } catch (error) {
      this.stop();
      throw error;
    }
  }

  /** Calls `listener` with the path each time this object creates the node. */
  onCreated(listener: (path: string) => void): () => void {
    return this.created.on(listener);
  }

  /** Replaces the node's data, now and in every later re-creation. */
  async setData(data: Uint8Array | string): Promise<void> {
    this.data = data;
    await this.zk.setData(this.path, data);
  }

  /** Stops keeping the node and deletes it (if it is ours). Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.stop();
    await this.repairs.idle();
    const ephemeral = this.mode === CreateMode.EPHEMERAL;
    const stat = await this.zk.exists(this.path).catch(() => null);
    // Another session's ephemeral node is not ours to delete.
    if (stat === null || (ephemeral && stat.ephemeralOwner !== this.zk.sessionId)) return;
    await deleteHeldNode(this.zk, this.path);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private stop(): void {
    this.closed = true;
    this.offState?.();
    this.created.end();
  }

  /** Runs ensure() in the background, once more if one is under way. */
  private repair(): void {
    this.repairs.request();
  }

  private async rewatch(): Promise<void> {
    if (this.closed) return;
    // Lost connection or session: their handlers repair. Gone: repair now.
    const stat = await this.zk.exists(this.path, { watch: this.watcher }).catch(() => undefined);
    if (stat === null) this.repair();
  }

  /** Makes the node be there, ours, with a watch on it. `first`: start()'s run, which throws. */
  private async ensure(first: boolean): Promise<void> {
    for (let attempt = 0; attempt < CREATE_ATTEMPTS && !this.closed; attempt++) {
      let created = false;
      try {
        await this.zk.create(this.path, this.data, {
          mode: this.mode,
          ...(this.options.acl !== undefined && { acl: this.options.acl }),
          ...(this.options.ttlMs !== undefined && { ttlMs: this.options.ttlMs }),
        });
        created = true;
        this.created.emit(this.path);
      } catch (error) {
        if (error instanceof NoNodeError) {
          await ensurePath(this.zk, parentOf(this.path));
          continue;
        }
        if (error instanceof ConnectionLossError && first) continue;
        if (!(error instanceof NodeExistsError)) throw error;
      }
      // There now (made by us, or found there): watch it, so that a deletion is repaired.
      let found: DataResult;
      try {
        found = await this.zk.getData(this.path, { watch: this.watcher });
      } catch (error) {
        if (error instanceof NoNodeError) continue; // deleted in between: create it again
        throw error;
      }
      const owner = found.stat.ephemeralOwner;
      if (this.mode === CreateMode.EPHEMERAL && owner !== this.zk.sessionId) {
        if (first) throw new NodeOwnedElsewhereError(this.path, owner);
        return; // another session's node: the watch tells when it goes
      }
      // Found there (a persistent node, or ours from a create whose reply was lost): take it
      // over with our data. Our own setData fires the watch, which only sets it again.
      if (!created && !found.data.equals(Buffer.from(this.data))) {
        await this.zk.setData(this.path, this.data);
      }
      return;
    }
    if (first && !this.closed) throw new ConnectionLossError(this.path);
  }
}

function parentOf(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash <= 0 ? "/" : path.slice(0, slash);
}
