/**
 * The durable side of a server (ZooKeeper's ZKDatabase + SyncRequestProcessor): txns go to the
 * txn log with group commit, and a snapshot of the tree is taken every so many txns.
 *
 * Snapshots follow ZooKeeper's schedule: after snapCount/2 + a random share of snapCount/2 txns
 * (or the same for snapSizeLimitInKb of log), so that the servers of an ensemble do not all
 * snapshot at once. The log rolls to a new file there, and the snapshot is written in chunks
 * while writes go on; the tree keeps copies of what changes meanwhile (copy on write), so
 * the snapshot is exactly the tree at its zxid. If one is still being written when the next is
 * due, the next is skipped, with a warning, as ZooKeeper does.
 */
import { randomInt } from "node:crypto";
import { GroupCommitLog } from "../storage/group-commit.js";
import { DIGEST_VERSION, encodeSnapshot, writeSnapshotFile } from "../storage/snapshot.js";
import type { ResolvedServerOptions } from "./config.js";
import type { DataTree } from "./data-tree.js";
import type { Logger } from "./logger.js";
import { type DataDirs, dataDirs, recover } from "./recovery.js";
import { hex } from "./replies.js";
import { Summary } from "./summary.js";
import type { Txn, TxnHeader } from "./txn.js";
import type { TxnSink } from "./zookeeper-server.js";

/** ZooKeeper's AvgMinMaxCounter of whole milliseconds (mntr's zk_{avg,min,max,cnt,sum}_<name>). */
export type TimeSummary = Summary;

/** FileTxnLog's fsync.warningthresholdms default: slower fsyncs are counted. */
const FSYNC_WARNING_THRESHOLD_MS = 1000;

export interface DatabaseStats {
  /** Txns appended. */
  txns: number;
  /** Group commits (one write + one fsync each). */
  batches: number;
  /** Last and largest fsync (write + sync) in ms. */
  lastSyncMs: number;
  maxSyncMs: number;
  snapshots: number;
  lastSnapshotMs: number;
  lastSnapshotZxid: bigint;
  lastSnapshotFile: string | undefined;
  /** How long loading took at startup, in ms. */
  recoveryMs: number;
  /** ServerMetrics.FSYNC_TIME: each group commit's write + fsync (forceSync only, as there). */
  fsyncTime: TimeSummary;
  /** ServerMetrics.SNAPSHOT_TIME: each snapshot written. */
  snapshotTime: TimeSummary;
  /** Fsyncs slower than fsync.warningthresholdms (1000), as ZooKeeper's FileTxnLog counts. */
  fsyncThresholdExceeded: number;
}

export class ZKDatabase implements TxnSink {
  readonly tree: DataTree;
  readonly dirs: DataDirs;
  readonly stats: DatabaseStats;
  private readonly txnLog: GroupCommitLog;
  private readonly log: Logger;
  private readonly snapCount: number;
  private readonly snapBytes: number;
  private randomCount = 0;
  private randomBytes = 0;
  private snapshotting: Promise<void> | undefined;
  private closed = false;

  /** Recovers the tree from `dataDir` (see recovery.ts) and opens the log for appending. */
  static open(
    options: ResolvedServerOptions & { dataDir: string },
    log: Logger,
    onFatal: (error: Error) => void,
  ): ZKDatabase {
    const dirs = dataDirs(options.dataDir, options.dataLogDir);
    const recovered = recover(dirs, log);
    const db = new ZKDatabase(recovered.tree, dirs, options, log, onFatal);
    db.stats.recoveryMs = recovered.ms;
    log.info(
      {
        snapshot: recovered.snapshot ?? null,
        replayed: recovered.replayed,
        zxid: hex(recovered.tree.lastProcessedZxid),
        nodes: recovered.tree.nodeCount,
        sessions: recovered.tree.sessions.size,
        ms: Math.round(recovered.ms),
      },
      "loaded the data tree",
    );
    return db;
  }

  private constructor(
    tree: DataTree,
    dirs: DataDirs,
    options: ResolvedServerOptions,
    log: Logger,
    onFatal: (error: Error) => void,
  ) {
    this.tree = tree;
    this.dirs = dirs;
    this.log = log;
    this.snapCount = options.snapCount;
    this.snapBytes = options.snapSizeLimitInKb * 1024;
    this.resetRandomRoll();
    this.stats = {
      txns: 0,
      batches: 0,
      lastSyncMs: 0,
      maxSyncMs: 0,
      snapshots: 0,
      lastSnapshotMs: 0,
      lastSnapshotZxid: -1n,
      lastSnapshotFile: undefined,
      recoveryMs: 0,
      fsyncTime: new Summary(),
      snapshotTime: new Summary(),
      fsyncThresholdExceeded: 0,
    };
    const forceSync = options.forceSync;
    this.txnLog = new GroupCommitLog(dirs.logDir, {
      forceSync: options.forceSync,
      preAllocBytes: options.preAllocSizeKb * 1024,
      onFatal: (error) => {
        log.error({ reason: error.message }, "the txn log failed; no more writes are acknowledged");
        onFatal(error);
      },
      onBatch: (txns, ms) => {
        this.stats.batches++;
        this.stats.lastSyncMs = ms;
        if (ms > this.stats.maxSyncMs) this.stats.maxSyncMs = ms;
        if (forceSync) {
          this.stats.fsyncTime.add(ms);
          if (ms > FSYNC_WARNING_THRESHOLD_MS) this.stats.fsyncThresholdExceeded++;
        }
        if (ms > FSYNC_WARNING_THRESHOLD_MS)
          log.warn({ ms: Math.round(ms), txns }, "fsync of the txn log was slow");
      },
    });
  }

  append(header: TxnHeader, txn: Txn, durable: () => void): void {
    this.stats.txns++;
    this.txnLog.append(header, txn, durable);
    if (this.shouldSnapshot()) {
      this.resetRandomRoll();
      this.txnLog.roll();
      if (this.snapshotting !== undefined) {
        this.log.warn({}, "too busy to snapshot: the previous one is still being written");
      } else {
        this.snapshotting = this.takeSnapshot().finally(() => {
          this.snapshotting = undefined;
        });
      }
    }
  }

  /** SyncRequestProcessor.shouldSnapshot. */
  private shouldSnapshot(): boolean {
    const { txns, bytes } = this.txnLog.sinceRoll;
    return (
      txns > this.snapCount / 2 + this.randomCount ||
      (this.snapBytes > 0 && bytes > this.snapBytes / 2 + this.randomBytes)
    );
  }

  private resetRandomRoll(): void {
    this.randomCount = randomInt(Math.max(1, Math.floor(this.snapCount / 2)));
    this.randomBytes = this.snapBytes > 2 ? randomInt(Math.min(2 ** 47, this.snapBytes / 2)) : 0;
  }

  /**
   * Writes a snapshot of the tree as it is now; writes go on meanwhile. Failures are logged:
   * the log still holds everything, so a missed snapshot costs only recovery time.
   */
  async takeSnapshot(): Promise<void> {
    const started = performance.now();
    const view = this.tree.beginSnapshot();
    try {
      const chunks = encodeSnapshot({
        sessions: view.sessions,
        acls: view.acls,
        nodes: view.nodes,
        digest: { zxid: view.zxid, version: DIGEST_VERSION, digest: view.digest },
      });
      const file = await writeSnapshotFile(this.dirs.snapDir, view.zxid, chunks);
      const ms = performance.now() - started;
      Object.assign(this.stats, {
        snapshots: this.stats.snapshots + 1,
        lastSnapshotMs: ms,
        lastSnapshotZxid: view.zxid,
        lastSnapshotFile: file,
      });
      this.stats.snapshotTime.add(ms);
      this.log.info(
        { file, zxid: hex(view.zxid), nodes: this.tree.nodeCount, ms: Math.round(ms) },
        "snapshot taken",
      );
    } catch (error) {
      this.log.error({ reason: (error as Error).message }, "snapshot failed");
    } finally {
      view.release();
    }
  }

  /** Resolves once every txn appended so far is durable. */
  flushed(): Promise<void> {
    return this.txnLog.idle();
  }

  /** Waits for queued txns and a snapshot under way, then closes the log. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.snapshotting;
    await this.txnLog.close();
  }
}
