/**
 * A counting semaphore with leases (Curator's InterProcessSemaphoreV2): at most `maxLeases`
 * leases exist at once, across all clients.
 *
 *     const semaphore = new Semaphore(zk, "/semaphores/db", 3);
 *     const leases = await semaphore.acquire({ timeoutMs: 5000 });
 *     if (leases) { try { ... } finally { for (const lease of leases) await lease.close(); } }
 *
 * Layout: `<path>/locks` is a Mutex that serializes acquirers; `<path>/leases` holds one
 * EPHEMERAL_SEQUENTIAL node per lease. An acquirer takes the mutex, adds its lease node, and
 * while there are more than maxLeases lease nodes waits for the children to change; then it
 * releases the mutex. Since only the mutex holder adds leases, and others only remove them,
 * a count within bounds at the check stays within bounds: the semaphore never over-leases.
 * A lease lives as long as its node: closing the lease, or the session's end, returns it.
 */
import type { ZooKeeper } from "../index.js";
import {
  type AcquireOptions,
  createProtected,
  deleteHeldNode,
  LockNodeGoneError,
  raceAbort,
  sortChildren,
} from "./lock-internals.js";
import { Mutex } from "./mutex.js";

const LEASE_NAME = "lease-";

/** One unit of a Semaphore; close() returns it (idempotent). */
export interface Lease extends AsyncDisposable {
  /** The lease's znode. */
  readonly path: string;
  close(): Promise<void>;
}

export interface SemaphoreAcquireOptions extends AcquireOptions {
  /** How many leases to take, all or none (default 1). */
  readonly count?: number;
}

export class Semaphore {
  readonly path: string;
  readonly maxLeases: number;
  private readonly zk: ZooKeeper;
  private readonly leasesPath: string;

  constructor(zk: ZooKeeper, path: string, maxLeases: number) {
    if (!Number.isInteger(maxLeases) || maxLeases < 1) {
      throw new RangeError(`maxLeases must be a positive integer, got ${maxLeases}`);
    }
    this.zk = zk;
    this.path = path;
    this.maxLeases = maxLeases;
    this.leasesPath = `${path}/leases`;
  }

  /**
   * Takes `count` leases, one after the other. Resolves with them, or null after `timeoutMs`
   * (the leases taken so far are returned); rejects with the signal's reason on abort.
   */
  async acquire(options: SemaphoreAcquireOptions = {}): Promise<Lease[] | null> {
    const count = options.count ?? 1;
    if (!Number.isInteger(count) || count < 1 || count > this.maxLeases) {
      throw new RangeError(`count must be an integer in 1..${this.maxLeases}, got ${count}`);
    }
    const deadline =
      options.timeoutMs === undefined ? undefined : performance.now() + options.timeoutMs;
    const leases: Lease[] = [];
    try {
      while (leases.length < count) {
        const timeoutMs =
          deadline === undefined ? undefined : Math.max(0, deadline - performance.now());
        const lease = await this.acquireOne({
          ...(options.signal === undefined ? {} : { signal: options.signal }),
          ...(timeoutMs === undefined ? {} : { timeoutMs }),
        });
        if (lease === null) break;
        leases.push(lease);
      }
    } catch (error) {
      await Promise.all(leases.map((lease) => lease.close()));
      throw error;
    }
    if (leases.length === count) return leases;
    await Promise.all(leases.map((lease) => lease.close()));
    return null;
  }

  /** The lease nodes now, full paths in sequence order. */
  async participantNodes(): Promise<string[]> {
    const children = await this.zk.getChildren(this.leasesPath).catch((error: unknown) => {
      if (error instanceof Error && error.name === "NoNodeError") return [];
      throw error;
    });
    return sortChildren(children, [LEASE_NAME]).map((child) => `${this.leasesPath}/${child}`);
  }

  private async acquireOne(options: AcquireOptions): Promise<Lease | null> {
    // A fresh Mutex per attempt: one object is reentrant, and two concurrent acquires from
    // this Semaphore must be two contenders, not one holder twice.
    const mutex = new Mutex(this.zk, `${this.path}/locks`);
    const start = performance.now();
    if (!(await mutex.acquire(options))) return null;
    try {
      const timeoutMs =
        options.timeoutMs === undefined
          ? undefined
          : Math.max(0, options.timeoutMs - (performance.now() - start));
      return await this.addLease(options.signal, timeoutMs);
    } finally {
      await mutex.release();
    }
  }

  /** Adds our lease node and waits until the leases fit within maxLeases (mutex held). */
  private async addLease(
    userSignal: AbortSignal | undefined,
    timeoutMs: number | undefined,
  ): Promise<Lease | null> {
    const timeout = timeoutMs === undefined ? undefined : AbortSignal.timeout(Math.ceil(timeoutMs));
    const signals = [userSignal, timeout].filter((s) => s !== undefined);
    const signal = signals.length > 0 ? AbortSignal.any(signals) : undefined;
    const path = await createProtected(this.zk, this.leasesPath, LEASE_NAME, "");
    const ourNode = path.slice(this.leasesPath.length + 1);
    try {
      for (;;) {
        const { children, watch } = await this.zk.getChildren(this.leasesPath, {
          watch: true,
          ...(signal === undefined ? {} : { signal }),
        });
        const leases = sortChildren(children, [LEASE_NAME]);
        if (!leases.includes(ourNode)) throw new LockNodeGoneError(ourNode);
        if (leases.length <= this.maxLeases) return makeLease(this.zk, path);
        await raceAbort(watch, signal);
      }
    } catch (error) {
      await deleteHeldNode(this.zk, path);
      if (userSignal?.aborted) throw userSignal.reason;
      if (timeout?.aborted) return null;
      throw error;
    }
  }
}

function makeLease(zk: ZooKeeper, path: string): Lease {
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= deleteHeldNode(zk, path);
    return closing;
  };
  return { path, close, [Symbol.asyncDispose]: close };
}
