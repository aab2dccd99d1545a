/**
 * The ensemble's notable events in the servers' JSON logs, one line each, on real processes:
 * every server logs its election starting, the winner "leader established" and each follower
 * syncing with it ("leader: follower synced"), each follower "follower synced". After a kill -9
 * of the leader, the survivors log a new election and its outcome, and the new leader its one
 * remaining follower. The logs are read from the servers' output files (JSON, not a terminal).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { type Ensemble, startEnsemble } from "../harness/zkts-ensemble.js";

/** Log lines trail the srvr answer by up to a Zab tick; bounded, for a loaded machine. */
const LOGGED_MS = 15_000;

describe("ensemble logs: one line per notable event", () => {
  let ensemble: Ensemble;

  before(async () => {
    ensemble = await startEnsemble();
  });

  after(async () => {
    await ensemble?.stop();
  });

  /** Resolves with server `id`'s lines whose msg matches once `ok` accepts them. */
  async function logged(
    id: number,
    msg: RegExp,
    ok: (lines: Record<string, unknown>[]) => boolean,
  ): Promise<Record<string, unknown>[]> {
    const deadline = Date.now() + LOGGED_MS;
    for (;;) {
      const lines = ensemble.logLines(id, msg);
      if (ok(lines)) return lines;
      if (Date.now() > deadline) {
        assert.fail(`server ${id}: ${msg} not logged as expected:\n${ensemble.logTail(id)}`);
      }
      await delay(50);
    }
  }

  it("logs the election, the leader and every follower's sync", async () => {
    const leader = await ensemble.leader();
    const followers = ensemble.members.map((m) => m.id).filter((id) => id !== leader);
    for (const m of ensemble.members) {
      await logged(m.id, /^election started$/, (lines) => lines.length >= 1);
    }
    await logged(leader, /^leader established$/, (lines) => lines.length === 1);
    const synced = await logged(leader, /^leader: follower synced$/, (lines) => lines.length >= 2);
    assert.deepEqual(new Set(synced.map((line) => line.follower)), new Set(followers));
    for (const id of followers) {
      const [line] = await logged(id, /^follower synced$/, (lines) => lines.length === 1);
      assert.equal(line?.leader, leader);
    }
  });

  it("logs a new election and its outcome after a kill -9 of the leader", async () => {
    const old = await ensemble.leader();
    const survivors = ensemble.members.map((m) => m.id).filter((id) => id !== old);
    await ensemble.kill(old);
    const next = await ensemble.waitServing(survivors, 30_000);
    for (const id of survivors) {
      await logged(id, /^election started$/, (lines) => lines.length >= 2);
    }
    await logged(next, /^leader established$/, (lines) => lines.length >= 1);
    const other = survivors.find((id) => id !== next) as number;
    await logged(next, /^leader: follower synced$/, (lines) =>
      lines.some((line) => line.follower === other),
    );
    await logged(other, /^follower synced$/, (lines) => lines.some((l) => l.leader === next));
  });
});
