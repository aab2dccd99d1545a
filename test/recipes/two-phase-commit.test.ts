/**
 * Two-phase commit against the server fixture.ts picks: sites in their own sessions vote, the
 * coordinator decides, and every site sees the same outcome: commit when all commit, abort when
 * one aborts, abort when a site never votes and the coordinator times out.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { NodeExistsError, type ZooKeeper } from "../../src/index.js";
import { TwoPhaseCommit, TwoPhaseParticipant, type Vote } from "../../src/recipes/index.js";
import { Clients, SERVER_NAME, serverSkip, uniquePath } from "../interop/fixture.js";

describe(`TwoPhaseCommit against ${SERVER_NAME}`, { skip: serverSkip() }, () => {
  const clients = new Clients();
  let coordinator: ZooKeeper;
  before(async () => {
    await clients.start();
    coordinator = await clients.open();
  });
  after(() => clients.stop());

  /** Each site votes from its own session, started before the coordinator creates the node. */
  async function run(votes: Record<string, Vote>, timeoutMs?: number) {
    const path = `${uniquePath("2pc")}/tx`;
    const sites = Object.keys(votes);
    const seen = Object.entries(votes).map(async ([site, vote]) =>
      new TwoPhaseParticipant(await clients.open(), path, site).vote(vote),
    );
    const outcome = await TwoPhaseCommit.coordinate(
      coordinator,
      path,
      sites,
      timeoutMs === undefined ? {} : { timeoutMs },
    );
    return { path, outcome, seen: await Promise.all(seen) };
  }

  test("3 sites all commit: commit, seen by every site", async () => {
    const { path, outcome, seen } = await run({ a: "commit", b: "commit", c: "commit" });
    assert.equal(outcome, "commit");
    assert.deepEqual(seen, ["commit", "commit", "commit"]);
    assert.equal(await TwoPhaseCommit.outcome(coordinator, path), "commit");
    for (const site of ["a", "b", "c"]) {
      assert.equal((await coordinator.getData(`${path}/${site}`)).data.toString(), "commit");
    }
    await TwoPhaseCommit.remove(coordinator, path);
    assert.equal(await coordinator.exists(path), null);
  });

  test("one site aborts: abort, seen by every site", async () => {
    const { outcome, seen } = await run({ a: "commit", b: "abort", c: "commit" });
    assert.equal(outcome, "abort");
    assert.deepEqual(seen, ["abort", "abort", "abort"]);
  });

  test("a site that never votes: the coordinator times out and aborts", async () => {
    const path = `${uniquePath("2pc-timeout")}/tx`;
    const voters = ["a", "b"].map(async (site) =>
      new TwoPhaseParticipant(await clients.open(), path, site).vote("commit"),
    );
    const outcome = await TwoPhaseCommit.coordinate(coordinator, path, ["a", "b", "silent"], {
      timeoutMs: 300,
    });
    assert.equal(outcome, "abort");
    assert.deepEqual(await Promise.all(voters), ["abort", "abort"]);
    // A late site learns the outcome without its vote counting.
    const late = new TwoPhaseParticipant(await clients.open(), path, "silent");
    assert.equal(await late.vote("commit"), "abort");
    assert.equal((await coordinator.getData(`${path}/silent`)).data.length, 0);
  });

  test("a transaction runs once; the coordinator's abort signal rejects", async () => {
    const path = `${uniquePath("2pc-once")}/tx`;
    const controller = new AbortController();
    const running = TwoPhaseCommit.coordinate(coordinator, path, ["a"], {
      signal: controller.signal,
    });
    const created = await coordinator.exists(path, { watch: true });
    if (created.stat === null) await created.watch;
    await assert.rejects(TwoPhaseCommit.coordinate(coordinator, path, ["a"]), NodeExistsError);
    controller.abort(new Error("cancelled"));
    await assert.rejects(running, /cancelled/);
    assert.equal(await TwoPhaseCommit.outcome(coordinator, path), undefined);
  });
});
