/**
 * Quotas, differential: the same steps on Apache ZooKeeper 3.8 and on zkts, both with
 * zookeeper.enforceQuota on, must give the same answers and the same zookeeper_stats nodes.
 *
 * The steps do what ZooKeeperMain's setquota does (create the limit and stat nodes under
 * /zookeeper/quota) for a count quota with a soft and a hard limit on /q, a byte quota with a
 * hard limit on /r, and a nested quota on /q/sub (a change counts against the deepest quota
 * only); then creates, setData, deletes and multis that stay within, pass a soft limit, and hit
 * a hard one (QuotaExceeded); a quota removed; and both servers killed and restarted, after
 * which the stat nodes must be recounted from the snapshot and log alike.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { connect, type ZooKeeper, ZooKeeperError } from "../../src/index.js";
import { startZooKeeper, type ZooKeeperProcess } from "../harness/apache-zookeeper.js";
import { apacheZooKeeperSkip } from "../harness/installation.js";
import { startZkts } from "../harness/zkts-server.js";

type Step = (zk: ZooKeeper) => Promise<unknown>;

const STAT_NODES = [
  "/zookeeper/quota/q/zookeeper_stats",
  "/zookeeper/quota/q/sub/zookeeper_stats",
  "/zookeeper/quota/r/zookeeper_stats",
];

/** What a step answered: its result's shape or its error code. */
async function outcome(step: Step, zk: ZooKeeper): Promise<string> {
  try {
    const result = await step(zk);
    return `ok ${typeof result === "string" ? result : ""}`.trim();
  } catch (error) {
    if (error instanceof ZooKeeperError) return `error ${error.code}`;
    throw error;
  }
}

/** Every stat node's data, Stat version, data length and mzxid (or that it is missing). */
async function statNodes(zk: ZooKeeper): Promise<string[]> {
  const out: string[] = [];
  for (const path of STAT_NODES) {
    try {
      const { data, stat } = await zk.getData(path);
      out.push(`${path} ${data?.toString()} v${stat.version} len${stat.dataLength} m${stat.mzxid}`);
    } catch (error) {
      if (!(error instanceof ZooKeeperError)) throw error;
      out.push(`${path} error ${error.code}`);
    }
  }
  return out;
}

const setup: [string, Step][] = [
  ["create /q", (zk) => zk.create("/q", "xx")],
  ["create /q/a", (zk) => zk.create("/q/a", "abc")],
  ["create /r", (zk) => zk.create("/r", "")],
  ["quota /q", (zk) => zk.create("/zookeeper/quota/q", "")],
  ["stat /q", (zk) => zk.create("/zookeeper/quota/q/zookeeper_stats", "count=0,bytes=0")],
  [
    "limit /q: count 3 soft, 5 hard",
    (zk) => zk.create("/zookeeper/quota/q/zookeeper_limits", "count=4,bytes=-1=;countHardLimit=5"),
  ],
  [
    "limit /r: 10 bytes hard (limit before stats)",
    (zk) => zk.create("/zookeeper/quota/r", "count=-1,bytes=-1=;byteHardLimit=10"),
  ],
  [
    "limit node /r",
    (zk) => zk.create("/zookeeper/quota/r/zookeeper_limits", "count=-1,bytes=-1=;byteHardLimit=10"),
  ],
  ["stat /r", (zk) => zk.create("/zookeeper/quota/r/zookeeper_stats", "")],
];

const steps: [string, Step][] = [
  ["create /q/b (count 3: at the soft limit)", (zk) => zk.create("/q/b", "")],
  ["create /q/c (count 4: past soft)", (zk) => zk.create("/q/c", "12345")],
  ["create /q/d (count 5: at hard)", (zk) => zk.create("/q/d", "")],
  ["create /q/e (count 6: past hard)", (zk) => zk.create("/q/e", "")],
  ["setData /q/a larger (no byte limit)", (zk) => zk.setData("/q/a", "abcdefgh")],
  ["create /r/x 8 bytes", (zk) => zk.create("/r/x", "12345678")],
  ["setData /r/x 12 bytes (past hard)", (zk) => zk.setData("/r/x", "123456789012")],
  ["setData /r/x 10 bytes (at hard)", (zk) => zk.setData("/r/x", "1234567890")],
  ["create /r/y 1 byte (past hard)", (zk) => zk.create("/r/y", "1")],
  ["create /r/z no data (bytes unchanged)", (zk) => zk.create("/r/z", "")],
  [
    "multi: create /q/m past hard",
    (zk) =>
      zk.multi([
        { type: "setData", path: "/q", data: "y" },
        { type: "create", path: "/q/m", data: "" },
      ]),
  ],
  ["delete /q/b (count 4)", (zk) => zk.delete("/q/b")],
  ["delete /q/c (count 3)", (zk) => zk.delete("/q/c")],
  // A nested quota: changes below /q/sub count against it only.
  ["create /q/sub (count 4)", (zk) => zk.create("/q/sub", "s")],
  ["quota /q/sub", (zk) => zk.create("/zookeeper/quota/q/sub", "")],
  [
    "limit /q/sub",
    (zk) => zk.create("/zookeeper/quota/q/sub/zookeeper_limits", "count=1,bytes=-1"),
  ],
  ["stat /q/sub", (zk) => zk.create("/zookeeper/quota/q/sub/zookeeper_stats", "")],
  ["create /q/sub/1 (counts against /q/sub only)", (zk) => zk.create("/q/sub/1", "1")],
  ["create /q/f (count 5 if /q/sub/1 did not count)", (zk) => zk.create("/q/f", "")],
  ["create /q/g (count 6: past hard)", (zk) => zk.create("/q/g", "")],
  ["delete /q/sub/1", (zk) => zk.delete("/q/sub/1")],
  // The /r quota goes: its stat node stays, no longer kept.
  ["delete /r limits", (zk) => zk.delete("/zookeeper/quota/r/zookeeper_limits")],
  ["create /r/big past the old limit", (zk) => zk.create("/r/big", "0123456789")],
];

interface Side {
  readonly name: string;
  readonly server: ZooKeeperProcess;
  zk: ZooKeeper;
}

describe("quotas: Apache ZooKeeper and zkts", {
  skip: apacheZooKeeperSkip(),
  timeout: 120_000,
}, () => {
  const sides: Side[] = [];
  before(async () => {
    const apache = await startZooKeeper({ systemProperties: { "zookeeper.enforceQuota": "true" } });
    const zkts = await startZkts({ config: { "zookeeper.enforceQuota": "true" } });
    for (const [name, server] of [
      ["Apache ZooKeeper", apache],
      ["zkts", zkts],
    ] as const) {
      sides.push({ name, server, zk: await connect(server.connectString) });
    }
  });
  after(async () => {
    for (const side of sides) {
      await side.zk.close().catch(() => {});
      await side.server.stop();
    }
  });

  test("the same answers and zookeeper_stats, before and after a restart", async () => {
    const [apache, zkts] = sides as [Side, Side];
    const refusals: string[] = [];
    for (const [what, step] of [...setup, ...steps]) {
      const answers = [await outcome(step, apache.zk), await outcome(step, zkts.zk)];
      assert.equal(answers[1], answers[0], `${what}: zkts vs Apache ZooKeeper`);
      assert.deepEqual(await statNodes(zkts.zk), await statNodes(apache.zk), `after ${what}`);
      if (answers[0] === "error -125") refusals.push(what);
    }
    // The hard limits did refuse (QuotaExceeded), so the comparison covered them.
    assert.deepEqual(refusals, [
      "create /q/e (count 6: past hard)",
      "setData /r/x 12 bytes (past hard)",
      "create /r/y 1 byte (past hard)",
      "multi: create /q/m past hard",
      "create /q/g (count 6: past hard)",
    ]);

    // Twice: the first restart replays the log onto the empty snapshot taken at the first
    // start; the second loads the snapshot taken at the first restart (setupQuota's recount).
    for (const round of [1, 2]) {
      for (const side of sides) {
        await side.zk.close();
        await side.server.kill();
        await side.server.start();
        side.zk = await connect(side.server.connectString);
      }
      const [z, a] = [await statNodes(zkts.zk), await statNodes(apache.zk)];
      assert.deepEqual(z, a, `after restart ${round}`);
    }
    const refused = async (zk: ZooKeeper) => outcome((z) => z.create("/q/h", ""), zk);
    assert.equal(await refused(zkts.zk), await refused(apache.zk), "the quota holds after restart");
  });
});
