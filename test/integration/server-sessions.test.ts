/**
 * The zkts server's sessions and bad input, against its own in-process instance on a free
 * loopback port: expiry removes ephemerals and fires their watches, closeSession does it at
 * once, a wrong password or a zxid from the future is refused, and hostile packets cost only
 * the connection that sent them (one log line each), never the server.
 */
import assert from "node:assert/strict";
import net from "node:net";
import { after, before, describe, it } from "node:test";
import {
  ConnectionLossError,
  CreateMode,
  connect,
  SessionExpiredError,
  type ZooKeeper,
} from "../../src/index.js";
import { ConnectRequest, Writer } from "../../src/internal.js";
import { createLogger, type RunningServer, startServer } from "../../src/server/index.js";
import { stateReached, within } from "../harness/client-helpers.js";
import { untilClosed } from "../harness/raw-session.js";
import { startProxy } from "../harness/tcp-proxy.js";

describe("zkts server: sessions and hostile input", () => {
  let server: RunningServer;
  let observer: ZooKeeper;
  const logLines: Record<string, unknown>[] = [];

  before(async () => {
    const log = createLogger("info", (line) => logLines.push(JSON.parse(line)));
    // tickTime 100 lets sessions be as short as 200 ms, so expiry is quick to reach.
    server = await startServer(
      {
        clientPort: 0,
        clientPortAddress: "127.0.0.1",
        tickTime: 100,
        maxClientCnxns: 20,
        sessionlessConnectionTimeoutMs: 300,
      },
      log,
    );
    observer = await connect(server.address);
  });

  after(async () => {
    await observer?.close();
    await server?.close();
  });

  function logged(message: RegExp): Record<string, unknown>[] {
    return logLines.filter((line) => message.test(String(line.msg)));
  }

  it("negotiates the session timeout within min and max session timeout", async () => {
    const short = await connect(server.address, { sessionTimeoutMs: 1 });
    const long = await connect(server.address, { sessionTimeoutMs: 10_000_000 });
    try {
      assert.equal(short.sessionTimeoutMs, 200);
      assert.equal(long.sessionTimeoutMs, 2000);
    } finally {
      await short.close();
      await long.close();
    }
  });

  it("expires a silent session: its ephemerals go and their watches fire", async () => {
    const proxy = await startProxy(server.port);
    const zk = await connect(proxy.address, { sessionTimeoutMs: 400 });
    try {
      const path = await zk.create("/expiring", "", { mode: CreateMode.EPHEMERAL });
      const { watch } = await observer.exists(path, { watch: true });
      const expired = stateReached(zk, "expired");
      // The client's pings no longer reach the server, and it cannot reconnect.
      proxy.refuse(true);
      proxy.freeze();
      const event = await within(watch, 10_000, "NodeDeleted of the expired ephemeral");
      assert.deepEqual([event.type, event.path], ["NodeDeleted", path]);
      assert.equal(await observer.exists(path), null);
      assert.ok(logged(/session expired/).length >= 1);
      proxy.refuse(false);
      proxy.cut();
      await expired;
    } finally {
      await zk.close();
      await proxy.close();
    }
  });

  it("closeSession removes ephemerals at once", async () => {
    const zk = await connect(server.address);
    const path = await zk.create("/closing", "", { mode: CreateMode.EPHEMERAL });
    const { watch } = await observer.exists(path, { watch: true });
    await zk.close();
    assert.equal((await watch).type, "NodeDeleted");
    assert.equal(await observer.exists(path), null);
  });

  it("refuses to resume a session with a wrong password", async () => {
    const zk = await connect(server.address);
    try {
      const wrong = Buffer.from(zk.sessionPassword);
      wrong[0] = (wrong[0] ?? 0) ^ 0xff;
      await assert.rejects(
        connect(server.address, { sessionId: zk.sessionId, sessionPassword: wrong }),
        SessionExpiredError,
      );
    } finally {
      await zk.close();
    }
  });

  it("closes a connection whose client has seen a later zxid than the server", async () => {
    const reply = await untilClosed(server.port, connectFrame({ lastZxidSeen: 1n << 40n }), 10_000);
    assert.equal(reply.length, 0);
    assert.ok(logged(/later zxid/).length >= 1);
  });

  it("closes only the connection that sends a packet over jute.maxbuffer, with one log line", async () => {
    const zk = await connect(server.address);
    const before = logged(/malformed packet/).length;
    try {
      await assert.rejects(zk.setData("/", Buffer.alloc(0x100000)), ConnectionLossError);
      assert.equal(logged(/malformed packet/).length, before + 1);
      assert.ok(await observer.exists("/"), "other clients are still served");
    } finally {
      await zk.close();
    }
  });

  it("closes a connection that sends a 1 GiB length prefix, without allocating it", async () => {
    const rssBefore = process.memoryUsage().rss;
    const frame = Buffer.alloc(4);
    frame.writeInt32BE(0x40000000);
    const reply = await untilClosed(server.port, Buffer.concat([connectFrame({}), frame]), 10_000);
    // The handshake is answered; then the bad length closes the connection.
    assert.ok(reply.length > 0);
    assert.ok(process.memoryUsage().rss - rssBefore < 256 * 1024 * 1024);
    assert.ok(await observer.exists("/"));
  });

  it("answers garbage after the handshake by closing that connection only", async () => {
    const before = logged(/malformed packet/).length;
    const garbage = Buffer.from([0, 0, 0, 3, 1, 2, 3]);
    await untilClosed(server.port, Buffer.concat([connectFrame({}), garbage]), 10_000);
    assert.equal(logged(/malformed packet/).length, before + 1);
    assert.ok(await observer.exists("/"));
  });

  it("answers an unknown opcode with UNIMPLEMENTED and closes the connection", async () => {
    const request = new Writer();
    const at = request.reserveInt();
    request.writeInt(7).writeInt(999);
    request.patchInt(at, request.length - 4);
    const reply = await untilClosed(
      server.port,
      Buffer.concat([connectFrame({}), request.take()]),
      10_000,
    );
    // ConnectResponse frame (4 + 37 bytes), then ReplyHeader {xid 7, zxid, err -6}.
    const header = reply.subarray(4 + 37);
    assert.equal(header.readInt32BE(0), 16);
    assert.equal(header.readInt32BE(4), 7);
    assert.equal(header.readInt32BE(16), -6);
  });

  it("refuses connections past maxClientCnxns from one address", async () => {
    const open: ZooKeeper[] = [];
    try {
      // The observer holds one of the 20.
      for (let i = 0; i < 19; i++) open.push(await connect(server.address));
      await assert.rejects(
        connect(server.address, { initialConnectTimeoutMs: 300 }),
        ConnectionLossError,
      );
      const rejected = logged(/^connection rejected$/);
      assert.ok(rejected.some((line) => /too many connections/.test(String(line.reason))));
    } finally {
      for (const zk of open) await zk.close();
    }
  });

  it("stops reading a client that does not read its replies, and serves it again once it does", async () => {
    await observer.create("/big", Buffer.alloc(512 * 1024, 7));
    const requests = 100;
    const frames = [connectFrame({})];
    for (let xid = 1; xid <= requests; xid++) {
      const w = new Writer();
      const at = w.reserveInt();
      w.writeInt(xid).writeInt(4).writeString("/big").writeBool(false);
      w.patchInt(at, w.length - 4);
      frames.push(w.take());
    }
    const socket = net.connect({ host: "127.0.0.1", port: server.port });
    socket.pause(); // a client that never reads
    socket.write(Buffer.concat(frames));
    const slow = () =>
      [...server.zooKeeper.connections.values()].find(
        (c) => (c as { readingPaused?: boolean }).readingPaused === true,
      );
    // Bounded wait for the event: the server pausing that connection.
    for (let i = 0; i < 2000 && slow() === undefined; i++)
      await new Promise((r) => setTimeout(r, 5));
    const paused = slow();
    assert.ok(paused, "the server paused the connection that does not read");
    assert.ok(
      paused.stats.packetsReceived < requests,
      `read ${paused.stats.packetsReceived} requests`,
    );
    assert.ok(await observer.exists("/"), "other clients are still served");
    // Once the client reads, the server reads again and answers everything.
    let bytes = 0;
    const expected = 4 + 37 + requests * (4 + 16 + 4 + 512 * 1024 + 68);
    const drained = new Promise<void>((resolve) => {
      socket.on("data", (chunk: Buffer) => {
        bytes += chunk.length;
        if (bytes >= expected) resolve();
      });
    });
    socket.resume();
    await within(drained, 30_000, "all replies");
    assert.equal(bytes, expected);
    socket.destroy();
    await observer.delete("/big");
  });

  it("closes a connection that never sends a handshake", async () => {
    const before = logged(/no handshake/).length;
    const reply = await untilClosed(server.port, Buffer.alloc(0), 10_000);
    assert.equal(reply.length, 0);
    assert.equal(logged(/no handshake/).length, before + 1);
  });
});

function connectFrame(fields: { lastZxidSeen?: bigint }): Buffer {
  const w = new Writer();
  const at = w.reserveInt();
  ConnectRequest.write(w, {
    protocolVersion: 0,
    lastZxidSeen: fields.lastZxidSeen ?? 0n,
    timeOut: 10_000,
    sessionId: 0n,
    passwd: Buffer.alloc(16),
    readOnly: false,
  });
  w.patchInt(at, w.length - 4);
  return w.take();
}
