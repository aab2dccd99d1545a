/**
 * Sessions against Apache ZooKeeper 3.8: connection loss fails what was in flight, the client
 * reconnects to the same session with its auth and watches (catching up on changes made while
 * it was away), a silent server is detected by the read timeout, host names are resolved again
 * on every attempt, expiry is final (or, with renewExpiredSession, followed by a new session
 * that keeps the client's auth), and a failed auth is final.
 *
 * Method: a TCP proxy between client and server turns each fault into a switch, so every test
 * waits on the event it means instead of racing a kill.
 *
 * `npm test` runs this suite against zkts's server too (ZKTS_TEST_SERVER=zkts, fixture.ts).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  AuthFailedError,
  ConnectionLossError,
  CreateMode,
  connect,
  digestACL,
  InvalidArgumentError,
  NoAuthError,
  retry,
  SessionExpiredError,
  type ZooKeeper,
} from "../../src/index.js";
import type { ZooKeeperProcess } from "../harness/apache-zookeeper.js";
import { killWhileAway, recordStates, stateReached, within } from "../harness/client-helpers.js";
import { startProxy } from "../harness/tcp-proxy.js";
import { SERVER_NAME, serverSkip, startOracle } from "./fixture.js";

describe(`sessions against ${SERVER_NAME}`, { skip: serverSkip() }, () => {
  let server: ZooKeeperProcess;
  let observer: ZooKeeper;

  before(async () => {
    // tickTime 500 lets sessions be as short as 1 s, so timeouts are quick to reach.
    server = await startOracle({ tickTimeMs: 500 });
    observer = await connect(server.connectString);
  });

  after(async () => {
    await observer?.close();
    await server?.stop();
  });

  it("fails every in-flight request with ConnectionLossError when the connection drops", async () => {
    const proxy = await startProxy(server.port);
    const zk = await connect(proxy.address, { sessionTimeoutMs: 10_000 });
    try {
      await zk.create("/inflight", "x");
      proxy.holdRequests();
      const calls = Array.from({ length: 20 }, () => zk.getData("/inflight"));
      const settled = Promise.allSettled(calls);
      proxy.cut();
      const results = await settled;
      for (const result of results) {
        assert.equal(result.status, "rejected");
        assert.ok(result.reason instanceof ConnectionLossError, String(result.reason));
      }
      // The session survives the lost connection: the client comes back on its own.
      await stateReached(zk, "connected");
      assert.equal((await zk.getData("/inflight")).data.toString(), "x");
      await zk.delete("/inflight");
    } finally {
      await zk.close();
      await proxy.close();
    }
  });

  it("resumes the session with its watches and auth, and catches up on changes made meanwhile", async () => {
    const proxy = await startProxy(server.port);
    const zk = await connect(proxy.address, {
      sessionTimeoutMs: 10_000,
      auth: [{ scheme: "digest", auth: "alice:secret" }],
    });
    try {
      const sessionId = zk.sessionId;
      await zk.create("/resume", "v0", { acl: [digestACL("alice", "secret")] });
      const ephemeral = await zk.create("/resume-eph", "", { mode: CreateMode.EPHEMERAL });
      const { watch } = await zk.getData("/resume", { watch: true });
      const states = recordStates(zk);

      const down = stateReached(zk, "disconnected");
      proxy.refuse(true);
      proxy.cut();
      await down;
      // Changed while the client is away: only setWatches with its last zxid can tell it.
      const other = await connect(server.connectString, {
        auth: [{ scheme: "digest", auth: "alice:secret" }],
      });
      await other.setData("/resume", "v1");
      await other.close();

      const up = stateReached(zk, "connected");
      proxy.refuse(false);
      await up;
      const event = await within(watch, 10_000, "catch-up watch event");
      assert.deepEqual([event.type, event.path], ["NodeDataChanged", "/resume"]);
      assert.equal(zk.sessionId, sessionId);
      assert.deepEqual(states, ["disconnected", "connected"]);
      // Auth was re-sent: the digest-only node is still readable; the ephemeral is still ours.
      assert.equal((await zk.getData("/resume")).data.toString(), "v1");
      assert.equal((await observer.exists(ephemeral))?.ephemeralOwner, sessionId);
      await assert.rejects(observer.getData("/resume"), NoAuthError);
      await zk.delete("/resume");
    } finally {
      await zk.close();
      await proxy.close();
    }
  });

  it("with renewExpiredSession, a client cut off for a whole session timeout ends that session itself", async () => {
    const proxy = await startProxy(server.port);
    // tickTime 500: 2 s is a session timeout the server grants.
    const zk = await connect(proxy.address, { sessionTimeoutMs: 2000, renewExpiredSession: true });
    try {
      const oldId = zk.sessionId;
      const ephemeral = await zk.create("/cut-off-eph", "", { mode: CreateMode.EPHEMERAL });
      const states = recordStates(zk);
      const expired = stateReached(zk, "expired");
      proxy.refuse(true);
      proxy.cut();
      // No server is reachable: the expiry is the client's own decision.
      await expired;
      assert.deepEqual(states, ["disconnected", "expired", "connecting"]);
      assert.equal(zk.state, "connecting");
      // The server expires the old session in its own time; the new one starts on its return.
      const { watch } = await observer.exists(ephemeral, { watch: true });
      const renewed = stateReached(zk, "connected");
      proxy.refuse(false);
      await renewed;
      assert.notEqual(zk.sessionId, oldId);
      const gone = await within(watch, 20_000, "the old session's ephemeral deleted");
      assert.equal(gone.type, "NodeDeleted");
    } finally {
      await zk.close();
      await proxy.close();
    }
  });

  it("updateServerList: a session whose server left the list moves, with its watches; one whose server stays, stays", async () => {
    const first = await startProxy(server.port);
    const second = await startProxy(server.port);
    const zk = await connect(first.address, { sessionTimeoutMs: 10_000 });
    try {
      const sessionId = zk.sessionId;
      await zk.create("/moving", "v1");
      const { watch } = await zk.getData("/moving", { watch: true });
      const states = recordStates(zk);
      assert.equal(zk.updateServerList(second.address), true);
      assert.equal(zk.state, "disconnected"); // dropped at once; it resumes on the new server
      await stateReached(zk, "connected");
      assert.deepEqual(states, ["disconnected", "connected"]);
      assert.equal(zk.sessionId, sessionId);
      assert.equal(zk.server, second.address);
      // Requests go through the new server now; the watch came along.
      const before = second.requestBytes;
      await observer.setData("/moving", "v2");
      assert.equal((await within(watch, 10_000, "the watch")).type, "NodeDataChanged");
      assert.equal((await zk.getData("/moving")).data.toString(), "v2");
      assert.ok(second.requestBytes > before);
      // Its server is still listed and the list did not grow: it stays.
      assert.equal(zk.updateServerList(`${second.address}`), false);
      assert.equal(zk.updateServerList(`${second.address},${second.address}/`), false);
      assert.equal(zk.state, "connected");
      assert.throws(() => zk.updateServerList(`${second.address}/elsewhere`), InvalidArgumentError);
      // The list grows from 1 to 2: it moves with probability 1/2, to the new server.
      const both = `${second.address},${first.address}`;
      assert.equal(zk.updateServerList(both, { random: () => 0.99 }), false);
      assert.equal(zk.server, second.address);
      assert.equal(zk.updateServerList(second.address), false);
      assert.equal(zk.updateServerList(both, { random: () => 0 }), true);
      await stateReached(zk, "connected");
      assert.equal(zk.server, first.address);
      assert.equal(zk.sessionId, sessionId);
      await zk.delete("/moving");
    } finally {
      await zk.close();
      await first.close();
      await second.close();
    }
  });

  it("retry(): a read that lost its connection is tried again and answered after the reconnect", async () => {
    const proxy = await startProxy(server.port);
    const zk = await connect(proxy.address, { sessionTimeoutMs: 10_000 });
    try {
      await zk.create("/retried", "answer");
      const attempts: number[] = [];
      const errors: unknown[] = [];
      const { data } = await retry(
        async (attempt) => {
          attempts.push(attempt);
          if (attempt > 1) return zk.getData("/retried");
          // The first attempt's request is held at the proxy, then its connection is cut.
          proxy.holdRequests();
          const lost = zk.getData("/retried");
          proxy.cut();
          return lost.catch((error: unknown) => {
            errors.push(error);
            throw error;
          });
        },
        { baseDelayMs: 10 },
      );
      assert.equal(data.toString(), "answer");
      assert.deepEqual(attempts, [1, 2]);
      assert.ok(errors[0] instanceof ConnectionLossError, String(errors[0]));
    } finally {
      await zk.close();
      await proxy.close();
    }
  });

  it("drops a server that goes silent after 2/3 of the session timeout and reconnects", async () => {
    const proxy = await startProxy(server.port);
    const zk = await connect(proxy.address, { sessionTimeoutMs: 3000 });
    try {
      const sessionId = zk.sessionId;
      const down = stateReached(zk, "disconnected", 10_000);
      const startedAt = performance.now();
      proxy.freeze();
      await down;
      const silentMs = performance.now() - startedAt;
      assert.ok(silentMs >= 1500, `dropped after ${silentMs} ms, before the read timeout`);
      await stateReached(zk, "connected", 10_000);
      assert.equal(zk.sessionId, sessionId);
      assert.equal(proxy.accepted, 2);
    } finally {
      await zk.close();
      await proxy.close();
    }
  });

  it("resolves host names again on every attempt, so a server that moved is found", async () => {
    // Two loopback addresses stand in for a host that moved: the name maps to 127.0.0.2 first,
    // then to 127.0.0.3, where a proxy on the same port takes over.
    const first = await startProxy(server.port, { host: "127.0.0.2" });
    let address = "127.0.0.2";
    const lookups: string[] = [];
    const zk = await connect(`zk.test:${first.port}`, {
      sessionTimeoutMs: 10_000,
      resolve: async (host) => {
        lookups.push(host);
        return [address];
      },
    });
    const second = await startProxy(server.port, { host: "127.0.0.3", port: first.port });
    try {
      const sessionId = zk.sessionId;
      const down = stateReached(zk, "disconnected");
      address = "127.0.0.3";
      await first.close();
      await down;
      await stateReached(zk, "connected");
      assert.equal(zk.sessionId, sessionId);
      assert.equal(second.accepted, 1);
      assert.ok(lookups.length >= 2, `looked up ${lookups.length} times`);
    } finally {
      await zk.close();
      await second.close();
    }
  });

  it("expires for good: waiters fail, watches end, ephemerals go, calls are refused", async () => {
    const proxy = await startProxy(server.port);
    const zk = await connect(proxy.address, { sessionTimeoutMs: 10_000 });
    try {
      const path = await zk.create("/expire-eph", "", { mode: CreateMode.EPHEMERAL });
      const { watch } = await zk.exists("/expire-nothing", { watch: true });
      // A watcher that calls as soon as it hears the expiry is refused, not left waiting.
      let fromWatcher: Promise<unknown> | undefined;
      await zk.exists("/expire-nothing", {
        watch: () => {
          fromWatcher = zk.getData("/");
        },
      });
      await killWhileAway(server.connectString, zk, proxy);
      // Made while disconnected, this call waits for a server, and gets the expiry instead.
      const waiter = zk.getData("/");
      const expired = stateReached(zk, "expired");
      proxy.refuse(false);
      await expired;
      await assert.rejects(waiter, SessionExpiredError);
      const event = await watch;
      assert.deepEqual([event.type, event.state], ["None", "Expired"]);
      await assert.rejects(
        within(fromWatcher ?? Promise.reject(new Error("no call")), 5000, "the watcher's call"),
        SessionExpiredError,
      );
      await assert.rejects(zk.getData("/"), SessionExpiredError);
      assert.ok((await zk.closed()) instanceof SessionExpiredError);
      assert.equal(await observer.exists(path), null);
      await zk.close();
      assert.equal(zk.state, "expired");
    } finally {
      await proxy.close();
    }
  });

  it("with renewExpiredSession, an expiry is followed by a new session on the same client", async () => {
    const proxy = await startProxy(server.port);
    const zk = await connect(proxy.address, {
      sessionTimeoutMs: 10_000,
      renewExpiredSession: true,
    });
    try {
      assert.equal(zk.renewsExpiredSession, true);
      await zk.addAuth("digest", "renew:secret");
      const oldId = zk.sessionId;
      const ephemeral = await zk.create("/renew-eph", "", { mode: CreateMode.EPHEMERAL });
      const { watch } = await zk.exists("/renew-nothing", { watch: true });
      const states = recordStates(zk);
      await killWhileAway(server.connectString, zk, proxy);
      // Queued on the old session: it fails with the expiry, as without renewal.
      const waiter = zk.getData("/");
      // A call made by a state listener on hearing `expired` goes to the new session.
      let fromListener: Promise<unknown> | undefined;
      const off = zk.onState((state) => {
        if (state === "expired") fromListener = zk.exists(ephemeral);
      });
      const renewed = stateReached(zk, "connected");
      proxy.refuse(false);
      await assert.rejects(waiter, SessionExpiredError);
      await renewed;
      off();
      assert.deepEqual(states, ["disconnected", "expired", "connecting", "connected"]);
      assert.notEqual(zk.sessionId, oldId);
      assert.notEqual(zk.sessionId, 0n);
      const event = await watch;
      assert.deepEqual([event.type, event.state], ["None", "Expired"]);
      // The old session's ephemeral went with it; the listener's call was answered.
      assert.equal(await fromListener, null);
      assert.equal(await observer.exists(ephemeral), null);
      // addAuth's identity came along: a node only renew:secret may read is readable.
      await zk.create("/renew-acl", "mine", { acl: [digestACL("renew", "secret")] });
      assert.equal((await zk.getData("/renew-acl")).data.toString(), "mine");
      await assert.rejects(observer.getData("/renew-acl"), NoAuthError);
      // Ephemerals and watches work on the new session.
      await zk.create("/renew-eph", "", { mode: CreateMode.EPHEMERAL });
      assert.equal((await observer.exists("/renew-eph"))?.ephemeralOwner, zk.sessionId);
      await zk.delete("/renew-acl");
      // Only close() ends it.
      const closed = zk.closed();
      await zk.close();
      assert.equal(await closed, undefined);
      assert.equal(zk.state, "closed");
    } finally {
      await zk.close();
      await proxy.close();
    }
  });

  it("fails the connect with AuthFailedError when the server refuses the auth", async () => {
    await assert.rejects(
      connect(server.connectString, { auth: [{ scheme: "no-such-scheme", auth: "x" }] }),
      AuthFailedError,
    );
  });

  it("gives up connecting after initialConnectTimeoutMs with the last error as the cause", async () => {
    const proxy = await startProxy(server.port);
    proxy.refuse(true);
    try {
      const error = await connect(proxy.address, { initialConnectTimeoutMs: 500 }).then(
        () => assert.fail("connected"),
        (e: unknown) => e,
      );
      assert.ok(error instanceof ConnectionLossError);
      assert.match(error.message, /within 500 ms/);
      assert.ok(proxy.accepted >= 1);
    } finally {
      await proxy.close();
    }
  });

  it("keeps an idle session alive with pings at a third of the timeout", async () => {
    const proxy = await startProxy(server.port);
    const zk = await connect(proxy.address, { sessionTimeoutMs: 1500 });
    try {
      const states = recordStates(zk);
      const before = proxy.requestBytes;
      // A ping is a 12-byte frame; four of them span more than a whole session timeout.
      await within(proxy.untilRequestBytes(before + 4 * 12), 10_000, "four pings");
      assert.deepEqual(states, []);
      assert.equal(zk.state, "connected");
      assert.ok(await zk.exists("/"));
    } finally {
      await zk.close();
      await proxy.close();
    }
  });

  it("re-registers thousands of watches in 128 KiB setWatches batches after a reconnect", async () => {
    const proxy = await startProxy(server.port);
    const zk = await connect(proxy.address, { sessionTimeoutMs: 10_000 });
    const base = "/many-watches";
    const names = Array.from({ length: 1500 }, (_, i) => `${"n".repeat(120)}-${i}`);
    try {
      await observer.create(base);
      await observer.multi(
        names.map((name) => ({ type: "create" as const, path: `${base}/${name}` })),
      );
      // Results are wrapped: an async function returning the watch promise would wait for it.
      const reads = await Promise.all(
        names.map((name) => zk.getData(`${base}/${name}`, { watch: true })),
      );
      const fired = reads.map((read) => read.watch);
      const bytesBefore = proxy.requestBytes;
      assert.equal(proxy.requestXids.filter((xid) => xid === -8).length, 0);
      const down = stateReached(zk, "disconnected");
      proxy.cut();
      await down;
      await stateReached(zk, "connected");
      // 1500 paths of ~150 bytes are ~220 KiB: more than one batch went out.
      await within(proxy.untilRequestBytes(bytesBefore + 200 * 1024), 10_000, "setWatches bytes");
      const setWatchesFrames = proxy.requestXids.filter((xid) => xid === -8).length;
      assert.equal(setWatchesFrames, 2);
      await observer.multi(
        names.map((name) => ({ type: "setData" as const, path: `${base}/${name}`, data: "x" })),
      );
      const events = await within(Promise.all(fired), 20_000, "1500 watch events");
      assert.equal(events.filter((e) => e.type === "NodeDataChanged").length, names.length);
    } finally {
      await zk.close();
      await proxy.close();
    }
  });
});
