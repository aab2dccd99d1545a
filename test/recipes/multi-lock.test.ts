/**
 * MultiLock against the server fixture.ts picks (Apache ZooKeeper, or zkts): overlapping sets in
 * separate sessions never share a lock at once, and a lock that times out or aborts releases
 * the ones already taken.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { ZooKeeper } from "../../src/index.js";
import { LockNotHeldError, MultiLock, Mutex } from "../../src/recipes/index.js";
import { Clients, SERVER_NAME, serverSkip, uniquePath } from "../interop/fixture.js";
import { childrenCount } from "./contention.js";

describe(`MultiLock against ${SERVER_NAME}`, { skip: serverSkip() }, () => {
  const clients = new Clients();
  let observer: ZooKeeper;
  before(async () => {
    await clients.start();
    observer = await clients.open();
  });
  after(() => clients.stop());

  test("overlapping sets in separate sessions never hold a common lock at once", async () => {
    const base = uniquePath("multi-overlap");
    const [a, b, c] = [`${base}/a`, `${base}/b`, `${base}/c`];
    const holders = new Map<string, string>();
    const iterations = 5;
    const worker = async (id: string, paths: string[]): Promise<number> => {
      const multi = new MultiLock(await clients.open(), paths);
      let held = 0;
      for (let i = 0; i < iterations; i++) {
        assert.equal(await multi.acquire({ timeoutMs: 10_000 }), true);
        assert.equal(multi.isHeld, true);
        for (const path of paths) {
          assert.equal(holders.get(path), undefined, `${id} and ${holders.get(path)} on ${path}`);
          holders.set(path, id);
        }
        // Hold across a round trip so the other worker's requests interleave.
        await observer.getChildren(base);
        for (const path of paths) holders.delete(path);
        await multi.release();
        assert.equal(multi.isHeld, false);
        held += 1;
      }
      return held;
    };
    const counts = await Promise.all([
      worker("first", [a!, b!]),
      worker("second", [b!, c!]),
      worker("third", [a!, b!, c!]),
    ]);
    assert.deepEqual(counts, [iterations, iterations, iterations]);
    for (const path of [a!, b!, c!]) assert.deepEqual(await observer.getChildren(path), []);
  });

  test("a timeout on the second lock releases the first: no node left", async () => {
    const base = uniquePath("multi-timeout");
    const [first, second] = [`${base}/first`, `${base}/second`];
    const holder = new Mutex(observer, second);
    assert.equal(await holder.acquire(), true);
    const multi = new MultiLock(await clients.open(), [first, second]);
    assert.equal(await multi.acquire({ timeoutMs: 300 }), false);
    assert.equal(multi.isHeld, false);
    assert.equal(
      multi.locks.some((lock) => lock.isHeld),
      false,
    );
    assert.deepEqual(await observer.getChildren(first), []);
    assert.equal((await observer.getChildren(second)).length, 1);
    await holder.release();
    await assert.rejects(multi.release(), LockNotHeldError);
    assert.equal(await multi.acquire({ timeoutMs: 5_000 }), true);
    await multi.release();
    for (const path of [first, second]) assert.deepEqual(await observer.getChildren(path), []);
  });

  test("an abort while waiting rejects with its reason and releases the locks taken", async () => {
    const base = uniquePath("multi-abort");
    const [first, second] = [`${base}/first`, `${base}/second`];
    const holder = new Mutex(observer, second);
    assert.equal(await holder.acquire(), true);
    const multi = new MultiLock(await clients.open(), [new Mutex(observer, first), second]);
    const controller = new AbortController();
    const acquiring = multi.acquire({ signal: controller.signal });
    await childrenCount(observer, second, 2);
    const reason = new Error("no longer needed");
    controller.abort(reason);
    await assert.rejects(acquiring, (error) => error === reason);
    assert.deepEqual(await observer.getChildren(first), []);
    assert.equal((await observer.getChildren(second)).length, 1);
    await holder.release();
  });

  test("await using releases every lock, last taken first", async () => {
    const base = uniquePath("multi-using");
    const paths = [`${base}/x`, `${base}/y`];
    const multi = new MultiLock(observer, paths);
    {
      assert.equal(await multi.acquire(), true);
      await using _held = multi;
      for (const path of paths) assert.equal((await observer.getChildren(path)).length, 1);
    }
    assert.equal(multi.isHeld, false);
    for (const path of paths) assert.deepEqual(await observer.getChildren(path), []);
  });
});
