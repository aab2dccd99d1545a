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
import { epochOf, minZxid } from "./zxid.js";

export interface Entry<P = unknown> {
  readonly zxid: bigint;
  readonly payload: P;
}

/** Per epoch (ascending), the last zxid a history holds of it. */
export type HistorySummary = readonly (readonly [epoch: bigint, last: bigint])[];

export class History<P = unknown> {
  private entries: Entry<P>[];

  constructor(entries: readonly Entry<P>[] = []) {
    this.entries = [...entries];
  }

  get lastZxid(): bigint {
    return this.entries.at(-1)?.zxid ?? 0n;
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

  /** The entries after `zxid`, in order. */
  after(zxid: bigint): Entry<P>[] {
    let i = this.entries.length;
    while (i > 0 && (this.entries[i - 1] as Entry<P>).zxid > zxid) i--;
    return this.entries.slice(i);
  }

  has(zxid: bigint): boolean {
    return this.entries.some((e) => e.zxid === zxid);
  }

  summary(): HistorySummary {
    const out: [bigint, bigint][] = [];
    for (const { zxid } of this.entries) {
      const epoch = epochOf(zxid);
      const last = out.at(-1);
      if (last !== undefined && last[0] === epoch) last[1] = zxid;
      else out.push([epoch, zxid]);
    }
    return out;
  }
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
