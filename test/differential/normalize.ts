/**
 * What makes two servers' answers comparable: values that legitimately differ between servers
 * (zxids, times, session ids) become classes that must not.
 *
 * - zxids (czxid, mzxid, pzxid of every Stat seen in a run) become their rank among the distinct
 *   zxids seen in that run: z1 < z2 < ... So equalities *and* order between them are compared,
 *   while the gaps (a failed write may use up a zxid) are not. 0 stays 0.
 * - ctime/mtime become "0", or "T" for a plausible wall-clock time; mtime is compared with ctime
 *   (equal when the node was never modified; not earlier otherwise). Across the run, time must
 *   not go backwards as zxids go up, and one zxid has one time: a summary line says whether.
 * - ephemeralOwner becomes the label of the session that owns it (s0, s1', ...), "container",
 *   or ttl(ms); session ids never appear raw.
 */
import type { ACL, Stat } from "../../src/index.js";

/** Times before this (2020-01-01) or more than a day ahead are not a server's "now". */
const PLAUSIBLE_FROM = 1_577_836_800_000n;
const DAY_MS = 86_400_000n;
const CONTAINER_OWNER = 0x8000000000000000n;
const TTL_MASK = 0xffffffffffffffn;

export class Normalizer {
  readonly #zxids = new Set<bigint>();
  readonly #times: [bigint, bigint][] = [];
  readonly #owners = new Map<bigint, string>();
  #ranks: Map<bigint, number> | undefined;

  /** Names the session that owns ephemerals with this id. */
  nameSession(sessionId: bigint, label: string): void {
    this.#owners.set(sessionId, label);
  }

  /** Records a Stat's zxids and times; call for every Stat before rendering any. */
  observe(stat: Stat): void {
    this.#ranks = undefined;
    for (const zxid of [stat.czxid, stat.mzxid, stat.pzxid]) this.#zxids.add(zxid);
    this.#times.push([stat.czxid, stat.ctime], [stat.mzxid, stat.mtime]);
  }

  zxid(zxid: bigint): string {
    if (zxid === 0n) return "0";
    this.#ranks ??= new Map(
      [...this.#zxids]
        .filter((z) => z !== 0n)
        .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
        .map((z, i) => [z, i + 1]),
    );
    const rank = this.#ranks.get(zxid);
    return rank === undefined ? `z?${zxid}` : `z${rank}`;
  }

  stat(stat: Stat): string {
    const z = (v: bigint) => this.zxid(v);
    return (
      `{cz=${z(stat.czxid)} mz=${z(stat.mzxid)} pz=${z(stat.pzxid)} ` +
      `ct=${time(stat.ctime)} ${mtime(stat)} v=${stat.version} cv=${stat.cversion} ` +
      `av=${stat.aversion} eo=${this.owner(stat.ephemeralOwner)} dl=${stat.dataLength} ` +
      `nc=${stat.numChildren}}`
    );
  }

  owner(ephemeralOwner: bigint): string {
    const unsigned = BigInt.asUintN(64, ephemeralOwner);
    if (unsigned === 0n) return "0";
    if (unsigned === CONTAINER_OWNER) return "container";
    if (unsigned >> 56n === 0xffn) return `ttl(${unsigned & TTL_MASK})`;
    return this.#owners.get(ephemeralOwner) ?? this.#owners.get(unsigned) ?? "unknown-session";
  }

  /** "ok" when time never goes backwards as zxids go up and each zxid has one time. */
  timeOrder(): string {
    const pairs = this.#times
      .filter(([zxid, t]) => zxid !== 0n && t !== 0n)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    for (let i = 1; i < pairs.length; i++) {
      const [zPrev, tPrev] = pairs[i - 1]!;
      const [z, t] = pairs[i]!;
      if (z === zPrev ? t !== tPrev : t < tPrev) {
        return `VIOLATED between ${this.zxid(zPrev)} and ${this.zxid(z)}`;
      }
    }
    return "ok";
  }
}

function time(t: bigint): string {
  if (t === 0n) return "0";
  const plausible = t >= PLAUSIBLE_FROM && t <= BigInt(Date.now()) + DAY_MS;
  return plausible ? "T" : `bad(${t})`;
}

function mtime(stat: Stat): string {
  if (stat.mtime === 0n) return "mt=0";
  if (stat.mzxid === stat.czxid) return stat.mtime === stat.ctime ? "mt=ct" : "mt≠ct";
  return stat.mtime >= stat.ctime ? "mt≥ct" : "mt<ct";
}

export function renderAcl(acl: readonly ACL[]): string {
  return `[${acl.map((a) => `${a.id.scheme}:${a.id.id}=${a.perms}`).join(", ")}]`;
}

/** Child lists: ZooKeeper promises no order, so both sides are sorted. */
export function renderNames(names: readonly string[]): string {
  return `[${[...names].sort().join(",")}]`;
}
