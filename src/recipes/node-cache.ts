/**
 * A local copy of one znode kept in sync (Curator's NodeCache): `current` is its data and Stat,
 * or null while it does not exist.
 *
 *     const cache = new NodeCache(zk, "/config/app");
 *     await cache.start();                       // after the first read
 *     for await (const node of cache.changes()) console.log(node?.data.toString());
 *
 * Every read leaves a one-shot watch (getData while the node exists, exists while it does not),
 * and every fire, and every reconnect, reads again. The cache therefore converges on the latest
 * state; like any watch-based view it may skip intermediate values written in quick succession.
 * When the client ends (closed, or expired with no renewal) the cache stops and its iterators
 * finish; on a client that renews an expired session it reads again on the new one.
 */
import { NoNodeError, type Stat, type WatchEvent, type ZooKeeper } from "../index.js";
import { EventChannel } from "./leader-election-support.js";
import { SerialTask } from "./serial-task.js";
import { followSession } from "./session-follower.js";

/** A znode as a cache holds it. */
export interface NodeSnapshot {
  readonly data: Buffer;
  readonly stat: Stat;
}

/** Whether two views of a znode differ (created again, or its data changed). */
export function snapshotChanged(a: NodeSnapshot | null, b: NodeSnapshot | null): boolean {
  if (a === null || b === null) return a !== b;
  return a.stat.czxid !== b.stat.czxid || a.stat.mzxid !== b.stat.mzxid;
}

const READ_ATTEMPTS = 10;

export class NodeCache {
  readonly path: string;
  private readonly zk: ZooKeeper;
  private readonly channel = new EventChannel<NodeSnapshot | null>();
  private current_: NodeSnapshot | null = null;
  private closed = false;
  private offState: (() => void) | undefined;
  // Refreshes run one at a time; a fire during one asks for one more afterwards.
  private readonly refresher = new SerialTask(
    () => this.readOnce(),
    () => this.closed,
  );
  // One listener object for all watches: the client keeps one watch per (path, listener).
  private readonly watcher = (event: WatchEvent) => {
    if (event.type !== "None") this.refresh();
  };

  constructor(zk: ZooKeeper, path: string) {
    this.zk = zk;
    this.path = path;
  }

  /** The znode as last read, or null if it does not exist. */
  get current(): NodeSnapshot | null {
    return this.current_;
  }

  /** Reads the node and arms the watch; resolves after that first read. */
  async start(): Promise<void> {
    this.offState = followSession(this.zk, {
      reconnected: () => this.refresh(),
      renewed: () => this.refresh(),
      ended: () => void this.close(),
    });
    this.refresh();
    await this.refresher.idle();
  }

  /** Calls `listener` with the new state after each change; returns a function that stops it. */
  onChange(listener: (current: NodeSnapshot | null) => void): () => void {
    return this.channel.on(listener);
  }

  /** Each change from now on (the new `current`); finishes on close(). */
  changes(): AsyncIterableIterator<NodeSnapshot | null> {
    return this.channel.iterate();
  }

  /** Stops following the node; iterators finish. The last watch set is left to fire unheard. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.offState?.();
    this.channel.end();
    await this.refresher.idle();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private refresh(): void {
    this.refresher.request();
  }

  private async readOnce(): Promise<void> {
    for (let attempt = 0; attempt < READ_ATTEMPTS && !this.closed; attempt++) {
      try {
        const { data, stat } = await this.zk.getData(this.path, { watch: this.watcher });
        this.set({ data, stat });
        return;
      } catch (error) {
        // Connection loss: the reconnect reads again. A final state: start()'s listener closes.
        if (!(error instanceof NoNodeError)) return;
      }
      try {
        // exists leaves its watch on a missing node too; a node created in between is read anew.
        if ((await this.zk.exists(this.path, { watch: this.watcher })) === null) {
          this.set(null);
          return;
        }
      } catch {
        return;
      }
    }
  }

  private set(next: NodeSnapshot | null): void {
    if (this.closed || !snapshotChanged(this.current_, next)) return;
    this.current_ = next;
    this.channel.emit(next);
  }
}
