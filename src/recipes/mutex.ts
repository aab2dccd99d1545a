/**
 * A distributed mutex (Curator's InterProcessMutex, ZooKeeper recipes page "Locks").
 *
 *     const mutex = new Mutex(zk, "/locks/orders");
 *     if (await mutex.acquire({ timeoutMs: 5000 })) {
 *       await using _held = mutex;          // released when the block ends
 *       mutex.onLost(() => stopWorking());  // the session ended: we no longer hold it
 *       ...
 *     }
 *
 * What connection states mean for a holder (kazoo's lock docstring, Curator's states):
 * - `disconnected` (Curator's SUSPENDED): the server still holds our node, and the lock stays
 *   ours until the session expires; but we cannot know whether it has expired already. A
 *   careful holder pauses work that needs the lock until the client is `connected` again.
 * - `expired` or `closed` (Curator's LOST): the node is gone and someone else may hold the
 *   lock. The Mutex emits the lost event at once and `isHeld` turns false; the holder must stop.
 *
 * Reentrant for the same Mutex object: each successful acquire() is matched by one release().
 * Concurrent acquire() calls on one object are serialized, not treated as different holders.
 */
import type { ZooKeeper } from "../index.js";
import {
  type AcquireOptions,
  acquireNode,
  type Decide,
  decide,
  deleteHeldNode,
  LockNotHeldError,
  participants,
} from "./lock-internals.js";

export interface MutexOptions {
  /** The name part of each contender's node (default "lock-", Curator's). */
  readonly lockName?: string;
  /** Data stored in our lock node (e.g. who we are), default empty. */
  readonly data?: Uint8Array | string;
}

/** Why a held lock was lost: the session expired, or the client was closed. */
export interface LockLostEvent {
  readonly reason: "expired" | "closed";
  /** Our lock node, which the server has deleted (or will, with the session). */
  readonly path: string;
}

export type LockLostListener = (event: LockLostEvent) => void;

/**
 * A lock built on the shared acquire loop with a decision of its own; the Mutex and both halves
 * of a ReadWriteLock are this class.
 */
export class InterProcessLock implements AsyncDisposable {
  readonly path: string;
  protected readonly zk: ZooKeeper;
  private readonly lockName: string;
  private readonly lockNames: readonly string[];
  private readonly decide: Decide;
  private readonly data: Uint8Array | string | undefined;
  private ourPath: string | undefined;
  private holds = 0;
  private pending: Promise<boolean> | undefined;
  private stopWatchingState: (() => void) | undefined;
  private readonly lostListeners = new Set<LockLostListener>();

  /** @internal Use Mutex, or ReadWriteLock's readLock()/writeLock(). */
  constructor(
    zk: ZooKeeper,
    path: string,
    how: {
      lockName: string;
      lockNames: readonly string[];
      decide: Decide;
      data?: Uint8Array | string | undefined;
    },
  ) {
    this.zk = zk;
    this.path = path;
    this.lockName = how.lockName;
    this.lockNames = how.lockNames;
    this.decide = how.decide;
    this.data = how.data;
  }

  /** True while this object holds the lock; false at once when the session ends. */
  get isHeld(): boolean {
    return this.holds > 0;
  }

  /** Our lock node's path while held. */
  get nodePath(): string | undefined {
    return this.isHeld ? this.ourPath : undefined;
  }

  /**
   * Waits for the lock. Resolves true once held (again, if this object holds it already), false
   * after `timeoutMs`; rejects with the signal's reason on abort, or with the client's error if
   * the session ends. Leaves no node behind unless it resolves true.
   */
  async acquire(options: AcquireOptions = {}): Promise<boolean> {
    while (this.pending !== undefined) {
      await this.pending.catch(() => false);
    }
    if (this.isHeld) {
      this.holds += 1;
      return true;
    }
    const attempt = this.attempt(options);
    this.pending = attempt;
    try {
      return await attempt;
    } finally {
      this.pending = undefined;
    }
  }

  private async attempt(options: AcquireOptions): Promise<boolean> {
    const ourPath = await acquireNode(this.zk, {
      ...options,
      dir: this.path,
      lockName: this.lockName,
      lockNames: this.lockNames,
      decide: this.decide,
      ...(this.data === undefined ? {} : { data: this.data }),
    });
    if (ourPath === null) return false;
    if (this.zk.state === "expired" || this.zk.state === "closed") return false;
    this.ourPath = ourPath;
    this.holds = 1;
    this.stopWatchingState = this.zk.onState((state) => {
      if (state === "expired" || state === "closed") this.lose(state);
    });
    return true;
  }

  /** Releases one hold; the last one deletes our node. Throws LockNotHeldError if not held. */
  async release(): Promise<void> {
    if (!this.isHeld || this.ourPath === undefined) throw new LockNotHeldError(this.path);
    this.holds -= 1;
    if (this.holds > 0) return;
    const ourPath = this.ourPath;
    this.forget();
    await deleteHeldNode(this.zk, ourPath);
  }

  /**
   * Calls `listener` when a held lock is lost because the session expired or the client closed
   * (Curator's LOST); `isHeld` is already false then. Returns a function that stops it.
   */
  onLost(listener: LockLostListener): () => void {
    this.lostListeners.add(listener);
    return () => this.lostListeners.delete(listener);
  }

  /** Every contender's node, full paths in queue order: the holder first. */
  participantNodes(): Promise<string[]> {
    return participants(this.zk, this.path, this.lockNames);
  }

  /** Releases one hold if held: `await using _held = lock` after a successful acquire(). */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.isHeld) await this.release();
  }

  private lose(reason: "expired" | "closed"): void {
    const path = this.ourPath;
    this.forget();
    if (path === undefined) return;
    for (const listener of [...this.lostListeners]) listener({ reason, path });
  }

  private forget(): void {
    this.holds = 0;
    this.ourPath = undefined;
    this.stopWatchingState?.();
    this.stopWatchingState = undefined;
  }
}

/** A mutual-exclusion lock on the znode `path`: one holder at a time, across all clients. */
export class Mutex extends InterProcessLock {
  constructor(zk: ZooKeeper, path: string, options: MutexOptions = {}) {
    const lockName = options.lockName ?? "lock-";
    super(zk, path, {
      lockName,
      lockNames: [lockName],
      decide: (sorted, ourNode) => decide(sorted, ourNode, 1),
      data: options.data,
    });
  }
}
