/**
 * Barrier and DoubleBarrier against the server fixture.ts picks: a barrier holds its waiters
 * until removed and releases them all; with a double barrier of 3 sessions, nobody passes
 * enter() before all have entered and nobody finishes leave() before all have left. No sleeps:
 * "still waiting" is checked after the waiter's own session has answered a later request, and
 * progress is awaited on watches.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { ZooKeeper } from "../../src/index.js";
import { Barrier, DoubleBarrier, READY_NODE } from "../../src/recipes/index.js";
import { within } from "../harness/client-helpers.js";
import { afterWrites, Clients, SERVER_NAME, serverSkip, uniquePath } from "../interop/fixture.js";

/** Tracks whether `promise` has settled, without letting a rejection go unhandled. */
function track<T>(promise: Promise<T>): { settled: boolean; promise: Promise<T> } {
  const tracked = { settled: false, promise };
  promise.then(
    () => {
      tracked.settled = true;
    },
    () => {
      tracked.settled = true;
    },
  );
  return tracked;
}

/**
 * `zk` as the recipe sees it, plus `reached(method, ok)`: resolves once a call of `method`
 * resolves with a result `ok` accepts, and the caller's continuation has run and sent whatever
 * it sends next. That is where a member decides to wait (or, if broken, goes on).
 */
function spied(zk: ZooKeeper): {
  zk: ZooKeeper;
  reached: (method: string, ok: (result: unknown) => boolean) => Promise<void>;
} {
  const waiters: { method: string; ok: (result: unknown) => boolean; resolve: () => void }[] = [];
  const proxy = new Proxy(zk, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== "function") return value;
      return async (...args: unknown[]) => {
        const result: unknown = await value.apply(target, args);
        for (const waiter of waiters.splice(0)) {
          if (waiter.method === property && waiter.ok(result)) waiter.resolve();
          else waiters.push(waiter);
        }
        return result;
      };
    },
  });
  const reached = async (method: string, ok: (result: unknown) => boolean) => {
    await within(
      new Promise<void>((resolve) => waiters.push({ method, ok, resolve })),
      20_000,
      `${method} reached`,
    );
    await afterWrites();
    // The member's session answers a later request: whatever it sent next has been done.
    await zk.exists("/");
  };
  return { zk: proxy, reached };
}

describe(`Barrier and DoubleBarrier against ${SERVER_NAME}`, { skip: serverSkip() }, () => {
  const clients = new Clients();
  let observer: ZooKeeper;
  before(async () => {
    await clients.start();
    observer = await clients.open();
  });
  after(() => clients.stop());

  test("a barrier holds every waiter until it is removed, then releases them all", async () => {
    const path = `${uniquePath("barrier")}/b`;
    const coordinator = new Barrier(observer, path);
    await coordinator.setBarrier();
    await coordinator.setBarrier(); // twice is fine
    const sessions = await Promise.all([clients.open(), clients.open(), clients.open()]);
    const waits = sessions.map((zk) => track(new Barrier(zk, path).waitOnBarrier()));
    // Each waiter's session answers a later request: its exists (and watch) came first.
    await Promise.all(sessions.map((zk) => zk.exists(path)));
    assert.deepEqual(
      waits.map((w) => w.settled),
      [false, false, false],
    );
    await coordinator.removeBarrier();
    assert.deepEqual(await Promise.all(waits.map((w) => w.promise)), [true, true, true]);
    await coordinator.removeBarrier(); // removing it again is fine
  });

  test("no barrier: true at once; timeout: false; abort: rejects with the reason", async () => {
    const path = `${uniquePath("barrier-timeout")}/b`;
    const barrier = new Barrier(observer, path);
    assert.equal(await barrier.waitOnBarrier(), true);
    await barrier.setBarrier();
    assert.equal(await barrier.waitOnBarrier({ timeoutMs: 200 }), false);
    const controller = new AbortController();
    const aborted = barrier.waitOnBarrier({ signal: controller.signal });
    controller.abort(new Error("stop"));
    await assert.rejects(aborted, /stop/);
    await barrier.removeBarrier();
  });

  test("double barrier of 3: nobody passes enter before all entered, nor leave before all left", async () => {
    const path = uniquePath("double-barrier");
    const readyPath = `${path}/${READY_NODE}`;
    const spies = await Promise.all([1, 2, 3].map(async () => spied(await clients.open())));
    const [first, second, third] = spies.map((spy) => new DoubleBarrier(spy.zk, path, 3)) as [
      DoubleBarrier,
      DoubleBarrier,
      DoubleBarrier,
    ];
    const [spy1, spy2] = spies as [(typeof spies)[0], (typeof spies)[0]];
    // A member waits once it has counted the members (getChildren) and found too few.
    const counted = (n: number) => (children: unknown) =>
      (children as string[]).filter((c) => c !== READY_NODE).length === n;
    const firstWaits = spy1.reached("getChildren", counted(1));
    const entering = [track(first.enter())];
    await firstWaits;
    const secondWaits = spy2.reached("getChildren", counted(2));
    entering.push(track(second.enter()));
    await secondWaits;
    assert.equal(await observer.exists(readyPath), null);
    assert.deepEqual(
      entering.map((e) => e.settled),
      [false, false],
    );
    const last = track(third.enter());
    assert.deepEqual(await Promise.all([...entering, last].map((e) => e.promise)), [
      true,
      true,
      true,
    ]);
    assert.ok((await observer.getChildren(path)).includes(READY_NODE));

    // Two leave: each waits once its exists finds the member it waits for still there.
    const there = (stat: unknown) => stat !== null;
    const leftWaiting = [spy1.reached("exists", there), spy2.reached("exists", there)];
    const leaving = [track(first.leave()), track(second.leave())];
    await Promise.all(leftWaiting);
    assert.deepEqual(
      leaving.map((l) => l.settled),
      [false, false],
    );
    const lastOut = track(third.leave());
    assert.deepEqual(await Promise.all([...leaving, lastOut].map((l) => l.promise)), [
      true,
      true,
      true,
    ]);
    assert.deepEqual(await observer.getChildren(path), []);
  });

  test("double barrier of 3, all concurrent, twice: enters and leaves never cross", async () => {
    const path = uniquePath("double-barrier-rounds");
    const sessions = await Promise.all([clients.open(), clients.open(), clients.open()]);
    for (let round = 0; round < 2; round++) {
      const log: string[] = [];
      const member = async (zk: ZooKeeper, id: number) => {
        const barrier = new DoubleBarrier(zk, path, 3);
        log.push(`enter-start ${id}`);
        assert.equal(await barrier.enter({ timeoutMs: 20_000 }), true);
        log.push(`enter-done ${id}`);
        log.push(`leave-start ${id}`);
        assert.equal(await barrier.leave({ timeoutMs: 20_000 }), true);
        log.push(`leave-done ${id}`);
      };
      await Promise.all(sessions.map((zk, id) => member(zk, id)));
      const last = (kind: string) => Math.max(...indexes(log, kind));
      const first = (kind: string) => Math.min(...indexes(log, kind));
      assert.ok(last("enter-start") < first("enter-done"), log.join(", "));
      assert.ok(last("leave-start") < first("leave-done"), log.join(", "));
      assert.deepEqual(await observer.getChildren(path), []);
    }
  });

  test("double barrier: enter times out with false and leaves no member node", async () => {
    const path = uniquePath("double-barrier-timeout");
    const barrier = new DoubleBarrier(observer, path, 2);
    assert.equal(await barrier.enter({ timeoutMs: 200 }), false);
    assert.deepEqual(await observer.getChildren(path), []);
    assert.throws(() => new DoubleBarrier(observer, path, 0), RangeError);
  });
});

function indexes(log: readonly string[], kind: string): number[] {
  return log.flatMap((entry, index) => (entry.startsWith(`${kind} `) ? [index] : []));
}
