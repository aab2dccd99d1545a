/**
 * Self-test of test/harness/apache-zookeeper.ts: the harness every interop and differential
 * suite relies on must start, restart, kill and clean up real Apache ZooKeeper reliably.
 * Method: drive the real JVMs and observe them only through ZooKeeper's four-letter words
 * and the file system, never through zkts code.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { connect } from "node:net";
import { after, describe, test } from "node:test";
import {
  apacheZooKeeperSkip,
  modeOf,
  startEnsemble,
  startZooKeeper,
  type ZooKeeperEnsemble,
  type ZooKeeperProcess,
} from "../harness/apache-zookeeper.js";

/** A killed JVM's pid is gone from the process table once its 'exit' event fired. */
function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Opens a session with a hand-built ConnectRequest and resolves with the session id the server
 * grants. ORACLE.md warns that `ruok` answers before requests are served; this proves the
 * harness's readiness (srvr reports a serving mode) means a real request succeeds at once.
 */
function openSession(port: number): Promise<bigint> {
  // ConnectRequest: protocolVersion int, lastZxidSeen long, timeOut int, sessionId long,
  // passwd buffer (length + 16 bytes), readOnly bool; framed by an int length.
  const request = Buffer.alloc(4 + 4 + 8 + 4 + 8 + 4 + 16 + 1);
  request.writeInt32BE(request.length - 4, 0);
  request.writeInt32BE(30_000, 16);
  request.writeInt32BE(16, 28);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port }, () => socket.write(request));
    socket.setTimeout(5_000, () => socket.destroy(new Error("no ConnectResponse in 5 s")));
    let reply = Buffer.alloc(0);
    socket.on("data", (chunk) => {
      reply = Buffer.concat([reply, chunk]);
      // ConnectResponse: protocolVersion int, timeOut int, sessionId long, ... after the length.
      if (reply.length < 20) return;
      socket.destroy();
      resolve(reply.readBigInt64BE(12));
    });
    socket.on("error", reject);
    socket.on("close", () => reject(new Error("closed before a ConnectResponse")));
  });
}

describe("Apache ZooKeeper harness: standalone", { skip: apacheZooKeeperSkip() }, () => {
  let server: ZooKeeperProcess | undefined;
  after(() => server?.stop());

  test("starts on a free loopback port and answers ruok and srvr", async () => {
    server = await startZooKeeper();
    assert.equal(server.host, "127.0.0.1");
    assert.notEqual(server.port, 2181);
    assert.equal(server.connectString, `127.0.0.1:${server.port}`);
    assert.ok(processExists(server.pid));
    assert.equal(await server.fourLetterWord("ruok"), "imok");
    assert.equal(modeOf(await server.fourLetterWord("srvr")), "standalone");
    assert.notEqual(await openSession(server.port), 0n);
  });

  test("kill() then start() keeps the port and dataDir", async () => {
    assert.ok(server);
    const { port, dataDir, pid } = server;
    await server.kill();
    assert.equal(server.running, false);
    assert.equal(processExists(pid), false);
    await assert.rejects(server.fourLetterWord("ruok"));
    await server.start();
    assert.equal(server.running, true);
    assert.notEqual(server.pid, pid);
    assert.equal(server.port, port);
    assert.equal(server.dataDir, dataDir);
    assert.ok(existsSync(`${dataDir}/version-2`), "the restarted server kept its dataDir");
    assert.notEqual(await openSession(server.port), 0n);
  });

  test("stop() ends the JVM and removes the dataDir, and is idempotent", async () => {
    assert.ok(server);
    const { pid, dataDir } = server;
    await server.stop();
    assert.equal(processExists(pid), false);
    assert.equal(existsSync(dataDir), false);
    await server.stop();
    await server.kill();
    await assert.rejects(server.start(), /removed its dataDir/);
  });

  test("stop({ keepDataDir: true }) allows a graceful restart", async () => {
    const kept = await startZooKeeper({
      tickTimeMs: 500,
      extraConfig: { maxSessionTimeout: "9000" },
    });
    try {
      await kept.stop({ keepDataDir: true });
      assert.ok(existsSync(kept.dataDir));
      await kept.start();
      assert.match(await kept.fourLetterWord("conf"), /maxSessionTimeout=9000/);
    } finally {
      await kept.stop();
    }
    assert.equal(existsSync(kept.dataDir), false);
  });
});

describe("Apache ZooKeeper harness: ensemble of 3", { skip: apacheZooKeeperSkip() }, () => {
  let ensemble: ZooKeeperEnsemble | undefined;
  after(() => ensemble?.stop());

  test("starts with every server serving and exactly one leader", async () => {
    ensemble = await startEnsemble({ size: 3 });
    assert.equal(ensemble.servers.length, 3);
    assert.equal(ensemble.connectString, ensemble.servers.map((s) => s.connectString).join(","));
    const modes = await Promise.all(
      ensemble.servers.map(async (s) => modeOf(await s.fourLetterWord("srvr"))),
    );
    assert.deepEqual([...modes].sort(), ["follower", "follower", "leader"]);
    // Creating a session is a quorum write: every server serves it.
    for (const server of ensemble.servers) assert.notEqual(await openSession(server.port), 0n);
  });

  test("killing the leader elects a new one among the others", async () => {
    assert.ok(ensemble);
    const oldLeader = await ensemble.leader();
    await oldLeader.kill();
    const newLeader = await ensemble.leader({ timeoutMs: 20_000 });
    assert.notEqual(newLeader, oldLeader);
    assert.equal(modeOf(await newLeader.fourLetterWord("srvr")), "leader");
    const survivors = ensemble.servers.filter((s) => s.running);
    for (const server of survivors) assert.notEqual(await openSession(server.port), 0n);
  });

  test("the old leader restarts and rejoins as a follower", async () => {
    assert.ok(ensemble);
    const stopped = ensemble.servers.find((s) => !s.running);
    assert.ok(stopped);
    await stopped.start();
    assert.equal(modeOf(await stopped.fourLetterWord("srvr")), "follower");
    // A rejoining server must not unseat the leader that replaced it.
    const modes = await Promise.all(
      ensemble.servers.map(async (s) => modeOf(await s.fourLetterWord("srvr"))),
    );
    assert.deepEqual([...modes].sort(), ["follower", "follower", "leader"]);
  });
});
