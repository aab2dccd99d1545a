/**
 * Two servers, one sequence: run it against both (at the same time: they share nothing) and
 * fail with both traces and the sequence when they differ. `differentialProperty` makes that a
 * fast-check property over random sequences, so a difference shrinks to a short sequence.
 *
 * Settings come from the environment, so a failure can be replayed and a known difference
 * looked past:
 *   ZKTS_DIFF_RUNS=200       random sequences per property (default 40)
 *   ZKTS_DIFF_OPS=40         longest sequence (default 25)
 *   ZKTS_DIFF_SEED=123 ZKTS_DIFF_PATH="7:1:0"   replay what a failure printed
 *   ZKTS_DIFF_IGNORE=replyZxid,time,wire        leave those parts out of the traces
 *   ZKTS_DIFF_EXCLUDE=acl,watch,multi,close,disconnect,ttl,container,auth
 *                                               generate no ops of those kinds (model.ts)
 *   ZKTS_DIFF_STRICT_ORDER=children,ephemerals,close (or 1: all)
 *                                               also compare orders ZooKeeper does not promise
 *   ZKTS_DIFF_TIME_LIMIT_MS=90000               bound on one property, shrinking included
 */
import { AssertionError } from "node:assert";
import fc from "fast-check";
import {
  FEATURES,
  type Feature,
  formatSequence,
  type ModelOptions,
  type Op,
  sequenceArbitrary,
} from "./model.js";
import type { RawCase } from "./raw.js";
import {
  type Aspect,
  type DiffTarget,
  type RunOptions,
  STRICT_ORDERS,
  type StrictOrder,
} from "./runner.js";

const ASPECTS: readonly Aspect[] = ["replyZxid", "wire", "time"];

function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name}=${raw}: not an integer`);
  return value;
}

function envSet<T extends string>(name: string, known: readonly T[]): ReadonlySet<T> {
  const names = (process.env[name] ?? "").split(",").filter((s) => s !== "");
  for (const value of names) {
    if (!known.includes(value as T)) {
      throw new Error(`${name}: unknown ${value} (know: ${known.join(", ")})`);
    }
  }
  return new Set(names as T[]);
}

export interface DiffConfig {
  readonly runs: number;
  readonly maxOps: number;
  readonly seed: number | undefined;
  readonly path: string | undefined;
  readonly ignore: ReadonlySet<Aspect>;
  readonly exclude: ReadonlySet<Feature>;
  readonly strictOrder: ReadonlySet<StrictOrder>;
  readonly timeLimitMs: number;
}

export function diffConfig(defaults: { runs?: number; timeLimitMs?: number } = {}): DiffConfig {
  const seed = process.env.ZKTS_DIFF_SEED;
  const path = process.env.ZKTS_DIFF_PATH;
  return {
    runs: envInt("ZKTS_DIFF_RUNS", defaults.runs ?? 40),
    maxOps: envInt("ZKTS_DIFF_OPS", 25),
    seed: seed === undefined || seed === "" ? undefined : Number(seed),
    path: path === undefined || path === "" ? undefined : path,
    ignore: envSet("ZKTS_DIFF_IGNORE", ASPECTS),
    exclude: envSet("ZKTS_DIFF_EXCLUDE", FEATURES),
    strictOrder:
      process.env.ZKTS_DIFF_STRICT_ORDER === "1"
        ? new Set(STRICT_ORDERS)
        : envSet("ZKTS_DIFF_STRICT_ORDER", STRICT_ORDERS),
    timeLimitMs: envInt("ZKTS_DIFF_TIME_LIMIT_MS", defaults.timeLimitMs ?? 90_000),
  };
}

/** Undefined when the traces agree; else a message with the sequence and both traces. */
export function describeDifference(
  ops: readonly Op[] | string,
  left: { name: string; lines: readonly string[] },
  right: { name: string; lines: readonly string[] },
): string | undefined {
  const length = Math.max(left.lines.length, right.lines.length);
  let first = -1;
  for (let i = 0; i < length && first === -1; i++) {
    if (left.lines[i] !== right.lines[i]) first = i;
  }
  if (first === -1) return undefined;
  const width = Math.max(left.name.length, right.name.length);
  const mark = (lines: readonly string[], other: readonly string[]) =>
    lines.map((line, i) => `${line === other[i] ? "  " : "≠ "}${line}`).join("\n");
  return [
    `${right.name} differs from ${left.name} at trace line ${first}:`,
    `  ${left.name.padEnd(width)}: ${left.lines[first] ?? "(trace ends)"}`,
    `  ${right.name.padEnd(width)}: ${right.lines[first] ?? "(trace ends)"}`,
    ...(typeof ops === "string" ? [ops] : [`sequence (${ops.length} ops):`, formatSequence(ops)]),
    `--- ${left.name}`,
    mark(left.lines, right.lines),
    `--- ${right.name}`,
    mark(right.lines, left.lines),
  ].join("\n");
}

/** Runs `ops` against both targets; throws an AssertionError describing any difference. */
export async function assertSameTraces(
  left: DiffTarget,
  right: DiffTarget,
  ops: readonly Op[],
  options: RunOptions = {},
): Promise<string[]> {
  const [leftLines, rightLines] = await Promise.all([
    left.run(ops, options),
    right.run(ops, options),
  ]);
  const difference = describeDifference(
    ops,
    { name: left.name, lines: leftLines },
    { name: right.name, lines: rightLines },
  );
  if (difference !== undefined) {
    throw new AssertionError({ message: difference, actual: rightLines, expected: leftLines });
  }
  return leftLines;
}

/** Runs a raw case (raw.ts) against both targets; throws an AssertionError on a difference. */
export async function assertSameRawTraces(
  left: DiffTarget,
  right: DiffTarget,
  rawCase: RawCase,
): Promise<void> {
  const [leftLines, rightLines] = await Promise.all([left.runRaw(rawCase), right.runRaw(rawCase)]);
  const difference = describeDifference(
    `raw requests, each on one new session: ${rawCase.name}`,
    { name: left.name, lines: leftLines },
    { name: right.name, lines: rightLines },
  );
  if (difference !== undefined) {
    throw new AssertionError({ message: difference, actual: rightLines, expected: leftLines });
  }
}

/** The property "both targets give the same trace" over random sequences. */
export function differentialProperty(
  left: DiffTarget,
  right: DiffTarget,
  config: DiffConfig,
  model: ModelOptions = {},
): fc.IAsyncPropertyWithHooks<[Op[]]> {
  return fc.asyncProperty(
    sequenceArbitrary({ maxOps: config.maxOps, exclude: config.exclude, ...model }),
    async (ops) => {
      const options = { ignore: config.ignore, strictOrder: config.strictOrder };
      await assertSameTraces(left, right, ops, options);
    },
  );
}

/** fast-check parameters from the config: runs, replay seed/path, the time bound. */
export function checkParameters(config: DiffConfig): fc.Parameters<[Op[]]> {
  return {
    numRuns: config.runs,
    ...(config.seed === undefined ? {} : { seed: config.seed }),
    ...(config.path === undefined ? {} : { path: config.path }),
    interruptAfterTimeLimit: config.timeLimitMs,
    markInterruptAsFailure: false,
  };
}
