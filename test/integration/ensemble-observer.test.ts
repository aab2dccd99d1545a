/**
 * An observer in a zkts ensemble (3 voters + 1 observer, real processes): it says "observer"
 * to srvr, serves reads, passes its clients' writes to the leader and sees every committed
 * write; and it never counts towards a quorum: with two of the three voters gone, the voter
 * and the observer left acknowledge no write, until the voters come back.
 */
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { connect, type ZooKeeper } from "../../src/index.js";
import { fourLetterWord } from "../harness/four-letter-word.js";
import { type Ensemble, startEnsemble } from "../harness/zkts-ensemble.js";

const OBSERVER = 4;

describe("an observer in a zkts ensemble", { timeout: 120_000 }, () => {
  let ensemble: Ensemble | undefined;
  const clients: ZooKeeper[] = [];
  after(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => {})));
    await ensemble?.stop();
  });

  test("serves reads, forwards writes, and never votes", async () => {
    ensemble = await startEnsemble({
      observers: 1,
      config: { maxSessionTimeout: "30000", "4lw.commands.whitelist": "srvr,mntr" },
    });
    const e = ensemble;
    assert.equal(await e.mode(OBSERVER), "observer");
    const onObserver = await connect(e.connectString([OBSERVER]));
    clients.push(onObserver);
    await onObserver.create("/obs", "1");
    await onObserver.setData("/obs", "2");
    assert.equal((await onObserver.getData("/obs")).data?.toString(), "2");
    const leader = await e.leader();
    // The leader's figures count the observer apart from the followers, as ZooKeeper's do.
    const [host, port] = e.member(leader).address.split(":") as [string, string];
    const mntr = await fourLetterWord(host, Number(port), "mntr", 2_000);
    assert.match(mntr, /^zk_learners\t3$/m);
    assert.match(mntr, /^zk_synced_followers\t2$/m);
    assert.match(mntr, /^zk_synced_observers\t1$/m);
    assert.match(mntr, /^zk_quorum_size\t3$/m);
    const onLeader = await connect(e.connectString([leader]));
    clients.push(onLeader);
    assert.equal((await onLeader.getData("/obs")).data?.toString(), "2");
    await onLeader.setData("/obs", "3");
    await onObserver.sync("/obs");
    assert.equal((await onObserver.getData("/obs")).data?.toString(), "3");

    // Two voters go: one voter and the observer are no quorum.
    const [survivor, ...gone] = [leader, ...[1, 2, 3].filter((id) => id !== leader)] as [
      number,
      number,
      number,
    ];
    for (const id of gone) await e.kill(id);
    await e.waitMode(survivor, (mode) => mode !== "leader", 20_000);
    // The observer has no leader to follow: it stops serving too.
    await e.waitMode(OBSERVER, (mode) => mode !== "observer", 20_000);
    const stranded = await connect(e.connectString([survivor, OBSERVER]), {
      sessionTimeoutMs: 30_000,
      initialConnectTimeoutMs: 2_000,
    }).catch((error: unknown) => error as Error);
    if (!(stranded instanceof Error)) {
      clients.push(stranded);
      await assert.rejects(stranded.setData("/obs", "lost", { timeoutMs: 3_000 }));
    }

    for (const id of gone) await e.restart(id);
    await e.waitServing([1, 2, 3, OBSERVER], 30_000);
    const after = await connect(e.connectString([OBSERVER]));
    clients.push(after);
    await after.sync("/obs");
    assert.equal((await after.getData("/obs")).data?.toString(), "3");
    await after.setData("/obs", "4");
    assert.equal((await after.getData("/obs")).data?.toString(), "4");
  });
});
