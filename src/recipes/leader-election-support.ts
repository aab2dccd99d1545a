/**
 * What LeaderElection needs besides its loop: the candidate node's data format, reading the
 * current leader from any client, the protected create, and a small event channel (listeners
 * plus async iterators over the same events).
 */
import { randomUUID } from "node:crypto";
import {
  ConnectionLossError,
  CreateMode,
  InvalidArgumentError,
  NoNodeError,
  type ZooKeeper,
} from "../index.js";
import { ensurePath, PROTECTED_PREFIX, sortChildren } from "./lock-internals.js";

/** The name part of a candidate node, as Curator's LeaderLatch: `_c_<uuid>-latch-<sequence>`. */
export const CANDIDATE_NAME = "latch-";

/** A candidate as any client reads it from its znode. */
export interface Leader {
  /** The id the candidate gave (`LeaderElection` option `id`). */
  readonly id: string;
  /** The payload the candidate gave (option `data`); empty if none. */
  readonly data: Buffer;
  /** The candidate's znode, a full path. */
  readonly node: string;
}

/**
 * The znode's data: the id in UTF-8, then, only if there is a payload, a NUL byte and the
 * payload. Without a payload this is exactly what Curator's LeaderLatch writes (the id), so
 * either side reads the other's leader.
 */
export function encodeCandidate(id: string, data: Uint8Array | string | undefined): Buffer {
  if (id.includes("\0")) throw new InvalidArgumentError("a candidate id must not hold a NUL");
  const idBytes = Buffer.from(id, "utf8");
  if (data === undefined) return idBytes;
  const payload = typeof data === "string" ? Buffer.from(data, "utf8") : Buffer.from(data);
  return Buffer.concat([idBytes, Buffer.of(0), payload]);
}

export function decodeCandidate(node: string, bytes: Buffer): Leader {
  const nul = bytes.indexOf(0);
  if (nul < 0) return { id: bytes.toString("utf8"), data: Buffer.alloc(0), node };
  return { id: bytes.subarray(0, nul).toString("utf8"), data: bytes.subarray(nul + 1), node };
}

/** The candidates under `path`, sorted by sequence number: the first one leads. */
export function sortedCandidates(children: readonly string[]): string[] {
  return sortChildren(children, [CANDIDATE_NAME]);
}

/**
 * Every candidate of the election at `path`, in queue order, the leader first (Curator's
 * getParticipants); [] when there is none. Candidates that go while we read are left out.
 */
export async function readParticipants(zk: ZooKeeper, path: string): Promise<Leader[]> {
  let children: string[];
  try {
    children = await zk.getChildren(path);
  } catch (error) {
    if (error instanceof NoNodeError) return [];
    throw error;
  }
  const reads = sortedCandidates(children).map(async (child) => {
    const node = `${path}/${child}`;
    try {
      return decodeCandidate(node, (await zk.getData(node)).data);
    } catch (error) {
      if (error instanceof NoNodeError) return undefined;
      throw error;
    }
  });
  return (await Promise.all(reads)).filter((p): p is Leader => p !== undefined);
}

/** Bounded: each round is a fresh look at the children, after the one read vanished. */
const LEADER_READS = 10;

/**
 * The current leader of the election at `path`, read by any client (candidate or not), or null
 * when there is no candidate. A leader that goes while we read is skipped for the next one.
 */
export async function readLeader(zk: ZooKeeper, path: string): Promise<Leader | null> {
  for (let round = 0; round < LEADER_READS; round++) {
    let children: string[];
    try {
      children = await zk.getChildren(path);
    } catch (error) {
      if (error instanceof NoNodeError) return null;
      throw error;
    }
    const first = sortedCandidates(children)[0];
    if (first === undefined) return null;
    try {
      const { data } = await zk.getData(`${path}/${first}`);
      return decodeCandidate(`${path}/${first}`, data);
    } catch (error) {
      if (!(error instanceof NoNodeError)) throw error;
    }
  }
  throw new ConnectionLossError(path, { cause: new Error("the leader kept changing") });
}

/** Bounded: a missing parent is created once per attempt; a lost reply is looked up. */
const CREATE_ATTEMPTS = 10;

/**
 * Creates our EPHEMERAL_SEQUENTIAL candidate node with a protected name (Curator's
 * `withProtection()`) and returns its name (no parent path). A create whose reply was lost to a
 * dropped connection may still have happened: the per-attempt uuid finds that node again, so we
 * never leave a second node that would stand in the queue, unwatched, while the session lives.
 */
export async function createCandidate(zk: ZooKeeper, path: string, data: Buffer): Promise<string> {
  const prefix = `${PROTECTED_PREFIX}${randomUUID()}-`;
  for (let attempt = 0; attempt < CREATE_ATTEMPTS; attempt++) {
    try {
      const created = await zk.create(`${path}/${prefix}${CANDIDATE_NAME}`, data, {
        mode: CreateMode.EPHEMERAL_SEQUENTIAL,
      });
      return created.slice(path.length + 1);
    } catch (error) {
      if (error instanceof NoNodeError) {
        await ensurePath(zk, path);
        continue;
      }
      if (!(error instanceof ConnectionLossError)) throw error;
    }
    // The reply was lost: calls wait for the next server, so this looks once reconnected.
    const ours = await findByPrefix(zk, path, prefix);
    if (ours !== undefined) return ours;
  }
  throw new ConnectionLossError(path, { cause: new Error("could not create a candidate node") });
}

async function findByPrefix(
  zk: ZooKeeper,
  path: string,
  prefix: string,
): Promise<string | undefined> {
  for (let attempt = 0; attempt < CREATE_ATTEMPTS; attempt++) {
    try {
      return (await zk.getChildren(path)).find((child) => child.startsWith(prefix));
    } catch (error) {
      if (error instanceof NoNodeError) return undefined;
      if (!(error instanceof ConnectionLossError)) throw error;
    }
  }
  throw new ConnectionLossError(path);
}

/**
 * Listeners and async iterators over one stream of events. An iterator buffers what its reader
 * has not taken yet (an election emits a handful of events per leader change); end() finishes
 * every iterator.
 */
export class EventChannel<E> {
  private readonly listeners = new Set<(event: E) => void>();
  private ended = false;

  on(listener: (event: E) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: E): void {
    for (const listener of [...this.listeners]) listener(event);
  }

  end(): void {
    this.ended = true;
    for (const listener of [...this.listeners]) this.listeners.delete(listener);
    for (const finish of [...this.finishers]) finish();
  }

  private readonly finishers = new Set<() => void>();

  iterate(): AsyncIterableIterator<E> {
    const buffered: E[] = [];
    let waiting: ((result: IteratorResult<E>) => void) | undefined;
    let done = this.ended;
    const finish = () => {
      done = true;
      off();
      this.finishers.delete(finish);
      waiting?.({ value: undefined, done: true });
      waiting = undefined;
    };
    const off = this.on((event) => {
      if (waiting) {
        waiting({ value: event, done: false });
        waiting = undefined;
      } else buffered.push(event);
    });
    if (done) off();
    else this.finishers.add(finish);
    const iterator: AsyncIterableIterator<E> = {
      next: () => {
        const event = buffered.shift();
        if (event !== undefined) return Promise.resolve({ value: event, done: false });
        if (done) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => {
          waiting = resolve;
        });
      },
      return: () => {
        finish();
        return Promise.resolve({ value: undefined, done: true });
      },
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }
}
