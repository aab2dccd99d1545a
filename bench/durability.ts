/**
 * Durability benchmark: what a durable server costs on this machine's disk, zkts standalone
 * against Apache ZooKeeper 3.8 standalone, both with forceSync=yes, in one run:
 *
 * 1. fsync: the disk's raw rate of small write + fdatasync, on a preallocated file in the
 *    filesystem that holds both servers' data dirs (os.tmpdir());
 * 2. writes: durable setData and create throughput and latency at several concurrencies, from
 *    several sessions of our client, and txns per fsync (group commit);
 * 3. recovery: snapshot and restart times for a tree of `nodes` znodes, from a snapshot only and
 *    from a snapshot plus a long txn log, and RSS after the load.
 *
 *     npm run bench:durability                          (runs `npm run build` first)
 *     npm run bench:durability -- --quick               (small sizes: a smoke run)
 *     npm run bench:durability -- --parts=recovery --nodes=200000
 *     npm run bench:durability -- --parts=writes --profile=/tmp/prof   (zkts under --cpu-prof)
 *
 * Every knob is `--name=value` or env `BENCH_NAME` (upper case, "-" as "_"); see README.md.
 * A benchmark, not a test: a missed aim is printed, never an exit code; only errors exit non-zero.
 */
import { execFileSync } from "node:child_process";
import { closeSync, fdatasyncSync, openSync, writeSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import type { ZooKeeper } from "../src/index.js";
import {
  startZooKeeper,
  type ZooKeeperOptions,
  type ZooKeeperProcess,
} from "../test/harness/apache-zookeeper.js";
import {
  releaseDir,
  removeAtExit,
  spawnTracked,
  type TrackedProcess,
  terminateAndWait,
} from "../test/harness/child-processes.js";
import { fourLetterWord, modeOf } from "../test/harness/four-letter-word.js";
import { freePorts } from "../test/harness/free-ports.js";
import { fileSize, readSince } from "../test/harness/output-file.js";
import { type Client, type Issue, loadZkts, type ZktsModule, zktsClient } from "./drivers.js";
import { memoryOf, threadCpuMicros, threadCpuNanos } from "./proc.js";
import { fmtMs, loadAverage, quantile, ratio, table } from "./report.js";
import { runSession, split } from "./sessions.js";

const SERVER_NAMES = ["zookeeper", "zkts"] as const;
type ServerName = (typeof SERVER_NAMES)[number];
const PARTS = ["fsync", "writes", "recovery"] as const;
type Part = (typeof PARTS)[number];
const WRITE_OPS = ["setData", "create"] as const;
type WriteOp = (typeof WRITE_OPS)[number];
const HOST = "127.0.0.1";

interface Config {
  readonly quick: boolean;
  readonly parts: readonly Part[];
  readonly servers: readonly ServerName[];
  readonly fsyncSeconds: number;
  readonly writeSeconds: number;
  readonly rounds: number;
  readonly concurrency: readonly number[];
  readonly sessions: number;
  readonly ops: readonly WriteOp[];
  readonly dataBytes: number;
  readonly nodes: number;
  readonly children: number;
  readonly logTxns: number;
  readonly zkHeap: string;
  readonly nodeHeapMb: number;
  readonly nodeFlags: readonly string[];
  readonly zkts: "src" | "dist";
  readonly build: boolean;
  readonly profile: string | undefined;
}

const KNOWN_ARGS: ReadonlySet<string> = new Set([
  "quick",
  "parts",
  "servers",
  "fsync-seconds",
  "write-seconds",
  "rounds",
  "concurrency",
  "sessions",
  "ops",
  "data-bytes",
  "nodes",
  "children",
  "log-txns",
  "zk-heap",
  "node-heap-mb",
  "node-flags",
  "zkts",
  "build",
  "profile",
]);

function readConfig(argv: readonly string[]): Config {
  const args = new Map<string, string>();
  for (const arg of argv) {
    const match = /^--([\w-]+)(?:=(.*))?$/.exec(arg);
    if (!match || !KNOWN_ARGS.has(match[1]!)) {
      throw new Error(`bad argument ${arg}: expected --name=value, name one of ${[...KNOWN_ARGS]}`);
    }
    args.set(match[1]!, match[2] ?? "yes");
  }
  const raw = (name: string): string | undefined =>
    args.get(name) ?? process.env[`BENCH_${name.toUpperCase().replaceAll("-", "_")}`];
  const quick = raw("quick") === "yes" || raw("quick") === "1" || raw("quick") === "true";
  const num = (name: string, full: number, small: number): number => {
    const value = Number(raw(name) ?? (quick ? small : full));
    if (!Number.isFinite(value) || value < 0) throw new Error(`--${name} must be a number >= 0`);
    return value;
  };
  const list = <T extends string>(name: string, allowed: readonly T[]): T[] => {
    const given = raw(name)
      ?.split(",")
      .filter((s) => s !== "") ?? [...allowed];
    for (const item of given)
      if (!allowed.includes(item as T)) throw new Error(`--${name}: unknown ${item}`);
    return given as T[];
  };
  const concurrency = (raw("concurrency") ?? "1,16,256").split(",").map(Number);
  if (concurrency.some((c) => !Number.isInteger(c) || c < 1))
    throw new Error("--concurrency: a list of integers >= 1");
  const zkts = raw("zkts") ?? "dist";
  if (zkts !== "dist" && zkts !== "src") throw new Error("--zkts must be dist or src");
  const nodes = Math.max(1, Math.round(num("nodes", 1_000_000, 20_000)));
  const children = Math.max(1, Math.min(nodes, Math.round(num("children", 1000, 100))));
  return {
    quick,
    parts: list("parts", PARTS),
    servers: list("servers", SERVER_NAMES),
    fsyncSeconds: num("fsync-seconds", 5, 1),
    writeSeconds: num("write-seconds", 3, 0.5),
    rounds: Math.max(1, Math.round(num("rounds", 2, 1))),
    concurrency,
    sessions: Math.max(1, Math.round(num("sessions", 8, 4))),
    ops: list("ops", WRITE_OPS),
    dataBytes: Math.round(num("data-bytes", 100, 100)),
    nodes,
    children,
    logTxns: Math.round(num("log-txns", 100_000, 5_000)),
    zkHeap: raw("zk-heap") ?? "4g",
    nodeHeapMb: Math.round(num("node-heap-mb", 4096, 4096)),
    nodeFlags: (raw("node-flags") ?? "").split(" ").filter((f) => f !== ""),
    zkts,
    build: (raw("build") ?? "yes") === "yes",
    profile: raw("profile") || undefined,
  };
}

// ---------------------------------------------------------------- helpers

// ---------------------------------------------------------------- servers

/** A server that can be stopped cleanly and started again on the same port and data. */
interface Server {
  readonly name: ServerName;
  readonly port: number;
  readonly pid: number;
  readonly connectString: string;
  /** Starts the process; resolves at once (readiness is timeToFirstRead's business). */
  spawn(): Promise<void>;
  /** SIGTERM, and waits for the exit (SIGKILL after 5 s). Keeps the data. */
  stop(): Promise<void>;
  /** stop() and remove the data dir. */
  destroy(): Promise<void>;
  /** The server's own timings from its log since the last spawn. */
  timings(): ServerTimings;
}

interface ServerTimings {
  /** Loading the data tree (snapshot + log replay), ms. */
  loadedMs?: number | undefined;
  /** Txns replayed from the log (ZooKeeper: "N txns loaded in M ms"). */
  replayed?: number | undefined;
  replayMs?: number | undefined;
  /** The snapshot taken at start, ms. */
  snapshotMs?: number | undefined;
  nodes?: number | undefined;
}

class ZooKeeperServer implements Server {
  readonly name = "zookeeper";
  readonly process: ZooKeeperProcess;
  #logOffset = 0;

  constructor(process_: ZooKeeperProcess) {
    this.process = process_;
  }

  static async create(config: Config, extra: Record<string, string>): Promise<ZooKeeperServer> {
    const options: ZooKeeperOptions = {
      extraConfig: { forceSync: "yes", ...extra },
      // The harness's -Xmx256m and C1 only are for tests; these come after, so they win.
      jvmFlags: [`-Xmx${config.zkHeap}`, "-XX:TieredStopAtLevel=4"],
      keepDataDir: true,
      readyTimeoutMs: 600_000,
    };
    return new ZooKeeperServer(await startZooKeeper(options));
  }

  get port(): number {
    return this.process.port;
  }
  get pid(): number {
    return this.process.pid;
  }
  get connectString(): string {
    return this.process.connectString;
  }

  async spawn(): Promise<void> {
    this.#logOffset = fileSize(this.process.logFile);
    // start() polls srvr every 50 ms; timeToFirstRead polls on its own, more often.
    void this.process.start().catch((error: unknown) => {
      console.error(`zookeeper start failed: ${(error as Error).message}`);
    });
  }

  stop(): Promise<void> {
    return this.process.stop({ keepDataDir: true });
  }

  destroy(): Promise<void> {
    return this.process.stop({ keepDataDir: false });
  }

  timings(): ServerTimings {
    const log = readSince(this.process.logFile, this.#logOffset);
    const out: ServerTimings = {};
    const loaded = /Snapshot loaded in (\d+) ms/.exec(log);
    if (loaded) out.loadedMs = Number(loaded[1]);
    const replay = /(\d+) txns loaded in (\d+) ms/.exec(log);
    if (replay) {
      out.replayed = Number(replay[1]);
      out.replayMs = Number(replay[2]);
    }
    const taken = /Snapshot taken in (\d+) ms/.exec(log);
    if (taken) out.snapshotMs = Number(taken[1]);
    return out;
  }
}

class ZktsServer implements Server {
  readonly name = "zkts";
  readonly port: number;
  readonly dir: string;
  readonly logFile: string;
  readonly #args: string[];
  #child: TrackedProcess | undefined;
  #logOffset = 0;

  private constructor(port: number, dir: string, args: string[]) {
    this.port = port;
    this.dir = dir;
    this.logFile = join(dir, "zkts.out");
    this.#args = args;
  }

  static async create(config: Config, settings: Record<string, string>): Promise<ZktsServer> {
    const dir = await mkdtemp(join(os.tmpdir(), "zkts-bench-durable-"));
    removeAtExit(dir);
    const [port] = await freePorts(1);
    const main = fileURLToPath(
      new URL(
        config.zkts === "dist" ? "../dist/cli/main.js" : "../src/cli/main.ts",
        import.meta.url,
      ),
    );
    const args = [
      `--max-old-space-size=${config.nodeHeapMb}`,
      ...config.nodeFlags,
      ...(config.zkts === "src" ? ["--import", import.meta.resolve("tsx")] : []),
      ...(config.profile === undefined
        ? []
        : ["--cpu-prof", `--cpu-prof-dir=${config.profile}`, "--cpu-prof-interval=250"]),
      main,
      "server",
      "--host",
      HOST,
      "--port",
      String(port),
      "--data-dir",
      join(dir, "data"),
      "--max-client-cnxns",
      "0",
      "--4lw-whitelist",
      "*",
      "-D",
      "forceSync=yes",
      // No AdminServer on ZooKeeper's default port 8080.
      "-D",
      "admin.enableServer=false",
      ...Object.entries(settings).flatMap(([k, v]) => ["-D", `${k}=${v}`]),
    ];
    const server = new ZktsServer(port!, dir, args);
    await server.spawn();
    await waitServing(server, 600_000);
    return server;
  }

  get pid(): number {
    return this.#child?.pid ?? 0;
  }
  get connectString(): string {
    return `${HOST}:${this.port}`;
  }

  async spawn(): Promise<void> {
    this.#logOffset = fileSize(this.logFile);
    this.#child = spawnTracked(process.execPath, this.#args, this.logFile);
  }

  async stop(): Promise<void> {
    if (this.#child !== undefined) await terminateAndWait(this.#child);
  }

  async destroy(): Promise<void> {
    await this.stop();
    await rm(this.dir, { recursive: true, force: true, maxRetries: 3 });
    releaseDir(this.dir);
  }

  timings(): ServerTimings {
    const out: ServerTimings = {};
    for (const line of readSince(this.logFile, this.#logOffset).split("\n")) {
      if (!line.startsWith("{")) continue;
      let entry: { msg?: string; ms?: number; nodes?: number; replayed?: number };
      try {
        entry = JSON.parse(line) as typeof entry;
      } catch {
        continue;
      }
      if (entry.msg === "loaded the data tree") {
        out.loadedMs = entry.ms;
        out.replayed = entry.replayed;
        out.nodes = entry.nodes;
      } else if (entry.msg === "snapshot taken" && out.snapshotMs === undefined) {
        out.snapshotMs = entry.ms;
      }
    }
    return out;
  }
}

/** Polls `srvr` every 10 ms until the server reports a serving mode. */
async function waitServing(server: Server, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const mode = modeOf(await fourLetterWord(HOST, server.port, "srvr", 1_000));
      if (mode === "standalone") return;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) throw new Error(`${server.name} not serving after ${timeoutMs} ms`);
    await sleep(10);
  }
}

async function mntr(server: Server): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  try {
    for (const line of (await fourLetterWord(HOST, server.port, "mntr")).split("\n")) {
      const [key, value] = line.split("\t");
      if (key !== undefined && value !== undefined && Number.isFinite(Number(value)))
        out.set(key, Number(value));
    }
  } catch {
    // No mntr: the figures it would give are printed as "-".
  }
  return out;
}

/** Servers whose mntr has no fsync count: not asked again (zkts's mntr walks the whole tree). */
const noFsyncCount = new Set<Server>();

/** Fsyncs of the txn log so far, from mntr, where the server exposes a count. */
async function fsyncCount(server: Server): Promise<number | undefined> {
  if (noFsyncCount.has(server)) return undefined;
  const figures = await mntr(server);
  const count = figures.get("zk_cnt_fsynctime") ?? figures.get("zk_fsync_count");
  if (count === undefined) noFsyncCount.add(server);
  return count;
}

async function startServer(
  name: ServerName,
  config: Config,
  settings: Record<string, string>,
): Promise<Server> {
  return name === "zookeeper"
    ? ZooKeeperServer.create(config, settings)
    : ZktsServer.create(config, settings);
}

// ---------------------------------------------------------------- part 1: fsync

interface FsyncResult {
  rate: number;
  p50: number;
  p99: number;
  count: number;
}

/**
 * Small writes (128 bytes, one after another, as a txn log appends) each followed by
 * fdatasync, on a file preallocated (zeros written and synced) so that the syncs flush data, not
 * the file's size. What one group commit of a lone txn costs, at best.
 */
async function measureFsync(seconds: number): Promise<FsyncResult> {
  const dir = await mkdtemp(join(os.tmpdir(), "zkts-bench-fsync-"));
  removeAtExit(dir);
  const file = join(dir, "fsync.bin");
  const prealloc = 64 * 1024 * 1024;
  const fd = openSync(file, "w");
  try {
    const zeros = Buffer.alloc(1024 * 1024);
    for (let at = 0; at < prealloc; at += zeros.length) writeSync(fd, zeros, 0, zeros.length, at);
    fdatasyncSync(fd);
    const record = Buffer.alloc(128, 0x61);
    const latencies: number[] = [];
    const start = performance.now();
    const end = start + seconds * 1000;
    let position = 0;
    for (let now = start; now < end; ) {
      writeSync(fd, record, 0, record.length, position);
      fdatasyncSync(fd);
      const after = performance.now();
      latencies.push(after - now);
      now = after;
      position = (position + record.length) % prealloc;
    }
    const wall = performance.now() - start;
    const sorted = Float64Array.from(latencies).sort();
    return {
      rate: (latencies.length * 1000) / wall,
      p50: quantile(sorted, 0.5),
      p99: quantile(sorted, 0.99),
      count: latencies.length,
    };
  } finally {
    closeSync(fd);
    await rm(dir, { recursive: true, force: true });
    releaseDir(dir);
  }
}

// ---------------------------------------------------------------- part 2: writes

const WRITE_ROOT = "/dur";
const FIXED = 10_000;

interface WriteTarget {
  readonly server: Server;
  readonly admin: ZooKeeper;
  readonly sessions: readonly Client[];
  runs: number;
}

interface WriteSample {
  ops: number;
  wallMs: number;
  latencies: Float64Array;
  fsyncs: number | undefined;
  serverCpuUs: number | undefined;
}

async function prepareWrites(
  zkts: ZktsModule,
  server: Server,
  config: Config,
  closers: (() => Promise<void>)[],
): Promise<WriteTarget> {
  const admin = await zkts.connect(server.connectString, { sessionTimeoutMs: 30_000 });
  closers.push(() => admin.close());
  const data = Buffer.alloc(config.dataBytes, 0x62);
  const sessions: Client[] = [];
  for (let i = 0; i < config.sessions; i++) {
    const client = await zktsClient(zkts, server.connectString, data);
    closers.push(() => client.close());
    sessions.push(client);
  }
  await admin.create(WRITE_ROOT);
  await admin.create(`${WRITE_ROOT}/fixed`);
  await admin.create(`${WRITE_ROOT}/created`);
  const initial = Buffer.alloc(config.dataBytes, 0x61);
  const create: Issue = (path, ok, fail) => {
    admin.create(path, initial).then(ok, fail);
  };
  await runSession(
    create,
    (i) => `${WRITE_ROOT}/fixed/n${i}`,
    256,
    FIXED,
    () => false,
    [],
  );
  return { server, admin, sessions, runs: 0 };
}

/** One timed run: `concurrency` in flight over min(sessions, concurrency) sessions. */
async function writeRun(
  target: WriteTarget,
  op: WriteOp,
  concurrency: number,
  seconds: number,
): Promise<WriteSample> {
  const sessions = Math.min(target.sessions.length, concurrency);
  const inFlight = split(concurrency, sessions);
  const run = target.runs++;
  const perSession: number[][] = inFlight.map(() => []);
  const stride = Math.floor(FIXED / sessions);
  const pathOf = (s: number) =>
    op === "create"
      ? (i: number) => `${WRITE_ROOT}/created/r${run}s${s}-${i}`
      : (i: number) => `${WRITE_ROOT}/fixed/n${(s * stride + i) % FIXED}`;
  const fsyncsBefore = await fsyncCount(target.server);
  const threadsBefore = threadCpuNanos(target.server.pid);
  const start = performance.now();
  const deadline = start + seconds * 1000;
  const stop = () => performance.now() >= deadline;
  await Promise.all(
    inFlight.map((n, s) =>
      runSession(target.sessions[s]![op], pathOf(s), n, Infinity, stop, perSession[s]!),
    ),
  );
  const wallMs = performance.now() - start;
  const serverCpuUs = threadCpuMicros(threadsBefore, threadCpuNanos(target.server.pid));
  const fsyncsAfter = await fsyncCount(target.server);
  const latencies = Float64Array.from(perSession.flat());
  return {
    ops: latencies.length,
    wallMs,
    latencies,
    fsyncs:
      fsyncsBefore === undefined || fsyncsAfter === undefined
        ? undefined
        : fsyncsAfter - fsyncsBefore,
    serverCpuUs,
  };
}

type WriteResults = Map<string, Map<ServerName, WriteSample[]>>;

async function measureWrites(config: Config, zkts: ZktsModule): Promise<WriteResults> {
  const servers: Server[] = [];
  const closers: (() => Promise<void>)[] = [];
  const results: WriteResults = new Map();
  try {
    const targets: WriteTarget[] = [];
    for (const name of config.servers) {
      const server = await startServer(name, config, {});
      servers.push(server);
      targets.push(await prepareWrites(zkts, server, config, closers));
      console.error(`writes: ${name} pid ${server.pid} on ${server.connectString}`);
    }
    // JIT of both servers and the client on every op and concurrency, untimed.
    for (const op of config.ops)
      for (const c of config.concurrency)
        for (const t of targets) await writeRun(t, op, c, Math.min(1, config.writeSeconds));
    for (const op of config.ops) {
      for (const c of config.concurrency) {
        const byServer = new Map<ServerName, WriteSample[]>(
          targets.map((t) => [t.server.name, []]),
        );
        results.set(`${op} ${c}`, byServer);
        for (let round = 0; round < config.rounds; round++) {
          const order = round % 2 === 0 ? targets : [...targets].reverse();
          for (const t of order) {
            const sample = await writeRun(t, op, c, config.writeSeconds);
            byServer.get(t.server.name)!.push(sample);
            const sorted = sample.latencies.slice().sort();
            console.error(
              `  ${op} x${c} round ${round + 1} ${t.server.name}: ` +
                `${Math.round((sample.ops * 1000) / sample.wallMs)} ops/s, p50 ` +
                `${fmtMs(quantile(sorted, 0.5))} ms, p99 ${fmtMs(quantile(sorted, 0.99))} ms` +
                (sample.fsyncs === undefined ? "" : `, ${sample.fsyncs} fsyncs (mntr)`),
            );
          }
        }
      }
    }
  } finally {
    for (const close of closers) await close().catch(() => {});
    for (const server of servers) await server.destroy();
  }
  return results;
}

function printWrites(results: WriteResults, fsync: FsyncResult | undefined): void {
  const rows: string[][] = [];
  for (const [key, byServer] of results) {
    const [op, conc] = key.split(" ");
    const sum = (name: ServerName) => {
      const samples = byServer.get(name);
      if (samples === undefined || samples.length === 0) return undefined;
      const ops = samples.reduce((n, s) => n + s.ops, 0);
      const wallMs = samples.reduce((n, s) => n + s.wallMs, 0);
      const sorted = Float64Array.from(samples.flatMap((s) => [...s.latencies])).sort();
      const fsyncs = samples.every((s) => s.fsyncs !== undefined)
        ? samples.reduce((n, s) => n + s.fsyncs!, 0)
        : undefined;
      const cpu = samples.every((s) => s.serverCpuUs !== undefined)
        ? samples.reduce((n, s) => n + s.serverCpuUs!, 0) / ops
        : undefined;
      return { rate: (ops * 1000) / wallMs, sorted, perFsync: fsyncs && ops / fsyncs, cpu };
    };
    const zk = sum("zookeeper");
    const zt = sum("zkts");
    const est = (r: number | undefined) =>
      r === undefined || fsync === undefined ? "-" : (r / fsync.rate).toFixed(1);
    rows.push([
      op!,
      conc!,
      zk ? String(Math.round(zk.rate)) : "-",
      zt ? String(Math.round(zt.rate)) : "-",
      ratio(zt?.rate, zk?.rate),
      fmtMs(zk ? quantile(zk.sorted, 0.5) : Number.NaN),
      fmtMs(zt ? quantile(zt.sorted, 0.5) : Number.NaN),
      fmtMs(zk ? quantile(zk.sorted, 0.99) : Number.NaN),
      fmtMs(zt ? quantile(zt.sorted, 0.99) : Number.NaN),
      est(zk?.rate),
      est(zt?.rate),
      zk?.perFsync === undefined ? "-" : zk.perFsync.toFixed(1),
      zt?.perFsync === undefined ? "-" : zt.perFsync.toFixed(1),
      zk?.cpu === undefined ? "-" : zk.cpu.toFixed(1),
      zt?.cpu === undefined ? "-" : zt.cpu.toFixed(1),
    ]);
  }
  console.log(
    "\ndurable writes, forceSync=yes (ratio = zkts/ZooKeeper; higher ops/s is better; " +
      "txns/fsync est = ops/s ÷ raw fsync rate, mntr = txns ÷ fsyncs the server counted)\n",
  );
  table(
    [
      "op",
      "conc",
      "ops/s ZK",
      "zkts",
      "ratio",
      "p50 ms ZK",
      "zkts",
      "p99 ms ZK",
      "zkts",
      "txns/fsync est ZK",
      "zkts",
      "mntr ZK",
      "zkts",
      "server µs/op ZK",
      "zkts",
    ],
    rows,
    2,
  );
}

// ---------------------------------------------------------------- part 3: recovery

const TREE_ROOT = "/tree";

interface Restart {
  /** Process start to the first successful getData, ms. */
  firstReadMs: number;
  /** Process start to srvr reporting it serves, ms. */
  servingMs: number;
  timings: ServerTimings;
  rssMiB: number;
  /** Stopping it afterwards (SIGTERM to exit), ms. */
  stopMs?: number;
}

interface RecoveryResult {
  buildMs: number;
  buildTxns: number;
  logTxnsMs: number;
  znodes: string;
  afterBuild: Restart;
  snapOnly: Restart;
  snapAndLog: Restart;
}

/** Spawns the server and times it to the first successful read of `probe`. */
async function timeToFirstRead(server: Server, zkts: ZktsModule, probe: string): Promise<Restart> {
  const start = performance.now();
  await server.spawn();
  await waitServing(server, 600_000);
  const servingMs = performance.now() - start;
  for (;;) {
    try {
      const zk = await zkts.connect(server.connectString, {
        sessionTimeoutMs: 30_000,
        initialConnectTimeoutMs: 5_000,
      });
      try {
        await zk.getData(probe);
      } finally {
        await zk.close();
      }
      break;
    } catch (error) {
      if (performance.now() - start > 600_000) throw error;
      await sleep(10);
    }
  }
  const firstReadMs = performance.now() - start;
  // The server's log lines are written before it serves, but give a file append a moment.
  await sleep(200);
  return {
    firstReadMs,
    servingMs,
    timings: server.timings(),
    rssMiB: memoryOf(server.pid).rssKiB / 1024,
  };
}

async function timedStop(server: Server, restart: Restart): Promise<void> {
  const start = performance.now();
  await server.stop();
  restart.stopMs = performance.now() - start;
}

/**
 * Builds `nodes` znodes (parents of `children` each, every parent's children created by one
 * multi, 8 multis in flight), with a snapCount so large that no snapshot is taken meanwhile.
 */
async function buildTree(zk: ZooKeeper, config: Config): Promise<number> {
  const parents = Math.ceil(config.nodes / config.children);
  const data = Buffer.alloc(16, 0x63);
  await zk.create(TREE_ROOT);
  let txns = 1;
  const parentOps = Array.from({ length: parents }, (_, p) => ({
    type: "create" as const,
    path: `${TREE_ROOT}/p${p}`,
    data,
  }));
  for (let i = 0; i < parentOps.length; i += config.children) {
    await zk.multi(parentOps.slice(i, i + config.children));
    txns++;
  }
  const multi: Issue = (path, ok, fail) => {
    const p = Number(path);
    const n = Math.min(config.children, config.nodes - p * config.children);
    const ops = Array.from({ length: n }, (_, c) => ({
      type: "create" as const,
      path: `${TREE_ROOT}/p${p}/c${c}`,
      data,
    }));
    zk.multi(ops).then(ok, fail);
  };
  await runSession(multi, String, 8, parents, () => false, []);
  return txns + parents;
}

/** `count` setData txns of 100 bytes on the tree's znodes, 256 in flight over the sessions. */
async function writeLog(sessions: readonly Client[], config: Config): Promise<void> {
  const per = split(config.logTxns, sessions.length);
  const parents = Math.ceil(config.nodes / config.children);
  await Promise.all(
    sessions.map((client, s) =>
      runSession(
        client.setData,
        (i) => {
          const k = (s * 7919 + i * 104729) % config.nodes;
          return `${TREE_ROOT}/p${Math.floor(k / config.children) % parents}/c${k % config.children}`;
        },
        Math.ceil(256 / sessions.length),
        per[s]!,
        () => false,
        [],
      ),
    ),
  );
}

async function measureRecovery(
  name: ServerName,
  config: Config,
  zkts: ZktsModule,
): Promise<RecoveryResult> {
  // No snapshot while the tree and the log are written: only the ones taken at start.
  const server = await startServer(name, config, { snapCount: "100000000" });
  const probe = `${TREE_ROOT}/p0/c0`;
  try {
    console.error(`recovery: ${name} pid ${server.pid}, building ${config.nodes} znodes ...`);
    let zk = await zkts.connect(server.connectString, { sessionTimeoutMs: 30_000 });
    const buildStart = performance.now();
    const buildTxns = await buildTree(zk, config);
    const buildMs = performance.now() - buildStart;
    await zk.close();
    console.error(`  built in ${(buildMs / 1000).toFixed(1)} s; restart (replays the build) ...`);
    await server.stop();
    const afterBuild = await timeToFirstRead(server, zkts, probe);
    console.error(`  ${JSON.stringify(afterBuild)}`);
    await timedStop(server, afterBuild);
    const snapOnly = await timeToFirstRead(server, zkts, probe);
    console.error(`  from the snapshot only: ${JSON.stringify(snapOnly)}`);
    zk = await zkts.connect(server.connectString, { sessionTimeoutMs: 30_000 });
    const znodes = (await mntr(server)).get("zk_znode_count");
    await zk.close();
    const data = Buffer.alloc(config.dataBytes, 0x64);
    const sessions: Client[] = [];
    for (let i = 0; i < 4; i++) sessions.push(await zktsClient(zkts, server.connectString, data));
    const logStart = performance.now();
    await writeLog(sessions, config);
    const logTxnsMs = performance.now() - logStart;
    for (const s of sessions) await s.close();
    await timedStop(server, snapOnly);
    const snapAndLog = await timeToFirstRead(server, zkts, probe);
    console.error(`  from the snapshot + ${config.logTxns} txns: ${JSON.stringify(snapAndLog)}`);
    await timedStop(server, snapAndLog);
    return {
      buildMs,
      buildTxns,
      logTxnsMs,
      znodes: znodes === undefined ? "?" : String(znodes),
      afterBuild,
      snapOnly,
      snapAndLog,
    };
  } finally {
    await server.destroy();
  }
}

function printRecovery(config: Config, results: Map<ServerName, RecoveryResult>): void {
  const zk = results.get("zookeeper");
  const zt = results.get("zkts");
  const rows: string[][] = [];
  const row = (what: string, pick: (r: RecoveryResult) => number | undefined, digits = 0) => {
    const a = zk && pick(zk);
    const b = zt && pick(zt);
    const fmt = (v: number | undefined) =>
      v === undefined || !Number.isFinite(v) ? "-" : v.toFixed(digits);
    rows.push([what, fmt(a), fmt(b), ratio(b, a)]);
  };
  const n = config.logTxns;
  row("build: ms (multi creates)", (r) => r.buildMs);
  row(`${n} setData txns: ms`, (r) => r.logTxnsMs);
  row("snapshot taken at start, ms (after build)", (r) => r.afterBuild.timings.snapshotMs);
  row("snapshot taken at start, ms (snapshot only)", (r) => r.snapOnly.timings.snapshotMs);
  row("snapshot taken at start, ms (+log)", (r) => r.snapAndLog.timings.snapshotMs);
  row("snapshot only: first read, ms", (r) => r.snapOnly.firstReadMs);
  row("snapshot only: serving (srvr), ms", (r) => r.snapOnly.servingMs);
  row("snapshot only: server's load, ms", (r) => r.snapOnly.timings.loadedMs);
  row("snapshot only: RSS after load, MiB", (r) => r.snapOnly.rssMiB, 1);
  row(`snapshot + ${n} txns: first read, ms`, (r) => r.snapAndLog.firstReadMs);
  row(`snapshot + ${n} txns: serving (srvr), ms`, (r) => r.snapAndLog.servingMs);
  row(`snapshot + ${n} txns: server's load, ms`, (r) => r.snapAndLog.timings.loadedMs);
  row(`snapshot + ${n} txns: txns replayed`, (r) => r.snapAndLog.timings.replayed);
  row(`snapshot + ${n} txns: RSS after load, MiB`, (r) => r.snapAndLog.rssMiB, 1);
  row("log only (the build): first read, ms", (r) => r.afterBuild.firstReadMs);
  row("log only (the build): server's load, ms", (r) => r.afterBuild.timings.loadedMs);
  row("clean stop (SIGTERM to exit), ms", (r) => r.snapOnly.stopMs);
  console.log(
    `\nsnapshot and recovery, ${config.nodes} znodes (${Math.ceil(config.nodes / config.children)} ` +
      `parents × ${config.children} children, 16 bytes each) (ratio = zkts/ZooKeeper; lower is better)\n`,
  );
  table(["", "ZK", "zkts", "ratio"], rows, 1);
  console.log(
    `znodes (mntr zk_znode_count): zookeeper ${zk?.znodes ?? "-"}, zkts ${zt?.znodes ?? "-"}; ` +
      `build txns ${zk?.buildTxns ?? zt?.buildTxns ?? "-"} (multis)`,
  );
}

// ---------------------------------------------------------------- main

function machine(): string {
  let fs = "?";
  try {
    const df = execFileSync("df", ["-T", os.tmpdir()], { encoding: "utf8" }).trim().split("\n");
    const cols = df[1]?.split(/\s+/) ?? [];
    fs = `${cols[1] ?? "?"} on ${cols[0] ?? "?"} (mounted at ${cols[6] ?? "?"})`;
  } catch {
    // df missing: the filesystem stays "?".
  }
  return (
    `${os.availableParallelism()} cores (${os.cpus()[0]?.model ?? "?"}), ` +
    `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ${os.platform()} ${os.release()}, ` +
    `node ${process.version}; data dirs in ${os.tmpdir()}: ${fs}`
  );
}

async function main(): Promise<void> {
  const config = readConfig(process.argv.slice(2));
  const started = Date.now();
  if (config.zkts === "dist" && config.build && config.servers.includes("zkts")) {
    console.error("npm run build ...");
    execFileSync("npm", ["run", "build"], { stdio: ["ignore", 2, 2] });
  }
  const zkts = await loadZkts(config.zkts);
  console.log(
    `zkts durability benchmark, ${new Date().toISOString()}${config.quick ? " (quick)" : ""}`,
  );
  console.log(`machine: ${machine()}; load average at start ${loadAverage()}`);
  console.log(
    `servers: Apache ZooKeeper (JVM -Xmx${config.zkHeap} -XX:+UseSerialGC C2) and zkts from ` +
      `${config.zkts} (node --max-old-space-size=${config.nodeHeapMb}${config.nodeFlags.map((f) => ` ${f}`).join("")}), both forceSync=yes, ` +
      `other settings ZooKeeper's defaults (snapCount 100000 for writes)`,
  );
  let fsync: FsyncResult | undefined;
  if (config.parts.includes("fsync")) {
    fsync = await measureFsync(config.fsyncSeconds);
    console.log(
      `\nraw fsync (128-byte write + fdatasync, preallocated file, ${config.fsyncSeconds} s): ` +
        `${Math.round(fsync.rate)} fsyncs/s, p50 ${fmtMs(fsync.p50)} ms, p99 ${fmtMs(fsync.p99)} ms ` +
        `(${fsync.count} syncs)`,
    );
  }
  if (config.parts.includes("writes")) {
    console.log(
      `\nwrites: ${config.dataBytes}-byte setData (round-robin over ${FIXED} znodes) and create, ` +
        `${config.writeSeconds} s per run, ${config.rounds} round(s) per server, servers ` +
        `alternated ABBA, concurrency over min(${config.sessions}, concurrency) sessions`,
    );
    printWrites(await measureWrites(config, zkts), fsync);
  }
  if (config.parts.includes("recovery")) {
    const results = new Map<ServerName, RecoveryResult>();
    for (const name of config.servers) results.set(name, await measureRecovery(name, config, zkts));
    printRecovery(config, results);
  }
  console.log(
    `\nload average at end ${loadAverage()}; total time ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
