/**
 * Recovery at the server level: `zkts server` processes on data dirs that a crash, a bad disk or
 * an operator damaged (src/server/recovery.ts's rules, as ZooKeeper's FileTxnSnapLog applies
 * them).
 *
 * Method: each case prepares a data dir by running the real server, writing through a client
 * and stopping it (SIGTERM or SIGKILL); then damages the files the way the case says; then
 * starts the server on it again as a child process with its stdout and stderr apart, and checks
 * either what it serves (every acknowledged write, nothing torn) or how it refuses (exit 1, one
 * line naming what is wrong). No case may end in a stack trace.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import {
  closeSync,
  existsSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { connect, type ZooKeeper } from "../../src/index.js";
import { readTxnLog } from "../../src/storage/txn-log.js";
import { within } from "../harness/client-helpers.js";
import { startZkts } from "../harness/zkts-server.js";

const MAIN = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));
const TSX_LOADER = import.meta.resolve("tsx");
const LISTENING = /^zkts server listening on (127\.0\.0\.1:\d+)$/m;
/** Small preallocation: the logs stay kilobytes, and a torn tail is easy to see. */
const PREALLOC_KB = "64";
const START_TIMEOUT_MS = 20_000;

const dataDirs: string[] = [];
after(() => {
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
});

/** Runs the server on a fresh temp data dir; `write` gets a client; then stop or kill. */
async function prepare(
  write: (zk: ZooKeeper) => Promise<void>,
  ending: "stop" | "kill",
  config: Record<string, string> = {},
): Promise<string> {
  const server = await startZkts({ config: { preAllocSize: PREALLOC_KB, ...config } });
  dataDirs.push(server.dataDir);
  const zk = await connect(server.connectString);
  try {
    await write(zk);
  } finally {
    if (ending === "kill") await server.kill();
    await zk.close({ timeoutMs: 1000 }).catch(() => {});
    await server.stop({ keepDataDir: true });
  }
  return server.dataDir;
}

/** Runs the server once more on `dataDir` (a restart: a fresh startup snapshot), then stops. */
async function restart(
  dataDir: string,
  write: (zk: ZooKeeper) => Promise<void>,
  ending: "stop" | "kill",
) {
  const server = await launch(dataDir);
  assert.equal(server.outcome, "listening", server.stderr);
  const zk = await connect(server.address);
  try {
    await write(zk);
  } finally {
    await server.end(ending === "kill" ? "SIGKILL" : "SIGTERM");
    await zk.close({ timeoutMs: 1000 }).catch(() => {});
  }
}

interface Launched {
  readonly outcome: "listening" | "exited";
  readonly address: string;
  readonly exitCode: number | null;
  readonly stdout: string;
  /** Everything it wrote to stderr so far (all of it once it has exited). */
  readonly stderr: string;
  end(signal: "SIGTERM" | "SIGKILL"): Promise<void>;
}

/**
 * `zkts server --data-dir dataDir` on a free loopback port, resolved once it listens or exits
 * (whichever comes first). end() signals it by its pid and waits for the exit.
 */
async function launch(dataDir: string): Promise<Launched> {
  const child = spawn(
    process.execPath,
    [
      "--import",
      TSX_LOADER,
      MAIN,
      "server",
      "--host",
      "127.0.0.1",
      "--port",
      "0",
      "--data-dir",
      dataDir,
      "--set",
      `preAllocSize=${PREALLOC_KB}`,
      // No AdminServer on ZooKeeper's default port 8080.
      "--set",
      "admin.enableServer=false",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let stdout = "";
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString("utf8");
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  const listening = new Promise<string>((resolve) => {
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString("utf8");
      const match = LISTENING.exec(stdout);
      if (match) resolve(match[1]!);
    });
  });
  const first = await within(
    Promise.race([listening.then((address) => ({ address })), exited.then((code) => ({ code }))]),
    START_TIMEOUT_MS,
    `zkts server on ${dataDir} neither listened nor exited`,
  ).catch(async (error: unknown) => {
    child.kill("SIGKILL");
    await exited;
    throw error;
  });
  let exitCode: number | null = null;
  if ("code" in first) {
    exitCode = first.code;
    // The exit event may come before the last of the piped output: wait for the streams' end.
    await Promise.all([streamEnd(child.stdout), streamEnd(child.stderr)]);
  }
  return {
    outcome: "address" in first ? "listening" : "exited",
    address: "address" in first ? first.address : "",
    exitCode,
    stdout,
    get stderr() {
      return stderr;
    },
    async end(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

function streamEnd(stream: NodeJS.ReadableStream): Promise<void> {
  return new Promise((resolve) => {
    if ((stream as { readableEnded?: boolean }).readableEnded) resolve();
    else stream.once("end", () => resolve());
  });
}

/**
 * A refusal: exit 1, nothing on stdout, no stack, and one line for people on stderr matching
 * `pattern`. Structured log lines (JSON, warnings such as a skipped snapshot) may precede it.
 */
function assertRefused(server: Launched, pattern: RegExp): void {
  assert.equal(server.outcome, "exited", `it started instead; stderr:\n${server.stderr}`);
  assert.equal(server.exitCode, 1, server.stderr);
  assert.equal(server.stdout, "");
  assertNoStack(server.stderr);
  const lines = server.stderr.trimEnd().split("\n");
  const logged = lines.filter((line) => line.startsWith("{"));
  for (const line of logged) assert.equal((JSON.parse(line) as { level: number }).level, 40);
  const human = lines.filter((line) => !line.startsWith("{"));
  assert.equal(human.length, 1, `not one line for people on stderr:\n${server.stderr}`);
  assert.match(human[0]!, /^zkts server: /);
  assert.match(human[0]!, pattern);
}

function assertNoStack(stderr: string): void {
  assert.doesNotMatch(stderr, /^ {4}at /m, `a stack trace on stderr:\n${stderr}`);
}

/** The JSON log lines at `level` (pino's numbers: 40 warn, 50 error). */
function logLines(stderr: string, level: number): Record<string, unknown>[] {
  return stderr
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((line) => line.level === level);
}

/** Writes /k0 .. /k(count-1), each with data "v<i>". */
function writeKeys(from: number, count: number) {
  return async (zk: ZooKeeper) => {
    for (let i = from; i < from + count; i++) await zk.create(`/k${i}`, `v${i}`);
  };
}

/** Asserts the server on `address` serves exactly /k(from) .. /k(to-1) with their data. */
async function assertKeys(address: string, to: number): Promise<void> {
  const zk = await connect(address);
  try {
    const children = (await zk.getChildren("/")).filter((name) => name !== "zookeeper");
    const expected = Array.from({ length: to }, (_, i) => `k${i}`);
    assert.deepEqual(children.sort(), expected.sort());
    for (let i = 0; i < to; i++) {
      assert.equal((await zk.getData(`/k${i}`)).data.toString(), `v${i}`);
    }
    // And it takes writes after the damage, durably named after the recovered zxid.
    await zk.create("/after", "x");
  } finally {
    await zk.close({ timeoutMs: 1000 }).catch(() => {});
  }
}

const v2 = (dataDir: string) => join(dataDir, "version-2");

/** The `prefix.<hex>` files of a version-2 dir, oldest (lowest zxid) first, with full paths. */
function files(dataDir: string, prefix: "log" | "snapshot"): { file: string; zxid: bigint }[] {
  const pattern = new RegExp(`^${prefix}\\.([0-9a-f]+)$`);
  return readdirSync(v2(dataDir))
    .map((name) => ({ name, hex: pattern.exec(name)?.[1] }))
    .filter((f): f is { name: string; hex: string } => f.hex !== undefined)
    .map((f) => ({ file: join(v2(dataDir), f.name), zxid: BigInt(`0x${f.hex}`) }))
    .sort((a, b) => (a.zxid < b.zxid ? -1 : a.zxid > b.zxid ? 1 : 0));
}

function flipByte(file: string, offset: number): void {
  const fd = openSync(file, "r+");
  try {
    const byte = Buffer.alloc(1);
    readSync(fd, byte, 0, 1, offset);
    byte[0]! ^= 0xff;
    writeSync(fd, byte, 0, 1, offset);
  } finally {
    closeSync(fd);
  }
}

/** Starts the server on a damaged dir, checks it serves keys 0..to-1, and stops it. */
async function assertRecovers(dataDir: string, to: number): Promise<Launched> {
  const server = await launch(dataDir);
  try {
    assert.equal(server.outcome, "listening", `exit ${server.exitCode}:\n${server.stderr}`);
    await assertKeys(server.address, to);
  } finally {
    await server.end("SIGTERM");
  }
  assertNoStack(server.stderr);
  return server;
}

describe("recovery from a damaged txn log", () => {
  test("a torn last record is cut off with a warning; every earlier write is served", async () => {
    const dataDir = await prepare(writeKeys(0, 20), "kill");
    const last = files(dataDir, "log").at(-1)!.file;
    const log = readTxnLog(last);
    const torn = log.entries.at(-1)!;
    assert.equal((torn.txn as { path?: string }).path, "/k19", "the last record is the last write");
    // Cut the file in the middle of that record, as a crash mid-append leaves it.
    truncateSync(last, torn.offset + Math.floor((log.end - torn.offset) / 2));

    const server = await assertRecovers(dataDir, 19);
    const warnings = logLines(server.stderr, 40).filter((line) => line.offset === torn.offset);
    assert.equal(warnings.length, 1, server.stderr);
    assert.equal(warnings[0]!.file, last);
  });

  test("a flipped byte in a record with more after it: refused, naming file and offset", async () => {
    const dataDir = await prepare(writeKeys(0, 20), "stop");
    const last = files(dataDir, "log").at(-1)!.file;
    const bad = readTxnLog(last).entries[10]!;
    flipByte(last, bad.offset + 20);

    const server = await launch(dataDir);
    await server.end("SIGKILL");
    assertRefused(server, new RegExp(`${last}.*offset ${bad.offset}\\b`));
  });

  for (const [what, damage] of [
    ["a zero-length newest log", (file: string) => writeFileSync(file, "")],
    [
      "a newest log cut inside its 16-byte header",
      (file: string, header: Buffer) => writeFileSync(file, header.subarray(0, 9)),
    ],
    [
      "a newest log with its header and no record",
      (file: string, header: Buffer) =>
        writeFileSync(file, Buffer.concat([header, Buffer.alloc(64)])),
    ],
    [
      "a newest log whose first record is torn",
      (file: string, header: Buffer, record: Buffer) =>
        writeFileSync(
          file,
          Buffer.concat([header, record.subarray(0, record.length >> 1), Buffer.alloc(64)]),
        ),
    ],
  ] as const) {
    test(`${what} (a crash as the log rolled): the writes before it are served`, async () => {
      const dataDir = await prepare(writeKeys(0, 12), "kill");
      const newest = files(dataDir, "log").at(-1)!.file;
      const bytes = readFileSync(newest);
      const header = bytes.subarray(0, 16);
      // Named as the roll names it: after the last logged zxid, which the next write reuses.
      const entries = readTxnLog(newest).entries;
      const lastZxid = entries.at(-1)!.header.zxid;
      const record = bytes.subarray(entries[0]!.offset, entries[1]!.offset);
      const next = join(v2(dataDir), `log.${(lastZxid + 1n).toString(16)}`);
      damage(next, header, record);
      await assertRecovers(dataDir, 12);
      // The empty log is gone or was replaced by the new log at the same name: not left empty.
      assert.ok(!existsSync(next) || readFileSync(next).length >= 16);
    });
  }

  test("a missing log between others: refused as a gap, in one line", async () => {
    // Many small logs (one per snapshot roll); then every snapshot but the startup one lost,
    // so only the logs can bring the tree up to date, and one of them is missing.
    const dataDir = await prepare(writeKeys(0, 60), "stop", { snapCount: "10" });
    const logs = files(dataDir, "log");
    assert.ok(logs.length >= 4, `only ${logs.length} logs`);
    for (const { file, zxid } of files(dataDir, "snapshot")) if (zxid > 0n) unlinkSync(file);
    const missing = logs[Math.floor(logs.length / 2)]!;
    unlinkSync(missing.file);

    const server = await launch(dataDir);
    await server.end("SIGKILL");
    assertRefused(server, /missing/);
  });
});

describe("recovery from damaged snapshots", () => {
  /**
   * Two snapshots: snapshot.0 from the first start, and the one the second start takes after
   * /k0../k9; then /k10../k19 in the log after it, and a kill.
   */
  async function twoSnapshots(): Promise<{ dataDir: string; newest: string }> {
    const dataDir = await prepare(writeKeys(0, 10), "stop");
    await restart(dataDir, writeKeys(10, 10), "kill");
    const snapshots = files(dataDir, "snapshot");
    assert.equal(snapshots.length, 2, snapshots.map((s) => s.file).join(" "));
    return { dataDir, newest: snapshots[1]!.file };
  }

  for (const [what, damage] of [
    ["a flipped byte", (file: string) => flipByte(file, Math.floor(readFileSync(file).length / 2))],
    ["truncated", (file: string) => truncateSync(file, Math.floor(readFileSync(file).length / 2))],
    ["zero-length", (file: string) => truncateSync(file, 0)],
  ] as const) {
    test(`newest snapshot ${what}: the older one and the logs serve everything`, async () => {
      const { dataDir, newest } = await twoSnapshots();
      damage(newest);
      const server = await assertRecovers(dataDir, 20);
      const warnings = logLines(server.stderr, 40).filter((line) => line.file === newest);
      assert.equal(warnings.length, 1, server.stderr);
    });
  }

  test("no readable snapshot and logs that start after zxid 1: refused, naming the dir", async () => {
    const { dataDir } = await twoSnapshots();
    // As a purge leaves it: the log before the newest snapshot gone.
    unlinkSync(files(dataDir, "log")[0]!.file);
    for (const { file } of files(dataDir, "snapshot")) flipByte(file, 30);

    const server = await launch(dataDir);
    await server.end("SIGKILL");
    assertRefused(server, new RegExp(`no readable snapshot in ${v2(dataDir)}`));
  });

  test("no version-2 dir at all: a fresh, empty server", async () => {
    const dataDir = await prepare(writeKeys(0, 5), "stop");
    rmSync(v2(dataDir), { recursive: true });
    await assertRecovers(dataDir, 0);
    assert.ok(existsSync(v2(dataDir)));
  });
});
