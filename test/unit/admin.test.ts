/**
 * The AdminServer's commands and the Prometheus text without sockets: Jackson's JSON layout,
 * command names and aliases, argument errors, a server that does not serve, and the metric
 * families' format. The comparison with Apache ZooKeeper is test/interop/admin-server.test.ts.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type AdminContext, PRIMARY_NAMES, runCommand } from "../../src/server/admin/commands.js";
import { JsonDouble, jacksonJson } from "../../src/server/admin/jackson-json.js";
import { prometheusText } from "../../src/server/admin/prometheus.js";
import { resolveOptions } from "../../src/server/config.js";
import { newConnectionStats } from "../../src/server/connection.js";
import { createLogger } from "../../src/server/logger.js";
import { Summary } from "../../src/server/summary.js";
import { ZooKeeperServer } from "../../src/server/zookeeper-server.js";

function context(): AdminContext {
  const server = new ZooKeeperServer(resolveOptions({}), createLogger("silent"));
  const stats = newConnectionStats(Date.now());
  return {
    server,
    version: "3.8.0-test",
    clientPort: 2181,
    connections: [{ sessionId: 0n, remote: "127.0.0.1:50000", stats }],
    initialConfig: "tickTime=2000\n",
  };
}

const json = (name: string, ctx = context(), args = new Map<string, string>()) =>
  jacksonJson(runCommand(name, ctx, args));

describe("admin: Jackson's JSON layout", () => {
  test("objects a field a line, arrays on one line, empty ones spaced, no final newline", () => {
    const text = jacksonJson(
      new Map<string, unknown>([
        ["list", [1, 2]],
        ["none", []],
        ["empty", {}],
        ["rows", [{ a: "x" }, new Map([["b", null]])]],
        ["nested", { c: true }],
      ]) as never,
    );
    assert.equal(
      text,
      '{\n  "list" : [ 1, 2 ],\n  "none" : [ ],\n  "empty" : { },\n' +
        '  "rows" : [ {\n    "a" : "x"\n  }, {\n    "b" : null\n  } ],\n' +
        '  "nested" : {\n    "c" : true\n  }\n}',
    );
  });

  test("longs whole, doubles as Java writes them, strings escaped", () => {
    assert.equal(jacksonJson(72058754053636096n), "72058754053636096");
    assert.equal(jacksonJson(new JsonDouble(0)), "0.0");
    assert.equal(jacksonJson(new JsonDouble(3.8)), "3.8");
    assert.equal(jacksonJson(0.0001), "1.0E-4");
    assert.equal(jacksonJson('a"b\\c\n/'), '"a\\"b\\\\c\\n/"');
    assert.equal(jacksonJson(new Map([[17732000, [1n]]])), '{\n  "17732000" : [ 1 ]\n}');
  });
});

describe("admin: commands", () => {
  test("ZooKeeper 3.8's primary names, sorted", () => {
    assert.deepEqual(PRIMARY_NAMES, [
      "configuration",
      "connection_stat_reset",
      "connections",
      "dirs",
      "dump",
      "environment",
      "get_trace_mask",
      "hash",
      "initial_configuration",
      "is_read_only",
      "last_snapshot",
      "leader",
      "monitor",
      "observer_connection_stat_reset",
      "observers",
      "ruok",
      "server_stats",
      "set_trace_mask",
      "stat_reset",
      "stats",
      "system_properties",
      "voting_view",
      "watch_summary",
      "watches",
      "watches_by_path",
      "zabstate",
    ]);
  });

  test("an alias answers as its command; an unknown name says so", () => {
    assert.equal(json("ruok"), '{\n  "command" : "ruok",\n  "error" : null\n}');
    assert.equal(runCommand("mntr", context()).get("command"), "monitor");
    assert.equal(runCommand("wchs", context()).get("command"), "watch_summary");
    assert.equal(
      json("ruok/extra"),
      '{\n  "command" : "ruok/extra",\n  "error" : "Unknown command: ruok/extra"\n}',
    );
  });

  test("set_trace_mask wants a long; a failing command puts its error first", () => {
    const ctx = context();
    assert.equal(
      json("stmk", ctx),
      '{\n  "error" : "setTraceMask requires long traceMask argument",\n' +
        '  "command" : "set_trace_mask"\n}',
    );
    assert.match(
      json("stmk", ctx, new Map([["traceMask", "9223372036854775808"]])),
      /requires long traceMask argument, got 9223372036854775808/,
    );
    assert.match(json("stmk", ctx, new Map([["traceMask", "12"]])), /"tracemask" : 12,/);
    assert.match(json("gtmk", ctx), /"tracemask" : 12,/);
    assert.match(json("gtmk"), /"tracemask" : 306,/);
  });

  test("a server that does not serve answers only the commands that need none", () => {
    const ctx = context();
    ctx.server.serverState = "looking";
    const notServing = "This ZooKeeper instance is not currently serving requests";
    assert.equal(runCommand("srvr", ctx).get("error"), notServing);
    assert.equal(runCommand("srvr", ctx).get("command"), "srvr");
    assert.equal(runCommand("mntr", ctx).get("error"), null);
    assert.equal(runCommand("envi", ctx).get("error"), null);
  });

  test("a standalone server has no leader, voting view or Zab state", () => {
    assert.equal(
      json("leader"),
      '{\n  "error" : "server is not initialized",\n  "command" : "leader"\n}',
    );
    assert.match(json("voting_view"), /"current_config" : \{ \},/);
    assert.match(json("zabstate"), /"voting" : false,\n {2}"zabstate" : "",/);
  });

  test("monitor reads mntr's figures; initial_configuration the zoo.cfg text", () => {
    const monitor = runCommand("monitor", context());
    assert.equal(monitor.get("version"), "3.8.0-test");
    assert.equal(monitor.get("znode_count"), 5);
    assert.ok(monitor.get("avg_latency") instanceof JsonDouble);
    assert.equal(runCommand("icfg", context()).get("initial_configuration"), "tickTime=2000\n");
  });
});

describe("summaries and the Prometheus text", () => {
  test("a summary's quantiles come from its recent samples; none is NaN", () => {
    const summary = new Summary();
    assert.ok(Number.isNaN(summary.quantiles([0.5])[0] as number));
    for (let ms = 1; ms <= 100; ms++) summary.add(ms);
    assert.deepEqual(summary.quantiles([0.5, 0.9, 0.99]), [50, 90, 99]);
    assert.deepEqual([summary.count, summary.sum, summary.min, summary.max], [100, 5050, 1, 100]);
    for (let i = 0; i < 2000; i++) summary.add(7);
    assert.deepEqual(summary.quantiles([0.5, 0.99]), [7, 7]);
    assert.equal(summary.max, 100);
  });

  test("each family has its HELP and TYPE, each sample a name and a Java double", () => {
    const ctx = context();
    ctx.server.stats.recordLatency(3, "GETD");
    ctx.server.stats.recordLatency(5, "SETD");
    const text = prometheusText(ctx, true);
    const types = new Map<string, string>();
    let family = "";
    for (const line of text.trimEnd().split("\n")) {
      const help = /^# HELP (\S+) (\S+)$/.exec(line);
      if (help) {
        family = help[1] as string;
        assert.equal(help[2], family);
        continue;
      }
      const type = /^# TYPE (\S+) (gauge|counter|summary)$/.exec(line);
      if (type) {
        assert.equal(type[1], family);
        types.set(family, type[2] as string);
        continue;
      }
      assert.match(line, /^[a-z_]+(\{quantile="0\.\d+",\})? (-?\d+\.\d+(E-?\d+)?|NaN)$/, line);
      assert.ok(line.startsWith(family), `${line} outside ${family}`);
    }
    assert.equal(types.get("znode_count"), "gauge");
    assert.equal(types.get("avg_latency"), "gauge");
    assert.equal(types.get("readlatency"), "summary");
    assert.equal(types.get("connection_request_count"), "counter");
    assert.equal(types.get("process_cpu_seconds_total"), "counter");
    assert.equal(types.has("version"), false);
    assert.equal(types.has("server_state"), false);
    assert.match(text, /^znode_count 5\.0$/m);
    assert.match(text, /^readlatency\{quantile="0\.5",\} 3\.0$/m);
    assert.match(text, /^updatelatency\{quantile="0\.99",\} 5\.0$/m);
    assert.match(text, /^updatelatency_count 1\.0$/m);
    // A standalone server has no election and no proposals; without exportJvmInfo no process_*.
    assert.doesNotMatch(text, /election_time|proposal_latency|quorum_size/);
    assert.doesNotMatch(prometheusText(ctx, false), /process_/);
  });
});
