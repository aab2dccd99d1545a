/**
 * mntr (and the AdminServer's monitor): one "zk_<key>\t<value>" line per figure, for monitoring
 * scripts. ZooKeeper 3.8 prints its version and state, then every gauge of its metrics root
 * context, then the counters and summaries of ServerMetrics (hundreds of per-processor queue and
 * timing series). zkts prints the first two parts, in ZooKeeper's order, each with a true
 * figure: the gauges are the state and health of the server that the classic monitoring checks
 * read. Most ServerMetrics counters and summaries describe the pipeline of ZooKeeper's own
 * threads and queues; zkts measures none of them, and prints none rather than zeros that would
 * claim to be measurements. It does print the summaries it measures, in ZooKeeper's relative
 * order after the gauges: fsynctime and snapshottime when it keeps a data dir, election_time
 * in an ensemble, updatelatency and readlatency, proposal_latency on a leader (whole ms).
 */
import { readdirSync, readFileSync } from "node:fs";
import type { DatabaseStats } from "../database.js";
import type { Summary } from "../summary.js";
import type { FourLetterContext, ServerView } from "./index.js";
import { average4, type JavaDouble, javaDouble } from "./java-text.js";
import { count, zooKeeperNodeCount } from "./stats.js";

const JAVA_LONG_MAX = 9223372036854775807n;

/** A figure's value: a Java long or int, a double, or a string (the version, the state). */
export type MonitorValue = number | bigint | string | JavaDouble;

/** mntr's text: a tab between key and value, doubles as Java prints them. */
export function mntr(ctx: FourLetterContext): string {
  return monitorFigures(ctx)
    .map(([key, value]) => `zk_${key}\t${monitorText(value)}\n`)
    .join("");
}

export function monitorText(value: MonitorValue): string {
  return typeof value === "object" ? javaDouble(value.double) : String(value);
}

/**
 * The figures, in the order ZooKeeper 3.8.0 standalone prints them (its gauge map's order),
 * then the ensemble's, then the summaries zkts measures (in ZooKeeper's relative order): what
 * mntr prints and the AdminServer's monitor command lists.
 */
export function monitorFigures(view: ServerView): [string, MonitorValue][] {
  const figures = gaugeFigures(view);
  for (const [name, summary, advanced] of summaries(view)) {
    figures.push(...summaryFigures(name, summary, advanced));
  }
  return figures;
}

/**
 * The version and state, then the gauges: ZooKeeperServer's (registerMetrics), an ensemble
 * server's quorum_size and a leader's own, each with its value now.
 */
export function gaugeFigures(view: ServerView): [string, MonitorValue][] {
  const figures = gauges(view);
  figures.push(...(view.server.quorumFigures?.() ?? []));
  if (view.quorum !== undefined) figures.push(["quorum_size", votingMembers(view)]);
  return figures;
}

/** ZooKeeperServer's gauges (registerMetrics), each with its value now. */
function gauges(view: ServerView): [string, MonitorValue][] {
  const { server } = view;
  const s = server.stats;
  const tree = server.tree;
  return [
    ["version", view.version],
    ["server_state", server.serverState],
    ["ephemerals_count", ephemeralsCount(view)],
    ["num_alive_connections", count(view.connections)],
    ["avg_latency", { double: average4(s.totalLatencyMs, s.count) }],
    // Requests are answered as they are read: none is ever waiting in a queue.
    ["outstanding_requests", 0],
    ["znode_count", zooKeeperNodeCount(view)],
    ["global_sessions", server.sessions.size],
    // No TLS port: no connection is either mTLS or not.
    ["non_mtls_remote_conn_count", 0],
    ["last_client_response_size", s.lastResponseBytes],
    ["packets_sent", s.packetsSent],
    ["packets_received", s.packetsReceived],
    ["max_client_response_size", s.maxResponseBytes],
    // ZooKeeper can shed load by dropping connections at random; zkts never does.
    ["connection_drop_probability", { double: 0 }],
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
}

/** The voting members of the ensemble (QuorumZooKeeperServer's quorum_size). */
export function votingMembers({ quorum }: ServerView): number {
  return quorum?.servers.filter((server) => server.type === "participant").length ?? 0;
}

/**
 * The ServerMetrics summaries zkts measures, in the order ZooKeeper 3.8.0's mntr lists them
 * among its own: name, summary, and whether it is an advanced one (with percentiles). The data
 * dir's only where there is one; the ensemble's only on an ensemble server (proposal_latency
 * on a leader only, as only a leader proposes).
 */
export function summaries(view: ServerView): [string, Summary, boolean][] {
  const metrics = view.server.stats.metrics;
  const durable = databaseStats(view);
  const list: [string, Summary, boolean][] = [];
  if (durable !== undefined) {
    list.push(
      ["fsynctime", durable.fsyncTime, false],
      ["snapshottime", durable.snapshotTime, false],
    );
  }
  if (view.quorum !== undefined) list.push(["election_time", metrics.electionTime, false]);
  list.push(
    ["updatelatency", metrics.updateLatency, true],
    ["readlatency", metrics.readLatency, true],
  );
  if (view.server.serverState === "leader") {
    list.push(["proposal_latency", metrics.proposalLatency, true]);
  }
  return list;
}

/** The percentiles mntr prints for an advanced summary (AvgMinMaxPercentileCounter). */
const PERCENTILES: readonly [string, number][] = [
  ["p50", 0.5],
  ["p95", 0.95],
  ["p99", 0.99],
  ["p999", 0.999],
];

/** AvgMinMaxCounter.values(): avg (a double, 4 decimals), min, max, cnt, sum; and percentiles. */
function summaryFigures(name: string, s: Summary, advanced: boolean): [string, MonitorValue][] {
  const figures: [string, MonitorValue][] = [
    [`avg_${name}`, { double: average4(s.sum, s.count) }],
    [`min_${name}`, s.min],
    [`max_${name}`, s.max],
    [`cnt_${name}`, s.count],
    [`sum_${name}`, s.sum],
  ];
  if (advanced) {
    const values = s.quantiles(PERCENTILES.map(([, q]) => q));
    PERCENTILES.forEach(([label], i) => {
      // No samples: ZooKeeper's empty reservoir says 0.
      figures.push([`${label}_${name}`, Number.isNaN(values[i]) ? 0 : (values[i] as number)]);
    });
  }
  return figures;
}

/** The data dir's figures, when the server keeps one (its sink is a ZKDatabase). */
export function databaseStats({ server }: Pick<ServerView, "server">): DatabaseStats | undefined {
  const sink = server.sink as { stats?: Partial<DatabaseStats> };
  const stats = sink.stats;
  return stats?.fsyncTime !== undefined ? (stats as DatabaseStats) : undefined;
}

function ephemeralsCount({ server }: ServerView): number {
  let n = 0;
  for (const paths of server.tree.sessionsWithEphemerals().values()) n += paths.length;
  return n;
}

/**
 * The process's open file descriptors, as the JVM's UnixOperatingSystemMXBean counts them on
 * Linux (the entries of /proc/self/fd, less the one that reading the directory opens); -1 where
 * there is no /proc, as ZooKeeper says when the JVM cannot tell.
 */
export function openFileDescriptorCount(): number {
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
export function maxFileDescriptorCount(): number | bigint {
  try {
    const limits = readFileSync("/proc/self/limits", "utf8");
    const soft = /^Max open files\s+(\d+|unlimited)/m.exec(limits)?.[1];
    if (soft === undefined) return -1;
    return soft === "unlimited" ? JAVA_LONG_MAX : Number(soft);
  } catch {
    return -1;
  }
}
