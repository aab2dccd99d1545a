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
import { GroupCommitLog } from "../storage/group-commit.js";
import type { ResolvedServerOptions } from "./config.js";
import type { DataTree } from "./data-tree.js";
import type { Logger } from "./logger.js";
import { type DataDirs, dataDirs, recover } from "./recovery.js";
import { hex } from "./replies.js";
import { SnapSchedule } from "./snap-schedule.js";
import { Summary } from "./summary.js";
import { writeTreeSnapshot } from "./tree-snapshot.js";
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
  private readonly schedule: SnapSchedule;
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
    this.schedule = new SnapSchedule(options.snapCount, options.snapSizeLimitInKb * 1024);
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
    const { txns, bytes } = this.txnLog.sinceRoll;
    if (this.schedule.dueAt(txns, bytes)) {
      this.schedule.reset();
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

  /**
   * Writes a snapshot of the tree as it is now; writes go on meanwhile. Failures are logged:
   * the log still holds everything, so a missed snapshot costs only recovery time.
   */
  async takeSnapshot(): Promise<void> {
    try {
      const { file, zxid, ms } = await writeTreeSnapshot(this.tree, this.dirs.snapDir);
      Object.assign(this.stats, {
        snapshots: this.stats.snapshots + 1,
        lastSnapshotMs: ms,
        lastSnapshotZxid: zxid,
        lastSnapshotFile: file,
      });
      this.stats.snapshotTime.add(ms);
      this.log.info(
        { file, zxid: hex(zxid), nodes: this.tree.nodeCount, ms: Math.round(ms) },
        "snapshot taken",
      );
    } catch (error) {
      this.log.error({ reason: (error as Error).message }, "snapshot failed");
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
