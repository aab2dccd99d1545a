/**
 * The differential framework checked on itself, with Apache ZooKeeper on both sides:
 * - two separate ZooKeeper servers must give identical traces for random sequences (else the
 *   trace records something nondeterministic and would accuse zkts falsely);
 * - a "server" that is ZooKeeper with one deliberate fault (a wire tap that drops or rewrites
 *   frames) must be caught, and fast-check must shrink the failing sequence to the few ops that
 *   show the fault.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import { ErrorCode, EventType, Xid } from "../../src/internal.js";
import { apacheZooKeeperSkip } from "../harness/apache-zookeeper.js";
import { CASES } from "./cases.js";
import {
  assertSameRawTraces,
  assertSameTraces,
  checkParameters,
  diffConfig,
  differentialProperty,
} from "./compare.js";
import { formatSequence } from "./model.js";
import { RAW_CASES } from "./raw.js";
import { DiffTarget } from "./runner.js";
import { type RunningTarget, startApacheTarget } from "./targets.js";
import type { Perturb } from "./wire-tap.js";

/** Drops every NodeChildrenChanged notification. */
const dropChildEvents: Perturb = (frame) =>
  frame.readInt32BE(0) === Xid.notification &&
  frame.readInt32BE(16) === EventType.NodeChildrenChanged
    ? null
    : frame;

/** Answers NONODE where the server said NODEEXISTS. */
const nodeExistsAsNoNode: Perturb = (frame) => {
  if (frame.readInt32BE(0) < 0 || frame.readInt32BE(12) !== ErrorCode.NODEEXISTS) return frame;
  const copy = Buffer.from(frame);
  copy.writeInt32BE(ErrorCode.NONODE, 12);
  return copy;
};

describe("differential framework, Apache ZooKeeper against itself", {
  skip: apacheZooKeeperSkip(),
}, () => {
  let first: RunningTarget;
  let second: RunningTarget;
  const extra: DiffTarget[] = [];
  before(async () => {
    [first, second] = await Promise.all([
      startApacheTarget("ZooKeeper #1"),
      startApacheTarget("ZooKeeper #2"),
    ]);
  });
  after(async () => {
    await Promise.all(extra.map((target) => target.close()));
    await Promise.all([first?.stop(), second?.stop()]);
  });

  // First, while both servers are fresh (the first case reads the root's Stat).
  for (const { name, ops: sequence, options } of CASES) {
    test(`hand-written case is deterministic: ${name}`, async () => {
      const { strictOrder } = diffConfig();
      await assertSameTraces(first.target, second.target, sequence, { ...options, strictOrder });
    });
  }

  for (const rawCase of RAW_CASES) {
    test(`raw case is deterministic: ${rawCase.name}`, async () => {
      await assertSameRawTraces(first.target, second.target, rawCase);
    });
  }

  test("two ZooKeeper servers give identical traces", async () => {
    const config = diffConfig({ runs: 200 });
    await fc.assert(
      differentialProperty(first.target, second.target, config),
      checkParameters(config),
    );
  });

  async function caughtAndShrunk(name: string, perturb: Perturb) {
    const chrootPrefix = `/perturbed${extra.length}-`;
    const perturbed = await DiffTarget.open(name, second.target.address, { perturb, chrootPrefix });
    extra.push(perturbed);
    const config = diffConfig({ runs: 200 });
    const result = await fc.check(differentialProperty(first.target, perturbed, config), {
      ...checkParameters(config),
      numRuns: 200,
    });
    assert.equal(result.failed, true, `${name}: no sequence told it apart from ZooKeeper`);
    const [shrunk] = result.counterexample ?? [[]];
    const error = String(result.errorInstance);
    // Shrunk means no op can go: without any one of them, the fault no longer shows. fast-check
    // may stop at a longer local minimum than the shortest witness (create, child watch, delete
    // rather than child watch, create), so minimality is the claim, not a fixed length.
    for (let i = 0; i < shrunk.length; i++) {
      const fewer = shrunk.filter((_, j) => j !== i);
      await assert.doesNotReject(
        assertSameTraces(first.target, perturbed, fewer, {
          ignore: config.ignore,
          strictOrder: config.strictOrder,
        }),
        `not shrunk: still differs without op #${i} of\n${error}`,
      );
    }
    return { shrunk, numShrinks: result.numShrinks, error };
  }

  test("a server that drops NodeChildrenChanged is caught, shrunk to a child watch and a change", async (t) => {
    const { shrunk, numShrinks, error } = await caughtAndShrunk(
      "ZooKeeper without child events",
      dropChildEvents,
    );
    t.diagnostic(`shrunk ${numShrinks} times to:\n${formatSequence(shrunk)}`);
    assert.ok(shrunk.length <= 3, `not shrunk enough:\n${error}`);
    assert.match(error, /≠ .*event NodeChildrenChanged/, error);
  });

  test("a server that says NONODE for NODEEXISTS is caught, shrunk to one or two creates", async (t) => {
    const { shrunk, numShrinks, error } = await caughtAndShrunk(
      "ZooKeeper with NONODE for NODEEXISTS",
      nodeExistsAsNoNode,
    );
    t.diagnostic(`shrunk ${numShrinks} times to:\n${formatSequence(shrunk)}`);
    assert.ok(shrunk.length <= 2, `not shrunk enough:\n${error}`);
    assert.match(error, /NodeExistsError/, error);
    assert.match(error, /NoNodeError/, error);
  });
});
