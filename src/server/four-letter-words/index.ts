/**
 * Four-letter words on the client port: a connection whose first four bytes are one of these
 * words gets a line-oriented text answer and is then closed (net/ does the closing). The words,
 * their texts and the whitelist follow Apache ZooKeeper 3.8's (FourLetterCommands,
 * CommandExecutor and the server/command classes), so that zkServer.sh, monitoring scripts and
 * `echo mntr | nc` keep working against zkts.
 *
 * Every known word counts as one packet received, by the server and by the asking connection,
 * whitelisted or not, and before it runs (ServerCnxn.packetReceived): `srvr` counts itself, and
 * the asking connection shows up in `cons`, `stat` and the connection counts. Its answer counts
 * as packets sent, after it ran.
 */
import type { ConnectionStats } from "../connection.js";
import type { QuorumServer } from "../ensemble-config.js";
import type { LearnerLinkInfo } from "../quorum/transport.js";
import type { ZooKeeperServer } from "../zookeeper-server.js";
import { conf, dirs, envi } from "./environment.js";
import { mntr } from "./monitor.js";
import { cons, crst, srst, stat } from "./stats.js";
import { dump, wchc, wchp, wchs } from "./watches.js";

/** One client connection, as the words list it; net/'s ServerConnection is one. */
export interface FourLetterConnection {
  /** 0 until the handshake gave it a session. */
  readonly sessionId: bigint;
  /** "ip:port" of the client. */
  readonly remote: string;
  readonly stats: ConnectionStats;
  /** Bytes written but not yet taken by the client: a pending write (OP_WRITE in ZooKeeper). */
  readonly backlogBytes?: number;
}

/**
 * What a server shows of itself to the four-letter words, the AdminServer's commands and the
 * metrics: the one source all three read, so that they always agree.
 */
export interface ServerView {
  readonly server: ZooKeeperServer;
  /** What `srvr`, `stat`, `mntr` and `envi` report as the ZooKeeper version. */
  readonly version: string;
  /** The port the server listens on (the configured clientPort may be 0, the kernel's pick). */
  readonly clientPort: number;
  /** Every open client connection (for a word, the asking one included: ZooKeeper counts it). */
  readonly connections: Iterable<FourLetterConnection>;
  /** The ensemble as this server sees it; undefined for a standalone server. */
  readonly quorum?: QuorumView | undefined;
}

/** An ensemble server's view of its ensemble (ZooKeeper's QuorumPeer, as the commands read it). */
export interface QuorumView {
  readonly myId: number;
  /** Every server.N line, observers included, by id. */
  readonly servers: readonly QuorumServer[];
  /** This server's Zab state now. */
  state(): "LOOKING" | "FOLLOWING" | "LEADING" | "OBSERVING";
  /** The leader this server follows or is; undefined while it looks. */
  leaderId(): number | undefined;
  /** True once the leader is established (a leader) or synced with it (a learner). */
  serving(): boolean;
  /** The epoch this server is in (its currentEpoch once synced). */
  epoch?(): bigint;
  /** The last zxid in this server's txn log, committed or not (QuorumPeer.getLastLoggedZxid). */
  lastLoggedZxid?(): bigint;
  /** A leader's followers that are synced with it (empty on the others). */
  syncedFollowers?(): number[];
  /** A leader's observers that are synced with it, with their links (empty on the others). */
  syncedObservers?(): ObserverLink[];
  /** Zeroes the counts of the leader's links with its observers (`orst`). */
  resetObserverCounts?(): void;
}

/** A synced observer and the leader's link with it (ZooKeeper's LearnerHandler for it). */
export interface ObserverLink {
  readonly id: number;
  readonly link: LearnerLinkInfo;
}

export interface FourLetterContext extends ServerView {
  /** The connection that sent the word. */
  readonly self: FourLetterConnection;
  /** What came after the word in the same read: `stmk` takes its 8-byte trace mask from it. */
  readonly rest?: Buffer;
}

/** The telnet client's close sequence, which ZooKeeper lists among its words to log it cleanly. */
const TELNET_CLOSE_BYTES = "\xff\xf4\xff\xfd";
const TELNET_CLOSE = "telnet close";

/** Every word ZooKeeper 3.8 knows (FourLetterCommands.cmd2String), which "*" enables. */
export const FOUR_LETTER_WORDS: ReadonlySet<string> = new Set([
  "conf",
  "cons",
  "crst",
  "dirs",
  "dump",
  "envi",
  "gtmk",
  "ruok",
  "stmk",
  "srst",
  "srvr",
  "stat",
  "wchc",
  "wchp",
  "wchs",
  "mntr",
  "isro",
  TELNET_CLOSE,
  "hash",
]);

/** ZooKeeper's BufferedWriter hands an answer to the socket in pieces of this many chars. */
const ANSWER_PIECE_CHARS = 8192;

/** ZooTrace's default text trace mask, what `gtmk` says until an `stmk`. */
export const DEFAULT_TRACE_MASK = 306n;

/**
 * The trace mask `gtmk` reads and `stmk` sets. ZooKeeper keeps it in a static of the JVM
 * (ZooTrace); here it belongs to one server. zkts has no trace log that heeds it yet.
 */
const traceMasks = new WeakMap<ZooKeeperServer, bigint>();

/** The trace mask `gtmk` and the AdminServer's get_trace_mask report. */
export function traceMask(server: ZooKeeperServer): bigint {
  return traceMasks.get(server) ?? DEFAULT_TRACE_MASK;
}

export function setTraceMask(server: ZooKeeperServer, mask: bigint): void {
  traceMasks.set(server, mask);
}

/**
 * The reply to `word` (the first four bytes of a connection, read as latin1), or undefined if it
 * is no four-letter word, in which case the bytes are the start of a handshake. An empty reply
 * means: close without an answer.
 */
export function fourLetterWord(word: string, ctx: FourLetterContext): string | undefined {
  const name = word === TELNET_CLOSE_BYTES ? TELNET_CLOSE : word;
  if (!FOUR_LETTER_WORDS.has(name)) return undefined;
  ctx.server.stats.packetsReceived++;
  ctx.self.stats.packetsReceived++;
  const whitelist = ctx.server.options.fourLetterWordsWhitelist;
  const reply =
    whitelist === "*" || whitelist.includes(name)
      ? run(name, ctx)
      : `${name} is not executed because it is not in the whitelist.\n`;
  // Each piece of the answer is a packet sent, counted after the word ran: `srvr` does not count
  // its own answer.
  const packets = Math.ceil(reply.length / ANSWER_PIECE_CHARS);
  ctx.server.stats.packetsSent += packets;
  ctx.self.stats.packetsSent += packets;
  return reply;
}

/** The words that need a serving server, and ZooKeeper's answer when it is not (ZK_NOT_SERVING). */
const NEED_SERVING: ReadonlySet<string> = new Set(["srvr", "stat", "mntr", "cons", "dump", "wchs"]);
const NOT_SERVING = "This ZooKeeper instance is not currently serving requests\n";

function run(word: string, ctx: FourLetterContext): string {
  if (ctx.server.serverState === "looking" && NEED_SERVING.has(word)) return NOT_SERVING;
  switch (word) {
    case "ruok":
      return "imok";
    case "isro":
      return ctx.server.readOnly ? "ro" : "rw";
    case "srvr":
    case "stat":
      return stat(ctx, word === "stat");
    case "cons":
      return cons(ctx);
    case "crst":
      return crst(ctx);
    case "srst":
      return srst(ctx);
    case "mntr":
      return mntr(ctx);
    case "conf":
      return conf(ctx);
    case "envi":
      return envi(ctx);
    case "dirs":
      return dirs(ctx);
    case "wchs":
      return wchs(ctx);
    case "wchc":
      return wchc(ctx);
    case "wchp":
      return wchp(ctx);
    case "dump":
      return dump(ctx);
    case "gtmk":
      return String(traceMask(ctx.server));
    case "stmk":
      return stmk(ctx);
    case "hash":
      return hash();
    default:
      // "telnet close" when whitelisted: ZooKeeper has no command for it and closes.
      return "";
  }
}

/**
 * stmk: the 8 bytes after the word are the new mask, a big-endian long; the answer is the mask.
 * ZooKeeper reads them with one more read of the socket and, if they are not all there yet,
 * closes the connection without an answer; so do we when they are not in the same read.
 */
function stmk({ server, rest }: FourLetterContext): string {
  if (rest === undefined || rest.length < 8) return "";
  const mask = rest.readBigInt64BE(0);
  setTraceMask(server, mask);
  return String(mask);
}

/**
 * hash: the digest log, one "zxid-in-hex: digest" line per logged txn. ZooKeeper logs the data
 * tree's digest every 128 txns (when zookeeper.digest.enabled); zkts computes no tree digest yet,
 * so its log is empty, as ZooKeeper's is until its 128th txn.
 */
function hash(): string {
  return "";
}
