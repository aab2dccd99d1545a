/**
 * The examples a newcomer reads first must run: each against a zkts server of its own (started
 * and stopped by pid), checked by exit status and by what it prints.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { startZkts } from "../harness/zkts-server.js";

type Server = Awaited<ReturnType<typeof startZkts>>;

function runExample(file: string, connectString: string) {
  const result = spawnSync(process.execPath, ["--import", "tsx", file, connectString], {
    encoding: "utf8",
    timeout: 60_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("examples against a zkts server", () => {
  let server: Server;

  before(async () => {
    server = await startZkts();
  });

  after(async () => {
    await server?.stop();
  });

  it("basics: create, read and update with versions, a watch that fires, delete", () => {
    const { status, stdout, stderr } = runExample("examples/basics.ts", server.connectString);
    assert.equal(status, 0, stderr);
    assert.match(stdout, /is refused: BADVERSION/);
    assert.match(stdout, /watch fired: NodeChildrenChanged/);
    assert.match(stdout, /exists now: null/);
  });

  it("mutex: the counter ends at workers × rounds", () => {
    const { status, stdout, stderr } = runExample("examples/mutex.ts", server.connectString);
    assert.equal(status, 0, stderr);
    assert.match(stdout, /counter = 20 \(expected 20\)/);
  });

  it("election: each candidate leads once, and any client reads the leader", () => {
    const { status, stdout, stderr } = runExample("examples/election.ts", server.connectString);
    assert.equal(status, 0, stderr);
    const leaders = [...stdout.matchAll(/turn \d: (\w+) leads; anyone can read it: (\w+)/g)];
    assert.equal(leaders.length, 3);
    for (const [, leader, read] of leaders) assert.equal(read, leader);
    assert.deepEqual(leaders.map((m) => m[1]).sort(), ["alice", "bob", "carol"]);
  });
  it("service discovery: an instance whose session expired registers again by itself", () => {
    const { status, stdout, stderr } = runExample(
      "examples/service-discovery.ts",
      server.connectString,
    );
    assert.equal(status, 0, stderr);
    const lines = stdout.trim().split("\n");
    assert.deepEqual(lines.length, 3, stdout);
    assert.match(lines[0] ?? "", /^instances: api-1, api-2$/);
    const expired = /session (0x[0-9a-f]+) expired; instances: api-2$/.exec(lines[1] ?? "");
    const renewed = /on session (0x[0-9a-f]+); instances: api-1, api-2$/.exec(lines[2] ?? "");
    assert.ok(expired && renewed, stdout);
    assert.notEqual(renewed[1], expired[1]);
  });
});
