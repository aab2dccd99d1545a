/**
 * mntr: one "zk_<key>\t<value>" line per figure, for monitoring scripts. ZooKeeper 3.8 prints its
 * version and state, then every gauge of its metrics root context, then the counters and
 * summaries of ServerMetrics (hundreds of per-processor queue and timing series). zkts prints
 * the first two parts, in ZooKeeper's order, each with a true figure: the gauges are the state
 * and health of the server that the classic monitoring checks read. Most ServerMetrics counters
 * and summaries describe the pipeline of ZooKeeper's own threads and queues; zkts measures none
 * of them, and prints none rather than zeros that would claim to be measurements. It does print
 * the two it measures when it keeps a data dir, in ZooKeeper's relative order after the gauges:
 * fsynctime (each group commit's write and fsync) and snapshottime, in whole ms.
 */
import { readdirSync, readFileSync } from "node:fs";
import type { DatabaseStats, TimeSummary } from "../database.js";
import type { FourLetterContext } from "./index.js";
import { average4, javaDouble } from "./java-text.js";
import { count, zooKeeperNodeCount } from "./stats.js";

const JAVA_LONG_MAX = "9223372036854775807";

/** The lines, in the order ZooKeeper 3.8.0 standalone prints them (its gauge map's order). */
export function mntr(ctx: FourLetterContext): string {
  const { server } = ctx;
  const s = server.stats;
  const tree = server.tree;
  const figures: [string, string | number][] = [
    ["version", ctx.version],
    ["server_state", server.serverState],
    ["ephemerals_count", ephemeralsCount(ctx)],
    ["num_alive_connections", count(ctx.connections)],
    ["avg_latency", javaDouble(average4(s.totalLatencyMs, s.count))],
    // Requests are answered as they are read: none is ever waiting in a queue.
    ["outstanding_requests", 0],
    ["znode_count", zooKeeperNodeCount(ctx)],
    ["global_sessions", server.sessions.size],
    // No TLS port: no connection is either mTLS or not.
    ["non_mtls_remote_conn_count", 0],
    ["last_client_response_size", s.lastResponseBytes],
    ["packets_sent", s.packetsSent],
    ["packets_received", s.packetsReceived],
    ["max_client_response_size", s.maxResponseBytes],
    // ZooKeeper can shed load by dropping connections at random; zkts never does.
    ["connection_drop_probability", javaDouble(0)],
    ["watch_count", tree.dataWatches.size + tree.childWatches.size],
    // Counted by ZooKeeper only for failed TLS client certificates; zkts has no TLS.
    ["auth_failed_count", 0],
    ["min_latency", s.count === 0 ? 0 : s.minLatencyMs],
    ["max_file_descriptor_count", maxFileDescriptorCount()],
    ["approximate_data_size", tree.approximateDataSize],
    ["open_file_descriptor_count", openFileDescriptorCount()],
    // Local sessions (localSessionsEnabled) do not exist in zkts.
    ["local_sessions", 0],
    ["uptime", Date.now() - s.startedAt],
    ["max_latency", s.maxLatencyMs],
    ["outstanding_tls_handshake", 0],
    ["min_client_response_size", s.minResponseBytes],
    ["non_mtls_local_conn_count", 0],
  ];
  figures.push(...(server.quorumFigures?.() ?? []));
  const durable = databaseStats(ctx);
  if (durable !== undefined) {
    figures.push(...summary("fsynctime", durable.fsyncTime));
    figures.push(...summary("snapshottime", durable.snapshotTime));
  }
  return figures.map(([key, value]) => `zk_${key}\t${value}\n`).join("");
}

/** The data dir's figures, when the server keeps one (its sink is a ZKDatabase). */
function databaseStats({ server }: FourLetterContext): DatabaseStats | undefined {
  const sink = server.sink as { stats?: Partial<DatabaseStats> };
  const stats = sink.stats;
  return stats?.fsyncTime !== undefined ? (stats as DatabaseStats) : undefined;
}

/** AvgMinMaxCounter.values(): avg (a double, 4 decimals), min, max, cnt, sum. */
function summary(name: string, s: TimeSummary): [string, string | number][] {
  return [
    [`avg_${name}`, javaDouble(average4(s.sum, s.count))],
    [`min_${name}`, s.min],
    [`max_${name}`, s.max],
    [`cnt_${name}`, s.count],
    [`sum_${name}`, s.sum],
  ];
}

function ephemeralsCount({ server }: FourLetterContext): number {
  let n = 0;
  for (const paths of server.tree.sessionsWithEphemerals().values()) n += paths.length;
  return n;
}

/**
 * The process's open file descriptors, as the JVM's UnixOperatingSystemMXBean counts them on
 * Linux (the entries of /proc/self/fd, less the one that reading the directory opens); -1 where
 * there is no /proc, as ZooKeeper says when the JVM cannot tell.
 */
function openFileDescriptorCount(): number {
  try {
    return readdirSync("/proc/self/fd").length - 1;
  } catch {
    return -1;
  }
}

/**
 * RLIMIT_NOFILE of this process (its soft limit, which is what binds it), from
 * /proc/self/limits; -1 where there is none. The JVM raises its soft limit to the hard one at
 * start-up, so ZooKeeper usually shows the hard limit; Node does not raise it.
 */
function maxFileDescriptorCount(): number | string {
  try {
    const limits = readFileSync("/proc/self/limits", "utf8");
    const soft = /^Max open files\s+(\d+|unlimited)/m.exec(limits)?.[1];
    if (soft === undefined) return -1;
    return soft === "unlimited" ? JAVA_LONG_MAX : Number(soft);
  } catch {
    return -1;
  }
}
