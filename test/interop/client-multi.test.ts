/**
 * Our client against Apache ZooKeeper 3.8 (the oracle): multi (all or nothing, per-op results,
 * the failing op named), multiRead (each read on its own), and a chrooted client, whose paths,
 * results and events are all relative to its chroot.
 *
 * `npm test` runs this suite against zkts's server too (ZKTS_TEST_SERVER=zkts, fixture.ts).
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  BadVersionError,
  CreateMode,
  InvalidArgumentError,
  NodeExistsError,
  NoNodeError,
  type ZooKeeper,
} from "../../src/index.js";
import { Clients, refusal, SERVER_NAME, serverSkip, uniquePath } from "./fixture.js";

describe(`client multi and chroot against ${SERVER_NAME}`, {
  skip: serverSkip(),
}, () => {
  const clients = new Clients();
  let zk: ZooKeeper;
  before(async () => {
    await clients.start();
    zk = await clients.open();
  });
  after(() => clients.stop());

  test("multi: every op applied, results in order", async () => {
    const base = uniquePath("multi-ok");
    await zk.create(base);
    await zk.create(`${base}/old`);
    const results = await zk.multi([
      { type: "create", path: `${base}/a`, data: "1" },
      { type: "setData", path: `${base}/a`, data: "22", version: 0 },
      { type: "check", path: `${base}/a`, version: 1 },
      { type: "delete", path: `${base}/old`, version: 0 },
      { type: "create", path: `${base}/s-`, mode: CreateMode.PERSISTENT_SEQUENTIAL },
    ]);
    const stat = await zk.exists(`${base}/a`);
    assert.equal(stat?.version, 1);
    // Apache ZooKeeper 3.8 answers a create inside a multi without its Stat.
    assert.deepEqual(results, [
      { type: "create", path: `${base}/a`, stat: undefined },
      { type: "setData", stat },
      { type: "check" },
      { type: "delete" },
      { type: "create", path: `${base}/s-0000000002`, stat: undefined },
    ]);
    // One transaction: every op has the same zxid.
    assert.equal(stat?.czxid, stat?.mzxid);
    assert.deepEqual((await zk.getChildren(base)).sort(), ["a", "s-0000000002"]);
    assert.deepEqual(await zk.multi([]), []);
  });

  test("multi failure: the failing op's class, opIndex, results; nothing applied", async () => {
    const base = uniquePath("multi-fail");
    await zk.create(base, "before");
    const error = await refusal(() =>
      zk.multi([
        { type: "create", path: `${base}/a` },
        { type: "setData", path: base, data: "after" },
        { type: "delete", path: `${base}/missing` },
        { type: "check", path: base, version: 0 },
      ]),
    );
    assert.ok(error instanceof NoNodeError, String(error));
    assert.equal(error.path, `${base}/missing`);
    assert.equal(error.opIndex, 2);
    // Ops before the failure report 0, ops after it RUNTIMEINCONSISTENCY (-2).
    assert.deepEqual(error.results, [
      { type: "error", err: 0 },
      { type: "error", err: 0 },
      { type: "error", err: -101 },
      { type: "error", err: -2 },
    ]);
    assert.equal(await zk.exists(`${base}/a`), null);
    assert.equal((await zk.getData(base)).data.toString(), "before");

    await assert.rejects(
      zk.multi([
        { type: "check", path: base, version: 7 },
        { type: "create", path: `${base}/b` },
      ]),
      (e) => {
        assert.ok(e instanceof BadVersionError);
        assert.equal(e.opIndex, 0);
        assert.deepEqual(e.results, [
          { type: "error", err: -103 },
          { type: "error", err: -2 },
        ]);
        return true;
      },
    );
    await assert.rejects(
      zk.multi([
        { type: "create", path: `${base}/c` },
        { type: "create", path: `${base}/c` },
      ]),
      (e) => e instanceof NodeExistsError && e.opIndex === 1 && e.path === `${base}/c`,
    );
    assert.deepEqual(await zk.getChildren(base), []);
  });

  test("multi: a bad op is refused before anything is sent", async () => {
    const base = uniquePath("multi-refused");
    await zk.create(base);
    for (const bad of [
      { type: "create", path: "relative" } as const,
      { type: "create", path: `${base}/ttl`, mode: CreateMode.PERSISTENT_WITH_TTL } as const,
    ]) {
      const error = await refusal(() => zk.multi([{ type: "create", path: `${base}/a` }, bad]));
      assert.ok(error instanceof InvalidArgumentError, String(error));
    }
    assert.deepEqual(await zk.getChildren(base), []);
  });

  test("multiRead: a missing znode is an error entry, the other reads succeed", async () => {
    const base = uniquePath("multi-read");
    await zk.create(base, "root");
    await zk.create(`${base}/x`, "x");
    const results = await zk.multiRead([
      { type: "getData", path: base },
      { type: "getData", path: `${base}/missing` },
      { type: "getChildren", path: base },
      { type: "getChildren", path: `${base}/missing` },
      { type: "getData", path: `${base}/x` },
    ]);
    const [root, missing, children, missingChildren, x] = results;
    assert.equal(root?.type, "getData");
    assert.equal(root.data.toString(), "root");
    assert.deepEqual(root.stat, await zk.exists(base));
    assert.deepEqual(missing, { type: "error", err: -101 });
    assert.deepEqual(children, { type: "getChildren", children: ["x"] });
    assert.deepEqual(missingChildren, { type: "error", err: -101 });
    assert.equal(x?.type === "getData" && x.data.toString(), "x");
  });

  test("chroot: paths, results, ephemerals, sync and events are relative", async () => {
    const base = uniquePath("chroot");
    await zk.create(base);
    const rooted = await clients.open({ chroot: base });
    assert.equal(await rooted.create("/a", "A"), "/a");
    assert.equal((await zk.getData(`${base}/a`)).data.toString(), "A");
    const { path } = await rooted.createWithStat("/seq-", null, {
      mode: CreateMode.EPHEMERAL_SEQUENTIAL,
    });
    assert.equal(path, "/seq-0000000001");
    assert.deepEqual(await rooted.getEphemerals(), ["/seq-0000000001"]);
    assert.deepEqual(await rooted.getEphemerals("/seq"), ["/seq-0000000001"]);
    assert.deepEqual(await zk.getChildren(base).then((c) => c.sort()), ["a", "seq-0000000001"]);
    assert.equal(await rooted.sync("/a"), "/a");
    assert.equal(await rooted.sync("/"), "/");
    assert.deepEqual((await rooted.getChildren("/")).sort(), ["a", "seq-0000000001"]);
    assert.deepEqual(await rooted.exists("/"), await zk.exists(base));

    const results = await rooted.multi([
      { type: "create", path: "/m" },
      { type: "create", path: "/m/", mode: CreateMode.PERSISTENT_SEQUENTIAL },
    ]);
    assert.deepEqual(
      results.map((r) => r.type === "create" && r.path),
      ["/m", "/m/0000000000"],
    );
    await assert.rejects(rooted.getData("/missing"), (e) => {
      assert.ok(e instanceof NoNodeError);
      assert.equal(e.path, "/missing", "errors name the caller's path");
      return true;
    });
    await assert.rejects(
      rooted.multi([{ type: "delete", path: "/nope" }]),
      (e) => e instanceof NoNodeError && e.path === "/nope",
    );
  });

  test("chroot: watch events carry chroot-relative paths", async () => {
    const base = uniquePath("chroot-watch");
    await zk.create(base);
    const rooted = await clients.open({ chroot: base });
    const created = await rooted.exists("/w", { watch: true });
    const children = await rooted.getChildren("/", { watch: true });
    await zk.create(`${base}/w`);
    const event = await created.watch;
    assert.deepEqual([event.type, event.state, event.path], ["NodeCreated", "SyncConnected", "/w"]);
    assert.equal((await children.watch).type, "NodeChildrenChanged");
    assert.equal((await children.watch).path, "/");

    const subtree = await rooted.addWatch("/", { recursive: true });
    await zk.setData(`${base}/w`, "x");
    for await (const event of subtree) {
      assert.deepEqual([event.type, event.path], ["NodeDataChanged", "/w"]);
      break;
    }
  });
});
