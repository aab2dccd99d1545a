/**
 * Goal: the bounded slice of `npm run fuzz` in every `npm test`: hostile connections never crash
 * the server, never leave state behind them, are answered or closed, and the server keeps
 * serving a well-behaved client with its memory bounded.
 * Method: fast-check runs of 1-4 hostile connections (test/fuzz/inputs.ts) against the server's
 * connection shell and core in this process (fake sockets, a txn log that acknowledges later),
 * then against a `zkts server` process over TCP. A new seed each time; a failure prints the
 * seed and path that replay it: `npm run fuzz -- --target=core --seed=S --path=P`.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import { CoreTarget } from "./core.js";
import { script } from "./inputs.js";
import { LiveTarget } from "./live.js";

const runs = fc.array(script, { minLength: 1, maxLength: 4 });

describe("fuzz slice: hostile connections", () => {
  test("in-process shell and core: 1,500 runs", async () => {
    const core = new CoreTarget();
    await fc.assert(
      fc.asyncProperty(runs, (scripts) => core.run(scripts)),
      { numRuns: 1500 },
    );
    assert.equal(core.figures.runs >= 1500, true);
    // The inputs reached both ends: some connections answered to the end, some closed.
    assert.ok(core.figures.answered > 100, `answered ${core.figures.answered}`);
    assert.ok(core.figures.closed > 100, `closed ${core.figures.closed}`);
  });

  describe("a zkts server process over TCP", () => {
    let live: LiveTarget;
    before(async () => {
      live = await LiveTarget.start({ rssBoundMiB: 512 });
    });
    after(async () => {
      await live?.stop();
    });

    test("300 runs; the well-behaved client is served throughout", async () => {
      await fc.assert(
        fc.asyncProperty(runs, (scripts) => live.run(scripts)),
        // Shrinking against a live server replays on changed state: report the first failure.
        { numRuns: 300, endOnFailure: true },
      );
      await live.check();
      await live.checkNothingLeft();
      assert.ok(live.figures.checks >= 12, `checked ${live.figures.checks} times`);
      assert.ok(live.figures.answered > 20, `answered ${live.figures.answered}`);
    });
  });
});
