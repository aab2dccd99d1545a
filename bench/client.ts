/**
 * Client benchmark: zkts's client against node-zookeeper-client (nzc), both talking to one Apache
 * ZooKeeper 3.8 standalone started here (forceSync=no by default), on the same ops, counts and
 * concurrency. Each scenario (op x concurrency) runs `rounds` times per client, the clients
 * alternated ABBA so that machine noise falls on both. Reports ops/s, client CPU µs/op (this
 * process) and server CPU µs/op (/proc of the JVM). A benchmark, not a test: a missed aim is
 * printed, never turned into an exit code; only errors exit non-zero.
 *
 *     npm run bench:client
 *     npm run bench:client -- --ops=getData,exists --rounds=2 --ops-high=10000
 *     npm run build && npm run bench:client -- --zkts=dist     (tsc's output instead of src/)
 *     npm run bench:client -- --profile=/tmp/prof              (a .cpuprofile per measured run)
 *
 * Every knob is `--name=value` or env `BENCH_NAME` (upper case, "-" as "_"); see README.md.
 */
import { createRequire } from "node:module";
import os from "node:os";
import { connect, type ZooKeeper } from "../src/index.js";
import { startZooKeeper, type ZooKeeperProcess } from "../test/harness/apache-zookeeper.js";
import { clockTicksPerSecond, cpuMicros, processCpuMicros } from "./cpu.js";
import {
  type Client,
  type Issue,
  loadZkts,
  type NzcModule,
  nzcClient,
  OPS,
  type Op,
  zktsClient,
} from "./drivers.js";
import { RunProfiler } from "./profiler.js";

interface Config {
  readonly opsLow: number;
  readonly opsHigh: number;
  readonly concurrency: number;
  readonly warmupLow: number;
  readonly warmupHigh: number;
  readonly rounds: number;
  readonly nodes: number;
  readonly dataBytes: number;
  readonly forceSync: "yes" | "no";
  readonly ops: readonly Op[];
  readonly clients: readonly string[];
  readonly zkts: "src" | "dist";
  /** A directory for one CPU profile per measured run, or undefined for none. */
  readonly profile: string | undefined;
}

/** One measured run: how many ops, how long, and the CPU both sides spent on them. */
interface Sample {
  ops: number;
  wallMs: number;
  clientCpuUs: number;
  serverCpuUs: number;
}

interface Scenario {
  readonly op: Op;
  readonly concurrency: number;
  readonly count: number;
  readonly warmup: number;
}

const CLIENT_NAMES = ["zkts", "nzc"] as const;

const KNOWN_ARGS: ReadonlySet<string> = new Set([
  "ops-low",
  "ops-high",
  "concurrency",
  "warmup-low",
  "warmup-high",
  "rounds",
  "nodes",
  "data-bytes",
  "force-sync",
  "ops",
  "clients",
  "zkts",
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
  const zkts = raw("zkts") ?? "src";
  if (zkts !== "src" && zkts !== "dist") throw new Error("--zkts must be src or dist");
  const forceSync = raw("force-sync") ?? "no";
  if (forceSync !== "yes" && forceSync !== "no") throw new Error("--force-sync must be yes or no");
  const config: Config = {
    opsLow: int("ops-low", 2_500),
    opsHigh: int("ops-high", 25_000),
    concurrency: Math.max(1, int("concurrency", 1_000)),
    warmupLow: int("warmup-low", 200),
    warmupHigh: int("warmup-high", 2_000),
    rounds: Math.max(1, int("rounds", 4)),
    nodes: Math.max(1, int("nodes", 1_000)),
    dataBytes: int("data-bytes", 16),
    forceSync,
    ops: list("ops", OPS),
    clients: list("clients", CLIENT_NAMES),
    zkts,
    profile: raw("profile") || undefined,
  };
  return config;
}

/**
 * Runs `count` ops keeping `concurrency` in flight: every completion issues the next one.
 * Paths are built before the clock starts; the completion callbacks are made once per run, so
 * the driver costs the same per op for both clients.
 */
function runOps(issue: Issue, paths: readonly string[], concurrency: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const count = paths.length;
    let next = 0;
    let done = 0;
    let failed = false;
    const ok = (): void => {
      if (failed) return;
      done++;
      if (next < count) issue(paths[next++]!, ok, fail);
      else if (done === count) resolve();
    };
    const fail = (error: unknown): void => {
      if (failed) return;
      failed = true;
      reject(error instanceof Error ? error : new Error(String(error)));
    };
    if (count === 0) resolve();
    while (next < Math.min(concurrency, count)) issue(paths[next++]!, ok, fail);
  });
}

class Bench {
  readonly config: Config;
  readonly server: ZooKeeperProcess;
  readonly root: string;
  readonly admin: ZooKeeper;
  readonly clients: Client[];
  readonly fixedPaths: string[];
  readonly ticks: number;
  readonly profiler: RunProfiler | undefined;
  private createRun = 0;
  private profiled = 0;

  constructor(
    config: Config,
    server: ZooKeeperProcess,
    admin: ZooKeeper,
    clients: Client[],
    root: string,
  ) {
    this.config = config;
    this.server = server;
    this.admin = admin;
    this.clients = clients;
    this.root = root;
    this.fixedPaths = Array.from({ length: config.nodes }, (_, i) => `${root}/fixed/n${i}`);
    this.ticks = clockTicksPerSecond();
    this.profiler = config.profile === undefined ? undefined : new RunProfiler(config.profile);
  }

  /** Paths for `count` ops: new nodes for create, the fixed set round-robin for the rest. */
  paths(op: Op, client: Client, count: number): string[] {
    if (op !== "create") {
      return Array.from({ length: count }, (_, i) => this.fixedPaths[i % this.fixedPaths.length]!);
    }
    const prefix = `${this.root}/created/${client.name}-${this.createRun++}-`;
    return Array.from({ length: count }, (_, i) => `${prefix}${i}`);
  }

  async measure(client: Client, scenario: Scenario): Promise<Sample> {
    const { op, concurrency } = scenario;
    await runOps(client[op], this.paths(op, client, scenario.warmup), concurrency);
    await this.clearCreated();
    const paths = this.paths(op, client, scenario.count);
    await this.profiler?.start();
    const serverBefore = cpuMicros(this.server.pid, this.ticks);
    const clientBefore = process.cpuUsage();
    const start = performance.now();
    await runOps(client[op], paths, concurrency);
    const wallMs = performance.now() - start;
    const clientCpuUs = processCpuMicros(process.cpuUsage(clientBefore));
    const serverCpuUs = cpuMicros(this.server.pid, this.ticks) - serverBefore;
    const run = `${String(++this.profiled).padStart(3, "0")}-${op}-${concurrency}-${client.name}`;
    await this.profiler?.stop(run);
    await this.clearCreated();
    return { ops: paths.length, wallMs, clientCpuUs, serverCpuUs };
  }

  /** Deletes what create made, untimed, so every create run starts from the same tree. */
  async clearCreated(): Promise<void> {
    await deleteChildren(this.admin, `${this.root}/created`, this.config.concurrency);
  }
}

async function deleteChildren(zk: ZooKeeper, path: string, concurrency: number): Promise<void> {
  const children = await zk.getChildren(path);
  const del: Issue = (child, ok, fail) => {
    zk.delete(child).then(ok, fail);
  };
  const paths = children.map((child) => `${path}/${child}`);
  await runOps(del, paths, Math.max(1, concurrency));
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

async function loadNzc(): Promise<NzcModule> {
  const require = createRequire(import.meta.url);
  return require("node-zookeeper-client") as NzcModule;
}

async function main(): Promise<void> {
  const config = readConfig(process.argv.slice(2));
  const started = Date.now();
  const server = await startZooKeeper({
    extraConfig: { forceSync: config.forceSync },
    // The harness defaults to C1 only (start-up matters in tests); a benchmark wants C2.
    jvmFlags: ["-Xmx512m", "-XX:TieredStopAtLevel=4"],
  });
  const opened: Client[] = [];
  let admin: ZooKeeper | undefined;
  let root: string | undefined;
  try {
    admin = await connect(server.connectString);
    root = `/zkts-bench-${process.pid}-${Date.now()}`;
    await admin.create(root);
    await admin.create(`${root}/fixed`);
    await admin.create(`${root}/created`);
    const data = Buffer.alloc(config.dataBytes, 0x62);
    await createFixed(admin, root, config);
    const nzc = await loadNzc();
    for (const name of config.clients) {
      opened.push(
        name === "zkts"
          ? await zktsClient(await loadZkts(config.zkts), server.connectString, data)
          : await nzcClient(nzc, server.connectString, data),
      );
    }
    const bench = new Bench(config, server, admin, opened, root);
    printHeader(config, server, (await server.fourLetterWord("srvr")).split("\n")[0] ?? "");
    await warmUp(bench);
    const results = await runAll(bench);
    printTable(config, results);
    bench.profiler?.close();
    if (config.profile !== undefined)
      console.log(`CPU profiles of the measured runs: ${config.profile}/`);
    console.log(`\ntotal time ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } finally {
    await cleanUp(server, admin, opened, root, config);
  }
}

async function createFixed(admin: ZooKeeper, root: string, config: Config): Promise<void> {
  const data = Buffer.alloc(config.dataBytes, 0x61);
  const create: Issue = (path, ok, fail) => {
    admin.create(path, data).then(ok, fail);
  };
  const paths = Array.from({ length: config.nodes }, (_, i) => `${root}/fixed/n${i}`);
  await runOps(create, paths, Math.max(1, config.concurrency));
}

/** JITs both clients and the server on every op before anything is timed. */
async function warmUp(bench: Bench): Promise<void> {
  const { config } = bench;
  const count = Math.max(config.warmupHigh * 5, config.concurrency);
  for (const op of config.ops) {
    for (const client of bench.clients) {
      await runOps(client[op], bench.paths(op, client, count), config.concurrency);
      await bench.clearCreated();
    }
  }
}

/** Every measured run, per scenario and client, in round order. */
type Results = Map<Scenario, Map<string, Sample[]>>;

async function runAll(bench: Bench): Promise<Results> {
  const results: Results = new Map();
  for (const scenario of scenarios(bench.config)) {
    const byClient = new Map<string, Sample[]>(bench.clients.map((c) => [c.name, []]));
    results.set(scenario, byClient);
    for (let round = 0; round < bench.config.rounds; round++) {
      // ABBA order: neither client always runs first after the other's garbage and JIT work.
      const order = round % 2 === 0 ? bench.clients : [...bench.clients].reverse();
      for (const client of order) {
        const sample = await bench.measure(client, scenario);
        console.error(
          `  ${scenario.op} x${scenario.concurrency} round ${round + 1} ${client.name}: ` +
            `${fmtRate(sample)} ops/s, client ${perOp(sample.clientCpuUs, sample)} µs/op, ` +
            `server ${perOp(sample.serverCpuUs, sample)} µs/op`,
        );
        byClient.get(client.name)?.push(sample);
      }
    }
  }
  return results;
}

function total(samples: readonly Sample[] | undefined): Sample | undefined {
  if (samples === undefined || samples.length === 0) return undefined;
  const sum: Sample = { ops: 0, wallMs: 0, clientCpuUs: 0, serverCpuUs: 0 };
  for (const s of samples) {
    sum.ops += s.ops;
    sum.wallMs += s.wallMs;
    sum.clientCpuUs += s.clientCpuUs;
    sum.serverCpuUs += s.serverCpuUs;
  }
  return sum;
}

const rate = (s: Sample): number => (s.ops * 1000) / s.wallMs;

/** zkts/nzc of each round: how far apart the rounds are says how noisy the machine was. */
function roundRatios(z: readonly Sample[], n: readonly Sample[]): number[] {
  return z.flatMap((zs, i) => {
    const ns = n[i];
    return ns ? [rate(zs) / rate(ns)] : [];
  });
}

function printHeader(config: Config, server: ZooKeeperProcess, version: string): void {
  const cpu = os.cpus()[0]?.model ?? "unknown cpu";
  console.log(`zkts client benchmark, ${new Date().toISOString()}`);
  console.log(
    `machine: ${os.availableParallelism()} cores (${cpu}), ${os.platform()} ${os.release()}, ` +
      `node ${process.version}, load average at start ${loadAverage()}`,
  );
  console.log(
    `server: Apache ZooKeeper ${version.replace(/^Zookeeper version: /, "").trim()}, ` +
      `standalone, pid ${server.pid}, ${server.connectString}`,
  );
  console.log(
    `server config: forceSync=${config.forceSync}` +
      (config.forceSync === "no"
        ? " (txn log written but not fsynced: the disk does not dominate, the clients do)"
        : " (every write waits for fsync)") +
      "; JVM -Xmx512m -XX:+UseSerialGC, C2",
  );
  console.log(
    `workload: per client and round, ${config.opsLow} ops at concurrency 1 and ${config.opsHigh} ` +
      `at concurrency ${config.concurrency}; ${config.rounds} rounds, clients alternated ABBA; ` +
      `warm-up ${config.warmupLow}/${config.warmupHigh} ops before each run; ` +
      `${config.dataBytes}-byte data; setData/getData/exists over ${config.nodes} nodes`,
  );
  console.log(
    config.zkts === "dist"
      ? "zkts: loaded from dist/ (tsc output, as users run it)"
      : "zkts: loaded from src/ through tsx (esbuild keepNames adds a __name() call per closure " +
          "made; --zkts=dist after `npm run build` measures tsc's output instead)",
  );
  console.log(
    "client CPU = this process (process.cpuUsage); server CPU = the JVM (/proc/<pid>/stat " +
      "utime+stime); ops/s = all rounds' ops / all rounds' wall time",
  );
}

function loadAverage(): string {
  return os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");
}

function fmtRate(sample: Sample | undefined): string {
  return sample ? Math.round(rate(sample)).toString() : "-";
}

function perOp(us: number | undefined, sample: Sample | undefined): string {
  return sample && us !== undefined ? (us / sample.ops).toFixed(1) : "-";
}

function printTable(config: Config, results: Results): void {
  const header = [
    "op",
    "conc",
    "zkts ops/s",
    "nzc ops/s",
    "zkts/nzc",
    "rounds' range",
    "aim",
    "client µs/op zkts",
    "nzc",
    "server µs/op zkts",
    "nzc",
  ];
  const rows: string[][] = [];
  for (const [scenario, byClient] of results) {
    const z = total(byClient.get("zkts"));
    const n = total(byClient.get("nzc"));
    const ratio = z && n ? rate(z) / rate(n) : undefined;
    const ratios = roundRatios(byClient.get("zkts") ?? [], byClient.get("nzc") ?? []);
    const aim = scenario.concurrency === 1 ? 1.0 : 1.5;
    rows.push([
      scenario.op,
      String(scenario.concurrency),
      fmtRate(z),
      fmtRate(n),
      ratio === undefined ? "-" : ratio.toFixed(2),
      ratios.length === 0
        ? "-"
        : `${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}`,
      ratio === undefined ? "-" : `${ratio >= aim ? "met" : "MISSED"} ≥${aim.toFixed(1)}`,
      perOp(z?.clientCpuUs, z),
      perOp(n?.clientCpuUs, n),
      perOp(z?.serverCpuUs, z),
      perOp(n?.serverCpuUs, n),
    ]);
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  console.log("");
  console.log(line(header));
  for (const row of rows) console.log(line(row));
  console.log(
    `\naims: zkts/nzc ops/s ≥ 1.5 at concurrency ${config.concurrency}, ≥ 1.0 at concurrency 1 ` +
      "(a benchmark: a missed aim is reported, not an error)",
  );
  console.log(`load average at end ${loadAverage()}`);
}

async function cleanUp(
  server: ZooKeeperProcess,
  admin: ZooKeeper | undefined,
  clients: Client[],
  root: string | undefined,
  config: Config,
): Promise<void> {
  const errors: unknown[] = [];
  const attempt = async (what: () => Promise<void>): Promise<void> => {
    try {
      await what();
    } catch (error) {
      errors.push(error);
    }
  };
  if (admin && root !== undefined) {
    const top = root;
    await attempt(async () => {
      for (const sub of ["created", "fixed"]) {
        if (await admin.exists(`${top}/${sub}`)) {
          await deleteChildren(admin, `${top}/${sub}`, config.concurrency);
          await admin.delete(`${top}/${sub}`);
        }
      }
      if (await admin.exists(top)) await admin.delete(top);
    });
  }
  for (const client of clients) await attempt(() => client.close());
  if (admin) await attempt(() => admin.close());
  await attempt(() => server.stop());
  if (errors.length > 0) throw new AggregateError(errors, "clean-up failed");
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
