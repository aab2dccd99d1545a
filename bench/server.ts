/**
 * Server benchmark: Apache ZooKeeper 3.8 standalone against zkts standalone, each its own
 * process, both driven by our client from this process with several sessions, on the same ops,
 * counts and concurrency. Each scenario (op x concurrency) runs `rounds` times per server, the
 * servers alternated ABBA so that machine noise falls on both. Reports ops/s, p50/p99 latency,
 * server CPU µs/op (/proc/<pid>/stat of the server process) and server memory (VmRSS). A
 * benchmark, not a test: a missed aim is printed, never turned into an exit code; only errors
 * exit non-zero.
 *
 *     npm run bench:server                                   (runs `npm run build` first)
 *     npm run bench:server -- --ops=getData,exists --rounds=2 --ops-high=10000
 *     npm run bench:server -- --profile=/tmp/prof            (zkts under node --cpu-prof)
 *
 * Every knob is `--name=value` or env `BENCH_NAME` (upper case, "-" as "_"); see README.md.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import type { ZooKeeper } from "../src/index.js";
import { startZooKeeper } from "../test/harness/apache-zookeeper.js";
import { clockTicksPerSecond, cpuMicros, processCpuMicros } from "./cpu.js";
import { type Client, type Issue, loadZkts, OPS, type Op, zktsClient } from "./drivers.js";
import { type Memory, memoryOf, threadCpuMicros, threadCpuNanos } from "./proc.js";
import { split } from "./sessions.js";
import { type ServerProcess, startZktsProcess } from "./zkts-process.js";

const SERVER_NAMES = ["zookeeper", "zkts"] as const;
type ServerName = (typeof SERVER_NAMES)[number];

interface Config {
  readonly opsLow: number;
  readonly opsHigh: number;
  readonly concurrency: number;
  readonly sessions: number;
  readonly warmupLow: number;
  readonly warmupHigh: number;
  readonly rounds: number;
  readonly nodes: number;
  readonly dataBytes: number;
  readonly forceSync: "yes" | "no";
  readonly ops: readonly Op[];
  readonly servers: readonly ServerName[];
  readonly zkts: "src" | "dist";
  readonly build: boolean;
  readonly profile: string | undefined;
}

const KNOWN_ARGS: ReadonlySet<string> = new Set([
  "ops-low",
  "ops-high",
  "concurrency",
  "sessions",
  "warmup-low",
  "warmup-high",
  "rounds",
  "nodes",
  "data-bytes",
  "force-sync",
  "ops",
  "servers",
  "zkts",
  "build",
  "profile",
]);

function readConfig(argv: readonly string[]): Config {
  const args = new Map<string, string>();
  for (const arg of argv) {
    const match = /^--([\w-]+)=(.*)$/.exec(arg);
    if (!match || !KNOWN_ARGS.has(match[1]!)) {
      throw new Error(`bad argument ${arg}: expected --name=value, name one of ${[...KNOWN_ARGS]}`);
    }
    args.set(match[1]!, match[2]!);
  }
  const raw = (name: string): string | undefined =>
    args.get(name) ?? process.env[`BENCH_${name.toUpperCase().replaceAll("-", "_")}`];
  const int = (name: string, fallback: number): number => {
    const value = Number(raw(name) ?? fallback);
    if (!Number.isInteger(value) || value < 0) throw new Error(`--${name} must be an integer >= 0`);
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
  const oneOf = <T extends string>(name: string, allowed: readonly T[], fallback: T): T => {
    const value = raw(name) ?? fallback;
    if (!allowed.includes(value as T)) throw new Error(`--${name} must be one of ${allowed}`);
    return value as T;
  };
  return {
    opsLow: int("ops-low", 2_000),
    opsHigh: int("ops-high", 50_000),
    concurrency: Math.max(1, int("concurrency", 1_000)),
    sessions: Math.max(1, int("sessions", 4)),
    warmupLow: int("warmup-low", 200),
    warmupHigh: int("warmup-high", 2_000),
    rounds: Math.max(1, int("rounds", 4)),
    nodes: Math.max(1, int("nodes", 10_000)),
    dataBytes: int("data-bytes", 100),
    forceSync: oneOf("force-sync", ["yes", "no"], "no"),
    ops: list("ops", OPS),
    servers: list("servers", SERVER_NAMES),
    zkts: oneOf("zkts", ["dist", "src"], "dist"),
    build: oneOf("build", ["yes", "no"], "yes") === "yes",
    profile: raw("profile") || undefined,
  };
}

/** One measured run. */
interface Sample {
  ops: number;
  wallMs: number;
  clientCpuUs: number;
  serverCpuUs: number;
  /** The same from /proc/<pid>/stat's utime+stime (clock ticks), as a check. */
  ticksCpuUs: number;
  /** Each request's latency, ms. */
  latencies: Float64Array;
}

interface Scenario {
  readonly op: Op;
  readonly concurrency: number;
  readonly count: number;
  readonly warmup: number;
}

/** One server under test, with its own admin session and benchmark sessions. */
interface Target {
  readonly name: ServerName;
  readonly process: ServerProcess;
  readonly admin: ZooKeeper;
  readonly sessions: readonly Client[];
  readonly fixedPaths: readonly string[];
  readonly memory: { idle: Memory; loaded?: Memory; end?: Memory };
  createRun: number;
  pathOffset: number;
}

const ROOT = "/zkts-bench";

/**
 * Runs `paths.length` ops on one session keeping `concurrency` in flight: every completion
 * issues the next one. A session answers in request order (ZooKeeper's FIFO client order), so
 * each completion belongs to the oldest request in flight: its start time is at the head of a
 * ring, and no per-op closure is needed. Latencies (ms) go to latencies[offset ...].
 */
function runSession(
  issue: Issue,
  paths: readonly string[],
  concurrency: number,
  latencies: Float64Array,
  offset: number,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const count = paths.length;
    const ring = Math.max(1, Math.min(concurrency, count));
    const starts = new Float64Array(ring);
    let head = 0;
    let tail = 0;
    let next = 0;
    let done = 0;
    let failed = false;
    const start = (): void => {
      starts[tail] = performance.now();
      tail = tail + 1 === ring ? 0 : tail + 1;
      issue(paths[next++]!, ok, fail);
    };
    const ok = (): void => {
      if (failed) return;
      latencies[offset + done++] = performance.now() - starts[head]!;
      head = head + 1 === ring ? 0 : head + 1;
      if (next < count) start();
      else if (done === count) resolve();
    };
    const fail = (error: unknown): void => {
      if (failed) return;
      failed = true;
      reject(error instanceof Error ? error : new Error(String(error)));
    };
    if (count === 0) resolve();
    else while (next < ring) start();
  });
}

class Bench {
  readonly config: Config;
  readonly targets: Target[];
  readonly ticks = clockTicksPerSecond();
  /** Runs whose server CPU came from clock ticks because a server thread exited meanwhile. */
  inexact = 0;

  constructor(config: Config, targets: Target[]) {
    this.config = config;
    this.targets = targets;
  }

  /** Per session, the paths of its share of `count` ops (built before any clock starts). */
  paths(target: Target, op: Op, count: number, sessions: number): string[][] {
    const counts = split(count, sessions);
    if (op === "create") {
      const run = target.createRun++;
      return counts.map((n, s) =>
        Array.from({ length: n }, (_, i) => `${ROOT}/created/r${run}s${s}-${i}`),
      );
    }
    // Sessions start far apart in the fixed set, and each run starts where the last one ended.
    const { fixedPaths } = target;
    const stride = Math.floor(fixedPaths.length / sessions);
    const base = target.pathOffset;
    target.pathOffset = (base + count) % fixedPaths.length;
    return counts.map((n, s) =>
      Array.from({ length: n }, (_, i) => fixedPaths[(base + s * stride + i) % fixedPaths.length]!),
    );
  }

  /** Runs `count` ops at `concurrency`, spread over min(sessions, concurrency) sessions. */
  async run(target: Target, op: Op, concurrency: number, count: number): Promise<Sample> {
    const sessions = Math.min(this.config.sessions, concurrency, target.sessions.length);
    const paths = this.paths(target, op, count, sessions);
    const inFlight = split(concurrency, sessions);
    const latencies = new Float64Array(count);
    const offsets = paths.map((_, s) => paths.slice(0, s).reduce((n, p) => n + p.length, 0));
    const { pid } = target.process;
    const serverBefore = cpuMicros(pid, this.ticks);
    const threadsBefore = threadCpuNanos(pid);
    const clientBefore = process.cpuUsage();
    const start = performance.now();
    await Promise.all(
      paths.map((p, s) =>
        runSession(target.sessions[s]![op], p, inFlight[s]!, latencies, offsets[s]!),
      ),
    );
    const wallMs = performance.now() - start;
    const clientCpuUs = processCpuMicros(process.cpuUsage(clientBefore));
    const threadsAfter = threadCpuNanos(pid);
    const ticksUs = cpuMicros(pid, this.ticks) - serverBefore;
    const exactUs = threadCpuMicros(threadsBefore, threadsAfter);
    if (exactUs === undefined) this.inexact++;
    const serverCpuUs = exactUs ?? ticksUs;
    return { ops: count, wallMs, clientCpuUs, serverCpuUs, ticksCpuUs: ticksUs, latencies };
  }

  /** A short untimed warm-up, then the measured run; what create made is deleted, untimed. */
  async measure(target: Target, scenario: Scenario): Promise<Sample> {
    const { op, concurrency } = scenario;
    await this.run(target, op, concurrency, scenario.warmup);
    await clearCreated(target, this.config.concurrency);
    const sample = await this.run(target, op, concurrency, scenario.count);
    await clearCreated(target, this.config.concurrency);
    return sample;
  }
}

/** Runs `paths.length` calls of `issue` with `concurrency` in flight (set-up and clean-up). */
function runAll(issue: Issue, paths: readonly string[], concurrency: number): Promise<void> {
  return runSession(issue, paths, concurrency, new Float64Array(paths.length), 0);
}

async function clearCreated(target: Target, concurrency: number): Promise<void> {
  await deleteChildren(target.admin, `${ROOT}/created`, concurrency);
}

async function deleteChildren(zk: ZooKeeper, path: string, concurrency: number): Promise<void> {
  const children = await zk.getChildren(path);
  const del: Issue = (child, ok, fail) => {
    zk.delete(child).then(ok, fail);
  };
  await runAll(
    del,
    children.map((child) => `${path}/${child}`),
    concurrency,
  );
}

function scenarios(config: Config): Scenario[] {
  const out: Scenario[] = [];
  for (const op of config.ops) {
    out.push({ op, concurrency: 1, count: config.opsLow, warmup: config.warmupLow });
    out.push({
      op,
      concurrency: config.concurrency,
      count: config.opsHigh,
      warmup: config.warmupHigh,
    });
  }
  return out.filter((s) => s.count > 0);
}

async function startProcess(name: ServerName, config: Config): Promise<ServerProcess> {
  if (name === "zookeeper") {
    return startZooKeeper({
      extraConfig: { forceSync: config.forceSync },
      // The harness keeps C1 only (start-up matters in tests); a benchmark wants C2.
      jvmFlags: ["-Xmx512m", "-XX:TieredStopAtLevel=4"],
    });
  }
  return startZktsProcess({
    from: config.zkts,
    profileDir: config.profile,
    args: ["--max-client-cnxns", "0", "--4lw-whitelist", "*"],
  });
}

/** Connects the admin and benchmark sessions and loads the fixed znodes. */
async function prepare(
  name: ServerName,
  server: ServerProcess,
  config: Config,
  opened: (close: () => Promise<void>) => void,
): Promise<Target> {
  const zkts = await loadZkts(config.zkts);
  const idle = memoryOf(server.pid);
  const admin = await zkts.connect(server.connectString, { sessionTimeoutMs: 30_000 });
  opened(() => admin.close());
  const data = Buffer.alloc(config.dataBytes, 0x62);
  const sessions: Client[] = [];
  for (let i = 0; i < config.sessions; i++) {
    const client = await zktsClient(zkts, server.connectString, data);
    opened(() => client.close());
    sessions.push(client);
  }
  await admin.create(ROOT);
  await admin.create(`${ROOT}/fixed`);
  await admin.create(`${ROOT}/created`);
  const fixedPaths = Array.from({ length: config.nodes }, (_, i) => `${ROOT}/fixed/n${i}`);
  const initial = Buffer.alloc(config.dataBytes, 0x61);
  const create: Issue = (path, ok, fail) => {
    admin.create(path, initial).then(ok, fail);
  };
  await runAll(create, fixedPaths, config.concurrency);
  const memory = { idle, loaded: memoryOf(server.pid) };
  return {
    name,
    process: server,
    admin,
    sessions,
    fixedPaths,
    memory,
    createRun: 0,
    pathOffset: 0,
  };
}

/** JITs client and servers on every op and both concurrencies before anything is timed. */
async function warmUp(bench: Bench): Promise<void> {
  const { config } = bench;
  for (const op of config.ops) {
    for (const target of bench.targets) {
      await bench.run(target, op, 1, config.warmupLow * 2);
      await bench.run(
        target,
        op,
        config.concurrency,
        Math.max(config.warmupHigh * 10, config.concurrency),
      );
      await clearCreated(target, config.concurrency);
    }
  }
}

/** Every measured run, per scenario and server, in round order. */
type Results = Map<Scenario, Map<ServerName, Sample[]>>;

async function measureAll(bench: Bench): Promise<Results> {
  const results: Results = new Map();
  for (const scenario of scenarios(bench.config)) {
    const byServer = new Map<ServerName, Sample[]>(bench.targets.map((t) => [t.name, []]));
    results.set(scenario, byServer);
    for (let round = 0; round < bench.config.rounds; round++) {
      // ABBA: neither server always runs right after the other's garbage and JIT work.
      const order = round % 2 === 0 ? bench.targets : [...bench.targets].reverse();
      for (const target of order) {
        const sample = await bench.measure(target, scenario);
        const sorted = sample.latencies.slice().sort();
        console.error(
          `  ${scenario.op} x${scenario.concurrency} round ${round + 1} ${target.name}: ` +
            `${Math.round(rate(sample))} ops/s, p50 ${fmtMs(quantile(sorted, 0.5))} ms, ` +
            `p99 ${fmtMs(quantile(sorted, 0.99))} ms, server ${perOp(sample.serverCpuUs, sample)} ` +
            `µs/op, client ${perOp(sample.clientCpuUs, sample)} µs/op, ${fmtMemory(target)}`,
        );
        byServer.get(target.name)?.push(sample);
      }
    }
  }
  return results;
}

const rate = (s: { ops: number; wallMs: number }): number => (s.ops * 1000) / s.wallMs;

function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

function fmtMemory(target: Target): string {
  const { rssKiB, peakKiB } = memoryOf(target.process.pid);
  return `server RSS ${(rssKiB / 1024).toFixed(0)} MiB (peak ${(peakKiB / 1024).toFixed(0)})`;
}

function fmtMs(ms: number): string {
  if (Number.isNaN(ms)) return "-";
  return ms < 1 ? ms.toFixed(3) : ms < 10 ? ms.toFixed(2) : ms.toFixed(1);
}

function perOp(us: number, sample: { ops: number }): string {
  return (us / sample.ops).toFixed(1);
}

/** All rounds of one server in one scenario: summed counts, every latency sorted. */
interface Summary {
  ops: number;
  wallMs: number;
  clientCpuUs: number;
  serverCpuUs: number;
  sorted: Float64Array;
  rates: number[];
}

function summarize(samples: readonly Sample[] | undefined): Summary | undefined {
  if (samples === undefined || samples.length === 0) return undefined;
  const sorted = new Float64Array(samples.reduce((n, s) => n + s.latencies.length, 0));
  let at = 0;
  const sum: Summary = { ops: 0, wallMs: 0, clientCpuUs: 0, serverCpuUs: 0, sorted, rates: [] };
  for (const s of samples) {
    sum.ops += s.ops;
    sum.wallMs += s.wallMs;
    sum.clientCpuUs += s.clientCpuUs;
    sum.serverCpuUs += s.serverCpuUs;
    sorted.set(s.latencies, at);
    at += s.latencies.length;
    sum.rates.push(rate(s));
  }
  sorted.sort();
  return sum;
}

/** ARCHITECTURE.md's target for zkts's server CPU per op under load. */
const CPU_TARGET_US: Record<Op, number> = { getData: 8, exists: 8, setData: 12, create: 16 };
const READS: ReadonlySet<Op> = new Set(["getData", "exists"]);

function table(header: readonly string[], rows: readonly string[][], leftColumns: number): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i < leftColumns ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join("  ")
      .trimEnd();
  console.log(line(header));
  for (const row of rows) console.log(line(row));
}

const ratio = (a: number | undefined, b: number | undefined): string =>
  a === undefined || b === undefined || b === 0 ? "-" : (a / b).toFixed(2);

function printResults(results: Results): void {
  const speedRows: string[][] = [];
  const cpuRows: string[][] = [];
  for (const [scenario, byServer] of results) {
    const zk = summarize(byServer.get("zookeeper"));
    const zt = summarize(byServer.get("zkts"));
    const roundRatios = (zt?.rates ?? []).flatMap((r, i) => {
      const z = zk?.rates[i];
      return z === undefined ? [] : [r / z];
    });
    const zkRate = zk && rate(zk);
    const ztRate = zt && rate(zt);
    const isRead = READS.has(scenario.op);
    const speedAim =
      !isRead || zkRate === undefined || ztRate === undefined
        ? ""
        : `${ztRate >= zkRate ? "met" : "MISSED"} ≥1.00`;
    speedRows.push([
      scenario.op,
      String(scenario.concurrency),
      zkRate === undefined ? "-" : String(Math.round(zkRate)),
      ztRate === undefined ? "-" : String(Math.round(ztRate)),
      ratio(ztRate, zkRate),
      roundRatios.length === 0
        ? "-"
        : `${Math.min(...roundRatios).toFixed(2)}-${Math.max(...roundRatios).toFixed(2)}`,
      speedAim,
      fmtMs(zk ? quantile(zk.sorted, 0.5) : Number.NaN),
      fmtMs(zt ? quantile(zt.sorted, 0.5) : Number.NaN),
      fmtMs(zk ? quantile(zk.sorted, 0.99) : Number.NaN),
      fmtMs(zt ? quantile(zt.sorted, 0.99) : Number.NaN),
    ]);
    const zkCpu = zk && zk.serverCpuUs / zk.ops;
    const ztCpu = zt && zt.serverCpuUs / zt.ops;
    const target = CPU_TARGET_US[scenario.op];
    const cpuAim =
      scenario.concurrency === 1 || ztCpu === undefined
        ? ""
        : `${ztCpu <= target ? "met" : "MISSED"} ≤${target}`;
    cpuRows.push([
      scenario.op,
      String(scenario.concurrency),
      zkCpu === undefined ? "-" : zkCpu.toFixed(1),
      ztCpu === undefined ? "-" : ztCpu.toFixed(1),
      ratio(ztCpu, zkCpu),
      cpuAim,
      zk ? (zk.clientCpuUs / zk.ops).toFixed(1) : "-",
      zt ? (zt.clientCpuUs / zt.ops).toFixed(1) : "-",
    ]);
  }
  console.log("\nthroughput and latency (ratio = zkts/ZooKeeper; higher ops/s is better)\n");
  table(
    [
      "op",
      "conc",
      "ops/s ZK",
      "zkts",
      "ratio",
      "rounds' range",
      "aim",
      "p50 ms ZK",
      "zkts",
      "p99 ms ZK",
      "zkts",
    ],
    speedRows,
    2,
  );
  console.log("\nserver CPU per op (ratio = zkts/ZooKeeper; lower is better)\n");
  table(
    ["op", "conc", "server µs/op ZK", "zkts", "ratio", "aim", "client µs/op vs ZK", "vs zkts"],
    cpuRows,
    2,
  );
}

function printMemory(targets: readonly Target[]): void {
  const zk = targets.find((t) => t.name === "zookeeper")?.memory;
  const zt = targets.find((t) => t.name === "zkts")?.memory;
  const mib = (m: Memory | undefined, peak = false): string =>
    m === undefined ? "-" : ((peak ? m.peakKiB : m.rssKiB) / 1024).toFixed(1);
  const row = (what: string, pick: (m: typeof zk) => Memory | undefined, peak = false) => {
    const a = pick(zk);
    const b = pick(zt);
    const aim =
      a && b
        ? `${(peak ? b.peakKiB < a.peakKiB : b.rssKiB < a.rssKiB) ? "met" : "MISSED"} <1.00`
        : "";
    return [
      what,
      mib(a, peak),
      mib(b, peak),
      a && b ? ((peak ? b.peakKiB / a.peakKiB : b.rssKiB / a.rssKiB) as number).toFixed(2) : "-",
      what === "idle (just started)" ? "" : aim,
    ];
  };
  console.log("\nserver memory, MiB (VmRSS from /proc/<pid>/status; ratio = zkts/ZooKeeper)\n");
  table(
    ["when", "RSS ZK", "zkts", "ratio", "aim"],
    [
      row("idle (just started)", (m) => m?.idle),
      row("after loading the znodes", (m) => m?.loaded),
      row("at the end", (m) => m?.end),
      row("peak (VmHWM at the end)", (m) => m?.end, true),
    ],
    1,
  );
}

/** The exact per-thread figures against /proc/<pid>/stat's ticks, summed over every run. */
function printCpuCheck(results: Results, inexact: number): void {
  const sums = new Map<ServerName, { exact: number; ticks: number }>();
  for (const byServer of results.values()) {
    for (const [name, samples] of byServer) {
      const sum = sums.get(name) ?? { exact: 0, ticks: 0 };
      for (const s of samples) {
        sum.exact += s.serverCpuUs;
        sum.ticks += s.ticksCpuUs;
      }
      sums.set(name, sum);
    }
  }
  const parts = [...sums].map(
    ([name, { exact, ticks }]) =>
      `${name} ${(exact / 1e6).toFixed(2)} s (schedstat) vs ${(ticks / 1e6).toFixed(2)} s (stat)`,
  );
  console.log(
    `
server CPU over all measured runs: ${parts.join("; ")}` +
      (inexact > 0 ? `; ${inexact} run(s) fell back to ticks (a server thread exited)` : ""),
  );
}

function loadAverage(): string {
  return os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");
}

function printHeader(
  config: Config,
  targets: readonly Target[],
  versions: Map<ServerName, string>,
): void {
  const cpu = os.cpus()[0]?.model ?? "unknown cpu";
  console.log(`zkts server benchmark, ${new Date().toISOString()}`);
  console.log(
    `machine: ${os.availableParallelism()} cores (${cpu}), ${os.platform()} ${os.release()}, ` +
      `node ${process.version}, load average at start ${loadAverage()}`,
  );
  for (const t of targets) {
    const what =
      t.name === "zookeeper"
        ? `Apache ZooKeeper ${versions.get(t.name) ?? "?"}, JVM -Xmx512m -XX:+UseSerialGC C2, ` +
          `forceSync=${config.forceSync} (txn log written${config.forceSync === "no" ? ", not fsynced" : " and fsynced"})`
        : `zkts ${versions.get(t.name) ?? "?"} from ${config.zkts === "dist" ? "dist/ (tsc output)" : "src/ through tsx"}, ` +
          `in memory (no txn log yet)${config.profile ? ", under node --cpu-prof" : ""}`;
    console.log(`server ${t.name}: pid ${t.process.pid}, ${t.process.connectString}: ${what}`);
  }
  console.log(
    `workload: our client (${config.zkts}) with ${config.sessions} sessions per server; per server and ` +
      `round ${config.opsLow} ops at concurrency 1 (one session) and ${config.opsHigh} at concurrency ` +
      `${config.concurrency} (spread over the sessions); ${config.rounds} rounds, servers alternated ` +
      `ABBA; warm-up ${config.warmupLow}/${config.warmupHigh} ops before each run; ${config.nodes} ` +
      `znodes of ${config.dataBytes} bytes for setData/getData/exists; creates of ${config.dataBytes} bytes`,
  );
  console.log(
    "server CPU = the server process's threads' time on CPU (/proc/<pid>/task/*/schedstat, ns; " +
      "all threads, JIT and GC included; utime+stime from /proc/<pid>/stat, 10 ms ticks, if a " +
      "thread exited during the run); client CPU = this process; ops/s = all rounds' ops / all " +
      "rounds' wall time; p50/p99 over every request of every round",
  );
}

function printAims(config: Config): void {
  console.log(
    "\naims (a benchmark: a missed aim is reported, not an error):\n" +
      "  - reads (getData, exists) at least as fast as Apache ZooKeeper: zkts/ZK ops/s ≥ 1.00 at\n" +
      `    concurrency 1 and ${config.concurrency};\n` +
      "  - at lower memory: zkts/ZK RSS < 1.00 after the load and at the end;\n" +
      "  - ARCHITECTURE.md's target for zkts's server CPU per op under load: ≤ 8 µs per read,\n" +
      "    ≤ 12 per setData, ≤ 16 per create (about twice ZooKeeper's efficiency).",
  );
}

function build(): void {
  console.error("npm run build ...");
  execFileSync("npm", ["run", "build"], { stdio: ["ignore", 2, 2] });
}

async function main(): Promise<void> {
  const config = readConfig(process.argv.slice(2));
  const started = Date.now();
  if (config.zkts === "dist" && config.build && config.servers.includes("zkts")) build();
  const processes: ServerProcess[] = [];
  const closers: (() => Promise<void>)[] = [];
  try {
    const targets: Target[] = [];
    for (const name of config.servers) {
      const server = await startProcess(name, config);
      processes.push(server);
      targets.push(await prepare(name, server, config, (close) => closers.push(close)));
    }
    const versions = new Map<ServerName, string>();
    for (const t of targets)
      versions.set(
        t.name,
        (await srvrField(t.process, "Zookeeper version")).split(",")[0]!.replace(/-\$\{.*\}$/, ""),
      );
    const bench = new Bench(config, targets);
    printHeader(config, targets, versions);
    await warmUp(bench);
    const results = await measureAll(bench);
    const nodeCounts: string[] = [];
    for (const t of targets) {
      t.memory.end = memoryOf(t.process.pid);
      nodeCounts.push(`${t.name} ${await srvrField(t.process, "Node count")}`);
    }
    printResults(results);
    printMemory(targets);
    console.log(`znodes at the end (srvr): ${nodeCounts.join(", ")}`);
    printCpuCheck(results, bench.inexact);
    printAims(config);
    console.log(`load average at end ${loadAverage()}`);
    const zkts = targets.find((t) => t.name === "zkts");
    if (config.profile !== undefined && zkts !== undefined) {
      const received = await srvrField(zkts.process, "Received");
      console.log(
        `\nzkts CPU profile (whole life of the server, all ops): ${config.profile}/, written when ` +
          `it exits; it received ${received} requests:\n` +
          `  npx tsx bench/profile-top.ts --ops=${received} ${config.profile}/<newest>.cpuprofile`,
      );
    }
    console.log(`\ntotal time ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } finally {
    await cleanUp(processes, closers);
  }
  if (config.profile !== undefined) {
    const newest = newestProfile(config.profile);
    if (newest !== undefined) console.log(`zkts CPU profile: ${newest}`);
  }
}

async function srvrField(server: ServerProcess, field: string): Promise<string> {
  const reply = await server.fourLetterWord("srvr");
  const line = reply.split("\n").find((l) => l.startsWith(`${field}:`));
  return line?.slice(field.length + 1).trim() ?? "?";
}

function newestProfile(dir: string): string | undefined {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(".cpuprofile"))
    .map((f) => join(dir, f));
  files.sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  return files[0];
}

async function cleanUp(
  processes: readonly ServerProcess[],
  closers: readonly (() => Promise<void>)[],
): Promise<void> {
  const errors: unknown[] = [];
  for (const close of closers) {
    try {
      await close();
    } catch (error) {
      errors.push(error);
    }
  }
  for (const server of processes) {
    try {
      await server.stop();
    } catch (error) {
      errors.push(error);
    }
  }
  if (errors.length > 0) throw new AggregateError(errors, "clean-up failed");
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
