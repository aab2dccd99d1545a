/**
 * The operations of the differential suite, as plain data: what fast-check generates, shrinks
 * and prints. The runner (runner.ts) gives them meaning against a live server.
 *
 * Every op names the session (slot 0..2) that issues it. Paths come from a small universe so
 * that collisions are frequent: NONODE, NODEEXISTS, NOTEMPTY, BADVERSION, NOAUTH and
 * NOCHILDRENFOREPHEMERALS happen all the time. "$seq" stands for the last sequential node any
 * session created in this run (the runner resolves it), so later ops can reach such nodes.
 */
import fc from "fast-check";

export type Slot = 0 | 1 | 2;

export type Mode = "P" | "E" | "PS" | "ES" | "C" | "TTL" | "TTLS";

export type AclShape =
  | "open"
  | "read"
  | "alice"
  | "creator"
  | "creatorRead"
  | "mixed"
  | "dup"
  | "ip"
  | "invalid";

/** A read's watch: none, listener A (true), or a second listener B of the same session. */
export type WatchFlag = boolean | "B";

export type WatchType = "Children" | "Data" | "Any";

export type SubOp =
  | { readonly type: "create"; readonly path: string; readonly data: string; readonly mode: Mode }
  | { readonly type: "delete"; readonly path: string; readonly version: number }
  | {
      readonly type: "setData";
      readonly path: string;
      readonly data: string;
      readonly version: number;
    }
  | { readonly type: "check"; readonly path: string; readonly version: number };

export type ReadSubOp = { readonly type: "getData" | "getChildren"; readonly path: string };

export type Op =
  | {
      readonly kind: "create";
      readonly s: Slot;
      readonly path: string;
      readonly data: string;
      readonly mode: Mode;
      readonly acl: AclShape;
      /** create2 (path and Stat) instead of create (path only). */
      readonly withStat: boolean;
    }
  | { readonly kind: "delete"; readonly s: Slot; readonly path: string; readonly version: number }
  | {
      readonly kind: "setData";
      readonly s: Slot;
      readonly path: string;
      readonly data: string;
      readonly version: number;
    }
  | {
      readonly kind: "exists" | "getData" | "getChildren" | "getChildren2";
      readonly s: Slot;
      readonly path: string;
      readonly watch: WatchFlag;
    }
  | {
      readonly kind: "getACL" | "sync" | "getAllChildrenNumber" | "getEphemerals";
      readonly s: Slot;
      readonly path: string;
    }
  | {
      readonly kind: "setACL";
      readonly s: Slot;
      readonly path: string;
      readonly acl: AclShape;
      readonly version: number;
    }
  /** digest user:pw; "nosuch-scheme" authenticates with an unknown scheme (AUTHFAILED). */
  | {
      readonly kind: "addAuth";
      readonly s: Slot;
      readonly user: "alice" | "bob" | "nosuch-scheme";
    }
  | { readonly kind: "multi"; readonly s: Slot; readonly ops: readonly SubOp[] }
  | { readonly kind: "multiRead"; readonly s: Slot; readonly ops: readonly ReadSubOp[] }
  | {
      readonly kind: "addWatch";
      readonly s: Slot;
      readonly path: string;
      readonly recursive: boolean;
    }
  | {
      readonly kind: "removeWatches";
      readonly s: Slot;
      readonly path: string;
      readonly type: WatchType;
      /** Every listener's watches, or only listener A's (checkWatches if B still needs one). */
      readonly listener: "all" | "A";
    }
  /** PersistentWatch.remove() of the newest persistent watch this session left on `path`. */
  | { readonly kind: "removePersistent"; readonly s: Slot; readonly path: string }
  /** Closes the session; the next op on this slot opens a new session (s1 → s1'). */
  | { readonly kind: "close"; readonly s: Slot }
  | { readonly kind: "whoAmI" | "getConfig"; readonly s: Slot }
  /**
   * Cuts the session's TCP connection and refuses its reconnection until the slot's next op:
   * the session lives on, and when it reconnects it re-sends its watches (setWatches) and gets
   * the events it missed.
   */
  | { readonly kind: "disconnect"; readonly s: Slot }
  /**
   * Several requests sent back to back on one session without waiting for replies: the server
   * must answer them in order, each seeing the effect of those before it.
   */
  | { readonly kind: "pipeline"; readonly s: Slot; readonly ops: readonly Op[] };

/** Paths the random ops use, relative to the run's chroot. /d exists when a run starts. */
export const PATHS = ["/d", "/d/a", "/d/b", "/d/a/x", "/d/a/y", "/d/b/x", "/d/a/x/z"] as const;
/** Shallow paths more often: deep ones mostly answer NONODE. */
const PATH_WEIGHTS = [4, 4, 3, 2, 1, 1, 1];
export const SEQ = "$seq";
/**
 * For removeWatches: the path this session most recently left a watch on. For removePersistent:
 * the path of its newest persistent watch. (Else removals would nearly always find nothing.)
 */
export const WATCHED = "$watched";

const MODE_NAMES: Record<Mode, string> = {
  P: "PERSISTENT",
  E: "EPHEMERAL",
  PS: "PERSISTENT_SEQUENTIAL",
  ES: "EPHEMERAL_SEQUENTIAL",
  C: "CONTAINER",
  TTL: "PERSISTENT_WITH_TTL",
  TTLS: "PERSISTENT_SEQUENTIAL_WITH_TTL",
};

// ---- printing ----

/** One line per op, as the failure message and fast-check's counterexample show it. */
export function formatOp(op: Op): string {
  const s = `s${op.s}`;
  switch (op.kind) {
    case "create":
      return `${s} ${op.withStat ? "create2" : "create"} ${op.path} ${JSON.stringify(op.data)} ${MODE_NAMES[op.mode]}${op.acl === "open" ? "" : ` acl=${op.acl}`}`;
    case "delete":
      return `${s} delete ${op.path} v=${op.version}`;
    case "setData":
      return `${s} setData ${op.path} ${JSON.stringify(op.data)} v=${op.version}`;
    case "exists":
    case "getData":
    case "getChildren":
    case "getChildren2":
      return `${s} ${op.kind} ${op.path}${op.watch === "B" ? " watchB" : op.watch ? " watch" : ""}`;
    case "getACL":
    case "sync":
    case "getAllChildrenNumber":
    case "getEphemerals":
      return `${s} ${op.kind} ${op.path}`;
    case "setACL":
      return `${s} setACL ${op.path} acl=${op.acl} v=${op.version}`;
    case "addAuth":
      return op.user === "nosuch-scheme"
        ? `${s} addAuth nosuch-scheme x`
        : `${s} addAuth digest ${op.user}:pw`;
    case "multi":
      return `${s} multi [${op.ops.map(formatSubOp).join("; ")}]`;
    case "multiRead":
      return `${s} multiRead [${op.ops.map((r) => `${r.type} ${r.path}`).join("; ")}]`;
    case "addWatch":
      return `${s} addWatch ${op.path} ${op.recursive ? "PERSISTENT_RECURSIVE" : "PERSISTENT"}`;
    case "removeWatches":
      return `${s} removeWatches ${op.path} ${op.type}${op.listener === "A" ? " listener=A" : ""}`;
    case "pipeline":
      return `${s} pipeline [${op.ops.map((o) => formatOp(o).replace(/^s\d /, "")).join("; ")}]`;
    case "removePersistent":
      return `${s} removePersistent ${op.path}`;
    case "close":
    case "disconnect":
    case "whoAmI":
    case "getConfig":
      return `${s} ${op.kind}`;
  }
}

export function formatSubOp(op: SubOp): string {
  switch (op.type) {
    case "create":
      return `create ${op.path} ${JSON.stringify(op.data)} ${MODE_NAMES[op.mode]}`;
    case "delete":
      return `delete ${op.path} v=${op.version}`;
    case "setData":
      return `setData ${op.path} ${JSON.stringify(op.data)} v=${op.version}`;
    case "check":
      return `check ${op.path} v=${op.version}`;
  }
}

export function formatSequence(ops: readonly Op[]): string {
  return ops.map((op, i) => `  #${i} ${formatOp(op)}`).join("\n");
}

/** The op, printable by fast-check as its one-line form (fc.stringify honours this). */
function printable<T extends Op>(op: T): T {
  return Object.defineProperty({ ...op }, fc.toStringMethod, {
    value: () => formatOp(op),
    enumerable: false,
  });
}

// ---- generation ----

/**
 * Parts of the model that can be left out (ZKTS_DIFF_EXCLUDE), to look past a difference already
 * found and reported: restrictive ACLs, watches, multi/multiRead, closing sessions, dropped
 * connections, TTL nodes, containers, addAuth.
 */
export const FEATURES = [
  "acl",
  "watch",
  "multi",
  "close",
  "disconnect",
  "ttl",
  "container",
  "auth",
] as const;
export type Feature = (typeof FEATURES)[number];

export interface ModelOptions {
  /** Sessions 0..sessions-1 issue ops (1..3; default 3). */
  readonly sessions?: number;
  readonly maxOps?: number;
  readonly exclude?: ReadonlySet<Feature>;
}

type Weighted<T> = { weight: number; arbitrary: fc.Arbitrary<T> };

const slot = (sessions: number): fc.Arbitrary<Slot> =>
  fc.integer({ min: 0, max: sessions - 1 }) as fc.Arbitrary<Slot>;
/** Shrinking may move to the first alternative: the simplest value comes first. */
const simplest = { withCrossShrink: true };
/** fc.oneof of the alternatives whose weight is not 0. */
function choice<T>(...alternatives: Weighted<T>[]): fc.Arbitrary<T> {
  return fc.oneof(simplest, ...alternatives.filter((a) => a.weight > 0));
}
const nodePath = choice(
  ...PATHS.map((path, i) => ({ weight: PATH_WEIGHTS[i] ?? 1, arbitrary: fc.constant(path) })),
);
const anyPath = choice(
  { weight: 12, arbitrary: nodePath },
  { weight: 2, arbitrary: fc.constant(SEQ) },
  { weight: 1, arbitrary: fc.constant("/") },
);
const watchedPath = choice(
  { weight: 3, arbitrary: fc.constant(WATCHED) },
  { weight: 1, arbitrary: anyPath },
);
/** Where watches go: /d (every child change shows) more than elsewhere. */
const watchTarget = choice(
  { weight: 2, arbitrary: fc.constant("/d") },
  { weight: 3, arbitrary: anyPath },
);
const data = fc.constantFrom("", "a", "bb");
const version = choice(
  { weight: 3, arbitrary: fc.constant(-1) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 2 }) },
);

const SEQUENTIAL_MODES: ReadonlySet<Mode> = new Set<Mode>(["PS", "ES", "TTLS"]);

/** The op generator's parts, with the excluded features left out. */
class Parts {
  readonly has: (feature: Feature) => boolean;

  constructor(exclude: ReadonlySet<Feature>) {
    this.has = (feature) => !exclude.has(feature);
  }

  mode(): fc.Arbitrary<Mode> {
    const on = (feature: Feature) => (this.has(feature) ? 1 : 0);
    return choice<Mode>(
      { weight: 5, arbitrary: fc.constant("P") },
      { weight: 3, arbitrary: fc.constant("E") },
      { weight: 2, arbitrary: fc.constantFrom("PS", "ES") },
      { weight: on("container"), arbitrary: fc.constant("C") },
      { weight: on("ttl"), arbitrary: fc.constantFrom("TTL", "TTLS") },
    );
  }

  acl(): fc.Arbitrary<AclShape> {
    // "ip" (127.0.0.1, all permissions) and "invalid" (refused) take nothing from anyone.
    return choice<AclShape>(
      { weight: 8, arbitrary: fc.constant("open") },
      { weight: 1, arbitrary: fc.constantFrom("ip", "invalid") },
      {
        weight: this.has("acl") ? 3 : 0,
        arbitrary: fc.constantFrom("read", "alice", "creator", "creatorRead", "mixed", "dup"),
      },
    );
  }

  watch(): fc.Arbitrary<WatchFlag> {
    const on = this.has("watch") ? 1 : 0;
    return choice<WatchFlag>(
      { weight: 2 * on, arbitrary: fc.constant(true) },
      { weight: 1, arbitrary: fc.constant(false) },
      { weight: on, arbitrary: fc.constant("B") },
    );
  }

  /** An op for a pipeline: simple writes and reads (slot 0: the pipeline's own counts). */
  pipelined(): fc.Arbitrary<Op> {
    const s = fc.constant(0 as const);
    return fc
      .oneof(
        fc.record({
          kind: fc.constant("create" as const),
          s,
          path: nodePath,
          data,
          mode: fc.constantFrom<Mode>("P", "E", "PS"),
          acl: fc.constant<AclShape>("open"),
          withStat: fc.boolean(),
        }),
        fc.record({ kind: fc.constant("delete" as const), s, path: anyPath, version }),
        fc.record({ kind: fc.constant("setData" as const), s, path: anyPath, data, version }),
        fc.record({
          kind: fc.constantFrom("exists", "getData", "getChildren2"),
          s,
          path: watchTarget,
          watch: this.watch(),
        }),
      )
      .map(printable);
  }

  subOp(): fc.Arbitrary<SubOp> {
    return fc.oneof(
      fc
        .record({
          type: fc.constant("create" as const),
          path: anyPath,
          data,
          mode: this.mode(),
        })
        // A sequential create of "/" is named after each run's own chroot (/run7 + 0000000001):
        // a difference of the harness, not of the servers (top-level creates never use "/").
        .filter((op) => !(op.path === "/" && SEQUENTIAL_MODES.has(op.mode))),
      fc.record({ type: fc.constant("delete" as const), path: anyPath, version }),
      fc.record({ type: fc.constant("setData" as const), path: anyPath, data, version }),
      fc.record({ type: fc.constant("check" as const), path: anyPath, version }),
    );
  }
}

const readSubOp: fc.Arbitrary<ReadSubOp> = fc.record({
  type: fc.constantFrom("getData" as const, "getChildren" as const),
  path: anyPath,
});

/** One random op. */
export function opArbitrary(options: ModelOptions = {}): fc.Arbitrary<Op> {
  const s = slot(options.sessions ?? 3);
  const parts = new Parts(options.exclude ?? new Set());
  const when = (feature: Feature, weight: number) => (parts.has(feature) ? weight : 0);
  const op = (weight: number, arbitrary: fc.Arbitrary<Op>): Weighted<Op> => ({
    weight,
    arbitrary,
  });
  const withPath = <K extends string>(kinds: readonly K[], path: fc.Arbitrary<string>) =>
    fc.record({ kind: fc.constantFrom(...kinds), s, path });
  return fc
    .oneof(
      op(
        10,
        fc.record({
          kind: fc.constant("create" as const),
          s,
          path: nodePath,
          data,
          mode: parts.mode(),
          acl: parts.acl(),
          withStat: fc.boolean(),
        }),
      ),
      op(3, fc.record({ kind: fc.constant("delete" as const), s, path: anyPath, version })),
      op(3, fc.record({ kind: fc.constant("setData" as const), s, path: anyPath, data, version })),
      op(
        9,
        fc.record({
          kind: fc.constantFrom("exists", "getData", "getChildren", "getChildren2"),
          s,
          path: watchTarget,
          watch: parts.watch(),
        }),
      ),
      op(3, withPath(["getACL", "sync", "getAllChildrenNumber", "getEphemerals"], anyPath)),
      op(
        1,
        fc.record({
          kind: fc.constant("setACL" as const),
          s,
          path: anyPath,
          acl: parts.acl(),
          version,
        }),
      ),
      op(
        when("auth", 1),
        fc.record({
          kind: fc.constant("addAuth" as const),
          s,
          user: fc.constantFrom("alice" as const, "bob" as const, "nosuch-scheme" as const),
        }),
      ),
      op(
        when("multi", 3),
        fc.record({
          kind: fc.constant("multi" as const),
          s,
          ops: fc.array(parts.subOp(), { minLength: 2, maxLength: 3 }),
        }),
      ),
      op(
        when("multi", 1),
        fc.record({
          kind: fc.constant("multiRead" as const),
          s,
          ops: fc.array(readSubOp, { minLength: 1, maxLength: 3 }),
        }),
      ),
      op(
        when("watch", 3),
        fc.record({
          kind: fc.constant("addWatch" as const),
          s,
          path: watchTarget,
          recursive: fc.boolean(),
        }),
      ),
      op(
        when("watch", 1),
        fc.record({
          kind: fc.constant("removeWatches" as const),
          s,
          path: watchedPath,
          type: fc.constantFrom("Children" as const, "Data" as const, "Any" as const),
          listener: fc.constantFrom("all" as const, "A" as const),
        }),
      ),
      op(when("watch", 1), withPath(["removePersistent"], watchedPath)),
      op(when("close", 1), fc.record({ kind: fc.constant("close" as const), s })),
      op(when("disconnect", 1), fc.record({ kind: fc.constant("disconnect" as const), s })),
      op(1, fc.record({ kind: fc.constantFrom("whoAmI" as const, "getConfig" as const), s })),
      op(
        2,
        fc.record({
          kind: fc.constant("pipeline" as const),
          s,
          ops: fc.array(parts.pipelined(), { minLength: 1, maxLength: 4 }),
        }),
      ),
    )
    .map(printable);
}

/** A random sequence of ops: it shrinks by dropping ops and simplifying each. */
export function sequenceArbitrary(options: ModelOptions = {}): fc.Arbitrary<Op[]> {
  // minLength 0: with a higher minimum, fast-check's shrinker keeps ops it could drop.
  return fc.array(opArbitrary(options), {
    minLength: 0,
    maxLength: options.maxOps ?? 25,
    size: "max",
  });
}

/** Ops written by hand, printable like generated ones. */
export function ops(...list: Op[]): Op[] {
  return list.map(printable);
}
