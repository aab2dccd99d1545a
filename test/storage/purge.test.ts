/**
 * Purging old snapshots and txn logs (src/storage/purge.ts, src/server/autopurge.ts), by
 * Apache ZooKeeper 3.8's PurgeTxnLog rules.
 *
 * Method: the planner's rules one case at a time; the shell on temp dirs (separate dataLogDir,
 * unrelated files, refusals); then a differential property: random layouts of fake snapshots
 * and logs built twice, one copy purged by ZooKeeper's own PurgeTxnLog (a JVM per run), the
 * other by us, and the files left must be the same.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import fc from "fast-check";
import { InvalidArgumentError } from "../../src/protocol/errors.js";
import { scheduleAutopurge } from "../../src/server/autopurge.js";
import { resolveOptions } from "../../src/server/config.js";
import type { Logger } from "../../src/server/logger.js";
import {
  isValidSnapshot,
  type LogFile,
  planPurge,
  purge,
  type SnapshotFile,
  zxidFromName,
} from "../../src/storage/purge.js";
import { apacheZooKeeperSkip } from "../harness/apache-zookeeper.js";
import { findInstallation } from "../harness/installation.js";

/** What SnapStream.sealStream leaves at the end of a whole snapshot. */
const SEAL = Buffer.from([0, 0, 0, 1, 0x2f]);
const VALID_SNAPSHOT = Buffer.concat([Buffer.from("ZKSN-fake-"), SEAL]);

const snap = (zxid: number, valid = true): SnapshotFile => ({
  name: `snapshot.${zxid.toString(16)}`,
  zxid: BigInt(zxid),
  valid,
});
const log = (zxid: number): LogFile => ({ name: `log.${zxid.toString(16)}`, zxid: BigInt(zxid) });
const sorted = (names: readonly string[]) => [...names].sort();

describe("planPurge", () => {
  test("keeps the N most recent snapshots and removes older ones", () => {
    const plan = planPurge([snap(1), snap(2), snap(3), snap(4), snap(5)], [], 3);
    assert.deepEqual(sorted(plan.remove), ["snapshot.1", "snapshot.2"]);
    assert.deepEqual(sorted(plan.keep), ["snapshot.3", "snapshot.4", "snapshot.5"]);
    assert.equal(plan.leastZxidToBeRetained, 3n);
  });

  test("fewer valid snapshots than N: all kept, but what is older than the oldest goes", () => {
    const plan = planPurge([snap(1, false), snap(4), snap(8)], [log(1), log(2), log(5)], 3);
    // The oldest kept is snapshot.4; log.2 holds the txns after it.
    assert.deepEqual(sorted(plan.remove), ["log.1", "snapshot.1"]);
    assert.equal(plan.leastZxidToBeRetained, 4n);
  });

  test("no valid snapshot: nothing is removed", () => {
    const plan = planPurge([snap(1, false), snap(2, false)], [log(1)], 3);
    assert.deepEqual(plan.remove, []);
    assert.equal(plan.leastZxidToBeRetained, undefined);
  });

  test("invalid snapshots are skipped when counting, and removed when older", () => {
    const snapshots = [snap(2), snap(4), snap(6, false), snap(8), snap(10, false), snap(12)];
    const plan = planPurge(snapshots, [], 3);
    assert.equal(plan.leastZxidToBeRetained, 4n);
    assert.deepEqual(plan.remove, ["snapshot.2"]);
  });

  test("the log straddling the oldest kept snapshot is kept, older logs are not", () => {
    const plan = planPurge([snap(7), snap(9), snap(12)], [log(1), log(3), log(5), log(10)], 3);
    assert.deepEqual(sorted(plan.remove), ["log.1", "log.3"]);
    assert.ok(plan.keep.includes("log.5"));
  });

  test("a log starting exactly at the oldest kept snapshot is the one kept", () => {
    const plan = planPurge([snap(7), snap(9), snap(12)], [log(1), log(5), log(7)], 3);
    assert.deepEqual(sorted(plan.remove), ["log.1", "log.5"]);
  });

  test("names whose zxid does not parse read as -1 and go with the old files", () => {
    const junkLog = { name: "log.foo", zxid: -1n };
    const junkSnapshot = { name: "snapshot.xyz", zxid: -1n, valid: false };
    const plan = planPurge([snap(3), snap(4), snap(5), junkSnapshot], [junkLog, log(3)], 3);
    assert.deepEqual(sorted(plan.remove), ["log.foo", "snapshot.xyz"]);
  });

  test("a count below 3 is refused, as PurgeTxnLog refuses it", () => {
    assert.throws(() => planPurge([], [], 2), InvalidArgumentError);
    assert.throws(() => planPurge([], [], 3.5), InvalidArgumentError);
  });
});

describe("names and validity", () => {
  test("zxidFromName reads Util.getZxidFromName's way", () => {
    assert.equal(zxidFromName("snapshot.1f", "snapshot"), 0x1fn);
    assert.equal(zxidFromName("snapshot.1F.tmp", "snapshot"), 0x1fn);
    assert.equal(zxidFromName("snapshot.100000002.gz", "snapshot"), 0x100000002n);
    assert.equal(zxidFromName("log.-5", "log"), -5n);
    assert.equal(zxidFromName("log.foo", "log"), -1n);
    assert.equal(zxidFromName("log.", "log"), -1n);
    assert.equal(zxidFromName("snapshot", "snapshot"), -1n);
    assert.equal(zxidFromName("log.5", "snapshot"), -1n);
    assert.equal(zxidFromName("log.10000000000000000", "log"), -1n, "beyond a Java long");
  });

  test("isValidSnapshot checks the seal, or a compressed stream's magic", () => {
    const dir = tempDir();
    const write = (name: string, bytes: Buffer) => writeFileSync(join(dir, name), bytes);
    write("snapshot.1", VALID_SNAPSHOT);
    write("snapshot.2", SEAL); // the seal alone: under 10 bytes
    write(
      "snapshot.3",
      Buffer.concat([Buffer.from("ZKSN-fake-"), Buffer.from([0, 0, 0, 2, 0x2f])]),
    );
    write("snapshot.4.gz", Buffer.from([0x1f, 0x8b, 8, 0]));
    write("snapshot.5.gz", VALID_SNAPSHOT);
    write("snapshot.6.snappy", Buffer.from([0x82, ...Buffer.from("SNAPPY"), 0, 1, 2]));
    const valid = readdirSync(dir).filter((name) => isValidSnapshot(dir, name));
    assert.deepEqual(valid.sort(), ["snapshot.1", "snapshot.4.gz", "snapshot.6.snappy"]);
    assert.equal(isValidSnapshot(dir, "snapshot.7"), false, "missing file");
  });
});

describe("purge on disk", () => {
  test("a separate dataLogDir: logs purged there, snapshots in dataDir", () => {
    const dataDir = layout({ "snapshot.1": "valid", "snapshot.5": "valid" });
    for (const zxid of ["9", "d", "11"])
      writeFileSync(version2(dataDir, `snapshot.${zxid}`), VALID_SNAPSHOT);
    const dataLogDir = layout({ "log.1": "x", "log.4": "x", "log.6": "x", "log.10": "x" });
    const { removed, failed } = purge({ dataDir, dataLogDir, retainCount: 3 });
    assert.deepEqual(failed, []);
    assert.deepEqual(removed, [
      version2(dataLogDir, "log.1"),
      version2(dataLogDir, "log.4"),
      version2(dataDir, "snapshot.1"),
      version2(dataDir, "snapshot.5"),
    ]);
    assert.deepEqual(ls(dataLogDir), ["log.10", "log.6"]);
  });

  test("unrelated files are never touched", () => {
    const others = ["acceptedEpoch", "currentEpoch", "other.txt", "logfile", "snapshots"];
    const dataDir = layout(Object.fromEntries(others.map((name) => [name, "x"])));
    for (const zxid of [1, 2, 3, 4])
      writeFileSync(version2(dataDir, `snapshot.${zxid}`), VALID_SNAPSHOT);
    mkdirSync(version2(dataDir, "snapshot.0"));
    purge({ dataDir, retainCount: 3 });
    assert.deepEqual(
      ls(dataDir),
      [...others, "snapshot.0", "snapshot.2", "snapshot.3", "snapshot.4"].sort(),
    );
  });

  test("a missing directory is named; a missing version-2 is empty", () => {
    const missing = join(tempDir(), "nope");
    assert.throws(() => purge({ dataDir: missing, retainCount: 3 }), new RegExp(missing));
    assert.deepEqual(purge({ dataDir: tempDir(), retainCount: 3 }).removed, []);
  });

  test("a mixed-up layout is refused, as FileTxnSnapLog refuses it", () => {
    const dataDir = layout({ "log.1": "x" });
    const dataLogDir = layout({ "log.2": "x" });
    assert.throws(() => purge({ dataDir, dataLogDir, retainCount: 3 }), /has log files/);
  });
});

describe("scheduleAutopurge", () => {
  test("purges at once when on, and logs what it removed", async () => {
    const dataDir = layout({});
    for (const zxid of [1, 2, 3, 4])
      writeFileSync(version2(dataDir, `snapshot.${zxid}`), VALID_SNAPSHOT);
    const lines: { level: string; fields: object; message: string }[] = [];
    const stop = scheduleAutopurge(
      resolveOptions({ dataDir, autopurgePurgeIntervalHours: 1 }),
      recordingLogger(lines),
    );
    await sleep(50);
    stop();
    assert.deepEqual(ls(dataDir), ["snapshot.2", "snapshot.3", "snapshot.4"]);
    assert.equal(lines.length, 1);
    assert.equal(lines[0]!.level, "info");
    assert.match(lines[0]!.message, /^purged /);
    assert.deepEqual(lines[0]!.fields, { removed: [version2(dataDir, "snapshot.1")] });
  });

  test("off: schedules nothing and logs nothing", async () => {
    const dataDir = layout({});
    for (const zxid of [1, 2, 3, 4])
      writeFileSync(version2(dataDir, `snapshot.${zxid}`), VALID_SNAPSHOT);
    const lines: { level: string; fields: object; message: string }[] = [];
    scheduleAutopurge(resolveOptions({ dataDir }), recordingLogger(lines))();
    scheduleAutopurge(resolveOptions({ autopurgePurgeIntervalHours: 1 }), recordingLogger(lines))();
    await sleep(20);
    assert.equal(ls(dataDir).length, 4);
    assert.deepEqual(lines, []);
  });

  test("a failed purge is a warning, not a crash", async () => {
    const lines: { level: string; fields: object; message: string }[] = [];
    const dataDir = join(tempDir(), "gone");
    const stop = scheduleAutopurge(
      resolveOptions({ dataDir, autopurgePurgeIntervalHours: 1 }),
      recordingLogger(lines),
    );
    await sleep(50);
    stop();
    assert.equal(lines.length, 1);
    assert.equal(lines[0]!.level, "warn");
  });
});

// ---------------------------------------------------------------------------------------------
// Differential: the same layouts, purged by Apache ZooKeeper's PurgeTxnLog and by us
// ---------------------------------------------------------------------------------------------

type SnapshotKind = "valid" | "short" | "badTail" | "validTmp" | "gzip" | "badGzip";

interface Layout {
  readonly separateLogDir: boolean;
  readonly retainCount: number;
  readonly snapshots: readonly { zxid: bigint; kind: SnapshotKind }[];
  readonly logs: readonly bigint[];
  readonly junk: readonly string[];
}

/** zxids as ZooKeeper makes them: epoch in the high 32 bits, a counter in the low. */
const zxid = fc
  .tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 40 }))
  .map(([epoch, counter]) => (BigInt(epoch) << 32n) + BigInt(counter));

const layoutArbitrary: fc.Arbitrary<Layout> = fc.record({
  separateLogDir: fc.boolean(),
  retainCount: fc.integer({ min: 3, max: 5 }),
  // Unique zxids: ZooKeeper sorts ties in directory order, which no one can reproduce.
  snapshots: fc.uniqueArray(
    fc.record({
      zxid,
      kind: fc.constantFrom<SnapshotKind>(
        "valid",
        "valid",
        "valid",
        "short",
        "badTail",
        "validTmp",
        "gzip",
        "badGzip",
      ),
    }),
    { maxLength: 10, selector: (snapshot) => snapshot.zxid },
  ),
  logs: fc.uniqueArray(zxid, { maxLength: 10 }),
  junk: fc.subarray(["log.foo", "snapshot.xyz", "other.txt", "acceptedEpoch"]),
});

const SNAPSHOT_BYTES: Record<SnapshotKind, Buffer> = {
  valid: VALID_SNAPSHOT,
  short: SEAL,
  badTail: Buffer.from("ZKSN-fake-torn-tail"),
  validTmp: VALID_SNAPSHOT,
  gzip: Buffer.from([0x1f, 0x8b, 8, 0, 0]),
  badGzip: VALID_SNAPSHOT,
};

function snapshotName({ zxid, kind }: Layout["snapshots"][number]): string {
  const hex = `snapshot.${zxid.toString(16)}`;
  if (kind === "validTmp") return `${hex}.tmp`;
  return kind === "gzip" || kind === "badGzip" ? `${hex}.gz` : hex;
}

/** Writes `layout` under a fresh root: `<root>/snap` and, when separate, `<root>/log`. */
function build(layout: Layout): { snapDir: string; logDir: string } {
  const root = tempDir();
  const snapDir = join(root, "snap");
  const logDir = layout.separateLogDir ? join(root, "log") : snapDir;
  mkdirSync(join(snapDir, "version-2"), { recursive: true });
  mkdirSync(join(logDir, "version-2"), { recursive: true });
  for (const snapshot of layout.snapshots) {
    writeFileSync(version2(snapDir, snapshotName(snapshot)), SNAPSHOT_BYTES[snapshot.kind]);
  }
  for (const zxid of layout.logs) writeFileSync(version2(logDir, `log.${zxid.toString(16)}`), "x");
  for (const name of layout.junk) {
    // FileTxnSnapLog refuses snapshot names in a separate log dir, and log names in a snap dir.
    writeFileSync(version2(name.startsWith("log.") ? logDir : snapDir, name), "junk");
  }
  return { snapDir, logDir };
}

function remaining({ snapDir, logDir }: { snapDir: string; logDir: string }): string[] {
  const inDir = (dir: string, label: string) => ls(dir).map((name) => `${label}/${name}`);
  return snapDir === logDir
    ? inDir(snapDir, "snap")
    : [...inDir(snapDir, "snap"), ...inDir(logDir, "log")];
}

describe("differential against Apache ZooKeeper's PurgeTxnLog", {
  skip: apacheZooKeeperSkip(),
}, () => {
  test("the same files remain for random layouts", () => {
    const found = findInstallation();
    assert.ok("installation" in found);
    const { java, classpath } = found.installation;
    fc.assert(
      fc.property(layoutArbitrary, (layout) => {
        const theirs = build(layout);
        const ours = build(layout);
        const run = spawnSync(
          java,
          [
            "-cp",
            classpath.join(":"),
            "org.apache.zookeeper.server.PurgeTxnLog",
            theirs.logDir,
            theirs.snapDir,
            "-n",
            String(layout.retainCount),
          ],
          { encoding: "utf8", timeout: 30_000 },
        );
        assert.equal(run.status, 0, run.stderr);
        purge({ dataDir: ours.snapDir, dataLogDir: ours.logDir, retainCount: layout.retainCount });
        assert.deepEqual(remaining(ours), remaining(theirs));
      }),
      { numRuns: 40 },
    );
  });
});

// ---------------------------------------------------------------------------------------------

const tempRoots: string[] = [];
after(() => {
  for (const root of tempRoots) rmSync(root, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "zkts-purge-"));
  tempRoots.push(dir);
  return dir;
}

function version2(dir: string, name: string): string {
  return join(dir, "version-2", name);
}

/** A fresh dir with `version-2/` holding `files` ("valid" writes a whole fake snapshot). */
function layout(files: Record<string, string>): string {
  const dir = tempDir();
  mkdirSync(join(dir, "version-2"));
  for (const [name, content] of Object.entries(files)) {
    writeFileSync(version2(dir, name), content === "valid" ? VALID_SNAPSHOT : content);
  }
  return dir;
}

function ls(dir: string): string[] {
  return readdirSync(join(dir, "version-2")).sort();
}

function recordingLogger(lines: { level: string; fields: object; message: string }[]): Logger {
  const at = (level: string) => (fields: object, message: string) =>
    void lines.push({ level, fields, message });
  return { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}
