/**
 * A data dir both ways between zkts and Apache ZooKeeper 3.8: each server loads what the other
 * wrote (snapshots and txn logs) and serves the same tree, node by node.
 *
 * Method: one client script builds a varied tree (data of every shape, sequential nodes, digest
 * ACLs, version bumps, deletes, a multi, ephemerals of a live session, a container and a TTL
 * node) on one server with a low snapCount, so that its data dir holds snapshots taken part way
 * and log entries after the newest one. Every node's data, Stat and ACL is recorded as a client
 * sees it; the server is stopped (cleanly, or by SIGKILL); the other server starts on a copy of
 * its version-2 folder and must serve exactly the record. Then the sequence counter must go on,
 * and, from ZooKeeper into zkts, the sessions must survive: an ephemeral of a session alive at
 * the crash is served until that session times out, and a client that resumes the session by
 * its id and password keeps its ephemeral.
 */
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, type TestContext, test } from "node:test";
import {
  type ACL,
  CREATOR_ALL_ACL,
  CreateMode,
  connect,
  digestACL,
  Perms,
  type Stat,
  type ZooKeeper,
} from "../../src/index.js";
import {
  apacheZooKeeperSkip,
  startZooKeeper,
  type ZooKeeperProcess,
} from "../harness/apache-zookeeper.js";
import { within } from "../harness/client-helpers.js";
import { startZkts } from "../harness/zkts-server.js";

const ROOT = "/t";
const ALICE = { scheme: "digest", auth: "alice:secret" } as const;
/** Far longer than a test: the live session must not expire while the tree is compared. */
const LONG_SESSION_MS = 30_000;
/** Small preallocation, so that copying a data dir copies kilobytes, not 64 MiB per log. */
const PREALLOC_KB = "64";
const BINARY = Buffer.from([0, 1, 2, 0x7f, 0x80, 0xfe, 0xff, 0]);

interface NodeRecord {
  readonly data: string;
  readonly stat: Stat;
  readonly acl: ACL[];
}

type TreeRecord = Map<string, NodeRecord>;

const tempDirs: string[] = [];
after(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

/** A copy of `dataDir/version-2` in a new temp dir, which is returned. */
function copyVersion2(dataDir: string): string {
  const copy = tempDir("zkts-datadir-copy-");
  cpSync(join(dataDir, "version-2"), join(copy, "version-2"), { recursive: true });
  return copy;
}

/**
 * The tree every test builds, the same on either server. `owner` is a second session that
 * stays alive and owns the ephemerals. Enough writes follow one another that a low snapCount
 * takes several snapshots on the way.
 */
async function buildTree(zk: ZooKeeper, owner: ZooKeeper, extraTxns: number): Promise<void> {
  await zk.addAuth(ALICE.scheme, ALICE.auth);
  await zk.create(ROOT, "root");
  await zk.create(`${ROOT}/text`, "hello, world");
  await zk.create(`${ROOT}/binary`, BINARY);
  await zk.create(`${ROOT}/null`, null);
  await zk.create(`${ROOT}/empty`, "");
  await zk.create(`${ROOT}/seq`);
  for (let i = 0; i < 6; i++) {
    await zk.create(`${ROOT}/seq/s-`, `n${i}`, { mode: CreateMode.PERSISTENT_SEQUENTIAL });
  }
  await zk.delete(`${ROOT}/seq/s-0000000002`);
  await zk.create(`${ROOT}/private`, "alice only", { acl: CREATOR_ALL_ACL });
  await zk.create(`${ROOT}/digest`, "two users", {
    acl: [digestACL("bob", "pw", Perms.READ), digestACL("alice", "secret")],
  });
  await zk.create(`${ROOT}/aclv`, "acl versions");
  await zk.setACL(`${ROOT}/aclv`, [digestACL("alice", "secret", Perms.ALL)], { version: 0 });
  for (let i = 1; i <= 3; i++) await zk.setData(`${ROOT}/text`, `hello #${i}`, { version: i - 1 });
  await zk.create(`${ROOT}/gone`, "deleted later");
  await zk.create(`${ROOT}/gone/child`);
  await zk.delete(`${ROOT}/gone/child`);
  await zk.delete(`${ROOT}/gone`);
  await zk.multi([
    { type: "create", path: `${ROOT}/multi-a`, data: "a" },
    { type: "create", path: `${ROOT}/multi-b`, data: BINARY },
    { type: "setData", path: `${ROOT}/binary`, data: Buffer.from([9, 8, 7]), version: 0 },
    { type: "check", path: `${ROOT}/text`, version: 3 },
    { type: "delete", path: `${ROOT}/empty`, version: 0 },
  ]);
  await owner.create(`${ROOT}/eph`, "ephemeral", { mode: CreateMode.EPHEMERAL });
  await owner.create(`${ROOT}/eph-seq-`, "", { mode: CreateMode.EPHEMERAL_SEQUENTIAL });
  await zk.create(`${ROOT}/container`, "c", { mode: CreateMode.CONTAINER });
  await zk.create(`${ROOT}/container/child`, "keeps it");
  await zk.create(`${ROOT}/ttl`, "ttl", {
    mode: CreateMode.PERSISTENT_WITH_TTL,
    ttlMs: 3_600_000,
  });
  await zk.create(`${ROOT}/bulk`);
  for (let i = 0; i < extraTxns; i++) {
    if (i % 3 === 0) await zk.create(`${ROOT}/bulk/n${i}`, `v${i}`);
    else await zk.setData(`${ROOT}/bulk`, `round ${i}`);
  }
  await zk.setData(`${ROOT}/text`, "the last write", { version: 3 });
}

/** Every node under `root` (root included): data as hex, Stat and ACL, as `zk` sees them. */
async function recordTree(zk: ZooKeeper, root = ROOT): Promise<TreeRecord> {
  const record: TreeRecord = new Map();
  const visit = async (path: string): Promise<void> => {
    const { data, stat } = await zk.getData(path);
    const { acl } = await zk.getACL(path);
    record.set(path, { data: data.toString("hex"), stat, acl });
    const children = (await zk.getChildren(path)).sort();
    for (const child of children) await visit(`${path}/${child}`);
  };
  await visit(root);
  return record;
}

/** Asserts `actual` is `expected` node by node, listing every difference in one message. */
function assertSameTree(actual: TreeRecord, expected: TreeRecord, what: string): void {
  const differences: string[] = [];
  for (const [path, want] of expected) {
    const got = actual.get(path);
    if (got === undefined) {
      differences.push(`${path}: missing`);
      continue;
    }
    if (got.data !== want.data) differences.push(`${path}: data ${got.data} != ${want.data}`);
    for (const field of Object.keys(want.stat) as (keyof Stat)[]) {
      if (got.stat[field] !== want.stat[field]) {
        differences.push(`${path}: ${field} ${got.stat[field]} != ${want.stat[field]}`);
      }
    }
    try {
      assert.deepEqual(got.acl, want.acl);
    } catch {
      differences.push(`${path}: acl ${JSON.stringify(got.acl)} != ${JSON.stringify(want.acl)}`);
    }
  }
  for (const path of actual.keys()) {
    if (!expected.has(path)) differences.push(`${path}: unexpected`);
  }
  assert.deepEqual(differences, [], `${what}:\n${differences.join("\n")}`);
}

/** The highest zxid in a recorded tree: the last write the first server acknowledged. */
function lastZxid(tree: TreeRecord): bigint {
  let max = 0n;
  for (const { stat } of tree.values()) {
    for (const zxid of [stat.czxid, stat.mzxid, stat.pzxid]) if (zxid > max) max = zxid;
  }
  return max;
}

/** The zxids in the names of `prefix.<hex>` files of a version-2 dir, ascending. */
function zxidsOf(dataDir: string, prefix: "log" | "snapshot"): bigint[] {
  const pattern = new RegExp(`^${prefix}\\.([0-9a-f]+)$`);
  return readdirSync(join(dataDir, "version-2"))
    .map((name) => pattern.exec(name)?.[1])
    .filter((hex): hex is string => hex !== undefined)
    .map((hex) => BigInt(`0x${hex}`))
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The data dir has a snapshot part way and logged txns after its newest snapshot. */
function assertSnapshotsAndLogTail(dataDir: string, last: bigint): void {
  const snapshots = zxidsOf(dataDir, "snapshot");
  const part = snapshots.filter((zxid) => zxid > 0n && zxid < last);
  assert.ok(part.length > 0, `no snapshot between 0 and 0x${last.toString(16)}: ${snapshots}`);
  const newest = snapshots.at(-1) ?? 0n;
  assert.ok(newest < last, `the newest snapshot 0x${newest.toString(16)} leaves no log after it`);
}

/** ZooKeeper's log lines that would mean it disagrees with what it loaded. */
function zooKeeperComplaints(logFile: string): { fatal: string[]; exceptions: string[] } {
  const lines = readFileSync(logFile, "utf8").split("\n");
  return {
    fatal: lines.filter((line) =>
      /digest.*mismatch|mismatch.*digest|not matching|CRC|corrupt/i.test(line),
    ),
    // For the record; a known one is benign: an NPE in removeCnxn when the harness's `srvr`
    // probe closes before the database is loaded (it happens on an empty dataDir too).
    exceptions: lines.filter((line) => /Exception|digest/i.test(line)),
  };
}

/**
 * The next sequential child of /t/seq follows the last one created (s-5; s-2 was deleted, and
 * a delete bumps cversion but not the sequence, on a live ZooKeeper too), and its zxid follows
 * every zxid the first server handed out.
 */
async function assertCountersGoOn(zk: ZooKeeper, expected: TreeRecord, last: bigint) {
  assert.ok(expected.has(`${ROOT}/seq/s-0000000005`) && !expected.has(`${ROOT}/seq/s-0000000006`));
  const next = await zk.createWithStat(`${ROOT}/seq/s-`, "next", {
    mode: CreateMode.PERSISTENT_SEQUENTIAL,
  });
  assert.equal(next.path, `${ROOT}/seq/s-0000000006`);
  assert.ok(next.stat.czxid > last, `czxid 0x${next.stat.czxid.toString(16)}`);
  const parent = await zk.exists(`${ROOT}/seq`);
  assert.equal(parent?.cversion, expected.get(`${ROOT}/seq`)!.stat.cversion + 1);
}

async function closeQuietly(...clients: (ZooKeeper | undefined)[]): Promise<void> {
  await Promise.all(clients.map((zk) => zk?.close({ timeoutMs: 1000 }).catch(() => {})));
}

describe("zkts's data dir, loaded by Apache ZooKeeper", { skip: apacheZooKeeperSkip() }, () => {
  for (const ending of ["stop", "kill"] as const) {
    test(`after a ${ending === "stop" ? "clean stop" : "kill -9"}`, async (t) => {
      await zktsToZooKeeper(t, ending);
    });
  }
});

async function zktsToZooKeeper(t: TestContext, ending: "stop" | "kill"): Promise<void> {
  const zkts = await startZkts({
    config: { snapCount: "20", preAllocSize: PREALLOC_KB, extendedTypesEnabled: "true" },
    keepDataDir: true,
  });
  tempDirs.push(zkts.dataDir);
  let zk: ZooKeeper | undefined;
  let owner: ZooKeeper | undefined;
  let reader: ZooKeeper | undefined;
  let zookeeper: ZooKeeperProcess | undefined;
  try {
    zk = await connect(zkts.connectString);
    owner = await connect(zkts.connectString, { sessionTimeoutMs: LONG_SESSION_MS });
    await buildTree(zk, owner, 60);
    const expected = await recordTree(zk);
    const last = lastZxid(expected);
    await (ending === "stop" ? zkts.stop({ keepDataDir: true }) : zkts.kill());
    assertSnapshotsAndLogTail(zkts.dataDir, last);
    const copy = copyVersion2(zkts.dataDir);

    zookeeper = await startZooKeeper({ extraConfig: { dataDir: copy } });
    reader = await connect(zookeeper.connectString, { auth: [ALICE] });
    assertSameTree(await recordTree(reader), expected, "Apache ZooKeeper serves another tree");
    const eph = expected.get(`${ROOT}/eph`);
    assert.equal(eph?.stat.ephemeralOwner, owner.sessionId);
    const dump = await zookeeper.fourLetterWord("dump");
    assert.match(dump, new RegExp(`0x${owner.sessionId.toString(16)}`), dump);

    await assertCountersGoOn(reader, expected, last);

    // ZooKeeper checks the tree it loaded against our snapshot's digest, and counts mismatches.
    assert.match(await zookeeper.fourLetterWord("mntr"), /zk_digest_mismatches_count\s+0\n/);
    const { fatal, exceptions } = zooKeeperComplaints(zookeeper.logFile);
    for (const line of exceptions) t.diagnostic(`ZooKeeper logged: ${line}`);
    assert.deepEqual(fatal, [], "ZooKeeper complained about what it loaded");
  } finally {
    await closeQuietly(zk, owner, reader);
    await zookeeper?.stop();
    await zkts.stop();
  }
}

describe("Apache ZooKeeper's data dir, loaded by zkts", { skip: apacheZooKeeperSkip() }, () => {
  for (const ending of ["stop", "kill"] as const) {
    test(`after a ${ending === "stop" ? "clean stop" : "kill -9"}`, async (t) => {
      await zooKeeperToZkts(t, ending);
    });
  }
});

async function zooKeeperToZkts(t: TestContext, ending: "stop" | "kill"): Promise<void> {
  const zookeeper = await startZooKeeper({
    tickTimeMs: 500,
    extraConfig: { snapCount: "50", preAllocSize: PREALLOC_KB },
    keepDataDir: true,
  });
  tempDirs.push(zookeeper.dataDir);
  const clients: ZooKeeper[] = [];
  const open = async (connectString: string, options: Parameters<typeof connect>[1] = {}) => {
    const client = await connect(connectString, options);
    clients.push(client);
    return client;
  };
  let zkts: Awaited<ReturnType<typeof startZkts>> | undefined;
  try {
    const zk = await open(zookeeper.connectString);
    const owner = await open(zookeeper.connectString, { sessionTimeoutMs: LONG_SESSION_MS });
    // Two more sessions, alive at the end: one will lapse, the other be resumed on zkts.
    const lapsing = await open(zookeeper.connectString, { sessionTimeoutMs: 5000 });
    const resumed = await open(zookeeper.connectString, { sessionTimeoutMs: 5000 });
    await buildTree(zk, owner, 120);
    await lapsing.create(`${ROOT}/eph-lapsing`, "", { mode: CreateMode.EPHEMERAL });
    await resumed.create(`${ROOT}/eph-resumed`, "", { mode: CreateMode.EPHEMERAL });
    const expected = await recordTree(zk);
    const last = lastZxid(expected);
    await (ending === "stop" ? zookeeper.stop({ keepDataDir: true }) : zookeeper.kill());
    assertSnapshotsAndLogTail(zookeeper.dataDir, last);
    const copy = copyVersion2(zookeeper.dataDir);

    zkts = await startZkts({
      config: { extendedTypesEnabled: "true", preAllocSize: PREALLOC_KB },
      args: ["--data-dir", copy],
    });
    // Resume one session at once, before anything can expire it.
    const resuming = await open(zkts.connectString, {
      sessionId: resumed.sessionId,
      sessionPassword: resumed.sessionPassword,
      sessionTimeoutMs: 5000,
    });
    assert.equal(resuming.sessionId, resumed.sessionId);
    const reader = await open(zkts.connectString, { auth: [ALICE] });
    const watched = await reader.exists(`${ROOT}/eph-lapsing`, { watch: true });
    assert.ok(watched.stat !== null, "the lapsing session's ephemeral is gone at once");
    assertSameTree(await recordTree(reader), expected, "zkts serves another tree");

    await assertCountersGoOn(reader, expected, last);

    // The session nobody resumed expires (its timeout, with slack for a loaded machine) ...
    const event = await within(watched.watch, 15_000, "the lapsing ephemeral's NodeDeleted");
    assert.equal(event.type, "NodeDeleted");
    // ... while the resumed one, just as old, keeps its ephemeral.
    const kept = await reader.exists(`${ROOT}/eph-resumed`);
    assert.equal(kept?.ephemeralOwner, resumed.sessionId);
    assert.equal(resuming.state, "connected");
    // zkts's warnings and errors while it loaded ZooKeeper's files, for the record; a digest
    // mismatch means the tree zkts rebuilt is not the one ZooKeeper's snapshot digest describes.
    // After a kill -9 the newest snapshot may have been taken under load, and a fuzzy
    // snapshot's digest can be off by a txn applied while ZooKeeper read its digest (a race in
    // ZooKeeper itself); one of many runs showed it. After a clean stop it must match.
    for (const line of readFileSync(zkts.logFile, "utf8").split("\n")) {
      if (/"level":(40|50|60)/.test(line)) t.diagnostic(`zkts logged: ${line}`);
      if (ending === "stop") {
        assert.doesNotMatch(line, /digest mismatch/, "zkts's tree digest differs from ZooKeeper's");
      }
    }
  } finally {
    await closeQuietly(...clients);
    await zkts?.stop();
    await zookeeper.stop();
  }
}
