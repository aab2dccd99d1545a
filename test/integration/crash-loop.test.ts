/**
 * Crash loop: kill -9 of a durable zkts server under concurrent write load, round after round.
 *
 * Goal: no acknowledged write is ever lost, no multi is half applied, sequential suffixes never
 * go back, a read never sees what a crash then takes back, and sessions outlive a restart as
 * ZooKeeper's do: a live client keeps its session id and its ephemeral, and the ephemerals of a
 * client that never comes back are there after the restart and go once its timeout has passed.
 *
 * Method: the real `zkts server` CLI with a dataDir (test/harness/zkts-server.ts). Each round,
 * WRITERS clients with LANES_PER_WRITER lanes each issue a seeded mix of sequential creates,
 * deletes of them, setData on counters each lane owns, and multis creating /m/a-k and /m/b-k;
 * a reader lists /seq and reads the counters; a client behind a TCP proxy creates ephemerals.
 * After a seeded number of acknowledged writes the server is SIGKILLed from inside an ack (other
 * writes in flight), the proxy refuses the ephemeral client for good, and the server restarts
 * on the same port and dataDir. The tree is then checked against the history: an acknowledged
 * write is there; one that failed with ConnectionLoss may or may not be, and what the restart
 * shows settles it for later rounds. Every other round runs with snapCount=200, so snapshots
 * are written under load and a kill can land in one. At the end a clean restart (SIGTERM) must
 * serve the same tree: every path, its data and its whole Stat.
 *
 * Replay: ZKTS_CRASH_SEED=<seed> (printed on failure) replays the op mix and kill points (not
 * the scheduler's interleaving); ZKTS_CRASH_ROUNDS=<n> runs more rounds (default 8).
 */
import assert from "node:assert/strict";
import { randomInt } from "node:crypto";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import {
  type ClientState,
  ClosedError,
  ConnectionLossError,
  CreateMode,
  connect,
  type WatchEvent,
  type ZooKeeper,
} from "../../src/index.js";
import type { ZooKeeperProcess } from "../harness/apache-zookeeper.js";
import { stateReached, within } from "../harness/client-helpers.js";
import { startProxy, type TcpProxy } from "../harness/tcp-proxy.js";
import { startZkts } from "../harness/zkts-server.js";

const ROUNDS = envInt("ZKTS_CRASH_ROUNDS", 8);
const SEED = envInt("ZKTS_CRASH_SEED", randomInt(2 ** 31));
const WRITERS = 4;
const LANES_PER_WRITER = 3;
/** tickTime 500 allows sessions of 1 to 10 s (2 to 20 ticks). */
const TICK_MS = 500;
const LIVE_TIMEOUT_MS = 10_000;
const DEAD_TIMEOUT_MS = 4_000;
const LOW_SNAP_COUNT = 200;
/**
 * Acknowledged writes before the kill. Over 150 guarantees a snapshot under load in a
 * snapCount=200 round (one is due after snapCount/2 + a random share below snapCount/2).
 */
const KILL_AFTER_ACKS = { min: 160, max: 800 };
const DEAD_EPHEMERALS_FIRST = 3;
/** Bounds every loop of a lane; the kill comes long before. */
const MAX_OPS_PER_LANE = 20_000;
const WAIT_MS = 30_000;
const LIVE_EPHEMERAL = "/live/eph";
const SEQ_PREFIX = "/seq/s-";

function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new Error(`${name} must be a non-negative integer, got ${raw}`);
  }
  return value;
}

/** mulberry32: small, seeded, good enough to pick ops and kill points. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function lowSnapCount(round: number): boolean {
  return round % 2 === 0;
}

function configFor(round: number): Record<string, string> {
  const config: Record<string, string> = { tickTime: String(TICK_MS) };
  if (lowSnapCount(round)) config.snapCount = String(LOW_SNAP_COUNT);
  return config;
}

function suffixOf(name: string): number {
  return Number(name.slice(-10));
}

// ---- what the clients were told ----

interface Counter {
  /** The value last acknowledged, or seen after a restart: what the key holds at least. */
  acked: number;
  /** Values sent since, whose setData failed with ConnectionLoss. */
  unknown: Set<number>;
  /** The highest value a read returned. */
  observed: number;
}

class History {
  /** Sequential znodes known to exist or to have existed (acked, or seen after a restart). */
  readonly seqKnown = new Set<string>();
  /** Sequential znodes a reader listed: they were applied, so no crash may take them back. */
  readonly seqObserved = new Set<string>();
  readonly seqDeleted = new Set<string>();
  readonly seqDeleteUnknown = new Set<string>();
  /** Sequential creates this round that failed with ConnectionLoss. */
  seqCreateUnknown = 0;
  maxSuffix = -1;
  readonly counters = new Map<string, Counter>();
  readonly multiAcked = new Set<number>();
  readonly multiUnknown = new Set<number>();
  /** Multis that failed with ConnectionLoss and were not there after the restart. */
  readonly multiAbsent = new Set<number>();
  nextMulti = 0;
  acked = 0;
  unknown = 0;

  seen(name: string): void {
    this.maxSuffix = Math.max(this.maxSuffix, suffixOf(name));
  }

  mayBeGone(name: string): boolean {
    return this.seqDeleted.has(name) || this.seqDeleteUnknown.has(name);
  }
}

/** One round's load: counts acknowledged writes and pulls the trigger at the target. */
class Load {
  stopping = false;
  acks = 0;
  readonly target: number;
  readonly reached: Promise<void>;
  private readonly onTarget: () => void;
  private resolveReached: () => void = () => {};

  constructor(target: number, onTarget: () => void) {
    this.target = target;
    this.onTarget = onTarget;
    this.reached = new Promise((resolve) => {
      this.resolveReached = resolve;
    });
  }

  ack(): void {
    this.acks++;
    if (this.acks !== this.target) return;
    this.stopping = true;
    this.onTarget();
    this.resolveReached();
  }
}

interface Lane {
  readonly id: string;
  readonly zk: ZooKeeper;
  readonly rng: () => number;
  readonly counter: string;
  value: number;
  /** Sequential znodes it created (acknowledged) and may delete. */
  readonly owned: string[];
}

const UNKNOWN = Symbol("unknown outcome");

/** The call's value, or UNKNOWN if the connection died with it in flight. */
async function outcome<T>(call: Promise<T>): Promise<T | typeof UNKNOWN> {
  try {
    return await call;
  } catch (error) {
    if (error instanceof ConnectionLossError) return UNKNOWN;
    throw error;
  }
}

async function seqCreate(lane: Lane, history: History): Promise<boolean> {
  const mode = CreateMode.PERSISTENT_SEQUENTIAL;
  const name = await outcome(lane.zk.create(SEQ_PREFIX, lane.id, { mode }));
  if (name === UNKNOWN) {
    history.seqCreateUnknown++;
    return false;
  }
  history.seqKnown.add(name);
  history.seen(name);
  lane.owned.push(name);
  return true;
}

async function seqDelete(lane: Lane, history: History): Promise<boolean> {
  const [name] = lane.owned.splice(Math.floor(lane.rng() * lane.owned.length), 1);
  if (name === undefined) return seqCreate(lane, history);
  if ((await outcome(lane.zk.delete(name))) === UNKNOWN) {
    history.seqDeleteUnknown.add(name);
    return false;
  }
  history.seqDeleted.add(name);
  return true;
}

async function setCounter(lane: Lane, history: History): Promise<boolean> {
  const value = ++lane.value;
  const counter = history.counters.get(lane.counter) as Counter;
  if ((await outcome(lane.zk.setData(lane.counter, String(value)))) === UNKNOWN) {
    counter.unknown.add(value);
    return false;
  }
  // One lane writes each counter, one call at a time: acknowledged values only grow.
  counter.acked = value;
  return true;
}

async function multiCreate(lane: Lane, history: History): Promise<boolean> {
  const k = history.nextMulti++;
  const ops = [
    { type: "create", path: `/m/a-${k}`, data: lane.id },
    { type: "create", path: `/m/b-${k}`, data: lane.id },
  ] as const;
  if ((await outcome(lane.zk.multi(ops))) === UNKNOWN) {
    history.multiUnknown.add(k);
    return false;
  }
  history.multiAcked.add(k);
  return true;
}

async function runLane(lane: Lane, history: History, load: Load): Promise<void> {
  for (let n = 0; n < MAX_OPS_PER_LANE && !load.stopping; n++) {
    const roll = lane.rng();
    const op =
      roll < 0.35 ? seqCreate : roll < 0.45 ? seqDelete : roll < 0.75 ? setCounter : multiCreate;
    if (await op(lane, history)) {
      history.acked++;
      load.ack();
    } else {
      history.unknown++;
    }
  }
}

/** Lists /seq and reads the counters while the load runs: what it sees must survive. */
async function runReader(zk: ZooKeeper, history: History, load: Load): Promise<void> {
  for (let n = 0; n < MAX_OPS_PER_LANE && !load.stopping; n++) {
    const children = await outcome(zk.getChildren("/seq"));
    if (children === UNKNOWN) return;
    for (const child of children) {
      history.seqObserved.add(`/seq/${child}`);
      history.seen(child);
    }
    for (const [path, counter] of history.counters) {
      const read = await outcome(zk.getData(path));
      if (read === UNKNOWN) return;
      counter.observed = Math.max(counter.observed, Number(read.data.toString()));
    }
  }
}

/** The client that never comes back, and the ephemerals it had acknowledged. */
interface DeadSession {
  readonly zk: ZooKeeper;
  readonly sessionId: bigint;
  readonly acked: string[];
}

/** Creates ephemerals from the doomed session until the kill; the last may be unknown. */
async function runDeadSession(dead: DeadSession, round: number, load: Load): Promise<void> {
  for (let n = dead.acked.length; n < MAX_OPS_PER_LANE && !load.stopping; n++) {
    const path = `/eph/r${round}-${n}`;
    try {
      await dead.zk.create(path, "", { mode: CreateMode.EPHEMERAL });
      dead.acked.push(path);
    } catch (error) {
      if (error instanceof ConnectionLossError || error instanceof ClosedError) return;
      throw error;
    }
  }
}

// ---- the crash loop ----

interface RoundReport {
  round: number;
  snapCount: string;
  /** Acknowledged writes before the kill, and writes whose outcome the kill left unknown. */
  target: number;
  unknown: number;
  /** From spawning the restarted server: the dead session's ephemerals checked, then gone. */
  deadCheckedMs: number;
  deadGoneMs: number;
  ms: number;
}

class CrashLoop {
  readonly rng = seededRandom(SEED);
  readonly history = new History();
  readonly reports: RoundReport[] = [];
  /** Server log messages of interest, counted over every restart. */
  readonly events = new Map<string, number>();
  server!: ZooKeeperProcess;
  proxy!: TcpProxy;
  readonly writers: ZooKeeper[] = [];
  reader!: ZooKeeper;
  live!: ZooKeeper;
  readonly lanes: Lane[] = [];
  /** Every long-lived client, with its session id and the states it went through. */
  readonly sessions = new Map<ZooKeeper, { id: bigint; states: ClientState[] }>();
  /** The doomed clients, closed at the end should a round fail before it closes its own. */
  readonly doomed: ZooKeeper[] = [];
  context = "setup";

  async setup(): Promise<void> {
    this.server = await startZkts({ config: configFor(0) });
    this.proxy = await startProxy(this.server.port);
    this.live = await this.session();
    for (const path of ["/seq", "/m", "/eph", "/c", "/live"]) await this.live.create(path, "");
    await this.live.create(LIVE_EPHEMERAL, "", { mode: CreateMode.EPHEMERAL });
    this.reader = await this.session();
    for (let w = 0; w < WRITERS; w++) {
      const zk = await this.session();
      this.writers.push(zk);
      for (let l = 0; l < LANES_PER_WRITER; l++) {
        const id = `w${w}-l${l}`;
        const counter = `/c/${id}`;
        await zk.create(counter, "0");
        this.history.counters.set(counter, { acked: 0, unknown: new Set(), observed: 0 });
        const rng = seededRandom(SEED ^ ((w + 1) * 7919 + l * 104729));
        this.lanes.push({ id, zk, rng, counter, value: 0, owned: [] });
      }
    }
  }

  private async session(): Promise<ZooKeeper> {
    const zk = await connect(this.server.connectString, { sessionTimeoutMs: LIVE_TIMEOUT_MS });
    const states: ClientState[] = [];
    zk.onState((state) => states.push(state));
    this.sessions.set(zk, { id: zk.sessionId, states });
    return zk;
  }

  async round(round: number): Promise<void> {
    this.context = `round ${round}`;
    const started = performance.now();
    const unknownBefore = this.history.unknown;
    const snapshotZxid = this.newestSnapshotZxid();
    const dead = await this.deadSession(round);
    const span = KILL_AFTER_ACKS.max - KILL_AFTER_ACKS.min;
    const target = KILL_AFTER_ACKS.min + Math.floor(this.rng() * span);
    let killed: Promise<void> = Promise.resolve();
    let deadDown: Promise<void> = Promise.resolve();
    const load = new Load(target, () => {
      deadDown = stateReached(dead.zk, "disconnected", WAIT_MS);
      // The doomed client must never reach the restarted server, not even to say goodbye.
      this.proxy.refuse(true);
      this.proxy.cut();
      killed = this.server.kill();
    });
    const work = Promise.all([
      ...this.lanes.map((lane) => runLane(lane, this.history, load)),
      runReader(this.reader, this.history, load),
      runDeadSession(dead, round, load),
    ]);
    const ended = work.then(() => {
      if (!load.stopping) throw new Error("the load ended before the kill");
    });
    await within(Promise.race([load.reached, ended]), WAIT_MS, `${target} acknowledged writes`);
    await killed;
    if (lowSnapCount(round)) this.assertSnapshotUnderLoad(snapshotZxid);
    const timings = await this.restart(round, dead, deadDown, work);
    this.reports.push({
      round,
      snapCount: configFor(round).snapCount ?? "default",
      target,
      unknown: this.history.unknown - unknownBefore,
      ...timings,
      ms: Math.round(performance.now() - started),
    });
  }

  /** A session through the proxy with a short timeout, and its first ephemerals. */
  private async deadSession(round: number): Promise<DeadSession> {
    this.proxy.refuse(false);
    const zk = await connect(this.proxy.address, { sessionTimeoutMs: DEAD_TIMEOUT_MS });
    this.doomed.push(zk);
    assert.equal(zk.sessionTimeoutMs, DEAD_TIMEOUT_MS);
    const acked: string[] = [];
    for (let n = 0; n < DEAD_EPHEMERALS_FIRST; n++) {
      acked.push(await zk.create(`/eph/r${round}-${n}`, "", { mode: CreateMode.EPHEMERAL }));
    }
    return { zk, sessionId: zk.sessionId, acked };
  }

  private async restart(
    round: number,
    dead: DeadSession,
    deadDown: Promise<void>,
    work: Promise<unknown>,
  ): Promise<{ deadCheckedMs: number; deadGoneMs: number }> {
    this.writeConfig(round + 1);
    const spawnedAt = performance.now();
    await this.server.start();
    const checker = await connect(this.server.connectString, { sessionTimeoutMs: LIVE_TIMEOUT_MS });
    try {
      const deleted = await this.checkDeadRestored(checker, dead);
      const deadCheckedMs = Math.round(performance.now() - spawnedAt);
      await within(deadDown, WAIT_MS, "the doomed client's disconnect");
      // Not connected, so close() sends no closeSession: the session is left to expire.
      await dead.zk.close();
      await within(work, WAIT_MS, "the writes queued across the restart");
      await this.checkSessionsKept();
      await this.checkTree(checker);
      const deadGoneMs = await this.checkDeadExpired(checker, deleted, spawnedAt);
      await this.checkLiveEphemeral(checker);
      return { deadCheckedMs, deadGoneMs };
    } finally {
      await checker.close();
    }
  }

  /** The doomed session was restored: its ephemerals are there, owned by it; watch them go. */
  private async checkDeadRestored(
    checker: ZooKeeper,
    dead: DeadSession,
  ): Promise<Promise<number>[]> {
    const found = await Promise.all(dead.acked.map((p) => checker.exists(p, { watch: true })));
    const session = `0x${dead.sessionId.toString(16)}`;
    return found.map(({ stat, watch }, i) => {
      const path = dead.acked[i];
      assert.ok(stat, `${path} of the restored session ${session} is gone after the restart`);
      assert.equal(stat.ephemeralOwner, dead.sessionId, `${path}: ephemeralOwner`);
      return watch.then((event: WatchEvent) => {
        assert.deepEqual([event.type, event.path], ["NodeDeleted", path]);
        return performance.now();
      });
    });
  }

  /** They go after the timeout, counted from the restart, and none of that session is left. */
  private async checkDeadExpired(
    checker: ZooKeeper,
    deleted: Promise<number>[],
    spawnedAt: number,
  ): Promise<number> {
    const bound = DEAD_TIMEOUT_MS + WAIT_MS;
    const times = await within(Promise.all(deleted), bound, "the dead session's expiry");
    const first = Math.min(...times) - spawnedAt;
    assert.ok(
      first >= DEAD_TIMEOUT_MS,
      `the restored session's ephemerals went ${Math.round(first)} ms after the restart ` +
        `began, before its ${DEAD_TIMEOUT_MS} ms timeout`,
    );
    assert.deepEqual(await checker.getChildren("/eph"), [], "ephemerals of dead sessions");
    return Math.round(first);
  }

  private async checkSessionsKept(): Promise<void> {
    for (const [zk, { id, states }] of this.sessions) {
      await stateReached(zk, "connected", WAIT_MS);
      assert.equal(zk.sessionId, id, "a reconnecting client keeps its session");
      assert.ok(!states.includes("expired"), `session 0x${id.toString(16)}: ${states}`);
    }
  }

  private async checkLiveEphemeral(checker: ZooKeeper): Promise<void> {
    const stat = await checker.exists(LIVE_EPHEMERAL);
    assert.ok(stat, "the live session's ephemeral survived the restart");
    assert.equal(stat.ephemeralOwner, this.live.sessionId);
  }

  private async checkTree(checker: ZooKeeper): Promise<void> {
    await this.checkSequential(checker);
    await this.checkCounters(checker);
    await this.checkMultis(checker);
    // Sequence numbers never go back: a new one is above every one ever handed out or seen.
    const mode = CreateMode.PERSISTENT_SEQUENTIAL;
    const probe = await checker.create(SEQ_PREFIX, "probe", { mode });
    assert.ok(
      suffixOf(probe) > this.history.maxSuffix,
      `${probe} after the restart, yet ${this.history.maxSuffix} was handed out before`,
    );
    this.history.seqKnown.add(probe);
    this.history.seen(probe);
  }

  private async checkSequential(checker: ZooKeeper): Promise<void> {
    const h = this.history;
    const present = new Set((await checker.getChildren("/seq")).map((c) => `/seq/${c}`));
    const lost = [...h.seqKnown].filter((n) => !present.has(n) && !h.mayBeGone(n));
    assert.deepEqual(lost.slice(0, 5), [], `${lost.length} acknowledged creates lost`);
    const undone = [...h.seqObserved].filter((n) => !present.has(n) && !h.mayBeGone(n));
    assert.deepEqual(undone.slice(0, 5), [], `${undone.length} creates seen, then lost`);
    const revived = [...h.seqDeleted].filter((n) => present.has(n));
    assert.deepEqual(revived.slice(0, 5), [], `${revived.length} acknowledged deletes undone`);
    const news = [...present].filter((n) => !h.seqKnown.has(n));
    assert.ok(
      news.length <= h.seqCreateUnknown,
      `${news.length} unknown znodes under /seq, from ${h.seqCreateUnknown} unanswered creates`,
    );
    // What the restart shows is durable from now on.
    for (const name of news) {
      h.seqKnown.add(name);
      h.seen(name);
    }
    for (const name of h.seqDeleteUnknown) if (!present.has(name)) h.seqDeleted.add(name);
    h.seqDeleteUnknown.clear();
    h.seqObserved.clear();
    h.seqCreateUnknown = 0;
  }

  private async checkCounters(checker: ZooKeeper): Promise<void> {
    for (const [path, counter] of this.history.counters) {
      const value = Number((await checker.getData(path)).data.toString());
      const unknown = [...counter.unknown].join(",") || "none";
      assert.ok(
        value === counter.acked || (value > counter.acked && counter.unknown.has(value)),
        `${path} = ${value}: last acknowledged ${counter.acked}, unanswered ${unknown}`,
      );
      assert.ok(value >= counter.observed, `${path} = ${value}, read as ${counter.observed}`);
      counter.acked = value;
      counter.observed = value;
      counter.unknown.clear();
    }
  }

  private async checkMultis(checker: ZooKeeper): Promise<void> {
    const h = this.history;
    const children = await checker.getChildren("/m");
    const a = new Set(children.filter((c) => c.startsWith("a-")).map((c) => Number(c.slice(2))));
    const b = new Set(children.filter((c) => c.startsWith("b-")).map((c) => Number(c.slice(2))));
    const halves = [...a].filter((k) => !b.has(k)).concat([...b].filter((k) => !a.has(k)));
    assert.deepEqual(halves.slice(0, 5), [], `${halves.length} multis half applied`);
    const lost = [...h.multiAcked].filter((k) => !a.has(k));
    assert.deepEqual(lost.slice(0, 5), [], `${lost.length} acknowledged multis lost`);
    const late = [...h.multiAbsent].filter((k) => a.has(k));
    assert.deepEqual(late.slice(0, 5), [], `${late.length} multis appeared after a restart`);
    const strays = [...a].filter((k) => !h.multiAcked.has(k) && !h.multiUnknown.has(k));
    assert.deepEqual(strays.slice(0, 5), [], `${strays.length} multis nobody sent`);
    for (const k of h.multiUnknown) (a.has(k) ? h.multiAcked : h.multiAbsent).add(k);
    h.multiUnknown.clear();
  }

  /** A snapCount=200 round wrote (or began) a snapshot after the round's start snapshot. */
  private assertSnapshotUnderLoad(startZxid: bigint): void {
    const names = readdirSync(join(this.server.dataDir, "version-2"));
    const newer = names.filter((n) => (snapshotZxid(n) ?? -1n) > startZxid);
    assert.ok(newer.length > 0, `no snapshot under load after 0x${startZxid.toString(16)}`);
  }

  private newestSnapshotZxid(): bigint {
    const names = readdirSync(join(this.server.dataDir, "version-2"));
    return names.reduce((max, n) => {
      const zxid = snapshotZxid(n);
      return zxid !== undefined && zxid > max && !n.endsWith(".tmp") ? zxid : max;
    }, -1n);
  }

  private writeConfig(round: number): void {
    const config = { dataDir: this.server.dataDir, ...configFor(round) };
    const text = Object.entries(config).map(([k, v]) => `${k}=${v}\n`);
    writeFileSync(join(this.server.dataDir, "zoo.cfg"), text.join(""));
  }

  /** Counts the recovery and snapshot lines in the server's output, over every run. */
  countEvents(): void {
    const text = readFileSync(this.server.logFile, "utf8");
    for (const line of text.split("\n")) {
      if (!line.startsWith("{")) continue;
      const msg = String((JSON.parse(line) as { msg?: unknown }).msg);
      if (/torn|incomplete|unreadable|snapshot taken|too busy/.test(msg)) {
        this.events.set(msg, (this.events.get(msg) ?? 0) + 1);
      }
    }
  }

  /** After the last round: a clean restart serves the very same tree. */
  async finish(): Promise<{ snapshots: number; logs: number; tmp: number }> {
    this.context = "final clean restart";
    for (const zk of [...this.writers, this.reader]) {
      await zk.close();
      this.sessions.delete(zk);
    }
    const names = readdirSync(join(this.server.dataDir, "version-2"));
    const snapshots = names.filter((n) => /^snapshot\.[0-9a-f]+$/.test(n)).length;
    const logs = names.filter((n) => /^log\.[0-9a-f]+$/.test(n)).length;
    const tmp = names.filter((n) => n.endsWith(".tmp")).length;
    // One snapshot at every start, and more under load in the snapCount=200 rounds.
    assert.ok(snapshots >= ROUNDS + 1, `${snapshots} snapshots after ${ROUNDS} restarts`);
    assert.ok(logs >= 1, "no txn log");
    const before = await withClient(this.server.connectString, dumpTree);
    await this.server.stop({ keepDataDir: true });
    await this.server.start();
    await this.checkSessionsKept();
    const after = await withClient(this.server.connectString, dumpTree);
    assert.deepEqual(diffTrees(before, after), [], "the tree changed across a clean restart");
    assert.ok(before.size > 100, `only ${before.size} znodes`);
    await withClient(this.server.connectString, async (zk) => {
      await this.checkLiveEphemeral(zk);
      const probe = await zk.create(SEQ_PREFIX, "", { mode: CreateMode.PERSISTENT_SEQUENTIAL });
      assert.ok(suffixOf(probe) > this.history.maxSuffix, `${probe} after a clean restart`);
    });
    return { snapshots, logs, tmp };
  }

  async close(): Promise<void> {
    for (const zk of [...this.sessions.keys(), ...this.doomed]) await zk.close();
    await this.proxy?.close();
    await this.server?.stop();
  }

  /** The server's last lines, for a failure message. */
  outputTail(): string {
    try {
      return readFileSync(this.server.logFile, "utf8").trimEnd().split("\n").slice(-15).join("\n");
    } catch {
      return "(no output)";
    }
  }
}

function snapshotZxid(name: string): bigint | undefined {
  const match = /^snapshot\.([0-9a-f]+)(\.tmp)?$/.exec(name);
  return match ? BigInt(`0x${match[1]}`) : undefined;
}

async function withClient<T>(address: string, use: (zk: ZooKeeper) => Promise<T>): Promise<T> {
  const zk = await connect(address);
  try {
    return await use(zk);
  } finally {
    await zk.close();
  }
}

/** Every znode: path -> data (hex) and its whole Stat. Breadth first, in bounded batches. */
async function dumpTree(zk: ZooKeeper): Promise<Map<string, string>> {
  const tree = new Map<string, string>();
  let level = ["/"];
  for (let depth = 0; level.length > 0; depth++) {
    assert.ok(depth < 16, "the tree is deeper than this test ever makes it");
    const next: string[] = [];
    for (let at = 0; at < level.length; at += 200) {
      await Promise.all(
        level.slice(at, at + 200).map(async (path) => {
          const [{ data, stat }, children] = await Promise.all([
            zk.getData(path),
            zk.getChildren(path),
          ]);
          const fields = Object.entries(stat).map(([k, v]) => `${k}=${v}`);
          tree.set(path, `${data.toString("hex")} ${fields.join(" ")}`);
          for (const child of children) next.push(path === "/" ? `/${child}` : `${path}/${child}`);
        }),
      );
    }
    level = next;
  }
  return tree;
}

/** The first few differences between two dumps. */
function diffTrees(before: Map<string, string>, after: Map<string, string>): string[] {
  const diffs: string[] = [];
  for (const [path, was] of before) {
    const now = after.get(path);
    if (now !== was) diffs.push(`${path}: ${was} -> ${now ?? "(gone)"}`);
  }
  for (const path of after.keys()) if (!before.has(path)) diffs.push(`${path}: new`);
  return diffs.slice(0, 10);
}

describe("zkts server: kill -9 under concurrent write load, round after round", () => {
  it(`keeps every acknowledged write (${ROUNDS} rounds)`, { timeout: 180_000 }, async (t) => {
    const loop = new CrashLoop();
    const started = performance.now();
    t.diagnostic(`ZKTS_CRASH_SEED=${SEED}`);
    try {
      await loop.setup();
      for (let round = 0; round < ROUNDS; round++) await loop.round(round);
      const files = await loop.finish();
      loop.countEvents();
      t.diagnostic(`${Math.round(performance.now() - started)} ms in all`);
      for (const r of loop.reports) t.diagnostic(JSON.stringify(r));
      t.diagnostic(`writes: ${loop.history.acked} acknowledged, ${loop.history.unknown} unknown`);
      t.diagnostic(`data dir: ${JSON.stringify(files)}`);
      t.diagnostic(`server log: ${JSON.stringify(Object.fromEntries(loop.events))}`);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw new Error(
        `ZKTS_CRASH_SEED=${SEED} (${loop.context}): ${message}\n` +
          `server output (last lines):\n${loop.outputTail()}`,
        { cause: error },
      );
    } finally {
      await loop.close();
    }
  });
});
