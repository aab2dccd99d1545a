/**
 * A shared integer (Curator's SharedCount, with DistributedAtomicLong's increment): one znode
 * whose data is the value, changed optimistically with versioned setData.
 *
 *     const counter = new SharedCounter(zk, "/counters/jobs", 0);
 *     const next = await counter.increment();        // retries on BadVersion
 *     const { value, version } = await counter.getVersioned();
 *     if (await counter.trySet(value * 2, version)) { ... }  // false: someone changed it first
 *     const off = counter.onChange(({ value }) => console.log(value));
 *
 * Encoding: the value is a 4-byte big-endian signed int, exactly as Curator's SharedCount stores
 * it, so a Curator client and this one can share a counter. An empty node reads as 0 (a node
 * created by other tools without data); any other length is an error.
 *
 * The znode is created with `seed` (and its missing parents) by the first call that finds it
 * missing; racing creators are fine, the first one's seed wins.
 */
import {
  BadVersionError,
  ConnectionLossError,
  NodeExistsError,
  NoNodeError,
  type WatchEvent,
  type ZooKeeper,
} from "../index.js";
import { ensurePath } from "./lock-internals.js";

const INT32_MIN = -0x8000_0000;
const INT32_MAX = 0x7fff_ffff;
const DEFAULT_INCREMENT_ATTEMPTS = 1000;

/** The value and the znode version it was read at (the version trySet() expects). */
export interface VersionedValue {
  readonly value: number;
  readonly version: number;
}

export type CounterListener = (value: VersionedValue) => void;

/** Curator SharedCount's encoding: a 4-byte big-endian two's-complement int. */
export function encodeCount(value: number): Buffer {
  if (!Number.isInteger(value) || value < INT32_MIN || value > INT32_MAX) {
    throw new RangeError(`a shared count is a 32-bit int, got ${value}`);
  }
  const bytes = Buffer.alloc(4);
  bytes.writeInt32BE(value);
  return bytes;
}

/** The inverse of encodeCount(); empty data reads as 0. */
export function decodeCount(bytes: Uint8Array): number {
  if (bytes.length === 0) return 0;
  if (bytes.length !== 4) throw new RangeError(`a shared count has 4 bytes, got ${bytes.length}`);
  return Buffer.from(bytes.buffer, bytes.byteOffset, 4).readInt32BE();
}

export class SharedCounter {
  readonly path: string;
  readonly seed: number;
  private readonly zk: ZooKeeper;
  private readonly listeners = new Set<CounterListener>();
  private lastVersion = -1;
  private watching = false;
  // One listener object for every watch this counter sets: the client keeps a watch per
  // (path, listener), so re-arming never stacks duplicates.
  private readonly watcher = (event: WatchEvent) => this.onWatch(event);

  constructor(zk: ZooKeeper, path: string, seed = 0) {
    encodeCount(seed);
    this.zk = zk;
    this.path = path;
    this.seed = seed;
  }

  /** The current value. */
  async get(): Promise<number> {
    return (await this.getVersioned()).value;
  }

  /** The current value and its version. */
  async getVersioned(): Promise<VersionedValue> {
    for (let attempt = 0; attempt < 10; attempt++) {
      try {
        const { data, stat } = await this.zk.getData(this.path);
        return { value: decodeCount(data), version: stat.version };
      } catch (error) {
        if (!(error instanceof NoNodeError)) throw error;
        await this.createSeed();
      }
    }
    throw new NoNodeError(this.path);
  }

  /**
   * Sets the value if the znode is still at `expectedVersion` (from getVersioned() or an
   * onChange event). Resolves false when another client changed it first.
   */
  async trySet(newValue: number, expectedVersion: number): Promise<boolean> {
    const data = encodeCount(newValue);
    try {
      await this.zk.setData(this.path, data, { version: expectedVersion });
      return true;
    } catch (error) {
      if (error instanceof BadVersionError || error instanceof NoNodeError) return false;
      throw error;
    }
  }

  /**
   * Adds `delta` with a read / versioned-write loop, retried on BadVersion up to `maxAttempts`
   * times (default 1000); resolves with the value it wrote. A write whose reply is lost to a
   * connection drop is not retried blindly (it may have happened): it rejects with
   * ConnectionLossError, as Curator's AtomicValue reports "not succeeded".
   */
  async increment(delta = 1, maxAttempts = DEFAULT_INCREMENT_ATTEMPTS): Promise<number> {
    for (let attempt = 0; attempt < maxAttempts; attempt++) {
      const { value, version } = await this.getVersioned();
      const next = value + delta;
      if (await this.trySet(next, version)) return next;
    }
    throw new Error(`increment of ${this.path} lost ${maxAttempts} races in a row`);
  }

  /**
   * Calls `listener` with each new value. A data watch is re-armed after every fire, so a
   * listener sees the latest value; values written in quick succession may be seen only once
   * (ZooKeeper watches are one-shot), never out of order. Returns a function that stops it.
   */
  onChange(listener: CounterListener): () => void {
    this.listeners.add(listener);
    if (!this.watching) {
      this.watching = true;
      void this.arm();
    }
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Stops every listener; the counter's reads and writes keep working. */
  close(): void {
    this.listeners.clear();
    this.watching = false;
  }

  private onWatch(event: WatchEvent): void {
    if (event.type === "None" || !this.watching) return;
    void this.arm();
  }

  /** Reads with a watch and tells the listeners if the version moved. */
  private async arm(): Promise<void> {
    for (let attempt = 0; attempt < 10 && this.watching; attempt++) {
      try {
        const { data, stat } = await this.zk.getData(this.path, { watch: this.watcher });
        if (stat.version !== this.lastVersion) {
          this.lastVersion = stat.version;
          const value = { value: decodeCount(data), version: stat.version };
          for (const listener of [...this.listeners]) listener(value);
        }
        return;
      } catch (error) {
        if (error instanceof ConnectionLossError) continue;
        if (!(error instanceof NoNodeError)) return;
        // Deleted: watch for its return rather than recreate it behind the deleter's back.
        try {
          const stat = await this.zk.exists(this.path, { watch: this.watcher });
          if (stat === null) return;
        } catch {
          return;
        }
      }
    }
  }

  private async createSeed(): Promise<void> {
    const parent = this.path.slice(0, this.path.lastIndexOf("/"));
    if (parent !== "") await ensurePath(this.zk, parent);
    try {
      await this.zk.create(this.path, encodeCount(this.seed));
    } catch (error) {
      if (!(error instanceof NodeExistsError)) throw error;
    }
  }
}
