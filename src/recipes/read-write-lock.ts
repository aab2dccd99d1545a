/**
 * A shared (read-write) lock, as ZooKeeper's recipes page describes "Shared Locks" (Curator's
 * InterProcessReadWriteLock): readers and writers queue under one znode; a reader holds the
 * lock when no writer is ahead of it, a writer when nobody is ahead of it.
 *
 *     const rw = new ReadWriteLock(zk, "/locks/catalog");
 *     const read = rw.readLock();
 *     if (await read.acquire({ timeoutMs: 1000 })) { try { ... } finally { await read.release(); } }
 *
 * Each waiter watches one node only: a writer the node just ahead of it, a reader the writer
 * just ahead of it. The two lock objects are independent holders (unlike Curator, a writer does
 * not also get the read lock by holding the write lock). Connection states mean for a holder
 * what they mean for a Mutex (see mutex.ts).
 */
import type { ZooKeeper } from "../index.js";
import { type Decision, decide, LockNodeGoneError } from "./lock-internals.js";
import { InterProcessLock } from "./mutex.js";

/** Curator's names for the two kinds of node. */
export const READ_LOCK_NAME = "__READ__";
export const WRITE_LOCK_NAME = "__WRIT__";
const LOCK_NAMES = [READ_LOCK_NAME, WRITE_LOCK_NAME] as const;

/**
 * The reader's decision: held if no writer is ahead of `ourNode`; otherwise watch the writer
 * with the next lower sequence number (the recipes page). `sortedChildren` holds both kinds.
 */
export function decideRead(sortedChildren: readonly string[], ourNode: string): Decision {
  const ourIndex = sortedChildren.indexOf(ourNode);
  if (ourIndex < 0) throw new LockNodeGoneError(ourNode);
  for (let i = ourIndex - 1; i >= 0; i--) {
    const child = sortedChildren[i]!;
    if (child.includes(WRITE_LOCK_NAME)) return { acquired: false, watch: child };
  }
  return { acquired: true };
}

export interface ReadWriteLockOptions {
  /** Data stored in each lock node, default empty. */
  readonly data?: Uint8Array | string;
}

export class ReadWriteLock {
  readonly path: string;
  private readonly read: InterProcessLock;
  private readonly write: InterProcessLock;

  constructor(zk: ZooKeeper, path: string, options: ReadWriteLockOptions = {}) {
    this.path = path;
    this.read = new InterProcessLock(zk, path, {
      lockName: READ_LOCK_NAME,
      lockNames: LOCK_NAMES,
      decide: decideRead,
      data: options.data,
    });
    this.write = new InterProcessLock(zk, path, {
      lockName: WRITE_LOCK_NAME,
      lockNames: LOCK_NAMES,
      decide: (sorted, ourNode) => decide(sorted, ourNode, 1),
      data: options.data,
    });
  }

  /** The shared half: held together with other readers, never with a writer. */
  readLock(): InterProcessLock {
    return this.read;
  }

  /** The exclusive half: held alone. */
  writeLock(): InterProcessLock {
    return this.write;
  }
}
