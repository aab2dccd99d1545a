/**
 * The AdminServer and the metrics, zkts against Apache ZooKeeper 3.8 (the oracle).
 *
 * Method: both servers run their AdminServer (ZooKeeper's is Jetty, which Debian's zookeeper
 * package brings) and are put in the same state through our client (a session with a
 * persistent node, an ephemeral, data, exists and child watches). Then every command and alias
 * is asked of both over HTTP and the answers compared: the same keys in the same order at every
 * level, the same JSON types (doubles where ZooKeeper has doubles), and the same values where
 * they follow from the state; the answers that do not depend on the server are compared byte
 * for byte. ZooKeeper's Prometheus provider is not packaged by Debian, so zkts's /metrics is
 * compared with the names ZooKeeper registers with its metrics provider, which its `monitor`
 * command lists: every gauge and counter by its name, every summary by its avg_ line (and an
 * advanced one by its p99_ line), and the state's figures by value.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { CreateMode, connect, type ZooKeeper } from "../../src/index.js";
import { type RunningServer, startServer } from "../../src/server/index.js";
import { createLogger } from "../../src/server/logger.js";
import {
  apacheZooKeeperSkip,
  startZooKeeper,
  type ZooKeeperProcess,
} from "../harness/apache-zookeeper.js";
import { freePorts } from "../harness/free-ports.js";

const HOST = "127.0.0.1";
const PROMETHEUS = "org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider";

/** Every name ZooKeeper 3.8's Commands registers (primary names and aliases). */
const NAMES = [
  "configuration",
  "conf",
  "config",
  "connections",
  "cons",
  "dirs",
  "dump",
  "environment",
  "env",
  "envi",
  "get_trace_mask",
  "gtmk",
  "hash",
  "initial_configuration",
  "icfg",
  "is_read_only",
  "isro",
  "last_snapshot",
  "lsnp",
  "leader",
  "lead",
  "monitor",
  "mntr",
  "observers",
  "obsr",
  "ruok",
  "server_stats",
  "srvr",
  "stats",
  "stat",
  "system_properties",
  "sysp",
  "voting_view",
  "watches",
  "wchc",
  "watches_by_path",
  "wchp",
  "watch_summary",
  "wchs",
  "zabstate",
];

/** Answers that follow from the state alone, or from nothing: the same bytes on both. */
const SAME_TEXT = [
  "ruok",
  "hash",
  "isro",
  "lead",
  "obsr",
  "voting_view",
  "zabstate",
  "wchs",
  "gtmk",
  "stmk",
  "stmk?traceMask=abc",
  "no_such_command",
  "ruok/extra",
];

interface Answer {
  readonly status: number;
  readonly type: string | null;
  readonly text: string;
}

async function get(port: number, path: string, method = "GET"): Promise<Answer> {
  const response = await fetch(`http://${HOST}:${port}${path}`, { method });
  return {
    status: response.status,
    type: response.headers.get("content-type"),
    text: await response.text(),
  };
}

/**
 * A JSON value's shape: keys in order (a map keyed by ids or paths as one "<map>" key), value
 * types, and for arrays their first element's shape.
 */
function shape(value: unknown): unknown {
  if (Array.isArray(value)) return value.length === 0 ? "[]" : [shape(value[0])];
  if (value === null) return "null";
  if (typeof value !== "object") return typeof value;
  const entries = Object.entries(value);
  if (entries.length > 0 && entries.every(([key]) => /^(\d+|\/.*)$/.test(key))) {
    // A map's values by the first that is not an empty list: ZooKeeper's session expiry map
    // can hold a bucket emptied a moment ago.
    const sample = entries.find(([, item]) => !(Array.isArray(item) && item.length === 0));
    return { "<map>": shape((sample ?? entries[0])?.[1]) };
  }
  return Object.fromEntries(entries.map(([key, item]) => [key, shape(item)]));
}

/** The keys whose value is written as a double ("0.0"), which JSON.parse cannot tell apart. */
function doubleKeys(text: string): string[] {
  return [...text.matchAll(/"([^"]+)" : -?\d+\.\d+(E-?\d+)?\b/g)].map((m) => m[1] as string);
}

/** Each object's keys without the values: for the answers whose sets differ on purpose. */
function keys(text: string): string[] {
  return Object.keys(JSON.parse(text));
}

interface Target {
  readonly adminPort: number;
  readonly client: ZooKeeper;
}

describe("AdminServer and metrics against Apache ZooKeeper", {
  skip: apacheZooKeeperSkip(),
}, () => {
  let zookeeper: ZooKeeperProcess;
  let zkts: RunningServer;
  let dataDir: string;
  const targets: Target[] = [];

  before(async () => {
    const [adminPort] = await freePorts(1);
    zookeeper = await startZooKeeper({
      extraConfig: {
        "admin.enableServer": "true",
        "admin.serverAddress": HOST,
        "admin.serverPort": String(adminPort),
      },
    });
    dataDir = await mkdtemp(join(tmpdir(), "zkts-admin-"));
    zkts = await startServer(
      {
        clientPort: 0,
        clientPortAddress: HOST,
        tickTime: 2000,
        maxClientCnxns: 0,
        dataDir,
        adminEnableServer: true,
        adminServerAddress: HOST,
        adminServerPort: 0,
        metricsProviderClassName: PROMETHEUS,
        metricsProviderHttpHost: HOST,
        metricsProviderHttpPort: 0,
      },
      createLogger("silent"),
    );
    for (const [connectString, port] of [
      [zookeeper.connectString, adminPort as number],
      [zkts.address, zkts.adminPort as number],
    ] as const) {
      const client = await connect(connectString);
      await client.create("/app", "config");
      await client.create("/app/e", "x", { mode: CreateMode.EPHEMERAL });
      await client.getData("/app/e", { watch: true });
      await client.exists("/missing", { watch: true });
      await client.getChildren("/app", { watch: true });
      targets.push({ adminPort: port, client });
    }
  });

  after(async () => {
    await Promise.all(targets.map((t) => t.client.close().catch(() => {})));
    await zookeeper?.stop();
    await zkts?.close();
    if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
  });

  const both = (path: string, method = "GET") =>
    Promise.all(targets.map((t) => get(t.adminPort, path, method)));

  test("GET /commands lists the same commands, as the same links", async () => {
    const [expected, actual] = await both("/commands");
    assert.equal(actual?.status, 200);
    assert.equal(actual?.text, expected?.text);
    assert.equal((await both("/commands/"))[1]?.text, expected?.text);
  });

  test("every command and alias: ZooKeeper's keys in its order, its JSON types", async () => {
    for (const name of NAMES) {
      const [expected, actual] = await both(`/commands/${name}`);
      assert.equal(actual?.status, expected?.status, name);
      assert.equal(actual?.type, expected?.type, name);
      const zk = JSON.parse(expected?.text ?? "");
      const ours = JSON.parse(actual?.text ?? "");
      assert.equal(ours.command, zk.command, name);
      assert.equal(ours.error, zk.error, name);
      if (["environment", "env", "envi"].includes(name)) {
        // Environment.list: the same properties, in order (values are Node's, see envi).
        assert.deepEqual(keys(actual?.text ?? ""), keys(expected?.text ?? ""), name);
      } else if (["system_properties", "sysp"].includes(name)) {
        // Node has no system properties: zkts lists the JVM's that have a counterpart.
        const zkKeys = new Set(keys(expected?.text ?? ""));
        for (const key of keys(actual?.text ?? "")) assert.ok(zkKeys.has(key), `${name}: ${key}`);
      } else if (["monitor", "mntr"].includes(name)) {
        // mntr's figures: ZooKeeper's gauges in its order, then the summaries zkts measures.
        const zkKeys = keys(expected?.text ?? "");
        const ourKeys = keys(actual?.text ?? "");
        assert.deepEqual(ourKeys.slice(0, 26), zkKeys.slice(0, 26), name);
        for (const key of ourKeys) assert.ok(zkKeys.includes(key), `${name}: ${key}`);
        // Doubles where ZooKeeper has doubles: every key zkts has, whatever it is.
        const zkDoubles = new Set(doubleKeys(expected?.text ?? ""));
        const ourDoubles = new Set(doubleKeys(actual?.text ?? ""));
        for (const key of ourKeys) assert.equal(ourDoubles.has(key), zkDoubles.has(key), key);
      } else {
        assert.deepEqual(shape(ours), shape(zk), name);
        assert.deepEqual(doubleKeys(actual?.text ?? ""), doubleKeys(expected?.text ?? ""), name);
      }
    }
  });

  test("the answers that follow from the state alone are byte for byte ZooKeeper's", async () => {
    for (const name of SAME_TEXT) {
      const [expected, actual] = await both(`/commands/${name}`);
      assert.equal(actual?.text, expected?.text, name);
    }
  });

  test("the state's figures agree: watches, ephemerals, sessions, nodes", async () => {
    const answers = async (name: string) =>
      (await both(`/commands/${name}`)).map((a) => JSON.parse(a.text));
    const [zkWatches, ourWatches] = await answers("watches");
    // A session's paths are a Java HashSet there: their order is no contract.
    const sorted = (lists: string[][]) => lists.map((paths) => [...paths].sort());
    assert.deepEqual(
      sorted(Object.values(ourWatches.session_id_to_watched_paths)),
      sorted(Object.values(zkWatches.session_id_to_watched_paths)),
    );
    const [zkByPath, ourByPath] = await answers("watches_by_path");
    assert.deepEqual(
      Object.keys(ourByPath.path_to_session_ids).sort(),
      Object.keys(zkByPath.path_to_session_ids).sort(),
    );
    const [zkDump, ourDump] = await answers("dump");
    assert.deepEqual(
      Object.values(ourDump.session_id_to_ephemeral_paths),
      Object.values(zkDump.session_id_to_ephemeral_paths),
    );
    assert.equal(
      Object.values(ourDump.expiry_time_to_session_ids).flat().length,
      Object.values(zkDump.expiry_time_to_session_ids).flat().length,
    );
    const [zkMonitor, ourMonitor] = await answers("monitor");
    for (const key of [
      "server_state",
      "ephemerals_count",
      "num_alive_connections",
      "outstanding_requests",
      "znode_count",
      "global_sessions",
      "watch_count",
      "approximate_data_size",
    ]) {
      assert.equal(ourMonitor[key], zkMonitor[key], key);
    }
    const [zkStat, ourStat] = await answers("stat");
    assert.equal(ourStat.node_count, zkStat.node_count);
    assert.equal(ourStat.connections.length, zkStat.connections.length);
    const [zkCons, ourCons] = await answers("cons");
    assert.deepEqual(
      ourCons.connections.map((c: { last_operation: string }) => c.last_operation),
      zkCons.connections.map((c: { last_operation: string }) => c.last_operation),
    );
    const [zkConf, ourConf] = await answers("conf");
    for (const key of ["tick_time", "max_client_cnxns", "min_session_timeout", "server_id"]) {
      assert.equal(ourConf[key], zkConf[key], key);
    }
  });

  test("HTTP: other methods 405, other paths 404; arguments as query parameters", async () => {
    const [zkPost, ourPost] = await both("/commands/ruok", "POST");
    assert.equal(ourPost?.status, 405);
    assert.equal(ourPost?.status, zkPost?.status);
    const [zkRoot, ourRoot] = await both("/");
    assert.equal(ourRoot?.status, 404);
    assert.equal(ourRoot?.status, zkRoot?.status);
    const [zkSet, ourSet] = await both("/commands/set_trace_mask?traceMask=12");
    assert.equal(ourSet?.text, zkSet?.text);
    const [zkGet, ourGet] = await both("/commands/gtmk");
    assert.equal(ourGet?.text, zkGet?.text);
    assert.match(ourGet?.text ?? "", /"tracemask" : 12,/);
    await both("/commands/stmk?traceMask=306");
    // The resets change the server: last, and answered alike.
    for (const name of ["crst", "connection_stat_reset", "srst", "stat_reset", "orst"]) {
      const [expected, actual] = await both(`/commands/${name}`);
      assert.equal(actual?.text, expected?.text, name);
    }
    const [zkStats, ourStats] = (await both("/commands/srvr")).map((a) => JSON.parse(a.text));
    assert.equal(ourStats.server_stats.max_latency, 0);
    assert.equal(ourStats.server_stats.max_latency, zkStats.server_stats.max_latency);
  });

  test("/metrics: ZooKeeper's metric names and types, the state's values", async () => {
    const metrics = await get(zkts.metricsPort as number, "/metrics");
    assert.equal(metrics.status, 200);
    assert.match(metrics.type ?? "", /^text\/plain; version=0\.0\.4/);
    const types = new Map(
      [...metrics.text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1] as string, m[2]]),
    );
    const zkMonitor = JSON.parse(
      (await get(targets[0]?.adminPort as number, "/commands/monitor")).text,
    );
    for (const [name, type] of types) {
      if (name.startsWith("process_")) continue;
      if (type === "summary") {
        assert.ok(`avg_${name}` in zkMonitor, name);
        const advanced = new RegExp(`^${name}\\{quantile="0\\.99",\\}`, "m").test(metrics.text);
        assert.equal(advanced, `p99_${name}` in zkMonitor, `${name}: advanced`);
      } else {
        assert.ok(name in zkMonitor, name);
      }
    }
    for (const name of [
      "znode_count",
      "watch_count",
      "ephemerals_count",
      "global_sessions",
      "num_alive_connections",
      "approximate_data_size",
      "outstanding_requests",
    ]) {
      assert.equal(types.get(name), "gauge", name);
      const value = new RegExp(`^${name} (\\S+)$`, "m").exec(metrics.text)?.[1];
      assert.equal(Number(value), zkMonitor[name], name);
    }
    for (const name of ["avg_latency", "min_latency", "max_latency", "packets_received"]) {
      assert.equal(types.get(name), "gauge", name);
    }
    for (const name of ["fsynctime", "snapshottime", "readlatency", "updatelatency"]) {
      assert.equal(types.get(name), "summary", name);
    }
    assert.equal(types.get("connection_request_count"), "counter");
    assert.equal((await get(zkts.metricsPort as number, "/other")).status, 404);
  });
});
