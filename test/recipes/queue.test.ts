/**
 * DistributedQueue and DistributedPriorityQueue. The priority encoding is unit-tested without a
 * server; the rest runs against the server fixture.ts picks: FIFO across 3 producer and 3
 * consumer sessions (every item consumed exactly once, each producer's order kept), take()
 * blocking until an offer, timeouts and aborts, priority order, and the delay queue's due times.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { ZooKeeper } from "../../src/index.js";
import {
  DistributedDelayQueue,
  DistributedPriorityQueue,
  DistributedQueue,
  priorityKey,
} from "../../src/recipes/index.js";
import { Clients, SERVER_NAME, serverSkip, uniquePath } from "../interop/fixture.js";

describe("priority queue: priorityKey (no server)", () => {
  test("lexical order of the keys is the numeric order of the priorities", () => {
    const priorities = [2 ** 31 - 1, 5, 1, 0, -1, -2, -(2 ** 31), 256, -256];
    const byKey = [...priorities].sort((a, b) => {
      const ka = priorityKey(a);
      const kb = priorityKey(b);
      return ka < kb ? -1 : ka > kb ? 1 : 0;
    });
    assert.deepEqual(
      byKey,
      [...priorities].sort((a, b) => a - b),
    );
    assert.equal(priorityKey(0), "100000000");
    assert.equal(priorityKey(-1), "0FFFFFFFF");
  });

  test("refuses what is not a 32-bit integer", () => {
    for (const bad of [1.5, 2 ** 31, -(2 ** 31) - 1, Number.NaN]) {
      assert.throws(() => priorityKey(bad), RangeError);
    }
  });
});

describe(`DistributedQueue against ${SERVER_NAME}`, { skip: serverSkip() }, () => {
  const clients = new Clients();
  let observer: ZooKeeper;
  before(async () => {
    await clients.start();
    observer = await clients.open();
  });
  after(() => clients.stop());

  test("3 producers, 3 consumers: each item once, each producer's order kept", async () => {
    const path = `${uniquePath("queue")}/q`;
    const perProducer = 15;
    const total = 3 * perProducer;
    const done = new AbortController();
    const consumed: string[][] = [];
    let count = 0;
    const consumer = async () => {
      const queue = new DistributedQueue(await clients.open(), path);
      const mine: string[] = [];
      consumed.push(mine);
      while (!done.signal.aborted) {
        let data: Buffer | null;
        try {
          data = await queue.take({ signal: done.signal, timeoutMs: 20_000 });
        } catch (error) {
          if (done.signal.aborted) return;
          throw error;
        }
        assert.ok(data !== null, "take timed out with items outstanding");
        mine.push(data.toString());
        count += 1;
        if (count === total) done.abort();
      }
    };
    const producer = async (id: number) => {
      const queue = new DistributedQueue(await clients.open(), path);
      const paths: string[] = [];
      for (let k = 0; k < perProducer; k++) paths.push(await queue.offer(`p${id}-${k}`));
      return paths;
    };
    const consumers = [consumer(), consumer(), consumer()];
    const produced = await Promise.all([0, 1, 2].map(producer));
    await Promise.all(consumers);

    const all = consumed.flat();
    assert.equal(all.length, total);
    assert.equal(new Set(all).size, total, "an item was consumed twice");
    for (const mine of consumed) {
      for (const id of [0, 1, 2]) {
        const ks = mine
          .filter((item) => item.startsWith(`p${id}-`))
          .map((i) => Number(i.split("-")[1]));
        assert.deepEqual(
          ks,
          [...ks].sort((a, b) => a - b),
          `producer ${id} out of order`,
        );
      }
    }
    // Each producer's nodes were created in order: their sequence numbers ascend.
    for (const paths of produced) {
      const sequences = paths.map((p) => Number(p.slice(-10)));
      assert.deepEqual(
        sequences,
        [...sequences].sort((a, b) => a - b),
      );
    }
    assert.deepEqual(await observer.getChildren(path), []);
  });

  test("a single consumer sees exactly the offer order", async () => {
    const path = uniquePath("queue-fifo");
    const queue = new DistributedQueue(observer, path);
    assert.equal(await queue.poll(), null); // no queue node yet
    assert.equal(await queue.peek(), null);
    for (const item of ["a", "b", "c", "d"]) await queue.offer(item);
    assert.equal((await queue.peek())?.toString(), "a");
    const taken: string[] = [];
    for (let i = 0; i < 4; i++) taken.push((await queue.poll())?.toString() ?? "null");
    assert.deepEqual(taken, ["a", "b", "c", "d"]);
    assert.equal(await queue.poll(), null);
  });

  test("take() blocks until an offer; timeout gives null; abort rejects", async () => {
    const path = uniquePath("queue-take");
    const consumerSession = await clients.open();
    const consumer = new DistributedQueue(consumerSession, path);
    assert.equal(await consumer.take({ timeoutMs: 200 }), null);
    let settled = false;
    const taking = consumer.take().then((data) => {
      settled = true;
      return data;
    });
    // The consumer's session answers a later request: its getChildren (and watch) came first.
    await consumerSession.exists(path);
    assert.equal(settled, false);
    await new DistributedQueue(observer, path).offer("late");
    assert.equal((await taking)?.toString(), "late");

    const controller = new AbortController();
    const aborted = consumer.take({ signal: controller.signal });
    controller.abort(new Error("stop"));
    await assert.rejects(aborted, /stop/);
  });

  test("priority queue: lower numbers first, FIFO among equal priorities", async () => {
    const path = uniquePath("priority-queue");
    const queue = new DistributedPriorityQueue(observer, path);
    const offers: [string, number][] = [
      ["five-a", 5],
      ["minus-one", -1],
      ["three", 3],
      ["zero", 0],
      ["five-b", 5],
      ["max", 2 ** 31 - 1],
      ["min", -(2 ** 31)],
      ["five-c", 5],
    ];
    for (const [data, priority] of offers) await queue.offer(data, priority);
    assert.equal((await queue.peek())?.toString(), "min");
    const consumer = new DistributedPriorityQueue(await clients.open(), path);
    const taken: string[] = [];
    for (let i = 0; i < offers.length; i++) {
      taken.push((await consumer.take({ timeoutMs: 5000 }))?.toString() ?? "null");
    }
    assert.deepEqual(taken, [
      "min",
      "minus-one",
      "zero",
      "three",
      "five-a",
      "five-b",
      "five-c",
      "max",
    ]);
    assert.equal(await consumer.poll(), null);
  });
  test("delay queue: only due items come out, earliest due first; take() waits for the next due", async () => {
    const path = uniquePath("delay-queue");
    const producer = new DistributedDelayQueue(observer, path);
    const now = Date.now();
    // Far off: never due during the test.
    await producer.offer("next-hour", now + 3_600_000);
    await producer.offer("late", now - 1_000);
    await producer.offer("early", now - 2_000);
    const consumer = new DistributedDelayQueue(await clients.open(), path);
    assert.equal((await consumer.peek())?.toString(), "early");
    assert.equal((await consumer.poll())?.toString(), "early");
    assert.equal((await consumer.take({ timeoutMs: 5000 }))?.toString(), "late");
    assert.equal(await consumer.poll(), null);
    assert.equal(await consumer.peek(), null);
    // Nothing due: take() wakes at the due time of an item offered meanwhile, not before.
    const dueAt = Date.now() + 300;
    const taken = consumer.take({ timeoutMs: 20_000 });
    await producer.offer("soon", dueAt);
    assert.equal((await taken)?.toString(), "soon");
    assert.ok(Date.now() >= dueAt, `taken ${dueAt - Date.now()} ms before it was due`);
    // The far-off item is still there, untaken.
    assert.equal((await consumer.items()).length, 1);
    assert.equal(await consumer.take({ timeoutMs: 50 }), null);
    assert.throws(() => producer.offer("x", -1), RangeError);
  });
});
