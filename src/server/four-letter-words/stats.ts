/**
 * srvr, stat, cons, crst, srst: the server's and each connection's counters, as ZooKeeper's
 * StatCommand, ServerStats.toString, ServerCnxn.dumpConnectionInfo and the two reset commands
 * print them.
 */
import type { ConnectionStats } from "../connection.js";
import type { FourLetterConnection, FourLetterContext, ServerView } from "./index.js";
import { average4, javaDouble, javaHex, javaSocketAddress } from "./java-text.js";

/** ZooKeeper's NIO interest ops: OP_READ while a connection is read, OP_WRITE while it writes. */
const OP_READ = 1;
const OP_WRITE = 4;

/** srvr, and with `clients` stat: the version, (the connections,) ServerStats, the node count. */
export function stat(ctx: FourLetterContext, clients: boolean): string {
  let text = `Zookeeper version: ${ctx.version}\n`;
  if (clients) {
    text += "Clients:\n";
    for (const connection of ctx.connections) {
      text += `${connectionText(connectionInfo(connection, true, ctx.self))}\n`;
    }
    text += "\n";
  }
  return `${text}${serverStatsText(serverStatsOf(ctx))}Node count: ${zooKeeperNodeCount(ctx)}\n`;
}

/** ServerStats' figures, as `srvr` prints them and the AdminServer's server_stats lists them. */
export interface ServerStatsData {
  readonly packetsSent: number;
  readonly packetsReceived: number;
  readonly minLatencyMs: number;
  readonly maxLatencyMs: number;
  /** Rounded half-up to 4 decimals (AvgMinMaxCounter). */
  readonly avgLatencyMs: number;
  readonly connections: number;
  /** Requests are answered as they are read: none is ever waiting in a queue. */
  readonly outstandingRequests: 0;
  readonly lastProcessedZxid: bigint;
  readonly serverState: string;
  readonly uptimeMs: number;
}

export function serverStatsOf({ server, connections }: ServerView): ServerStatsData {
  const s = server.stats;
  return {
    packetsSent: s.packetsSent,
    packetsReceived: s.packetsReceived,
    minLatencyMs: s.count === 0 ? 0 : s.minLatencyMs,
    maxLatencyMs: s.maxLatencyMs,
    avgLatencyMs: average4(s.totalLatencyMs, s.count),
    connections: count(connections),
    outstandingRequests: 0,
    lastProcessedZxid: server.lastZxid,
    serverState: server.serverState,
    uptimeMs: Date.now() - s.startedAt,
  };
}

/** ServerStats.toString. */
function serverStatsText(s: ServerStatsData): string {
  return [
    `Latency min/avg/max: ${s.minLatencyMs}/${javaDouble(s.avgLatencyMs)}/${s.maxLatencyMs}`,
    `Received: ${s.packetsReceived}`,
    `Sent: ${s.packetsSent}`,
    `Connections: ${s.connections}`,
    `Outstanding: ${s.outstandingRequests}`,
    `Zxid: 0x${javaHex(s.lastProcessedZxid)}`,
    `Mode: ${s.serverState}`,
    "",
  ].join("\n");
}

/**
 * ZooKeeper's node count: its DataTree keeps the root under two keys, "" and "/", and counts
 * both, so a fresh tree (/, /zookeeper, /zookeeper/quota, /zookeeper/config) says 5.
 */
export function zooKeeperNodeCount({ server }: Pick<ServerView, "server">): number {
  return server.tree.nodeCount + 1;
}

export function count(items: Iterable<unknown>): number {
  let n = 0;
  for (const _ of items) n++;
  return n;
}

/** cons: every connection in full, then an empty line. */
export function cons(ctx: FourLetterContext): string {
  let text = "";
  for (const connection of ctx.connections) {
    text += `${connectionText(connectionInfo(connection, false, ctx.self))}\n`;
  }
  return `${text}\n`;
}

/** crst: ServerCnxn.resetStats on every connection (the asking one too). */
export function crst(ctx: FourLetterContext): string {
  resetConnectionStats(ctx);
  return "Connection stats reset.\n";
}

/** srst: ServerStats.reset (latencies, packet counts, response sizes). */
export function srst({ server }: FourLetterContext): string {
  server.stats.reset();
  return "Server stats reset.\n";
}

/** ServerCnxnFactory.resetAllConnectionStats. */
export function resetConnectionStats({ connections }: ServerView): void {
  for (const connection of connections) resetStats(connection.stats);
}

function resetStats(stats: ConnectionStats): void {
  stats.packetsReceived = 0;
  stats.packetsSent = 0;
  stats.minLatencyMs = Number.MAX_SAFE_INTEGER;
  stats.maxLatencyMs = 0;
  stats.lastOperation = "NA";
  stats.lastCxid = -1;
  stats.lastZxid = -1n;
  stats.lastResponseTime = 0;
  stats.lastLatencyMs = 0;
  stats.requests = 0;
  stats.totalLatencyMs = 0;
}

/** One connection's figures (ServerCnxn.getConnectionInfo); `session` unless brief. */
export interface ConnectionInfo {
  /** "ip:port" of the client. */
  readonly remote: string;
  readonly interestOps: number;
  readonly outstandingRequests: 0;
  readonly packetsReceived: number;
  readonly packetsSent: number;
  readonly session?: {
    readonly sessionId: bigint;
    readonly lastOperation: string;
    /** Wall-clock ms. */
    readonly established: number;
    readonly sessionTimeoutMs: number;
    readonly lastCxid: number;
    readonly lastZxid: bigint;
    /** On the JVM's monotonic clock, as ZooKeeper keeps it (elapsedTime). */
    readonly lastResponseTime: number;
    readonly lastLatencyMs: number;
    readonly minLatencyMs: number;
    readonly avgLatencyMs: number;
    readonly maxLatencyMs: number;
  };
}

/**
 * A connection's figures. `self` is the connection asking (by a four-letter word), which no
 * longer reads (ZooKeeper cancels its selection key).
 */
export function connectionInfo(
  connection: FourLetterConnection,
  brief: boolean,
  self?: FourLetterConnection,
): ConnectionInfo {
  const s = connection.stats;
  const ops =
    (connection === self ? 0 : OP_READ) | ((connection.backlogBytes ?? 0) > 0 ? OP_WRITE : 0);
  const info = {
    remote: connection.remote,
    interestOps: ops,
    outstandingRequests: 0 as const,
    packetsReceived: s.packetsReceived,
    packetsSent: s.packetsSent,
  };
  if (brief) return info;
  return {
    ...info,
    session: {
      sessionId: connection.sessionId,
      lastOperation: s.lastOperation,
      established: s.establishedAt,
      sessionTimeoutMs: s.sessionTimeoutMs,
      lastCxid: s.lastCxid,
      lastZxid: s.lastZxid,
      lastResponseTime: elapsedTime(s.lastResponseTime),
      lastLatencyMs: s.lastLatencyMs,
      minLatencyMs: s.requests === 0 ? 0 : s.minLatencyMs,
      avgLatencyMs: s.requests === 0 ? 0 : Math.floor(s.totalLatencyMs / s.requests),
      maxLatencyMs: s.maxLatencyMs,
    },
  };
}

/**
 * ServerCnxn.dumpConnectionInfo: " /ip:port[ops](queued=..,recved=..,sent=..)", and for a
 * connection with a session (and not brief), its session and latency figures.
 */
function connectionText(info: ConnectionInfo): string {
  let text =
    ` ${javaSocketAddress(info.remote)}[${info.interestOps.toString(16)}]` +
    `(queued=${info.outstandingRequests},recved=${info.packetsReceived},sent=${info.packetsSent}`;
  const s = info.session;
  if (s !== undefined && s.sessionId !== 0n) {
    text +=
      `,sid=0x${javaHex(s.sessionId)},lop=${s.lastOperation},est=${s.established}` +
      `,to=${s.sessionTimeoutMs}` +
      (s.lastCxid >= 0 ? `,lcxid=0x${javaHex(s.lastCxid)}` : "") +
      `,lzxid=0x${javaHex(s.lastZxid)},lresp=${s.lastResponseTime}` +
      `,llat=${s.lastLatencyMs},minlat=${s.minLatencyMs}` +
      `,avglat=${s.avgLatencyMs},maxlat=${s.maxLatencyMs}`;
  }
  return `${text})`;
}

/**
 * ZooKeeper stamps a response with Time.currentElapsedTime(), the JVM's monotonic clock in ms
 * (System.nanoTime), not the wall clock; we keep wall-clock ms and convert, so `lresp` reads as
 * ZooKeeper's does (0 stays 0: no response yet, or reset).
 */
export function elapsedTime(wallClockMs: number): number {
  if (wallClockMs === 0) return 0;
  return wallClockMs - Date.now() + monotonicNowMs();
}

/** Node's monotonic clock (CLOCK_MONOTONIC on Linux, as System.nanoTime) in ms. */
export function monotonicNowMs(): number {
  return Number(process.hrtime.bigint() / 1_000_000n);
}
