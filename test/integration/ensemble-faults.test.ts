/**
 * A 3-server ensemble of real `zkts server --config` processes (test/harness/zkts-ensemble.ts)
 * under process faults: kill -9 by pid, restart with the same zoo.cfg and dataDir.
 *
 * 1. The leader is SIGKILLed under write load from several clients: a new leader is elected,
 *    clients fail over and go on writing, every acknowledged write is on every server
 *    afterwards (read after sync), nothing was applied twice, and the old leader comes back
 *    as a follower with the same data.
 * 2. One follower gone: writes go on. Two servers gone: no write is acknowledged by the lone
 *    survivor (no split brain) and it stops leading; both come back, the ensemble recovers and
 *    nothing acknowledged is lost.
 * 3. A recorded history of create/setData/getData on 3 znodes from 4 clients passes the
 *    linearizability checker, with no faults (baseline) and across a leader kill -9 and
 *    restart. Reads are `sync(path)` then `getData(path)` on the same session, the op's
 *    interval spanning both: a plain read on a follower may lag the leader, in ZooKeeper too.
 *    ConnectionLoss, timeouts and session loss are unknown outcomes (result undefined).
 */
import assert from "node:assert/strict";
import { afterEach, describe, type TestContext, test } from "node:test";
import {
  ClosedError,
  CreateMode,
  connect,
  ErrorCode,
  errorCodeName,
  SessionExpiredError,
  type ZooKeeper,
  ZooKeeperError,
} from "../../src/index.js";
import { checkLinearizable, type Op, type Result } from "../../src/sim/linearizability.js";
import { type Ensemble, startEnsemble } from "../harness/zkts-ensemble.js";

/** Sessions outlive a failover: ZooKeeper's own default cap (20 ticks = 4 s) is too tight here. */
const CONFIG = { maxSessionTimeout: "30000" } as const;
const SESSION_TIMEOUT_MS = 15_000;
/** Bound on one client call under faults; past it the outcome is unknown. */
const OP_TIMEOUT_MS = 5_000;
const ELECTION_TIMEOUT_MS = 15_000;

/** Errors after which a write may or may not have taken effect. */
function outcomeUnknown(error: unknown): boolean {
  if (error instanceof ClosedError) return true;
  if (!(error instanceof ZooKeeperError)) return false;
  return (
    error.code === ErrorCode.CONNECTIONLOSS ||
    error.code === ErrorCode.OPERATIONTIMEOUT ||
    error.code === ErrorCode.REQUESTTIMEOUT ||
    error.code === ErrorCode.SESSIONEXPIRED ||
    error.code === ErrorCode.SESSIONMOVED
  );
}

/** Polls `done` until true; rejects after `ms` naming what it waited for. */
async function until(done: () => boolean, ms: number, what: () => string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) assert.fail(`timed out after ${ms} ms waiting for ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A client of every server that replaces its session if it expires. */
class Client {
  zk: ZooKeeper;
  expiries = 0;
  readonly #connectString: string;

  private constructor(zk: ZooKeeper, connectString: string) {
    this.zk = zk;
    this.#connectString = connectString;
  }

  static async open(connectString: string): Promise<Client> {
    const zk = await connect(connectString, { sessionTimeoutMs: SESSION_TIMEOUT_MS });
    return new Client(zk, connectString);
  }

  /** After an unknown outcome: a fresh session if this one is gone. */
  async recover(error: unknown): Promise<void> {
    if (!(error instanceof SessionExpiredError) && this.zk.state !== "expired") return;
    this.expiries++;
    await this.zk.close().catch(() => {});
    this.zk = await connect(this.#connectString, {
      sessionTimeoutMs: SESSION_TIMEOUT_MS,
      initialConnectTimeoutMs: 30_000,
    });
  }

  close(): Promise<void> {
    return this.zk.close().catch(() => {});
  }
}

/** One server's view of `paths` (data by path) and of `parent`'s children, after a sync. */
async function snapshotOf(
  ensemble: Ensemble,
  id: number,
  parent: string,
  paths: readonly string[],
): Promise<{ data: Map<string, string>; children: Map<string, string> }> {
  const zk = await connect(ensemble.member(id).address, { sessionTimeoutMs: SESSION_TIMEOUT_MS });
  try {
    await zk.sync(parent, { timeoutMs: OP_TIMEOUT_MS });
    const data = new Map<string, string>();
    for (const path of paths) {
      data.set(path, (await zk.getData(path, { timeoutMs: OP_TIMEOUT_MS })).data.toString());
    }
    const children = new Map<string, string>();
    const names = await zk.getChildren(parent, { timeoutMs: OP_TIMEOUT_MS });
    const reads = names.map(async (name) => {
      const result = await zk.getData(`${parent}/${name}`, { timeoutMs: OP_TIMEOUT_MS });
      children.set(name, result.data.toString());
    });
    await Promise.all(reads);
    return { data, children };
  } finally {
    await zk.close().catch(() => {});
  }
}

describe("a 3-process zkts ensemble under faults", { timeout: 120_000 }, () => {
  const ensembles: Ensemble[] = [];
  const clients: Client[] = [];
  // Each test has its own ensemble, stopped (clients first) as soon as the test ends.
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await Promise.all(ensembles.splice(0).map((e) => e.stop()));
  });
  const start = async () => {
    const ensemble = await startEnsemble({ config: CONFIG });
    ensembles.push(ensemble);
    return ensemble;
  };
  /** Runs a test body; on failure, each server's last log lines go to the test's diagnostics. */
  const withLogs = (body: (t: TestContext) => Promise<void>) => async (t: TestContext) => {
    try {
      await body(t);
    } catch (error) {
      for (const e of ensembles) {
        for (const m of e.members)
          t.diagnostic(`server ${m.id} (${m.address}):\n${e.logTail(m.id)}`);
      }
      throw error;
    }
  };
  const open = async (connectString: string) => {
    const client = await Client.open(connectString);
    clients.push(client);
    return client;
  };

  test(
    "kill -9 of the leader under write load loses no acknowledged write",
    withLogs(async (t) => {
      const ensemble = await start();
      const setup = await open(ensemble.connectString());
      const parent = "/t1";
      await setup.zk.create(parent, "");
      const WRITERS = 4;
      const stop = { stopped: false };
      const writers = await Promise.all(
        Array.from({ length: WRITERS }, async (_, w) => {
          const key = `${parent}-k${w}`;
          await setup.zk.create(key, "0");
          return new Writer(await open(ensemble.connectString()), w, key, parent);
        }),
      );
      const running = writers.map((w) => w.run(stop));
      const stopWriters = async () => {
        stop.stopped = true;
        await Promise.all(running);
      };
      try {
        const acks = () => writers.map((w) => w.acks);
        await until(
          () => writers.every((w) => w.acks >= 30),
          20_000,
          () => `30 acks: ${acks()}`,
        );

        const oldLeader = await ensemble.leader();
        const others = ensemble.members.map((m) => m.id).filter((id) => id !== oldLeader);
        const killedAt = Date.now();
        await ensemble.kill(oldLeader);
        const newLeader = await ensemble.waitServing(others, ELECTION_TIMEOUT_MS);
        const electedMs = Date.now() - killedAt;
        assert.notEqual(newLeader, oldLeader);
        // Every writer fails over and goes on: 30 more acknowledged writes each.
        const base = acks();
        await until(
          () => writers.every((w, i) => w.acks >= (base[i] as number) + 30),
          20_000,
          () => `30 more acks each after the kill: ${base} -> ${acks()}`,
        );
        const resumedMs = Date.now() - killedAt;
        await stopWriters();

        await ensemble.restart(oldLeader);
        const leaderAfter = await ensemble.waitServing([1, 2, 3], ELECTION_TIMEOUT_MS);
        assert.equal(leaderAfter, newLeader, "the new leader keeps leading");
        assert.equal(await ensemble.mode(oldLeader), "follower");
        t.diagnostic(
          `leader ${oldLeader} killed; ${newLeader} led after ${electedMs} ms; every writer had ` +
            `30 more acks after ${resumedMs} ms; writes: ${writers.map((w) => w.summary())}`,
        );

        const keys = writers.map((w) => w.key);
        const views = [];
        for (const m of ensemble.members)
          views.push(await snapshotOf(ensemble, m.id, parent, keys));
        for (const [i, view] of views.entries()) {
          const id = i + 1;
          // The same state on every server, the restarted old leader included.
          assert.deepEqual(view.data, views[0]?.data, `server ${id}'s keys`);
          assert.deepEqual(view.children, views[0]?.children, `server ${id}'s children`);
          const applied = new Map<string, number>();
          for (const data of view.children.values())
            applied.set(data, (applied.get(data) ?? 0) + 1);
          for (const [data, count] of applied) assert.equal(count, 1, `${data} created ${count}x`);
          for (const w of writers) {
            // The last acknowledged value, or a later one whose outcome was unknown.
            const value = Number(view.data.get(w.key));
            assert.ok(
              value >= w.lastAcked && value <= w.lastAttempted,
              `server ${id}: ${w.key}=${value}, acked ${w.lastAcked}, tried ${w.lastAttempted}`,
            );
            for (const [path, data] of w.created) {
              const name = path.slice(parent.length + 1);
              assert.equal(view.children.get(name), data, `server ${id} lost acked ${path}`);
            }
          }
        }
        for (const w of writers) {
          // Acknowledged versions only ever grow, whichever leader acknowledged them.
          for (let i = 1; i < w.versions.length; i++) {
            assert.ok(
              (w.versions[i] as number) > (w.versions[i - 1] as number),
              `${w.key}: version ${w.versions[i]} acked after ${w.versions[i - 1]}`,
            );
          }
          assert.equal(w.client.expiries, 0, `writer ${w.id}'s session expired`);
        }
      } finally {
        if (!stop.stopped) await stopWriters();
      }
    }),
  );

  test(
    "a minority down: writes go on; a majority down: none acknowledged; recovery",
    withLogs(async (t) => {
      const ensemble = await start();
      const client = await open(ensemble.connectString());
      const key = "/t2";
      await client.zk.create(key, "0");
      const leader = await ensemble.leader();
      const [f1, f2] = ensemble.members.map((m) => m.id).filter((id) => id !== leader) as [
        number,
        number,
      ];
      // A session on the leader itself, the server that will be left alone.
      const onLeader = await open(ensemble.member(leader).address);

      await ensemble.kill(f1);
      let lastAcked = 0;
      const created: string[] = [];
      for (let i = 1; i <= 20; i++) {
        const who = i % 2 === 0 ? client : onLeader;
        await who.zk.setData(key, String(i), { timeoutMs: 10_000 });
        lastAcked = i;
        created.push(
          await who.zk.create(`${key}/c-`, String(i), {
            mode: CreateMode.PERSISTENT_SEQUENTIAL,
            timeoutMs: 10_000,
          }),
        );
      }
      assert.equal(await ensemble.mode(leader), "leader", "two of three still form a quorum");

      await ensemble.kill(f2);
      // Only the old leader runs now: no write may be acknowledged, through any session.
      const unacked: number[] = [];
      const acked: string[] = [];
      const deadline = Date.now() + 3_000;
      for (let i = 100; Date.now() < deadline; i++) {
        const who = i % 2 === 0 ? client : onLeader;
        unacked.push(i);
        try {
          await who.zk.setData(key, String(i), { timeoutMs: 1_000 });
          acked.push(`setData ${i}`);
        } catch (error) {
          if (!outcomeUnknown(error)) throw error;
        }
      }
      assert.deepEqual(acked, [], "writes acknowledged with one server of three up");
      // And it stops leading (ZooKeeper's leader gives up after syncLimit ticks without a quorum).
      // (srvr of a server without a leader gets no Mode line: it closes every connection.)
      const mode = await ensemble.waitMode(leader, (m) => m !== "leader", 10_000);
      const roles = ensemble.logLines(leader, /^quorum role$/).map((r) => r.state);
      assert.notEqual(roles.at(-1), "LEADING", `server ${leader}'s roles: ${roles.join(" → ")}`);
      t.diagnostic(
        `alone, server ${leader} says ${mode ?? "nothing"}; ${unacked.length} writes tried`,
      );

      const restartedAt = Date.now();
      await Promise.all([ensemble.restart(f1), ensemble.restart(f2)]);
      await ensemble.waitServing([1, 2, 3], ELECTION_TIMEOUT_MS);
      t.diagnostic(`ensemble serving again ${Date.now() - restartedAt} ms after the restarts`);
      for (const m of ensemble.members) {
        const view = await snapshotOf(ensemble, m.id, key, [key]);
        const value = view.data.get(key);
        // The last acknowledged value, or one the lone leader logged and a later leader committed.
        assert.ok(
          value === String(lastAcked) || unacked.map(String).includes(value as string),
          `server ${m.id}: ${key}=${value}, last acked ${lastAcked}`,
        );
        for (const path of created) {
          assert.ok(view.children.has(path.slice(key.length + 1)), `server ${m.id} lost ${path}`);
        }
      }
      // And it takes writes again, through the session that was on the lone server too.
      await onLeader.zk.setData(key, "recovered", { timeoutMs: 10_000 });
      await client.zk.sync(key, { timeoutMs: 10_000 });
      assert.equal((await client.zk.getData(key)).data.toString(), "recovered");
    }),
  );

  test(
    "a register history with no faults is linearizable (baseline)",
    withLogs(async (t) => {
      const ensemble = await start();
      const recorder = await Recorder.open(ensemble, "/t3a", open);
      await recorder.until(400);
      const history = await recorder.stop();
      t.diagnostic(recorder.summary());
      assertLinearizable(history);
    }),
  );

  test(
    "a register history across a leader kill -9 and restart is linearizable",
    withLogs(async (t) => {
      const ensemble = await start();
      const recorder = await Recorder.open(ensemble, "/t3b", open);
      await recorder.until(150);
      const oldLeader = await ensemble.leader();
      const others = ensemble.members.map((m) => m.id).filter((id) => id !== oldLeader);
      await ensemble.kill(oldLeader);
      const newLeader = await ensemble.waitServing(others, ELECTION_TIMEOUT_MS);
      await recorder.until(recorder.history.length + 150);
      await ensemble.restart(oldLeader);
      await ensemble.waitServing([1, 2, 3], ELECTION_TIMEOUT_MS);
      await recorder.until(recorder.history.length + 150);
      const history = await recorder.stop();
      t.diagnostic(`leader ${oldLeader} killed, ${newLeader} took over; ${recorder.summary()}`);
      assertLinearizable(history);
    }),
  );
});

/** One load generator: setData of increasing values on its own key, and sequential creates. */
class Writer {
  readonly client: Client;
  readonly id: number;
  readonly key: string;
  readonly #parent: string;
  acks = 0;
  unknown = 0;
  lastAcked = 0;
  lastAttempted = 0;
  readonly versions: number[] = [];
  /** Acknowledged sequential creates: path → data. */
  readonly created = new Map<string, string>();

  constructor(client: Client, id: number, key: string, parent: string) {
    this.client = client;
    this.id = id;
    this.key = key;
    this.#parent = parent;
  }

  async run(stop: { stopped: boolean }): Promise<void> {
    for (let i = 1; !stop.stopped; i++) {
      this.lastAttempted = i;
      await this.#attempt(async () => {
        const stat = await this.client.zk.setData(this.key, String(i), {
          timeoutMs: OP_TIMEOUT_MS,
        });
        this.lastAcked = i;
        this.versions.push(stat.version);
      });
      const data = `${this.id}-${i}`;
      await this.#attempt(async () => {
        const path = await this.client.zk.create(`${this.#parent}/s-`, data, {
          mode: CreateMode.PERSISTENT_SEQUENTIAL,
          timeoutMs: OP_TIMEOUT_MS,
        });
        this.created.set(path, data);
      });
    }
  }

  async #attempt(op: () => Promise<void>): Promise<void> {
    try {
      await op();
      this.acks++;
    } catch (error) {
      if (!outcomeUnknown(error)) throw error;
      this.unknown++;
      await this.client.recover(error);
    }
  }

  summary(): string {
    return `w${this.id}: ${this.acks} acked, ${this.unknown} unknown`;
  }
}

function assertLinearizable(history: readonly Op[]): void {
  const started = performance.now();
  const verdict = checkLinearizable(history, { timeoutMs: 20_000 });
  const tookMs = Math.round(performance.now() - started);
  if (verdict.ok === true) return;
  if (verdict.ok === "unknown") {
    assert.fail(`checker gave up (${verdict.reason}) on ${verdict.path} after ${tookMs} ms`);
  }
  const w = verdict.witness;
  const show = (op: Op) =>
    `c${op.client} ${op.call.type}(${"data" in op.call ? op.call.data : ""}) ` +
    `[${op.invoke.toFixed(1)}, ${op.response?.toFixed(1) ?? "?"}] -> ${JSON.stringify(op.result)}`;
  assert.fail(
    `not linearizable on ${w.path}: ${verdict.reason}\n` +
      `state ${JSON.stringify(w.state)} after ${w.linearized.length} ops; last placed:\n  ` +
      `${w.linearized.slice(-5).map(show).join("\n  ")}\nstuck: ${show(w.stuck)}\n` +
      `pending:\n  ${w.pending.map(show).join("\n  ")}`,
  );
}

const REGISTER_CLIENTS = 4;
const REGISTER_KEYS = 3;

/** Clients issuing create/setData/sync+getData on a few znodes, recording every op. */
class Recorder {
  readonly history: Op[] = [];
  readonly #keys: string[];
  readonly #clients: Client[];
  readonly #stop = { stopped: false };
  readonly #running: Promise<void>[];

  private constructor(prefix: string, clients: Client[]) {
    this.#keys = Array.from({ length: REGISTER_KEYS }, (_, i) => `${prefix}-r${i}`);
    this.#clients = clients;
    this.#running = clients.map((client, c) => this.#run(c, client));
  }

  static async open(
    ensemble: Ensemble,
    prefix: string,
    open: (connectString: string) => Promise<Client>,
  ): Promise<Recorder> {
    const clients = await Promise.all(
      Array.from({ length: REGISTER_CLIENTS }, () => open(ensemble.connectString())),
    );
    return new Recorder(prefix, clients);
  }

  /** Resolves once `count` ops have been recorded (bounded). */
  until(count: number): Promise<void> {
    return until(
      () => this.history.length >= count,
      30_000,
      () => `${count} ops (have ${this.history.length})`,
    );
  }

  async stop(): Promise<Op[]> {
    this.#stop.stopped = true;
    await Promise.all(this.#running);
    return this.history;
  }

  summary(): string {
    const unknown = this.history.filter((op) => op.result === undefined).length;
    const errors = this.history.filter((op) => op.result?.type === "error").length;
    const expiries = this.#clients.reduce((n, c) => n + c.expiries, 0);
    return (
      `${this.history.length} ops from ${REGISTER_CLIENTS} clients on ${REGISTER_KEYS} keys: ` +
      `${unknown} unknown outcomes, ${errors} errors, ${expiries} session expiries`
    );
  }

  async #run(c: number, client: Client): Promise<void> {
    for (let n = 0; !this.#stop.stopped; n++) {
      const path = this.#keys[Math.floor(Math.random() * this.#keys.length)] as string;
      const data = `c${c}-${n}`;
      const dice = Math.random();
      const call: Op["call"] =
        dice < 0.15
          ? { type: "create", path, data }
          : dice < 0.55
            ? { type: "setData", path, data }
            : { type: "getData", path };
      const invoke = performance.now();
      let result: Result | undefined;
      try {
        result = await perform(client.zk, call);
      } catch (error) {
        const code = error instanceof ZooKeeperError ? errorCodeName(error.code) : undefined;
        if (code === "NONODE" || code === "NODEEXISTS" || code === "BADVERSION") {
          result = { type: "error", code };
        } else if (outcomeUnknown(error)) {
          result = undefined;
          await client.recover(error);
        } else {
          throw error;
        }
      }
      const response = result === undefined ? undefined : performance.now();
      this.history.push({ client: c, invoke, response, call, result });
    }
  }
}

async function perform(zk: ZooKeeper, call: Op["call"]): Promise<Result> {
  const options = { timeoutMs: OP_TIMEOUT_MS };
  switch (call.type) {
    case "create":
      await zk.create(call.path, call.data, options);
      return { type: "ok" };
    case "setData": {
      const stat = await zk.setData(call.path, call.data, options);
      return { type: "ok", version: stat.version };
    }
    case "getData": {
      // A read on a follower may lag the leader: sync first, on the same session.
      await zk.sync(call.path, options);
      const { data, stat } = await zk.getData(call.path, options);
      return { type: "ok", data: data.toString(), version: stat.version };
    }
    case "delete":
      await zk.delete(call.path, options);
      return { type: "ok" };
  }
}
