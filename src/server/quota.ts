/**
 * Quotas as Apache ZooKeeper 3.8 keeps them, all in the tree under /zookeeper/quota:
 *
 * - `/zookeeper/quota<path>/zookeeper_limits` holds the limits for the subtree at <path>
 *   ("count=10,bytes=-1", and since 3.7 ";countHardLimit=..;byteHardLimit=.."), written by the
 *   client (ZooKeeperMain's setquota);
 * - `/zookeeper/quota<path>/zookeeper_stats` holds the subtree's node count and data bytes,
 *   which the server keeps current as txns are applied (its data changes; its Stat does not).
 *
 * A change is counted against the deepest quota above it only. Soft limits are logged when
 * exceeded; hard limits refuse the create or setData with QuotaExceeded when
 * zookeeper.enforceQuota is on (ZooKeeperServer.checkQuota, at prep, against the applied tree).
 */
import { ErrorCode } from "../protocol/errors.js";
import { KeeperError } from "./auth.js";

export const QUOTA_ROOT = "/zookeeper/quota";
export const LIMIT_NODE = "zookeeper_limits";
export const STAT_NODE = "zookeeper_stats";

export function limitPath(quotaPath: string): string {
  return `${QUOTA_ROOT}${quotaPath}/${LIMIT_NODE}`;
}

export function statPath(quotaPath: string): string {
  return `${QUOTA_ROOT}${quotaPath}/${STAT_NODE}`;
}

/** StatsTrack: "key=long" pairs separated by "," or ";"; a missing key reads as -1. */
export class StatsTrack {
  private readonly values = new Map<string, bigint>();

  constructor(text = "") {
    if (text === "") return;
    for (const pair of text.split(/[,;]+/)) {
      if (pair === "") continue;
      const [key = "", value] = pair.split("=");
      this.values.set(key, parseLong(value));
    }
  }

  static of(data: Buffer | null): StatsTrack {
    return new StatsTrack(data === null ? "" : data.toString("utf8"));
  }

  get(key: "count" | "bytes" | "countHardLimit" | "byteHardLimit"): bigint {
    return this.values.get(key) ?? -1n;
  }

  set(key: "count" | "bytes", value: bigint): void {
    this.values.set(key, value);
  }

  /**
   * count and bytes first, then (after a "=" that keeps 3.4's parser away from them) the other
   * keys sorted, each after ";": ZooKeeper's own layout, which clients parse.
   */
  toString(): string {
    const rest = [...this.values.keys()].filter((k) => k !== "count" && k !== "bytes").sort();
    let text = `count=${this.get("count")},bytes=${this.get("bytes")}`;
    if (rest.length > 0) text += `=${rest.map((k) => `;${k}=${this.values.get(k)}`).join("")}`;
    return text;
  }

  bytes(): Buffer {
    return Buffer.from(this.toString(), "utf8");
  }
}

function parseLong(value: string | undefined): bigint {
  if (value === undefined || value === "") return -1n;
  try {
    return BigInt(value.trim());
  } catch {
    return -1n;
  }
}

/** The paths that have a quota (ZooKeeper's PathTrie of limit nodes). */
export class QuotaPaths {
  private readonly paths = new Set<string>();

  add(path: string): void {
    if (path !== "") this.paths.add(path);
  }

  delete(path: string): void {
    this.paths.delete(path);
  }

  get size(): number {
    return this.paths.size;
  }

  /** The deepest quota path at or above `path`, by whole components; never "/". */
  maxPrefix(path: string): string | undefined {
    if (this.paths.size === 0) return undefined;
    for (let p = path; p.length > 1; p = p.slice(0, Math.max(1, p.lastIndexOf("/")))) {
      if (this.paths.has(p)) return p;
    }
    return undefined;
  }
}

/** Where quota bookkeeping reads the tree (a DataTree). */
export interface QuotaTree {
  readonly quotas: QuotaPaths;
  getNode(path: string): { readonly data: Buffer | null } | undefined;
}

/**
 * ZooKeeperServer.checkQuota for a create (countDiff 1) or a setData (0) of `data` at `path`,
 * `lastData` being the node's data as prep sees it. Logs what exceeds a limit; throws
 * QuotaExceeded for a hard limit when `enforce` (ZooKeeper checks nothing otherwise; zkts
 * still logs).
 */
export function checkQuota(
  tree: QuotaTree,
  path: string,
  lastData: Buffer | null,
  data: Buffer | null,
  countDiff: 0 | 1,
  enforce: boolean,
  warn: (message: string) => void,
): void {
  const prefix = tree.quotas.maxPrefix(path);
  if (prefix === undefined) return;
  const limits = tree.getNode(limitPath(prefix))?.data;
  if (limits === undefined) return;
  const limit = StatsTrack.of(limits);
  const bytesDiff = BigInt((data?.length ?? 0) - (lastData?.length ?? 0));
  const checkCount =
    countDiff !== 0 && (limit.get("count") > -1n || limit.get("countHardLimit") > -1n);
  const checkBytes =
    bytesDiff !== 0n && (limit.get("bytes") > -1n || limit.get("byteHardLimit") > -1n);
  if (!checkCount && !checkBytes) return;
  const stats = tree.getNode(statPath(prefix))?.data;
  if (stats === undefined) return;
  const current = StatsTrack.of(stats);
  const exceeded = (
    what: "count" | "bytes",
    diff: bigint,
    hardKey: "countHardLimit" | "byteHardLimit",
  ) => {
    const now = current.get(what) + diff;
    const hard = limit.get(hardKey) > -1n;
    const max = hard ? limit.get(hardKey) : limit.get(what);
    if (now <= max) return;
    const kind = what === "count" ? "Count" : "Byte";
    warn(
      `Quota exceeded: ${prefix} [current ${what}=${now}, ${hard ? "hard" : "soft"}${kind}Limit=${max}]`,
    );
    if (hard && enforce) throw new KeeperError(ErrorCode.QUOTAEXCEEDED);
  };
  if (checkCount) exceeded("count", BigInt(countDiff), "countHardLimit");
  if (checkBytes) exceeded("bytes", bytesDiff, "byteHardLimit");
}
