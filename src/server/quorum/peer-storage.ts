/**
 * A quorum peer's durable state, in ZooKeeper's layout (dataDir/version-2):
 *
 * - `acceptedEpoch` and `currentEpoch`: one decimal number each, as ZooKeeper's QuorumPeer
 *   writes them (atomically: a temporary file, fsync, rename, fsync of the directory);
 * - the history: the txn log (group commit, `log.<zxid>`), each payload being a txn as the log
 *   holds it (TxnHeader + record), so the files are ZooKeeper's own format;
 * - the state machine: snapshots (`snapshot.<zxid>`); a SNAP from the leader is written as one.
 *
 * A Ready is made durable in an order that keeps ZooKeeper's sync-phase bugs out
 * (ZOOKEEPER-4643, -4646): snapshot, truncation, appended txns (fsynced), and only then the
 * epochs — so a peer never claims a new currentEpoch without the history it was synced.
 *
 * At start, `open` reads it back: the newest snapshot is the state machine (committed by
 * definition); the logged txns after it are the history, which Zab commits (or truncates)
 * once a leader says so — they are not applied at load, unlike a standalone server's.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { GroupCommitLog, syncDirectory } from "../../storage/group-commit.js";
import { writeSnapshotFile } from "../../storage/snapshot.js";
import { truncateTxnLogs } from "../../storage/truncate.js";
import { serializeTxn } from "../../storage/txn-codec.js";
import type { Entry } from "../../zab/log.js";
import type { Snapshot } from "../../zab/messages.js";
import type { DurableState } from "../../zab/peer.js";
import type { Ready } from "../../zab/ready.js";
import { epochOf } from "../../zab/zxid.js";
import type { DataTree } from "../data-tree.js";
import type { Logger } from "../logger.js";
import { type DataDirs, forEachLoggedTxn, loadNewestSnapshot } from "../recovery.js";
import type { PeerStorage } from "./peer-shell.js";

export const ACCEPTED_EPOCH_FILE = "acceptedEpoch";
export const CURRENT_EPOCH_FILE = "currentEpoch";

/** A SNAP's contents: a snapshot file's bytes (the leader's tree, in ZooKeeper's format). */
export interface SnapshotBytes {
  readonly bytes: Buffer;
}

export class DurablePeerStorage implements PeerStorage<Buffer> {
  private readonly dirs: DataDirs;
  private readonly txnLog: GroupCommitLog;
  private readonly onApply: (entries: readonly Entry<Buffer>[]) => void;
  private readonly log: Logger;
  /** Set by the wiring: a SNAP's tree replaces the server's, in Ready order. */
  onInstall: (snapshot: Snapshot) => void = () => {};

  private constructor(
    dirs: DataDirs,
    log: Logger,
    onApply: (entries: readonly Entry<Buffer>[]) => void,
    onFatal: (error: Error) => void,
  ) {
    this.dirs = dirs;
    this.log = log;
    this.onApply = onApply;
    this.txnLog = new GroupCommitLog(dirs.logDir, { onFatal });
  }

  /** Reads the durable state back (see the file's comment) and opens the log for appends. */
  static open(
    dirs: DataDirs,
    log: Logger,
    onApply: (entries: readonly Entry<Buffer>[]) => void,
    onFatal: (error: Error) => void,
  ): { storage: DurablePeerStorage; durable: DurableState<Buffer>; tree: DataTree } {
    const { tree } = loadNewestSnapshot(dirs.snapDir, log);
    const base = tree.lastProcessedZxid;
    const history: Entry<Buffer>[] = [];
    forEachLoggedTxn(dirs.logDir, base, log, "epochs", (entry) => {
      history.push({
        zxid: entry.header.zxid,
        payload: serializeTxn(entry.header, entry.txn, entry.digest),
      });
    });
    const last = history.at(-1)?.zxid ?? base;
    // ZooKeeper's default when the files are missing: the epoch of the last zxid it holds.
    const currentEpoch = readEpoch(join(dirs.snapDir, CURRENT_EPOCH_FILE)) ?? epochOf(last);
    const acceptedEpoch = readEpoch(join(dirs.snapDir, ACCEPTED_EPOCH_FILE)) ?? currentEpoch;
    const storage = new DurablePeerStorage(dirs, log, onApply, onFatal);
    return {
      storage,
      durable: { acceptedEpoch, currentEpoch, history, committed: base },
      tree,
    };
  }

  async persist(ready: Ready<Buffer>): Promise<void> {
    if (ready.snapshot !== undefined) await this.installSnapshot(ready.snapshot);
    if (ready.truncateTo !== undefined) await this.truncate(ready.truncateTo);
    if (ready.append.length > 0) await this.appendAll(ready.append);
    if (ready.acceptedEpoch !== undefined) {
      writeEpoch(this.dirs.snapDir, ACCEPTED_EPOCH_FILE, ready.acceptedEpoch);
    }
    if (ready.currentEpoch !== undefined) {
      writeEpoch(this.dirs.snapDir, CURRENT_EPOCH_FILE, ready.currentEpoch);
    }
  }

  apply(entries: readonly Entry<Buffer>[]): void {
    this.onApply(entries);
  }

  install(snapshot: Snapshot): void {
    this.onInstall(snapshot);
  }

  /** Appends go to a new log file from the next one on (a snapshot was just started). */
  roll(): void {
    this.txnLog.roll();
  }

  private appendAll(entries: readonly Entry<Buffer>[]): Promise<void> {
    return new Promise((resolve) => {
      const lastIndex = entries.length - 1;
      entries.forEach((entry, i) => {
        this.txnLog.appendBytes(entry.zxid, entry.payload, i === lastIndex ? resolve : () => {});
      });
    });
  }

  /** TRUNC: cut the log after `zxid`; appends go to a new file from here. */
  private async truncate(zxid: bigint): Promise<void> {
    await this.txnLog.idle();
    this.txnLog.roll();
    truncateTxnLogs(this.dirs.logDir, zxid);
    this.log.info({ zxid: `0x${zxid.toString(16)}` }, "txn log truncated for the leader");
  }

  /** SNAP: the leader's tree becomes our newest snapshot; our log no longer applies. */
  private async installSnapshot(snapshot: { zxid: bigint; data: unknown }): Promise<void> {
    const { bytes } = snapshot.data as SnapshotBytes;
    await writeSnapshotFile(this.dirs.snapDir, snapshot.zxid, [bytes]);
    await this.truncate(0n);
    this.log.info(
      { zxid: `0x${snapshot.zxid.toString(16)}` },
      "snapshot from the leader installed",
    );
  }

  close(): Promise<void> {
    return this.txnLog.close();
  }
}

function readEpoch(file: string): bigint | undefined {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
  if (!/^\s*\d+\s*$/.test(text)) throw new Error(`${file}: "${text.trim()}" is not an epoch`);
  return BigInt(text.trim());
}

/** QuorumPeer.writeLongToFile: write, fsync, rename over, fsync the directory. */
function writeEpoch(dir: string, name: string, epoch: bigint): void {
  const file = join(dir, name);
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, `${epoch}\n`);
  const fd = openSync(tmp, "r+");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  syncDirectory(dir);
}
