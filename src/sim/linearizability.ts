/**
 * A linearizability checker for histories of znode operations, after Knossos and Porcupine.
 *
 * Model: a map from path to {@link NodeState} (exists, data, version); every path starts absent
 * unless `options.initial` says otherwise. The operations and their outcomes are ZooKeeper's:
 * - `create(path, data)` → ok (node now exists with data, version 0) | NODEEXISTS
 * - `setData(path, data, version = -1)` → ok(version: the new Stat.version) | NONODE | BADVERSION
 * - `getData(path)` → ok(data, version) | NONODE
 * - `delete(path, version = -1)` → ok | NONODE | BADVERSION
 * A `result` of `undefined` is an unknown outcome (ConnectionLoss, timeout, session expiry): the
 * op may take effect at any moment after its invoke, or never, as if its response came at
 * +infinity (Porcupine's convention); its `response` time is then ignored. Fields left out of an
 * ok result (e.g. getData's version) are simply not checked. Times are any
 * monotonic numbers; an op whose invoke equals another's response counts as concurrent with it.
 *
 * Algorithm: P-compositionality first (Herlihy & Wing): ops on different paths commute in this
 * model, so each path's sub-history is checked alone. Each one is searched with Wing & Gong's
 * algorithm as refined by Lowe ("just-in-time linearization") and Porcupine: call and return
 * events sit in one time-ordered, doubly linked list; the search linearizes any op whose call
 * precedes the first pending return, lifts it out of the list, and backtracks when a return is
 * reached with its op still unplaced. Visited (set of linearized ops, state) pairs are memoized
 * (Zobrist-hashed bitsets, compared exactly on a hash match) so no configuration is explored twice.
 * Known-outcome ops are tried first; unknown-outcome ops only where no known op can go next,
 * invoked by then (the "frontier"). Prunings, all sound and complete (and cross-checked against
 * a brute-force search in the tests):
 * - an op that leaves the state unchanged (a read, a failed write) is placed as soon as it is
 *   legal and no alternative is tried at that point, since placing it later can only be worse;
 * - an unknown-outcome op is placed only where it changes the state (else it is as good as
 *   placed at +infinity), and the search succeeds once every op with a known outcome is placed;
 * - data that no getData returns is not tracked (all such states act alike), and invoked
 *   unknown-outcome ops with the same effect (type, expected version, tracked data) are
 *   interchangeable, so only the earliest unplaced one of each such class is ever tried;
 * - unknown-outcome reads are dropped up front: they constrain nothing.
 * Bounds: worst case exponential in the number of concurrent (and unknown-outcome) ops per path,
 * so the search gives up with `{ ok: "unknown" }` after `timeoutMs` (default 10 s, measured with
 * the injectable `now`) or once the memo holds `maxMemoEntries` configurations (default 2e6).
 * Typical cost is near linear: a 2,000-op history over 5 paths from 5 clients with ~6% unknown
 * outcomes checks in under 20 ms; one path with 10 clients and 10% unknown takes 0.05–2.5 s;
 * 20+ clients on one path with hundreds of unknown outcomes can hit the timeout. Memory: one
 * bitset of ops/32 words per memo entry. Pure: no I/O; the clock is read only through `now`.
 */
import type { ErrorCodeName } from "../protocol/errors.js";
import { InvalidArgumentError } from "../protocol/errors.js";
import { assert } from "../util/assert.js";

/**
 * A znode as this model sees it. When `exists` is false, data is "" and version -1; data that
 * no getData of the history returns is not tracked and shows as {@link UNREAD}.
 */
export interface NodeState {
  readonly exists: boolean;
  readonly data: string;
  readonly version: number;
}

/** An operation's request; `version` is the expected version, -1 (the default) for any. */
export type Call =
  | { readonly type: "create"; readonly path: string; readonly data: string }
  | {
      readonly type: "setData";
      readonly path: string;
      readonly data: string;
      readonly version?: number;
    }
  | { readonly type: "getData"; readonly path: string }
  | { readonly type: "delete"; readonly path: string; readonly version?: number };

export type ModelErrorCode = Extract<ErrorCodeName, "NONODE" | "NODEEXISTS" | "BADVERSION">;

/**
 * An operation's outcome. For ok: getData gives `data` and `version`, setData the new `version`,
 * create (create2's Stat) `version` 0. A field left out is not checked, nor is one the op does
 * not return (data on a write, anything on delete).
 */
export type Result =
  | { readonly type: "ok"; readonly data?: string; readonly version?: number }
  | { readonly type: "error"; readonly code: ModelErrorCode };

/**
 * One operation as a client saw it. `result: undefined` means the outcome is unknown (the op
 * may or may not take effect, at any time after `invoke`); `response` is then ignored.
 */
export interface Op {
  readonly client: number;
  readonly invoke: number;
  readonly response: number | undefined;
  readonly call: Call;
  readonly result: Result | undefined;
}

export interface CheckOptions {
  /** Give up with `{ ok: "unknown", reason: "timeout" }` after this long. Default 10,000. */
  readonly timeoutMs?: number;
  /** Give up with `{ ok: "unknown", reason: "memo-limit" }` past this many memo entries. */
  readonly maxMemoEntries?: number;
  /** Nodes that exist before the history begins, by path. Other paths start absent. */
  readonly initial?: ReadonlyMap<string, Initial>;
  /** The clock the timeout is measured with, in ms. Default `performance.now()`. */
  readonly now?: () => number;
}

/** Why a path's history has no linearization, from the deepest point the search reached. */
export interface Witness {
  readonly path: string;
  /** The longest order found that respects real time and the model, as a prefix. */
  readonly linearized: readonly Op[];
  /** The node's state after `linearized`. */
  readonly state: NodeState;
  /** The op whose response arrived there while no order could place it. */
  readonly stuck: Op;
  /** The ops invoked and not yet placed at that point (`stuck` included): the candidates. */
  readonly pending: readonly Op[];
}

export type CheckResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: string; readonly witness: Witness }
  | { readonly ok: "unknown"; readonly reason: "timeout" | "memo-limit"; readonly path: string };

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_MEMO_ENTRIES = 2_000_000;
const CLOCK_EVERY_STEPS = 1024;

/**
 * Checks that `history` is linearizable. Ops may come in any order; they are partitioned by
 * path. A non-linearizable path wins over one that timed out; the first such path is reported.
 * Throws InvalidArgumentError for a malformed op (response before invoke, a result without a
 * response time, a non-finite invoke).
 */
export function checkLinearizable(history: readonly Op[], options: CheckOptions = {}): CheckResult {
  const now = options.now ?? (() => performance.now());
  const budget: Budget = {
    deadline: now() + (options.timeoutMs ?? DEFAULT_TIMEOUT_MS),
    now,
    maxMemoEntries: options.maxMemoEntries ?? DEFAULT_MAX_MEMO_ENTRIES,
  };
  let unknown: CheckResult | undefined;
  for (const [path, ops] of partitionByPath(history)) {
    const initial = options.initial?.get(path);
    const outcome = new PathSearch(path, ops, initial, budget).run();
    if (outcome.ok === false) return outcome;
    if (outcome.ok === "unknown") unknown ??= outcome;
  }
  return unknown ?? { ok: true };
}

/** A node that exists before the history begins. */
export interface Initial {
  readonly data: string;
  readonly version: number;
}

/** The data of a witness state whose data no getData of the history returns (not tracked). */
export const UNREAD = "\u2026";

interface Budget {
  readonly deadline: number;
  readonly now: () => number;
  readonly maxMemoEntries: number;
}

function partitionByPath(history: readonly Op[]): Map<string, Op[]> {
  const partitions = new Map<string, Op[]>();
  for (const op of history) {
    validate(op);
    if (op.result === undefined && op.call.type === "getData") continue;
    let ops = partitions.get(op.call.path);
    if (ops === undefined) {
      ops = [];
      partitions.set(op.call.path, ops);
    }
    ops.push(op);
  }
  return partitions;
}

function validate(op: Op): void {
  const fail = (why: string): never => {
    throw new InvalidArgumentError(`bad op ${formatOp(op)}: ${why}`);
  };
  if (!Number.isFinite(op.invoke)) fail("invoke must be a finite number");
  if (op.response !== undefined && !(op.response >= op.invoke)) fail("response before invoke");
  if (op.result !== undefined && op.response === undefined) fail("a result needs a response");
  const call: Call = op.call;
  if (!["create", "setData", "getData", "delete"].includes(call.type)) fail("unknown call");
}

/**
 * The event list: node 0 is the head sentinel, nodes 1.. are call and return events in time
 * order (calls first on ties, so touching intervals overlap). Unknown-outcome ops get no return
 * node: their response is at +infinity, past the point where the search stops.
 */
/**
 * The event list of the known-outcome ops: node 0 is the head sentinel, nodes 1.. are call and
 * return events in time order (calls first on ties, so touching intervals overlap).
 */
class EventList {
  readonly next: Int32Array;
  readonly prev: Int32Array;
  readonly opOf: Int32Array;
  readonly time: Float64Array;
  /** For a call node, its op's return node; RETURN on a return node. */
  readonly match: Int32Array;
  /** Each known op's call node. */
  readonly callNode: Int32Array;

  constructor(ops: readonly Op[]) {
    const events: { time: number; isCall: boolean; op: number }[] = [];
    ops.forEach((op, i) => {
      if (op.result === undefined) return;
      events.push(
        { time: op.invoke, isCall: true, op: i },
        { time: op.response!, isCall: false, op: i },
      );
    });
    events.sort((a, b) => a.time - b.time || Number(b.isCall) - Number(a.isCall) || a.op - b.op);
    const size = events.length + 1;
    this.next = Int32Array.from({ length: size }, (_, node) => (node + 1 < size ? node + 1 : -1));
    this.prev = Int32Array.from({ length: size }, (_, node) => node - 1);
    this.opOf = new Int32Array(size).fill(-1);
    this.time = new Float64Array(size);
    this.match = new Int32Array(size).fill(RETURN);
    this.callNode = new Int32Array(ops.length).fill(-1);
    events.forEach((event, index) => {
      const node = index + 1;
      this.opOf[node] = event.op;
      this.time[node] = event.time;
      if (event.isCall) this.callNode[event.op] = node;
      else this.match[this.callNode[event.op]!] = node;
    });
  }

  /** Removes a call node and its return node (dancing links: their own links are kept). */
  lift(call: number): void {
    this.unlink(call);
    this.unlink(this.match[call]!);
  }

  /** Undoes the latest lift(call). */
  unlift(call: number): void {
    this.relink(this.match[call]!);
    this.relink(call);
  }

  private unlink(node: number): void {
    const before = this.prev[node]!;
    const after = this.next[node]!;
    this.next[before] = after;
    if (after >= 0) this.prev[after] = before;
  }

  private relink(node: number): void {
    const after = this.next[node]!;
    this.next[this.prev[node]!] = node;
    if (after >= 0) this.prev[after] = node;
  }
}

/**
 * Unknown-outcome ops grouped by effect (type, expected version, data as the state table keeps
 * it), each group in invoke order. Ops of one group are interchangeable once invoked, so only a
 * group's first unplaced op is ever placed: its placed ops are always a prefix.
 */
interface EffectClass {
  readonly ops: number[];
  placed: number;
}

function effectClasses(ops: readonly Op[], states: StateTable): EffectClass[] {
  const byKey = new Map<string, EffectClass>();
  ops.forEach((op, i) => {
    if (op.result !== undefined) return;
    const { call } = op;
    const data = call.type === "create" || call.type === "setData" ? states.tracked(call.data) : "";
    const version = call.type === "setData" || call.type === "delete" ? (call.version ?? -1) : -1;
    const key = `${call.type} ${version} ${data ?? "\u0000"}`;
    let effect = byKey.get(key);
    if (effect === undefined) {
      effect = { ops: [], placed: 0 };
      byKey.set(key, effect);
    }
    effect.ops.push(i);
  });
  for (const effect of byKey.values()) effect.ops.sort((a, b) => ops[a]!.invoke - ops[b]!.invoke);
  return [...byKey.values()];
}

/** Configurations already explored (and failed): a set of (placed-ops bitset, state id). */
class Memo {
  size = 0;
  private readonly buckets = new Map<number, { state: number; bits: Uint32Array }[]>();

  /** Adds the configuration; false if it was already there. */
  add(hash1: number, hash2: number, state: number, bits: Uint32Array): boolean {
    const key = (hash1 >>> 0) * 0x200000 + ((hash2 ^ Math.imul(state, 0x9e3779b1)) >>> 11);
    let bucket = this.buckets.get(key);
    if (bucket === undefined) {
      bucket = [];
      this.buckets.set(key, bucket);
    }
    for (const entry of bucket) {
      if (entry.state === state && sameBits(entry.bits, bits)) return false;
    }
    bucket.push({ state, bits: bits.slice() });
    this.size++;
    return true;
  }
}

function sameBits(a: Uint32Array, b: Uint32Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Deterministic 32-bit values for Zobrist hashing (splitmix32), so runs are reproducible. */
function zobrist(count: number, seed: number): Int32Array {
  const values = new Int32Array(count);
  let x = seed | 0;
  for (let i = 0; i < count; i++) {
    x = (x + 0x9e3779b9) | 0;
    let z = x;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    values[i] = z ^ (z >>> 16);
  }
  return values;
}

/** Marks a return node in EventList.match. */
const RETURN = -2;
/** What backtrack() answers when no choice is left: the history is not linearizable. */
const EXHAUSTED = -3;
/**
 * The search's cursor is an event-list node (>= 0) while it tries known ops, then
 * `UNKNOWN_PHASE - c` while it tries the unknown-outcome ops of effect class c.
 */
const UNKNOWN_PHASE = -10;

type PathOutcome = Exclude<CheckResult, { ok: true }> | { readonly ok: true };

/** The just-in-time linearization search over one path's ops. */
class PathSearch {
  private readonly path: string;
  private readonly ops: readonly Op[];
  private readonly budget: Budget;
  private readonly states: StateTable;
  private readonly list: EventList;
  private readonly effects: EffectClass[];
  private readonly memo = new Memo();
  private readonly bits: Uint32Array;
  private readonly zobrist1: Int32Array;
  private readonly zobrist2: Int32Array;
  // The stack of placed ops: cursor that placed it, state and frontier before, forced or free.
  private readonly stackCursor: Int32Array;
  private readonly stackState: Int32Array;
  private readonly stackFrontier: Float64Array;
  private readonly stackForced: Uint8Array;
  private depth = 0;
  private state: number;
  /** The time of the first pending return: unknown ops invoked by then may be placed. */
  private frontier = 0;
  private hash1 = 0;
  private hash2 = 0;
  private knownLeft = 0;
  private deepest: { order: Int32Array; state: number; stuckNode: number } | undefined;

  constructor(path: string, ops: readonly Op[], initial: Initial | undefined, budget: Budget) {
    this.path = path;
    this.ops = ops;
    this.budget = budget;
    this.states = new StateTable(ops);
    this.list = new EventList(ops);
    this.effects = effectClasses(ops, this.states);
    this.bits = new Uint32Array(Math.ceil(ops.length / 32));
    this.zobrist1 = zobrist(ops.length, 0x2545f491);
    this.zobrist2 = zobrist(ops.length, 0x6c8e9cf5);
    this.stackCursor = new Int32Array(ops.length);
    this.stackState = new Int32Array(ops.length);
    this.stackFrontier = new Float64Array(ops.length);
    this.stackForced = new Uint8Array(ops.length);
    this.state = initial === undefined ? 0 : this.states.intern(initial.data, initial.version);
    for (const op of ops) if (op.result !== undefined) this.knownLeft++;
  }

  run(): PathOutcome {
    const { list } = this;
    let cursor = list.next[0]!;
    for (let steps = 1; this.knownLeft > 0; steps++) {
      if (steps % CLOCK_EVERY_STEPS === 0) {
        if (this.budget.now() > this.budget.deadline) return this.giveUp("timeout");
        if (this.memo.size > this.budget.maxMemoEntries) return this.giveUp("memo-limit");
      }
      if (cursor >= 0 && list.match[cursor] === RETURN) {
        // No known op can go next: note the dead end, then try the unknown-outcome ops.
        this.noteDeadEnd(cursor);
        this.frontier = list.time[cursor]!;
        cursor = UNKNOWN_PHASE;
      } else if (cursor >= 0) {
        cursor = this.placeKnown(cursor);
      } else if (UNKNOWN_PHASE - cursor < this.effects.length) {
        cursor = this.placeUnknown(UNKNOWN_PHASE - cursor);
      } else {
        cursor = this.backtrack();
      }
      if (cursor === EXHAUSTED) return this.failure();
    }
    return { ok: true };
  }

  /** Tries to linearize a known op (by its call node) now; returns the next cursor. */
  private placeKnown(node: number): number {
    const op = this.list.opOf[node]!;
    const after = step(this.states, this.state, this.ops[op]!);
    if (after < 0) return this.list.next[node]!;
    // An op that leaves the state as it is goes now or never: later can only be worse.
    const forced = after === this.state;
    if (this.push(op, node, after, forced)) {
      this.knownLeft--;
      this.list.lift(node);
      return this.list.next[0]!;
    }
    return forced ? this.backtrack() : this.list.next[node]!;
  }

  /** Tries the first unplaced op of effect class c if it is invoked by the frontier. */
  private placeUnknown(c: number): number {
    const effect = this.effects[c]!;
    const op = effect.ops[effect.placed];
    if (op === undefined || this.ops[op]!.invoke > this.frontier) return UNKNOWN_PHASE - c - 1;
    const after = step(this.states, this.state, this.ops[op]!);
    // Placing it where it changes nothing is never better than leaving it for +infinity.
    if (after === this.state || !this.push(op, UNKNOWN_PHASE - c, after, false)) {
      return UNKNOWN_PHASE - c - 1;
    }
    effect.placed++;
    return this.list.next[0]!;
  }

  /** Places op unless the resulting configuration was explored already. */
  private push(op: number, cursor: number, after: number, forced: boolean): boolean {
    this.flip(op);
    if (
      !this.memo.add(
        this.hash1 ^ this.zobrist1[op]!,
        this.hash2 ^ this.zobrist2[op]!,
        after,
        this.bits,
      )
    ) {
      this.flip(op);
      return false;
    }
    this.hash1 ^= this.zobrist1[op]!;
    this.hash2 ^= this.zobrist2[op]!;
    this.stackCursor[this.depth] = cursor;
    this.stackState[this.depth] = this.state;
    this.stackFrontier[this.depth] = this.frontier;
    this.stackForced[this.depth] = forced ? 1 : 0;
    this.depth++;
    this.state = after;
    return true;
  }

  /** Undoes placements back to the latest free choice; returns where to resume, or EXHAUSTED. */
  private backtrack(): number {
    const { list } = this;
    while (this.depth > 0) {
      this.depth--;
      const cursor = this.stackCursor[this.depth]!;
      let op: number;
      if (cursor >= 0) {
        op = list.opOf[cursor]!;
        list.unlift(cursor);
        this.knownLeft++;
      } else {
        const effect = this.effects[UNKNOWN_PHASE - cursor]!;
        op = effect.ops[--effect.placed]!;
      }
      this.flip(op);
      this.hash1 ^= this.zobrist1[op]!;
      this.hash2 ^= this.zobrist2[op]!;
      this.state = this.stackState[this.depth]!;
      this.frontier = this.stackFrontier[this.depth]!;
      if (this.stackForced[this.depth] === 0) return cursor >= 0 ? list.next[cursor]! : cursor - 1;
    }
    return EXHAUSTED;
  }

  private flip(op: number): void {
    this.bits[op >>> 5]! ^= 1 << (op & 31);
  }

  /** Remembers the deepest dead end: the best witness to report if everything fails. */
  private noteDeadEnd(stuckNode: number): void {
    if (this.deepest !== undefined && this.deepest.order.length >= this.depth) return;
    const order = new Int32Array(this.depth);
    for (let i = 0; i < this.depth; i++) {
      const cursor = this.stackCursor[i]!;
      order[i] = cursor >= 0 ? this.list.opOf[cursor]! : -1;
    }
    // An unknown op's identity is recovered from the class prefixes, as they stood then.
    const taken = this.effects.map(() => 0);
    for (let i = 0; i < this.depth; i++) {
      const cursor = this.stackCursor[i]!;
      if (cursor < 0) {
        const c = UNKNOWN_PHASE - cursor;
        order[i] = this.effects[c]!.ops[taken[c]!++]!;
      }
    }
    this.deepest = { order, state: this.state, stuckNode };
  }

  private giveUp(reason: "timeout" | "memo-limit"): PathOutcome {
    return { ok: "unknown", reason, path: this.path };
  }

  private failure(): PathOutcome {
    const deepest = this.deepest;
    assert(deepest !== undefined, "a failed search met a dead end");
    const placed = new Set(deepest.order);
    const stuckTime = this.list.time[deepest.stuckNode]!;
    const stuckOp = this.list.opOf[deepest.stuckNode]!;
    // Pending: invoked by the stuck op's response (ties count as concurrent), not yet placed.
    const pending = this.ops.filter(
      (op, i) =>
        !placed.has(i) &&
        (op.invoke < stuckTime || (op.invoke === stuckTime && this.callsBeforeStuck(i, stuckOp))),
    );
    const stuck = this.ops[stuckOp]!;
    const linearized = Array.from(deepest.order, (op) => this.ops[op]!);
    const state = this.states.get(deepest.state);
    const recent = linearized.slice(-3).map(formatOp).join("; ");
    const reason =
      `${this.path}: not linearizable. The longest valid order places ${linearized.length} ` +
      `op(s)${recent === "" ? "" : ` (last: ${recent})`} and reaches ${formatState(state)}; ` +
      `then ${formatOp(stuck)} has returned, and none of the pending ops fits there: ` +
      `${pending.map(formatOp).join("; ")}`;
    return { ok: false, reason, witness: { path: this.path, linearized, state, stuck, pending } };
  }

  /** On a time tie, whether op i's call comes before the stuck op's return in the event order. */
  private callsBeforeStuck(i: number, stuckOp: number): boolean {
    const node = this.list.callNode[i]!;
    return node < 0 || node < this.list.match[this.list.callNode[stuckOp]!]!;
  }
}

/**
 * The states met so far, interned to small ids so that memo entries and the search stack hold
 * numbers. Id 0 is the absent node. Data that no getData of the history returns is not kept:
 * such states are all alike to every op, and merging them keeps the memo small.
 */
class StateTable {
  private readonly read = new Set<string>();
  private readonly ids = new Map<string, number>();
  private readonly data: string[] = [""];
  private readonly versions: number[] = [-1];

  constructor(ops: readonly Op[]) {
    for (const { call, result } of ops) {
      if (call.type === "getData" && result?.type === "ok" && result.data !== undefined) {
        this.read.add(result.data);
      }
    }
  }

  /** The data as states keep it: itself if some getData returns it, else UNREAD. */
  tracked(data: string): string {
    return this.read.has(data) ? data : UNREAD;
  }

  intern(data: string, version: number): number {
    const kept = this.tracked(data);
    const key = `${version}:${kept}`;
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.data.length;
      this.ids.set(key, id);
      this.data.push(kept);
      this.versions.push(version);
    }
    return id;
  }

  version(id: number): number {
    return this.versions[id]!;
  }

  get(id: number): NodeState {
    return { exists: id !== 0, data: this.data[id]!, version: this.versions[id]! };
  }
}

/**
 * The sequential specification: applies `op` to state `from` and returns the state after it,
 * or -1 if the op's recorded result is not what the model answers there. An unknown outcome
 * (no result) accepts any answer.
 */
function step(states: StateTable, from: number, op: Op): number {
  const { call, result } = op;
  const exists = from !== 0;
  const current = states.version(from);
  const expected = call.type === "setData" || call.type === "delete" ? (call.version ?? -1) : -1;
  let code: ModelErrorCode | undefined;
  let to = from;
  if (call.type === "create") {
    if (exists) code = "NODEEXISTS";
    else to = states.intern(call.data, 0);
  } else if (!exists) {
    code = "NONODE";
  } else if (expected !== -1 && expected !== current) {
    code = "BADVERSION";
  } else if (call.type === "setData") {
    to = states.intern(call.data, current + 1);
  } else if (call.type === "delete") {
    to = 0;
  }
  if (result === undefined) return to;
  if (result.type === "error") return result.code === code ? to : -1;
  if (code !== undefined) return -1;
  const version = call.type === "delete" ? undefined : states.version(to);
  if (result.version !== undefined && version !== undefined && result.version !== version) {
    return -1;
  }
  const data = states.get(to).data;
  if (call.type === "getData" && result.data !== undefined && result.data !== data) {
    return -1;
  }
  return to;
}

function formatState(state: NodeState): string {
  return state.exists ? `{data ${JSON.stringify(state.data)}, version ${state.version}}` : "absent";
}

/** One op on one line, for reasons and test messages. */
export function formatOp(op: Op): string {
  const { call, result } = op;
  const args = [JSON.stringify(call.path)];
  if (call.type === "create" || call.type === "setData") args.push(JSON.stringify(call.data));
  if ((call.type === "setData" || call.type === "delete") && call.version !== undefined) {
    args.push(`version ${call.version}`);
  }
  let outcome = "unknown";
  if (result?.type === "error") outcome = result.code;
  else if (result !== undefined) {
    const fields: string[] = [];
    if (result.data !== undefined) fields.push(JSON.stringify(result.data));
    if (result.version !== undefined) fields.push(`version ${result.version}`);
    outcome = fields.length === 0 ? "ok" : `ok(${fields.join(", ")})`;
  }
  const response = result === undefined ? "∞" : String(op.response);
  return `client ${op.client} ${call.type}(${args.join(", ")}) → ${outcome} [${op.invoke}, ${response}]`;
}
