/**
 * The server core with a txn sink that holds txns until the test releases them (as a slow
 * fsync would): a write is answered only once durable, its effect is invisible to everyone
 * before that, a read queued behind the same connection's write waits for it and sees it,
 * requests pipelined behind a handshake wait for the session, and globalOutstandingLimit
 * writes in flight make the server saturated until they drain.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  type ConnectRequest,
  CreateRequest,
  GetDataRequest,
  type Id,
  Reader,
  SetDataRequest,
  Writer,
} from "../../src/jute/index.js";
import { OpCode } from "../../src/protocol/opcodes.js";
import { resolveOptions } from "../../src/server/config.js";
import { type ClientConnection, newConnectionStats } from "../../src/server/connection.js";
import { createLogger } from "../../src/server/logger.js";
import type { Txn, TxnHeader } from "../../src/server/txn.js";
import { type TxnSink, ZooKeeperServer } from "../../src/server/zookeeper-server.js";

/** An opcode neither ZooKeeper nor zkts knows (sasl, 102, stood for one until zkts served it). */
const UNKNOWN_OPCODE = 200;

/** A sink that keeps txns until release(). */
class HeldSink implements TxnSink {
  readonly held: { header: TxnHeader; txn: Txn; durable: () => void }[] = [];
  append(header: TxnHeader, txn: Txn, durable: () => void): void {
    this.held.push({ header, txn, durable });
  }
  /** Makes the first `n` held txns (all by default) durable, in order. */
  release(n = this.held.length): void {
    for (const { durable } of this.held.splice(0, n)) durable();
  }
}

interface Reply {
  xid: number;
  zxid: bigint;
  err: number;
  body: Reader;
}

class FakeConnection implements ClientConnection {
  sessionId = 0n;
  readonly authIds: Id[] = [{ scheme: "ip", id: "127.0.0.1" }];
  readonly clientIp = "127.0.0.1";
  readonly remote = "127.0.0.1:1";
  readonly stats = newConnectionStats(Date.now());
  readonly frames: Buffer[] = [];
  closed: string | undefined;
  send(encode: (w: Writer) => void): void {
    const w = new Writer(256);
    encode(w);
    this.frames.push(w.take());
  }
  close(reason: string): void {
    this.closed = reason;
  }
  process(): void {}
  /** The replies after the connect response, decoded up to their bodies. */
  replies(): Reply[] {
    return this.frames.slice(1).map((frame) => {
      const r = new Reader(frame);
      return { xid: r.readInt(), zxid: r.readLong(), err: r.readInt(), body: r };
    });
  }
}

function request(xid: number, type: number, body: (w: Writer) => void): Reader {
  const w = new Writer(256);
  w.writeInt(xid).writeInt(type);
  body(w);
  return new Reader(w.take());
}

function server(limit = 1000) {
  const sink = new HeldSink();
  const core = new ZooKeeperServer(
    resolveOptions({ globalOutstandingLimit: limit }),
    createLogger("silent"),
  );
  core.sink = sink;
  return { core, sink };
}

function handshake(core: ZooKeeperServer, cnxn: FakeConnection): void {
  core.connect(cnxn, {
    protocolVersion: 0,
    lastZxidSeen: 0n,
    timeOut: 30_000,
    sessionId: 0n,
    passwd: Buffer.alloc(16),
    readOnly: false,
  } satisfies ConnectRequest);
}

const create = (xid: number, path: string, data: string) =>
  request(xid, OpCode.create, (w) =>
    CreateRequest.write(w, {
      path,
      data: Buffer.from(data),
      acl: [{ perms: 31, id: { scheme: "world", id: "anyone" } }],
      flags: 0,
    }),
  );
const setData = (xid: number, path: string, data: string) =>
  request(xid, OpCode.setData, (w) =>
    SetDataRequest.write(w, { path, data: Buffer.from(data), version: -1 }),
  );
const getData = (xid: number, path: string) =>
  request(xid, OpCode.getData, (w) => GetDataRequest.write(w, { path, watch: false }));

describe("server pipeline with a slow txn log", () => {
  test("the session and everything pipelined behind the handshake wait for durability", () => {
    const { core, sink } = server();
    const a = new FakeConnection();
    handshake(core, a);
    core.process(a, create(1, "/x", "one"));
    assert.equal(a.frames.length, 0, "no connect response before createSession is durable");
    assert.equal(sink.held.length, 1);
    sink.release();
    assert.equal(a.frames.length, 1, "the connect response");
    assert.notEqual(a.sessionId, 0n);
    assert.equal(sink.held.length, 1, "the pipelined create went to the log after it");
    sink.release();
    assert.deepEqual(
      a.replies().map((r) => [r.xid, r.err]),
      [[1, 0]],
    );
  });

  test("a write is visible to no one until durable; a read behind it on its connection waits", () => {
    const { core, sink } = server();
    const a = new FakeConnection();
    const b = new FakeConnection();
    handshake(core, a);
    handshake(core, b);
    sink.release();
    core.process(a, create(1, "/k", "old"));
    sink.release();
    core.process(a, setData(2, "/k", "new"));
    core.process(a, getData(3, "/k"));
    core.process(b, getData(1, "/k"));
    // b's read is answered at once, from the committed tree.
    const [bRead] = b.replies();
    assert.equal(bRead?.body.readBuffer()?.toString(), "old");
    // a's setData and the read behind it wait.
    assert.deepEqual(
      a.replies().map((r) => r.xid),
      [1],
    );
    sink.release();
    const replies = a.replies();
    assert.deepEqual(
      replies.map((r) => r.xid),
      [1, 2, 3],
    );
    assert.equal(replies[2]?.body.readBuffer()?.toString(), "new");
    assert.ok((replies[1]?.zxid ?? 0n) > (bRead?.zxid ?? 0n));
  });

  test("replies keep request order across writes made durable in one batch", () => {
    const { core, sink } = server();
    const a = new FakeConnection();
    handshake(core, a);
    sink.release();
    core.process(a, create(1, "/p", ""));
    core.process(a, getData(2, "/p"));
    core.process(a, setData(3, "/p", "v"));
    core.process(a, getData(4, "/p"));
    core.process(a, getData(5, "/missing"));
    sink.release(1);
    assert.deepEqual(
      a.replies().map((r) => r.xid),
      [1, 2],
    );
    sink.release();
    const replies = a.replies();
    assert.deepEqual(
      replies.map((r) => [r.xid, r.err]),
      [
        [1, 0],
        [2, 0],
        [3, 0],
        [4, 0],
        [5, -101],
      ],
    );
    assert.equal(replies[3]?.body.readBuffer()?.toString(), "v");
  });

  test("globalOutstandingLimit writes in flight saturate the server until they drain", async () => {
    const { core, sink } = server(2);
    const a = new FakeConnection();
    handshake(core, a);
    sink.release();
    assert.equal(core.saturated, false);
    core.process(a, create(1, "/1", ""));
    core.process(a, create(2, "/2", ""));
    assert.equal(core.saturated, true);
    let resumed = false;
    core.whenUnsaturated(() => {
      resumed = true;
    });
    await Promise.resolve();
    assert.equal(resumed, false);
    sink.release(1);
    await new Promise((resolve) => queueMicrotask(() => resolve(undefined)));
    assert.equal(resumed, true);
    assert.equal(core.outstanding, 1);
  });
});

/** A connection whose close() tells the core, as the TCP shell's does. */
class ClosingConnection extends FakeConnection {
  private readonly core: ZooKeeperServer;
  constructor(core: ZooKeeperServer) {
    super();
    this.core = core;
  }
  override close(reason: string): void {
    if (this.closed !== undefined) return;
    super.close(reason);
    this.core.disconnected(this);
  }
}

describe("hostile requests behind a slow txn log (findings of the fuzzer)", () => {
  test("a malformed frame pipelined behind the handshake closes only its connection", () => {
    const { core, sink } = server();
    const a = new ClosingConnection(core);
    handshake(core, a);
    core.process(a, new Reader(Buffer.from([1, 2, 3])));
    core.process(a, getData(2, "/"));
    // Before the fix the frame was read in the txn log's callback, and its error escaped there.
    assert.doesNotThrow(() => sink.release());
    assert.equal(a.closed, "malformed packet");
    assert.deepEqual(a.replies(), [], "nothing behind the bad frame ran");
  });

  test("a request that closes its connection after waiting for a write stops what queued behind it", () => {
    const { core, sink } = server();
    const a = new ClosingConnection(core);
    handshake(core, a);
    sink.release();
    core.process(a, create(1, "/w", ""));
    // An opcode ZooKeeper does not know: it answers UNIMPLEMENTED and closes the connection.
    core.process(
      a,
      request(2, UNKNOWN_OPCODE, () => {}),
    );
    core.process(
      a,
      request(3, OpCode.getData, (w) => GetDataRequest.write(w, { path: "/w", watch: true })),
    );
    sink.release();
    assert.equal(a.closed, `unknown opcode ${UNKNOWN_OPCODE}`);
    assert.deepEqual(
      a.replies().map((r) => [r.xid, r.err]),
      [
        [1, 0],
        [2, -6],
      ],
    );
    // Before the fix the getData ran after the close and left a watch nobody would remove.
    assert.equal(core.tree.dataWatches.size, 0);
    assert.equal(core.tree.childWatches.size, 0);
  });
});
