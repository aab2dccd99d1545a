/**
 * Our client against Apache ZooKeeper 3.8 (the oracle): per-call options (AbortSignal, timeouts),
 * arguments refused before anything is sent, calls after close(), pipelining order, and the
 * client's state stream. Timeouts and aborts after sending are made deterministic by pausing the
 * server process (SIGSTOP): nothing can be answered until it resumes.
 *
 * `npm test` runs this suite against zkts's server too (ZKTS_TEST_SERVER=zkts, fixture.ts).
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  type ClientState,
  ClosedError,
  type CreateMode,
  InvalidArgumentError,
  RequestTimeoutError,
  type ZooKeeper,
} from "../../src/index.js";
import {
  afterWrites,
  Clients,
  refusal,
  SERVER_NAME,
  serverSkip,
  uniquePath,
  withServerPaused,
} from "./fixture.js";

const BAD_PATHS = [
  "",
  "relative",
  "/trailing/",
  "/double//slash",
  "/dot/./x",
  "/dotdot/../x",
  "/.",
  "/nul\u0000x",
  "/control\u0001x",
  "/delete\u007fx",
  "/surrogate\ud800x",
  "/special\ufff0x",
];

describe(`client call options and errors against ${SERVER_NAME}`, {
  skip: serverSkip(),
}, () => {
  const clients = new Clients();
  let zk: ZooKeeper;
  before(async () => {
    await clients.start();
    zk = await clients.open();
  });
  after(() => clients.stop());

  test("a signal aborted before the call: rejects with its reason, sends nothing", async () => {
    const base = uniquePath("aborted-before");
    await zk.create(base);
    const reason = new Error("not needed any more");
    const signal = AbortSignal.abort(reason);
    await assert.rejects(zk.create(`${base}/a`, null, { signal }), (e) => e === reason);
    await assert.rejects(zk.setData(base, "x", { signal }), (e) => e === reason);
    await assert.rejects(zk.getData(base, { signal, watch: true }), (e) => e === reason);
    await assert.rejects(
      zk.multi([{ type: "create", path: `${base}/b` }], { signal }),
      (e) => e === reason,
    );
    await assert.rejects(
      zk.getData(base, { signal: AbortSignal.abort() }),
      (e) => e instanceof DOMException && e.name === "AbortError",
    );
    const { data, stat } = await zk.getData(base);
    assert.equal(data.length, 0);
    assert.equal(stat.version, 0);
    assert.deepEqual(await zk.getChildren(base), []);
  });

  test("a signal aborted after sending: rejects with its reason; the late reply is dropped", async () => {
    const base = uniquePath("aborted-after");
    await zk.create(base, "before");
    const controller = new AbortController();
    const reason = new Error("gave up");
    await withServerPaused(clients.pid, async () => {
      const write = zk.setData(base, "after", { signal: controller.signal });
      const read = zk.getData(base);
      await afterWrites();
      controller.abort(reason);
      await assert.rejects(write, (e) => e === reason);
      // The read behind it still waits for its own reply (wrapped: it settles after resuming).
      return { read };
    }).then(async ({ read }) => {
      // ZooKeeper cannot take a request back: the aborted write was applied before the read.
      assert.equal((await read).data.toString(), "after");
    });
    const { data, stat } = await zk.getData(base);
    assert.equal(data.toString(), "after");
    assert.equal(stat.version, 1);
  });

  test("timeoutMs: RequestTimeoutError naming the path; later calls still match replies", async () => {
    const base = uniquePath("timeout");
    await zk.create(base, "data");
    const { untimed } = await withServerPaused(clients.pid, async () => {
      const waiting = zk.getData(base);
      await assert.rejects(zk.getData(base, { timeoutMs: 20 }), (e) => {
        assert.ok(e instanceof RequestTimeoutError);
        assert.equal(e.code, -122);
        assert.equal(e.path, base);
        return true;
      });
      await assert.rejects(zk.exists(base, { timeoutMs: 1 }), RequestTimeoutError);
      return { untimed: waiting };
    });
    assert.equal((await untimed).data.toString(), "data");
    assert.equal((await zk.setData(base, "next")).version, 1);
  });

  test("requestTimeoutMs applies to every call; timeoutMs: 0 turns it off for one", async () => {
    const base = uniquePath("request-timeout");
    await zk.create(base, "data");
    const client = await clients.open({ requestTimeoutMs: 20 });
    const { patient } = await withServerPaused(clients.pid, async () => {
      const waiting = client.getData(base, { timeoutMs: 0 });
      await assert.rejects(client.getData(base), RequestTimeoutError);
      await assert.rejects(client.sync(base), RequestTimeoutError);
      return { patient: waiting };
    });
    assert.equal((await patient).data.toString(), "data");
    // The 20 ms default would make this one flaky on a busy machine.
    assert.equal(await client.sync(base, { timeoutMs: 10_000 }), base);
  });

  test("invalid paths are refused with InvalidArgumentError before sending", async () => {
    const calls: [string, (path: string) => unknown][] = [
      ["create", (p) => zk.create(p)],
      ["createWithStat", (p) => zk.createWithStat(p)],
      ["delete", (p) => zk.delete(p)],
      ["setData", (p) => zk.setData(p, "x")],
      ["exists", (p) => zk.exists(p)],
      ["getData", (p) => zk.getData(p, { watch: true })],
      ["getChildren", (p) => zk.getChildren(p)],
      ["getChildrenWithStat", (p) => zk.getChildrenWithStat(p)],
      ["getACL", (p) => zk.getACL(p)],
      ["setACL", (p) => zk.setACL(p, [{ perms: 31, id: { scheme: "world", id: "anyone" } }])],
      ["sync", (p) => zk.sync(p)],
      ["getAllChildrenNumber", (p) => zk.getAllChildrenNumber(p)],
      ["getEphemerals", (p) => zk.getEphemerals(p)],
      ["addWatch", (p) => zk.addWatch(p)],
      ["removeWatches", (p) => zk.removeWatches(p, "Any")],
      ["multi", (p) => zk.multi([{ type: "check", path: p, version: 0 }])],
      ["multiRead", (p) => zk.multiRead([{ type: "getData", path: p }])],
    ];
    for (const [name, call] of calls) {
      for (const path of BAD_PATHS) {
        const error = await refusal(() => call(path), `${name}(${JSON.stringify(path)})`);
        assert.ok(
          error instanceof InvalidArgumentError,
          `${name}(${JSON.stringify(path)}): ${error}`,
        );
      }
    }
    const unknownMode = await refusal(() => zk.create("/x", null, { mode: 7 as CreateMode }));
    assert.ok(unknownMode instanceof InvalidArgumentError);
    // The session is untouched: nothing malformed reached the server.
    assert.equal(zk.state, "connected");
    assert.equal(await zk.sync("/"), "/");
  });

  test("after close(): state closed, every call rejects with ClosedError", async () => {
    const base = uniquePath("closed");
    const client = await clients.open();
    await client.create(base);
    // Calls made before close() are answered before the session ends (FIFO order).
    const inFlight = client.getData(base);
    await client.close();
    assert.equal((await inFlight).stat.version, 0);
    assert.equal(client.state, "closed");
    for (const call of [
      () => client.getData(base),
      () => client.create(`${base}/x`),
      () => client.setData(base, "x"),
      () => client.exists(base, { watch: true }),
      () => client.multi([{ type: "delete", path: base }]),
      () => client.sync(base),
      () => client.whoAmI(),
      () => client.addAuth("digest", "a:b"),
      () => client.addWatch(base),
    ]) {
      const error = await refusal(call);
      assert.ok(error instanceof ClosedError, String(error));
    }
    await client.close();
    assert.equal(await client.closed(), undefined);
    assert.notEqual(await zk.exists(base), null, "a persistent znode outlives its creator");
  });

  test("pipelining: 5000 concurrent setData resolve in order with increasing versions", async () => {
    const base = uniquePath("pipeline");
    await zk.create(base);
    const count = 5000;
    const completed: number[] = [];
    const writes = Array.from({ length: count }, (_, i) =>
      zk.setData(base, String(i)).then((stat) => {
        completed.push(i);
        return stat.version;
      }),
    );
    // A read sent after them sees them all: one session's requests are answered in order.
    const read = zk.getData(base);
    const versions = await Promise.all(writes);
    assert.deepEqual(
      versions,
      Array.from({ length: count }, (_, i) => i + 1),
    );
    assert.deepEqual(
      completed,
      Array.from({ length: count }, (_, i) => i),
    );
    const { data, stat } = await read;
    assert.equal(data.toString(), String(count - 1));
    assert.equal(stat.version, count);
  });

  test("connect() with a signal aborted before the call rejects with its reason", async () => {
    const reason = new Error("never mind");
    const connecting = clients.open({ signal: AbortSignal.abort(reason) });
    const outcome = await connecting.then(
      async (client) => {
        await client.close();
        return client;
      },
      (error: unknown) => error,
    );
    assert.equal(outcome, reason);
  });

  test("states() ends after closed; onState sees it; closed() resolves undefined", async () => {
    const client = await clients.open();
    assert.equal(client.state, "connected");
    const iterated: ClientState[] = [];
    const iteration = (async () => {
      for await (const state of client.states()) iterated.push(state);
    })();
    const heard: ClientState[] = [];
    client.onState((state) => heard.push(state));
    const unheard: ClientState[] = [];
    const off = client.onState((state) => unheard.push(state));
    off();
    const closed = client.closed();
    await client.close();
    await iteration;
    assert.deepEqual(iterated, ["closed"]);
    assert.deepEqual(heard, ["closed"]);
    assert.deepEqual(unheard, []);
    assert.equal(await closed, undefined);
    // A final state: a new iteration ends at once.
    const after: ClientState[] = [];
    for await (const state of client.states()) after.push(state);
    assert.deepEqual(after, []);
  });
});
