/**
 * The linearizability checker (src/sim/linearizability.ts).
 *
 * Goal: it accepts every linearizable history of create/setData/getData/delete, unknown
 * outcomes included, and rejects the classic anomalies, fast enough for test-sized histories.
 * Method: hand-made histories for each anomaly; random histories made linearizable by
 * construction (a random concurrent schedule run against a sequential model, each op taking
 * effect at a random point inside its interval) that must pass, then mutated so that they
 * provably cannot; small random (often wrong) histories compared with a brute-force search over
 * every order; a 2,000-op history as a guard against exponential blowup.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { InvalidArgumentError } from "../../src/protocol/errors.js";
import {
  type Call,
  type CheckResult,
  checkLinearizable,
  formatOp,
  type NodeState,
  type Op,
  type Result,
  UNREAD,
} from "../../src/sim/linearizability.js";

const OK: Result = { type: "ok" };
const NONODE: Result = { type: "error", code: "NONODE" };
const NODEEXISTS: Result = { type: "error", code: "NODEEXISTS" };
const BADVERSION: Result = { type: "error", code: "BADVERSION" };

function read(data: string, version: number): Result {
  return { type: "ok", data, version };
}

function written(version: number): Result {
  return { type: "ok", version };
}

/** One op; `span` is [invoke, response], and a missing result means an unknown outcome. */
function op(client: number, span: [number, number?], call: Call, result?: Result): Op {
  return { client, invoke: span[0], response: span[1], call, result };
}

const create = (data: string): Call => ({ type: "create", path: "/a", data });
const setData = (data: string, version?: number): Call =>
  version === undefined
    ? { type: "setData", path: "/a", data }
    : { type: "setData", path: "/a", data, version };
const getData: Call = { type: "getData", path: "/a" };
const remove = (version?: number): Call =>
  version === undefined ? { type: "delete", path: "/a" } : { type: "delete", path: "/a", version };

function assertLinearizable(history: readonly Op[], result = checkLinearizable(history)): void {
  assert.equal(result.ok, true, result.ok === false ? result.reason : describeHistory(history));
}

function assertNotLinearizable(history: readonly Op[]): Extract<CheckResult, { ok: false }> {
  const result = checkLinearizable(history);
  assert.equal(result.ok, false, `expected a violation in\n${describeHistory(history)}`);
  return result as Extract<CheckResult, { ok: false }>;
}

function describeHistory(history: readonly Op[]): string {
  return history.map(formatOp).join("\n");
}

describe("hand-made histories", () => {
  it("accepts a sequential history", () => {
    assertLinearizable([
      op(1, [0, 1], getData, NONODE),
      op(1, [2, 3], create("x"), OK),
      op(2, [4, 5], create("y"), NODEEXISTS),
      op(2, [6, 7], getData, read("x", 0)),
      op(1, [8, 9], setData("y"), written(1)),
      op(2, [10, 11], setData("z", 0), BADVERSION),
      op(2, [12, 13], setData("z", 1), written(2)),
      op(1, [14, 15], remove(1), BADVERSION),
      op(1, [16, 17], getData, read("z", 2)),
      op(1, [18, 19], remove(2), OK),
      op(2, [20, 21], remove(), NONODE),
      op(2, [22, 23], setData("w"), NONODE),
      op(2, [24, 25], create("again"), OK),
      op(1, [26, 27], getData, read("again", 0)),
    ]);
  });

  it("accepts reads of either value while a write is in flight", () => {
    assertLinearizable([
      op(1, [0, 1], create("x"), OK),
      op(1, [2, 10], setData("y"), written(1)),
      op(2, [3, 4], getData, read("x", 0)),
      op(3, [5, 6], getData, read("y", 1)),
      op(2, [7, 8], getData, read("y", 1)),
    ]);
  });

  it("rejects a stale read after a completed write", () => {
    const result = assertNotLinearizable([
      op(1, [0, 1], create("x"), OK),
      op(1, [2, 3], setData("y"), written(1)),
      op(2, [4, 5], getData, read("x", 0)),
    ]);
    assert.equal(result.witness.path, "/a");
    assert.equal(result.witness.stuck.call.type, "getData");
    // Nothing reads "y", so the checker does not track it (all unread data are alike).
    assert.deepEqual(result.witness.state, { exists: true, data: UNREAD, version: 1 });
    assert.equal(result.witness.linearized.length, 2);
    assert.match(result.reason, /^\/a: not linearizable/);
  });

  it("rejects two concurrent creates that both succeed", () => {
    const result = assertNotLinearizable([
      op(1, [0, 10], create("x"), OK),
      op(2, [1, 11], create("y"), OK),
    ]);
    assert.equal(result.witness.pending.length, 1);
  });

  it("rejects a read that goes back in time (new value, then the old one)", () => {
    const history = [
      op(1, [0, 1], create("x"), OK),
      op(1, [2, 20], setData("y"), written(1)),
      op(2, [3, 4], getData, read("y", 1)),
      op(3, [5, 6], getData, read("x", 0)),
    ];
    assertNotLinearizable(history);
    // Either read alone is fine: the write is concurrent with both.
    assertLinearizable(history.filter((_, i) => i !== 2));
    assertLinearizable(history.filter((_, i) => i !== 3));
  });

  it("rejects a conditional setData that succeeds twice on the same version", () => {
    assertNotLinearizable([
      op(1, [0, 1], create("x"), OK),
      op(1, [2, 10], setData("p", 0), written(1)),
      op(2, [3, 11], setData("q", 0), written(1)),
    ]);
    assertNotLinearizable([
      op(1, [0, 1], create("x"), OK),
      op(1, [2, 10], setData("p", 0), OK),
      op(2, [3, 11], setData("q", 0), OK),
    ]);
    assertLinearizable([
      op(1, [0, 1], create("x"), OK),
      op(1, [2, 10], setData("p", 0), written(1)),
      op(2, [3, 11], setData("q", 0), BADVERSION),
    ]);
  });

  it("rejects a lost acknowledged write", () => {
    // The data is right but the version shows that the write of "y" never happened.
    assertNotLinearizable([
      op(1, [0, 1], create("x"), OK),
      op(1, [2, 3], setData("y"), written(1)),
      op(2, [4, 5], setData("z"), written(1)),
      op(3, [6, 7], getData, read("z", 1)),
    ]);
    // Acknowledged, then never seen again by reads that start after it.
    assertNotLinearizable([
      op(1, [0, 1], create("x"), OK),
      op(1, [2, 3], setData("y"), written(1)),
      op(2, [4, 5], getData, read("x", 0)),
      op(3, [6, 7], getData, read("x", 0)),
    ]);
    // An acknowledged delete that a later create does not see.
    assertNotLinearizable([
      op(1, [0, 1], create("x"), OK),
      op(1, [2, 3], remove(), OK),
      op(2, [4, 5], create("y"), NODEEXISTS),
    ]);
  });

  it("treats touching intervals as concurrent", () => {
    assertLinearizable([op(1, [0, 5], create("x"), OK), op(2, [5, 6], getData, NONODE)]);
    assertNotLinearizable([op(1, [0, 5], create("x"), OK), op(2, [6, 7], getData, NONODE)]);
  });

  it("checks paths independently", () => {
    const onB: Call = { type: "getData", path: "/b" };
    assertLinearizable([
      op(1, [0, 1], create("x"), OK),
      op(2, [2, 3], onB, NONODE),
      op(2, [4, 5], { type: "create", path: "/b", data: "b" }, OK),
      op(1, [6, 7], getData, read("x", 0)),
      op(1, [8, 9], onB, read("b", 0)),
    ]);
    const result = assertNotLinearizable([
      op(1, [0, 1], create("x"), OK),
      op(2, [2, 3], onB, read("b", 0)),
    ]);
    assert.equal(result.witness.path, "/b");
  });

  it("starts from the initial nodes it is given", () => {
    const history = [op(1, [0, 1], getData, read("seed", 3))];
    assertNotLinearizable(history);
    const initial = new Map([["/a", { data: "seed", version: 3 }]]);
    assertLinearizable(history, checkLinearizable(history, { initial }));
  });

  it("refuses malformed ops", () => {
    const bad = [
      op(1, [5, 4], getData, NONODE),
      op(1, [Number.NaN, 4], getData, NONODE),
      { client: 1, invoke: 0, response: undefined, call: getData, result: NONODE },
    ];
    for (const entry of bad) {
      assert.throws(() => checkLinearizable([entry]), InvalidArgumentError);
    }
  });
});

describe("unknown outcomes", () => {
  const base = [op(1, [0, 1], create("x"), OK), op(1, [2], setData("y"))];

  it("accepts a write that never returned, whether it took effect or not", () => {
    assertLinearizable([...base, op(2, [5, 6], getData, read("y", 1))]);
    assertLinearizable([...base, op(2, [5, 6], getData, read("x", 0))]);
    assertLinearizable([
      ...base,
      op(2, [5, 6], getData, read("x", 0)),
      op(2, [100, 101], getData, read("y", 1)),
    ]);
  });

  it("rejects an unknown write that is seen, then unseen", () => {
    assertNotLinearizable([
      ...base,
      op(2, [5, 6], getData, read("y", 1)),
      op(2, [7, 8], getData, read("x", 0)),
    ]);
  });

  it("rejects an unknown write seen before it was invoked", () => {
    assertNotLinearizable([
      op(1, [0, 1], create("x"), OK),
      op(2, [2, 3], getData, read("y", 1)),
      op(1, [4], setData("y")),
    ]);
  });

  it("lets unknown creates and deletes take effect late", () => {
    assertLinearizable([
      op(1, [0], create("x")),
      op(2, [1, 2], getData, NONODE),
      op(3, [3], remove()),
      op(2, [4, 5], getData, read("x", 0)),
      op(2, [6, 7], create("z"), OK),
      op(2, [8, 9], getData, read("z", 0)),
    ]);
  });
});

/** A tiny seeded PRNG (mulberry32): uniform integers in [0, 2^32). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** The sequential specification, written independently of the checker's. */
function apply(state: NodeState, call: Call): { state: NodeState; result: Result } {
  const expected = call.type === "setData" || call.type === "delete" ? (call.version ?? -1) : -1;
  if (call.type === "create") {
    if (state.exists) return { state, result: NODEEXISTS };
    return { state: { exists: true, data: call.data, version: 0 }, result: written(0) };
  }
  if (!state.exists) return { state, result: NONODE };
  if (call.type === "getData") return { state, result: read(state.data, state.version) };
  if (expected !== -1 && expected !== state.version) return { state, result: BADVERSION };
  if (call.type === "delete") return { state: ABSENT, result: OK };
  const after = { exists: true, data: call.data, version: state.version + 1 };
  return { state: after, result: written(after.version) };
}

const ABSENT: NodeState = { exists: false, data: "", version: -1 };

interface Schedule {
  readonly clients: number;
  readonly paths: number;
  readonly ops: number;
  readonly unknownPercent: number;
}

interface Draft {
  client: number;
  invoke: number;
  response: number | undefined;
  call: Call;
  result: Result | undefined;
  applied: boolean;
}

/**
 * Runs a random concurrent schedule against the sequential model: each op is invoked, takes
 * effect at a later step (its linearization point), then returns; a few are lost, before or
 * after taking effect, and a lost op not yet applied may still take effect much later. Write
 * data is unique per op, so a value names the write that made it.
 */
function randomHistory(next: () => number, schedule: Schedule): { history: Op[] } {
  const pick = (n: number): number => next() % n;
  const chance = (percent: number): boolean => pick(100) < percent;
  const nodes = new Map<string, NodeState>();
  const drafts: Draft[] = [];
  const inFlight: (Draft | undefined)[] = Array.from({ length: schedule.clients });
  const orphans: Draft[] = [];
  const takeEffect = (draft: Draft): void => {
    const outcome = apply(nodes.get(draft.call.path) ?? ABSENT, draft.call);
    nodes.set(draft.call.path, outcome.state);
    draft.result = outcome.result;
    draft.applied = true;
  };
  let time = 0;
  while (drafts.length < schedule.ops || inFlight.some((d) => d !== undefined)) {
    time++;
    if (orphans.length > 0 && chance(5)) {
      const orphan = orphans.splice(pick(orphans.length), 1)[0]!;
      if (chance(50)) takeEffect(orphan);
      continue;
    }
    const client = pick(schedule.clients);
    const draft = inFlight[client];
    if (draft === undefined) {
      if (drafts.length >= schedule.ops) continue;
      const call = randomCall(pick, `/p${pick(schedule.paths)}`, `c${client}-${drafts.length}`);
      const fresh = { client, invoke: time, response: undefined, call, result: undefined };
      inFlight[client] = { ...fresh, applied: false };
      drafts.push(inFlight[client]);
    } else if (chance(schedule.unknownPercent)) {
      if (!draft.applied) orphans.push(draft);
      inFlight[client] = undefined;
    } else if (!draft.applied) {
      takeEffect(draft);
    } else {
      draft.response = time;
      inFlight[client] = undefined;
    }
  }
  const history = drafts.map(
    ({ client, invoke, response, call, result }): Op => ({
      client,
      invoke,
      response: response === undefined ? undefined : response,
      call,
      result: response === undefined ? undefined : result,
    }),
  );
  return { history };
}

function randomCall(pick: (n: number) => number, path: string, data: string): Call {
  const version = pick(3) === 0 ? pick(3) : undefined;
  switch (pick(10)) {
    case 0:
    case 1:
      return { type: "create", path, data };
    case 2:
    case 3:
    case 4:
      return version === undefined
        ? { type: "setData", path, data }
        : { type: "setData", path, data, version };
    case 5:
    case 6:
    case 7:
      return { type: "getData", path };
    default:
      return version === undefined ? { type: "delete", path } : { type: "delete", path, version };
  }
}

const scheduleArbitrary = fc.record({
  seed: fc.integer(),
  clients: fc.integer({ min: 1, max: 5 }),
  paths: fc.integer({ min: 1, max: 3 }),
  ops: fc.integer({ min: 1, max: 80 }),
  unknownPercent: fc.integer({ min: 0, max: 10 }),
});

function historyOf(s: { seed: number } & Schedule): Op[] {
  return randomHistory(mulberry32(s.seed), s).history;
}

/** Writes that definitely took effect: an ok create, setData or delete. */
function isAcknowledgedWrite(entry: Op): boolean {
  return entry.call.type !== "getData" && entry.result?.type === "ok";
}

/**
 * A stale read: read R, and acknowledged writes W1 (which wrote data d) then W2, with W1
 * returning before W2 is invoked and W2 returning before R is invoked. Data is unique per write,
 * so once W2 has taken effect no state holds d again, and R returning d cannot be linearized.
 */
function staleReadCandidates(history: readonly Op[]): { read: number; value: Result }[] {
  const found: { read: number; value: Result }[] = [];
  history.forEach((r, index) => {
    if (r.call.type !== "getData" || r.result === undefined) return;
    for (const w1 of history) {
      if (w1.call.path !== r.call.path || !isAcknowledgedWrite(w1)) continue;
      if (w1.call.type !== "create" && w1.call.type !== "setData") continue;
      const version = w1.call.type === "create" ? 0 : (w1.result as { version: number }).version;
      const w2 = history.find(
        (w) =>
          w.call.path === r.call.path &&
          isAcknowledgedWrite(w) &&
          w1.response! < w.invoke &&
          w.response! < r.invoke,
      );
      if (w2 !== undefined) found.push({ read: index, value: read(w1.call.data, version) });
    }
  });
  return found;
}

describe("random histories", () => {
  it("accepts every history that is linearizable by construction", () => {
    fc.assert(
      fc.property(scheduleArbitrary, (s) => assertLinearizable(historyOf(s))),
      { numRuns: 300 },
    );
  });

  it("rejects a read of a value that was never written", () => {
    fc.assert(
      fc.property(scheduleArbitrary, fc.nat(), (s, choice) => {
        const history = historyOf(s);
        const reads = history.flatMap((entry, i) =>
          entry.call.type === "getData" && entry.result?.type === "ok" ? [i] : [],
        );
        fc.pre(reads.length > 0);
        const index = reads[choice % reads.length]!;
        const mutated = history.map((entry, i) =>
          i === index ? { ...entry, result: read("never written", 0) } : entry,
        );
        assertNotLinearizable(mutated);
      }),
      { numRuns: 300 },
    );
  });

  it("rejects a read moved back to a value that a completed write replaced", () => {
    fc.assert(
      fc.property(scheduleArbitrary, fc.nat(), (s, choice) => {
        const history = historyOf(s);
        const candidates = staleReadCandidates(history);
        fc.pre(candidates.length > 0);
        const { read: index, value } = candidates[choice % candidates.length]!;
        const mutated = history.map((entry, i) =>
          i === index ? { ...entry, result: value } : entry,
        );
        assertNotLinearizable(mutated);
      }),
      { numRuns: 300 },
    );
  });

  it("agrees with a brute-force search on small, often wrong, histories", (t) => {
    const verdicts = { linearizable: 0, not: 0, withUnknown: 0 };
    const small = scheduleArbitrary.map((s) => ({
      ...s,
      paths: 1,
      ops: Math.min(s.ops, 8),
      unknownPercent: s.unknownPercent * 3,
    }));
    const results = [OK, NONODE, NODEEXISTS, BADVERSION, written(1), read("x", 0)];
    fc.assert(
      fc.property(small, fc.array(fc.nat(), { maxLength: 3 }), (s, corruptions) => {
        const history = historyOf(s);
        const values = history.flatMap((entry) =>
          entry.call.type === "create" || entry.call.type === "setData" ? [entry.call.data] : [],
        );
        for (const c of corruptions) {
          const index = c % history.length;
          const entry = history[index]!;
          if (entry.result === undefined) continue;
          const pool = [...results, ...values.map((data) => read(data, (c >> 3) % 3))];
          history[index] = { ...entry, result: pool[(c >> 5) % pool.length]! };
        }
        const verdict = checkLinearizable(history).ok;
        verdicts[verdict === true ? "linearizable" : "not"]++;
        if (history.some((entry) => entry.result === undefined)) verdicts.withUnknown++;
        assert.equal(verdict, bruteForce(history), describeHistory(history));
      }),
      { numRuns: 2000, includeErrorInReport: true },
    );
    t.diagnostic(`verdicts: ${JSON.stringify(verdicts)}`);
  });
});

/**
 * Every order of the ops that respects real time, with each unknown-outcome op either placed
 * somewhere or left out; exponential, for a handful of ops on one path only.
 */
function bruteForce(history: readonly Op[]): boolean {
  const placed = new Array<boolean>(history.length).fill(false);
  const search = (state: NodeState): boolean => {
    if (history.every((entry, i) => placed[i] || entry.result === undefined)) return true;
    return history.some((entry, i) => {
      if (placed[i]) return false;
      const mustPrecede = history.some(
        (other, j) =>
          !placed[j] && j !== i && other.result !== undefined && other.response! < entry.invoke,
      );
      if (mustPrecede) return false;
      const outcome = apply(state, entry.call);
      if (entry.result !== undefined && !resultMatches(entry.result, outcome.result)) return false;
      placed[i] = true;
      const found = search(outcome.state);
      placed[i] = false;
      return found;
    });
  };
  return search(ABSENT);
}

function resultMatches(recorded: Result, model: Result): boolean {
  if (recorded.type === "error" || model.type === "error") {
    return recorded.type === "error" && model.type === "error" && recorded.code === model.code;
  }
  return (
    (recorded.data === undefined || model.data === undefined || recorded.data === model.data) &&
    (recorded.version === undefined ||
      model.version === undefined ||
      recorded.version === model.version)
  );
}

describe("performance", () => {
  it("checks a 2,000-op history (5 clients, 5 paths, 3% unknown) well within 5 s", (t) => {
    for (const seed of [1, 2, 3]) {
      const { history } = randomHistory(mulberry32(seed), {
        clients: 5,
        paths: 5,
        ops: 2000,
        unknownPercent: 3,
      });
      const unknown = history.filter((entry) => entry.result === undefined).length;
      const start = performance.now();
      const result = checkLinearizable(history, { timeoutMs: 5000 });
      const elapsedMs = performance.now() - start;
      t.diagnostic(
        `seed ${seed}: ${history.length} ops, ${unknown} unknown: ${elapsedMs.toFixed(1)} ms`,
      );
      assertLinearizable(history, result);
      assert.ok(elapsedMs < 5000, `took ${elapsedMs} ms`);
    }
  });
});

describe("budget", () => {
  const history = randomHistory(mulberry32(7), {
    clients: 5,
    paths: 1,
    ops: 2000,
    unknownPercent: 3,
  }).history;

  it("gives up with unknown when the time runs out", () => {
    let clock = 0;
    const now = (): number => (clock += 1000);
    const result = checkLinearizable(history, { timeoutMs: 1, now });
    assert.deepEqual(result, { ok: "unknown", reason: "timeout", path: "/p0" });
  });

  it("gives up with unknown when the memo is full", () => {
    const result = checkLinearizable(history, { maxMemoEntries: 10 });
    assert.deepEqual(result, { ok: "unknown", reason: "memo-limit", path: "/p0" });
  });
});
