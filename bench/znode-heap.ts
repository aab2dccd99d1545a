/**
 * What one znode costs zkts's server in memory: a server from dist/ in this process, N znodes
 * of D bytes created (and set once) through our client, then the V8 heap after full GCs, per
 * znode, with a heap snapshot's self sizes by kind (objects, arrays, strings, bigints, ...).
 * A measurement of memory, not of time: running client and server in one process is fine here.
 *
 *     npm run build && node --expose-gc --import tsx bench/znode-heap.ts --nodes=20000 --data-bytes=100
 */
import { readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import v8 from "node:v8";
import type * as Zkts from "../src/index.js";
import type * as ZktsServer from "../src/server/index.js";

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
  nodes: number[];
  strings: string[];
}

const arg = (name: string, fallback: number): number =>
  Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1] ?? fallback);

async function main(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error("run with node --expose-gc --import tsx");
  const nodes = arg("nodes", 20_000);
  const data = Buffer.alloc(arg("data-bytes", 100), 0x61);
  const { startServer, createLogger } = (await import(
    "../dist/server/index.js" as string
  )) as typeof ZktsServer;
  const { connect } = (await import("../dist/index.js" as string)) as typeof Zkts;
  const server = await startServer(
    { clientPort: 0, clientPortAddress: "127.0.0.1" },
    createLogger("warn"),
  );
  const zk = await connect(server.address);
  await zk.create("/f");
  const heap = (): number => {
    gc();
    gc();
    return process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
  };
  const before = heap();
  const batch = 500;
  for (const op of ["create", "setData"] as const) {
    for (let i = 0; i < nodes; i += batch) {
      const paths = Array.from({ length: Math.min(batch, nodes - i) }, (_, j) => `/f/n${i + j}`);
      await Promise.all(
        paths.map((p) => (op === "create" ? zk.create(p, data) : zk.setData(p, data))),
      );
    }
  }
  const perNode = (heap() - before) / nodes;
  console.log(`${nodes} znodes of ${data.length} bytes: ${perNode.toFixed(0)} bytes of heap each`);
  console.log("heap snapshot, self size per znode by kind (the whole heap, divided by N):");
  for (const [kind, bytes, count] of bySize(takeSnapshot()).slice(0, 10)) {
    console.log(
      `${(bytes / nodes).toFixed(0).padStart(6)} B  ${String(count).padStart(8)}  ${kind}`,
    );
  }
  await zk.close();
  await server.close();
}

function takeSnapshot(): Snapshot {
  const file = v8.writeHeapSnapshot(join(tmpdir(), `zkts-znode-heap-${process.pid}.heapsnapshot`));
  try {
    return JSON.parse(readFileSync(file, "utf8")) as Snapshot;
  } finally {
    rmSync(file, { force: true });
  }
}

/** Self size and count by node type (and constructor name for objects), largest first. */
function bySize(snapshot: Snapshot): [string, number, number][] {
  const fields = snapshot.snapshot.meta.node_fields;
  const types = snapshot.snapshot.meta.node_types[0];
  const [type, name, size] = ["type", "name", "self_size"].map((f) => fields.indexOf(f)) as [
    number,
    number,
    number,
  ];
  const totals = new Map<string, [number, number]>();
  for (let i = 0; i < snapshot.nodes.length; i += fields.length) {
    const t = types[snapshot.nodes[i + type]!] ?? "?";
    const kind = t === "object" ? `object ${snapshot.strings[snapshot.nodes[i + name]!]}` : t;
    const total = totals.get(kind) ?? [0, 0];
    total[0] += snapshot.nodes[i + size]!;
    total[1]++;
    totals.set(kind, total);
  }
  return [...totals]
    .map(([k, [b, c]]): [string, number, number] => [k, b, c])
    .sort((a, b) => b[1] - a[1]);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
