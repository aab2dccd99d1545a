/**
 * Loading the tree from a data dir at startup (ZooKeeper's FileTxnSnapLog.restore): the newest
 * snapshot that reads back whole, then every logged txn after it.
 *
 * - A snapshot that does not read back (torn by a crash while it was written, or corrupt) is
 *   skipped with a warning, and the one before it is used, as ZooKeeper does.
 * - A torn record at the very end of the last log (a crash mid-append: never acknowledged) is
 *   cut off with a warning. A bad record anywhere else means acknowledged txns are damaged:
 *   recovery refuses, naming the file and offset (TxnLogCorruptError).
 * - The txns after the snapshot must follow it without a gap; a gap (a purged or lost log)
 *   refuses too, rather than serving a tree that silently misses writes.
 */
import { mkdirSync, readdirSync, readFileSync, statSync, truncateSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import {
  DIGEST_VERSION,
  isValidSnapshotFile,
  listSnapshots,
  type SnapshotContents,
  SnapshotCorruptError,
  streamSnapshotFile,
} from "../storage/snapshot.js";
import {
  FILE_HEADER_BYTES,
  type LogEntry,
  listLogs,
  TxnLogCorruptError,
  TxnLogReader,
} from "../storage/txn-log.js";
import { counterOf, epochOf } from "../zab/zxid.js";
import { DataTree } from "./data-tree.js";
import type { Logger } from "./logger.js";
import { hex } from "./replies.js";

/** ZooKeeper's layout: both dirs hold their files under `version-2/`. */
export const VERSION_DIR = "version-2";

export interface DataDirs {
  /** dataDir/version-2: snapshots. */
  readonly snapDir: string;
  /** (dataLogDir or dataDir)/version-2: txn logs. */
  readonly logDir: string;
}

export function dataDirs(dataDir: string, dataLogDir?: string): DataDirs {
  const snapDir = join(dataDir, VERSION_DIR);
  const logDir = join(dataLogDir ?? dataDir, VERSION_DIR);
  mkdirSync(snapDir, { recursive: true });
  mkdirSync(logDir, { recursive: true });
  return { snapDir, logDir };
}

/** Recovery cannot go on: the message names the file (and offset) at fault. */
export class RecoveryError extends Error {
  override readonly name = "RecoveryError";
}

export interface Recovered {
  readonly tree: DataTree;
  /** The snapshot used, if any. */
  readonly snapshot?: string;
  /** Txns replayed from the logs. */
  readonly replayed: number;
  readonly ms: number;
}

/** Loads the newest usable snapshot and replays the logs after it. */
export function recover(dirs: DataDirs, log: Logger): Recovered {
  const started = performance.now();
  removeUnfinishedSnapshots(dirs.snapDir, log);
  const snapshot = loadSnapshot(dirs.snapDir, log);
  const tree = snapshot?.tree ?? new DataTree();
  const check = digestCheck(snapshot, tree, log);
  const replayed = replayLogs(dirs.logDir, tree, log, check);
  const ms = performance.now() - started;
  return { tree, ...(snapshot && { snapshot: snapshot.file }), replayed, ms };
}

/** A crash while a snapshot was written leaves its `.tmp`; it was never renamed, never used. */
function removeUnfinishedSnapshots(snapDir: string, log: Logger): void {
  for (const name of readdirSync(snapDir)) {
    if (!/^snapshot\.[0-9a-fA-F]+\.tmp$/.test(name)) continue;
    log.info({ file: join(snapDir, name) }, "removing an unfinished snapshot");
    unlinkSync(join(snapDir, name));
  }
}

/**
 * The newest readable snapshot as a tree (an empty tree if there is none), with the same
 * fallback and refusal rules as `recover`; the logs are not read.
 */
export function loadNewestSnapshot(snapDir: string, log: Logger): { tree: DataTree } {
  removeUnfinishedSnapshots(snapDir, log);
  return { tree: loadSnapshot(snapDir, log)?.tree ?? new DataTree() };
}

/** The snapshot's contents but its nodes, which went straight into `tree`. */
type LoadedSnapshot = Omit<SnapshotContents, "nodes"> & { file: string; tree: DataTree };

function loadSnapshot(snapDir: string, log: Logger): LoadedSnapshot | undefined {
  const snapshots = listSnapshots(snapDir);
  for (const { file } of snapshots) {
    if (!isValidSnapshotFile(file)) {
      log.warn({ file }, "skipping an incomplete snapshot (no end seal); trying an older one");
      continue;
    }
    try {
      const loader = DataTree.loader();
      const contents = streamSnapshotFile(file, loader.add);
      return { ...contents, file, tree: loader.finish(contents.zxid, contents.sessions) };
    } catch (error) {
      if (!(error instanceof SnapshotCorruptError)) throw error;
      log.warn(
        { file, reason: error.message },
        "skipping an unreadable snapshot; trying an older one",
      );
    }
  }
  if (snapshots.length > 0) {
    throw new RecoveryError(`no readable snapshot in ${snapDir} (${snapshots.length} tried)`);
  }
  return undefined;
}

/**
 * The logs that can hold txns after `zxid` (Util.getLogFiles): the newest one starting at or
 * before it, and every later one.
 */
function logsAfter(logDir: string, zxid: bigint): { file: string; zxid: bigint }[] {
  const logs = listLogs(logDir);
  let first = 0;
  for (let i = 0; i < logs.length; i++) if ((logs[i]?.zxid ?? 0n) <= zxid) first = i;
  return logs.slice(first);
}

/**
 * The digest a snapshot carries is the tree's at its zxid (for ZooKeeper's fuzzy snapshots, a
 * zxid the replay reaches later): once the tree is there, the two must agree, or the snapshot
 * and the log do not describe the same tree. ZooKeeper logs a mismatch and goes on; so do we.
 * Returns the check to run after each replayed txn (and runs it now if it is due already).
 */
function digestCheck(
  snapshot: LoadedSnapshot | undefined,
  tree: DataTree,
  log: Logger,
): (zxid: bigint) => void {
  const expected = snapshot?.digest;
  if (expected === undefined || expected.zxid <= 0n || expected.version !== DIGEST_VERSION) {
    return () => {};
  }
  let done = false;
  const check = (zxid: bigint) => {
    if (done || zxid !== expected.zxid) return;
    done = true;
    if (tree.digest !== expected.digest) {
      log.warn(
        { zxid: hex(zxid), expected: expected.digest.toString(), actual: tree.digest.toString() },
        "digest mismatch: the tree loaded is not the tree the snapshot was taken of",
      );
    }
  };
  check(tree.lastProcessedZxid);
  return check;
}

function replayLogs(
  logDir: string,
  tree: DataTree,
  log: Logger,
  afterTxn: (zxid: bigint) => void,
): number {
  const base = tree.lastProcessedZxid;
  tree.replaying = true;
  let replayed: number;
  try {
    replayed = forEachLoggedTxn(logDir, base, log, "contiguous", (entry) => {
      tree.apply(entry.header, entry.txn);
      afterTxn(entry.header.zxid);
    });
  } finally {
    tree.replaying = false;
  }
  if (replayed > 0) {
    log.info(
      { snapshotZxid: hex(base), lastZxid: hex(tree.lastProcessedZxid), replayed },
      "replayed the txn log",
    );
  }
  return replayed;
}

/**
 * Every logged txn after `base`, in order, with the torn-tail and corruption rules above.
 * "contiguous": a standalone server's zxids follow each other with no gap. "epochs": a quorum
 * peer's history, where a txn follows the one before it or starts a later epoch (counter 1).
 */
export function forEachLoggedTxn(
  logDir: string,
  base: bigint,
  log: Logger,
  rule: "contiguous" | "epochs",
  visit: (entry: LogEntry) => void,
): number {
  const logs = logsAfter(logDir, base);
  let count = 0;
  let previous = base;
  for (let i = 0; i < logs.length; i++) {
    const { file } = logs[i] as { file: string };
    const last = i === logs.length - 1;
    // Records the snapshot covers are checked but not decoded.
    const reader = openLog(file, last, log, previous);
    if (reader === undefined) continue;
    for (let entry = nextEntry(reader); entry !== undefined; entry = nextEntry(reader)) {
      const zxid = entry.header.zxid;
      if (zxid <= previous) continue; // already in the snapshot (a record too short to skip)
      if (!follows(previous, zxid, rule, base)) {
        throw new RecoveryError(
          `${file}: txn 0x${zxid.toString(16)} at offset ${entry.offset} follows ` +
            `0x${previous.toString(16)}: the txns in between are missing`,
        );
      }
      visit(entry);
      previous = zxid;
      count++;
    }
    endLog(reader, last, log);
  }
  return count;
}

function follows(previous: bigint, zxid: bigint, rule: "contiguous" | "epochs", base: bigint) {
  if (zxid === previous + 1n) return true;
  if (rule === "contiguous") return false;
  // A quorum history jumps to counter 1 of a later epoch; after a snapshot anything later goes.
  return previous === base || (counterOf(zxid) === 1n && epochOf(zxid) > epochOf(previous));
}

/** One log to read, skipping the records through `skipThrough`; undefined for an empty last file. */
function openLog(
  file: string,
  last: boolean,
  log: Logger,
  skipThrough: bigint,
): TxnLogReader | undefined {
  if (last && statSync(file).size < FILE_HEADER_BYTES) {
    // Created, then the crash came before its header reached the disk: nothing was in it.
    log.warn({ file }, "removing a txn log with no complete header (a crash as it was created)");
    unlinkSync(file);
    return undefined;
  }
  try {
    return new TxnLogReader(file, readFileSync(file), skipThrough);
  } catch (error) {
    if (error instanceof TxnLogCorruptError) throw new RecoveryError(error.message);
    throw error;
  }
}

function nextEntry(reader: TxnLogReader): LogEntry | undefined {
  try {
    return reader.next();
  } catch (error) {
    if (error instanceof TxnLogCorruptError) throw new RecoveryError(error.message);
    throw error;
  }
}

/**
 * After the last entry: a torn tail is cut off if this is the last log, else refused. A last
 * log left with no whole record (a crash between creating it and its first append reaching the
 * disk) is removed: it is named after the zxid the next write takes, and the new log needs
 * that name.
 */
function endLog(reader: TxnLogReader, last: boolean, log: Logger): void {
  const { file, torn } = reader;
  if (torn !== undefined) {
    const { offset, reason } = torn;
    if (!last) {
      throw new RecoveryError(
        `${file}: corrupt transaction log at offset ${offset}: ${reason} (and later logs follow)`,
      );
    }
    log.warn({ file, offset, reason }, "truncating a torn record at the end of the txn log");
    truncateSync(file, offset);
  }
  if (last && reader.end <= FILE_HEADER_BYTES) {
    log.warn({ file }, "removing a txn log with no whole record (a crash before its first append)");
    unlinkSync(file);
  }
}
