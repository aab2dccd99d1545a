/**
 * The classic lab's distributed mutex: several workers, each in its own session, take turns
 * incrementing a counter stored in a znode with a plain read-then-write. Without the lock they
 * would lose updates; with it the final value is exactly workers × rounds.
 *
 *   npx tsx examples/mutex.ts [connectString]      (default 127.0.0.1:2181; `npm start` serves it)
 */
import { connect } from "../src/index.js";
import { Mutex } from "../src/recipes/index.js";

const connectString = process.argv[2] ?? process.env.ZK ?? "127.0.0.1:2181";
const base = `/zkts-mutex-example-${process.pid}`;
const workers = 4;
const rounds = 5;

const admin = await connect(connectString);
await admin.create(base, "0");

async function worker(id: number): Promise<void> {
  await using zk = await connect(connectString);
  const mutex = new Mutex(zk, `${base}/lock`);
  mutex.onLost((event) => console.error(`worker ${id} lost the lock: ${event.reason}`));
  for (let i = 0; i < rounds; i++) {
    await mutex.acquire();
    try {
      const { data } = await zk.getData(base);
      await zk.setData(base, String(Number(data.toString()) + 1));
    } finally {
      await mutex.release();
    }
  }
}

await Promise.all(Array.from({ length: workers }, (_, id) => worker(id)));
const total = Number((await admin.getData(base)).data.toString());
console.log(`counter = ${total} (expected ${workers * rounds})`);
for (const child of await admin.getChildren(`${base}/lock`))
  await admin.delete(`${base}/lock/${child}`);
await admin.delete(`${base}/lock`);
await admin.delete(base);
await admin.close();
process.exitCode = total === workers * rounds ? 0 : 1;
