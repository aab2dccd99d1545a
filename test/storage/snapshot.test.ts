/**
 * Snapshots in ZooKeeper 3.8's format (src/storage/snapshot.ts): a tree round trips whatever the
 * chunk size, every damaged byte and every truncation is a SnapshotCorruptError, and the format
 * is proven both ways against Apache ZooKeeper 3.8.0: its SnapshotFormatter prints the snapshot
 * we wrote, a real server loads it (which checks both seals), and we read the snapshot a real
 * server wrote and find what a client sees.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import fc from "fast-check";
import {
  CreateMode,
  connect,
  digestACL,
  OPEN_ACL_UNSAFE,
  Perms,
  READ_ACL_UNSAFE,
} from "../../src/index.js";
import type { ACL, Stat, StatPersisted } from "../../src/jute/index.js";
import { DataTree } from "../../src/server/data-tree.js";
import { adler32 } from "../../src/storage/adler32.js";
import {
  decodeSnapshot,
  decodeSnapshotStream,
  encodeSnapshot,
  isValidSnapshotFile,
  listSnapshots,
  readSnapshotFile,
  SNAPSHOT_MAGIC,
  SnapshotAclTable,
  SnapshotCorruptError,
  type SnapshotInput,
  type SnapshotNode,
  type SnapshotNodeToWrite,
  snapshotFileName,
  writeSnapshotFile,
  zxidOfSnapshotFile,
} from "../../src/storage/snapshot.js";
import { apacheZooKeeperSkip, startZooKeeper } from "../harness/apache-zookeeper.js";
import { findInstallation } from "../harness/installation.js";

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "zkts-snapshot-"));
  dirs.push(dir);
  return dir;
}

const SESSION = 0x1000abcd0001n;
const ALICE = digestACL("alice", "secret");
const SAMPLE_ZXID = 0x100000009n;

function stat(zxid: bigint, fields: Partial<StatPersisted> = {}): StatPersisted {
  return {
    czxid: zxid,
    mzxid: zxid,
    ctime: 1_700_000_000_000n + zxid,
    mtime: 1_700_000_000_000n + zxid,
    version: 0,
    cversion: 0,
    aversion: 0,
    ephemeralOwner: 0n,
    pzxid: zxid,
    ...fields,
  };
}

/** The tree ZooKeeper starts with, and a few nodes of every kind, as a DataTree would list it. */
function sampleTree(): SnapshotNode[] {
  return [
    { path: "/", data: Buffer.alloc(0), acl: OPEN_ACL_UNSAFE, stat: stat(0n, { cversion: 3 }) },
    { path: "/zookeeper", data: Buffer.alloc(0), acl: OPEN_ACL_UNSAFE, stat: stat(0n) },
    { path: "/zookeeper/quota", data: Buffer.alloc(0), acl: OPEN_ACL_UNSAFE, stat: stat(0n) },
    { path: "/zookeeper/config", data: Buffer.from(""), acl: READ_ACL_UNSAFE, stat: stat(0n) },
    {
      path: "/app",
      data: Buffer.from("hello"),
      acl: OPEN_ACL_UNSAFE,
      stat: stat(0x100000002n, { version: 2, mzxid: 0x100000007n, cversion: 2 }),
    },
    { path: "/app/null", data: null, acl: OPEN_ACL_UNSAFE, stat: stat(0x100000003n) },
    {
      path: "/app/eph-ä",
      data: Buffer.from("e"),
      acl: OPEN_ACL_UNSAFE,
      stat: stat(0x100000004n, { ephemeralOwner: SESSION }),
    },
    {
      path: "/secret",
      data: Buffer.from([0, 255, 1, 254]),
      acl: [ALICE, { perms: Perms.READ, id: { scheme: "ip", id: "127.0.0.1" } }],
      stat: stat(0x100000005n, { aversion: 1 }),
    },
  ];
}

/** The caller's side: number the ACL lists in a first pass, then hand over nodes with ids. */
function inputOf(nodes: readonly SnapshotNode[]): SnapshotInput & {
  acls: SnapshotAclTable;
  nodes: SnapshotNodeToWrite[];
} {
  const acls = new SnapshotAclTable();
  const toWrite: SnapshotNodeToWrite[] = nodes.map(({ acl, ...node }) => ({
    ...node,
    aclId: acls.idOf(acl),
  }));
  return { sessions: [[SESSION, 30000] as const], acls, nodes: toWrite };
}

function encode(nodes = sampleTree(), chunkBytes?: number): Buffer {
  return Buffer.concat([...encodeSnapshot(inputOf(nodes), chunkBytes)]);
}

async function writeSample(dir: string, zxid = SAMPLE_ZXID): Promise<string> {
  return writeSnapshotFile(dir, zxid, encodeSnapshot(inputOf(sampleTree())));
}

function isCorrupt(file: string) {
  return (error: unknown) =>
    error instanceof SnapshotCorruptError && error.file === file && error.message.includes(file);
}

describe("snapshot files", () => {
  test("a tree round trips: sessions, ACL cache, nodes, null data, ephemeral owner, digest", async () => {
    const file = await writeSample(tempDir());
    assert.ok(file.endsWith("/snapshot.100000009"));
    const bytes = readFileSync(file);
    assert.equal(bytes.readInt32BE(0), SNAPSHOT_MAGIC);
    assert.equal(bytes.subarray(0, 4).toString(), "ZKSN");
    assert.equal(bytes.readInt32BE(4), 2);
    assert.equal(bytes.readBigInt64BE(8), -1n, "dbid");
    const read = readSnapshotFile(file);
    assert.equal(read.zxid, SAMPLE_ZXID);
    assert.deepEqual(read.sessions, new Map([[SESSION, 30000]]));
    // ReferenceCountedACLCache numbers lists from 1; equal lists share one id.
    assert.deepEqual(
      [...read.acls],
      [
        [1n, OPEN_ACL_UNSAFE],
        [2n, READ_ACL_UNSAFE],
        [3n, sampleTree()[7]!.acl],
      ],
    );
    assert.deepEqual(read.nodes, sampleTree());
    assert.equal(read.nodes[5]!.data, null, "null data stays null");
    assert.equal(read.nodes[1]!.acl, read.nodes[0]!.acl, "one ACL array per cache id");
    assert.deepEqual(read.digest, { zxid: 0n, version: 2, digest: 0n });
    assert.ok(isValidSnapshotFile(file));
    assert.deepEqual(readdirSync(join(file, "..")), ["snapshot.100000009"], "no .tmp left");
  });

  test("every Stat field reads back exactly, whatever its value and whatever repeats", () => {
    // The reader shares one bigint between equal longs (of a node, and with the node before) and
    // makes safe integers without bigint arithmetic: any long, in any pattern of repeats, must
    // still read back as written. Children may also come after a sibling's subtree (valid, if
    // not ZooKeeper's pre-order), which the tree loader must place too.
    const long = fc.oneof(
      fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
      fc.constantFrom(0n, 1n, -1n, 2n ** 53n - 1n, 2n ** 53n, -(2n ** 53n), -(2n ** 63n)),
      fc.constantFrom(0x0500000000000001n, -(2n ** 53n) - 1n, 2n ** 53n + 1n),
    );
    const pool = fc.array(long, { minLength: 1, maxLength: 4 });
    const statFrom = (values: bigint[], picks: number[], ints: number[]): StatPersisted => {
      const at = (i: number) => values[(picks[i] ?? 0) % values.length] as bigint;
      return {
        czxid: at(0),
        mzxid: at(1),
        ctime: at(2),
        mtime: at(3),
        version: ints[0] ?? 0,
        cversion: ints[1] ?? 0,
        aversion: ints[2] ?? 0,
        ephemeralOwner: at(4),
        pzxid: at(5),
      };
    };
    const node = fc.record({
      picks: fc.array(fc.nat(3), { minLength: 6, maxLength: 6 }),
      ints: fc.array(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), {
        minLength: 3,
        maxLength: 3,
      }),
    });
    fc.assert(
      fc.property(pool, fc.array(node, { minLength: 1, maxLength: 12 }), (values, specs) => {
        // "/", "/a", "/b", then "/a/n0".. and "/b/n1".. alternately: children after their
        // parent, but not in pre-order.
        const paths = ["/", "/a", "/b", ...specs.map((_, i) => `/${i % 2 ? "b" : "a"}/n${i}`)];
        const nodes: SnapshotNode[] = paths.map((path, i) => {
          const spec = specs[i % specs.length] as { picks: number[]; ints: number[] };
          const stat = statFrom(values, spec.picks, spec.ints);
          return { path, data: Buffer.from([i]), acl: OPEN_ACL_UNSAFE, stat };
        });
        const bytes = encode(nodes);
        assert.deepEqual(decodeSnapshot(bytes, "snapshot.1").nodes, nodes);
        const loader = DataTree.loader();
        decodeSnapshotStream(bytes, "snapshot.1", loader.add);
        const tree = loader.finish(1n, new Map());
        for (const { path, stat } of nodes) assert.deepEqual(tree.getNode(path)?.stat, stat, path);
      }),
      { numRuns: 300 },
    );
  });

  test("the bytes do not depend on the chunk size, and nodes are pulled lazily", () => {
    const whole = encode();
    assert.deepEqual(encode(sampleTree(), 1), whole);
    assert.deepEqual(encode(sampleTree(), 37), whole);
    let pulled = 0;
    const many = Array.from({ length: 1000 }, (_, i) => ({
      path: i === 0 ? "/" : `/n${i}`,
      data: Buffer.alloc(100),
      acl: OPEN_ACL_UNSAFE,
      stat: stat(BigInt(i)),
    }));
    const input = inputOf(many);
    const chunks = encodeSnapshot(
      {
        ...input,
        nodes: (function* () {
          for (const node of input.nodes) {
            pulled++;
            yield node;
          }
        })(),
      },
      4096,
    );
    const first = chunks.next();
    assert.ok(!first.done && first.value.length >= 4096);
    assert.ok(pulled < 100, `only the first chunk's nodes are encoded (${pulled})`);
    const rest = [...chunks];
    assert.ok(rest.length > 20);
    const bytes = Buffer.concat([first.value, ...rest]);
    assert.equal(decodeSnapshot(bytes, "many").nodes.length, 1000);
  });

  test("a snapshot without the digest part (before 3.6) reads; so does a v1 hex digest", () => {
    const old = Buffer.concat([...encodeSnapshot({ ...inputOf(sampleTree()), digest: null })]);
    const read = decodeSnapshot(old, "old");
    assert.equal(read.digest, undefined);
    assert.equal(read.nodes.length, sampleTree().length);
    const v1 = { zxid: 5n, version: 1, digest: -2n };
    const hex = Buffer.concat([...encodeSnapshot({ ...inputOf(sampleTree()), digest: v1 })]);
    assert.deepEqual(decodeSnapshot(hex, "v1").digest, v1);
  });

  test("names: snapshot.<hex> only; listSnapshots is newest first", () => {
    assert.equal(snapshotFileName(0x1000000abn), "snapshot.1000000ab");
    assert.equal(zxidOfSnapshotFile("/d/version-2/snapshot.1000000ab"), 0x1000000abn);
    for (const name of ["snapshot.1.gz", "snapshot.1.snappy", "snapshot.1.tmp", "log.1", "x"]) {
      assert.equal(zxidOfSnapshotFile(name), undefined, name);
    }
    const dir = tempDir();
    for (const name of ["snapshot.1", "snapshot.a", "snapshot.2.gz", "snapshot.3.tmp", "log.1"]) {
      writeFileSync(join(dir, name), "");
    }
    assert.deepEqual(listSnapshots(dir), [
      { file: join(dir, "snapshot.a"), zxid: 10n },
      { file: join(dir, "snapshot.1"), zxid: 1n },
    ]);
    assert.deepEqual(listSnapshots(join(dir, "missing")), []);
  });

  test("the encoder refuses a tree it could not read back", () => {
    const nodes = sampleTree();
    assert.throws(() => encode(nodes.slice(1)), /root/);
    assert.throws(() => encode([...nodes, nodes[0]!]), /root/);
    const input = inputOf(nodes);
    input.nodes[4]!.aclId = 99n;
    assert.throws(() => [...encodeSnapshot(input)], /ACL id 99/);
  });
});

/** Rewrites the seal at the end of a digest-less snapshot after its body was edited. */
function reseal(bytes: Buffer): Buffer {
  const sealAt = bytes.length - 13;
  bytes.writeBigInt64BE(BigInt(adler32(bytes.subarray(0, sealAt))), sealAt);
  return bytes;
}

describe("damaged snapshots are SnapshotCorruptError, never anything else", () => {
  test("a flipped byte anywhere, in the file and in memory", async () => {
    const dir = tempDir();
    const file = await writeSample(dir);
    const good = readFileSync(file);
    const middle = Buffer.from(good);
    middle[good.length >> 1] = middle[good.length >> 1]! ^ 0x01;
    writeFileSync(file, middle);
    assert.throws(() => readSnapshotFile(file), isCorrupt(file));
    // Adler-32 catches every single-byte change; the shape checks catch the rest first.
    for (let at = 0; at < good.length; at++) {
      const bytes = Buffer.from(good);
      bytes[at] = bytes[at]! ^ 0xff;
      assert.throws(() => decodeSnapshot(bytes, "flip"), isCorrupt("flip"), `byte ${at}`);
    }
  });

  test("every truncation, except exactly after the first seal (an older snapshot)", async () => {
    const file = await writeSample(tempDir());
    const good = readFileSync(file);
    const firstSealEnd = good.length - 20 - 13; // digest (8 + 4 + 8) and the second seal
    for (let length = 0; length < good.length; length++) {
      const prefix = good.subarray(0, length);
      if (length === firstSealEnd) {
        assert.equal(decodeSnapshot(prefix, "cut").digest, undefined);
        continue;
      }
      assert.throws(() => decodeSnapshot(prefix, "cut"), isCorrupt("cut"), `length ${length}`);
    }
    writeFileSync(file, good.subarray(0, good.length - 3));
    assert.equal(isValidSnapshotFile(file), false);
    assert.throws(() => readSnapshotFile(file), isCorrupt(file));
    writeFileSync(file, "");
    assert.equal(isValidSnapshotFile(file), false);
    assert.throws(() => readSnapshotFile(file), isCorrupt(file));
    writeFileSync(file, Buffer.concat([good, Buffer.from([0])]));
    assert.throws(() => readSnapshotFile(file), /1 bytes after the last seal/);
  });

  test("a node before its parent, or with an ACL id the cache lacks", () => {
    const orphan = Buffer.concat([
      ...encodeSnapshot({
        ...inputOf([sampleTree()[0]!, { ...sampleTree()[5]!, path: "/app/null" }]),
        digest: null,
      }),
    ]);
    assert.throws(() => decodeSnapshot(orphan, "orphan"), /parent \/app of \/app\/null is missing/);
    const bytes = Buffer.concat([...encodeSnapshot({ ...inputOf(sampleTree()), digest: null })]);
    // FileHeader (16), one session (count 4 + 12), the cache's count (4): the first cache id.
    bytes.writeBigInt64BE(42n, 36);
    assert.throws(() => decodeSnapshot(reseal(bytes), "acl"), /unknown ACL id 1\b/);
  });
});

/**
 * The StatPersisted behind the Stat a client sees. The server stores in cversion the number of
 * children created, and reports creates + deletes: 2 * cversion - numChildren (DataNode.copyStat).
 */
function persisted(s: Stat): StatPersisted {
  const { czxid, mzxid, ctime, mtime, version, aversion, ephemeralOwner, pzxid } = s;
  const cversion = (s.cversion + s.numChildren) / 2;
  return { czxid, mzxid, ctime, mtime, version, cversion, aversion, ephemeralOwner, pzxid };
}

/** ZooKeeper's jars, plus jackson-core for SnapshotFormatter -json. */
function javaCommand(): { java: string; classpath: string } {
  const found = findInstallation();
  if ("reason" in found) throw new Error(found.reason);
  const jackson = "/usr/share/java/jackson-core.jar";
  const extra = existsSync(jackson) ? [jackson] : [];
  return {
    java: found.installation.java,
    classpath: [...found.installation.classpath, ...extra].join(":"),
  };
}

function snapshotFormatter(...args: string[]): string {
  const { java, classpath } = javaCommand();
  const main = "org.apache.zookeeper.server.SnapshotFormatter";
  const run = spawnSync(java, ["-cp", classpath, main, ...args], { encoding: "utf8" });
  assert.equal(run.status, 0, `SnapshotFormatter failed: ${run.stderr}`);
  return run.stdout;
}

describe("format proof with Apache ZooKeeper 3.8", { skip: apacheZooKeeperSkip() }, () => {
  test("ZooKeeper reads the snapshot we wrote: SnapshotFormatter, then a server loads it", async () => {
    const zk = await startZooKeeper({ keepDataDir: true });
    dirs.push(zk.dataDir);
    await zk.stop({ keepDataDir: true });
    const snapDir = join(zk.dataDir, "version-2");
    rmSync(snapDir, { recursive: true });
    mkdirSync(snapDir);
    const file = await writeSample(snapDir);

    const text = snapshotFormatter(file);
    const paths = sampleTree().map((node) => node.path);
    for (const path of paths) assert.match(text, new RegExp(`^${path}$`, "m"));
    assert.match(text, /^ {2}ephemeralOwner = 0x001000abcd0001$/m);
    assert.match(text, /^0x001000abcd0001, 30000, 1$/m, "the session, with its one ephemeral");
    assert.match(text, /^Last zxid: 0x100000009$/m);
    const json = JSON.parse(snapshotFormatter("-json", file)) as unknown[];
    assert.match(JSON.stringify(json[3]), /"name":"secret","asize":4/);

    // FileSnap.deserialize checks both seals: a bad one and the server would not start.
    await zk.start();
    const client = await connect(zk.connectString);
    try {
      await client.addAuth("digest", "alice:secret");
      const secret = await client.getData("/secret");
      assert.deepEqual(secret.data, Buffer.from([0, 255, 1, 254]));
      assert.equal(secret.stat.aversion, 1);
      assert.deepEqual((await client.getACL("/secret")).acl, sampleTree()[7]!.acl);
      assert.deepEqual((await client.getACL("/zookeeper/config")).acl, READ_ACL_UNSAFE);
      const eph = await client.getData("/app/eph-ä");
      assert.equal(eph.stat.ephemeralOwner, SESSION);
      assert.equal((await client.getData("/app")).stat.mzxid, 0x100000007n);
      assert.deepEqual((await client.getChildren("/app")).sort(), ["eph-ä", "null"]);
    } finally {
      await client.close();
      await zk.stop({ keepDataDir: true });
    }
  });

  test("we read the snapshot a ZooKeeper server wrote", async () => {
    const zk = await startZooKeeper({ keepDataDir: true });
    dirs.push(zk.dataDir);
    const client = await connect(zk.connectString);
    const sessionId = client.sessionId;
    const expected = new Map<string, { data: Buffer; acl: ACL[]; stat: StatPersisted }>();
    try {
      await client.addAuth("digest", "alice:secret");
      await client.create("/p", "x");
      await client.setData("/p", "y");
      await client.create("/p/null", null);
      await client.create("/p/gone");
      await client.delete("/p/gone");
      await client.create("/p/eph", "e", { mode: CreateMode.EPHEMERAL });
      await client.create("/p/read", "r", { acl: READ_ACL_UNSAFE });
      await client.create("/alice", "a", { acl: [ALICE] });
      await client.setACL("/alice", [
        ALICE,
        { perms: Perms.READ, id: { scheme: "world", id: "anyone" } },
      ]);
      for (const path of ["/", "/p", "/p/null", "/p/eph", "/p/read", "/alice"]) {
        const { data, stat } = await client.getData(path);
        const { acl } = await client.getACL(path);
        expected.set(path, { data, acl, stat: persisted(stat) });
      }
    } finally {
      // Stop the server first, so the session (and its ephemeral) is still in the snapshot.
      await zk.stop({ keepDataDir: true });
      await client.close({ timeoutMs: 200 }).catch(() => {});
    }
    // At startup ZooKeeper replays its log and takes a snapshot at the last zxid.
    await zk.start();
    await zk.stop({ keepDataDir: true });
    const snapDir = join(zk.dataDir, "version-2");
    const [newest] = listSnapshots(snapDir);
    assert.ok(
      newest && newest.zxid > 0n,
      `a snapshot after ours: ${readdirSync(snapDir).join(" ")}`,
    );
    assert.ok(isValidSnapshotFile(newest.file));
    const snapshot = readSnapshotFile(newest.file);

    assert.equal(snapshot.sessions.has(sessionId), true);
    const byPath = new Map(snapshot.nodes.map((node) => [node.path, node]));
    assert.equal(snapshot.nodes[0]!.path, "/");
    for (const path of ["/zookeeper", "/zookeeper/quota", "/zookeeper/config"]) {
      assert.ok(byPath.has(path), path);
    }
    for (const [path, want] of expected) {
      const node = byPath.get(path);
      assert.ok(node, path);
      assert.deepEqual(node.data ?? Buffer.alloc(0), want.data, `${path} data`);
      assert.deepEqual(node.acl, want.acl, `${path} acl`);
      assert.deepEqual(node.stat, want.stat, `${path} stat`);
    }
    assert.equal(byPath.get("/p/null")!.data, null, "ZooKeeper keeps null data null");
    assert.equal(byPath.get("/p/eph")!.stat.ephemeralOwner, sessionId);
    assert.ok(snapshot.digest, "ZooKeeper 3.8 writes the digest part");
    assert.equal(snapshot.digest.version, 2);
  });
});
