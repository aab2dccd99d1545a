/**
 * A barrier (ZooKeeper recipes page "Barriers", Curator's DistributedBarrier): while the barrier
 * node exists, waiters wait; removing it releases them all at once.
 *
 *     const barrier = new Barrier(zk, "/barriers/start");
 *     await barrier.setBarrier();                 // the coordinator
 *     await barrier.waitOnBarrier();              // the workers: resolves once it is removed
 *     await barrier.removeBarrier();              // the coordinator, when the time comes
 *
 * A waiter leaves an exists watch on the barrier node and looks again when it fires; a node
 * that is set and removed between two looks may go unseen, as in Curator.
 */
import { ConnectionLossError, NoNodeError, type ZooKeeper } from "../index.js";
import { ensurePath, raceAbort } from "./lock-internals.js";

/** How long a blocking recipe call may wait. */
export interface WaitOptions {
  /** Abort the wait: the call rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /** Give up after this long: the call reports a timeout (false or null, as it documents). */
  readonly timeoutMs?: number;
}

/**
 * Runs `body` under one signal that fires on the caller's abort or after `timeoutMs`. Resolves
 * with `onTimeout` when the timeout fired, rejects with the caller's reason on abort, else passes
 * `body`'s outcome on.
 * @internal Shared by the barrier and queue recipes.
 */
export async function withDeadline<T>(
  options: WaitOptions,
  onTimeout: T,
  body: (signal: AbortSignal | undefined) => Promise<T>,
): Promise<T> {
  options.signal?.throwIfAborted();
  const timeout =
    options.timeoutMs === undefined
      ? undefined
      : AbortSignal.timeout(Math.max(0, Math.ceil(options.timeoutMs)));
  const signals = [options.signal, timeout].filter((s) => s !== undefined);
  const signal = signals.length > 0 ? AbortSignal.any(signals) : undefined;
  try {
    return await body(signal);
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    if (timeout?.aborted) return onTimeout;
    throw error;
  }
}

export class Barrier {
  readonly path: string;
  private readonly zk: ZooKeeper;

  constructor(zk: ZooKeeper, path: string) {
    this.zk = zk;
    this.path = path;
  }

  /** Sets the barrier: creates its node (and missing parents). Setting it twice is fine. */
  async setBarrier(): Promise<void> {
    await ensurePath(this.zk, this.path);
  }

  /** Removes the barrier, releasing every waiter. Removing a barrier not set is fine. */
  async removeBarrier(): Promise<void> {
    try {
      await this.zk.delete(this.path);
    } catch (error) {
      if (!(error instanceof NoNodeError)) throw error;
    }
  }

  /**
   * Waits until the barrier is not set. Resolves true at once if it is not set, true when it is
   * removed, false after `timeoutMs`; rejects with the signal's reason on abort, or with the
   * client's error if the session ends.
   */
  waitOnBarrier(options: WaitOptions = {}): Promise<boolean> {
    return withDeadline(options, false, async (signal) => {
      const callOptions = signal === undefined ? {} : { signal };
      for (;;) {
        let watched: { stat: unknown; watch: Promise<unknown> };
        try {
          watched = await this.zk.exists(this.path, { ...callOptions, watch: true });
        } catch (error) {
          // The call waits for the next server on its own; a lost reply is simply asked again.
          if (error instanceof ConnectionLossError) continue;
          throw error;
        }
        if (watched.stat === null) return true;
        // A session that ends fires every watch, so this wait never outlives it.
        await raceAbort(watched.watch, signal);
      }
    });
  }
}
