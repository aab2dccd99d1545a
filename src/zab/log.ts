/**
 * A peer's history: the txns it has accepted, in zxid order, as Zab sees them (opaque payloads).
 * The shell keeps the same sequence durable; this in-memory copy lets the leader sync learners
 * and lets a peer describe its history.
 *
 * The summary of a history is, per epoch, the last zxid it holds of that epoch. Within an epoch
 * one leader proposed one sequence (counters 1, 2, 3, ...), and every history holds a prefix of
 * it; so two summaries say exactly where two histories stop agreeing (see commonPoint). This is
 * what lets the leader send TRUNC to the right place, where ZooKeeper's guess from the last zxid
 * alone loses txns in some schedules.
 */
import { epochOf, maxZxid, minZxid } from "./zxid.js";

export interface Entry<P = unknown> {
  readonly zxid: bigint;
  readonly payload: P;
}

/** Per epoch (ascending), the last zxid a history holds of it. */
export type HistorySummary = readonly (readonly [epoch: bigint, last: bigint])[];

export class History<P = unknown> {
  private entries: Entry<P>[];
  /**
   * The zxid the retained entries follow: everything up to it is committed and lives in the
   * state machine's snapshot, not here (0 for a history that starts at the beginning).
   */
  base: bigint;

  constructor(entries: readonly Entry<P>[] = [], base = 0n) {
    this.base = base;
    this.entries = entries.filter((entry) => entry.zxid > base);
  }

  get lastZxid(): bigint {
    return this.entries.at(-1)?.zxid ?? this.base;
  }

  get length(): number {
    return this.entries.length;
  }

  all(): readonly Entry<P>[] {
    return this.entries;
  }

  append(entry: Entry<P>): void {
    if (entry.zxid <= this.lastZxid) {
      throw new Error(
        `zxid 0x${entry.zxid.toString(16)} does not follow 0x${this.lastZxid.toString(16)}`,
      );
    }
    this.entries.push(entry);
  }

  /** Drops every entry after `zxid`. */
  truncate(zxid: bigint): void {
    let keep = this.entries.length;
    while (keep > 0 && (this.entries[keep - 1] as Entry<P>).zxid > zxid) keep--;
    this.entries.length = keep;
  }

  /** Forgets committed entries up to `zxid` (they are in a snapshot now). */
  compact(zxid: bigint): void {
    let drop = 0;
    while (drop < this.entries.length && (this.entries[drop] as Entry<P>).zxid <= zxid) drop++;
    if (drop === 0) return;
    this.base = (this.entries[drop - 1] as Entry<P>).zxid;
    this.entries.splice(0, drop);
  }

  /** Starts over from a snapshot at `zxid` (SNAP). */
  reset(zxid: bigint): void {
    this.entries = [];
    this.base = zxid;
  }

  /** The entries after `zxid`, in order. */
  after(zxid: bigint): Entry<P>[] {
    let i = this.entries.length;
    while (i > 0 && (this.entries[i - 1] as Entry<P>).zxid > zxid) i--;
    return this.entries.slice(i);
  }

  /** Per epoch, the last zxid held; the base counts as held. */
  summary(): HistorySummary {
    const out: [bigint, bigint][] = this.base === 0n ? [] : [[epochOf(this.base), this.base]];
    for (const { zxid } of this.entries) {
      const epoch = epochOf(zxid);
      const last = out.at(-1);
      if (last !== undefined && last[0] === epoch) last[1] = zxid;
      else out.push([epoch, zxid]);
    }
    return out;
  }
}

/** True if a history with this summary holds `zxid` (histories hold prefixes of each epoch). */
export function holds(summary: HistorySummary, zxid: bigint): boolean {
  const epoch = epochOf(zxid);
  return summary.some(([e, last]) => e === epoch && last >= zxid);
}

/**
 * The last zxid a learner shares with the leader, when either history may be compacted (its
 * entries up to `base` folded into a snapshot), or undefined if the leader can no longer send
 * what the learner lacks (it does not hold the leader's base): then only a snapshot can sync it.
 * Histories that share a zxid share everything before it, and a committed zxid (a base) is held
 * by every later leader, so only the epochs from the later base on are compared.
 */
export function commonPointFrom(
  leader: { summary: HistorySummary; base: bigint },
  learner: { summary: HistorySummary; base: bigint },
): bigint | undefined {
  if (leader.base > learner.base && !holds(learner.summary, leader.base)) return undefined;
  const from = maxZxid(leader.base, learner.base);
  if (from === 0n) return commonPoint(leader.summary, learner.summary);
  const epoch = epochOf(from);
  return commonPoint(
    leader.summary.filter(([e]) => e >= epoch),
    learner.summary.filter(([e]) => e >= epoch),
  );
}

/**
 * The last zxid two histories share, from their summaries: epoch by epoch both hold prefixes of
 * the same sequence, so they agree up to the shorter one's end, and nowhere after the first
 * epoch where they differ.
 */
export function commonPoint(a: HistorySummary, b: HistorySummary): bigint {
  let point = 0n;
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const [epochA, lastA] = a[i] as readonly [bigint, bigint];
    const [epochB, lastB] = b[i] as readonly [bigint, bigint];
    if (epochA !== epochB) break;
    point = minZxid(lastA, lastB);
    if (lastA !== lastB) break;
  }
  return point;
}
