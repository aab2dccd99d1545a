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
import { epochOf, makeZxid } from "../../src/zab/zxid.js";

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

/**
 * ZOOKEEPER-4643's invariant, on every peer's durable state (up or down): a peer that has
 * made epoch e its currentEpoch holds every txn of `committed` from an earlier epoch, in its
 * log or its snapshot; it got them all when it synced with e's leader, before taking the epoch.
 */
function assertEpochHasHistory(
  cluster: ZabCluster,
  committed: readonly Entry<string>[],
  context: string,
): void {
  for (const sim of cluster.peers.values()) {
    const { currentEpoch, history, snapshot } = sim.durable;
    const held = new Set([...history, ...(snapshot?.applied ?? [])].map((e) => e.zxid));
    for (const entry of committed) {
      if (epochOf(entry.zxid) >= currentEpoch) continue;
      assert.ok(
        held.has(entry.zxid),
        `${context}: peer ${sim.id} took epoch ${currentEpoch} without committed txn ${entry.payload}`,
      );
    }
  }
}

/**
 * Peers 1 and 2 serve epoch 2 and commit a proposal every tick; peer 3, far behind, comes back
 * and syncs while those proposals and commits flow, over links that delay messages. Returns
 * the cluster once peer 3 serves, and how many txns were committed while it synced.
 */
function syncUnderLoad(seed: number): { cluster: ZabCluster; duringSync: number } {
  const initial = new Map([
    [1, durable([1, 1], txns(1, 1, 8))],
    [2, durable([1, 1], txns(1, 1, 8))],
    [3, durable([1, 1], txns(1, 1, 2))],
  ]);
  const cluster = new ZabCluster(seed, 3, 0, { ...STAY_DOWN, maxDelay: 2 }, initial, new Set([3]));
  for (let i = 0; i < 300 && cluster.servingLeader() === undefined; i++) cluster.step();
  assert.ok(cluster.servingLeader() !== undefined, `seed ${seed}: peers 1 and 2 elect a leader`);
  for (let i = 0; i < 10; i++) {
    cluster.propose();
    cluster.step();
  }
  const before = cluster.committed.length;
  cluster.restartPeer(3);
  const third = () => (cluster.peers.get(3) as SimPeer).peer;
  for (let i = 0; i < 400 && third()?.serving !== true; i++) {
    cluster.propose();
    cluster.step();
  }
  assert.equal(third()?.serving, true, `seed ${seed}: peer 3 synced`);
  return { cluster, duringSync: cluster.committed.length - before };
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

  test("a follower never takes a new currentEpoch before the history it was synced with is durable, whenever it crashes (ZOOKEEPER-4643)", () => {
    // Epoch 1 committed 1.1-1.5 on peers 1 and 3; peer 2 has only 1.1-1.2. Peer 3 is away:
    // peer 1 leads epoch 2 and syncs peer 2 by DIFF, while peer 2's fsyncs are slow and it
    // crashes at random points, losing what was not yet on disk. Then peer 1 goes for good and
    // peer 3 returns. In ZooKeeper before the fix, peer 2 could write currentEpoch 2 and crash
    // before the DIFF reached its disk; its epoch then beat peer 3's history in the election
    // and 1.3-1.5, committed, were truncated away.
    const epochOne = txns(1, 1, 5);
    for (let seed = 1; seed <= 40; seed++) {
      const initial = new Map([
        [1, durable([1, 1], epochOne)],
        [2, durable([1, 1], txns(1, 1, 2))],
        [3, durable([1, 1], epochOne)],
      ]);
      const cluster = new ZabCluster(
        seed,
        3,
        0,
        { ...STAY_DOWN, slowSync: 0.6 },
        initial,
        new Set([3]),
      );
      const second = cluster.peers.get(2) as SimPeer;
      for (let i = 0; i < 400 && second.durable.currentEpoch < 2n; i++) {
        cluster.step();
        assertEpochHasHistory(cluster, epochOne, `seed ${seed}, tick ${i}`);
        // Crashes for a while, then none, so that the sync can finish.
        if (i < 150 && cluster.rng.chance(0.2)) cluster.crashPeer(2);
        cluster.restartPeer(2);
      }
      assert.ok(second.durable.currentEpoch >= 2n, `seed ${seed}: peer 2 took a new epoch`);
      cluster.crashPeer(1);
      cluster.crashPeer(2);
      cluster.restartPeer(2);
      cluster.restartPeer(3);
      cluster.settle(600, new Set([1]));
      assertEpochHasHistory(cluster, epochOne, `seed ${seed}, settled`);
      const committed = cluster.committed.map((e) => e.payload);
      assert.deepEqual(committed.slice(0, 5), ["1.1", "1.2", "1.3", "1.4", "1.5"], `seed ${seed}`);
      for (const id of [2, 3]) assert.deepEqual(payloads(cluster, id), committed, `seed ${seed}`);
    }
  });

  test("a learner that syncs while the leader commits new proposals applies each txn once, in order (ZOOKEEPER-4394)", () => {
    // ZooKeeper's learner met COMMITs for proposals that reached it during the sync phase, and
    // failed on them (a NullPointerException in syncWithLeader). Here the leader's proposals
    // and commits interleave with the DIFF and NEWLEADER on a delayed link.
    let interleaved = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const { cluster, duringSync } = syncUnderLoad(seed);
      if (duringSync > 0) interleaved++;
      cluster.settle(600);
      const committed = cluster.committed.map((e) => e.payload);
      assert.deepEqual(
        committed.slice(0, 8),
        txns(1, 1, 8).map((e) => e.payload),
      );
      for (const id of [1, 2, 3])
        assert.deepEqual(payloads(cluster, id), committed, `seed ${seed}`);
    }
    assert.ok(interleaved >= 30, `proposals committed during the sync in ${interleaved}/40 seeds`);
  });

  test("a learner syncing under load does not make the leader step down (ZOOKEEPER-4685)", () => {
    // ZooKeeper's leader shut down when a learner's ACK of a proposal came before its ACK of
    // NEWLEADER during the sync. Here the learner acks what it is sent in order, and the
    // leader counts NEWLEADER's ack separately: the epoch that was serving goes on serving.
    for (let seed = 1; seed <= 40; seed++) {
      const { cluster } = syncUnderLoad(seed);
      const epochs = [...cluster.leaders.keys()];
      assert.equal(epochs.length, 1, `seed ${seed}: leaders by epoch ${[...cluster.leaders]}`);
      assert.equal(cluster.servingLeader(), cluster.leaders.get(epochs[0] as bigint));
    }
  });

  test("a leader's own ack is its disk: a txn in its memory and on one follower's disk is not committed", () => {
    // The leader sends proposals while its own fsync runs (ready.ts's isEager). With its disk
    // stalled and one follower down, x reaches the other follower's disk only: one durable
    // copy, no quorum. If the leader counted x as its own ack, it would commit x; then the
    // leader and that follower crash, the leader returns without x, and with the third peer it
    // commits something else in x's place.
    for (let seed = 1; seed <= 20; seed++) {
      const cluster = new ZabCluster(seed, 3, 0, STAY_DOWN);
      for (let i = 0; i < 300 && cluster.servingLeader() === undefined; i++) cluster.step();
      const leader = cluster.servingLeader() as number;
      assert.ok(leader !== undefined, `seed ${seed}: a leader`);
      const [follower, away] = [1, 2, 3].filter((id) => id !== leader) as [number, number];
      cluster.crashPeer(away);
      cluster.stallDisk(leader, true);
      const x = cluster.propose();
      assert.ok(x !== undefined);
      for (let i = 0; i < 20; i++) cluster.step();
      assert.ok(
        !cluster.committed.some((e) => e.zxid === x),
        `seed ${seed}: x committed with one durable copy`,
      );
      cluster.crashPeer(leader);
      cluster.crashPeer(follower);
      cluster.stallDisk(leader, false);
      cluster.restartPeer(leader);
      cluster.restartPeer(away);
      cluster.settle(600, new Set([follower]));
      cluster.settle(600);
      for (const id of [1, 2, 3])
        assert.deepEqual(payloads(cluster, id), payloads(cluster, leader));
    }
  });

  test("the quorum crashes right after the leader establishes; what the synced follower acked survives (ZOOKEEPER-3911, -4646, -4785)", () => {
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
