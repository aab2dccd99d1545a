/**
 * How the shell shows ZooKeeper's records: zkCli's text (StatPrinter's `cZxid = 0x...` lines,
 * getAcl's `'world,'anyone` / `: cdrwa`, Java's List.toString for children) and the --json
 * shapes. Pure functions: nothing here writes.
 */
import type { ACL, Stat, WatchEvent } from "../../index.js";
import { Perms } from "../../index.js";
import { NULL_BUFFER } from "../../internal.js";

/** Java's Long.toHexString: a 64-bit two's complement value in lower-case hex. */
export function hex(value: bigint): string {
  return `0x${BigInt.asUintN(64, value).toString(16)}`;
}

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** Java's Date.toString in local time: `Thu Nov 26 15:51:16 UTC 2026`. */
export function javaDate(ms: bigint): string {
  const date = new Date(Number(ms));
  const two = (n: number) => String(n).padStart(2, "0");
  const zone =
    new Intl.DateTimeFormat("en-US", { timeZoneName: "short" })
      .formatToParts(date)
      .find((part) => part.type === "timeZoneName")?.value ?? "UTC";
  const time = `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}`;
  return `${DAYS[date.getDay()]} ${MONTHS[date.getMonth()]} ${two(date.getDate())} ${time} ${zone} ${date.getFullYear()}`;
}

/** StatPrinter's eleven lines. */
export function statLines(stat: Stat): string[] {
  return [
    `cZxid = ${hex(stat.czxid)}`,
    `ctime = ${javaDate(stat.ctime)}`,
    `mZxid = ${hex(stat.mzxid)}`,
    `mtime = ${javaDate(stat.mtime)}`,
    `pZxid = ${hex(stat.pzxid)}`,
    `cversion = ${stat.cversion}`,
    `dataVersion = ${stat.version}`,
    `aclVersion = ${stat.aversion}`,
    `ephemeralOwner = ${hex(stat.ephemeralOwner)}`,
    `dataLength = ${stat.dataLength}`,
    `numChildren = ${stat.numChildren}`,
  ];
}

/** A Stat for --json: zxids and the owner as hex strings (exact), times in ms since the epoch. */
export function statJson(stat: Stat): Record<string, string | number> {
  return {
    czxid: hex(stat.czxid),
    mzxid: hex(stat.mzxid),
    pzxid: hex(stat.pzxid),
    ctime: Number(stat.ctime),
    mtime: Number(stat.mtime),
    version: stat.version,
    cversion: stat.cversion,
    aversion: stat.aversion,
    ephemeralOwner: hex(stat.ephemeralOwner),
    dataLength: stat.dataLength,
    numChildren: stat.numChildren,
  };
}

/** Java's List.toString: `[a, b]`. */
export function javaList(items: readonly string[]): string {
  return `[${items.join(", ")}]`;
}

const PERM_LETTERS: readonly [number, string][] = [
  [Perms.CREATE, "c"],
  [Perms.DELETE, "d"],
  [Perms.READ, "r"],
  [Perms.WRITE, "w"],
  [Perms.ADMIN, "a"],
];

/** ZooKeeper's perm string, in its order: c, d, r, w, a. */
export function permString(perms: number): string {
  return PERM_LETTERS.filter(([bit]) => (perms & bit) !== 0)
    .map(([, letter]) => letter)
    .join("");
}

/** getAcl's two lines per entry. */
export function aclLines(acl: readonly ACL[]): string[] {
  return acl.flatMap((entry) => [
    `'${entry.id.scheme},'${entry.id.id}`,
    `: ${permString(entry.perms)}`,
  ]);
}

export function aclJson(acl: readonly ACL[]): { scheme: string; id: string; perms: string }[] {
  return acl.map((entry) => ({
    scheme: entry.id.scheme,
    id: entry.id.id,
    perms: permString(entry.perms),
  }));
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Data as text when it is valid UTF-8, else as hex. Data never set (jute's null) is null: the
 * client reads it back as the one NULL_BUFFER, so identity tells it from empty data.
 */
export function decodeData(data: Buffer): { data: string | null; encoding: "utf8" | "hex" } {
  if (data === NULL_BUFFER) return { data: null, encoding: "utf8" };
  try {
    return { data: utf8.decode(data), encoding: "utf8" };
  } catch {
    return { data: data.toString("hex"), encoding: "hex" };
  }
}

/** zkCli prints null data as "null"; bytes that are not UTF-8 are shown as 0x-prefixed hex. */
export function dataText(decoded: { data: string | null; encoding: "utf8" | "hex" }): string {
  if (decoded.data === null) return "null";
  return decoded.encoding === "hex" ? `0x${decoded.data}` : decoded.data;
}

/** WatchedEvent.toString: `WatchedEvent state:SyncConnected type:NodeCreated path:/a`. */
export function eventText(event: WatchEvent): string {
  const path = event.type === "None" && event.path === "" ? "null" : event.path;
  return `WatchedEvent state:${event.state} type:${event.type} path:${path}`;
}

export function eventJson(event: WatchEvent): { event: Record<string, string | null> } {
  const path = event.type === "None" && event.path === "" ? null : event.path;
  return { event: { type: event.type, state: event.state, path } };
}
