/**
 * Self time by function and by file from V8 .cpuprofile files, summed over all files given, as a
 * share of busy (non-idle) time, so a benchmark's profile can be read without a browser:
 *
 *     npm run bench:client -- --profile=/tmp/prof            # one profile per measured run
 *     npx tsx bench/profile-top.ts /tmp/prof/*-getData-1000-zkts.cpuprofile
 *     npx tsx bench/profile-top.ts --top=20 --ops=100000 /tmp/prof/*-setData-1000-zkts.cpuprofile
 *
 * With --ops (the ops the profiled runs made), each row also shows µs per op.
 */
import { readFileSync } from "node:fs";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

function where(node: ProfileNode): { fn: string; file: string } {
  const { functionName, url, lineNumber } = node.callFrame;
  const file = url.replace(/^file:\/\/\/work\/main\//, "").replace(/^file:\/\//, "") || "(native)";
  const line = lineNumber >= 0 ? `:${lineNumber + 1}` : "";
  return { fn: `${functionName || "(anonymous)"}  ${file}${line}`, file };
}

/** Adds each sampled node's self time (µs) into per-function and per-file totals. */
function accumulate(
  profile: Profile,
  byFunction: Map<string, number>,
  byFile: Map<string, number>,
): number {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  let busy = 0;
  profile.samples.forEach((id, i) => {
    const node = byId.get(id);
    const us = profile.timeDeltas[i] ?? 0;
    // Idle is not cost; native "dispatch" is the in-process inspector session (bench/profiler.ts)
    // answering the profiler, which a run without --profile does not pay.
    if (!node || node.callFrame.functionName === "(idle)") return;
    if (node.callFrame.functionName === "dispatch" && node.callFrame.url === "") return;
    const { fn, file } = where(node);
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
    byFile.set(file, (byFile.get(file) ?? 0) + us);
    busy += us;
  });
  return busy;
}

/** First match wins: tsx's __name wrappers sit in src/ files but are not our code's cost. */
const LAYERS: readonly [string, RegExp][] = [
  ["tsx keepNames (__name, set natives)", /^__name |^set natives /],
  ["socket write syscalls (writeBuffer)", /^writeBuffer |^writev |^writeUtf8String /],
  ["garbage collector", /^\(garbage collector\)/],
  ["zkts codec (jute/, protocol/)", /(src|dist)\/(jute|protocol)\//],
  ["zkts client (client/)", /(src|dist)\/client\//],
  ["zkts server (server/)", /(src|dist)\/server\//],
  ["node-zookeeper-client", /node_modules\/(node-zookeeper-client|async)\//],
  ["benchmark driver", /bench\//],
  ["Node internals (streams, buffers, task queues)", /node:/],
  ["other native (program, microtasks, Buffer ops)", /./],
];

/** Rolls functions up into where the time goes: the kernel, GC, Node's streams, the client. */
function byLayer(byFunction: Map<string, number>): Map<string, number> {
  const layers = new Map<string, number>();
  for (const [fn, us] of byFunction) {
    const layer = LAYERS.find(([, test]) => test.test(fn))?.[0] ?? "other";
    layers.set(layer, (layers.get(layer) ?? 0) + us);
  }
  return layers;
}

function main(argv: readonly string[]): void {
  const files = argv.filter((a) => !a.startsWith("--"));
  const option = (name: string): number | undefined => {
    const value = argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1];
    return value === undefined ? undefined : Number(value);
  };
  const top = option("top") ?? 30;
  const ops = option("ops");
  if (files.length === 0) {
    console.error("usage: tsx bench/profile-top.ts [--top=N] [--ops=N] <file.cpuprofile>...");
    process.exitCode = 2;
    return;
  }
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  let busy = 0;
  // `| head` closing the pipe early is not an error.
  process.stdout.on("error", () => process.exit(0));
  for (const file of files) {
    busy += accumulate(JSON.parse(readFileSync(file, "utf8")) as Profile, byFunction, byFile);
  }
  const perOp = ops ? `, ${(busy / ops).toFixed(2)} µs/op` : "";
  console.log(`${files.length} profile(s), ${(busy / 1000).toFixed(0)} ms busy${perOp}`);
  const print = (title: string, table: Map<string, number>): void => {
    console.log(`\n${title}  (% of busy${ops ? ", µs/op" : ""})`);
    for (const [name, us] of [...table].sort((a, b) => b[1] - a[1]).slice(0, top)) {
      const share = `${((us / busy) * 100).toFixed(1)}%`.padStart(6);
      const each = ops ? `${(us / ops).toFixed(2).padStart(7)}  ` : "";
      console.log(`${share}  ${each}${name}`);
    }
  };
  print("self time by layer", byLayer(byFunction));
  print("self time by function", byFunction);
  print("self time by file", byFile);
}

main(process.argv.slice(2));
