/**
 * DistributedAtomicLong against the server fixture.ts picks: concurrent increments from separate
 * sessions lose nothing, compareAndSet with a stale expected value fails, initialize only
 * creates; and the 8-byte encoding (Curator DistributedAtomicLong's) without a server.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { ZooKeeper } from "../../src/index.js";
import { DistributedAtomicLong, decodeLong, encodeLong } from "../../src/recipes/index.js";
import { Clients, SERVER_NAME, serverSkip, uniquePath } from "../interop/fixture.js";

describe("atomic long encoding (no server)", () => {
  test("8-byte big-endian signed long, as Curator's DistributedAtomicLong", () => {
    assert.deepEqual([...encodeLong(1n)], [0, 0, 0, 0, 0, 0, 0, 1]);
    assert.deepEqual([...encodeLong(-2n)], [255, 255, 255, 255, 255, 255, 255, 0xfe]);
    assert.deepEqual([...encodeLong(0x0102030405060708n)], [1, 2, 3, 4, 5, 6, 7, 8]);
    for (const value of [0n, 1n, -1n, 2n ** 63n - 1n, -(2n ** 63n), 2n ** 40n + 7n]) {
      assert.equal(decodeLong(encodeLong(value)), value);
    }
    assert.equal(decodeLong(Buffer.alloc(0)), 0n);
    assert.throws(() => encodeLong(2n ** 63n), RangeError);
    assert.throws(() => decodeLong(Buffer.alloc(4)), RangeError);
  });
});

describe(`DistributedAtomicLong against ${SERVER_NAME}`, { skip: serverSkip() }, () => {
  const clients = new Clients();
  let observer: ZooKeeper;
  before(async () => {
    await clients.start();
    observer = await clients.open();
  });
  after(() => clients.stop());

  test("4 sessions × 25 concurrent increments: the total is exact", async () => {
    const path = `${uniquePath("atomic-long")}/value`;
    const sessions = 4;
    const each = 25;
    const worker = async () => {
      const value = new DistributedAtomicLong(await clients.open(), path);
      const seen: bigint[] = [];
      for (let i = 0; i < each; i++) {
        const result = await value.increment();
        assert.equal(result.succeeded, true);
        assert.equal(result.postValue, result.preValue + 1n);
        seen.push(result.postValue);
      }
      return seen;
    };
    const results = (await Promise.all(Array.from({ length: sessions }, worker))).flat();
    const total = BigInt(sessions * each);
    assert.equal(await new DistributedAtomicLong(observer, path).get(), total);
    // Every increment wrote a distinct value: no two wrote over the same version.
    assert.deepEqual(
      [...results].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)),
      Array.from({ length: sessions * each }, (_, i) => BigInt(i + 1)),
    );
    const { data } = await observer.getData(path);
    assert.deepEqual([...data], [...encodeLong(total)]);
  });

  test("compareAndSet succeeds with the current value and fails with a stale one", async () => {
    const path = uniquePath("atomic-long-cas");
    const one = new DistributedAtomicLong(await clients.open(), path);
    const other = new DistributedAtomicLong(await clients.open(), path);
    assert.equal(await one.get(), 0n);
    assert.equal(await one.initialize(5n), true);
    assert.equal(await other.initialize(9n), false);
    const stale = await one.get();
    assert.equal(stale, 5n);
    assert.deepEqual(await other.compareAndSet(5n, 7n), {
      succeeded: true,
      preValue: 5n,
      postValue: 7n,
    });
    assert.deepEqual(await one.compareAndSet(stale, 9n), {
      succeeded: false,
      preValue: 7n,
      postValue: 7n,
    });
    assert.equal(await one.get(), 7n);
    assert.deepEqual(await one.add(-10n), { succeeded: true, preValue: 7n, postValue: -3n });
    assert.deepEqual(await other.decrement(), { succeeded: true, preValue: -3n, postValue: -4n });
    assert.deepEqual(await one.trySet(2n ** 62n), {
      succeeded: true,
      preValue: -4n,
      postValue: 2n ** 62n,
    });
    assert.equal(await other.get(), 2n ** 62n);
  });

  test("a missing node counts as 0: compareAndSet(0n, v) creates it, once", async () => {
    const path = `${uniquePath("atomic-long-missing")}/deep/value`;
    const one = new DistributedAtomicLong(await clients.open(), path);
    const other = new DistributedAtomicLong(await clients.open(), path);
    const [a, b] = await Promise.all([one.compareAndSet(0n, 1n), other.compareAndSet(0n, 2n)]);
    assert.equal([a, b].filter((r) => r?.succeeded).length, 1);
    const winner = a?.succeeded ? 1n : 2n;
    assert.equal(await one.get(), winner);
    assert.equal((await one.compareAndSet(5n, 6n)).succeeded, false);
  });

  test("maxAttempts must be a positive integer", async () => {
    assert.throws(() => new DistributedAtomicLong(observer, "/x", { maxAttempts: 0 }), RangeError);
  });
});
