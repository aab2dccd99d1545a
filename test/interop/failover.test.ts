/**
 * Fail-over on a real 3-node Apache ZooKeeper ensemble: kill -9 the server the client is on (the
 * leader, for the harder case); the client moves to another server and keeps its session, its
 * watches and its ephemeral znodes.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { CreateMode, connect, NotReadOnlyError, type ZooKeeper } from "../../src/index.js";
import {
  apacheZooKeeperSkip,
  startEnsemble,
  type ZooKeeperEnsemble,
  type ZooKeeperProcess,
} from "../harness/apache-zookeeper.js";
import { recordStates, stateReached, within } from "../harness/client-helpers.js";

describe("fail-over on a 3-node Apache ZooKeeper ensemble", { skip: apacheZooKeeperSkip() }, () => {
  let ensemble: ZooKeeperEnsemble;

  before(async () => {
    ensemble = await startEnsemble({ size: 3 });
  });

  after(async () => {
    await ensemble?.stop();
  });

  function serverOf(zk: ZooKeeper): ZooKeeperProcess {
    const found = ensemble.servers.find((s) => zk.server === `${s.host}:${s.port}`);
    assert.ok(found, `client is on ${zk.server}, which is not an ensemble member`);
    return found;
  }

  it("moves to another server on kill -9 and keeps session, watches and ephemerals", async () => {
    // Put the client on the leader: killing it forces an election as well as a move.
    // The host list is shuffled, so connect until a client lands there (bounded: (2/3)^30).
    const leader = await ensemble.leader();
    let zk = await connect(ensemble.connectString, { sessionTimeoutMs: 8000 });
    for (let attempt = 1; serverOf(zk) !== leader; attempt++) {
      assert.ok(attempt < 30, "30 clients in a row avoided the leader");
      await zk.close();
      zk = await connect(ensemble.connectString, { sessionTimeoutMs: 8000 });
    }
    const sessionId = zk.sessionId;
    const states = recordStates(zk);
    try {
      const ephemeral = await zk.create("/failover-eph", "mine", { mode: CreateMode.EPHEMERAL });
      await zk.create("/failover-data", "v0");
      const { watch } = await zk.getData("/failover-data", { watch: true });
      const persistent = await zk.addWatch("/failover-tree", { recursive: true });
      const events = persistent[Symbol.asyncIterator]();

      const down = stateReached(zk, "disconnected");
      await serverOf(zk).kill();
      await down;
      await stateReached(zk, "connected", 30_000);
      assert.notEqual(zk.server, `${leader.host}:${leader.port}`);
      assert.equal(zk.sessionId, sessionId);
      assert.deepEqual(states, ["disconnected", "connected"]);

      // Another client, on a surviving server, sees our ephemeral and triggers our watches.
      const survivors = ensemble.servers.filter((s) => s !== leader).map((s) => s.connectString);
      const other = await connect(survivors.join(","));
      try {
        const stat = await other.exists(ephemeral);
        assert.equal(stat?.ephemeralOwner, sessionId);
        await other.setData("/failover-data", "v1");
        const event = await within(watch, 10_000, "data watch after fail-over");
        assert.deepEqual([event.type, event.path], ["NodeDataChanged", "/failover-data"]);
        await other.create("/failover-tree", "");
        const created = await within(events.next(), 10_000, "persistent watch after fail-over");
        assert.deepEqual(
          [created.value?.type, created.value?.path],
          ["NodeCreated", "/failover-tree"],
        );
        await other.delete("/failover-tree");
        await other.delete("/failover-data");
      } finally {
        await other.close();
      }
    } finally {
      await zk.close();
    }
  });

  it("connects read-only to a server cut off from its quorum, when allowed", async () => {
    // Since 3.6 read-only mode needs local sessions (apache/zookeeper PR #1922 documents it).
    const readOnly = await startEnsemble({
      size: 3,
      systemProperties: { "readonlymode.enabled": "true" },
      extraConfig: { localSessionsEnabled: "true" },
    });
    try {
      const writer = await connect(readOnly.connectString);
      await writer.create("/ro", "before");
      await writer.close();
      const [survivor, ...others] = readOnly.servers as [ZooKeeperProcess, ...ZooKeeperProcess[]];
      for (const server of others) await server.kill();
      const zk = await connect(readOnly.connectString, {
        canBeReadOnly: true,
        initialConnectTimeoutMs: 30_000,
      });
      try {
        assert.equal(zk.state, "connectedReadOnly");
        assert.equal(zk.server, survivor.connectString);
        assert.equal((await zk.getData("/ro")).data.toString(), "before");
        await assert.rejects(zk.setData("/ro", "after"), NotReadOnlyError);
        // Once the quorum is back the client finds a read-write server by itself.
        const writable = stateReached(zk, "connected", 60_000);
        for (const server of others) await server.start();
        await writable;
        await zk.setData("/ro", "after");
        await zk.delete("/ro");
      } finally {
        await zk.close();
      }
    } finally {
      await readOnly.stop();
    }
  });
});
