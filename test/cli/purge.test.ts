/**
 * `zkts purge`: ZooKeeper's PurgeTxnLog / zkCleanup.sh on the command line. A purge prints one
 * line per removed file and a summary, and exits 0; bad arguments and a count below 3 print one
 * line and exit 2; a missing directory prints one line and exits 1, as PurgeTxnLog does.
 *
 * Method: the command runs as a child process, as a user runs it, on temp dirs of fake
 * snapshots (the seal's tail is all a snapshot needs to count as valid) and logs.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";

const MAIN = "src/cli/main.ts";
const VALID_SNAPSHOT = Buffer.from([...Buffer.from("ZKSN-fake-"), 0, 0, 0, 1, 0x2f]);

function zkts(...args: string[]) {
  const result = spawnSync(process.execPath, ["--import", "tsx", MAIN, ...args], {
    encoding: "utf8",
    timeout: 30_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Asserts `status` with exactly one line on stderr, nothing on stdout, no stack trace. */
function refusedWithOneLine(result: ReturnType<typeof zkts>, status: number, pattern: RegExp) {
  assert.equal(result.status, status, `exit ${result.status}; stderr: ${result.stderr}`);
  assert.equal(result.stdout, "");
  const lines = result.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, `more than one line:\n${result.stderr}`);
  assert.match(lines[0]!, pattern);
}

const roots: string[] = [];
after(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

/** A dir whose version-2/ holds valid snapshots at `snapshots` and logs at `logs` (hex). */
function dataDir(snapshots: readonly string[], logs: readonly string[]): string {
  const dir = mkdtempSync(join(tmpdir(), "zkts-purge-cli-"));
  roots.push(dir);
  mkdirSync(join(dir, "version-2"));
  for (const zxid of snapshots)
    writeFileSync(join(dir, "version-2", `snapshot.${zxid}`), VALID_SNAPSHOT);
  for (const zxid of logs) writeFileSync(join(dir, "version-2", `log.${zxid}`), "x");
  return dir;
}

const ls = (dir: string) => readdirSync(join(dir, "version-2")).sort();

describe("zkts purge", () => {
  it("removes old snapshots and logs, one line each, then a summary", () => {
    const dir = dataDir(["1", "5", "9", "d"], ["0", "4", "6", "c"]);
    const result = zkts("purge", dir, "-n", "3");
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stderr, "");
    const removed = ["log.0", "snapshot.1"].map((name) => join(dir, "version-2", name));
    assert.deepEqual(result.stdout.trimEnd().split("\n"), [
      ...removed.map((path) => `removed ${path}`),
      "purged 2 files, keeping the 3 most recent valid snapshots and their logs",
    ]);
    // snapshot.5 is the oldest kept; log.4 holds the txns after it.
    assert.deepEqual(ls(dir), [
      "log.4",
      "log.6",
      "log.c",
      "snapshot.5",
      "snapshot.9",
      "snapshot.d",
    ]);
  });

  it("takes the log dir first and the snapshot dir second, with a default count of 3", () => {
    const snapDir = dataDir(["1", "5", "9", "d"], []);
    const logDir = dataDir([], ["0", "4", "6", "c"]);
    const result = zkts("purge", logDir, snapDir);
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(ls(snapDir), ["snapshot.5", "snapshot.9", "snapshot.d"]);
    assert.deepEqual(ls(logDir), ["log.4", "log.6", "log.c"]);
  });

  it("--config reads dataDir, dataLogDir and autopurge.snapRetainCount from a zoo.cfg", () => {
    const snapDir = dataDir(["1", "5", "9", "d"], []);
    const logDir = dataDir([], ["0", "4", "6", "c"]);
    const config = join(snapDir, "zoo.cfg");
    writeFileSync(
      config,
      `dataDir=${snapDir}\ndataLogDir=${logDir}\nautopurge.snapRetainCount=4\ntickTime=2000\n`,
    );
    const result = zkts("purge", "--config", config);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /keeping the 4 most recent/);
    assert.deepEqual(ls(snapDir), ["snapshot.1", "snapshot.5", "snapshot.9", "snapshot.d"]);
    assert.deepEqual(ls(logDir), ["log.0", "log.4", "log.6", "log.c"]);
  });

  it("-n 2: one line, exit 2, nothing removed", () => {
    const dir = dataDir(["1", "5", "9", "d"], []);
    refusedWithOneLine(
      zkts("purge", dir, "-n", "2"),
      2,
      /count should be greater than or equal to 3/,
    );
    assert.equal(ls(dir).length, 4);
  });

  it("bad arguments: one line, exit 2", () => {
    refusedWithOneLine(zkts("purge"), 2, /^zkts purge: missing <dataLogDir>/);
    refusedWithOneLine(zkts("purge", "a", "b", "c"), 2, /unexpected argument "c"/);
    refusedWithOneLine(zkts("purge", "a", "-n", "three"), 2, /'three' can not be parsed/);
  });

  it("a directory that does not exist: one line naming it, exit 1 as PurgeTxnLog", () => {
    const missing = join(tmpdir(), `zkts-purge-missing-${process.pid}`);
    refusedWithOneLine(zkts("purge", missing), 1, new RegExp(`path '${missing}' does not exist`));
  });
});
