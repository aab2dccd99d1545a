/**
 * Snapshots of a live data tree (DataTree.beginSnapshot): the view is the tree exactly as it
 * was when the snapshot began, however the tree changes while the view is walked (copy on
 * write); and a tree rebuilt from the snapshot's bytes (encodeSnapshot, decodeSnapshot,
 * DataTree.fromSnapshot) is that tree again, sessions, ephemerals and ACLs included.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import type { ACL } from "../../src/jute/records.js";
import { OpCode } from "../../src/protocol/opcodes.js";
import { childPath, DataTree, SPECIAL_PATHS } from "../../src/server/data-tree.js";
import type { Txn, TxnHeader } from "../../src/server/txn.js";
import {
  decodeSnapshot,
  decodeSnapshotStream,
  encodeSnapshot,
} from "../../src/storage/snapshot.js";

const OPEN: ACL[] = [{ perms: 31, id: { scheme: "world", id: "anyone" } }];
const DIGEST: ACL[] = [{ perms: 1, id: { scheme: "digest", id: "u:x" } }];

/** Every node in pre-order (children in getChildren's order), as comparable text. */
function dump(tree: DataTree, sortChildren = false): string[] {
  const lines: string[] = [];
  const visit = (path: string) => {
    const node = tree.getNode(path);
    assert.ok(node, `missing ${path}`);
    const children = tree.getChildren(path)?.children ?? [];
    lines.push(describeNode(path, node.data, node.acl, node.stat));
    for (const child of sortChildren ? [...children].sort() : children) {
      visit(childPath(path, child));
    }
  };
  visit("/");
  return lines;
}

function describeNode(path: string, data: Buffer | null, acl: readonly ACL[], stat: object) {
  const text = JSON.stringify(stat, (_k, v) => (typeof v === "bigint" ? v.toString() : v));
  return `${path} ${data === null ? "null" : data.toString("hex")} ${JSON.stringify(acl)} ${text}`;
}

/** mntr's approximate_data_size the slow way: the root twice, then every node's path and data. */
function walkedDataSize(tree: DataTree): number {
  let size = tree.getNode("/")?.data?.length ?? 0;
  const visit = (path: string) => {
    const node = tree.getNode(path);
    assert.ok(node);
    size += path.length + (node.data?.length ?? 0);
    for (const child of node.children.keys()) visit(childPath(path, child));
  };
  visit("/");
  return size;
}

/** A random txn that makes sense for the tree as it is. */
function randomTxn(tree: DataTree, pick: (n: number) => number, zxid: bigint): [TxnHeader, Txn] {
  const paths = dump(tree).map((line) => line.split(" ")[0] as string);
  const sessions = [...tree.sessions.keys()];
  const header = (type: number, clientId = 0n): TxnHeader => ({
    clientId,
    cxid: 0,
    zxid,
    time: 1000n + zxid,
    type,
  });
  const path = paths[pick(paths.length)] as string;
  switch (pick(7)) {
    case 0: {
      // Prep refuses children of ephemerals (a closed session would orphan them).
      if ((tree.getNode(path)?.stat.ephemeralOwner ?? 0n) !== 0n) {
        return [header(OpCode.error), { type: OpCode.error, err: -108 }];
      }
      const owner =
        sessions.length > 0 && pick(2) === 0 ? (sessions[pick(sessions.length)] as bigint) : 0n;
      const name = `n${pick(50)}`;
      const txn: Txn = {
        type: OpCode.create,
        path: childPath(path, name),
        data: pick(4) === 0 ? null : Buffer.from([pick(256)]),
        acl: pick(3) === 0 ? DIGEST : OPEN,
        ephemeral: owner !== 0n,
        parentCVersion: -1,
      };
      return [header(OpCode.create, owner), txn];
    }
    case 1:
      // Prep never lets the root or /zookeeper go.
      if (SPECIAL_PATHS.has(path)) return [header(OpCode.error), { type: OpCode.error, err: -8 }];
      return [header(OpCode.delete), { type: OpCode.delete, path }];
    case 2:
      return [
        header(OpCode.setData),
        { type: OpCode.setData, path, data: Buffer.from(`v${zxid}`), version: Number(zxid) },
      ];
    case 3:
      return [header(OpCode.setACL), { type: OpCode.setACL, path, acl: DIGEST, version: 1 }];
    case 4:
      return [
        header(OpCode.createSession, 0x100n + BigInt(pick(5))),
        { type: OpCode.createSession, timeOut: 4000 + pick(1000) },
      ];
    case 5: {
      if (sessions.length === 0) return [header(OpCode.error), { type: OpCode.error, err: -101 }];
      const id = sessions[pick(sessions.length)] as bigint;
      return [
        header(OpCode.closeSession, id),
        { type: OpCode.closeSession, paths2Delete: tree.ephemeralsOf(id) },
      ];
    }
    default:
      return [header(OpCode.error), { type: OpCode.error, err: -110 }];
  }
}

function applyRandom(tree: DataTree, seed: number[], count: number, from: bigint): bigint {
  let i = 0;
  const pick = (n: number) => (seed[i++ % seed.length] as number) % n;
  let zxid = from;
  for (let k = 0; k < count; k++) {
    zxid++;
    const [header, txn] = randomTxn(tree, pick, zxid);
    // Deletes of nodes with children fail in apply as in ZooKeeper's; that is fine here.
    if (txn.type === OpCode.delete && (tree.getNode(txn.path)?.children.size ?? 0) > 0) continue;
    tree.apply(header, txn);
  }
  return zxid;
}

describe("data tree snapshots", () => {
  test("the view is the tree when it began, whatever changes while it is walked", () => {
    fc.assert(
      fc.property(
        fc.array(fc.nat(1_000_000), { minLength: 20, maxLength: 200 }),
        fc.array(fc.nat(1_000_000), { minLength: 20, maxLength: 200 }),
        fc.nat(40),
        (before, during, stride) => {
          const tree = new DataTree();
          const zxid = applyRandom(tree, before, 120, 0n);
          const expected = dump(tree);
          const sessions = new Map(tree.sessions);
          // Not `zxid`: applyRandom counts zxids for the deletes it skips too.
          const atBegin = tree.lastProcessedZxid;
          const view = tree.beginSnapshot();
          const seen: string[] = [];
          let next = zxid;
          // Interleave: change the tree between the nodes of the walk.
          for (const node of view.nodes) {
            seen.push(describeNode(node.path, node.data, node.acl, node.stat));
            next = applyRandom(tree, during, 1 + (stride % 5), next);
          }
          view.release();
          assert.deepEqual(seen, expected);
          assert.deepEqual(view.sessions, sessions);
          assert.equal(view.zxid, atBegin);
          for (const node of expected) assert.ok(node.length > 0);
        },
      ),
      { numRuns: 25 },
    );
  });

  test("a tree rebuilt from the snapshot's bytes is the same tree", () => {
    fc.assert(
      fc.property(fc.array(fc.nat(1_000_000), { minLength: 20, maxLength: 300 }), (seed) => {
        const tree = new DataTree();
        applyRandom(tree, seed, 200, 0n);
        const view = tree.beginSnapshot();
        const bytes = Buffer.concat([
          ...encodeSnapshot({ sessions: view.sessions, acls: view.acls, nodes: view.nodes }, 512),
        ]);
        view.release();
        const decoded = decodeSnapshot(bytes, "snapshot.test");
        const rebuilt = DataTree.fromSnapshot({ ...decoded, zxid: view.zxid });
        // Child order follows each set's history, as in ZooKeeper: compare it sorted.
        assert.deepEqual(dump(rebuilt, true), dump(tree, true));
        assert.deepEqual(rebuilt.sessions, tree.sessions);
        assert.equal(rebuilt.lastProcessedZxid, tree.lastProcessedZxid);
        for (const id of tree.sessions.keys()) {
          assert.deepEqual(rebuilt.ephemeralsOf(id).sort(), tree.ephemeralsOf(id).sort());
        }
        assert.deepEqual([...rebuilt.containers], [...tree.containers]);
        assert.equal(rebuilt.digest, tree.digest);
        assert.equal(rebuilt.approximateDataSize, walkedDataSize(tree));
        assert.equal(tree.approximateDataSize, walkedDataSize(tree));
        // Streamed straight into the tree (recovery's way), the digest taken from the bytes.
        const loader = DataTree.loader();
        const streamed = decodeSnapshotStream(bytes, "snapshot.test", loader.add);
        const loaded = loader.finish(view.zxid, streamed.sessions);
        assert.deepEqual(dump(loaded, true), dump(tree, true));
        assert.equal(loaded.digest, tree.digest);
        assert.equal(loaded.approximateDataSize, tree.approximateDataSize);
        for (const id of tree.sessions.keys()) {
          assert.deepEqual(loaded.ephemeralsOf(id).sort(), tree.ephemeralsOf(id).sort());
        }
      }),
      { numRuns: 25 },
    );
  });

  test("a streamed snapshot with a node before its parent, or twice, is refused", () => {
    const tree = new DataTree();
    applyRandom(tree, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], 12, 0n);
    const view = tree.beginSnapshot();
    const nodes = [...view.nodes];
    view.release();
    const encode = (list: typeof nodes) =>
      Buffer.concat([...encodeSnapshot({ sessions: [], acls: view.acls, nodes: list })]);
    const child = nodes.findIndex((node) => node.path.split("/").length > 2);
    const orphan = nodes.filter((_node, i) => i !== 1 || child < 0);
    const twice = [...nodes, nodes[1] as (typeof nodes)[number]];
    const load = (bytes: Buffer) => {
      const loader = DataTree.loader();
      decodeSnapshotStream(bytes, "snapshot.bad", loader.add);
      return loader.finish(0n, new Map());
    };
    assert.throws(
      () => load(encode(twice)),
      /snapshot\.bad is corrupt at offset \d+: node \S+ twice/,
    );
    if (child >= 0)
      assert.throws(() => load(encode(orphan)), /snapshot\.bad .*parent \S+ of \S+ is missing/);
  });

  test("one snapshot at a time; release ends copy on write", () => {
    const tree = new DataTree();
    const view = tree.beginSnapshot();
    assert.throws(() => tree.beginSnapshot(), /already under way/);
    view.release();
    tree.beginSnapshot().release();
  });
});
