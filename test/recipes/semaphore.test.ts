/**
 * Semaphore with leases against the server fixture.ts picks: never more than maxLeases holders
 * under contention from separate sessions; a timeout returns null and leaves no lease behind;
 * multi-lease acquires are all or nothing.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { ZooKeeper } from "../../src/index.js";
import { Semaphore } from "../../src/recipes/index.js";
import { Clients, SERVER_NAME, serverSkip, uniquePath } from "../interop/fixture.js";

describe(`Semaphore against ${SERVER_NAME}`, { skip: serverSkip() }, () => {
  const clients = new Clients();
  let observer: ZooKeeper;
  before(async () => {
    await clients.start();
    observer = await clients.open();
  });
  after(() => clients.stop());

  test("contention: 6 sessions, maxLeases 2, never more than 2 holders", async () => {
    const path = uniquePath("semaphore");
    let holders = 0;
    let most = 0;
    let taken = 0;
    const worker = async () => {
      const semaphore = new Semaphore(await clients.open(), path, 2);
      for (let i = 0; i < 4; i++) {
        const leases = await semaphore.acquire();
        assert.ok(leases !== null);
        holders += 1;
        taken += 1;
        most = Math.max(most, holders);
        // Hold across a round trip, so that holds of different workers can meet.
        const nodes = await semaphore.participantNodes();
        assert.ok(nodes.length <= 2, `${nodes.length} lease nodes`);
        holders -= 1;
        for (const lease of leases) await lease.close();
      }
    };
    await Promise.all([1, 2, 3, 4, 5, 6].map(worker));
    assert.equal(taken, 24);
    assert.ok(most <= 2, `${most} holders at once`);
    assert.deepEqual(await observer.getChildren(`${path}/leases`), []);
  });

  test("a timeout returns null and leaves no lease node", async () => {
    const path = uniquePath("semaphore-timeout");
    const semaphore = new Semaphore(observer, path, 2);
    const held = await semaphore.acquire({ count: 2 });
    assert.equal(held?.length, 2);
    const other = new Semaphore(await clients.open(), path, 2);
    assert.equal(await other.acquire({ timeoutMs: 300 }), null);
    assert.equal((await semaphore.participantNodes()).length, 2);
    await held![0]!.close();
    // count 2 with one lease free: all or nothing.
    assert.equal(await other.acquire({ count: 2, timeoutMs: 300 }), null);
    assert.equal((await semaphore.participantNodes()).length, 1);
    const one = await other.acquire({ timeoutMs: 5000 });
    assert.equal(one?.length, 1);
    await held![1]!.close();
    await one![0]!.close();
    await one![0]!.close(); // idempotent
    assert.deepEqual(await semaphore.participantNodes(), []);
  });

  test("an abort rejects with the signal's reason and leaves no lease node", async () => {
    const path = uniquePath("semaphore-abort");
    const semaphore = new Semaphore(observer, path, 1);
    const [lease] = (await semaphore.acquire())!;
    const other = new Semaphore(await clients.open(), path, 1);
    const controller = new AbortController();
    const acquiring = other.acquire({ signal: controller.signal });
    // The waiter's lease node shows up while it holds the internal mutex.
    const { watch } = await observer.getChildren(`${path}/leases`, { watch: true });
    if ((await semaphore.participantNodes()).length < 2) await watch;
    const reason = new Error("stop");
    controller.abort(reason);
    await assert.rejects(acquiring, (error) => error === reason);
    assert.equal((await semaphore.participantNodes()).length, 1);
    assert.deepEqual(await observer.getChildren(`${path}/locks`), []);
    await lease!.close();
  });
});
