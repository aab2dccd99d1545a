/**
 * Ensemble benchmark: a 3-server zkts ensemble against a 3-server Apache ZooKeeper 3.8 ensemble
 * on this machine, both forceSync=yes, tickTime 2000, initLimit 10, syncLimit 5, in one run:
 *
 * 1. writes: setData of `data-bytes` values and create, at 1, 16 and 256 outstanding requests,
 *    from sessions spread over all three servers (followers forward writes to the leader);
 * 2. reads: getData at the same concurrencies, sessions spread the same way;
 * 3. fail-over: with a writer running (one setData at a time on each of 3 sessions, one session
 *    per server, each with every server in its connect string), SIGKILL the leader (found by
 *    srvr) and time from the kill to the first successful write issued after it; `failovers`
 *    times per system, restarting the killed server and waiting until all 3 serve in between.
 *
 *     npm run bench:ensemble                      (runs `npm run build` first)
 *     npm run bench:ensemble -- --quick           (short runs, one fail-over: a smoke run)
 *     npm run bench:ensemble -- --parts=failover --failovers=5
 *     npm run bench:ensemble -- --servers=zkts --parts=ops --profile=/tmp/prof  (zkts --cpu-prof)
 *
 * Every knob is `--name=value` or env `BENCH_NAME` (upper case, "-" as "_"); see README.md.
 * A benchmark, not a test: a missed aim is printed, never an exit code; only errors exit non-zero.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import type { ZooKeeper } from "../src/index.js";
import { startEnsemble, type ZooKeeperEnsemble } from "../test/harness/apache-zookeeper.js";
import {
  killAndWait,
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
import { threadCpuMicros, threadCpuNanos } from "./proc.js";
import { fmtMs, loadAverage, quantile, ratio, table } from "./report.js";
import { runSession, split } from "./sessions.js";

const SYSTEMS = ["zookeeper", "zkts"] as const;
type SystemName = (typeof SYSTEMS)[number];
const PARTS = ["ops", "failover"] as const;
type Part = (typeof PARTS)[number];
const OPS = ["setData", "create", "getData"] as const;
type Op = (typeof OPS)[number];
const HOST = "127.0.0.1";
const SIZE = 3;

interface Config {
  readonly quick: boolean;
  readonly parts: readonly Part[];
  readonly servers: readonly SystemName[];
  readonly seconds: number;
  readonly rounds: number;
  readonly concurrency: readonly number[];
  readonly sessions: number;
  readonly ops: readonly Op[];
  readonly dataBytes: number;
  readonly failovers: number;
  readonly tickTime: number;
  readonly zkHeap: string;
  readonly nodeHeapMb: number;
  readonly build: boolean;
  readonly profile: string | undefined;
}

const KNOWN_ARGS: ReadonlySet<string> = new Set([
  "quick",
  "parts",
  "servers",
  "seconds",
  "rounds",
  "concurrency",
  "sessions",
  "ops",
  "data-bytes",
  "failovers",
  "tick-time",
  "zk-heap",
  "node-heap-mb",
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
  return {
    quick,
    parts: list("parts", PARTS),
    servers: list("servers", SYSTEMS),
    seconds: num("seconds", 3, 0.5),
    rounds: Math.max(1, Math.round(num("rounds", 3, 1))),
    concurrency,
    sessions: Math.max(1, Math.round(num("sessions", 6, 3))),
    ops: list("ops", OPS),
    dataBytes: Math.round(num("data-bytes", 100, 100)),
    failovers: Math.max(1, Math.round(num("failovers", 3, 1))),
    tickTime: Math.max(1, Math.round(num("tick-time", 2000, 2000))),
    zkHeap: raw("zk-heap") ?? "2g",
    nodeHeapMb: Math.round(num("node-heap-mb", 2048, 2048)),
    build: (raw("build") ?? "yes") === "yes",
    profile: raw("profile") || undefined,
  };
}

// ---------------------------------------------------------------- helpers

function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

// ---------------------------------------------------------------- the two ensembles

/** What the benchmark needs of either ensemble. Servers are numbered 1..3 (their myid). */
interface Ensemble {
  readonly name: SystemName;
  readonly ids: readonly number[];
  /** host:port of server `id`'s client port. */
  address(id: number): string;
  /** Every server's address, as a client lists them. */
  readonly connectString: string;
  pid(id: number): number;
  /** srvr's Mode line of server `id`, or undefined when it does not answer. */
  mode(id: number): Promise<string | undefined>;
  /** SIGKILL by pid, waits for the exit. */
  kill(id: number): Promise<void>;
  /** Starts server `id` again on its config and data. */
  restart(id: number): Promise<void>;
  stop(): Promise<void>;
}

async function modeAt(address: string): Promise<string | undefined> {
  const [host, port] = address.split(":");
  try {
    return modeOf(await fourLetterWord(host!, Number(port), "srvr", 1_000));
  } catch {
    return undefined;
  }
}

/** Waits until every server serves as leader or follower, one leader; resolves with its id. */
async function waitAllServing(ensemble: Ensemble, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const modes = await Promise.all(ensemble.ids.map((id) => ensemble.mode(id)));
    const leaders = ensemble.ids.filter((_, i) => modes[i] === "leader");
    if (leaders.length === 1 && modes.every((m) => m === "leader" || m === "follower"))
      return leaders[0]!;
    if (Date.now() > deadline)
      throw new Error(`${ensemble.name}: not all serving after ${timeoutMs} ms: ${modes}`);
    await sleep(25);
  }
}

async function startZooKeeperEnsemble(config: Config): Promise<Ensemble> {
  const zk: ZooKeeperEnsemble = await startEnsemble({
    size: SIZE,
    tickTimeMs: config.tickTime,
    extraConfig: { forceSync: "yes", initLimit: "10", syncLimit: "5" },
    // The harness's -Xmx256m and C1 only are for tests; these come after, so they win.
    jvmFlags: [`-Xmx${config.zkHeap}`, "-XX:TieredStopAtLevel=4"],
    readyTimeoutMs: 120_000,
  });
  const server = (id: number) => zk.servers[id - 1]!;
  return {
    name: "zookeeper",
    ids: zk.servers.map((_, i) => i + 1),
    address: (id) => server(id).connectString,
    connectString: zk.connectString,
    pid: (id) => server(id).pid,
    mode: (id) =>
      server(id).running ? modeAt(server(id).connectString) : Promise.resolve(undefined),
    kill: (id) => server(id).kill(),
    restart: (id) => server(id).start(),
    stop: () => zk.stop(),
  };
}

const LISTENING = /^zkts server listening on (.+):(\d+)$/m;

interface ZktsMember {
  readonly id: number;
  readonly clientPort: number;
  readonly configFile: string;
  readonly logFile: string;
  process: TrackedProcess | undefined;
}

/**
 * A zkts ensemble from dist/ (or src/ through tsx): test/harness/zkts-ensemble.ts's layout, one
 * dataDir per server holding zoo.cfg, myid, the txn log, snapshots and `zkts.out`.
 */
async function startZktsEnsemble(config: Config): Promise<Ensemble> {
  const root = mkdtempSync(join(os.tmpdir(), "zkts-bench-ensemble-"));
  removeAtExit(root);
  const ports = await freePorts(3 * SIZE);
  const members: ZktsMember[] = Array.from({ length: SIZE }, (_, i) => {
    const dataDir = join(root, String(i + 1));
    return {
      id: i + 1,
      clientPort: ports[3 * i]!,
      configFile: join(dataDir, "zoo.cfg"),
      logFile: join(dataDir, "zkts.out"),
      process: undefined,
    };
  });
  const serverLines = members.map(
    (m, i) => `server.${m.id}=${HOST}:${ports[3 * i + 1]}:${ports[3 * i + 2]};${m.clientPort}`,
  );
  for (const m of members) {
    const dataDir = join(root, String(m.id));
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(join(dataDir, "myid"), `${m.id}\n`);
    const settings: Record<string, string> = {
      tickTime: String(config.tickTime),
      initLimit: "10",
      syncLimit: "5",
      dataDir,
      clientPort: String(m.clientPort),
      clientPortAddress: HOST,
      forceSync: "yes",
      maxClientCnxns: "0",
      "4lw.commands.whitelist": "*",
      // ZooKeeper's AdminServer default would have all three take port 8080.
      "admin.enableServer": "false",
    };
    const lines = [...Object.entries(settings).map(([k, v]) => `${k}=${v}`), ...serverLines];
    writeFileSync(m.configFile, `${lines.join("\n")}\n`);
  }
  const main = fileURLToPath(new URL("../dist/cli/main.js", import.meta.url));
  const member = (id: number) => members[id - 1]!;
  let profiles = 0;
  const start = async (id: number): Promise<void> => {
    const m = member(id);
    const offset = fileSize(m.logFile);
    const args = [
      `--max-old-space-size=${config.nodeHeapMb}`,
      ...(config.profile === undefined
        ? []
        : [
            "--cpu-prof",
            `--cpu-prof-dir=${config.profile}`,
            `--cpu-prof-name=zkts-${process.pid}-server${id}-${profiles++}.cpuprofile`,
            "--cpu-prof-interval=250",
          ]),
      main,
      "server",
      "--config",
      m.configFile,
    ];
    const child = spawnTracked(process.execPath, args, m.logFile);
    m.process = child;
    const deadline = Date.now() + 60_000;
    for (;;) {
      const output = readSince(m.logFile, offset);
      if (LISTENING.test(output)) return;
      if (child.hasExited() || Date.now() > deadline) {
        await killAndWait(child);
        throw new Error(`zkts server ${id} did not listen:\n${output.slice(-3000)}`);
      }
      await sleep(20);
    }
  };
  const ensemble: Ensemble = {
    name: "zkts",
    ids: members.map((m) => m.id),
    address: (id) => `${HOST}:${member(id).clientPort}`,
    connectString: members.map((m) => `${HOST}:${m.clientPort}`).join(","),
    pid: (id) => member(id).process?.pid ?? 0,
    mode: (id) => {
      const p = member(id).process;
      return p === undefined || p.hasExited()
        ? Promise.resolve(undefined)
        : modeAt(`${HOST}:${member(id).clientPort}`);
    },
    kill: async (id) => {
      const p = member(id).process;
      if (p !== undefined) await killAndWait(p);
    },
    restart: (id) => start(id),
    stop: async () => {
      await Promise.all(
        members.map((m) => (m.process === undefined ? undefined : terminateAndWait(m.process))),
      );
      rmSync(root, { recursive: true, force: true, maxRetries: 3 });
      releaseDir(root);
    },
  };
  try {
    await Promise.all(members.map((m) => start(m.id)));
    await waitAllServing(ensemble, 120_000);
  } catch (error) {
    await ensemble.stop();
    throw error;
  }
  return ensemble;
}

async function startSystem(name: SystemName, config: Config): Promise<Ensemble> {
  const ensemble =
    name === "zookeeper" ? await startZooKeeperEnsemble(config) : await startZktsEnsemble(config);
  const leader = await waitAllServing(ensemble, 120_000);
  console.error(
    `${name}: servers ${ensemble.ids.map((id) => `${id} pid ${ensemble.pid(id)} on ${ensemble.address(id)}`).join(", ")}; leader ${leader}`,
  );
  return ensemble;
}

// ---------------------------------------------------------------- part 1: ops

const ROOT = "/ens";
const FIXED = 10_000;

interface Target {
  readonly ensemble: Ensemble;
  readonly admin: ZooKeeper;
  /** sessions[k] is connected to server ids[k % 3] only. */
  readonly sessions: readonly Client[];
  /** The leader's id (by srvr) when the sessions were made; no server is killed in part 1. */
  readonly leader: number;
  runs: number;
}

interface Sample {
  ops: number;
  wallMs: number;
  latencies: Float64Array;
  /** utime + stime of all three server processes over the run, µs. */
  serverCpuUs: number | undefined;
  /** fsyncs of the leader's txn log over the run (mntr zk_cnt_fsynctime), if it counts them. */
  leaderFsyncs: number | undefined;
}

/** The leader's fsyncs of its txn log so far, from mntr's zk_cnt_fsynctime. */
async function fsyncCount(ensemble: Ensemble, id: number): Promise<number | undefined> {
  const [host, port] = ensemble.address(id).split(":");
  try {
    const reply = await fourLetterWord(host!, Number(port), "mntr", 5_000);
    const value = /^zk_cnt_fsynctime\t(\d+)/m.exec(reply)?.[1];
    return value === undefined ? undefined : Number(value);
  } catch {
    return undefined;
  }
}

async function prepare(
  zkts: ZktsModule,
  ensemble: Ensemble,
  config: Config,
  closers: (() => Promise<void>)[],
): Promise<Target> {
  const admin = await zkts.connect(ensemble.connectString, { sessionTimeoutMs: 30_000 });
  closers.push(() => admin.close());
  const data = Buffer.alloc(config.dataBytes, 0x62);
  const sessions: Client[] = [];
  for (let i = 0; i < config.sessions; i++) {
    // One server per session: the spread over servers is what we choose, not the shuffle's.
    const client = await zktsClient(zkts, ensemble.address(ensemble.ids[i % SIZE]!), data);
    closers.push(() => client.close());
    sessions.push(client);
  }
  await admin.create(ROOT);
  await admin.create(`${ROOT}/fixed`);
  await admin.create(`${ROOT}/created`);
  const initial = Buffer.alloc(config.dataBytes, 0x61);
  const create: Issue = (path, ok, fail) => {
    admin.create(path, initial).then(ok, fail);
  };
  await runSession(
    create,
    (i) => `${ROOT}/fixed/n${i}`,
    256,
    FIXED,
    () => false,
    [],
  );
  // Reads of sessions on followers see the creates once their server has applied them.
  // (No read-your-writes across sessions: a follower may answer NONODE for a little while.)
  const lastCreated = performance.now();
  for (const s of sessions) {
    for (let attempt = 0; ; attempt++) {
      try {
        await new Promise<void>((ok, fail) => s.getData(`${ROOT}/fixed/n${FIXED - 1}`, ok, fail));
        break;
      } catch (error) {
        if (attempt >= 1000) throw error;
        await sleep(10);
      }
    }
  }
  const lagMs = performance.now() - lastCreated;
  if (lagMs > 50)
    console.error(
      `${ensemble.name}: every session saw the last create after ${lagMs.toFixed(0)} ms`,
    );
  const leader = await waitAllServing(ensemble, 60_000);
  return { ensemble, admin, sessions, leader, runs: 0 };
}

/**
 * One timed run: `concurrency` in flight over min(sessions, concurrency) sessions taken
 * round-robin over the servers, starting at a server that moves on with every run (so that at
 * concurrency 1 successive rounds go to different servers).
 */
async function run(target: Target, op: Op, concurrency: number, seconds: number): Promise<Sample> {
  const n = Math.min(target.sessions.length, concurrency);
  const runIndex = target.runs++;
  const first = runIndex % target.sessions.length;
  const chosen = Array.from(
    { length: n },
    (_, k) => target.sessions[(first + k) % target.sessions.length]!,
  );
  const inFlight = split(concurrency, n);
  const perSession: number[][] = inFlight.map(() => []);
  const stride = Math.floor(FIXED / n);
  const pathOf = (s: number) =>
    op === "create"
      ? (i: number) => `${ROOT}/created/r${runIndex}s${s}-${i}`
      : (i: number) => `${ROOT}/fixed/n${(s * stride + i) % FIXED}`;
  const pids = target.ensemble.ids.map((id) => target.ensemble.pid(id));
  const fsyncsBefore = await fsyncCount(target.ensemble, target.leader);
  const before = pids.map((pid) => threadCpuNanos(pid));
  const start = performance.now();
  const deadline = start + seconds * 1000;
  const stop = () => performance.now() >= deadline;
  await Promise.all(
    inFlight.map((k, s) =>
      runSession(chosen[s]![op], pathOf(s), k, Infinity, stop, perSession[s]!),
    ),
  );
  const wallMs = performance.now() - start;
  let serverCpuUs: number | undefined = 0;
  for (let i = 0; i < pids.length; i++) {
    const us = threadCpuMicros(before[i]!, threadCpuNanos(pids[i]!));
    serverCpuUs = us === undefined || serverCpuUs === undefined ? undefined : serverCpuUs + us;
  }
  const fsyncsAfter = await fsyncCount(target.ensemble, target.leader);
  const latencies = Float64Array.from(perSession.flat());
  const leaderFsyncs =
    fsyncsBefore === undefined || fsyncsAfter === undefined
      ? undefined
      : fsyncsAfter - fsyncsBefore;
  return { ops: latencies.length, wallMs, latencies, serverCpuUs, leaderFsyncs };
}

type OpResults = Map<string, Map<SystemName, Sample[]>>;

async function measureOps(config: Config, zkts: ZktsModule): Promise<OpResults> {
  const ensembles: Ensemble[] = [];
  const closers: (() => Promise<void>)[] = [];
  const results: OpResults = new Map();
  try {
    const targets: Target[] = [];
    for (const name of config.servers) {
      const ensemble = await startSystem(name, config);
      ensembles.push(ensemble);
      targets.push(await prepare(zkts, ensemble, config, closers));
    }
    // JIT of servers and client on every op and concurrency, untimed.
    for (const op of config.ops)
      for (const c of config.concurrency)
        for (const t of targets) await run(t, op, c, Math.min(1, config.seconds));
    for (const op of config.ops) {
      for (const c of config.concurrency) {
        const bySystem = new Map<SystemName, Sample[]>(targets.map((t) => [t.ensemble.name, []]));
        results.set(`${op} ${c}`, bySystem);
        for (let round = 0; round < config.rounds; round++) {
          const order = round % 2 === 0 ? targets : [...targets].reverse();
          for (const t of order) {
            const sample = await run(t, op, c, config.seconds);
            bySystem.get(t.ensemble.name)!.push(sample);
            const sorted = sample.latencies.slice().sort();
            console.error(
              `  ${op} x${c} round ${round + 1} ${t.ensemble.name}: ` +
                `${Math.round((sample.ops * 1000) / sample.wallMs)} ops/s, p50 ` +
                `${fmtMs(quantile(sorted, 0.5))} ms, p99 ${fmtMs(quantile(sorted, 0.99))} ms`,
            );
          }
        }
      }
    }
  } finally {
    for (const close of closers) await close().catch(() => {});
    for (const ensemble of ensembles) await ensemble.stop();
  }
  return results;
}

function printOps(results: OpResults): void {
  const rows: string[][] = [];
  for (const [key, bySystem] of results) {
    const [op, conc] = key.split(" ");
    const sum = (name: SystemName) => {
      const samples = bySystem.get(name);
      if (samples === undefined || samples.length === 0) return undefined;
      const ops = samples.reduce((n, s) => n + s.ops, 0);
      const wallMs = samples.reduce((n, s) => n + s.wallMs, 0);
      const sorted = Float64Array.from(samples.flatMap((s) => [...s.latencies])).sort();
      const cpu = samples.every((s) => s.serverCpuUs !== undefined)
        ? samples.reduce((n, s) => n + s.serverCpuUs!, 0) / ops
        : undefined;
      const rates = samples.map((s) => (s.ops * 1000) / s.wallMs);
      const fsyncs = samples.every((s) => s.leaderFsyncs !== undefined)
        ? samples.reduce((n, s) => n + s.leaderFsyncs!, 0)
        : undefined;
      const perFsync = fsyncs === undefined || fsyncs === 0 ? undefined : ops / fsyncs;
      return { rate: (ops * 1000) / wallMs, sorted, cpu, rates, perFsync };
    };
    const zk = sum("zookeeper");
    const zt = sum("zkts");
    const range =
      zk && zt && zk.rates.length === zt.rates.length
        ? (() => {
            const r = zt.rates.map((x, i) => x / zk.rates[i]!);
            return `${Math.min(...r).toFixed(2)}-${Math.max(...r).toFixed(2)}`;
          })()
        : "-";
    const p = (s: typeof zk, q: number) => fmtMs(s ? quantile(s.sorted, q) : Number.NaN);
    rows.push([
      op!,
      conc!,
      zk ? String(Math.round(zk.rate)) : "-",
      zt ? String(Math.round(zt.rate)) : "-",
      ratio(zt?.rate, zk?.rate),
      range,
      p(zk, 0.5),
      p(zt, 0.5),
      ratio(zt && quantile(zt.sorted, 0.5), zk && quantile(zk.sorted, 0.5)),
      p(zk, 0.99),
      p(zt, 0.99),
      ratio(zt && quantile(zt.sorted, 0.99), zk && quantile(zk.sorted, 0.99)),
      zk?.cpu === undefined ? "-" : zk.cpu.toFixed(1),
      zt?.cpu === undefined ? "-" : zt.cpu.toFixed(1),
      op === "getData" || zk?.perFsync === undefined ? "-" : zk.perFsync.toFixed(1),
      op === "getData" || zt?.perFsync === undefined ? "-" : zt.perFsync.toFixed(1),
    ]);
  }
  console.log(
    "\n3-server ensembles, forceSync=yes (ratio = zkts/ZooKeeper: higher is better for ops/s, " +
      "lower for latency; rounds = lowest-highest ops/s ratio of one round pair; " +
      "server µs/op = CPU of all 3 servers; txns/fsync = writes ÷ the leader's txn-log fsyncs by mntr)\n",
  );
  table(
    [
      "op",
      "conc",
      "ops/s ZK",
      "zkts",
      "ratio",
      "rounds",
      "p50 ms ZK",
      "zkts",
      "ratio",
      "p99 ms ZK",
      "zkts",
      "ratio",
      "server µs/op ZK",
      "zkts",
      "txns/fsync leader ZK",
      "zkts",
    ],
    rows,
    2,
  );
}

// ---------------------------------------------------------------- part 2: fail-over

interface Failover {
  killed: number;
  /** Kill to the first successful write issued after the kill, ms. */
  firstWriteMs: number;
  /** Kill to every writer session's first such write, ms. */
  allWritersMs: number;
  /** Kill to srvr of a survivor saying leader, ms. */
  newLeaderMs: number;
  newLeader: number;
  /** Failed writes (connection loss and the like) meanwhile. */
  errors: number;
}

/** A writer: one setData at a time, retried after 5 ms on error, until stopped. */
class Writer {
  readonly zk: ZooKeeper;
  readonly path: string;
  readonly data: Buffer;
  /** (issued, completed) times of successful writes, since the last mark(). */
  successes: [number, number][] = [];
  errors = 0;
  #running = true;
  #done: Promise<void>;

  constructor(zk: ZooKeeper, path: string, data: Buffer) {
    this.zk = zk;
    this.path = path;
    this.data = data;
    this.#done = this.#loop();
  }

  async #loop(): Promise<void> {
    while (this.#running) {
      const issued = performance.now();
      try {
        await this.zk.setData(this.path, this.data);
        this.successes.push([issued, performance.now()]);
      } catch {
        this.errors++;
        await sleep(5);
      }
    }
  }

  /** The first success issued at or after `t`, by completion time. */
  firstAfter(t: number): number | undefined {
    for (const [issued, completed] of this.successes) if (issued >= t) return completed;
    return undefined;
  }

  mark(): void {
    this.successes = [];
    this.errors = 0;
  }

  async stop(): Promise<void> {
    this.#running = false;
    await this.#done;
    await this.zk.close().catch(() => {});
  }
}

/** Sessions on every server (each knowing all of them), one per server if we can get that. */
async function writersOnAllServers(
  zkts: ZktsModule,
  ensemble: Ensemble,
  data: Buffer,
): Promise<Writer[]> {
  const byServer = new Map<string, ZooKeeper>();
  const extra: ZooKeeper[] = [];
  for (let attempt = 0; attempt < 60 && byServer.size < SIZE; attempt++) {
    const zk = await zkts.connect(ensemble.connectString, { sessionTimeoutMs: 30_000 });
    const server = zk.server ?? "?";
    if (byServer.has(server)) extra.push(zk);
    else byServer.set(server, zk);
  }
  for (const zk of extra) await zk.close();
  const writers: Writer[] = [];
  let i = 0;
  for (const zk of byServer.values()) {
    const path = `${ROOT}/w${i++}`;
    await zk.create(path, data).catch(() => {});
    writers.push(new Writer(zk, path, data));
  }
  return writers;
}

async function measureFailover(
  name: SystemName,
  config: Config,
  zkts: ZktsModule,
): Promise<Failover[]> {
  const ensemble = await startSystem(name, config);
  const out: Failover[] = [];
  let writers: Writer[] = [];
  try {
    const admin = await zkts.connect(ensemble.connectString, { sessionTimeoutMs: 30_000 });
    await admin.create(ROOT);
    await admin.close();
    const data = Buffer.alloc(config.dataBytes, 0x77);
    writers = await writersOnAllServers(zkts, ensemble, data);
    console.error(
      `failover ${name}: writers on ${writers.map((w) => w.zk.server).join(", ")} (${writers.length} sessions)`,
    );
    for (let k = 0; k < config.failovers; k++) {
      const leader = await waitAllServing(ensemble, 120_000);
      await sleep(1_000);
      for (const w of writers) w.mark();
      const survivors = ensemble.ids.filter((id) => id !== leader);
      const killAt = performance.now();
      await ensemble.kill(leader);
      // A new leader by srvr, polled every 10 ms.
      let newLeader = 0;
      let newLeaderMs = Number.NaN;
      const electionDeadline = killAt + 120_000;
      while (performance.now() < electionDeadline) {
        const modes = await Promise.all(survivors.map((id) => ensemble.mode(id)));
        const i = modes.indexOf("leader");
        if (i >= 0) {
          newLeaderMs = performance.now() - killAt;
          newLeader = survivors[i]!;
          break;
        }
        await sleep(10);
      }
      // Every writer's first write after the kill.
      const writeDeadline = killAt + 120_000;
      while (
        writers.some((w) => w.firstAfter(killAt) === undefined) &&
        performance.now() < writeDeadline
      )
        await sleep(10);
      const firsts = writers.map((w) => w.firstAfter(killAt) ?? Number.NaN);
      const result: Failover = {
        killed: leader,
        firstWriteMs: Math.min(...firsts.filter(Number.isFinite)) - killAt,
        allWritersMs: Math.max(...firsts) - killAt,
        newLeaderMs,
        newLeader,
        errors: writers.reduce((n, w) => n + w.errors, 0),
      };
      out.push(result);
      console.error(
        `  ${name} fail-over ${k + 1}: killed leader ${leader}; first write after ` +
          `${fmtMs(result.firstWriteMs)} ms, all writers after ${fmtMs(result.allWritersMs)} ms, ` +
          `new leader ${newLeader} by srvr after ${fmtMs(newLeaderMs)} ms, ${result.errors} failed writes`,
      );
      await ensemble.restart(leader);
      await waitAllServing(ensemble, 120_000);
    }
  } finally {
    for (const w of writers) await w.stop();
    await ensemble.stop();
  }
  return out;
}

function printFailover(results: Map<SystemName, Failover[]>, config: Config): void {
  const zk = results.get("zookeeper") ?? [];
  const zt = results.get("zkts") ?? [];
  const rows: string[][] = [];
  const n = Math.max(zk.length, zt.length);
  const cell = (f: Failover | undefined, pick: (f: Failover) => number) =>
    f === undefined ? "-" : fmtMs(pick(f));
  for (let i = 0; i < n; i++) {
    rows.push([
      `kill ${i + 1}`,
      cell(zk[i], (f) => f.firstWriteMs),
      cell(zt[i], (f) => f.firstWriteMs),
      ratio(zt[i]?.firstWriteMs, zk[i]?.firstWriteMs),
      cell(zk[i], (f) => f.allWritersMs),
      cell(zt[i], (f) => f.allWritersMs),
      cell(zk[i], (f) => f.newLeaderMs),
      cell(zt[i], (f) => f.newLeaderMs),
      zk[i] === undefined ? "-" : String(zk[i]!.errors),
      zt[i] === undefined ? "-" : String(zt[i]!.errors),
    ]);
  }
  const med = (list: Failover[], pick: (f: Failover) => number) =>
    list.length === 0 ? Number.NaN : median(list.map(pick));
  const mzk = med(zk, (f) => f.firstWriteMs);
  const mzt = med(zt, (f) => f.firstWriteMs);
  rows.push([
    "median",
    fmtMs(mzk),
    fmtMs(mzt),
    ratio(mzt, mzk),
    fmtMs(med(zk, (f) => f.allWritersMs)),
    fmtMs(med(zt, (f) => f.allWritersMs)),
    fmtMs(med(zk, (f) => f.newLeaderMs)),
    fmtMs(med(zt, (f) => f.newLeaderMs)),
    "",
    "",
  ]);
  console.log(
    `\nfail-over: SIGKILL of the leader with 3 writers running (concurrency 1 each, one session ` +
      `per server), tickTime ${config.tickTime} (ratio = zkts/ZooKeeper; lower is better)\n`,
  );
  table(
    [
      "",
      "first write ms ZK",
      "zkts",
      "ratio",
      "all writers ms ZK",
      "zkts",
      "new leader (srvr) ms ZK",
      "zkts",
      "failed writes ZK",
      "zkts",
    ],
    rows,
    1,
  );
}

// ---------------------------------------------------------------- main

function machine(): string {
  return (
    `${os.availableParallelism()} cores (${os.cpus()[0]?.model ?? "?"}), ` +
    `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ${os.platform()} ${os.release()}, ` +
    `node ${process.version}; data dirs in ${os.tmpdir()}`
  );
}

async function main(): Promise<void> {
  const config = readConfig(process.argv.slice(2));
  const started = Date.now();
  if (config.build && config.servers.includes("zkts")) {
    console.error("npm run build ...");
    execFileSync("npm", ["run", "build"], { stdio: ["ignore", 2, 2] });
  }
  if (config.profile !== undefined) mkdirSync(config.profile, { recursive: true });
  const zkts = await loadZkts("dist");
  console.log(
    `zkts ensemble benchmark, ${new Date().toISOString()}${config.quick ? " (quick)" : ""}`,
  );
  console.log(`machine: ${machine()}; load average at start ${loadAverage()}`);
  console.log(
    `ensembles: 3 servers each on 127.0.0.1, forceSync=yes, tickTime ${config.tickTime}, ` +
      `initLimit 10, syncLimit 5; Apache ZooKeeper JVMs -Xmx${config.zkHeap} -XX:+UseSerialGC C2, ` +
      `zkts from dist (node --max-old-space-size=${config.nodeHeapMb}); client: zkts from dist`,
  );
  if (config.parts.includes("ops")) {
    console.log(
      `\nops: ${config.dataBytes}-byte setData (round-robin over ${FIXED} znodes), create, ` +
        `getData; ${config.seconds} s per run, ${config.rounds} round(s) per system, systems ` +
        `alternated ABBA; concurrency over min(${config.sessions}, concurrency) sessions, each ` +
        `connected to one server, round-robin over the 3`,
    );
    printOps(await measureOps(config, zkts));
  }
  if (config.parts.includes("failover")) {
    const results = new Map<SystemName, Failover[]>();
    for (const name of config.servers) results.set(name, await measureFailover(name, config, zkts));
    printFailover(results, config);
  }
  console.log(
    `\nload average at end ${loadAverage()}; total time ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
