/**
 * The container manager of the zkts server: a container that had children and lost them is
 * deleted, one that never had any stays, and a TTL node with no children goes once it has not
 * been modified for its TTL. Checked every 50 ms here (ZooKeeper's default is a minute).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { CreateMode, connect, type ZooKeeper } from "../../src/index.js";
import { createLogger, type RunningServer, startServer } from "../../src/server/index.js";
import { within } from "../harness/client-helpers.js";

describe("zkts server: containers and TTL nodes", () => {
  let server: RunningServer;
  let zk: ZooKeeper;

  before(async () => {
    server = await startServer(
      {
        clientPort: 0,
        clientPortAddress: "127.0.0.1",
        extendedTypesEnabled: true,
        containerCheckIntervalMs: 50,
      },
      createLogger("silent"),
    );
    zk = await connect(server.address);
  });

  after(async () => {
    await zk?.close();
    await server?.close();
  });

  it("deletes a container once its last child is gone, and keeps one that never had any", async () => {
    await zk.create("/c", "", { mode: CreateMode.CONTAINER });
    await zk.create("/never-used", "", { mode: CreateMode.CONTAINER });
    await zk.create("/c/child");
    const { watch } = await zk.exists("/c", { watch: true });
    await zk.delete("/c/child");
    const event = await within(watch, 5000, "the container's NodeDeleted");
    assert.deepEqual([event.type, event.path], ["NodeDeleted", "/c"]);
    assert.ok(await zk.exists("/never-used"), "an unused container stays");
  });

  it("deletes a childless TTL node after its TTL, not while it has children", async () => {
    await zk.create("/ttl-parent", "", { mode: CreateMode.PERSISTENT_WITH_TTL, ttlMs: 100 });
    await zk.create("/ttl-parent/child");
    await zk.create("/ttl", "", { mode: CreateMode.PERSISTENT_WITH_TTL, ttlMs: 100 });
    const { watch } = await zk.exists("/ttl", { watch: true });
    const event = await within(watch, 5000, "the TTL node's NodeDeleted");
    assert.equal(event.type, "NodeDeleted");
    // Checked after /ttl expired: the parent is older than its TTL but has a child.
    assert.ok(await zk.exists("/ttl-parent"));
  });
});
