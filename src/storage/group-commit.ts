/**
 * Group commit onto the txn log (ZooKeeper's SyncRequestProcessor + FileTxnLog.commit): txns
 * are queued as they come; while one write + fdatasync is in flight, everything that arrives
 * waits and then goes to disk together in the next one. So a busy server pays one fsync for
 * many txns, and durable throughput is a multiple of the disk's fsync rate.
 *
 * Each txn's callback runs once the txn is durable (forceSync) or written (forceSync=no), in
 * append order. An I/O error is fatal, as in ZooKeeper: nothing after it is acknowledged.
 *
 * `roll()` starts a new log file at the next txn (before a snapshot, so each log file starts
 * just after a snapshot's zxid, as ZooKeeper's do).
 */
import { closeSync, fdatasync, fsyncSync, openSync, writeSync } from "node:fs";
import type { LoggedTxn, LoggedTxnHeader } from "./txn-codec.js";
import { serializeTxn } from "./txn-codec.js";
import { encodeLogEntries, TxnLogWriter } from "./txn-log.js";

export interface GroupCommitOptions {
  /** fdatasync before acknowledging (zookeeper.forceSync); default true. */
  readonly forceSync?: boolean;
  /** Preallocation block in bytes (zookeeper.preAllocSize); default 64 MiB. */
  readonly preAllocBytes?: number;
  /** An I/O error: the log is dead; the server should stop. */
  readonly onFatal: (error: Error) => void;
  /** A batch went to disk: txns in it, and how long the write + sync took (for fsynctime). */
  readonly onBatch?: (txns: number, ms: number) => void;
}

interface Pending {
  readonly zxid: bigint;
  readonly bytes: Buffer;
  readonly done: () => void;
}

export class GroupCommitLog {
  private readonly dir: string;
  private readonly forceSync: boolean;
  private readonly preAllocBytes: number;
  private readonly onFatal: (error: Error) => void;
  private readonly onBatch: ((txns: number, ms: number) => void) | undefined;
  private current: TxnLogWriter | undefined;
  private pending: Pending[] = [];
  private flushing = false;
  private scheduled = false;
  private rollRequested = false;
  private failed: Error | undefined;
  private closed = false;
  private idleWaiters: (() => void)[] = [];
  /** Bytes appended to the current file; a snapshot is due after snapSizeLimit of them. */
  private bytesInFile = 0;
  private txnsInFile = 0;

  constructor(dir: string, options: GroupCommitOptions) {
    this.dir = dir;
    this.forceSync = options.forceSync ?? true;
    this.preAllocBytes = options.preAllocBytes ?? 64 * 1024 * 1024;
    this.onFatal = options.onFatal;
    this.onBatch = options.onBatch;
  }

  /** Txns and bytes appended since the last roll (SyncRequestProcessor's snapshot trigger). */
  get sinceRoll(): { txns: number; bytes: number } {
    return { txns: this.txnsInFile, bytes: this.bytesInFile };
  }

  /** Queues one txn; `done` runs once it is durable. Marshals now, so the txn may change after. */
  append(header: LoggedTxnHeader, txn: LoggedTxn, done: () => void): void {
    this.appendBytes(header.zxid, serializeTxn(header, txn), done);
  }

  /** Queues a txn already marshalled (serializeTxn's bytes, as a quorum peer receives them). */
  appendBytes(zxid: bigint, bytes: Buffer, done: () => void): void {
    if (this.failed || this.closed) return; // nothing more is acknowledged
    this.pending.push({ zxid, bytes, done });
    this.txnsInFile++;
    this.bytesInFile += bytes.length;
    if (!this.flushing && !this.scheduled) {
      // Let the requests already read from the sockets join this batch.
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        this.flush();
      });
    }
  }

  /** The next txn starts a new log file. */
  roll(): void {
    this.rollRequested = true;
    this.txnsInFile = 0;
    this.bytesInFile = 0;
  }

  /** Resolves once every txn appended so far is durable (or the log failed). */
  idle(): Promise<void> {
    if (!this.flushing && !this.scheduled && this.pending.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Waits for what is queued, then closes the file. */
  async close(): Promise<void> {
    await this.idle();
    this.closed = true;
    this.current?.close();
    this.current = undefined;
  }

  private flush(): void {
    if (this.failed || this.pending.length === 0) {
      this.settleIdle();
      return;
    }
    this.flushing = true;
    const batch = this.pending;
    this.pending = [];
    const started = performance.now();
    let target: { writer: TxnLogWriter; position: number; bytes: Buffer };
    try {
      target = this.place(batch);
    } catch (error) {
      this.fail(error as Error);
      return;
    }
    const { writer, position, bytes } = target;
    // The write itself only copies the batch into the page cache (microseconds; the file is
    // preallocated): done here, it saves a round trip through the thread pool per batch, which
    // is most of a lone txn's latency after the fdatasync itself.
    try {
      writeFullySync(writer.fd, bytes, position);
    } catch (error) {
      this.fail(error as Error);
      return;
    }
    const acknowledge = () => {
      this.onBatch?.(batch.length, performance.now() - started);
      for (const txn of batch) txn.done();
      this.flushing = false;
      if (this.pending.length > 0) this.flush();
      else this.settleIdle();
    };
    // forceSync=no: acknowledged from the event loop all the same, never inside append.
    if (!this.forceSync) setImmediate(acknowledge);
    else fdatasync(writer.fd, (syncError) => (syncError ? this.fail(syncError) : acknowledge()));
  }

  /** Opens (or rolls to) the file the batch goes in and reserves its bytes there. */
  private place(batch: readonly Pending[]): {
    writer: TxnLogWriter;
    position: number;
    bytes: Buffer;
  } {
    const first = batch[0] as Pending;
    if (this.current === undefined || this.rollRequested) {
      this.rollRequested = false;
      this.current?.close();
      this.current = new TxnLogWriter(this.dir, first.zxid, {
        preAllocBytes: this.preAllocBytes,
      });
      syncDirectory(this.dir);
    }
    const bytes = encodeLogEntries(batch.map((txn) => txn.bytes));
    const position = this.current.reserve(bytes.length);
    return { writer: this.current, position, bytes };
  }

  private fail(error: Error): void {
    this.flushing = false;
    if (this.failed) return;
    this.failed = error;
    this.pending = [];
    this.settleIdle();
    this.onFatal(error);
  }

  private settleIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}

function writeFullySync(fd: number, bytes: Buffer, position: number): void {
  for (let at = 0; at < bytes.length; ) {
    at += writeSync(fd, bytes, at, bytes.length - at, position + at);
  }
}

/** A new file's directory entry must be durable too, or a crash can lose the whole file. */
export function syncDirectory(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
