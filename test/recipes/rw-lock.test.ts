/**
 * ReadWriteLock: the reader's decision without a server, then against the server fixture.ts
 * picks: readers share, a writer excludes readers and writers, and a reader that queues behind
 * a writer waits for it (no writer starvation).
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { ZooKeeper } from "../../src/index.js";
import { decideRead, LockNodeGoneError, ReadWriteLock } from "../../src/recipes/index.js";
import { Clients, SERVER_NAME, serverSkip, uniquePath } from "../interop/fixture.js";
import { childrenCount } from "./contention.js";

describe("decideRead (no server)", () => {
  const sorted = ["a-__READ__0000000001", "b-__WRIT__0000000002", "c-__READ__0000000003"];

  test("a reader with no writer ahead holds, even behind other readers", () => {
    assert.deepEqual(decideRead(sorted, "a-__READ__0000000001"), { acquired: true });
    assert.deepEqual(
      decideRead(["r-__READ__0000000001", "s-__READ__0000000002"], "s-__READ__0000000002"),
      {
        acquired: true,
      },
    );
  });

  test("a reader behind a writer watches the nearest writer ahead", () => {
    assert.deepEqual(decideRead(sorted, "c-__READ__0000000003"), {
      acquired: false,
      watch: "b-__WRIT__0000000002",
    });
    assert.throws(() => decideRead(sorted, "z-__READ__0000000009"), LockNodeGoneError);
  });
});

describe(`ReadWriteLock against ${SERVER_NAME}`, { skip: serverSkip() }, () => {
  const clients = new Clients();
  let observer: ZooKeeper;
  before(async () => {
    await clients.start();
    observer = await clients.open();
  });
  after(() => clients.stop());

  const lockOn = async (path: string) => new ReadWriteLock(await clients.open(), path);

  test("readers hold together; a writer waits for them and then excludes readers", async () => {
    const path = uniquePath("rw");
    const [r1, r2, w, r3] = await Promise.all([path, path, path, path].map(lockOn));
    assert.equal(await r1!.readLock().acquire(), true);
    assert.equal(await r2!.readLock().acquire({ timeoutMs: 5000 }), true);
    assert.equal(await w!.writeLock().acquire({ timeoutMs: 300 }), false);
    const writing = w!.writeLock().acquire();
    await childrenCount(observer, path, 3);
    // A reader arriving after a queued writer waits for it.
    assert.equal(await r3!.readLock().acquire({ timeoutMs: 300 }), false);
    await r1!.readLock().release();
    await r2!.readLock().release();
    assert.equal(await writing, true);
    assert.equal(await r3!.readLock().acquire({ timeoutMs: 300 }), false);
    const reading = r3!.readLock().acquire();
    await childrenCount(observer, path, 2);
    await w!.writeLock().release();
    assert.equal(await reading, true);
    await r3!.readLock().release();
    assert.deepEqual(await observer.getChildren(path), []);
  });

  test("writers exclude each other", async () => {
    const path = uniquePath("rw-writers");
    const [a, b] = await Promise.all([path, path].map(lockOn));
    assert.equal(await a!.writeLock().acquire(), true);
    assert.equal(await b!.writeLock().acquire({ timeoutMs: 300 }), false);
    await a!.writeLock().release();
    assert.equal(await b!.writeLock().acquire({ timeoutMs: 5000 }), true);
    await b!.writeLock().release();
  });
});
