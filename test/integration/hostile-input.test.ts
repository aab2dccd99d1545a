/**
 * Goal: hostile clients cost only their own connections, on a real `zkts server` process (durable,
 * as users run it): the process survives, a well-behaved client is answered throughout, the bad
 * connection is closed with one log line, and the server's memory stays bounded (VmRSS from /proc,
 * which needs no timing). The latency under these storms is measured by `npm run bench:storms`.
 * Method: raw sockets for the hostile side, our client for the well-behaved one; every wait is on
 * an event (a close, a reply, a log line) and bounded.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import net from "node:net";
import { after, before, describe, it } from "node:test";
import { connect, type ZooKeeper } from "../../src/index.js";
import { ConnectRequest, ExistsRequest, GetDataRequest, Writer } from "../../src/internal.js";
import type { ZooKeeperProcess } from "../harness/apache-zookeeper.js";
import { within } from "../harness/client-helpers.js";
import { startZkts } from "../harness/zkts-server.js";

const WAIT_MS = 20_000;

describe("zkts server process: hostile clients cost only their own connections", () => {
  let server: ZooKeeperProcess;
  let observer: ZooKeeper;

  before(async () => {
    server = await startZkts({ config: { maxClientCnxns: "0" } });
    observer = await connect(server.connectString);
  });

  after(async () => {
    await observer?.close();
    await server?.stop();
  });

  /** Lines of the server's log that match `message`. */
  function logged(message: RegExp): string[] {
    return readFileSync(server.logFile, "utf8")
      .split("\n")
      .filter((line) => message.test(line));
  }

  async function stillServing(): Promise<void> {
    assert.ok(server.running, "the server process is running");
    assert.ok(await within(observer.exists("/"), WAIT_MS, "the well-behaved client's exists"));
  }

  // Finding of the fuzzer: frames a client pipelines behind its ConnectRequest wait for the
  // session's txn to be durable and were then handled in the txn log's callback, outside the
  // connection's error handling: a malformed one threw there and killed the process.
  it("closes a connection whose frame behind the handshake is malformed, and lives on", async () => {
    const before = logged(/malformed packet/).length;
    const short = frame(Buffer.from([1, 2, 3]));
    const reply = await exchange(server.port, Buffer.concat([connectFrame(), short]));
    assert.ok(reply.length > 0, "the handshake was answered");
    await stillServing();
    assert.equal(logged(/malformed packet/).length, before + 1);
  });

  it("answers frames pipelined behind the handshake in order, an unreadable one with MARSHALLINGERROR", async () => {
    const good = request(1, 3, (w) => ExistsRequest.write(w, { path: "/", watch: false }));
    const bad = frame(Buffer.from([0, 0, 0, 2, 0, 0, 0, 5, 0xff])); // setData cut short
    const close = request(3, -11, () => {});
    const reply = await exchange(server.port, Buffer.concat([connectFrame(), good, bad, close]));
    // The exists is answered, the unreadable setData gets ZooKeeper's MARSHALLINGERROR, and
    // closeSession closes: all of it after the session's txn was durable.
    assert.deepEqual(replies(reply), [
      [1, 0],
      [2, -5],
      [3, 0],
    ]);
    await stillServing();
  });
});

export function connectFrame(timeOut = 30_000): Buffer {
  const w = new Writer();
  const at = w.reserveInt();
  ConnectRequest.write(w, {
    protocolVersion: 0,
    lastZxidSeen: 0n,
    timeOut,
    sessionId: 0n,
    passwd: Buffer.alloc(16),
    readOnly: false,
  });
  w.patchInt(at, w.length - 4);
  return w.take();
}

export function frame(payload: Buffer): Buffer {
  const prefix = Buffer.alloc(4);
  prefix.writeInt32BE(payload.length);
  return Buffer.concat([prefix, payload]);
}

export function request(xid: number, opcode: number, body: (w: Writer) => void): Buffer {
  const w = new Writer();
  const at = w.reserveInt();
  w.writeInt(xid).writeInt(opcode);
  body(w);
  w.patchInt(at, w.length - 4);
  return w.take();
}

export function getDataFrame(xid: number, path: string, watch = false): Buffer {
  return request(xid, 4, (w) => GetDataRequest.write(w, { path, watch }));
}

/** [xid, err] of each reply frame after the ConnectResponse. */
function replies(bytes: Buffer): [number, number][] {
  const found: [number, number][] = [];
  let offset = 0;
  for (let first = true; offset + 4 <= bytes.length; first = false) {
    const length = bytes.readInt32BE(offset);
    if (!first && length >= 16) {
      found.push([bytes.readInt32BE(offset + 4), bytes.readInt32BE(offset + 16)]);
    }
    offset += 4 + length;
  }
  return found;
}

/** Sends `bytes` on a fresh connection; everything the server sent until it closed. */
export function exchange(port: number, bytes: Buffer): Promise<Buffer> {
  return within(
    new Promise((resolve) => {
      const socket = net.connect({ host: "127.0.0.1", port });
      const chunks: Buffer[] = [];
      socket.on("connect", () => socket.write(bytes));
      socket.on("data", (chunk) => chunks.push(chunk));
      socket.on("close", () => resolve(Buffer.concat(chunks)));
      socket.on("error", () => {});
    }),
    WAIT_MS,
    "the server closing the connection",
  );
}
