/**
 * Purging old snapshots and txn logs, by Apache ZooKeeper 3.8's rules (PurgeTxnLog,
 * FileTxnSnapLog, FileSnap.findNValidSnapshots, FileTxnLog.getLogFiles, Util, SnapStream):
 *
 * - Keep the `retainCount` (>= 3) most recent *valid* snapshots. The oldest of them gives
 *   `leastZxidToBeRetained`; with no valid snapshot at all, nothing is removed.
 * - Remove every `snapshot.*` whose name's zxid is below it.
 * - Remove every `log.*` whose zxid is below it, except the newest log starting at or before it:
 *   that log may hold the txns that follow the snapshot, without which it cannot be recovered.
 *
 * Names count by prefix, as ZooKeeper's filters do: `snapshot.<hex>.tmp` and `snapshot.<hex>.gz`
 * are snapshots of zxid <hex>, and a `log.` or `snapshot.` name whose zxid does not parse reads
 * as zxid -1, so it goes with the old files. Other names are never touched.
 *
 * planPurge() is the pure decision; purge() lists the `version-2/` directories and deletes.
 */
import { closeSync, openSync, readdirSync, readSync, statSync, unlinkSync } from "node:fs";
import { join, resolve } from "node:path";
import { InvalidArgumentError } from "../protocol/errors.js";

/** FileTxnSnapLog.version + VERSION: where both snapshots and logs live under their dirs. */
export const VERSION_DIR = "version-2";
export const SNAPSHOT_PREFIX = "snapshot";
export const LOG_PREFIX = "log";
/** PurgeTxnLog refuses fewer ("count should be greater than or equal to 3"). */
export const MIN_RETAIN_COUNT = 3;

/** A `snapshot.*` file: its zxid (-1n when the name does not parse) and whether it looks whole. */
export interface SnapshotFile {
  readonly name: string;
  readonly zxid: bigint;
  readonly valid: boolean;
}

/** A `log.*` file: its starting zxid (-1n when the name does not parse). */
export interface LogFile {
  readonly name: string;
  readonly zxid: bigint;
}

export interface PurgePlan {
  /** Names to keep and to remove; snapshot and log names never collide (their prefixes differ). */
  readonly keep: string[];
  readonly remove: string[];
  /** The zxid of the oldest snapshot kept; undefined when there is no valid snapshot. */
  readonly leastZxidToBeRetained: bigint | undefined;
}

const JAVA_LONG_MIN = -(2n ** 63n);
const JAVA_LONG_MAX = 2n ** 63n - 1n;

/**
 * Util.getZxidFromName: the part after the first dot, read as Long.parseLong(part, 16) reads it
 * (an optional sign, hex digits, within a Java long), when the part before it is `prefix`;
 * otherwise -1n.
 */
export function zxidFromName(name: string, prefix: string): bigint {
  const parts = name.split(".");
  if (parts.length < 2 || parts[0] !== prefix) return -1n;
  const match = /^([+-]?)([0-9a-fA-F]+)$/.exec(parts[1]!);
  if (match === null) return -1n;
  const magnitude = BigInt(`0x${match[2]}`);
  const zxid = match[1] === "-" ? -magnitude : magnitude;
  return zxid < JAVA_LONG_MIN || zxid > JAVA_LONG_MAX ? -1n : zxid;
}

/** PurgeTxnLog's filters match `prefix.` at the start of the name. */
export function hasPrefix(name: string, prefix: string): boolean {
  return name.startsWith(`${prefix}.`);
}

/**
 * Decides which snapshots and logs a purge keeps. Pure: the caller lists the directories and
 * says which snapshots are valid (isValidSnapshot). Throws InvalidArgumentError for a
 * retainCount below 3, as PurgeTxnLog.purge does.
 */
export function planPurge(
  snapshots: readonly SnapshotFile[],
  logs: readonly LogFile[],
  retainCount: number,
): PurgePlan {
  if (!Number.isInteger(retainCount) || retainCount < MIN_RETAIN_COUNT) {
    throw new InvalidArgumentError(
      `count should be greater than or equal to ${MIN_RETAIN_COUNT}, got ${retainCount}`,
    );
  }
  const recent = snapshots
    .filter((snapshot) => snapshot.zxid !== -1n && snapshot.valid)
    .sort((a, b) => compareZxid(b.zxid, a.zxid))
    .slice(0, retainCount);
  const least = recent.at(-1)?.zxid;
  const names = [...snapshots, ...logs].map((file) => file.name);
  if (least === undefined) return { keep: names, remove: [], leastZxidToBeRetained: undefined };
  const logZxid = newestLogAtOrBefore(logs, least);
  const remove = new Set([
    ...logs.filter((log) => log.zxid < logZxid && log.zxid < least).map((log) => log.name),
    ...snapshots.filter((snapshot) => snapshot.zxid < least).map((snapshot) => snapshot.name),
  ]);
  return {
    keep: names.filter((name) => !remove.has(name)),
    remove: [...remove],
    leastZxidToBeRetained: least,
  };
}

/**
 * FileTxnLog.getLogFiles: the starting zxid of the newest log that starts at or before
 * `snapshotZxid` (0 when none does); that log and every later one are kept.
 */
function newestLogAtOrBefore(logs: readonly LogFile[], snapshotZxid: bigint): bigint {
  let logZxid = 0n;
  for (const log of logs) {
    if (log.zxid <= snapshotZxid && log.zxid > logZxid) logZxid = log.zxid;
  }
  return logZxid;
}

function compareZxid(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------
// The shell: list version-2/, check validity, delete
// ---------------------------------------------------------------------------------------------

export interface PurgeOptions {
  /** ZooKeeper's dataDir: snapshots are in `<dataDir>/version-2/`. */
  readonly dataDir: string;
  /** ZooKeeper's dataLogDir: txn logs are in `<dataLogDir>/version-2/`. Defaults to dataDir. */
  readonly dataLogDir?: string;
  /** How many valid snapshots to keep; at least 3. */
  readonly retainCount: number;
}

export interface PurgeResult {
  /** Paths removed: logs first, then snapshots, each in zxid order. */
  readonly removed: string[];
  /** Paths that could not be removed and why; PurgeTxnLog reports them and carries on. */
  readonly failed: { readonly path: string; readonly reason: string }[];
}

/**
 * Purges `<dataLogDir>/version-2` and `<dataDir>/version-2` as PurgeTxnLog.purge does.
 * Throws InvalidArgumentError for a retainCount below 3, and an Error naming the directory when
 * dataDir or dataLogDir does not exist, or when, being different, the log dir holds snapshots
 * or the snapshot dir holds logs (ZooKeeper refuses such a layout: ZOOKEEPER-2967). A missing
 * `version-2/` is empty: nothing has been written there yet. Files created while it runs are
 * never removed: only what was listed first can be.
 */
export function purge(options: PurgeOptions): PurgeResult {
  const snapDir = versionDir(options.dataDir);
  const logDir = versionDir(options.dataLogDir ?? options.dataDir);
  const snapNames = listFiles(snapDir);
  const logNames = snapDir === logDir ? snapNames : listFiles(logDir);
  if (snapDir !== logDir) checkSeparateDirs(snapDir, snapNames, logDir, logNames);
  const snapshots = snapNames
    .filter((name) => hasPrefix(name, SNAPSHOT_PREFIX))
    .map((name) => snapshotFile(snapDir, name));
  const logs = logNames
    .filter((name) => hasPrefix(name, LOG_PREFIX))
    .map((name) => ({ name, zxid: zxidFromName(name, LOG_PREFIX) }));
  const plan = planPurge(snapshots, logs, options.retainCount);
  const removing = new Set(plan.remove);
  const byZxid = (a: LogFile, b: LogFile) => compareZxid(a.zxid, b.zxid);
  const paths = [
    ...logs
      .filter((log) => removing.has(log.name))
      .sort(byZxid)
      .map((log) => join(logDir, log.name)),
    ...snapshots
      .filter((snapshot) => removing.has(snapshot.name))
      .sort(byZxid)
      .map((snapshot) => join(snapDir, snapshot.name)),
  ];
  const result: PurgeResult = { removed: [], failed: [] };
  for (const path of paths) {
    try {
      unlinkSync(path);
      result.removed.push(path);
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      result.failed.push({ path, reason });
    }
  }
  return result;
}

/** `<dir>/version-2`, once `dir` is known to be a directory. */
function versionDir(dir: string): string {
  let isDirectory: boolean;
  try {
    isDirectory = statSync(dir).isDirectory();
  } catch {
    throw new Error(`path '${resolve(dir)}' does not exist`);
  }
  if (!isDirectory) throw new Error(`path '${resolve(dir)}' is not a directory`);
  return resolve(dir, VERSION_DIR);
}

/** Regular files only: a directory named like a snapshot is neither valid nor removable. */
function listFiles(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => entry.name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
}

/** FileTxnSnapLog's checkLogDir/checkSnapDir: a mixed-up layout is refused, not purged. */
function checkSeparateDirs(
  snapDir: string,
  snapNames: readonly string[],
  logDir: string,
  logNames: readonly string[],
): void {
  if (logNames.some((name) => hasPrefix(name, SNAPSHOT_PREFIX))) {
    throw new Error(`log directory ${logDir} has snapshot files: check dataLogDir and dataDir`);
  }
  if (snapNames.some((name) => hasPrefix(name, LOG_PREFIX))) {
    throw new Error(`snapshot directory ${snapDir} has log files: check dataLogDir and dataDir`);
  }
}

function snapshotFile(dir: string, name: string): SnapshotFile {
  const zxid = zxidFromName(name, SNAPSHOT_PREFIX);
  return { name, zxid, valid: zxid !== -1n && isValidSnapshot(dir, name) };
}

/** SnappyCodec's magic header: what a `.snappy` snapshot starts with. */
const SNAPPY_MAGIC = Buffer.from([0x82, ...Buffer.from("SNAPPY"), 0x00]);
const GZIP_MAGIC = Buffer.from([0x1f, 0x8b]);
/** What SnapStream.sealStream ends a snapshot with: a jute int 1 (a length) and "/". */
const SEAL_TAIL = Buffer.from([0, 0, 0, 1, 0x2f]);
const MIN_CHECKED_SNAPSHOT_BYTES = 10;

/**
 * SnapStream.isValidSnapshot: a cheap "probably whole" check, by the stream mode the name's
 * last extension picks. A `.gz` or `.snappy` snapshot need only start with its magic; any other
 * must be at least 10 bytes and end with the seal's tail. An unreadable file is not valid.
 */
export function isValidSnapshot(dir: string, name: string): boolean {
  // Java's split drops trailing empty parts, so "snapshot.5.gz." is a gzip snapshot too.
  const extension = name.replace(/\.+$/, "").split(".").at(-1)!.toLowerCase();
  const path = join(dir, name);
  try {
    if (extension === "gz") return startsWith(path, GZIP_MAGIC);
    if (extension === "snappy") return startsWith(path, SNAPPY_MAGIC);
    const size = statSync(path).size;
    if (size < MIN_CHECKED_SNAPSHOT_BYTES) return false;
    return readAt(path, size - SEAL_TAIL.length, SEAL_TAIL.length).equals(SEAL_TAIL);
  } catch {
    return false;
  }
}

function startsWith(path: string, magic: Buffer): boolean {
  return readAt(path, 0, magic.length).equals(magic);
}

/** Up to `length` bytes at `position`; fewer at the end of the file. */
function readAt(path: string, position: number, length: number): Buffer {
  const fd = openSync(path, "r");
  try {
    const buffer = Buffer.alloc(length);
    const read = readSync(fd, buffer, 0, length, position);
    return buffer.subarray(0, read);
  } finally {
    closeSync(fd);
  }
}
