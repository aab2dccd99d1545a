/**
 * SharedCounter against the server fixture.ts picks: concurrent increments from separate
 * sessions lose nothing, trySet with a stale version fails, onChange follows the value; and the
 * 4-byte encoding (Curator SharedCount's) without a server.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { ZooKeeper } from "../../src/index.js";
import { decodeCount, encodeCount, SharedCounter } from "../../src/recipes/index.js";
import { Clients, SERVER_NAME, serverSkip, uniquePath } from "../interop/fixture.js";

describe("shared count encoding (no server)", () => {
  test("4-byte big-endian signed int, as Curator's SharedCount", () => {
    assert.deepEqual([...encodeCount(1)], [0, 0, 0, 1]);
    assert.deepEqual([...encodeCount(-2)], [0xff, 0xff, 0xff, 0xfe]);
    assert.deepEqual([...encodeCount(0x01020304)], [1, 2, 3, 4]);
    for (const value of [0, 1, -1, 2 ** 31 - 1, -(2 ** 31), 123456]) {
      assert.equal(decodeCount(encodeCount(value)), value);
    }
    assert.equal(decodeCount(Buffer.alloc(0)), 0);
    assert.throws(() => encodeCount(2 ** 31), RangeError);
    assert.throws(() => encodeCount(1.5), RangeError);
    assert.throws(() => decodeCount(Buffer.from("12")), RangeError);
  });
});

describe(`SharedCounter against ${SERVER_NAME}`, { skip: serverSkip() }, () => {
  const clients = new Clients();
  let observer: ZooKeeper;
  before(async () => {
    await clients.start();
    observer = await clients.open();
  });
  after(() => clients.stop());

  test("4 sessions increment concurrently: the total is exact", async () => {
    const path = `${uniquePath("counter")}/count`;
    const sessions = 4;
    const each = 25;
    const worker = async () => {
      const counter = new SharedCounter(await clients.open(), path, 10);
      const seen: number[] = [];
      for (let i = 0; i < each; i++) seen.push(await counter.increment());
      return seen;
    };
    const results = (await Promise.all(Array.from({ length: sessions }, worker))).flat();
    const total = 10 + sessions * each;
    assert.equal(await new SharedCounter(observer, path).get(), total);
    // Every increment returned a distinct value: no two wrote over the same version.
    assert.deepEqual(
      [...results].sort((a, b) => a - b),
      Array.from({ length: sessions * each }, (_, i) => 11 + i),
    );
    const { data } = await observer.getData(path);
    assert.deepEqual([...data], [...encodeCount(total)]);
  });

  test("trySet succeeds at the read version and fails with a stale one", async () => {
    const path = uniquePath("counter-tryset");
    const counter = new SharedCounter(await clients.open(), path, 5);
    const other = new SharedCounter(await clients.open(), path, 5);
    const read = await counter.getVersioned();
    assert.deepEqual(read, { value: 5, version: 0 });
    assert.equal(await other.trySet(7, read.version), true);
    assert.equal(await counter.trySet(9, read.version), false);
    assert.equal(await counter.get(), 7);
    assert.equal(await counter.increment(-3), 4);
    assert.deepEqual(await other.getVersioned(), { value: 4, version: 2 });
  });

  test("onChange fires with each value written by another session", async () => {
    const path = uniquePath("counter-watch");
    const watched = new SharedCounter(await clients.open(), path, 0);
    const writer = new SharedCounter(await clients.open(), path, 0);
    await watched.get();
    const values: number[] = [];
    let wake: (() => void) | undefined;
    watched.onChange(({ value }) => {
      values.push(value);
      wake?.();
    });
    const nextValue = (v: number) =>
      new Promise<void>((resolve) => {
        wake = () => {
          if (values.at(-1) === v) resolve();
        };
        wake();
      });
    await nextValue(0);
    for (const v of [3, 8, -1]) {
      const change = nextValue(v);
      await writer.increment(v - (await writer.get()));
      await change;
    }
    assert.deepEqual(values, [0, 3, 8, -1]);
    watched.close();
  });
});
