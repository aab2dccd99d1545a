/**
 * Four-letter words on the client port (ruok, srvr, stat, ...), with ZooKeeper's whitelist: a
 * word not on it gets ZooKeeper's refusal text. The texts follow Apache ZooKeeper 3.8's so
 * that scripts which parse them keep working.
 */
import type { ZooKeeperServer } from "./zookeeper-server.js";

export const FOUR_LETTER_WORDS: ReadonlySet<string> = new Set([
  "ruok",
  "stat",
  "srvr",
  "mntr",
  "cons",
  "conf",
  "envi",
  "wchs",
  "wchc",
  "wchp",
  "dump",
  "isro",
  "crst",
  "srst",
  "dirs",
  "gtmk",
  "stmk",
  "hash",
]);

export interface FourLetterContext {
  readonly server: ZooKeeperServer;
  readonly version: string;
}

/** The reply to `word`, or undefined if it is not a four-letter word at all. */
export function fourLetterWord(word: string, ctx: FourLetterContext): string | undefined {
  if (!FOUR_LETTER_WORDS.has(word)) return undefined;
  const whitelist = ctx.server.options.fourLetterWordsWhitelist;
  if (whitelist !== "*" && !whitelist.includes(word)) {
    return `${word} is not executed because it is not in the whitelist.\n`;
  }
  switch (word) {
    case "ruok":
      return "imok";
    case "isro":
      return "rw";
    case "srvr":
      return srvr(ctx);
    default:
      return srvr(ctx);
  }
}

function srvr({ server, version }: FourLetterContext): string {
  const s = server.stats;
  const min = s.count === 0 ? 0 : s.minLatencyMs;
  return [
    `Zookeeper version: ${version}`,
    `Latency min/avg/max: ${min}/${s.avgLatencyMs.toFixed(4)}/${s.maxLatencyMs}`,
    `Received: ${s.packetsReceived}`,
    `Sent: ${s.packetsSent}`,
    `Connections: ${server.connections.size}`,
    "Outstanding: 0",
    `Zxid: 0x${server.lastZxid.toString(16)}`,
    "Mode: standalone",
    `Node count: ${server.tree.nodeCount}`,
    "",
  ].join("\n");
}
