/**
 * NodeCache and TreeCache against the server fixture.ts picks: a node cache follows create, set
 * and delete; a tree cache, with a persistent recursive watch and with the one-shot fallback,
 * equals a fresh recursive read after a burst of changes from another session; both catch up
 * with changes made while their connection was down. Every wait is on the caches' own events
 * (a marker node written last), bounded by within().
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { isDeepStrictEqual } from "node:util";
import { connect, type ZooKeeper } from "../../src/index.js";
import { NodeCache, type NodeSnapshot, TreeCache } from "../../src/recipes/index.js";
import {
  expireBehindProxy,
  sessionRenewed,
  stateReached,
  within,
} from "../harness/client-helpers.js";
import { startProxy } from "../harness/tcp-proxy.js";
import { Clients, SERVER_NAME, serverSkip, uniquePath } from "../interop/fixture.js";

const BOUND_MS = 20_000;

/** Resolves once `check()` holds, tested now and after each event `subscribe` reports. */
function until(
  subscribe: (listener: () => void) => () => void,
  check: () => boolean,
  what: string,
): Promise<void> {
  let off = () => {};
  const reached = new Promise<void>((resolve) => {
    const test = () => {
      if (!check()) return;
      off();
      resolve();
    };
    off = subscribe(test);
    test();
  });
  return within(reached, BOUND_MS, what);
}

type Plain = Map<string, { data: string; version: number }>;

/** The subtree (to `depth` levels below `path`) as a fresh recursive read sees it. */
async function readTree(
  zk: ZooKeeper,
  path: string,
  into: Plain = new Map(),
  depth = Number.POSITIVE_INFINITY,
): Promise<Plain> {
  const { data, stat } = await zk.getData(path);
  into.set(path, { data: data.toString(), version: stat.version });
  if (depth === 0) return into;
  for (const child of (await zk.getChildren(path)).sort()) {
    await readTree(zk, `${path}/${child}`, into, depth - 1);
  }
  return into;
}

function plain(nodes: ReadonlyMap<string, NodeSnapshot>): Plain {
  const sorted = [...nodes.entries()].sort(([a], [b]) => (a < b ? -1 : 1));
  return new Map(sorted.map(([p, n]) => [p, { data: n.data.toString(), version: n.stat.version }]));
}

function sameTree(nodes: ReadonlyMap<string, NodeSnapshot>, expected: Plain): boolean {
  return isDeepStrictEqual(plain(nodes), expected);
}

/** Creates, sets and deletes across a few levels under `base`, then writes `base/marker`. */
async function burst(zk: ZooKeeper, base: string): Promise<void> {
  const ops: Promise<unknown>[] = [];
  for (let i = 0; i < 8; i++) {
    ops.push(zk.create(`${base}/n${i}`, `v${i}`));
    for (let j = 0; j < 3; j++) ops.push(zk.create(`${base}/n${i}/c${j}`, `c${j}`));
  }
  for (let i = 0; i < 8; i += 2) ops.push(zk.setData(`${base}/n${i}`, `changed${i}`));
  for (let i = 0; i < 8; i += 3) ops.push(zk.delete(`${base}/n${i}/c1`));
  ops.push(zk.delete(`${base}/n7/c0`), zk.delete(`${base}/n7/c1`), zk.delete(`${base}/n7/c2`));
  ops.push(zk.delete(`${base}/n7`));
  ops.push(zk.create(`${base}/n1/c0/deep`, "deep"), zk.setData(`${base}/n1/c0/deep`, "deeper"));
  await Promise.all(ops);
  await zk.create(`${base}/marker`, "done");
}

describe(`NodeCache and TreeCache against ${SERVER_NAME}`, { skip: serverSkip() }, () => {
  const clients = new Clients();
  let writer: ZooKeeper;
  before(async () => {
    await clients.start();
    writer = await clients.open();
  });
  after(() => clients.stop());

  test("NodeCache follows create, set and delete", async () => {
    const path = uniquePath("node-cache");
    const cache = new NodeCache(await clients.open(), path);
    await cache.start();
    assert.equal(cache.current, null);
    const changes = cache.changes();
    await writer.create(path, "one");
    const created = (await within(changes.next(), BOUND_MS, "created")).value;
    assert.equal(created?.data.toString(), "one");
    await writer.setData(path, "two");
    const set = (await within(changes.next(), BOUND_MS, "set")).value;
    assert.equal(set?.data.toString(), "two");
    assert.equal(set?.stat.version, 1);
    assert.equal(currentData(cache), "two");
    await writer.delete(path);
    assert.equal((await within(changes.next(), BOUND_MS, "deleted")).value, null);
    assert.equal(cache.current, null);
    await writer.create(path, "three");
    assert.equal((await within(changes.next(), BOUND_MS, "again")).value?.data.toString(), "three");
    await cache.close();
    assert.equal((await changes.next()).done, true);
  });

  for (const persistentWatch of [true, false]) {
    const mode = persistentWatch ? "persistent recursive watch" : "one-shot watches";
    test(`TreeCache (${mode}) equals a fresh read after a burst`, async () => {
      const base = uniquePath("tree-cache");
      await writer.create(base, "root");
      await writer.create(`${base}/before`, "b");
      const cache = new TreeCache(await clients.open(), base, { persistentWatch });
      const events: string[] = [];
      cache.on((event) => events.push(event.type));
      await cache.start();
      assert.equal(cache.usesPersistentWatch, persistentWatch);
      assert.deepEqual(events, ["nodeAdded", "nodeAdded", "initialized"]);
      await burst(writer, base);
      // The writer is done: this read is final, and the cache must come to equal it.
      const expected = await readTree(writer, base);
      await until(
        (l) => cache.on(l),
        () => sameTree(cache.nodes, expected),
        "converged",
      );
      assert.deepEqual(plain(cache.nodes), expected);
      // Events account for the map: what was added and not removed is what it holds.
      const count = (type: string) => events.filter((e) => e === type).length;
      assert.equal(count("nodeAdded") - count("nodeRemoved"), cache.nodes.size);
      // Deleting the subtree empties the cache, deepest first.
      const removed: string[] = [];
      cache.on((event) => {
        if (event.type === "nodeRemoved") removed.push(event.path);
      });
      const empty = until(
        (l) => cache.on(l),
        () => cache.nodes.size === 0,
        "emptied",
      );
      await deleteTree(writer, base);
      await empty;
      assert.equal(removed.at(-1), base);
      await cache.close();
    });
  }

  for (const persistentWatch of [true, false]) {
    const mode = persistentWatch ? "persistent recursive watch" : "one-shot watches";
    test(`TreeCache with maxDepth 1 (${mode}) holds the root and its children only`, async () => {
      const base = uniquePath("tree-depth");
      await writer.create(base, "root");
      const cache = new TreeCache(await clients.open(), base, { persistentWatch, maxDepth: 1 });
      const paths: string[] = [];
      cache.on((event) => {
        if (event.type !== "initialized") paths.push(event.path);
      });
      await cache.start();
      await burst(writer, base);
      const expected = await readTree(writer, base, new Map(), 1);
      await until(
        (l) => cache.on(l),
        () => sameTree(cache.nodes, expected),
        "converged",
      );
      assert.deepEqual(plain(cache.nodes), expected);
      // Nothing deeper was ever added, not even for a moment.
      const tooDeep = paths.filter((p) => p.slice(base.length + 1).includes("/"));
      assert.deepEqual(tooDeep, []);
      await cache.close();
      assert.throws(() => new TreeCache(writer, base, { maxDepth: -1 }), RangeError);
    });
  }

  test("both caches catch up with changes made while disconnected", async () => {
    const base = uniquePath("cache-reconnect");
    await writer.create(base, "root");
    await writer.create(`${base}/a`, "a");
    const proxy = await startProxy(Number(clients.connectString.split(":").at(-1)));
    const zk = await connect(proxy.address, { sessionTimeoutMs: 20_000 });
    try {
      const tree = new TreeCache(zk, base);
      const node = new NodeCache(zk, `${base}/a`);
      await tree.start();
      await node.start();
      const disconnected = stateReached(zk, "disconnected");
      proxy.refuse(true);
      proxy.cut();
      await disconnected;
      await writer.setData(`${base}/a`, "a2");
      await writer.create(`${base}/b`, "b");
      await writer.delete(`${base}/a`);
      await writer.create(`${base}/a`, "a3");
      await writer.create(`${base}/marker`, "done");
      const expected = await readTree(writer, base);
      const caughtUp = until(
        (l) => tree.on(l),
        () => sameTree(tree.nodes, expected),
        "tree",
      );
      const nodeCaughtUp = until(
        (l) => node.onChange(l),
        () => node.current?.data.toString() === "a3",
        "node",
      );
      proxy.refuse(false);
      await caughtUp;
      await nodeCaughtUp;
      assert.deepEqual(plain(tree.nodes), expected);
      await tree.close();
      await node.close();
    } finally {
      await zk.close();
      await proxy.close();
    }
  });

  test("on a client that renews expired sessions, both caches follow on the new session", async () => {
    const base = uniquePath("cache-renew");
    await writer.create(base, "root");
    await writer.create(`${base}/a`, "a");
    // Two clients: on one connection, 3.8 servers keep one watch mode per path, so the one-shot
    // tree's child watch on the root would replace the other's persistent one (ZOOKEEPER-4466).
    const { zk, proxy } = await clients.openBehindProxy({ renewExpiredSession: true });
    const second = await clients.openBehindProxy({ renewExpiredSession: true });
    const zk2 = second.zk;
    const trees = [new TreeCache(zk, base), new TreeCache(zk2, base, { persistentWatch: false })];
    const node = new NodeCache(zk, `${base}/a`);
    for (const tree of trees) await tree.start();
    await node.start();
    const renewed = Promise.all([sessionRenewed(zk), sessionRenewed(zk2)]);
    await expireBehindProxy(clients.connectString, zk, proxy);
    await expireBehindProxy(clients.connectString, zk2, second.proxy);
    // Changes while the old sessions are gone and the new ones are being made...
    await writer.create(`${base}/b`, "b");
    await writer.setData(`${base}/a`, "a2");
    await renewed;
    // ...and after: the caches' watches must be those of the new session.
    await writer.create(`${base}/b/c`, "c");
    await writer.setData(`${base}/a`, "a3");
    await writer.create(`${base}/marker`, "done");
    const expected = await readTree(writer, base);
    for (const tree of trees) {
      await until(
        (l) => tree.on(l),
        () => sameTree(tree.nodes, expected),
        `tree (${tree.usesPersistentWatch ? "persistent" : "one-shot"})`,
      );
    }
    await until(
      (l) => node.onChange(l),
      () => node.current?.data.toString() === "a3",
      "node",
    );
    for (const tree of trees) await tree.close();
    await node.close();
  });
});

/** Read through a function: after `assert.equal(cache.current, null)` TS narrows the getter. */
function currentData(cache: NodeCache): string | undefined {
  return cache.current?.data.toString();
}

async function deleteTree(zk: ZooKeeper, path: string): Promise<void> {
  for (const child of await zk.getChildren(path)) await deleteTree(zk, `${path}/${child}`);
  await zk.delete(path);
}
