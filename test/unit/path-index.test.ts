/**
 * The data tree finds nodes by path through its children maps, remembering what it found
 * (server/path-index.ts). Goal: a lookup answers as a full path map would, whatever the tree
 * went through (deletes, the same path created again, a load from a snapshot), and odd paths
 * are simply not there. Method: odd paths by hand; then random histories, checking every path
 * ever used against the tree's own walk.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { OpCode } from "../../src/protocol/opcodes.js";
import { childPath, DataTree } from "../../src/server/data-tree.js";
import { PathIndex } from "../../src/server/path-index.js";
import type { Txn, TxnHeader } from "../../src/server/txn.js";
import { decodeSnapshotStream, encodeSnapshot } from "../../src/storage/snapshot.js";

interface Node {
  children: Map<string, Node>;
}

const leaf = (): Node => ({ children: new Map() });

/** Every path in the tree, by walking it from the root. */
function walked(tree: DataTree): Set<string> {
  const paths = new Set<string>();
  const visit = (path: string, node: { children: ReadonlyMap<string, unknown> }) => {
    paths.add(path);
    for (const [name, child] of node.children) {
      visit(childPath(path, name), child as { children: ReadonlyMap<string, unknown> });
    }
  };
  visit("/", tree.getNode("/") as { children: ReadonlyMap<string, unknown> });
  return paths;
}

function header(zxid: bigint, type: number): TxnHeader {
  return { clientId: 0n, cxid: 0, zxid, time: zxid, type };
}

describe("path index", () => {
  test("odd paths are not there; a deep path is walked without recursion", () => {
    const b = leaf();
    const a: Node = { children: new Map([["b", b]]) };
    const root: Node = { children: new Map([["a", a]]) };
    const index = new PathIndex(root);
    assert.equal(index.get("/"), root);
    assert.equal(index.get(""), root);
    assert.equal(index.get("/a/b"), b);
    assert.equal(index.get("/a/b"), b);
    for (const odd of ["a", "a/b", "/a/", "/a//b", "//a", "/a/b/", "/c", "/a/c", "/a/b/c"]) {
      assert.equal(index.get(odd), undefined, odd);
    }
    assert.equal(index.get(`${"/x".repeat(200_000)}/y`), undefined);
    a.children.delete("b");
    index.forget("/a/b");
    assert.equal(index.get("/a/b"), undefined);
  });

  test("a lookup finds exactly the nodes in the tree, through deletes, re-creates and loads", () => {
    fc.assert(
      fc.property(fc.array(fc.nat(1_000), { minLength: 50, maxLength: 400 }), (seed) => {
        const tree = new DataTree();
        const used = new Set<string>(["/", "/zookeeper", "/nowhere", "/a/b/c"]);
        let zxid = 0n;
        for (const pick of seed) {
          const paths = [...walked(tree)].filter((path) => !path.startsWith("/zookeeper"));
          const at = paths[pick % paths.length] as string;
          zxid++;
          let txn: Txn;
          if (pick % 3 !== 0) {
            const path = childPath(at, `n${pick % 4}`);
            txn = {
              type: OpCode.create,
              path,
              data: null,
              acl: [],
              ephemeral: false,
              parentCVersion: -1,
            };
          } else if (at !== "/" && tree.getNode(at)?.children.size === 0) {
            txn = { type: OpCode.delete, path: at };
          } else continue; // prep lets only leaves go, never the root
          used.add(txn.path);
          // Ask before and after: what was remembered must not outlive the change.
          tree.getNode(txn.path);
          tree.apply(header(zxid, txn.type), txn);
          const now = walked(tree);
          for (const path of used) assert.equal(tree.getNode(path) !== undefined, now.has(path));
          assert.equal(tree.nodeCount, now.size);
        }
        const view = tree.beginSnapshot();
        const bytes = Buffer.concat([
          ...encodeSnapshot({ sessions: [], acls: view.acls, nodes: view.nodes }),
        ]);
        view.release();
        const loader = DataTree.loader();
        decodeSnapshotStream(bytes, "snapshot.test", loader.add);
        const loaded = loader.finish(zxid, new Map());
        const now = walked(tree);
        for (const path of used) assert.equal(loaded.getNode(path) !== undefined, now.has(path));
        assert.equal(loaded.nodeCount, now.size);
      }),
      { numRuns: 30 },
    );
  });
});
