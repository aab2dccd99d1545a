/**
 * A local copy of a whole subtree kept in sync (Curator's TreeCache / CuratorCache): a map from
 * full path to data and Stat, the root included, and events for what changes.
 *
 *     const cache = new TreeCache(zk, "/services");
 *     cache.on((event) => console.log(event.type, event.path));
 *     await cache.start();                       // after the initial load ("initialized")
 *     cache.nodes.get("/services/web")?.data;
 *
 * Where the server has persistent recursive watches (3.6+) one addWatch covers the subtree: each
 * NodeCreated / NodeDataChanged reads that node again, each NodeDeleted drops it and what lies
 * under it. Elsewhere (addWatch answered UNIMPLEMENTED or MARSHALLINGERROR, or
 * `persistentWatch: false`) every node carries one-shot data and child watches, re-armed on
 * each read. Either way events are handled one at a time, in order, and each handler reads the
 * current state, so the cache converges on the tree. After a reconnect the subtree is read
 * again and diffed (a persistent watch does not replay what it missed while disconnected); on a
 * client that renews an expired session (renewExpiredSession), the watch is set again on the
 * new session and the subtree read and diffed in the same way. The cache stops when the client
 * ends.
 *
 * What is kept current is each node's existence, data and data Stat (mzxid, version); with a
 * persistent watch, child counts in the Stat are as of the node's last data read.
 *
 * Servers before 3.9 keep one watch mode per (connection, path): a one-shot watch that the
 * same client sets on the cache's root path replaces the persistent one there, and the cache
 * stops hearing of changes below (ZOOKEEPER-4466; zkts does the same). Give such a watch its
 * own client, or use `persistentWatch: false`.
 */
import {
  MarshallingError,
  NoNodeError,
  type PersistentWatch,
  UnimplementedError,
  type WatchEvent,
  type ZooKeeper,
} from "../index.js";
import { EventChannel } from "./leader-election-support.js";
import { type NodeSnapshot, snapshotChanged } from "./node-cache.js";
import { followSession } from "./session-follower.js";

export type TreeCacheEvent =
  | {
      readonly type: "nodeAdded" | "nodeUpdated" | "nodeRemoved";
      readonly path: string;
      readonly node: NodeSnapshot;
    }
  | { readonly type: "initialized" };

export interface TreeCacheOptions {
  /** Use a persistent recursive watch if the server has them (default true). */
  readonly persistentWatch?: boolean;
  /**
   * How deep to cache, as Curator's TreeCache.setMaxDepth: 0 is the root alone, 1 the root and
   * its children (Curator's PathChildrenCache, root included), and so on. Default: all.
   */
  readonly maxDepth?: number;
}

export class TreeCache {
  readonly path: string;
  private readonly zk: ZooKeeper;
  private readonly options: TreeCacheOptions;
  private readonly maxDepth: number;
  private readonly nodes_ = new Map<string, NodeSnapshot>();
  private readonly channel = new EventChannel<TreeCacheEvent>();
  private persistent: PersistentWatch | undefined;
  private closed = false;
  private offState: (() => void) | undefined;
  // Every change to the map runs on this chain, in the order the events arrived.
  private work: Promise<void> = Promise.resolve();
  private readonly watcher = (event: WatchEvent) => {
    if (event.type !== "None") this.enqueue(() => this.handle(event));
  };

  constructor(zk: ZooKeeper, path: string, options: TreeCacheOptions = {}) {
    const { maxDepth } = options;
    if (maxDepth !== undefined && !(Number.isInteger(maxDepth) && maxDepth >= 0)) {
      throw new RangeError(`maxDepth must be an integer >= 0, got ${maxDepth}`);
    }
    this.zk = zk;
    this.path = path;
    this.options = options;
    this.maxDepth = maxDepth ?? Number.POSITIVE_INFINITY;
  }

  /** Path → node, for every node of the subtree that exists (the root included). */
  get nodes(): ReadonlyMap<string, NodeSnapshot> {
    return this.nodes_;
  }

  /** After start(): whether a persistent recursive watch follows the tree (else one-shot). */
  get usesPersistentWatch(): boolean {
    return this.persistent !== undefined;
  }

  /** Calls `listener` on each event; returns a function that stops it. */
  on(listener: (event: TreeCacheEvent) => void): () => void {
    return this.channel.on(listener);
  }

  /** Each event from now on; finishes on close(). */
  events(): AsyncIterableIterator<TreeCacheEvent> {
    return this.channel.iterate();
  }

  /** Sets the watch and loads the subtree; resolves after the "initialized" event. */
  async start(): Promise<void> {
    if (this.options.persistentWatch ?? true) {
      try {
        this.persistent = await this.zk.addWatch(this.path, { recursive: true });
      } catch (error) {
        if (!(error instanceof UnimplementedError || error instanceof MarshallingError))
          throw error;
      }
    }
    if (this.persistent !== undefined) void this.follow(this.persistent);
    this.offState = followSession(this.zk, {
      reconnected: () => this.enqueue(() => this.resync()),
      renewed: () => this.enqueue(() => this.rewatch()),
      ended: () => void this.close(),
    });
    this.enqueue(async () => {
      await this.resync();
      this.channel.emit({ type: "initialized" });
    });
    await this.work;
  }

  /** Stops following the subtree (removes the persistent watch); iterators finish. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.offState?.();
    this.channel.end();
    await this.persistent?.remove().catch(() => {});
    await this.work;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /**
   * On a renewed session: the expiry ended the persistent watch (and dropped one-shot ones), so
   * set it again, then read the whole tree as on start.
   */
  private async rewatch(): Promise<void> {
    if (this.persistent !== undefined) {
      this.persistent = await this.zk.addWatch(this.path, { recursive: true });
      void this.follow(this.persistent);
    }
    await this.resync();
  }

  private async follow(watch: PersistentWatch): Promise<void> {
    for await (const event of watch) this.enqueue(() => this.handle(event));
  }

  private enqueue(task: () => Promise<void>): void {
    this.work = this.work.then(async () => {
      if (this.closed) return;
      try {
        await task();
      } catch {
        // Connection loss: the reconnect resyncs. A final state: the state listener closes.
      }
    });
  }

  private async handle(event: WatchEvent): Promise<void> {
    const { path } = event;
    if (path !== this.path && !path.startsWith(this.prefix())) return;
    if (this.depth(path) > this.maxDepth) return;
    if (event.type === "NodeDeleted") this.removeSubtree(path);
    else if (event.type === "NodeChildrenChanged") await this.load(path, false, undefined);
    else await this.load(path, event.type === "NodeCreated", undefined);
  }

  /** Reads the whole subtree again and drops what is gone. */
  private async resync(): Promise<void> {
    const seen = new Set<string>();
    await this.load(this.path, true, seen);
    for (const path of [...this.nodes_.keys()]) if (!seen.has(path)) this.remove(path);
  }

  /**
   * Reads `path` (data, and children to find new ones); loads children not yet cached, or all
   * of them when `deep`. One-shot watches are armed when no persistent watch covers the tree.
   */
  private async load(path: string, deep: boolean, seen: Set<string> | undefined): Promise<void> {
    const watch = this.persistent === undefined ? this.watcher : undefined;
    const options = watch === undefined ? {} : { watch };
    let children: string[];
    try {
      const { data, stat } = await this.zk.getData(path, options);
      const below = this.depth(path) < this.maxDepth;
      children =
        below && (stat.numChildren > 0 || watch !== undefined) ? await this.children(path) : [];
      this.put(path, { data, stat });
      seen?.add(path);
    } catch (error) {
      if (!(error instanceof NoNodeError)) throw error;
      this.removeSubtree(path);
      // A root that is missing (or vanished) is watched for its creation.
      if (path === this.path && watch !== undefined) await this.zk.exists(path, { watch });
      return;
    }
    const base = path === "/" ? "" : path;
    for (const child of children) {
      const childPath = `${base}/${child}`;
      if (deep || !this.nodes_.has(childPath)) await this.load(childPath, deep, seen);
    }
  }

  private async children(path: string): Promise<string[]> {
    const watch = this.persistent === undefined ? this.watcher : undefined;
    try {
      return await this.zk.getChildren(path, watch === undefined ? {} : { watch });
    } catch (error) {
      if (error instanceof NoNodeError) return [];
      throw error;
    }
  }

  private put(path: string, node: NodeSnapshot): void {
    const old = this.nodes_.get(path);
    this.nodes_.set(path, node);
    if (old === undefined) this.channel.emit({ type: "nodeAdded", path, node });
    else if (snapshotChanged(old, node)) this.channel.emit({ type: "nodeUpdated", path, node });
  }

  private removeSubtree(path: string): void {
    const prefix = path === "/" ? "/" : `${path}/`;
    // Deepest first, so a listener never sees a child outlive its parent.
    const doomed = [...this.nodes_.keys()].filter((p) => p === path || p.startsWith(prefix));
    doomed.sort((a, b) => b.length - a.length);
    for (const p of doomed) this.remove(p);
  }

  private remove(path: string): void {
    const node = this.nodes_.get(path);
    if (node === undefined) return;
    this.nodes_.delete(path);
    this.channel.emit({ type: "nodeRemoved", path, node });
  }

  /** How far below the cache's root `path` is (the root: 0). */
  private depth(path: string): number {
    if (path === this.path) return 0;
    return path.slice(this.prefix().length).split("/").length;
  }

  private prefix(): string {
    return this.path === "/" ? "/" : `${this.path}/`;
  }
}
