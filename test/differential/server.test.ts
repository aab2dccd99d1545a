/**
 * Differential tests: the same operations against Apache ZooKeeper 3.8 (the oracle) and against
 * zkts; results, error codes, Stats (zxids and times normalized), sequential names, and every
 * notification and reply each session received, in order, must match (ARCHITECTURE.md, "How we
 * know it works" 2; issue 3, Tests).
 *
 * First some hand-written sequences for the trickiest semantics, then random sequences from
 * several sessions (model.ts), which fast-check shrinks to a minimal one on a difference. The
 * failure message shows the sequence and both traces, the differing lines marked ≠.
 *
 *   node scripts/test.mjs test/differential/server.test.ts
 *   ZKTS_DIFF_RUNS=500 ZKTS_DIFF_OPS=40 node scripts/test.mjs test/differential/server.test.ts
 *   ZKTS_DIFF_SEED=... ZKTS_DIFF_PATH=... (from a failure) replays it; ZKTS_DIFF_IGNORE=replyZxid
 *   looks past reply-header zxids (compare.ts lists the settings).
 *
 * How to read a trace: README.md beside this file. framework.test.ts checks the framework
 * itself (ZooKeeper against ZooKeeper must agree; a deliberately wrong server must be caught).
 */
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import { apacheZooKeeperSkip } from "../harness/apache-zookeeper.js";
import { CASES } from "./cases.js";
import {
  assertSameRawTraces,
  assertSameTraces,
  checkParameters,
  diffConfig,
  differentialProperty,
} from "./compare.js";
import { RAW_CASES } from "./raw.js";
import { type RunningTarget, startApacheTarget, startZktsTarget, zktsSkip } from "./targets.js";

const skip = apacheZooKeeperSkip() || zktsSkip();

describe("differential: Apache ZooKeeper and zkts give the same answers", { skip }, () => {
  let oracle: RunningTarget;
  let zkts: RunningTarget;
  before(async () => {
    [oracle, zkts] = await Promise.all([startApacheTarget(), startZktsTarget()]);
  });
  after(async () => {
    await Promise.all([oracle?.stop(), zkts?.stop()]);
  });

  for (const { name, ops: sequence, options } of CASES) {
    test(name, async () => {
      const { ignore, strictOrder } = diffConfig();
      await assertSameTraces(oracle.target, zkts.target, sequence, {
        ...options,
        ignore,
        strictOrder,
      });
    });
  }

  for (const rawCase of RAW_CASES) {
    test(`bad input, raw: ${rawCase.name}`, async () => {
      await assertSameRawTraces(oracle.target, zkts.target, rawCase);
    });
  }

  test("random sequences from three sessions", async () => {
    const config = diffConfig({ runs: 1000 });
    await fc.assert(
      differentialProperty(oracle.target, zkts.target, config),
      checkParameters(config),
    );
  });
});
