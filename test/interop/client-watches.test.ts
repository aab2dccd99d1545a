/**
 * Our client against Apache ZooKeeper 3.8 (the oracle): one-shot watches as promises and as
 * listeners, their firing once, their order relative to replies, removeWatches, and what a
 * pending watch sees when the client closes. No sleeps: every test waits on the event it means.
 *
 * `npm test` runs this suite against zkts's server too (ZKTS_TEST_SERVER=zkts, fixture.ts).
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  NoWatcherError,
  type WatchEvent,
  type WatchListener,
  type ZooKeeper,
} from "../../src/index.js";
import { Clients, refusal, SERVER_NAME, serverSkip, uniquePath } from "./fixture.js";

/** A listener that records what it is called with. */
function recorder(): WatchListener & { events: WatchEvent[] } {
  const events: WatchEvent[] = [];
  return Object.assign((event: WatchEvent) => void events.push(event), { events });
}

const brief = (events: readonly WatchEvent[]) => events.map((e) => `${e.type} ${e.path}`);

describe(`client watches against ${SERVER_NAME}`, { skip: serverSkip() }, () => {
  const clients = new Clients();
  let zk: ZooKeeper;
  let writer: ZooKeeper;
  before(async () => {
    await clients.start();
    zk = await clients.open();
    writer = await clients.open();
  });
  after(() => clients.stop());

  test("getData watch (promise): NodeDataChanged, then NodeDeleted", async () => {
    const base = uniquePath("data-watch");
    await zk.create(base, "v0");
    const first = await zk.getData(base, { watch: true });
    assert.equal(first.data.toString(), "v0");
    await writer.setData(base, "v1");
    const changed = await first.watch;
    assert.deepEqual(
      [changed.type, changed.state, changed.path],
      ["NodeDataChanged", "SyncConnected", base],
    );
    const second = await zk.getData(base, { watch: true });
    assert.equal(second.data.toString(), "v1");
    await writer.delete(base);
    assert.deepEqual(brief([await second.watch]), [`NodeDeleted ${base}`]);
  });

  test("a listener fires once only, however many changes follow", async () => {
    const base = uniquePath("once");
    await zk.create(base);
    const listener = recorder();
    await zk.getData(base, { watch: listener });
    await writer.setData(base, "1");
    await writer.setData(base, "2");
    // zk's own round trip after both writes: any notification would have come before its reply.
    await zk.sync(base);
    await zk.exists(base);
    assert.deepEqual(brief(listener.events), [`NodeDataChanged ${base}`]);
  });

  test("exists watch on a missing znode: NodeCreated; on an existing one: NodeDeleted", async () => {
    const base = uniquePath("exists-watch");
    const missing = await zk.exists(base, { watch: true });
    assert.equal(missing.stat, null);
    await writer.create(base);
    assert.deepEqual(brief([await missing.watch]), [`NodeCreated ${base}`]);
    const listener = recorder();
    assert.equal((await zk.exists(base, { watch: listener }))?.version, 0);
    await writer.delete(base);
    await zk.exists(base);
    assert.deepEqual(brief(listener.events), [`NodeDeleted ${base}`]);
  });

  test("getChildren watch: NodeChildrenChanged on create and delete, NodeDeleted", async () => {
    const base = uniquePath("child-watch");
    await zk.create(base);
    const empty = await zk.getChildren(base, { watch: true });
    assert.deepEqual(empty.children, []);
    await writer.create(`${base}/a`);
    assert.deepEqual(brief([await empty.watch]), [`NodeChildrenChanged ${base}`]);
    const one = await zk.getChildrenWithStat(base, { watch: true });
    assert.deepEqual(one.children, ["a"]);
    assert.equal(one.stat.numChildren, 1);
    // A data change of the parent or of a child is not a children change.
    await writer.setData(base, "x");
    await writer.setData(`${base}/a`, "x");
    await writer.delete(`${base}/a`);
    assert.deepEqual(brief([await one.watch]), [`NodeChildrenChanged ${base}`]);
    const last = await zk.getChildren(base, { watch: true });
    await writer.delete(base);
    assert.deepEqual(brief([await last.watch]), [`NodeDeleted ${base}`]);
  });

  test("several listeners on one path all fire; one listener set twice fires once", async () => {
    const base = uniquePath("fan-out");
    await zk.create(base);
    const a = recorder();
    const b = recorder();
    await zk.getData(base, { watch: a });
    await zk.getData(base, { watch: b });
    await zk.exists(base, { watch: a });
    await writer.setData(base, "x");
    await zk.sync(base);
    assert.deepEqual(brief(a.events), [`NodeDataChanged ${base}`]);
    assert.deepEqual(brief(b.events), [`NodeDataChanged ${base}`]);
  });

  test("a watch event comes before the reply of a later request of the same client", async () => {
    const base = uniquePath("order");
    await zk.create(base);
    const order: string[] = [];
    // Promise style: the event's promise settles before the write's.
    const { watch } = await zk.getData(base, { watch: true });
    const fired = watch.then(() => order.push("event"));
    await zk.setData(base, "x").then(() => order.push("setData resolved"));
    await fired;
    // Listener style: the listener runs before the reply is even handled.
    await zk.getData(base, { watch: () => order.push("listener") });
    await zk.setData(base, "y").then(() => order.push("second setData resolved"));
    // Another client's write: the notification precedes the reply of our next read.
    await zk.getChildren(base, { watch: () => order.push("children listener") });
    await writer.create(`${base}/c`);
    await zk.getData(base).then(() => order.push("getData resolved"));
    assert.deepEqual(order, [
      "event",
      "setData resolved",
      "listener",
      "second setData resolved",
      "children listener",
      "getData resolved",
    ]);
  });

  test("removeWatches Data with a listener: DataWatchRemoved, and no more events", async () => {
    const base = uniquePath("remove-data");
    await zk.create(base);
    const removed = recorder();
    const kept = recorder();
    await zk.getData(base, { watch: removed });
    await zk.exists(base, { watch: kept });
    await zk.removeWatches(base, "Data", { listener: removed });
    assert.deepEqual(removed.events, [
      { type: "DataWatchRemoved", state: "SyncConnected", path: base, zxid: -1n },
    ]);
    // The other listener on the path keeps the server's watch alive.
    await writer.setData(base, "x");
    await zk.sync(base);
    assert.deepEqual(brief(removed.events), [`DataWatchRemoved ${base}`]);
    assert.deepEqual(brief(kept.events), [`NodeDataChanged ${base}`]);
  });

  test("removeWatches without a listener removes them all, on the server too", async () => {
    const base = uniquePath("remove-all");
    await zk.create(base);
    const c1 = recorder();
    const c2 = recorder();
    const d = recorder();
    await zk.getChildren(base, { watch: c1 });
    await zk.getChildren(base, { watch: c2 });
    await zk.getData(base, { watch: d });
    await zk.removeWatches(base, "Children");
    assert.deepEqual(brief(c1.events), [`ChildWatchRemoved ${base}`]);
    assert.deepEqual(brief(c2.events), [`ChildWatchRemoved ${base}`]);
    assert.deepEqual(d.events, [], "a data watch is not a children watch");
    await writer.create(`${base}/child`);
    await zk.sync(base);
    assert.deepEqual(brief(c1.events), [`ChildWatchRemoved ${base}`]);

    await zk.getChildren(base, { watch: c1 });
    await zk.removeWatches(base, "Any");
    assert.deepEqual(brief(d.events), [`DataWatchRemoved ${base}`]);
    assert.deepEqual(brief(c1.events), [`ChildWatchRemoved ${base}`, `ChildWatchRemoved ${base}`]);
    await writer.setData(base, "x");
    await writer.delete(`${base}/child`);
    await zk.sync(base);
    assert.equal(d.events.length, 1);
    assert.equal(c1.events.length, 2);
  });

  test("removeWatches when there is none: NoWatcherError", async () => {
    const base = uniquePath("no-watcher");
    await zk.create(base);
    const none = await refusal(() => zk.removeWatches(base, "Any"));
    assert.ok(none instanceof NoWatcherError, String(none));
    assert.equal(none.path, base);
    await zk.getData(base, { watch: () => {} });
    await assert.rejects(zk.removeWatches(base, "Children"), NoWatcherError);
    await assert.rejects(zk.removeWatches(base, "Data", { listener: () => {} }), NoWatcherError);
    await zk.removeWatches(base, "Data");
    await assert.rejects(zk.removeWatches(base, "Data"), NoWatcherError);
  });

  test("closing the client settles pending one-shot watches with None/Closed", async () => {
    const base = uniquePath("close");
    const client = await clients.open();
    await client.create(base);
    const data = await client.getData(base, { watch: true });
    const exists = await client.exists(`${base}/missing`, { watch: true });
    const children = await client.getChildren(base, { watch: true });
    const listener = recorder();
    await client.getData(base, { watch: listener });
    await client.close();
    for (const watch of [data.watch, exists.watch, children.watch]) {
      const event = await watch;
      assert.deepEqual([event.type, event.state], ["None", "Closed"]);
    }
    assert.deepEqual(
      listener.events.map((e) => [e.type, e.state]),
      [["None", "Closed"]],
    );
  });
});
