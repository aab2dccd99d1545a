/**
 * Revocable locks (ZooKeeper recipes page "Revocable Shared Locks", Curator's Revoker and
 * `makeRevocable`): a client that wants the lock asks the holder to let go by writing a revoke
 * marker into the holder's lock node; the holder watches its own node's data and hears the
 * request. Revocation is cooperative: the holder's listener decides whether to release.
 *
 *     const lock = makeRevocable(zk, new Mutex(zk, "/locks/report"), ({ lock }) => {
 *       void finishUp().then(() => lock.release());
 *     });
 *     await lock.acquire();
 *
 *     // elsewhere, in another session:
 *     const [holderNode] = await new Mutex(zk2, "/locks/report").participantNodes();
 *     if (holderNode !== undefined) await requestRevoke(zk2, holderNode);
 */
import { ConnectionLossError, NoNodeError, type ZooKeeper } from "../index.js";
import type { AcquireOptions } from "./lock-internals.js";
import type { InterProcessLock } from "./mutex.js";

/** What requestRevoke() writes: Curator's Revoker.REVOKE_MESSAGE, so Curator holders hear it. */
export const REVOKE_DATA = "__REVOKE__";

/** The recipes page's marker, also taken as a request. */
const REVOKE_MARKERS = new Set([REVOKE_DATA, "revoke"]);

export interface RevocationRequest {
  /** The lock node whose data asked for revocation. */
  readonly path: string;
  /** The lock asked to let go: call `lock.release()` to honour the request. */
  readonly lock: RevocableLock;
}

export type RevocationListener = (request: RevocationRequest) => void;

/**
 * Asks the holder of `lockNodePath` (a participant node, e.g. from participantNodes()) to release.
 * Resolves false if the node is gone already (Curator ignores NoNode likewise).
 */
export async function requestRevoke(zk: ZooKeeper, lockNodePath: string): Promise<boolean> {
  try {
    await zk.setData(lockNodePath, REVOKE_DATA);
    return true;
  } catch (error) {
    if (error instanceof NoNodeError) return false;
    throw error;
  }
}

/**
 * A lock whose holder hears revocation requests. Delegates acquire/release to the lock it wraps;
 * while held, it watches its lock node's data and calls the listener once per request (a request
 * made while it was still waiting is heard as soon as it holds).
 */
export class RevocableLock implements AsyncDisposable {
  readonly lock: InterProcessLock;
  private readonly zk: ZooKeeper;
  private readonly listener: RevocationListener;
  private watching: string | undefined;

  constructor(zk: ZooKeeper, lock: InterProcessLock, listener: RevocationListener) {
    this.zk = zk;
    this.lock = lock;
    this.listener = listener;
  }

  get path(): string {
    return this.lock.path;
  }

  get isHeld(): boolean {
    return this.lock.isHeld;
  }

  get nodePath(): string | undefined {
    return this.lock.nodePath;
  }

  /** As the wrapped lock's acquire(); once held, starts listening for revocation requests. */
  async acquire(options: AcquireOptions = {}): Promise<boolean> {
    const acquired = await this.lock.acquire(options);
    const nodePath = this.lock.nodePath;
    if (acquired && nodePath !== undefined && nodePath !== this.watching) {
      this.watching = nodePath;
      void this.watch(nodePath);
    }
    return acquired;
  }

  release(): Promise<void> {
    return this.lock.release();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.isHeld) await this.release();
  }

  /**
   * Reads our node's data with a watch until the node is no longer ours: released (the delete
   * fires the watch), or the session ended (every watch fires). Each round needs a watch event,
   * so the loop lives no longer than the node.
   */
  private async watch(nodePath: string): Promise<void> {
    let heard = false;
    try {
      while (this.lock.nodePath === nodePath) {
        let result: Awaited<ReturnType<typeof this.readWatched>>;
        try {
          result = await this.readWatched(nodePath);
        } catch (error) {
          if (error instanceof ConnectionLossError) continue;
          return; // NoNode (released), expired, closed: nothing left to revoke.
        }
        const requested = REVOKE_MARKERS.has(result.data.toString());
        if (requested && !heard && this.lock.nodePath === nodePath) {
          heard = true;
          this.listener({ path: nodePath, lock: this });
        } else if (!requested) {
          heard = false;
        }
        await result.watch;
      }
    } finally {
      if (this.watching === nodePath) this.watching = undefined;
    }
  }

  private readWatched(nodePath: string) {
    return this.zk.getData(nodePath, { watch: true });
  }
}

/** Wraps `lock` so that its holder hears revocation requests (Curator's makeRevocable). */
export function makeRevocable(
  zk: ZooKeeper,
  lock: InterProcessLock,
  listener: RevocationListener,
): RevocableLock {
  return new RevocableLock(zk, lock, listener);
}
