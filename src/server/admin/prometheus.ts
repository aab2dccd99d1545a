/**
 * /metrics in Prometheus's text format (0.0.4), with the names and types Apache ZooKeeper's
 * PrometheusMetricsProvider gives them, so a Grafana dashboard made for ZooKeeper works
 * unchanged:
 *
 * - every numeric gauge of mntr (znode_count, watch_count, num_alive_connections, packets_sent,
 *   avg_latency, ..., and an ensemble's quorum_size, a leader's synced_followers) as a gauge;
 * - the ServerMetrics summaries zkts measures (fsynctime, snapshottime, election_time,
 *   readlatency, updatelatency, proposal_latency) as summaries: quantile 0.5 for ZooKeeper's
 *   basic ones, 0.5, 0.9 and 0.99 for its advanced ones, with _count and _sum;
 * - the ServerMetrics counters zkts counts (looking_count, connection_request_count,
 *   connection_rejected), named as the Java client 0.9 that ZooKeeper 3.8 ships names them
 *   (without a _total suffix);
 * - with exportJvmInfo, the process_* figures of the Java client's standard exports, which
 *   describe any process. Its jvm_* figures (heap pools, GC, threads, classes) describe a JVM
 *   and have no counterpart here.
 *
 * Values are written as Java's client writes doubles ("5.0", "1.7E12", "NaN"); help texts are
 * the metric's name, as ZooKeeper registers them. Metrics that zkts does not measure are left
 * out rather than exported as zeros.
 */
import { readFileSync } from "node:fs";
import type { ServerView } from "../four-letter-words/index.js";
import { javaDouble } from "../four-letter-words/java-text.js";
import {
  gaugeFigures,
  maxFileDescriptorCount,
  openFileDescriptorCount,
  summaries,
} from "../four-letter-words/monitor.js";

/** The metrics, as the body of a GET /metrics. */
export function prometheusText(view: ServerView, exportProcessInfo: boolean): string {
  let text = "";
  for (const [name, value] of gaugeFigures(view)) {
    // The version and the state are no gauges (ZooKeeper's provider takes numbers only).
    if (typeof value === "string") continue;
    text += family(name, "gauge", [[name, typeof value === "object" ? value.double : value]]);
  }
  for (const [name, summary, advanced] of summaries(view)) {
    const qs = advanced ? ADVANCED_QUANTILES : BASIC_QUANTILES;
    const values = summary.quantiles(qs);
    const samples: [string, number | bigint][] = qs.map((q, i) => [
      `${name}{quantile="${q}",}`,
      values[i] as number,
    ]);
    samples.push([`${name}_count`, summary.count], [`${name}_sum`, summary.sum]);
    text += family(name, "summary", samples);
  }
  const counters = view.server.stats.metrics.counters;
  for (const [name, value] of Object.entries(counters)) {
    text += family(name, "counter", [[name, value]]);
  }
  if (exportProcessInfo) text += processFamilies();
  return text;
}

const BASIC_QUANTILES = [0.5];
const ADVANCED_QUANTILES = [0.5, 0.9, 0.99];

/** The text content type Prometheus's Java client answers with. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

function family(name: string, type: string, samples: [string, number | bigint][]): string {
  let text = `# HELP ${name} ${name}\n# TYPE ${name} ${type}\n`;
  for (const [sample, value] of samples) text += `${sample} ${goDouble(value)}\n`;
  return text;
}

/** Collector.doubleToGoString: +Inf, -Inf, NaN, else Double.toString. */
function goDouble(value: number | bigint): string {
  const x = Number(value);
  if (x === Number.POSITIVE_INFINITY) return "+Inf";
  if (x === Number.NEGATIVE_INFINITY) return "-Inf";
  return javaDouble(x);
}

/** The Java client's StandardExports, from /proc where Linux has it. */
function processFamilies(): string {
  const usage = process.cpuUsage();
  let text = family("process_cpu_seconds_total", "counter", [
    ["process_cpu_seconds_total", (usage.user + usage.system) / 1e6],
  ]);
  text += family("process_start_time_seconds", "gauge", [
    ["process_start_time_seconds", (Date.now() - process.uptime() * 1000) / 1000],
  ]);
  const open = openFileDescriptorCount();
  if (open >= 0) {
    text += family("process_open_fds", "gauge", [["process_open_fds", open]]);
    text += family("process_max_fds", "gauge", [["process_max_fds", maxFileDescriptorCount()]]);
  }
  const virtual = statusBytes("VmSize");
  if (virtual !== undefined) {
    text += family("process_virtual_memory_bytes", "gauge", [
      ["process_virtual_memory_bytes", virtual],
    ]);
  }
  text += family("process_resident_memory_bytes", "gauge", [
    ["process_resident_memory_bytes", process.memoryUsage.rss()],
  ]);
  return text;
}

/** A "kB" figure of /proc/self/status in bytes, or undefined where there is none. */
function statusBytes(key: string): number | undefined {
  try {
    const status = readFileSync("/proc/self/status", "utf8");
    const kb = new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status)?.[1];
    return kb === undefined ? undefined : Number(kb) * 1024;
  } catch {
    return undefined;
  }
}
