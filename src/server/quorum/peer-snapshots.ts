/**
 * Snapshots on an ensemble server (ZooKeeper's SyncRequestProcessor and LearnerHandler's SNAP,
 * for a quorum peer):
 *
 * - Every snapCount committed txns (at a random point in the second half, as a standalone
 *   server does, so the servers of an ensemble do not all snapshot at once) the txn log rolls
 *   to a new file and the tree is written to `snapshot.<zxid>` while writes go on.
 * - Once a snapshot is written, Zab's history in memory is cut back to the snapshot before it:
 *   a learner less than a snapshot's distance behind still syncs by DIFF, one further behind
 *   by SNAP; memory holds at most about two snapshots' worth of txns.
 * - A SNAP sends the newest snapshot file, not a fresh walk of the tree: it is committed (the
 *   tree it was taken of only held committed txns), it is at or after Zab's history base (the
 *   history is never cut past the snapshot before the newest), and it is already encoded.
 * - A learner that gets a SNAP replaces its tree with the one in it (`treeFromSnapshot`).
 */
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import {
  decodeSnapshotStream,
  isValidSnapshotFile,
  listSnapshots,
} from "../../storage/snapshot.js";
import type { Snapshot } from "../../zab/messages.js";
import type { ResolvedServerOptions } from "../config.js";
import { DataTree } from "../data-tree.js";
import type { Logger } from "../logger.js";
import { RecoveryError } from "../recovery.js";
import { hex } from "../replies.js";
import { SnapSchedule } from "../snap-schedule.js";
import { writeTreeSnapshot } from "../tree-snapshot.js";
import type { SnapshotBytes } from "./peer-storage.js";

export interface PeerSnapshotHooks {
  /** The tree as it is now (a SNAP may have replaced it). */
  tree(): DataTree;
  /** Starts a new txn log file: the snapshot's txns are in the old ones. */
  roll(): void;
  /** The history in memory may forget everything up to `zxid`. */
  compact(zxid: bigint): void;
}

export class PeerSnapshots {
  private readonly snapDir: string;
  private readonly log: Logger;
  private readonly hooks: PeerSnapshotHooks;
  private readonly schedule: SnapSchedule;
  private writing: Promise<void> | undefined;
  /** The zxid of the newest snapshot on disk: history up to it is kept, as the next one is made. */
  private newest: bigint;

  constructor(
    snapDir: string,
    options: Pick<ResolvedServerOptions, "snapCount" | "snapSizeLimitInKb">,
    log: Logger,
    hooks: PeerSnapshotHooks,
  ) {
    this.snapDir = snapDir;
    this.log = log;
    this.hooks = hooks;
    this.schedule = new SnapSchedule(options.snapCount, options.snapSizeLimitInKb * 1024);
    this.newest = hooks.tree().lastProcessedZxid;
  }

  /** Committed txns were applied to the tree: a snapshot starts if one is due. */
  applied(entries: readonly { payload: Buffer }[]): void {
    for (const { payload } of entries) this.schedule.count(payload.length);
    if (!this.schedule.due()) return;
    this.schedule.reset();
    this.hooks.roll();
    if (this.writing !== undefined) {
      this.log.warn({}, "too busy to snapshot: the previous one is still being written");
      return;
    }
    this.writing = this.take().finally(() => {
      this.writing = undefined;
    });
  }

  /** A SNAP from the leader was installed at `zxid`: it is the newest snapshot now. */
  installed(zxid: bigint): void {
    this.newest = zxid;
    this.schedule.reset();
  }

  /** Writes the tree as it is now; a failure is logged (the log still holds everything). */
  private async take(): Promise<void> {
    const tree = this.hooks.tree();
    try {
      const { file, zxid, ms } = await writeTreeSnapshot(tree, this.snapDir);
      this.hooks.compact(this.newest);
      this.newest = zxid;
      this.log.info(
        { file, zxid: hex(zxid), nodes: tree.nodeCount, ms: Math.round(ms) },
        "snapshot taken",
      );
    } catch (error) {
      this.log.error({ reason: (error as Error).message }, "snapshot failed");
    }
  }

  /**
   * Leader: what a learner too far behind gets — the newest complete snapshot file at or
   * before `committed`.
   */
  forLearner(committed: bigint): Snapshot {
    for (const { file, zxid } of listSnapshots(this.snapDir)) {
      if (zxid > committed || !isValidSnapshotFile(file)) continue;
      const data: SnapshotBytes = { bytes: readFileSync(file) };
      this.log.info({ file: basename(file), zxid: hex(zxid) }, "sending a snapshot to a learner");
      return { zxid, data };
    }
    throw new RecoveryError(`no snapshot in ${this.snapDir} to sync a learner with`);
  }

  /** Waits for a snapshot being written. */
  async idle(): Promise<void> {
    await this.writing;
  }
}

/** A SNAP's tree, checked as a snapshot file is (a bad one throws SnapshotCorruptError). */
export function treeFromSnapshot(snapshot: Snapshot): DataTree {
  const { bytes } = snapshot.data as SnapshotBytes;
  const loader = DataTree.loader();
  const name = `snapshot from the leader at 0x${snapshot.zxid.toString(16)}`;
  const contents = decodeSnapshotStream(bytes, name, loader.add);
  return loader.finish(snapshot.zxid, contents.sessions);
}
