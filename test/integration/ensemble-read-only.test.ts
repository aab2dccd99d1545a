/**
 * Read-only mode in a 3-process zkts ensemble (readonlymode.enabled), as Apache ZooKeeper's
 * ReadOnlyZooKeeperServer behaves (test/interop/failover.test.ts runs the same client steps
 * against Apache ZooKeeper): a server cut off from its quorum turns read-only after its grace
 * period; a client that allows it connects, is told so in the connect reply, reads, and gets
 * NotReadOnly for writes and sync; a client that does not allow it is refused; isro says "ro"
 * and srvr "Mode: read-only". When the quorum is back the server leaves read-only mode and the
 * client finds a read-write server by itself, with a new session.
 */
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { connect, NotReadOnlyError, type ZooKeeper } from "../../src/index.js";
import { stateReached } from "../harness/client-helpers.js";
import { fourLetterWord } from "../harness/four-letter-word.js";
import { type Ensemble, startEnsemble } from "../harness/zkts-ensemble.js";

describe("read-only mode in a zkts ensemble", { timeout: 120_000 }, () => {
  let ensemble: Ensemble | undefined;
  const clients: ZooKeeper[] = [];
  after(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => {})));
    await ensemble?.stop();
  });

  test("a server without a quorum serves reads to read-only clients, then rejoins", async () => {
    ensemble = await startEnsemble({
      config: { "readonlymode.enabled": "true", "4lw.commands.whitelist": "srvr,isro" },
    });
    const e = ensemble;
    const writer = await connect(e.connectString());
    clients.push(writer);
    await writer.create("/ro", "before");
    // Every server has it before the others go (sync through the quorum, then read).
    for (const id of [1, 2, 3]) {
      const reader = await connect(e.connectString([id]));
      await reader.sync("/ro");
      assert.equal((await reader.getData("/ro")).data?.toString(), "before");
      await reader.close();
    }
    await writer.close();

    const [survivor, ...others] = [1, 2, 3];
    for (const id of others) await e.kill(id as number);
    await e.waitMode(survivor as number, (mode) => mode === "read-only", 20_000);
    const { address } = e.member(survivor as number);
    const [host, port] = [address.split(":")[0] as string, Number(address.split(":")[1])];
    assert.equal(await fourLetterWord(host, port, "isro", 2_000), "ro");

    const zk = await connect(e.connectString(), {
      canBeReadOnly: true,
      initialConnectTimeoutMs: 30_000,
    });
    clients.push(zk);
    assert.equal(zk.state, "connectedReadOnly");
    assert.equal(zk.server, address);
    assert.equal((await zk.getData("/ro")).data?.toString(), "before");
    await assert.rejects(zk.setData("/ro", "after"), NotReadOnlyError);
    await assert.rejects(zk.create("/ro2", ""), NotReadOnlyError);
    await assert.rejects(zk.sync("/ro"), NotReadOnlyError);
    const readOnlySession = zk.sessionId;

    // A client that does not allow read-only is turned away.
    await assert.rejects(connect(address, { initialConnectTimeoutMs: 3_000 }));

    // The quorum comes back: the client finds a read-write server with a new session.
    const writable = stateReached(zk, "connected", 60_000);
    for (const id of others) await e.restart(id as number);
    await writable;
    assert.notEqual(zk.sessionId, readOnlySession);
    await zk.setData("/ro", "after");
    assert.equal((await zk.getData("/ro")).data?.toString(), "after");
    await e.waitServing([1, 2, 3], 30_000);
    assert.equal(await fourLetterWord(host, port, "isro", 2_000), "rw");
  });
});
