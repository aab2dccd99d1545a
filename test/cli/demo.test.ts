/**
 * `zkts demo`: the mutex and election demos run as a user runs them, against a zkts server of
 * their own (a free port, never 2181), checked by exit status and by the timeline they print;
 * afterwards no demo znode is left behind; --hold-ms keeps each lock that long. Bad flags: one
 * line, exit 2.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { connect } from "../../src/index.js";
import { startZkts } from "../harness/zkts-server.js";

type Server = Awaited<ReturnType<typeof startZkts>>;

const MAIN = "src/cli/main.ts";

function zkts(...args: string[]) {
  const result = spawnSync(process.execPath, ["--import", "tsx", MAIN, ...args], {
    encoding: "utf8",
    timeout: 60_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The timeline's lines as [who, what], in order; every line must carry a timestamp. */
function events(stdout: string): [string, string][] {
  return timed(stdout).map(([, who, what]) => [who, what]);
}

/** The timeline's lines as [seconds since the start, who, what]. */
function timed(stdout: string): [number, string, string][] {
  return stdout
    .trimEnd()
    .split("\n")
    .map((line) => {
      const match = /^\+(\d+\.\d{3})s (\S+) (.*)$/.exec(line);
      assert.ok(match, `not a timeline line: ${line}`);
      return [Number(match[1]), match[2]!, match[3]!];
    });
}

describe("zkts demo against a zkts server", () => {
  let server: Server;

  before(async () => {
    server = await startZkts();
  });

  after(async () => {
    await server?.stop();
  });

  async function assertNothingLeft(): Promise<void> {
    const zk = await connect(server.connectString);
    try {
      const left = (await zk.getChildren("/")).filter((name) => name.startsWith("zkts-demo-"));
      assert.deepEqual(left, []);
    } finally {
      await zk.close();
    }
  }

  it("mutex: holds never overlap, and the counter ends at workers × rounds", async () => {
    const { status, stdout, stderr } = zkts(
      "demo",
      "mutex",
      "--workers",
      "3",
      "--rounds",
      "2",
      "--server",
      server.connectString,
    );
    assert.equal(status, 0, stderr);
    assert.equal(stderr, "");
    let holder: string | undefined;
    let holds = 0;
    let expected = 0;
    for (const [who, what] of events(stdout)) {
      const hold = /^holds \(counter (\d+) → (\d+)\)$/.exec(what);
      if (hold) {
        assert.equal(holder, undefined, `${who} holds while ${holder} still does`);
        assert.equal(Number(hold[1]), expected, "a lost update");
        assert.equal(Number(hold[2]), expected + 1);
        holder = who;
        holds += 1;
        expected += 1;
      } else if (what === "releases") {
        assert.equal(who, holder, `${who} releases a lock it does not hold`);
        holder = undefined;
      }
    }
    assert.equal(holder, undefined);
    assert.equal(holds, 6);
    assert.match(stdout, /demo counter = 6 \(expected 6\) ok\n$/);
    await assertNothingLeft();
  });

  it("mutex --hold-ms: each worker holds its lock that long before it releases", async () => {
    const holdMs = 400;
    const { status, stdout, stderr } = zkts(
      ...["demo", "mutex", "--workers", "2", "--rounds", "2"],
      ...["--hold-ms", String(holdMs), "--server", server.connectString],
    );
    assert.equal(status, 0, stderr);
    assert.match(stdout, new RegExp(`2 workers × 2 rounds, each lock held ${holdMs} ms\\n`));
    const heldSince = new Map<string, number>();
    let holds = 0;
    for (const [at, who, what] of timed(stdout)) {
      if (what.startsWith("holds ")) heldSince.set(who, at);
      if (what !== "releases") continue;
      const since = heldSince.get(who) ?? assert.fail(`${who} releases before it holds`);
      // A few ms of slack: the timeline rounds to ms, and a timer may fire a ms early.
      assert.ok(at - since >= (holdMs - 5) / 1000, `${who} held ${at - since} s, not ${holdMs} ms`);
      holds += 1;
    }
    assert.equal(holds, 4);
    assert.match(stdout, /demo counter = 4 \(expected 4\) ok\n$/);
    await assertNothingLeft();
  });

  it("--help lists --hold-ms", () => {
    const { status, stdout } = zkts("demo", "--help");
    assert.equal(status, 0);
    assert.match(stdout, /--hold-ms MS/);
  });

  it("election --kill-leader: a leader, then after the kill a different one", async () => {
    const { status, stdout, stderr } = zkts(
      "demo",
      "election",
      "--candidates",
      "3",
      "--kill-leader",
      "--server",
      server.connectString,
    );
    assert.equal(status, 0, stderr);
    assert.equal(stderr, "");
    const timeline = events(stdout);
    assert.equal(timeline.filter(([, what]) => what.startsWith("stands")).length, 3);
    const killAt = timeline.findIndex(([who, what]) => who === "demo" && /^kills /.test(what));
    assert.ok(killAt > 0, "no kill in the timeline");
    const leadersBefore = timeline.slice(0, killAt).filter(([, what]) => what === "leads");
    assert.equal(leadersBefore.length, 1, "exactly one leader before the kill");
    const first = leadersBefore[0]![0];
    assert.match(timeline[killAt]![1], new RegExp(`^kills ${first}'s session 0x[0-9a-f]+$`));
    const after = timeline.slice(killAt + 1);
    const successor = after.find(([, what]) => what === "leads");
    assert.ok(successor, "no leader after the kill");
    assert.notEqual(successor[0], first);
    const noLonger = after.findIndex(
      ([who, what]) => who === first && /^no longer leads/.test(what),
    );
    assert.ok(noLonger >= 0, `${first} was not told it lost leadership`);
    assert.match(
      stdout,
      new RegExp(`observer reads the leader: ${successor[0]} \\(was ${first}\\)`),
    );
    assert.equal(timeline.filter(([, what]) => what === "leaves").length, 3);
    await assertNothingLeft();
  });

  it("a bad flag: one line on stderr, exit 2", () => {
    for (const args of [
      ["demo", "mutex", "--workers", "0"],
      ["demo", "election", "--bogus"],
      ["demo", "mutex", "--kill-leader"],
      ["demo", "mutex", "--hold-ms", "-5"],
      ["demo", "mutex", "--hold-ms", "600001"],
      ["demo", "election", "--hold-ms", "10"],
      ["demo", "lottery"],
    ]) {
      const { status, stdout, stderr } = zkts(...args);
      assert.equal(status, 2, `${args.join(" ")}: exit ${status}; stderr: ${stderr}`);
      assert.equal(stdout, "");
      const lines = stderr.trimEnd().split("\n");
      assert.equal(lines.length, 1, `more than one line:\n${stderr}`);
      assert.match(lines[0]!, /^zkts demo: /);
    }
  });
});
