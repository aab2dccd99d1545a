/**
 * The Mutex and its pure core. decide() and the sort are unit-tested without a server; the rest
 * runs against the server fixture.ts picks (Apache ZooKeeper, or zkts with
 * ZKTS_TEST_SERVER=zkts; `npm test` runs both): contention across sessions and processes with a
 * read-then-write counter and a fencing record, a killed holder's session, a create whose reply
 * is lost, timeout and abort.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { connect, type ZooKeeper } from "../../src/index.js";
import {
  decide,
  type LockLostEvent,
  LockNodeGoneError,
  LockNotHeldError,
  Mutex,
  PROTECTED_PREFIX,
  sortChildren,
} from "../../src/recipes/index.js";
import { stateReached } from "../harness/client-helpers.js";
import { startProxy, type TcpProxy } from "../harness/tcp-proxy.js";
import { Clients, SERVER_NAME, serverSkip, uniquePath } from "../interop/fixture.js";
import {
  assertNoOverlap,
  childrenCount,
  type Hold,
  incrementUnderLock,
  runWorkerProcess,
} from "./contention.js";

const node = (uuid: string, sequence: number) =>
  `${PROTECTED_PREFIX}${uuid}-lock-${String(sequence).padStart(10, "0")}`;

describe("lock internals: decide and sort (no server)", () => {
  const sorted = ["lock-0000000001", "lock-0000000002", "lock-0000000003", "lock-0000000004"];

  test("the first maxLeases nodes hold; the others watch maxLeases ahead", () => {
    assert.deepEqual(decide(sorted, "lock-0000000001", 1), { acquired: true });
    assert.deepEqual(decide(sorted, "lock-0000000002", 1), {
      acquired: false,
      watch: "lock-0000000001",
    });
    assert.deepEqual(decide(sorted, "lock-0000000004", 1), {
      acquired: false,
      watch: "lock-0000000003",
    });
    assert.deepEqual(decide(sorted, "lock-0000000002", 2), { acquired: true });
    assert.deepEqual(decide(sorted, "lock-0000000004", 2), {
      acquired: false,
      watch: "lock-0000000002",
    });
  });

  test("a node missing from the children is an error, not a wait", () => {
    assert.throws(() => decide(sorted, "lock-0000000009", 1), LockNodeGoneError);
  });

  test("sorts by sequence number, ignoring the protected uuid prefix", () => {
    const children = [node("ffff", 3), node("0000", 7), node("aaaa", 1), "unrelated", node("b", 2)];
    assert.deepEqual(sortChildren(children, ["lock-"]), [
      node("aaaa", 1),
      node("b", 2),
      node("ffff", 3),
      node("0000", 7),
    ]);
  });

  test("sorts readers and writers together when given both names", () => {
    const children = ["x-__WRIT__0000000005", "y-__READ__0000000002", "z-__READ__0000000009"];
    assert.deepEqual(sortChildren(children, ["__READ__", "__WRIT__"]), [
      "y-__READ__0000000002",
      "x-__WRIT__0000000005",
      "z-__READ__0000000009",
    ]);
  });
});

describe(`Mutex against ${SERVER_NAME}`, { skip: serverSkip() }, () => {
  const clients = new Clients();
  let observer: ZooKeeper;
  before(async () => {
    await clients.start();
    observer = await clients.open();
  });
  after(() => clients.stop());

  test("contention: 6 sessions, 2 in child processes, never overlap and lose no increment", async () => {
    const base = uniquePath("mutex-contention");
    const lockPath = `${base}/lock`;
    const counterPath = `${base}/counter`;
    await observer.create(base);
    await observer.create(counterPath, "0");
    const iterations = 5;
    const inProcess = async (id: string): Promise<Hold[]> => {
      const zk = await clients.open();
      const mutex = new Mutex(zk, lockPath);
      const holds: Hold[] = [];
      for (let i = 0; i < iterations; i++) {
        holds.push(await incrementUnderLock(zk, mutex, counterPath, id));
      }
      return holds;
    };
    const children = ["child-1", "child-2"].map((id) =>
      runWorkerProcess({
        connectString: clients.connectString,
        lockPath,
        counterPath,
        iterations,
        id,
      }),
    );
    const locals = ["local-1", "local-2", "local-3", "local-4"].map(inProcess);
    const holds = (await Promise.all([...children, ...locals])).flat();
    assert.equal(holds.length, 6 * iterations);
    assertNoOverlap(holds);
    const { data } = await observer.getData(counterPath);
    assert.equal(Number(data.toString()), 6 * iterations);
    assert.deepEqual(await observer.getChildren(lockPath), []);
  });

  test("reentrant for one object; release past the last hold throws", async () => {
    const mutex = new Mutex(await clients.open(), uniquePath("mutex-reentrant"));
    assert.equal(await mutex.acquire(), true);
    assert.equal(await mutex.acquire(), true);
    assert.equal((await mutex.participantNodes()).length, 1);
    await mutex.release();
    assert.equal(mutex.isHeld, true);
    await mutex.release();
    assert.equal(mutex.isHeld, false);
    assert.deepEqual(await mutex.participantNodes(), []);
    await assert.rejects(mutex.release(), LockNotHeldError);
  });

  test("a waiter watches only its predecessor and gets the lock in queue order", async () => {
    const lockPath = uniquePath("mutex-queue");
    const mutexes = await Promise.all(
      [0, 1, 2].map(async () => new Mutex(await clients.open(), lockPath)),
    );
    const [first, second, third] = mutexes as [Mutex, Mutex, Mutex];
    assert.equal(await first.acquire(), true);
    const order: string[] = [];
    const secondDone = second.acquire().then(() => order.push("second"));
    await childrenCount(observer, lockPath, 2);
    const thirdDone = third.acquire().then(() => order.push("third"));
    await childrenCount(observer, lockPath, 3);
    const [holder, secondNode, thirdNode] = await first.participantNodes();
    // Each waiter's watch is on the node just ahead of it, never on the holder twice. The third
    // sets its watch a round trip after its node appears: wait for both watches (bounded).
    let watched = await clients.watchedPaths();
    for (let i = 0; i < 200 && !(watched.includes(holder!) && watched.includes(secondNode!)); i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      watched = await clients.watchedPaths();
    }
    assert.ok(watched.includes(holder!), `holder watched: ${watched.join(",")}`);
    assert.ok(watched.includes(secondNode!), `second watched: ${watched.join(",")}`);
    assert.ok(!watched.includes(thirdNode!));
    await first.release();
    await secondDone;
    await second.release();
    await thirdDone;
    assert.deepEqual(order, ["second", "third"]);
    await third.release();
  });

  test("a killed holder's session: the waiter takes over and the holder hears it lost", async () => {
    const lockPath = uniquePath("mutex-kill");
    // The holder talks through a proxy, so the test can keep it away while its session is
    // killed; otherwise it may reconnect and win its session back from the killer first.
    const proxy = await startProxy(Number(clients.connectString.split(":")[1]));
    try {
      const holderZk = await connect(proxy.address, { sessionTimeoutMs: 10_000 });
      const holder = new Mutex(holderZk, lockPath);
      const waiter = new Mutex(await clients.open(), lockPath);
      assert.equal(await holder.acquire(), true);
      const lost = new Promise<LockLostEvent>((resolve) => holder.onLost(resolve));
      const waited = waiter.acquire({ timeoutMs: 10_000 });
      await childrenCount(observer, lockPath, 2);
      const away = stateReached(holderZk, "disconnected");
      proxy.refuse(true);
      proxy.cut();
      await away;
      const started = performance.now();
      // Curator's KillSession: take the holder's session over from another client and close it.
      const thief = await connect(clients.connectString, {
        sessionId: holderZk.sessionId,
        sessionPassword: holderZk.sessionPassword,
      });
      await thief.close();
      assert.equal(await waited, true);
      assert.ok(performance.now() - started < 10_000);
      proxy.refuse(false);
      const event = await lost;
      assert.equal(event.reason, "expired");
      assert.equal(holder.isHeld, false);
      assert.equal(waiter.isHeld, true);
      await waiter.release();
      await holderZk.close();
    } finally {
      await proxy.close();
    }
  });

  test("closing the client while holding: lost event, isHeld false at once", async () => {
    const zk = await clients.open();
    const mutex = new Mutex(zk, uniquePath("mutex-close"));
    assert.equal(await mutex.acquire(), true);
    const events: LockLostEvent[] = [];
    mutex.onLost((event) => events.push(event));
    await zk.close();
    assert.equal(mutex.isHeld, false);
    assert.deepEqual(
      events.map((e) => e.reason),
      ["closed"],
    );
  });

  for (const when of ["before", "after"] as const) {
    test(`connection lost ${when} the create reaches the server: no orphan node`, async () => {
      const lockPath = uniquePath(`mutex-loss-${when}`);
      const holder = new Mutex(observer, lockPath);
      assert.equal(await holder.acquire(), true);
      const proxy = await startProxy(Number(clients.connectString.split(":").at(-1)));
      try {
        const zk = await connect(proxy.address, { sessionTimeoutMs: 20_000 });
        const mutex = new Mutex(zk, lockPath);
        const reconnected = stateReached(zk, "disconnected").then(() =>
          stateReached(zk, "connected"),
        );
        const base = proxy.requestBytes;
        if (when === "before") proxy.holdRequests();
        const acquired = mutex.acquire();
        if (when === "after") {
          // The create is forwarded: freeze before the server's reply can come back.
          await untilRequestForwarded(proxy, base);
          proxy.freeze();
          await childrenCount(observer, lockPath, 2);
        }
        proxy.cut();
        await reconnected;
        await childrenCount(observer, lockPath, 2);
        await holder.release();
        assert.equal(await acquired, true);
        assert.equal((await observer.getChildren(lockPath)).length, 1);
        await mutex.release();
        assert.deepEqual(await observer.getChildren(lockPath), []);
        await zk.close();
      } finally {
        await proxy.close();
      }
    });
  }

  test("a timeout resolves false and leaves no node", async () => {
    const lockPath = uniquePath("mutex-timeout");
    const holder = new Mutex(observer, lockPath);
    assert.equal(await holder.acquire(), true);
    const waiter = new Mutex(await clients.open(), lockPath);
    assert.equal(await waiter.acquire({ timeoutMs: 300 }), false);
    assert.equal(waiter.isHeld, false);
    assert.equal((await observer.getChildren(lockPath)).length, 1);
    await holder.release();
    assert.deepEqual(await observer.getChildren(lockPath), []);
  });

  test("an abort rejects with the signal's reason and leaves no node", async () => {
    const lockPath = uniquePath("mutex-abort");
    const holder = new Mutex(observer, lockPath);
    assert.equal(await holder.acquire(), true);
    const waiter = new Mutex(await clients.open(), lockPath);
    const controller = new AbortController();
    const acquiring = waiter.acquire({ signal: controller.signal });
    await childrenCount(observer, lockPath, 2);
    const reason = new Error("no longer needed");
    controller.abort(reason);
    await assert.rejects(acquiring, (error) => error === reason);
    assert.equal((await observer.getChildren(lockPath)).length, 1);
    await holder.release();
  });

  test("await using releases at the end of the block", async () => {
    const lockPath = uniquePath("mutex-using");
    const mutex = new Mutex(observer, lockPath);
    {
      assert.equal(await mutex.acquire(), true);
      await using _held = mutex;
      assert.equal((await observer.getChildren(lockPath)).length, 1);
    }
    assert.equal(mutex.isHeld, false);
    assert.deepEqual(await observer.getChildren(lockPath), []);
  });
});

/** Waits until a request (not a ping, xid -2) is forwarded after `base` bytes. */
async function untilRequestForwarded(proxy: TcpProxy, base: number): Promise<void> {
  const seen = proxy.requestXids.length;
  for (let bytes = base + 1; bytes < base + 10_000; bytes = proxy.requestBytes + 1) {
    await proxy.untilRequestBytes(bytes);
    if (proxy.requestXids.slice(seen).some((xid) => xid > 0)) return;
  }
  throw new Error("no request forwarded");
}
