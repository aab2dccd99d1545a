/**
 * The AdminServer's commands: ZooKeeper 3.8's (server/admin/Commands.java), by the same names
 * and aliases, answering with the same keys, read from the same figures as the four-letter
 * words (four-letter-words/*), so `GET /commands/mntr` and `echo mntr | nc` always agree.
 *
 * A response lists the command's data, then "command" (its primary name) and "error" (null, or
 * what went wrong). A command that fails puts its error first, as ZooKeeper's do.
 */

import { statSync } from "node:fs";
import os from "node:os";
import {
  dirSizes,
  environmentEntries,
  serverConfiguration,
} from "../four-letter-words/environment.js";
import { type ServerView, setTraceMask, traceMask } from "../four-letter-words/index.js";
import { javaSocketAddress } from "../four-letter-words/java-text.js";
import { databaseStats, monitorFigures } from "../four-letter-words/monitor.js";
import {
  type ConnectionInfo,
  connectionInfo,
  resetConnectionStats,
  serverStatsOf,
  zooKeeperNodeCount,
} from "../four-letter-words/stats.js";
import {
  sessionExpiry,
  watchesByPath,
  watchesBySession,
  watchSummary,
} from "../four-letter-words/watches.js";
import { JsonDouble, type JsonValue } from "./jackson-json.js";
import { leader, observers, votingView, zabState } from "./quorum-commands.js";

/** The server and what the HTTP request said after `?`. */
export interface AdminContext extends ServerView {
  /** The zoo.cfg text the server started from ("" when started without one). */
  readonly initialConfig: string;
}

type Fields = [string, JsonValue][];

export interface AdminCommand {
  /** The primary name first, then the aliases. */
  readonly names: readonly string[];
  /** False for the commands that answer even when the server does not serve. */
  readonly serverRequired: boolean;
  run(ctx: AdminContext, args: ReadonlyMap<string, string>): Fields;
}

const NOT_SERVING = "This ZooKeeper instance is not currently serving requests";

/** Runs `name` (a primary name or an alias): the response's fields, in ZooKeeper's order. */
export function runCommand(
  name: string,
  ctx: AdminContext,
  args: ReadonlyMap<string, string> = new Map(),
): Map<string, JsonValue> {
  const command = COMMANDS_BY_NAME.get(name);
  if (command === undefined) return response(name, [], `Unknown command: ${name}`);
  if (command.serverRequired && ctx.server.serverState === "looking") {
    return response(name, [], NOT_SERVING);
  }
  return response(command.names[0] as string, command.run(ctx, args), null);
}

function response(command: string, fields: Fields, error: string | null): Map<string, JsonValue> {
  const map = new Map<string, JsonValue>(fields);
  map.set("command", command);
  if (!map.has("error")) map.set("error", error);
  return map;
}

const COMMANDS: readonly AdminCommand[] = [
  command(["connection_stat_reset", "crst"], (ctx) => {
    resetConnectionStats(ctx);
    return [];
  }),
  command(["configuration", "conf", "config"], (ctx) => {
    const c = serverConfiguration(ctx);
    return [
      ["client_port", c.clientPort],
      ["data_dir", c.dataDir],
      ["data_log_dir", c.dataLogDir],
      ["tick_time", c.tickTime],
      ["max_client_cnxns", c.maxClientCnxns],
      ["min_session_timeout", c.minSessionTimeout],
      ["max_session_timeout", c.maxSessionTimeout],
      ["server_id", c.serverId],
      ["client_port_listen_backlog", c.clientPortListenBacklog],
    ];
  }),
  command(["connections", "cons"], (ctx) => [
    ["connections", connections(ctx, false)],
    // No TLS port, so no secure connections.
    ["secure_connections", []],
  ]),
  // The digest log: zkts computes no tree digest yet (see the `hash` word).
  command(["hash"], () => [["digests", []]]),
  command(["dirs"], (ctx) => {
    const sizes = dirSizes(ctx);
    return [
      ["datadir_size", sizes.datadir],
      ["logdir_size", sizes.logdir],
    ];
  }),
  command(["dump"], (ctx) => [
    ["expiry_time_to_session_ids", new Map(sessionExpiry(ctx))],
    ["session_id_to_ephemeral_paths", new Map(ctx.server.tree.sessionsWithEphemerals())],
  ]),
  command(["environment", "env", "envi"], (ctx) => environmentEntries(ctx), false),
  command(["get_trace_mask", "gtmk"], (ctx) => [["tracemask", traceMask(ctx.server)]], false),
  command(["initial_configuration", "icfg"], (ctx) => [
    ["initial_configuration", ctx.initialConfig],
  ]),
  command(["is_read_only", "isro"], (ctx) => [["read_only", ctx.server.readOnly]]),
  command(["last_snapshot", "lsnp"], lastSnapshot),
  command(["leader", "lead"], leader),
  command(["monitor", "mntr"], monitor, false),
  command(["observer_connection_stat_reset", "orst"], (ctx) => {
    ctx.quorum?.resetObserverCounts?.();
    return [];
  }),
  command(["ruok"], () => []),
  command(["set_trace_mask", "stmk"], setTraceMaskCommand, false),
  command(["server_stats", "srvr"], (ctx) => serverStats(ctx)),
  command(["stats", "stat"], (ctx) => [
    ...serverStats(ctx),
    ["connections", connections(ctx, true)],
    ["secure_connections", []],
  ]),
  command(["stat_reset", "srst"], (ctx) => {
    ctx.server.stats.reset();
    return [];
  }),
  command(["observers", "obsr"], observers),
  command(["system_properties", "sysp"], systemProperties, false),
  command(["voting_view"], votingView),
  command(["watches", "wchc"], (ctx) => [
    ["session_id_to_watched_paths", new Map(watchesBySession(ctx))],
  ]),
  command(["watches_by_path", "wchp"], (ctx) => [
    ["path_to_session_ids", new Map(watchesByPath(ctx))],
  ]),
  command(["watch_summary", "wchs"], (ctx) => {
    const summary = watchSummary(ctx);
    return [
      ["num_connections", summary.connections],
      ["num_paths", summary.paths],
      ["num_total_watches", summary.watches],
    ];
  }),
  command(["zabstate"], zabState, false),
];

function command(
  names: readonly string[],
  run: AdminCommand["run"],
  serverRequired = true,
): AdminCommand {
  return { names, run, serverRequired };
}

const COMMANDS_BY_NAME: ReadonlyMap<string, AdminCommand> = new Map(
  COMMANDS.flatMap((c) => c.names.map((name) => [name, c] as const)),
);

/** The primary names, sorted as ZooKeeper's command list shows them. */
export const PRIMARY_NAMES: readonly string[] = COMMANDS.map((c) => c.names[0] as string).sort();

function connections(ctx: AdminContext, brief: boolean): JsonValue[] {
  return [...ctx.connections].map((c) => connectionJson(connectionInfo(c, brief)));
}

/** ServerCnxn.getConnectionInfo. */
function connectionJson(info: ConnectionInfo): JsonValue {
  const fields: Fields = [
    // InetSocketAddress's host string and port, without toString's slash.
    ["remote_socket_address", javaSocketAddress(info.remote).slice(1)],
    ["interest_ops", info.interestOps],
    ["outstanding_requests", info.outstandingRequests],
    ["packets_received", info.packetsReceived],
    ["packets_sent", info.packetsSent],
  ];
  const s = info.session;
  if (s !== undefined) {
    fields.push(
      ["session_id", s.sessionId],
      ["last_operation", s.lastOperation],
      ["established", s.established],
      ["session_timeout", s.sessionTimeoutMs],
      ["last_cxid", s.lastCxid],
      ["last_zxid", s.lastZxid],
      ["last_response_time", s.lastResponseTime],
      ["last_latency", s.lastLatencyMs],
      ["min_latency", s.minLatencyMs],
      ["avg_latency", s.avgLatencyMs],
      ["max_latency", s.maxLatencyMs],
    );
  }
  return new Map(fields);
}

/** SrvrCommand: version, read_only, ServerStats (as a Java bean), client_response, node_count. */
function serverStats(ctx: AdminContext): Fields {
  const s = serverStatsOf(ctx);
  const stats = ctx.server.stats;
  const sizes = dirSizes(ctx);
  const clientResponse = new Map<string, JsonValue>([
    ["last_buffer_size", stats.lastResponseBytes],
    ["min_buffer_size", stats.minResponseBytes],
    ["max_buffer_size", stats.maxResponseBytes],
  ]);
  const bean = new Map<string, JsonValue>([
    ["packets_sent", s.packetsSent],
    ["packets_received", s.packetsReceived],
    ["fsync_threshold_exceed_count", databaseStats(ctx)?.fsyncThresholdExceeded ?? 0],
    ["client_response_stats", clientResponse],
    ["data_dir_size", sizes.datadir],
    ["log_dir_size", sizes.logdir],
    ["provider_null", false],
    ["server_state", s.serverState],
    ["last_processed_zxid", s.lastProcessedZxid],
    ["outstanding_requests", s.outstandingRequests],
    ["avg_latency", new JsonDouble(s.avgLatencyMs)],
    ["max_latency", s.maxLatencyMs],
    ["min_latency", s.minLatencyMs],
    ["num_alive_client_connections", s.connections],
    ["auth_failed_count", 0],
    ["non_mtlsremote_conn_count", 0],
    ["non_mtlslocal_conn_count", 0],
    ["uptime", s.uptimeMs],
  ]);
  const fields: Fields = [
    ["version", ctx.version],
    ["read_only", ctx.server.readOnly],
    ["server_stats", bean],
    ["client_response", clientResponse],
  ];
  if (ctx.server.serverState === "leader") {
    // The leader's proposal sizes (BufferStats): zkts does not measure them, -1 is "none yet".
    const none = new Map<string, JsonValue>([
      ["last_buffer_size", -1],
      ["min_buffer_size", -1],
      ["max_buffer_size", -1],
    ]);
    fields.push(["proposal_stats", none]);
  }
  fields.push(["node_count", zooKeeperNodeCount(ctx)]);
  return fields;
}

function monitor(ctx: AdminContext): Fields {
  return monitorFigures(ctx).map(([key, value]) => [
    key,
    typeof value === "object" ? new JsonDouble(value.double) : value,
  ]);
}

/** The newest snapshot: its zxid in hex and its file's mtime in seconds; -1 when none. */
function lastSnapshot(ctx: AdminContext): Fields {
  const stats = databaseStats(ctx);
  const file = stats?.lastSnapshotFile;
  if (stats === undefined || file === undefined) {
    return [
      ["zxid", "ffffffffffffffff"],
      ["timestamp", -1],
    ];
  }
  let seconds = -1;
  try {
    seconds = Math.floor(statSync(file).mtimeMs / 1000);
  } catch {
    // Purged meanwhile: ZooKeeper's File.lastModified() says 0 for a missing file.
    seconds = 0;
  }
  return [
    ["zxid", BigInt.asUintN(64, stats.lastSnapshotZxid).toString(16)],
    ["timestamp", seconds],
  ];
}

function setTraceMaskCommand(ctx: AdminContext, args: ReadonlyMap<string, string>): Fields {
  const text = args.get("traceMask");
  if (text === undefined) return [["error", "setTraceMask requires long traceMask argument"]];
  // Long.parseLong: an optional sign and decimal digits, within a long's range.
  const mask = /^[+-]?\d+$/.test(text) ? BigInt(text) : undefined;
  if (mask === undefined || mask !== BigInt.asIntN(64, mask)) {
    return [["error", `setTraceMask requires long traceMask argument, got ${text}`]];
  }
  setTraceMask(ctx.server, mask);
  return [["tracemask", mask]];
}

/**
 * System.getProperties, sorted: Node has no system properties, so these are the JVM's that have
 * a counterpart here (the same ones `envi` shows, with the separators and encoding).
 */
function systemProperties(ctx: AdminContext): Fields {
  const properties = new Map<string, string>([
    ["file.encoding", "UTF-8"],
    ["file.separator", "/"],
    ["line.separator", os.EOL],
    ["path.separator", ":"],
  ]);
  for (const [key, value] of environmentEntries(ctx)) {
    // "<NA>" is envi's word for a property the JVM does not have: none to list.
    if (!/^(java|os|user)\./.test(key) || key.startsWith("os.memory.") || value === "<NA>") {
      continue;
    }
    properties.set(key, value);
  }
  return [...properties].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
