/**
 * PersistentNode against the server fixture.ts picks: the node and its parents are created,
 * a deletion by someone else is repaired, setData is kept, close() deletes it; another
 * session's ephemeral node is refused and left alone; a persistent node found there is taken
 * over; on a client that renews expired sessions the node comes back on the new session, and
 * on one that does not, it stays gone. PersistentTtlNode outlives its TTL while touched and goes once its client does.
 * Waits are on the recipes' own events and the server's deletions, bounded by within().
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { CreateMode, type ZooKeeper } from "../../src/index.js";
import {
  NodeOwnedElsewhereError,
  PersistentNode,
  PersistentTtlNode,
} from "../../src/recipes/index.js";
import {
  expireBehindProxy,
  sessionRenewed,
  stateReached,
  within,
} from "../harness/client-helpers.js";
import { Clients, SERVER_NAME, serverSkip, uniquePath } from "../interop/fixture.js";

const BOUND_MS = 20_000;

/** The next path `node` reports created. */
function nextCreated(node: PersistentNode, what: string): Promise<string> {
  return within(
    new Promise<string>((resolve) => {
      const off = node.onCreated((path) => {
        off();
        resolve(path);
      });
    }),
    BOUND_MS,
    what,
  );
}

describe(`PersistentNode against ${SERVER_NAME}`, { skip: serverSkip() }, () => {
  const clients = new Clients();
  let observer: ZooKeeper;
  before(async () => {
    await clients.start();
    observer = await clients.open();
  });
  after(() => clients.stop());

  test("created with its parents, repaired after a deletion, data kept, deleted on close", async () => {
    const path = `${uniquePath("pnode")}/deep/member`;
    const zk = await clients.open();
    const node = new PersistentNode(zk, path, "one");
    await node.start();
    let stat = await observer.exists(path);
    assert.equal(stat?.ephemeralOwner, zk.sessionId);
    await node.setData("two");
    const again = nextCreated(node, "re-created after the deletion");
    await observer.delete(path);
    assert.equal(await again, path);
    const { data, stat: after } = await observer.getData(path);
    assert.equal(data.toString(), "two");
    assert.equal(after.ephemeralOwner, zk.sessionId);
    // Someone else's setData does not start a fight: the node is left with their data.
    await observer.setData(path, "theirs");
    const deleted = nextCreated(node, "re-created once more");
    await observer.delete(path);
    await deleted;
    assert.equal((await observer.getData(path)).data.toString(), "two");
    await node.close();
    stat = await observer.exists(path);
    assert.equal(stat, null);
  });

  test("another session's ephemeral node is refused and left alone", async () => {
    const path = uniquePath("pnode-taken");
    const owner = await clients.open();
    await owner.create(path, "owner's", { mode: CreateMode.EPHEMERAL });
    const zk = await clients.open();
    const node = new PersistentNode(zk, path, "mine");
    await assert.rejects(node.start(), NodeOwnedElsewhereError);
    await node.close();
    const { data, stat } = await observer.getData(path);
    assert.equal(data.toString(), "owner's");
    assert.equal(stat.ephemeralOwner, owner.sessionId);
    assert.throws(
      () => new PersistentNode(zk, path, "", { mode: CreateMode.EPHEMERAL_SEQUENTIAL }),
      RangeError,
    );
  });

  test("a persistent node already there is taken over with our data", async () => {
    const path = uniquePath("pnode-persistent");
    await observer.create(path, "old");
    const zk = await clients.open();
    const node = new PersistentNode(zk, path, "new", { mode: CreateMode.PERSISTENT });
    await node.start();
    assert.equal((await observer.getData(path)).data.toString(), "new");
    await node.close();
    assert.equal(await observer.exists(path), null);
  });

  test("on a client that renews expired sessions, the node comes back on the new session", async () => {
    const path = uniquePath("pnode-renew");
    const { zk, proxy } = await clients.openBehindProxy({ renewExpiredSession: true });
    const node = new PersistentNode(zk, path, "alive");
    await node.start();
    const oldSession = zk.sessionId;
    const renewed = sessionRenewed(zk);
    const recreated = nextCreated(node, "created on the new session");
    await expireBehindProxy(clients.connectString, zk, proxy);
    const newSession = await renewed;
    await recreated;
    assert.notEqual(newSession, oldSession);
    const { data, stat } = await observer.getData(path);
    assert.equal(data.toString(), "alive");
    assert.equal(stat.ephemeralOwner, newSession);
    await node.close();
    assert.equal(await observer.exists(path), null);
  });

  test("on a client that does not renew, an expiry ends it: the node stays gone", async () => {
    const path = uniquePath("pnode-expire");
    const { zk, proxy } = await clients.openBehindProxy();
    const node = new PersistentNode(zk, path, "alive");
    await node.start();
    const expired = stateReached(zk, "expired");
    await expireBehindProxy(clients.connectString, zk, proxy);
    await expired;
    assert.equal(await observer.exists(path), null);
    await node.close(); // quiet: nothing to delete, no session to do it with
    assert.equal(await observer.exists(path), null);
  });
});

describe(`PersistentTtlNode against ${SERVER_NAME}`, { skip: serverSkip() }, () => {
  const TTL_MS = 2000;
  const clients = new Clients();
  let observer: ZooKeeper;
  before(async () => {
    // TTL nodes and containers are reaped every 100 ms here (ZooKeeper's default: a minute).
    await clients.start({ containerCheckIntervalMs: 100 });
    observer = await clients.open();
  });
  after(() => clients.stop());

  /** Resolves when `path` is deleted (at once if it does not exist). */
  async function deleted(path: string, what: string): Promise<void> {
    const { stat, watch } = await observer.exists(path, { watch: true });
    if (stat === null) return;
    const event = await within(watch, TTL_MS + 10_000, what);
    assert.equal(event.type, "NodeDeleted", what);
  }

  test("outlives its TTL while touched, goes within the TTL once its client is gone", async () => {
    const base = uniquePath("ttl-node");
    await observer.create(base);
    const zk = await clients.open();
    const node = new PersistentTtlNode(zk, `${base}/worker`, "w", {
      ttlMs: TTL_MS,
      touchScheduleFactor: 4,
    });
    await node.start();
    const created = await observer.getData(`${base}/worker`);
    assert.equal(created.data.toString(), "w");
    // A bare TTL node made now, of the same TTL, shows the reaper at work: once it is gone,
    // ours has lived past its TTL too, kept by its touches.
    await observer.create(`${base}/bare`, "", {
      mode: CreateMode.PERSISTENT_WITH_TTL,
      ttlMs: TTL_MS,
    });
    await deleted(`${base}/bare`, "the bare TTL node reaped");
    const kept = await observer.exists(`${base}/worker`);
    assert.equal(kept?.czxid, created.stat.czxid, "the same node, never re-created");
    assert.ok(await observer.exists(`${base}/worker/touch`));
    // The client goes (as in a crash, nothing is deleted): the touch expires, then the container.
    await zk.close();
    await deleted(`${base}/worker`, "the node gone after its TTL");
  });

  test("close() deletes it at once", async () => {
    const path = `${uniquePath("ttl-close")}/worker`;
    const zk = await clients.open();
    const node = new PersistentTtlNode(zk, path, "", { ttlMs: 60_000 });
    await node.start();
    assert.ok(await observer.exists(`${path}/touch`));
    await node.close();
    assert.equal(await observer.exists(path), null);
    assert.throws(() => new PersistentTtlNode(zk, path, "", { ttlMs: 0 }), RangeError);
  });
});
