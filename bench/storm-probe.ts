/**
 * The well-behaved client of `bench/storms.ts`, in its own process so that the storm's own work
 * in the benchmark process does not show up as its latency: our client, one getData of a small
 * znode at a time, for as long as it runs. Over IPC: "reset" starts a phase, "collect" answers
 * with the latencies (ms) of the requests issued since, and whether any failed.
 *
 *     fork("bench/storm-probe.ts", [connectString, path], { execArgv: ["--import", "tsx"] })
 */
import { connect } from "../src/index.js";

const [connectString, path] = process.argv.slice(2);
if (connectString === undefined || path === undefined) {
  console.error("usage: storm-probe <connectString> <path>");
  process.exit(2);
}

const zk = await connect(connectString, { sessionTimeoutMs: 30_000 });
let latencies: number[] = [];
let failures = 0;
let running = true;

process.on("message", (message: string) => {
  if (message === "reset") {
    latencies = [];
    failures = 0;
    process.send?.({ type: "reset" });
  } else if (message === "collect") {
    process.send?.({ type: "collect", latencies, failures });
  } else if (message === "stop") {
    running = false;
  }
});
process.send?.({ type: "ready" });

while (running) {
  const started = performance.now();
  try {
    await zk.getData(path, { signal: AbortSignal.timeout(30_000) });
    latencies.push(performance.now() - started);
  } catch {
    failures++;
    // Not connected: do not spin while the client reconnects.
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
await zk.close();
process.exit(0);
