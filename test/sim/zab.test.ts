/**
 * Zab in the simulator (src/sim/zab-cluster.ts): many seeds of faults, each checked step by step
 * for one leader per epoch and one committed sequence, then for progress once the faults stop.
 * A failing seed prints the command that replays it:
 *
 *     ZKTS_SIM_SEED=<seed> node --import tsx --test test/sim/zab.test.ts
 *
 * ZKTS_SIM_SEEDS sets how many seeds a run tries (default 500 per scenario, bounded in time).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type Faults, NO_FAULTS, SimViolation, ZabCluster } from "../../src/sim/zab-cluster.js";

const SEEDS = Number(process.env.ZKTS_SIM_SEEDS ?? 500);
const ONLY =
  process.env.ZKTS_SIM_SEED === undefined ? undefined : Number(process.env.ZKTS_SIM_SEED);
const BASE = Number(process.env.ZKTS_SIM_BASE ?? Date.now() % 1_000_000);

function run(seed: number, voters: number, observers: number, faults: Faults, ticks: number) {
  const cluster = new ZabCluster(seed, voters, observers, faults);
  try {
    for (let t = 0; t < ticks; t++) {
      cluster.step();
      if (cluster.rng.chance(0.3)) cluster.propose();
    }
    cluster.settle(400);
  } catch (error) {
    const replay = `ZKTS_SIM_SEED=${seed} node --import tsx --test test/sim/zab.test.ts`;
    const trace = cluster.trace.slice(-60).join("\n");
    if (error instanceof SimViolation) {
      assert.fail(`${error.message}\nreplay: ${replay}\nlast events:\n${trace}`);
    }
    throw new Error(`seed ${seed}: ${(error as Error).message}\nreplay: ${replay}\n${trace}`);
  }
  return cluster;
}

const SCENARIOS: { name: string; voters: number; observers: number; faults: Faults }[] = [
  { name: "3 voters, no faults", voters: 3, observers: 0, faults: NO_FAULTS },
  {
    name: "3 voters, lossy election, broken links, crashes",
    voters: 3,
    observers: 0,
    faults: {
      dropNotification: 0.2,
      duplicateNotification: 0.1,
      breakLink: 0.01,
      maxDelay: 2,
      crash: 0.01,
      restart: 0.1,
      partition: 0,
      heal: 1,
      slowSync: 0.2,
    },
  },
  {
    name: "5 voters and an observer, partitions and crashes",
    voters: 5,
    observers: 1,
    faults: {
      dropNotification: 0.1,
      duplicateNotification: 0.1,
      breakLink: 0.003,
      maxDelay: 3,
      crash: 0.004,
      restart: 0.1,
      partition: 0.01,
      heal: 0.1,
      slowSync: 0.3,
    },
  },
  {
    name: "3 voters, storms: everything at once, often",
    voters: 3,
    observers: 0,
    faults: {
      dropNotification: 0.4,
      duplicateNotification: 0.3,
      breakLink: 0.03,
      maxDelay: 5,
      crash: 0.03,
      restart: 0.2,
      partition: 0.03,
      heal: 0.1,
      slowSync: 0.5,
    },
  },
];

describe("Zab in the simulator", () => {
  for (const scenario of SCENARIOS) {
    test(scenario.name, (t) => {
      const seeds = ONLY === undefined ? SEEDS : 1;
      const deadline = Date.now() + 60_000;
      let ran = 0;
      let committed = 0;
      let epochs = 0;
      let snaps = 0;
      for (let i = 0; i < seeds && Date.now() < deadline; i++) {
        const seed = ONLY ?? BASE + i;
        const cluster = run(seed, scenario.voters, scenario.observers, scenario.faults, 300);
        ran++;
        committed += cluster.committed.length;
        epochs += cluster.leaders.size;
        snaps += cluster.snapshotsInstalled;
      }
      t.diagnostic(
        `${ran} seeds from ${BASE}: ${committed} txns committed, ${epochs} leaders, ${snaps} SNAP syncs`,
      );
      assert.ok(committed > ran, "the runs committed next to nothing: the check would be empty");
    });
  }
});
