/**
 * Snapshots in a 3-process zkts ensemble, and a client that moves between servers.
 *
 * With a small snapCount every server snapshots as it applies txns, and Zab's history in memory
 * is cut back to the snapshot before the newest. A follower that was down for many snapshots'
 * worth of writes is then behind the leader's history, so it syncs by SNAP: it comes back with
 * the leader's tree, sessions included. A client whose session began while that follower was
 * down moves to it when its own server dies, and keeps its session, its ephemeral node and its
 * watches (re-registered with setWatches), which fire on the next change.
 */
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { CreateMode, connect, type WatchEvent, type ZooKeeper } from "../../src/index.js";
import { type Ensemble, startEnsemble } from "../harness/zkts-ensemble.js";

const SNAP_COUNT = 40;
const WRITES = 400;
const SESSION_TIMEOUT_MS = 20_000;
const OP_TIMEOUT_MS = 15_000;

/** Every znode under `root` (itself included) with its data, sorted by path. */
async function dump(zk: ZooKeeper, root: string): Promise<[string, string][]> {
  const out: [string, string][] = [];
  const walk = async (path: string): Promise<void> => {
    const { data } = await zk.getData(path);
    out.push([path, data?.toString() ?? ""]);
    const children = await zk.getChildren(path);
    for (const child of children.sort()) await walk(`${path}/${child}`);
  };
  await walk(root);
  return out;
}

/** Waits until server `id` has logged `msg` (its output reaches the file a little later). */
async function untilLogged(e: Ensemble, id: number, msg: RegExp): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (e.logLines(id, msg).length === 0) {
    if (Date.now() > deadline) assert.fail(`server ${id} never logged ${msg}:\n${e.logTail(id)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

function snapshotFiles(dataDir: string): string[] {
  return readdirSync(join(dataDir, "version-2")).filter((name) => name.startsWith("snapshot."));
}

describe("snapshots and SNAP sync in a zkts ensemble", { timeout: 180_000 }, () => {
  let ensemble: Ensemble | undefined;
  const clients: ZooKeeper[] = [];
  after(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => {})));
    await ensemble?.stop();
  });

  test("a follower far behind syncs by SNAP; a client moves to it with its session and watches", async () => {
    ensemble = await startEnsemble({
      config: { snapCount: String(SNAP_COUNT), maxSessionTimeout: "30000" },
    });
    const e = ensemble;
    const leader = await e.leader();
    const [behind, other] = [1, 2, 3].filter((id) => id !== leader) as [number, number];

    // The follower that will fall behind goes first; the mover's session starts without it.
    await e.kill(behind);
    const mover = await connect(e.connectString([other, behind]), {
      sessionTimeoutMs: SESSION_TIMEOUT_MS,
    });
    clients.push(mover);
    const session = mover.sessionId;
    await mover.create("/watched", "0");
    await mover.create("/mover-eph", "", { mode: CreateMode.EPHEMERAL });
    const dataChanged = (await mover.getData("/watched", { watch: true }))
      .watch as Promise<WatchEvent>;
    const childrenChanged = (await mover.getChildren("/watched", { watch: true }))
      .watch as Promise<WatchEvent>;

    // Many snapshots' worth of writes while it is away.
    const writer = await connect(e.connectString([leader]));
    clients.push(writer);
    await writer.create("/load", "");
    for (let i = 0; i < WRITES; i++) {
      if (i % 4 === 0) await writer.create(`/load/n${i}`, `v${i}`);
      else await writer.setData(`/load/n${i - (i % 4)}`, `v${i}`);
    }
    const leaderSnaps = snapshotFiles(e.member(leader).dataDir).length;
    assert.ok(leaderSnaps >= 3, `the leader wrote ${leaderSnaps} snapshots`);

    // Back: the leader no longer holds the history it missed, so it gets a snapshot.
    await e.restart(behind);
    await e.waitServing([1, 2, 3], 30_000);
    await untilLogged(e, leader, /^sending a snapshot to a learner$/);
    await untilLogged(e, behind, /^snapshot from the leader installed$/);
    const reader = await connect(e.connectString([behind]));
    clients.push(reader);
    await reader.sync("/");
    assert.deepEqual(await dump(reader, "/load"), await dump(writer, "/load"));
    assert.ok(await reader.exists("/mover-eph"), "the ephemeral came with the snapshot");

    // The mover's server dies: it moves to the follower that came back by SNAP.
    await e.kill(other);
    await writer.setData("/watched", "1", { timeoutMs: OP_TIMEOUT_MS });
    await writer.create("/watched/child", "", { timeoutMs: OP_TIMEOUT_MS });
    const [data, children] = await Promise.all([dataChanged, childrenChanged]);
    assert.equal(data.type, "NodeDataChanged");
    assert.equal(children.type, "NodeChildrenChanged");
    assert.equal(mover.sessionId, session, "the same session");
    assert.equal(
      (await mover.getData("/watched", { timeoutMs: OP_TIMEOUT_MS })).data?.toString(),
      "1",
    );
    assert.ok(await mover.exists("/mover-eph"), "its ephemeral is still there");
    assert.equal(mover.state, "connected");
  });
});
