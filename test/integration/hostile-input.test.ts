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
import { ExistsRequest } from "../../src/internal.js";
import type { ZooKeeperProcess } from "../harness/apache-zookeeper.js";
import { within } from "../harness/client-helpers.js";
import {
  connectFrame,
  getDataFrame,
  lengthPrefix,
  procStatusKiB,
  RawSession,
  requestFrame as request,
  untilClosed,
} from "../harness/raw-session.js";
import { startZkts } from "../harness/zkts-server.js";

const WAIT_MS = 20_000;

describe("zkts server process: hostile clients cost only their own connections", () => {
  let server: ZooKeeperProcess;
  let observer: ZooKeeper;

  before(async () => {
    server = await startZkts({ config: { maxClientCnxns: "0", "4lw.commands.whitelist": "*" } });
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
    const short = Buffer.from([0, 0, 0, 3, 1, 2, 3]);
    const reply = await untilClosed(server.port, Buffer.concat([connectFrame(), short]));
    assert.ok(reply.length > 0, "the handshake was answered");
    await stillServing();
    assert.equal(logged(/malformed packet/).length, before + 1);
  });

  it("answers frames pipelined behind the handshake in order, an unreadable one with MARSHALLINGERROR", async () => {
    const good = request(1, 3, (w) => ExistsRequest.write(w, { path: "/", watch: false }));
    const bad = Buffer.from([0, 0, 0, 9, 0, 0, 0, 2, 0, 0, 0, 5, 0xff]); // setData cut short
    const close = request(3, -11, () => {});
    const reply = await untilClosed(server.port, Buffer.concat([connectFrame(), good, bad, close]));
    // The exists is answered, the unreadable setData gets ZooKeeper's MARSHALLINGERROR, and
    // closeSession closes: all of it after the session's txn was durable.
    assert.deepEqual(replies(reply), [
      [1, 0],
      [2, -5],
      [3, 0],
    ]);
    await stillServing();
  });

  /** The server's resident memory, MiB. */
  function rssMiB(): number {
    return procStatusKiB(server.pid, "VmRSS") / 1024;
  }

  /** Bounded wait until `cons` lists at most `n` connections (the asking one included). */
  async function connectionsDropTo(n: number): Promise<number> {
    let count = Number.POSITIVE_INFINITY;
    for (let i = 0; i < 200 && count > n; i++) {
      count = (await server.fourLetterWord("cons"))
        .split("\n")
        .filter((l) => l.startsWith(" /")).length;
    }
    return count;
  }

  it("survives a storm of 2,000 connects and drops, and forgets every one of them", async () => {
    const baseline = rssMiB();
    const kinds = [
      // connect and drop at once; handshake then drop; handshake, answer, reset; half a handshake.
      async (socket: net.Socket) => socket.destroy(),
      async (socket: net.Socket) => {
        socket.write(connectFrame());
        socket.destroy();
      },
      async (socket: net.Socket) => {
        socket.write(connectFrame());
        await new Promise((resolve) => socket.once("data", resolve).once("close", resolve));
        socket.resetAndDestroy();
      },
      async (socket: net.Socket) => {
        socket.end(connectFrame().subarray(0, 20));
      },
    ];
    const storm = async (i: number) => {
      const socket = net.connect({ host: "127.0.0.1", port: server.port });
      socket.on("error", () => {});
      const closed = new Promise((resolve) => socket.once("close", resolve));
      await new Promise((resolve) => socket.once("connect", resolve).once("close", resolve));
      await kinds[i % kinds.length]?.(socket);
      await closed;
    };
    for (let wave = 0; wave < 20; wave++) {
      await within(
        Promise.all(Array.from({ length: 100 }, (_, i) => storm(wave * 100 + i))),
        WAIT_MS,
        `wave ${wave} of the storm`,
      );
    }
    await stillServing();
    // The observer and the `cons` asking: every stormy connection is gone from the server.
    assert.equal(await connectionsDropTo(2), 2);
    assert.ok(rssMiB() < baseline + 128, `RSS grew from ${baseline} to ${rssMiB()} MiB`);
  });

  it("stops reading a client that never reads its replies; memory stays bounded", async () => {
    await observer.create("/big", Buffer.alloc(512 * 1024, 7));
    const baseline = rssMiB();
    const hog = await RawSession.open(server.port);
    hog.socket.pause(); // never reads
    // 2,000 getData of 512 KiB: a GiB of replies it will not take.
    const requests = 2000;
    const batch: Buffer[] = [];
    for (let xid = 1; xid <= requests; xid++) batch.push(getDataFrame(xid, "/big"));
    hog.send(Buffer.concat(batch));
    // Each round trip of the observer lets the server read (and stop reading) the hog further.
    for (let i = 0; i < 20; i++) await stillServing();
    const line = (await server.fourLetterWord("cons"))
      .split("\n")
      .find((l) => l.includes(`:${hog.socket.localPort}[`));
    const received = Number(/recved=(\d+)/.exec(line ?? "")?.[1]);
    assert.ok(received < requests, `the server read ${received} of the hog's ${requests} requests`);
    assert.ok(rssMiB() < baseline + 256, `RSS grew from ${baseline} to ${rssMiB()} MiB`);
    hog.destroy();
    await hog.closed;
    await stillServing();
    await observer.delete("/big");
  });

  it("closes a connection that sends a 1 GiB length prefix and streams on, without allocating it", async () => {
    const baseline = rssMiB();
    const before = logged(/malformed packet/).length;
    const liar = await RawSession.open(server.port);
    liar.send(lengthPrefix(0x40000000));
    // It keeps sending as if the GiB were coming, until the server hangs up.
    const chunk = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < 64 && !liar.socket.destroyed && liar.socket.writable; i++) {
      if (!liar.socket.write(chunk)) {
        await Promise.race([new Promise((r) => liar.socket.once("drain", r)), liar.closed]);
      }
    }
    await within(liar.closed, WAIT_MS, "the server closing the liar's connection");
    await stillServing();
    assert.equal(logged(/malformed packet/).length, before + 1);
    assert.ok(rssMiB() < baseline + 128, `RSS grew from ${baseline} to ${rssMiB()} MiB`);
  });

  it("delivers a watch storm (1,000 connections watching one node, one change) and serves on", async () => {
    await observer.create("/storm", "");
    const sessions: RawSession[] = [];
    try {
      for (let wave = 0; wave < 10; wave++) {
        const opened = await Promise.all(
          Array.from({ length: 100 }, () => RawSession.open(server.port)),
        );
        sessions.push(...opened);
      }
      // A data watch and a child watch on /storm from each.
      await Promise.all(
        sessions.map((s) =>
          Promise.all([
            s.call(getDataFrame(1, "/storm", true)),
            s.call(getDataFrame(2, "/storm", true, true)),
          ]),
        ),
      );
      // wchs counts the data watches only, as ZooKeeper's does (DataTree.getWatchesSummary).
      const wchs = await server.fourLetterWord("wchs");
      assert.match(wchs, /^1000 connections watching 1 paths\nTotal watches:1000\b/);
      const allFired = Promise.all(
        sessions.map(
          (s) =>
            new Promise<void>((resolve) => {
              s.onNotification = () => {
                if (s.notifications === 1) resolve();
              };
            }),
        ),
      );
      // Deleting /storm fires both watches of every session, which get one NodeDeleted each
      // (ZooKeeper's DataTree leaves out of the child watches those the data watches told).
      await observer.delete("/storm");
      await stillServing();
      await within(allFired, WAIT_MS, "every session's notification");
      assert.deepEqual(new Set(sessions.map((s) => s.notifications)), new Set([1]));
      assert.match(await server.fourLetterWord("wchs"), /Total watches:0\b/);
    } finally {
      for (const s of sessions) s.destroy();
    }
    await stillServing();
    assert.equal(await connectionsDropTo(2), 2);
  });
});

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
