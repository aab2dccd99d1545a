/**
 * Directed Zab scenarios: histories left by earlier epochs, built by hand, then a run of the
 * simulator without faults. Each is a situation in which one of Apache ZooKeeper's sync-phase
 * bugs lost or resurrected txns; here the committed sequence must come out the same on every
 * peer, with nothing committed lost and nothing uncommitted applied.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { NO_FAULTS, type SimPeer, ZabCluster } from "../../src/sim/zab-cluster.js";
import type { Entry } from "../../src/zab/log.js";
import { makeZxid } from "../../src/zab/zxid.js";

/** No faults, and a peer that is down stays down until the test restarts it. */
const STAY_DOWN = { ...NO_FAULTS, restart: 0 };

/** Txns e.1 .. e.n of epoch e, payloads "e.k". */
function txns(epoch: number, from: number, to: number): Entry<string>[] {
  const out: Entry<string>[] = [];
  for (let k = from; k <= to; k++) {
    out.push({ zxid: makeZxid(BigInt(epoch), BigInt(k)), payload: `${epoch}.${k}` });
  }
  return out;
}

function durable(epochs: [accepted: number, current: number], history: Entry<string>[]) {
  return {
    acceptedEpoch: BigInt(epochs[0]),
    currentEpoch: BigInt(epochs[1]),
    history,
  } satisfies SimPeer["durable"];
}

function payloads(cluster: ZabCluster, id: number): string[] {
  return (cluster.peers.get(id) as SimPeer).applied.map((e) => e.payload);
}

describe("Zab scenarios from ZooKeeper's sync-phase bugs", () => {
  test("a peer back with an uncommitted tail of a failed epoch is truncated (TRUNC), not applied", () => {
    // Epoch 1 committed 1.1-1.3 on everyone. Epoch 2's leader (peer 3) reached only peer 3
    // itself with 2.1 and 2.2 before it died: uncommitted. Peers 1 and 2 elect a leader of
    // epoch 3 while 3 is down; then 3 comes back.
    const initial = new Map([
      [1, durable([2, 1], txns(1, 1, 3))],
      [2, durable([2, 1], txns(1, 1, 3))],
      [3, durable([2, 2], [...txns(1, 1, 3), ...txns(2, 1, 2)])],
    ]);
    const cluster = new ZabCluster(7, 3, 0, STAY_DOWN, initial, new Set([3]));
    for (let i = 0; i < 200 && cluster.servingLeader() === undefined; i++) cluster.step();
    assert.ok(cluster.servingLeader() !== undefined, "peers 1 and 2 elect a leader");
    cluster.propose();
    for (let i = 0; i < 20; i++) cluster.step();
    cluster.restartPeer(3);
    cluster.settle(400);
    const committed = cluster.committed.map((e) => e.payload);
    assert.deepEqual(committed.slice(0, 3), ["1.1", "1.2", "1.3"]);
    assert.ok(!committed.includes("2.1") && !committed.includes("2.2"), committed.join(" "));
    for (const id of [1, 2, 3]) assert.deepEqual(payloads(cluster, id), committed);
  });

  test("the peer with the highest zxid is away at the election: what it alone holds is dropped, what a quorum holds is kept (ZOOKEEPER-1154)", () => {
    // 1.4 reached peers 1 and 2 (a quorum of 3: committed, or at least committable); 1.5
    // reached peer 1 only. Peer 1 is down when 2 and 3 elect a leader.
    const initial = new Map([
      [1, durable([1, 1], txns(1, 1, 5))],
      [2, durable([1, 1], txns(1, 1, 4))],
      [3, durable([1, 1], txns(1, 1, 3))],
    ]);
    const cluster = new ZabCluster(11, 3, 0, STAY_DOWN, initial, new Set([1]));
    for (let i = 0; i < 200 && cluster.servingLeader() === undefined; i++) cluster.step();
    assert.equal(cluster.servingLeader(), 2, "peer 2 has the best history of the two");
    cluster.restartPeer(1);
    cluster.settle(400);
    const committed = cluster.committed.map((e) => e.payload);
    assert.deepEqual(committed.slice(0, 4), ["1.1", "1.2", "1.3", "1.4"]);
    assert.ok(!committed.includes("1.5"), committed.join(" "));
    for (const id of [1, 2, 3]) assert.deepEqual(payloads(cluster, id), committed);
  });

  test("a follower that crashes right after acking NEWLEADER keeps what it synced (ZOOKEEPER-3911)", () => {
    // Peer 3 is far behind; it syncs from the leader, and its fsync is slow: the sim keeps its
    // Readies pending, so its ACK of NEWLEADER cannot leave before the synced txns are durable.
    const initial = new Map([
      [1, durable([1, 1], txns(1, 1, 6))],
      [2, durable([1, 1], txns(1, 1, 6))],
      [3, durable([1, 1], txns(1, 1, 1))],
    ]);
    const cluster = new ZabCluster(5, 3, 0, { ...NO_FAULTS, slowSync: 0.7 }, initial);
    for (let i = 0; i < 400 && cluster.committed.length < 6; i++) {
      cluster.step();
      // Crash peer 3 every time it has just sent an ACK, while its state may be unsynced.
      if (cluster.rng.chance(0.2)) cluster.crashPeer(3);
      cluster.restartPeer(3);
    }
    cluster.settle(600);
    const committed = cluster.committed.map((e) => e.payload);
    assert.deepEqual(committed.slice(0, 6), ["1.1", "1.2", "1.3", "1.4", "1.5", "1.6"]);
    for (const id of [1, 2, 3]) assert.deepEqual(payloads(cluster, id), committed);
  });

  test("the quorum crashes right after the leader establishes; what the synced follower acked survives (ZOOKEEPER-3911, -4646, -4685, -4785, -4643)", () => {
    // Peer 1 holds 1.1-1.5 (1.3-1.5 never committed), peer 2 only 1.1-1.2, peer 3 is away.
    // Peer 1 leads epoch 2, syncs peer 2 by DIFF, and commits 1.3-1.5 at establishment on
    // peer 2's ack of NEWLEADER. Then both crash with whatever was not yet fsynced lost, and
    // peer 1 never returns: peers 2 and 3 must still have 1.3-1.5. In ZooKeeper the ack could
    // leave before the DIFF (or the new currentEpoch) was on disk.
    for (let seed = 1; seed <= 40; seed++) {
      const initial = new Map([
        [1, durable([1, 1], txns(1, 1, 5))],
        [2, durable([1, 1], txns(1, 1, 2))],
        [3, durable([1, 1], txns(1, 1, 2))],
      ]);
      const cluster = new ZabCluster(
        seed,
        3,
        0,
        { ...STAY_DOWN, slowSync: 0.6 },
        initial,
        new Set([3]),
      );
      for (let i = 0; i < 300 && cluster.committed.length < 5; i++) cluster.step();
      assert.equal(cluster.committed.length, 5, `seed ${seed}: the leader committed 1.1-1.5`);
      cluster.crashPeer(1);
      cluster.crashPeer(2);
      cluster.restartPeer(2);
      cluster.restartPeer(3);
      cluster.settle(600, new Set([1]));
      const committed = cluster.committed.map((e) => e.payload);
      assert.deepEqual(committed.slice(0, 5), ["1.1", "1.2", "1.3", "1.4", "1.5"], `seed ${seed}`);
      for (const id of [2, 3]) assert.deepEqual(payloads(cluster, id), committed, `seed ${seed}`);
    }
  });
});
