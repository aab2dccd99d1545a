/**
 * The classic lab's first script: connect, create persistent, ephemeral and sequential znodes,
 * read and update with versions, list children, set a watch and see it fire, delete.
 *
 *   npx tsx examples/basics.ts [connectString]      (default 127.0.0.1:2181)
 */
import { BadVersionError, CreateMode, connect } from "../src/index.js";

const connectString = process.argv[2] ?? process.env.ZK ?? "127.0.0.1:2181";
const base = `/zkts-basics-${process.pid}`;

const zk = await connect(connectString, { sessionTimeoutMs: 10_000 }).catch((error: Error) => {
  console.error(`could not connect to ${connectString}: ${error.message}`);
  console.error(
    "start a ZooKeeper there, or pass another connect string: npx tsx examples/basics.ts host:port",
  );
  process.exit(1);
});
console.log(
  `connected to ${zk.server}, session 0x${zk.sessionId.toString(16)}, timeout ${zk.sessionTimeoutMs} ms`,
);

// Persistent, ephemeral and sequential znodes.
await zk.create(base, "the lab's root");
const ephemeral = await zk.create(`${base}/me`, "here while my session lives", {
  mode: CreateMode.EPHEMERAL,
});
const first = await zk.create(`${base}/job-`, "one", { mode: CreateMode.PERSISTENT_SEQUENTIAL });
const second = await zk.create(`${base}/job-`, "two", { mode: CreateMode.PERSISTENT_SEQUENTIAL });
console.log("created", base, ephemeral, first, second);

// Read, then update with the version we read: a concurrent writer would make this fail.
const { data, stat } = await zk.getData(base);
console.log(`${base} = "${data}" at version ${stat.version}`);
await zk.setData(base, "updated", { version: stat.version });
try {
  await zk.setData(base, "stale write", { version: stat.version });
} catch (error) {
  if (!(error instanceof BadVersionError)) throw error;
  console.log(`a write with the old version ${stat.version} is refused: ${error.message}`);
}

// Children, and a one-shot watch that fires when they change.
const { children, watch } = await zk.getChildren(base, { watch: true });
console.log(`children of ${base}:`, children.sort());
await zk.delete(first);
const event = await watch;
console.log(`watch fired: ${event.type} on ${event.path}`);

// Clean up: children first, then the parent.
for (const child of await zk.getChildren(base)) await zk.delete(`${base}/${child}`);
await zk.delete(base);
console.log(`deleted ${base}; exists now:`, await zk.exists(base));
await zk.close();
