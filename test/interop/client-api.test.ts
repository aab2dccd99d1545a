/**
 * Our client against Apache ZooKeeper 3.8 (the oracle): create in every mode, reads and writes
 * with versions, children. Each assertion states what the real server answers.
 *
 * `npm test` runs this suite against zkts's server too (ZKTS_TEST_SERVER=zkts, fixture.ts).
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  BadVersionError,
  CreateMode,
  InvalidArgumentError,
  NoChildrenForEphemeralsError,
  NodeExistsError,
  NoNodeError,
  NotEmptyError,
  type Stat,
  type ZooKeeper,
} from "../../src/index.js";
import { Clients, refusal, SERVER_NAME, serverSkip, uniquePath } from "./fixture.js";

/** ZooKeeper's sequential suffix: the parent's cversion, as %010d. */
const sequence = (cversion: number) => String(cversion).padStart(10, "0");

function assertFreshStat(stat: Stat, dataLength: number, ephemeralOwner = 0n): void {
  assert.equal(stat.version, 0);
  assert.equal(stat.cversion, 0);
  assert.equal(stat.aversion, 0);
  assert.equal(stat.czxid, stat.mzxid);
  assert.equal(stat.czxid, stat.pzxid);
  assert.equal(stat.ctime, stat.mtime);
  assert.equal(stat.numChildren, 0);
  assert.equal(stat.dataLength, dataLength);
  assert.equal(stat.ephemeralOwner, ephemeralOwner);
}

describe(`client API against ${SERVER_NAME}`, { skip: serverSkip() }, () => {
  const clients = new Clients();
  let zk: ZooKeeper;
  before(async () => {
    await clients.start();
    zk = await clients.open();
  });
  after(() => clients.stop());

  describe("create", () => {
    test("persistent: create returns the path, createWithStat a fresh Stat", async () => {
      const base = uniquePath("persistent");
      assert.equal(await zk.create(base, "root"), base);
      const { path, stat } = await zk.createWithStat(`${base}/child`, "four");
      assert.equal(path, `${base}/child`);
      assertFreshStat(stat, 4);
      assert.ok(stat.czxid > 0n);
      assert.deepEqual(await zk.exists(path), stat);
      const parent = await zk.exists(base);
      assert.equal(parent?.numChildren, 1);
      assert.equal(parent?.cversion, 1);
      assert.equal(parent?.pzxid, stat.czxid);
    });

    test("ephemeral: owned by the session, listed by getEphemerals, gone after close", async () => {
      const base = uniquePath("ephemeral");
      await zk.create(base);
      const owner = await clients.open();
      const { stat } = await owner.createWithStat(`${base}/e1`, "x", {
        mode: CreateMode.EPHEMERAL,
      });
      assertFreshStat(stat, 1, owner.sessionId);
      await owner.create(`${base}/e2`, null, { mode: CreateMode.EPHEMERAL });
      await owner.create(`${base}/other`, null, { mode: CreateMode.EPHEMERAL });
      await owner.create(`${base}/persistent`);
      // The prefix is a plain string prefix, as ZooKeeper's getEphemerals filters.
      assert.deepEqual((await owner.getEphemerals(`${base}/e`)).sort(), [
        `${base}/e1`,
        `${base}/e2`,
      ]);
      assert.deepEqual((await owner.getEphemerals(base)).sort(), [
        `${base}/e1`,
        `${base}/e2`,
        `${base}/other`,
      ]);
      assert.ok((await owner.getEphemerals()).includes(`${base}/e1`));
      assert.deepEqual(await zk.getEphemerals(base), [], "another session owns none of them");
      assert.equal((await zk.exists(`${base}/e1`))?.ephemeralOwner, owner.sessionId);
      await owner.close();
      assert.deepEqual((await zk.getChildren(base)).sort(), ["persistent"]);
    });

    test("sequential: the suffix counts the parent's child creates, as %010d", async () => {
      const base = uniquePath("sequential");
      await zk.create(base);
      const first = await zk.create(`${base}/job-`, "a", {
        mode: CreateMode.PERSISTENT_SEQUENTIAL,
      });
      assert.equal(first, `${base}/job-${sequence(0)}`);
      await zk.create(`${base}/plain`);
      await zk.delete(`${base}/plain`);
      // ZooKeeper persists cversion as the number of child creates and shows clients
      // 2 * creates - numChildren (DataNode.copyStat); the counter is the persisted one, so a
      // delete bumps the visible cversion but not the next suffix.
      const { stat: parent } = await zk.getChildrenWithStat(base);
      assert.equal(parent.cversion, 3);
      assert.equal(parent.numChildren, 1);
      const creates = (parent.cversion + parent.numChildren) / 2;
      // A sequential path may end in "/": the name is the counter alone.
      const { path, stat } = await zk.createWithStat(`${base}/`, "b", {
        mode: CreateMode.EPHEMERAL_SEQUENTIAL,
      });
      assert.equal(path, `${base}/${sequence(creates)}`);
      assert.equal(path, `${base}/0000000002`);
      assertFreshStat(stat, 1, zk.sessionId);
      assert.deepEqual((await zk.getChildren(base)).sort(), [sequence(2), `job-${sequence(0)}`]);
    });

    test("container: created with createContainer; takes children", async () => {
      const base = uniquePath("container");
      const { path, stat } = await zk.createWithStat(base, "c", { mode: CreateMode.CONTAINER });
      assert.equal(path, base);
      // ZooKeeper keeps the container mark in ephemeralOwner but shows clients 0.
      assertFreshStat(stat, 1, 0n);
      assert.equal(await zk.create(`${base}/child`), `${base}/child`);
      assert.equal((await zk.exists(base))?.numChildren, 1);
      assert.equal(
        await zk.create(`${base}/plain-create`, null, { mode: CreateMode.CONTAINER }),
        `${base}/plain-create`,
      );
    });

    test("TTL: needs ttlMs, refused before sending without it", async () => {
      const base = uniquePath("ttl");
      const { stat } = await zk.createWithStat(base, "t", {
        mode: CreateMode.PERSISTENT_WITH_TTL,
        ttlMs: 60_000,
      });
      assertFreshStat(stat, 1, 0n);
      const sequential = await zk.create(`${base}/s-`, null, {
        mode: CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL,
        ttlMs: 60_000,
      });
      assert.equal(sequential, `${base}/s-${sequence(0)}`);
      for (const options of [
        { mode: CreateMode.PERSISTENT_WITH_TTL },
        { mode: CreateMode.PERSISTENT_WITH_TTL, ttlMs: 0 },
        { mode: CreateMode.PERSISTENT_WITH_TTL, ttlMs: 1.5 },
        { mode: CreateMode.PERSISTENT, ttlMs: 1000 },
      ]) {
        const error = await refusal(() => zk.create(`${base}/refused`, null, options));
        assert.ok(error instanceof InvalidArgumentError, `${JSON.stringify(options)}: ${error}`);
        const withStat = await refusal(() => zk.createWithStat(`${base}/refused`, null, options));
        assert.ok(withStat instanceof InvalidArgumentError);
      }
      assert.equal(await zk.exists(`${base}/refused`), null);
    });

    test("NodeExistsError, NoNodeError for a missing parent, NoChildrenForEphemeralsError", async () => {
      const base = uniquePath("create-errors");
      await zk.create(base);
      await assert.rejects(zk.create(base), (e) => {
        assert.ok(e instanceof NodeExistsError);
        assert.equal(e.code, -110);
        assert.equal(e.path, base);
        return true;
      });
      await assert.rejects(zk.createWithStat(`${base}/missing/child`), (e) => {
        assert.ok(e instanceof NoNodeError);
        assert.equal(e.path, `${base}/missing/child`);
        return true;
      });
      await zk.create(`${base}/eph`, null, { mode: CreateMode.EPHEMERAL });
      await assert.rejects(zk.create(`${base}/eph/child`), NoChildrenForEphemeralsError);
      await assert.rejects(
        zk.create(`${base}/eph/`, null, { mode: CreateMode.PERSISTENT_SEQUENTIAL }),
        NoChildrenForEphemeralsError,
      );
    });
  });

  describe("read, write, delete", () => {
    test("setData and delete check the version", async () => {
      const base = uniquePath("versions");
      const { stat: created } = await zk.createWithStat(base, "v0");
      const stat = await zk.setData(base, "v1", { version: 0 });
      assert.equal(stat.version, 1);
      assert.equal(stat.czxid, created.czxid);
      assert.ok(stat.mzxid > created.mzxid);
      assert.equal(stat.dataLength, 2);
      await assert.rejects(zk.setData(base, "stale", { version: 0 }), (e) => {
        assert.ok(e instanceof BadVersionError);
        assert.equal(e.path, base);
        return true;
      });
      assert.equal((await zk.setData(base, "any")).version, 2, "no version means any (-1)");
      await assert.rejects(zk.delete(base, { version: 1 }), BadVersionError);
      await zk.delete(base, { version: 2 });
      assert.equal(await zk.exists(base), null);
      await assert.rejects(zk.delete(base), NoNodeError);
      await assert.rejects(zk.setData(base, "x"), NoNodeError);
    });

    test("delete of a znode with children: NotEmptyError", async () => {
      const base = uniquePath("not-empty");
      await zk.create(base);
      await zk.create(`${base}/child`);
      await assert.rejects(zk.delete(base), (e) => {
        assert.ok(e instanceof NotEmptyError);
        assert.equal(e.code, -111);
        assert.equal(e.path, base);
        return true;
      });
      await zk.delete(`${base}/child`);
      await zk.delete(base);
    });

    test("exists is null for a missing znode; getData of a missing one rejects", async () => {
      const base = uniquePath("exists");
      assert.equal(await zk.exists(base), null);
      await assert.rejects(zk.getData(base), NoNodeError);
      await assert.rejects(zk.getChildren(base), NoNodeError);
      await zk.create(base);
      assert.equal((await zk.exists(base))?.version, 0);
    });

    test("getData returns what was written, as a string or as bytes", async () => {
      const base = uniquePath("data");
      await zk.create(base, "héllo wörld ✓");
      const text = await zk.getData(base);
      assert.ok(Buffer.isBuffer(text.data));
      assert.equal(text.data.toString("utf8"), "héllo wörld ✓");
      assert.equal(text.stat.dataLength, Buffer.byteLength("héllo wörld ✓"));

      const bytes = Uint8Array.from([0, 255, 128, 10, 0, 1]);
      await zk.create(`${base}/bytes`, bytes);
      assert.deepEqual([...(await zk.getData(`${base}/bytes`)).data], [...bytes]);
      // A view into a larger buffer sends only its own bytes.
      const backing = Buffer.from("xxabcxx");
      const view = new Uint8Array(backing.buffer, backing.byteOffset + 2, 3);
      await zk.setData(`${base}/bytes`, view);
      assert.equal((await zk.getData(`${base}/bytes`)).data.toString(), "abc");

      await zk.create(`${base}/empty`);
      const empty = await zk.getData(`${base}/empty`);
      assert.equal(empty.data.length, 0);
      assert.equal(empty.stat.dataLength, 0);

      const large = Buffer.alloc(512 * 1024, 7);
      await zk.setData(base, large);
      assert.ok((await zk.getData(base)).data.equals(large));
    });

    test("getChildren, getChildrenWithStat (numChildren, cversion), getAllChildrenNumber", async () => {
      const base = uniquePath("children");
      await zk.create(base);
      assert.deepEqual(await zk.getChildren(base), []);
      for (const name of ["a", "b", "c"]) await zk.create(`${base}/${name}`);
      await zk.create(`${base}/a/x`);
      await zk.create(`${base}/a/x/y`);
      await zk.delete(`${base}/c`);
      assert.deepEqual((await zk.getChildren(base)).sort(), ["a", "b"]);
      const { children, stat } = await zk.getChildrenWithStat(base);
      assert.deepEqual(children.sort(), ["a", "b"]);
      assert.equal(stat.numChildren, 2);
      assert.equal(stat.cversion, 4, "three creates and one delete");
      assert.deepEqual(stat, await zk.exists(base));
      assert.equal(await zk.getAllChildrenNumber(base), 4);
      assert.equal(await zk.getAllChildrenNumber(`${base}/a/x/y`), 0);
      await assert.rejects(zk.getAllChildrenNumber(`${base}/missing`), NoNodeError);
    });
  });
});
