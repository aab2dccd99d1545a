/**
 * Storm benchmark: how a well-behaved client fares while others misbehave, on Apache ZooKeeper
 * 3.8 standalone and on zkts standalone, the same storms in the same run. The well-behaved client
 * (bench/storm-probe.ts, its own process) does one getData at a time throughout; each phase
 * reports its latency (p50, p99, max: the bound it saw) and the storm's own figure:
 *
 *   baseline     no storm;
 *   connections  `connects` connections, `concurrency` at a time, each dropped one of four ways
 *                (at once; after sending a handshake; reset after the answer; half a handshake);
 *   no-reader    `hogs` sessions each ask for 2,000 x 512 KiB and never read, for `hold` s;
 *   1-GiB        `liars` sessions each send a 1 GiB length prefix and stream on until closed;
 *   watch-storm  `watchers` sessions each hold a data and a child watch on one znode; then one
 *                setData of it; the phase lasts until every session has its notification.
 *   load         issue 9's load: `load-sessions` sessions (pinging, as clients do) holding
 *                `load-watches` data watches each on `load-nodes` znodes, held `load-hold` s;
 *                the figure is the server's RSS before and with them, and how long they took
 *                to open. `--phases=load` runs it alone.
 *
 *     npm run bench:storms                                (runs `npm run build` first)
 *     npm run bench:storms -- --watchers=15000 --servers=zkts
 *
 * Knobs are `--name=value` (see KNOBS). A benchmark, not a test: only errors exit non-zero.
 */
import { execFileSync, fork } from "node:child_process";
import net from "node:net";
import { fileURLToPath } from "node:url";
import { connect, type ZooKeeper } from "../src/index.js";
import { startZooKeeper } from "../test/harness/apache-zookeeper.js";
import {
  connectFrame,
  getDataFrame,
  lengthPrefix,
  procStatusKiB,
  RawSession,
  requestFrame,
} from "../test/harness/raw-session.js";
import { fmtMs, loadAverage, quantile, ratio, table } from "./report.js";
import { type ServerProcess, startZktsProcess } from "./zkts-process.js";

const KNOBS = {
  connects: 5000,
  concurrency: 200,
  hogs: 20,
  hold: 3,
  liars: 200,
  watchers: 10_000,
  "load-sessions": 10_000,
  "load-watches": 10,
  "load-nodes": 10_000,
  "load-hold": 5,
  phases: "connections,no-reader,1-GiB,watch-storm,load",
  baseline: 2,
  servers: "zookeeper,zkts",
  zkts: "dist",
  build: "yes",
} as const;
type Knobs = {
  -readonly [K in keyof typeof KNOBS]: (typeof KNOBS)[K] extends number ? number : string;
};

function parseKnobs(argv: readonly string[]): Knobs {
  const knobs = { ...KNOBS } as Knobs;
  for (const arg of argv) {
    const match = /^--([a-z-]+)=(.*)$/.exec(arg);
    const name = match?.[1] as keyof Knobs | undefined;
    if (match === null || name === undefined || !(name in KNOBS)) {
      throw new Error(
        `bad argument ${arg}: expected --name=value, name one of ${Object.keys(KNOBS)}`,
      );
    }
    const value = match[2] as string;
    (knobs as Record<string, number | string>)[name] =
      typeof KNOBS[name] === "number" ? Number(value) : value;
  }
  return knobs;
}

interface PhaseResult {
  server: string;
  phase: string;
  latencies: Float64Array;
  failures: number;
  figure: string;
}

/** The well-behaved client in its own process. */
class Probe {
  readonly #child: ReturnType<typeof fork>;
  #pending: ((message: { type: string; latencies?: number[]; failures?: number }) => void)[] = [];

  private constructor(child: ReturnType<typeof fork>) {
    this.#child = child;
    child.on("message", (message: { type: string }) => this.#pending.shift()?.(message));
  }

  static async start(connectString: string): Promise<Probe> {
    const child = fork(
      fileURLToPath(new URL("./storm-probe.ts", import.meta.url)),
      [connectString, "/probe"],
      { execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] },
    );
    const probe = new Probe(child);
    await probe.#next();
    return probe;
  }

  #next(): Promise<{ type: string; latencies?: number[]; failures?: number }> {
    return new Promise((resolve) => this.#pending.push(resolve));
  }

  async reset(): Promise<void> {
    const answer = this.#next();
    this.#child.send("reset");
    await answer;
  }

  async collect(): Promise<{ latencies: Float64Array; failures: number }> {
    const answer = this.#next();
    this.#child.send("collect");
    const { latencies = [], failures = 0 } = await answer;
    return { latencies: Float64Array.from(latencies).sort(), failures };
  }

  async stop(): Promise<void> {
    const exited = new Promise((resolve) => this.#child.once("exit", resolve));
    this.#child.send("stop");
    await exited;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One connection dropped in one of four ways. */
async function connectAndDrop(port: number, kind: number): Promise<void> {
  const socket = net.connect({ host: "127.0.0.1", port });
  socket.on("error", () => {});
  const closed = new Promise((resolve) => socket.once("close", resolve));
  await new Promise((resolve) => socket.once("connect", resolve).once("close", resolve));
  if (kind === 0) socket.destroy();
  else if (kind === 1) {
    socket.write(connectFrame());
    socket.destroy();
  } else if (kind === 2) {
    socket.write(connectFrame());
    await new Promise((resolve) => socket.once("data", resolve).once("close", resolve));
    socket.resetAndDestroy();
  } else socket.end(connectFrame().subarray(0, 20));
  await closed;
}

async function connectionStorm(port: number, knobs: Knobs): Promise<string> {
  const started = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < knobs.connects) await connectAndDrop(port, next++ % 4);
  };
  await Promise.all(Array.from({ length: knobs.concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  return `${knobs.connects} connects+drops in ${seconds.toFixed(1)} s (${(knobs.connects / seconds).toFixed(0)}/s)`;
}

async function noReaders(port: number, pid: number, knobs: Knobs): Promise<string> {
  const hogs = await Promise.all(Array.from({ length: knobs.hogs }, () => RawSession.open(port)));
  const requests = Buffer.concat(
    Array.from({ length: 2000 }, (_, i) => getDataFrame(i + 1, "/big")),
  );
  for (const hog of hogs) {
    hog.socket.pause();
    hog.send(requests);
  }
  let rss = 0;
  for (let t = 0; t < knobs.hold * 10; t++) {
    await sleep(100);
    rss = Math.max(rss, procStatusKiB(pid, "VmRSS"));
  }
  const closedByServer = hogs.filter((h) => h.socket.destroyed || h.socket.readableEnded).length;
  for (const hog of hogs) hog.destroy();
  return `${knobs.hogs} x 1 GiB unread for ${knobs.hold} s; server RSS up to ${(rss / 1024).toFixed(0)} MiB; ${closedByServer} closed by the server`;
}

async function liars(port: number, knobs: Knobs): Promise<string> {
  const started = performance.now();
  const chunk = Buffer.alloc(1024 * 1024);
  let streamed = 0;
  const one = async () => {
    const liar = await RawSession.open(port);
    liar.send(lengthPrefix(0x40000000));
    for (let i = 0; i < 64 && liar.socket.writable; i++) {
      streamed += chunk.length;
      if (!liar.socket.write(chunk)) {
        await Promise.race([new Promise((r) => liar.socket.once("drain", r)), liar.closed]);
      }
    }
    await liar.closed;
  };
  let next = 0;
  const worker = async () => {
    while (next++ < knobs.liars) await one();
  };
  await Promise.all(Array.from({ length: 20 }, worker));
  const seconds = (performance.now() - started) / 1000;
  return `${knobs.liars} closed in ${seconds.toFixed(1)} s; ${(streamed / 2 ** 20).toFixed(0)} MiB written before the close`;
}

/**
 * Opens the watchers (untimed) into `sessions`, each as soon as it is open, so the pinger keeps
 * the first alive while the last open; the phase is the change and its delivery.
 */
async function openWatchers(port: number, knobs: Knobs, sessions: RawSession[]): Promise<void> {
  for (let i = 0; i < knobs.watchers; i += knobs.concurrency) {
    const n = Math.min(knobs.concurrency, knobs.watchers - i);
    const opened = await Promise.all(Array.from({ length: n }, () => RawSession.open(port)));
    sessions.push(...opened);
    const errs = await Promise.all(
      opened.map((s) =>
        Promise.all([
          s.call(getDataFrame(1, "/storm", true)),
          s.call(getDataFrame(2, "/storm", true, true)),
        ]),
      ),
    );
    const failed = errs.flat().filter((err) => err !== 0).length;
    if (failed > 0) console.error(`watchers ${i}-${i + n}: ${failed} watch requests failed`);
  }
}

async function watchStorm(admin: ZooKeeper, sessions: RawSession[]): Promise<string> {
  let waiting = sessions.length;
  const delivered = new Promise<void>((resolve) => {
    for (const s of sessions) {
      s.onNotification = () => {
        if (s.notifications === 1 && --waiting === 0) resolve();
      };
    }
  });
  const gone = sessions.filter((s) => s.socket.destroyed || s.socket.readableEnded).length;
  const started = performance.now();
  await admin.setData("/storm", "changed");
  const acked = performance.now() - started;
  await Promise.race([delivered, sleep(120_000)]);
  const all = performance.now() - started;
  return `${sessions.length} sessions (${gone} closed by the server before the change), ${2 * sessions.length} watches; setData acked in ${fmtMs(acked)} ms, ${sessions.length - waiting} notified in ${fmtMs(all)} ms`;
}

/**
 * The load phase: `load-sessions` sessions with `load-watches` data watches each (spread over
 * the `load-nodes` znodes under /load), all pinging, held for `load-hold` seconds.
 */
async function load(
  admin: ZooKeeper,
  port: number,
  pid: number,
  knobs: Knobs,
  held: RawSession[],
): Promise<string> {
  const nodes = knobs["load-nodes"];
  await admin.create("/load", "");
  for (let i = 0; i < nodes; i += 500) {
    const batch = Array.from({ length: Math.min(500, nodes - i) }, (_, k) => ({
      type: "create" as const,
      path: `/load/n${i + k}`,
      data: "0123456789abcdef",
    }));
    await admin.multi(batch);
  }
  const rssBefore = procStatusKiB(pid, "VmRSS");
  const started = performance.now();
  const sessions = knobs["load-sessions"];
  const perSession = knobs["load-watches"];
  let failed = 0;
  for (let i = 0; i < sessions; i += knobs.concurrency) {
    const n = Math.min(knobs.concurrency, sessions - i);
    const opened = await Promise.all(Array.from({ length: n }, () => RawSession.open(port)));
    held.push(...opened);
    const errs = await Promise.all(
      opened.map((s, k) =>
        Promise.all(
          Array.from({ length: perSession }, (_, j) =>
            s.call(getDataFrame(j + 1, `/load/n${((i + k) * perSession + j) % nodes}`, true)),
          ),
        ),
      ),
    );
    failed += errs.flat().filter((err) => err !== 0).length;
  }
  const opening = (performance.now() - started) / 1000;
  await sleep(knobs["load-hold"] * 1000);
  const rssWith = procStatusKiB(pid, "VmRSS");
  const closed = held.filter((s) => s.socket.destroyed || s.socket.readableEnded).length;
  return `${sessions} sessions, ${sessions * perSession} watches on ${nodes} znodes (${failed} refused, ${closed} closed by the server) opened in ${opening.toFixed(1)} s; server RSS ${(rssBefore / 1024).toFixed(0)} MiB before, ${(rssWith / 1024).toFixed(0)} MiB with them`;
}

async function startServer(name: string, knobs: Knobs): Promise<ServerProcess> {
  if (name === "zookeeper") {
    return startZooKeeper({
      extraConfig: { forceSync: "no", maxClientCnxns: "0" },
      jvmFlags: ["-Xmx2g", "-XX:TieredStopAtLevel=4"],
    });
  }
  return startZktsProcess({
    from: knobs.zkts === "src" ? "src" : "dist",
    args: ["--max-client-cnxns", "0", "-D", "forceSync=no"],
  });
}

async function runServer(name: string, knobs: Knobs): Promise<PhaseResult[]> {
  const server = await startServer(name, knobs);
  const port = Number(server.connectString.split(":")[1]);
  const admin = await connect(server.connectString);
  const results: PhaseResult[] = [];
  let probe: Probe | undefined;
  try {
    await admin.create("/probe", Buffer.alloc(16));
    await admin.create("/big", Buffer.alloc(512 * 1024, 7));
    await admin.create("/storm", "");
    probe = await Probe.start(server.connectString);
    const phase = async (phaseName: string, storm: () => Promise<string>) => {
      await probe?.reset();
      const figure = await storm();
      const { latencies, failures } = await (probe as Probe).collect();
      results.push({ server: name, phase: phaseName, latencies, failures, figure });
      console.error(
        `${name} ${phaseName}: ${figure}; probe p99 ${fmtMs(quantile(latencies, 0.99))} ms`,
      );
    };
    await phase("baseline", async () => {
      await sleep(knobs.baseline * 1000);
      return `${knobs.baseline} s idle`;
    });
    const wanted = new Set(knobs.phases.split(","));
    if (wanted.has("connections")) await phase("connections", () => connectionStorm(port, knobs));
    if (wanted.has("no-reader")) await phase("no-reader", () => noReaders(port, server.pid, knobs));
    if (wanted.has("1-GiB")) await phase("1-GiB", () => liars(port, knobs));
    // The watchers ping, as clients do: opening thousands takes longer than a session timeout,
    // and a session that expires takes its watches with it.
    const watchers: RawSession[] = [];
    const ping = requestFrame(-2, 11, () => {});
    const pinger = setInterval(() => {
      for (const s of watchers) s.send(ping);
    }, 3000);
    try {
      if (wanted.has("watch-storm")) {
        await openWatchers(port, knobs, watchers);
        await phase("watch-storm", () => watchStorm(admin, watchers));
      }
      for (const s of watchers) s.destroy();
      watchers.length = 0;
      if (wanted.has("load")) {
        await phase("load", () => load(admin, port, server.pid, knobs, watchers));
      }
    } finally {
      clearInterval(pinger);
      for (const s of watchers) s.destroy();
    }
    const peak = procStatusKiB(server.pid, "VmHWM");
    console.error(`${name}: server peak RSS ${(peak / 1024).toFixed(0)} MiB`);
    results.push({
      server: name,
      phase: "peak RSS",
      latencies: new Float64Array(),
      failures: 0,
      figure: `${(peak / 1024).toFixed(0)} MiB`,
    });
  } finally {
    await probe?.stop();
    await admin.close();
    await server.stop();
  }
  return results;
}

function report(results: readonly PhaseResult[], servers: readonly string[]): void {
  const rows = results.map((r) => [
    r.phase,
    r.server,
    String(r.latencies.length),
    fmtMs(quantile(r.latencies, 0.5)),
    fmtMs(quantile(r.latencies, 0.99)),
    fmtMs(r.latencies.at(-1) ?? Number.NaN),
    String(r.failures),
  ]);
  console.log("\nwell-behaved client (one getData at a time, own process) during each storm\n");
  table(["phase", "server", "probes", "p50 ms", "p99 ms", "max ms", "failed"], rows, 2);
  console.log("\nthe storms\n");
  for (const r of results) console.log(`${r.phase.padEnd(12)} ${r.server.padEnd(10)} ${r.figure}`);
  if (servers.length < 2) return;
  console.log("\nratio zkts/ZooKeeper (lower is better)\n");
  const byKey = new Map(results.map((r) => [`${r.server} ${r.phase}`, r]));
  const ratioRows = [...new Set(results.map((r) => r.phase))]
    .filter((p) => p !== "peak RSS")
    .map((p) => {
      const zk = byKey.get(`zookeeper ${p}`);
      const ours = byKey.get(`zkts ${p}`);
      const q = (r: PhaseResult | undefined, x: number) =>
        r ? quantile(r.latencies, x) : undefined;
      return [
        p,
        ratio(q(ours, 0.5), q(zk, 0.5)),
        ratio(q(ours, 0.99), q(zk, 0.99)),
        ratio(ours?.latencies.at(-1), zk?.latencies.at(-1)),
      ];
    });
  table(["phase", "p50", "p99", "max"], ratioRows, 1);
}

async function main(): Promise<void> {
  const knobs = parseKnobs(process.argv.slice(2));
  const servers = knobs.servers.split(",");
  if (knobs.zkts === "dist" && knobs.build === "yes") {
    execFileSync("npm", ["run", "build"], { stdio: "inherit" });
  }
  console.error(`load average at start: ${loadAverage()}`);
  const results: PhaseResult[] = [];
  for (const name of servers) results.push(...(await runServer(name, knobs)));
  console.error(`load average at end: ${loadAverage()}`);
  report(results, servers);
}

await main();
