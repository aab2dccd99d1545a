/**
 * Several locks taken as one (Curator's InterProcessMultiLock).
 *
 *     const both = new MultiLock(zk, ["/locks/account-a", "/locks/account-b"]);
 *     if (await both.acquire({ timeoutMs: 5000 })) {
 *       await using _held = both;  // releases every lock, last taken first
 *       ...
 *     }
 *
 * The locks are taken one after another in the order given, so clients that list shared locks in
 * the same order cannot deadlock. If one lock times out, aborts or fails, the ones already taken
 * are released before acquire() returns: a MultiLock is held whole or not at all.
 */
import type { ZooKeeper } from "../index.js";
import { type AcquireOptions, LockNotHeldError } from "./lock-internals.js";
import { Mutex } from "./mutex.js";

/** What a MultiLock needs of each lock: an InterProcessLock, a RevocableLock, ... */
export interface Lock {
  acquire(options?: AcquireOptions): Promise<boolean>;
  release(): Promise<void>;
  readonly isHeld: boolean;
}

export class MultiLock implements AsyncDisposable {
  /** The locks, in acquire order (paths given to the constructor became Mutexes). */
  readonly locks: readonly Lock[];

  /** `locks`: lock objects, or znode paths for which a Mutex on `zk` is made. */
  constructor(zk: ZooKeeper, locks: readonly (Lock | string)[]) {
    this.locks = locks.map((lock) => (typeof lock === "string" ? new Mutex(zk, lock) : lock));
  }

  /** True while every lock is held. */
  get isHeld(): boolean {
    return this.locks.length > 0 && this.locks.every((lock) => lock.isHeld);
  }

  /**
   * Takes every lock in order. Resolves true once all are held; false when `timeoutMs` (for the
   * whole set) runs out; rejects with the signal's reason on abort or with the first lock's
   * error. On every outcome but true, the locks taken so far are released first.
   */
  async acquire(options: AcquireOptions = {}): Promise<boolean> {
    const deadline =
      options.timeoutMs === undefined ? undefined : performance.now() + options.timeoutMs;
    const taken: Lock[] = [];
    try {
      for (const lock of this.locks) {
        const remaining =
          deadline === undefined ? undefined : Math.max(0, deadline - performance.now());
        const acquired = await lock.acquire({
          ...(options.signal === undefined ? {} : { signal: options.signal }),
          ...(remaining === undefined ? {} : { timeoutMs: remaining }),
        });
        if (!acquired) {
          await releaseAll(taken);
          return false;
        }
        taken.push(lock);
      }
      return true;
    } catch (error) {
      await releaseAll(taken).catch(() => undefined);
      throw error;
    }
  }

  /**
   * Releases one hold of every lock, last taken first. Every lock is released even if one
   * throws; the first error is then rethrown. Throws LockNotHeldError if the set is not held.
   */
  async release(): Promise<void> {
    if (!this.isHeld) throw new LockNotHeldError(this.locks.map(describe).join(","));
    await releaseAll(this.locks);
  }

  /** Releases if held: `await using _held = multiLock` after a successful acquire(). */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.isHeld) await this.release();
  }
}

/** Releases `locks` in reverse order, all of them; rethrows the first error. */
async function releaseAll(locks: readonly Lock[]): Promise<void> {
  let failure: { error: unknown } | undefined;
  for (const lock of [...locks].reverse()) {
    try {
      await lock.release();
    } catch (error) {
      failure ??= { error };
    }
  }
  if (failure !== undefined) throw failure.error;
}

function describe(lock: Lock): string {
  return "path" in lock && typeof lock.path === "string" ? lock.path : "lock";
}
