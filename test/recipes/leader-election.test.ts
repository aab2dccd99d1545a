/**
 * LeaderElection and runAsLeader against a real server (Apache ZooKeeper or zkts, as
 * ZKTS_TEST_SERVER says; test/interop/fixture.ts): one leader among many, the smallest node
 * leads, each candidate watches only its predecessor (checked with the server's `wchp`), resign
 * hands over to the next in line, and under repeated session kills no two candidates ever
 * believe they lead at once.
 *
 * A session is killed as Curator's KillSession does: a second client takes it over with its
 * sessionId and sessionPassword and closes it, while the candidate's proxy keeps it away; the
 * candidate's ephemeral node goes at once.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { after, before, describe, it } from "node:test";
import type { ZooKeeper } from "../../src/index.js";
import {
  type ElectionEvent,
  LeaderElection,
  type LeaderElectionOptions,
  LeadershipLostError,
  runAsLeader,
} from "../../src/recipes/index.js";
import type { ZooKeeperProcess } from "../harness/apache-zookeeper.js";
import { expireBehindProxy, sessionRenewed, within } from "../harness/client-helpers.js";
import type { TcpProxy } from "../harness/tcp-proxy.js";
import { Clients, SERVER_NAME, serverSkip, uniquePath } from "../interop/fixture.js";

const SESSION_TIMEOUT_MS = 6000;
/** How long a new leader may take after the old one's session dies: its timeout plus a margin. */
const FAILOVER_BOUND_MS = SESSION_TIMEOUT_MS + 5000;
/** Bound on polls of `wchp` while candidates settle on their watches (each poll is a reply). */
const WATCH_POLLS = 500;

interface Candidate {
  readonly zk: ZooKeeper;
  /** In front of the candidate's server: killSession keeps the victim away with it. */
  readonly proxy: TcpProxy;
  readonly election: LeaderElection;
  readonly events: ElectionEvent[];
}

function sequence(node: string | undefined): number {
  assert.ok(node !== undefined);
  return Number(/(\d+)$/.exec(node)?.[1]);
}

/** Candidates in sessions of their own, started one after the other: the first one leads. */
async function startCandidates(
  clients: Clients,
  path: string,
  count: number,
  options: Partial<LeaderElectionOptions> = {},
  from = 0,
  wire: (candidate: Candidate) => void = () => {},
): Promise<Candidate[]> {
  const candidates: Candidate[] = [];
  for (let i = from; i < from + count; i++) {
    const { zk, proxy } = await clients.openBehindProxy({ sessionTimeoutMs: SESSION_TIMEOUT_MS });
    const election = new LeaderElection(zk, path, {
      id: `c${i}`,
      data: `payload-${i}`,
      ...options,
    });
    const events: ElectionEvent[] = [];
    election.on((event) => events.push(event));
    const candidate = { zk, proxy, election, events };
    wire(candidate); // before start(): the first event may come at once
    const joined = once(asEmitter(election, "leaderChanged"), "event");
    election.start();
    await within(joined, 10_000, `candidate ${i} joins`);
    candidates.push(candidate);
  }
  return candidates;
}

/** An EventTarget-like shim: resolves `once(..., "event")` on the first event of `type`. */
function asEmitter(election: LeaderElection, type: ElectionEvent["type"]) {
  const target = new EventTarget();
  const off = election.on((event) => {
    if (event.type !== type) return;
    off();
    target.dispatchEvent(new Event("event"));
  });
  return target;
}

/** The sessions (hex) that watch each path, from the `wchp` four-letter word. */
async function watchers(server: ZooKeeperProcess): Promise<Map<string, Set<string>>> {
  const byPath = new Map<string, Set<string>>();
  let current: Set<string> | undefined;
  for (const line of (await server.fourLetterWord("wchp")).split("\n")) {
    if (line.startsWith("/")) {
      current = new Set();
      byPath.set(line, current);
    } else if (line.trim().startsWith("0x")) current?.add(BigInt(line.trim()).toString(16));
  }
  return byPath;
}

/** What no-herd means: the leader watches its own node, every other its predecessor only. */
function expectedWatchers(path: string, queue: readonly Candidate[]): Map<string, Set<string>> {
  const expected = new Map<string, Set<string>>();
  queue.forEach((candidate, i) => {
    const watched = queue[Math.max(0, i - 1)]!.election.node!;
    assert.ok(watched.startsWith(`${path}/`));
    const sessions = expected.get(watched) ?? new Set<string>();
    sessions.add(candidate.zk.sessionId.toString(16));
    expected.set(watched, sessions);
  });
  return expected;
}

async function watchesSettle(
  server: ZooKeeperProcess,
  path: string,
  queue: readonly Candidate[],
): Promise<void> {
  const expected = expectedWatchers(path, queue);
  let seen = new Map<string, Set<string>>();
  for (let poll = 0; poll < WATCH_POLLS; poll++) {
    seen = new Map([...(await watchers(server))].filter(([p]) => p.startsWith(`${path}/`)));
    try {
      assert.deepEqual(seen, expected);
      return;
    } catch {
      // not yet: a candidate is still between its read and its watch
    }
  }
  assert.deepEqual(seen, expected, "each candidate watches only its predecessor");
}

/**
 * Curator's KillSession, with the victim kept away by its proxy while its session is taken over
 * and closed (expireBehindProxy): a victim free to reconnect could win its session back and
 * race the kill. Resolves once its ephemeral `node` is gone.
 */
async function killSession(
  server: ZooKeeperProcess,
  victim: { zk: ZooKeeper; proxy: TcpProxy },
  bystander: ZooKeeper,
  node: string,
): Promise<void> {
  const { stat, watch } = await bystander.exists(node, { watch: true });
  await expireBehindProxy(server.connectString, victim.zk, victim.proxy);
  if (stat !== null) await within(watch, 10_000, `${node} deleted with its session`);
}

describe(`LeaderElection against ${SERVER_NAME}`, { skip: serverSkip(), timeout: 120_000 }, () => {
  const clients = new Clients();
  let server: ZooKeeperProcess;
  let bystander: ZooKeeper;

  before(async () => {
    server = await clients.start();
    bystander = await clients.open();
  });

  after(() => clients.stop());

  it("elects exactly one of five, the one with the smallest node; any client reads it", async () => {
    const path = `${uniquePath("election")}/one-leader`;
    const candidates = await startCandidates(clients, path, 5);
    await within(candidates[0]!.election.elected(), 10_000, "first candidate elected");
    await watchesSettle(server, path, candidates);
    assert.deepEqual(
      candidates.map((c) => c.election.isLeader),
      [true, false, false, false, false],
    );
    const czxids = await Promise.all(
      candidates.map(async (c) => (await bystander.exists(c.election.node!))!.czxid),
    );
    assert.deepEqual(
      [...czxids].sort((a, b) => (a < b ? -1 : 1)),
      czxids,
      "created in order",
    );
    const leader = await LeaderElection.currentLeader(bystander, path);
    assert.deepEqual(
      { id: leader?.id, data: leader?.data.toString(), node: leader?.node },
      { id: "c0", data: "payload-0", node: candidates[0]!.election.node },
    );
    assert.equal(await LeaderElection.currentLeader(bystander, `${path}-none`), null);
    assert.deepEqual(
      candidates[0]!.events.map((e) => e.type),
      ["leaderChanged", "elected"],
    );
    await Promise.all(candidates.map((c) => c.election.close()));
    assert.equal(await LeaderElection.currentLeader(bystander, path), null);
  });

  it("resign elects the next in line, and wakes only it (no herd)", async () => {
    const path = `${uniquePath("election")}/resign`;
    const candidates = await startCandidates(clients, path, 5);
    await within(candidates[0]!.election.elected(), 10_000, "first candidate elected");
    await watchesSettle(server, path, candidates);
    const readsBefore = candidates.map((c) => c.election.childrenReads);
    const [first, second] = candidates as [Candidate, Candidate];
    await first.election.resign();
    assert.equal(first.election.isLeader, false);
    assert.deepEqual(first.events.at(-1), { type: "notLeader", reason: "resigned" });
    await within(second.election.elected(), 10_000, "the next in line elected");
    await watchesSettle(server, path, candidates.slice(1));
    const readsAfter = candidates.map((c) => c.election.childrenReads);
    assert.deepEqual(
      readsAfter.map((n, i) => n - readsBefore[i]!),
      [0, 1, 0, 0, 0],
      "only the successor looked at the children again",
    );
    assert.deepEqual(second.events.slice(-2), [
      {
        type: "leaderChanged",
        leader: { id: "c1", data: Buffer.from("payload-1"), node: second.election.node },
      },
      {
        type: "elected",
        leader: { id: "c1", data: Buffer.from("payload-1"), node: second.election.node },
      },
    ]);
    // Taking part again queues up at the back.
    first.election.start();
    await within(once(asEmitter(first.election, "leaderChanged"), "event"), 10_000, "rejoined");
    assert.ok(sequence(first.election.node) > sequence(candidates[4]!.election.node));
    assert.equal((await LeaderElection.currentLeader(bystander, path))?.id, "c1");
    const queue = await LeaderElection.participants(bystander, path);
    assert.deepEqual(
      queue.map((p) => p.node),
      [...candidates.slice(1), first].map((c) => c.election.node),
    );
    assert.equal(queue[0]?.data.toString(), "payload-1");
    await Promise.all(candidates.map((c) => c.election.close()));
  });

  it("with trackLeader, every candidate sees leaderChanged when the leader resigns", async () => {
    const path = `${uniquePath("election")}/track`;
    const candidates = await startCandidates(clients, path, 4, { trackLeader: true });
    await within(candidates[0]!.election.elected(), 10_000, "first candidate elected");
    const changed = candidates
      .slice(1)
      .map((c) => within(once(asEmitter(c.election, "leaderChanged"), "event"), 10_000, "seen"));
    await candidates[0]!.election.resign();
    await Promise.all(changed);
    for (const c of candidates.slice(1)) {
      const last = c.events.filter((e) => e.type === "leaderChanged").at(-1);
      assert.equal(last?.type === "leaderChanged" && last.leader.id, "c1");
    }
    await Promise.all(candidates.map((c) => c.election.close()));
  });

  it("under repeated session kills, a new leader follows and never two lead at once", async () => {
    const path = `${uniquePath("election")}/kills`;
    const deleted = new Set<string>();
    const recorder = await bystander.addWatch(path, { recursive: true });
    const recording = (async () => {
      for await (const event of recorder) if (event.type === "NodeDeleted") deleted.add(event.path);
    })();
    const all: Candidate[] = [];
    const elected: string[] = [];
    const violations: string[] = [];
    const staleClaims: Promise<void>[] = [];
    const watchInvariant = (candidate: Candidate) =>
      candidate.election.on((event) => {
        if (event.type !== "elected") return;
        const node = candidate.election.node!;
        elected.push(node);
        // Another candidate that still thinks it leads is a violation if its node still stands.
        // (A leader connected when its session is killed may hear of it after its successor
        // hears the NodeDeleted: the window every ZooKeeper election has until the old leader
        // learns, which `lost` below waits for. The kills here keep the victim away first, but
        // the check does not rely on it.) The bystander's read, sent after the NodeDeleted
        // reached the successor, sees the server as of then.
        for (const other of all.filter((c) => c !== candidate && c.election.isLeader)) {
          const otherNode = other.election.node!;
          staleClaims.push(
            bystander.exists(otherNode).then((stat) => {
              if (stat !== null) violations.push(`${node} elected while ${otherNode} leads`);
            }),
          );
        }
        for (const c of all) {
          const n = c.election.node;
          // a node ahead of ours that still stands was not seen deleted first: a violation
          if (n !== undefined && n !== node && sequence(n) < sequence(node) && !deleted.has(n))
            violations.push(`${node} elected before ${n} was seen deleted`);
        }
      });
    const join = async (count: number) => {
      await startCandidates(clients, path, count, {}, all.length, (c) => {
        all.push(c);
        watchInvariant(c);
      });
    };
    await join(5);
    await within(all[0]!.election.elected(), 10_000, "first leader");
    for (let round = 0; round < 5; round++) {
      const leader = all.find((c) => c.election.isLeader);
      assert.ok(leader, `round ${round}: a leader`);
      const lost = once(asEmitter(leader.election, "notLeader"), "event");
      const next = all.filter((c) => c !== leader && !c.zk.state.match(/expired|closed/));
      const successor = Promise.any(next.map((c) => c.election.elected()));
      await killSession(server, leader, bystander, leader.election.node!);
      await within(lost, FAILOVER_BOUND_MS, `round ${round}: the old leader learns`);
      await within(successor, FAILOVER_BOUND_MS, `round ${round}: a new leader`);
      await join(1); // keep five in the race
    }
    await Promise.all(staleClaims);
    assert.deepEqual(violations, []);
    // A leader whose connection hiccups is suspended and elected again: count nodes.
    const leaders = elected.filter((node, i) => i === 0 || node !== elected[i - 1]);
    assert.equal(leaders.length, 6, elected.join(" "));
    const sequences = leaders.map(sequence);
    assert.deepEqual(
      [...sequences].sort((a, b) => a - b),
      sequences,
      "leaders in node order",
    );
    assert.equal(all.filter((c) => c.election.isLeader).length, 1);
    await Promise.all(all.map((c) => c.election.close()));
    await recorder.remove();
    await recording;
  });

  it("on a renewing client, an expired leader steps down and queues up again on its new session", async () => {
    const path = `${uniquePath("election")}/renew`;
    const { zk, proxy } = await clients.openBehindProxy({
      sessionTimeoutMs: SESSION_TIMEOUT_MS,
      renewExpiredSession: true,
    });
    const renewing = new LeaderElection(zk, path, { id: "renewing" });
    const events: ElectionEvent[] = [];
    renewing.on((event) => events.push(event));
    renewing.start();
    await within(renewing.elected(), 10_000, "the renewing candidate leads");
    const [other] = await startCandidates(clients, path, 1);
    const oldNode = renewing.node!;
    const lost = once(asEmitter(renewing, "notLeader"), "event");
    const otherLeads = other!.election.elected();
    const renewed = sessionRenewed(zk);
    await expireBehindProxy(server.connectString, zk, proxy);
    const newSession = await renewed;
    await within(lost, FAILOVER_BOUND_MS, "the old leader learns");
    await within(otherLeads, FAILOVER_BOUND_MS, "the other candidate leads");
    // "suspended" first when it saw its connection go before it heard of the expiry.
    const stepDown = events.find((e) => e.type === "notLeader");
    assert.ok(stepDown?.type === "notLeader" && /suspended|expired/.test(stepDown.reason));
    // Queued up again, behind the new leader, with a node of the new session.
    await within(
      (async () => {
        while (renewing.node === undefined || renewing.node === oldNode) {
          await once(asEmitter(renewing, "leaderChanged"), "event");
        }
      })(),
      FAILOVER_BOUND_MS,
      "a new candidate node",
    );
    const stat = await bystander.exists(renewing.node!);
    assert.equal(stat?.ephemeralOwner, newSession);
    assert.ok(sequence(renewing.node) > sequence(other!.election.node));
    assert.equal(renewing.isLeader, false);
    // When the other resigns, the renewed candidate leads again.
    const again = renewing.elected();
    await other!.election.close();
    assert.equal(await within(again, FAILOVER_BOUND_MS, "leads again"), true);
    await renewing.close();
  });

  it("runAsLeader aborts the work's signal when the session is lost", async () => {
    const path = `${uniquePath("election")}/selector-loss`;
    const victim = await clients.openBehindProxy({ sessionTimeoutMs: SESSION_TIMEOUT_MS });
    const { zk } = victim;
    let started!: () => void;
    const working = new Promise<void>((resolve) => {
      started = resolve;
    });
    let reason: unknown;
    const done = runAsLeader(
      zk,
      path,
      async (signal) => {
        started();
        await once(signal, "abort");
        reason = signal.reason;
      },
      { id: "selector" },
    );
    await within(working, 10_000, "work started");
    await killSession(
      server,
      victim,
      bystander,
      `${path}/${(await bystander.getChildren(path))[0]}`,
    );
    await within(done, FAILOVER_BOUND_MS, "runAsLeader returns after the work");
    assert.ok(reason instanceof LeadershipLostError);
    assert.ok(["suspended", "expired"].includes(reason.reason), reason.reason);
    await zk.close();
  });

  it("runAsLeader with requeue runs again when re-elected, never two at once", async () => {
    const path = `${uniquePath("election")}/selector-requeue`;
    const stop = new AbortController();
    const runs: string[] = [];
    let running = 0;
    const runner = async (id: string) => {
      const zk = await clients.open();
      return runAsLeader(
        zk,
        path,
        async (signal) => {
          running += 1;
          assert.equal(running, 1, "one leader at a time");
          runs.push(id);
          if (runs.length >= 6) stop.abort();
          // Work until the other runner stands in line too, so that it leads next.
          for (let look = 0; look < 20 && !signal.aborted; look++) {
            const { children, watch } = await zk.getChildren(path, { watch: true });
            if (children.length >= 2) break;
            await Promise.race([watch, once(signal, "abort")]);
          }
          running -= 1;
        },
        { id, requeue: true, signal: stop.signal },
      );
    };
    await within(Promise.all([runner("a"), runner("b")]), 20_000, "six runs");
    assert.ok(runs.length >= 6, runs.join(""));
    const alternates = runs.slice(0, 6).every((id, i) => i === 0 || id !== runs[i - 1]);
    assert.ok(alternates, `the two take turns: ${runs.join("")}`);
    assert.equal(await LeaderElection.currentLeader(bystander, path), null);
  });
});
