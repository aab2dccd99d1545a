/**
 * An atomic 64-bit integer (Curator's DistributedAtomicLong, optimistic mode): one znode whose
 * data is the value, changed with a read / versioned-write loop.
 *
 *     const hits = new DistributedAtomicLong(zk, "/counters/hits");
 *     await hits.initialize(100n);                   // only if the node does not exist
 *     const { succeeded, preValue, postValue } = await hits.increment();
 *     const swapped = await hits.compareAndSet(101n, 0n);
 *     const value = await hits.get();
 *
 * Encoding: the value is an 8-byte big-endian signed long, exactly as Curator stores it, so a
 * Curator client and this one can share it. A missing or empty node reads as 0n; any other
 * length is an error. Arithmetic wraps around at 64 bits, as Java's long does.
 *
 * A mutation that loses `maxAttempts` races in a row (default 1000) reports
 * `succeeded: false`, as Curator's AtomicValue does when its retry policy gives up. A write
 * whose reply is lost to a dropped connection is not retried blindly (it may have happened):
 * it rejects with ConnectionLossError.
 */
import { BadVersionError, NodeExistsError, NoNodeError, type ZooKeeper } from "../index.js";
import { ensurePath } from "./lock-internals.js";

const DEFAULT_ATTEMPTS = 1000;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** The outcome of a mutation (Curator's AtomicValue). */
export interface AtomicValue {
  /** false: lost every race (or, for compareAndSet, the value was not the expected one). */
  readonly succeeded: boolean;
  /** The value the mutation read (its last attempt's, when it did not succeed). */
  readonly preValue: bigint;
  /** The value written; when not succeeded, the value it tried to write (or preValue). */
  readonly postValue: bigint;
}

export interface AtomicLongOptions {
  /** Tries before a mutation reports `succeeded: false` (default 1000). */
  readonly maxAttempts?: number;
}

/** Curator DistributedAtomicLong's encoding: an 8-byte big-endian two's-complement long. */
export function encodeLong(value: bigint): Buffer {
  if (value < INT64_MIN || value > INT64_MAX) {
    throw new RangeError(`an atomic long is a 64-bit signed integer, got ${value}`);
  }
  const bytes = Buffer.alloc(8);
  bytes.writeBigInt64BE(value);
  return bytes;
}

/** The inverse of encodeLong(); empty data reads as 0n. */
export function decodeLong(bytes: Uint8Array): bigint {
  if (bytes.length === 0) return 0n;
  if (bytes.length !== 8) throw new RangeError(`an atomic long has 8 bytes, got ${bytes.length}`);
  return Buffer.from(bytes.buffer, bytes.byteOffset, 8).readBigInt64BE();
}

/** The current value and the version it was read at (-1: the node does not exist). */
interface Current {
  readonly value: bigint;
  readonly version: number;
}

export class DistributedAtomicLong {
  readonly path: string;
  private readonly zk: ZooKeeper;
  private readonly maxAttempts: number;

  constructor(zk: ZooKeeper, path: string, options: AtomicLongOptions = {}) {
    const maxAttempts = options.maxAttempts ?? DEFAULT_ATTEMPTS;
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
      throw new RangeError(`maxAttempts must be a positive integer, got ${maxAttempts}`);
    }
    this.zk = zk;
    this.path = path;
    this.maxAttempts = maxAttempts;
  }

  /** The current value; 0n if the node does not exist. */
  async get(): Promise<bigint> {
    return (await this.read()).value;
  }

  /**
   * Sets the value to `next` if it is `expected` now, in one versioned write. A missing node
   * counts as 0n: with `expected` 0n it is created holding `next`. Never retries: a value that
   * differs, or a write that loses a race, reports `succeeded: false`.
   */
  async compareAndSet(expected: bigint, next: bigint): Promise<AtomicValue> {
    const data = encodeLong(next);
    const current = await this.read();
    const failed = { succeeded: false, preValue: current.value, postValue: current.value };
    if (current.value !== expected) return failed;
    return (await this.write(current, data))
      ? { succeeded: true, preValue: current.value, postValue: next }
      : failed;
  }

  /** Sets the value whatever it is (retried on races); preValue is the one it replaced. */
  trySet(value: bigint): Promise<AtomicValue> {
    encodeLong(value);
    return this.mutate(() => value);
  }

  /**
   * Creates the node holding `value` if it does not exist. Resolves true if this call created
   * it, false if it was already there (its value untouched).
   */
  async initialize(value: bigint): Promise<boolean> {
    return this.create(encodeLong(value));
  }

  /** Adds 1. */
  increment(): Promise<AtomicValue> {
    return this.add(1n);
  }

  /** Subtracts 1. */
  decrement(): Promise<AtomicValue> {
    return this.add(-1n);
  }

  /** Adds `delta` (wrapping at 64 bits) with a read / versioned-write loop. */
  add(delta: bigint): Promise<AtomicValue> {
    return this.mutate((value) => BigInt.asIntN(64, value + delta));
  }

  /** Subtracts `delta`. */
  subtract(delta: bigint): Promise<AtomicValue> {
    return this.mutate((value) => BigInt.asIntN(64, value - delta));
  }

  /** Reads, computes, writes at the read version; retried on BadVersion, bounded. */
  private async mutate(compute: (value: bigint) => bigint): Promise<AtomicValue> {
    let preValue = 0n;
    let postValue = 0n;
    for (let attempt = 0; attempt < this.maxAttempts; attempt++) {
      const current = await this.read();
      preValue = current.value;
      postValue = compute(current.value);
      if (await this.write(current, encodeLong(postValue))) {
        return { succeeded: true, preValue, postValue };
      }
    }
    return { succeeded: false, preValue, postValue };
  }

  private async read(): Promise<Current> {
    try {
      const { data, stat } = await this.zk.getData(this.path);
      return { value: decodeLong(data), version: stat.version };
    } catch (error) {
      if (error instanceof NoNodeError) return { value: 0n, version: -1 };
      throw error;
    }
  }

  /** Writes `data` if the node is still as `current` saw it; false if someone came first. */
  private async write(current: Current, data: Buffer): Promise<boolean> {
    if (current.version < 0) return this.create(data);
    try {
      await this.zk.setData(this.path, data, { version: current.version });
      return true;
    } catch (error) {
      if (error instanceof BadVersionError || error instanceof NoNodeError) return false;
      throw error;
    }
  }

  /** Creates the node (and missing parents); false if it already exists. */
  private async create(data: Buffer): Promise<boolean> {
    const parent = this.path.slice(0, this.path.lastIndexOf("/"));
    if (parent !== "") await ensurePath(this.zk, parent);
    try {
      await this.zk.create(this.path, data);
      return true;
    } catch (error) {
      if (error instanceof NodeExistsError) return false;
      throw error;
    }
  }
}
