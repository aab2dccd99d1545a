/**
 * srvr, stat, cons, crst, srst: the server's and each connection's counters, as ZooKeeper's
 * StatCommand, ServerStats.toString, ServerCnxn.dumpConnectionInfo and the two reset commands
 * print them.
 */
import type { ConnectionStats } from "../connection.js";
import type { FourLetterConnection, FourLetterContext } from "./index.js";
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
      text += `${connectionInfo(ctx, connection, true)}\n`;
    }
    text += "\n";
  }
  return `${text}${serverStats(ctx)}Node count: ${zooKeeperNodeCount(ctx)}\n`;
}

/** ServerStats.toString. */
function serverStats({ server, connections }: FourLetterContext): string {
  const s = server.stats;
  const min = s.count === 0 ? 0 : s.minLatencyMs;
  const avg = javaDouble(average4(s.totalLatencyMs, s.count));
  return [
    `Latency min/avg/max: ${min}/${avg}/${s.maxLatencyMs}`,
    `Received: ${s.packetsReceived}`,
    `Sent: ${s.packetsSent}`,
    `Connections: ${count(connections)}`,
    // Requests are answered as they are read: none is ever waiting in a queue.
    "Outstanding: 0",
    `Zxid: 0x${javaHex(server.lastZxid)}`,
    `Mode: ${server.serverState}`,
    "",
  ].join("\n");
}

/**
 * ZooKeeper's node count: its DataTree keeps the root under two keys, "" and "/", and counts
 * both, so a fresh tree (/, /zookeeper, /zookeeper/quota, /zookeeper/config) says 5.
 */
export function zooKeeperNodeCount({ server }: FourLetterContext): number {
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
  for (const connection of ctx.connections) text += `${connectionInfo(ctx, connection, false)}\n`;
  return `${text}\n`;
}

/** crst: ServerCnxn.resetStats on every connection (the asking one too). */
export function crst(ctx: FourLetterContext): string {
  for (const connection of ctx.connections) resetConnectionStats(connection.stats);
  return "Connection stats reset.\n";
}

/** srst: ServerStats.reset (latencies, packet counts, response sizes). */
export function srst({ server }: FourLetterContext): string {
  server.stats.reset();
  return "Server stats reset.\n";
}

function resetConnectionStats(stats: ConnectionStats): void {
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

/**
 * ServerCnxn.dumpConnectionInfo: " /ip:port[ops](queued=..,recved=..,sent=..)", and unless
 * `brief`, for a connection with a session, its session and latency figures.
 */
function connectionInfo(
  ctx: FourLetterContext,
  connection: FourLetterConnection,
  brief: boolean,
): string {
  const s = connection.stats;
  // The asking connection no longer reads (ZooKeeper cancels its selection key).
  const ops =
    (connection === ctx.self ? 0 : OP_READ) | ((connection.backlogBytes ?? 0) > 0 ? OP_WRITE : 0);
  let text =
    ` ${javaSocketAddress(connection.remote)}[${ops.toString(16)}]` +
    `(queued=0,recved=${s.packetsReceived},sent=${s.packetsSent}`;
  if (!brief && connection.sessionId !== 0n) {
    text +=
      `,sid=0x${javaHex(connection.sessionId)},lop=${s.lastOperation},est=${s.establishedAt}` +
      `,to=${s.sessionTimeoutMs}` +
      (s.lastCxid >= 0 ? `,lcxid=0x${javaHex(s.lastCxid)}` : "") +
      `,lzxid=0x${javaHex(s.lastZxid)},lresp=${elapsedTime(s.lastResponseTime)}` +
      `,llat=${s.lastLatencyMs},minlat=${s.requests === 0 ? 0 : s.minLatencyMs}` +
      `,avglat=${s.requests === 0 ? 0 : Math.floor(s.totalLatencyMs / s.requests)}` +
      `,maxlat=${s.maxLatencyMs}`;
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
