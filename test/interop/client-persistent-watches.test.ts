/**
 * Our client against Apache ZooKeeper 3.8 (the oracle): persistent and persistent-recursive
 * watches (addWatch) read with `for await`, and how they end (remove(), break, close).
 *
 * `npm test` runs this suite against zkts's server too (ZKTS_TEST_SERVER=zkts, fixture.ts).
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  NoWatcherError,
  type PersistentWatch,
  type WatchEvent,
  type ZooKeeper,
} from "../../src/index.js";
import { Clients, SERVER_NAME, serverSkip, uniquePath } from "./fixture.js";

/** Reads the next `count` events of a persistent watch, as "type path". */
async function take(watch: PersistentWatch, count: number): Promise<string[]> {
  const seen: string[] = [];
  if (count === 0) return seen;
  const iterator = watch[Symbol.asyncIterator]();
  while (seen.length < count) {
    const next = await iterator.next();
    if (next.done) throw new Error(`the watch ended after ${seen.join(", ")}`);
    seen.push(`${next.value.type} ${next.value.path}`);
  }
  return seen;
}

/** Every event left in a watch that has ended. */
async function rest(watch: PersistentWatch): Promise<WatchEvent[]> {
  const events: WatchEvent[] = [];
  for await (const event of watch) events.push(event);
  return events;
}

describe(`client persistent watches against ${SERVER_NAME}`, {
  skip: serverSkip(),
}, () => {
  const clients = new Clients();
  let zk: ZooKeeper;
  let writer: ZooKeeper;
  before(async () => {
    await clients.start();
    zk = await clients.open();
    writer = await clients.open();
  });
  after(() => clients.stop());

  test("persistent: the node's own events, again and again; not its children's data", async () => {
    const base = uniquePath("persistent");
    const watch = await zk.addWatch(base);
    assert.equal(watch.recursive, false);
    await writer.create(base);
    await writer.setData(base, "1");
    await writer.setData(base, "2");
    await writer.create(`${base}/child`);
    await writer.setData(`${base}/child`, "not seen");
    await writer.delete(`${base}/child`);
    await writer.delete(base);
    await writer.create(base);
    assert.deepEqual(await take(watch, 7), [
      `NodeCreated ${base}`,
      `NodeDataChanged ${base}`,
      `NodeDataChanged ${base}`,
      `NodeChildrenChanged ${base}`,
      `NodeChildrenChanged ${base}`,
      `NodeDeleted ${base}`,
      `NodeCreated ${base}`,
    ]);
    await watch.remove();
  });

  test("recursive: the whole subtree's events, and no NodeChildrenChanged", async () => {
    const base = uniquePath("recursive");
    await zk.create(base);
    const watch = await zk.addWatch(base, { recursive: true });
    assert.equal(watch.recursive, true);
    await writer.create(`${base}/a`);
    await writer.create(`${base}/a/b`, "x");
    await writer.setData(`${base}/a/b`, "y");
    await writer.setData(base, "z");
    await writer.delete(`${base}/a/b`);
    await writer.create(`${base}-sibling`, "outside the subtree");
    await writer.delete(`${base}/a`);
    assert.deepEqual(await take(watch, 6), [
      `NodeCreated ${base}/a`,
      `NodeCreated ${base}/a/b`,
      `NodeDataChanged ${base}/a/b`,
      `NodeDataChanged ${base}`,
      `NodeDeleted ${base}/a/b`,
      `NodeDeleted ${base}/a`,
    ]);
    await watch.remove();
  });

  test("recursive: a child watch on a descendant does not leak NodeChildrenChanged", async () => {
    // The server sends NodeChildrenChanged for the one-shot child watch on base/a; ZooKeeper's
    // client hands it to that watch only, never to the recursive one (ZOOKEEPER-4475).
    const base = uniquePath("recursive-mixed");
    await zk.create(base);
    await zk.create(`${base}/a`);
    const watch = await zk.addWatch(base, { recursive: true });
    const children = await zk.getChildren(`${base}/a`, { watch: true });
    await writer.create(`${base}/a/b`);
    assert.deepEqual([(await children.watch).type], ["NodeChildrenChanged"]);
    await writer.setData(`${base}/a`, "marker");
    assert.deepEqual(await take(watch, 2), [
      `NodeCreated ${base}/a/b`,
      `NodeDataChanged ${base}/a`,
    ]);
    await watch.remove();
  });

  test("remove() ends one watch; another on the same path goes on", async () => {
    const base = uniquePath("remove");
    await zk.create(base);
    const watch = await zk.addWatch(base, { recursive: true });
    const other = await zk.addWatch(base);
    await writer.setData(base, "1");
    assert.deepEqual(await take(watch, 1), [`NodeDataChanged ${base}`]);
    await watch.remove();
    await watch.remove();
    await writer.setData(base, "2");
    // The plain persistent watch still sees the change; the removed one ended.
    assert.deepEqual(await take(other, 2), [`NodeDataChanged ${base}`, `NodeDataChanged ${base}`]);
    assert.deepEqual(await rest(watch), []);
    await other.remove();
    await assert.rejects(zk.removeWatches(base, "Any"), NoWatcherError);
  });

  test("remove() drops the server's watch, on a 3.8 server too", async () => {
    const base = uniquePath("remove-server");
    await zk.create(base);
    for (const recursive of [false, true]) {
      const watch = await zk.addWatch(base, { recursive });
      assert.ok((await clients.watchedPaths()).includes(base));
      await watch.remove();
      assert.ok(!(await clients.watchedPaths()).includes(base), `recursive: ${recursive}`);
    }
  });

  test("breaking out of for await removes the watch", async () => {
    const base = uniquePath("break");
    await zk.create(base);
    const watch = await zk.addWatch(base);
    await writer.setData(base, "1");
    for await (const event of watch) {
      assert.equal(event.type, "NodeDataChanged");
      break;
    }
    // remove() runs in the background after break; a second remove() waits for nothing.
    await watch.remove();
    await assert.rejects(zk.removeWatches(base, "Any"), NoWatcherError);
  });

  test("removeWatches Any on the path ends a persistent watch too", async () => {
    const base = uniquePath("remove-any");
    await zk.create(base);
    const watch = await zk.addWatch(base);
    const done = rest(watch);
    await zk.removeWatches(base, "Any");
    assert.deepEqual(await done, []);
  });

  test("closing the client ends every persistent watch", async () => {
    const base = uniquePath("close");
    const client = await clients.open();
    await client.create(base);
    const watch = await client.addWatch(base, { recursive: true });
    const events = rest(watch);
    await writer.setData(base, "x");
    await client.sync(base);
    await client.close();
    assert.deepEqual(
      (await events).map((e) => e.type),
      ["NodeDataChanged"],
    );
  });
});
