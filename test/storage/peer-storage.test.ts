/**
 * A quorum peer's durable state (src/server/quorum/peer-storage.ts): epochs, the history in the
 * txn log (appends, TRUNC), and a SNAP written as a snapshot, all read back as they were.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { OpCode } from "../../src/protocol/opcodes.js";
import { DataTree } from "../../src/server/data-tree.js";
import { createLogger } from "../../src/server/logger.js";
import { DurablePeerStorage } from "../../src/server/quorum/peer-storage.js";
import { dataDirs } from "../../src/server/recovery.js";
import { encodeSnapshot } from "../../src/storage/snapshot.js";
import { serializeTxn } from "../../src/storage/txn-codec.js";
import type { Entry } from "../../src/zab/log.js";
import { emptyReady } from "../../src/zab/ready.js";
import { makeZxid } from "../../src/zab/zxid.js";

const silent = createLogger("silent");
const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function entry(epoch: number, counter: number): Entry<Buffer> {
  const zxid = makeZxid(BigInt(epoch), BigInt(counter));
  const header = { clientId: 1n, cxid: counter, zxid, time: 1n, type: OpCode.create };
  const txn = {
    type: OpCode.create,
    path: `/n${epoch}-${counter}`,
    data: Buffer.from("x"),
    acl: [{ perms: 31, id: { scheme: "world", id: "anyone" } }],
    ephemeral: false,
    parentCVersion: -1,
  } as const;
  return { zxid, payload: serializeTxn(header, txn) };
}

function open(dir: string) {
  const applied: Entry<Buffer>[] = [];
  const opened = DurablePeerStorage.open(
    dataDirs(dir),
    silent,
    (entries) => applied.push(...entries),
    (error) => assert.fail(error),
  );
  return { ...opened, applied };
}

describe("quorum peer storage", () => {
  test("epochs, appends and TRUNC read back after a restart", async () => {
    const dir = mkdtempSync(join(tmpdir(), "zkts-peer-"));
    dirs.push(dir);
    const first = open(dir);
    assert.deepEqual(first.durable, {
      acceptedEpoch: 0n,
      currentEpoch: 0n,
      history: [],
      committed: 0n,
    });
    const ready = emptyReady<Buffer>();
    ready.acceptedEpoch = 1n;
    ready.currentEpoch = 1n;
    ready.append = [entry(1, 1), entry(1, 2), entry(1, 3)];
    await first.storage.persist(ready);
    assert.equal(readFileSync(join(dir, "version-2", "currentEpoch"), "utf8"), "1\n");
    // A TRUNC to 1.2 and an append of epoch 2's first txn, in one Ready.
    const trunc = emptyReady<Buffer>();
    trunc.acceptedEpoch = 2n;
    trunc.currentEpoch = 2n;
    trunc.truncateTo = makeZxid(1n, 2n);
    trunc.append = [entry(2, 1)];
    await first.storage.persist(trunc);
    await first.storage.close();

    const second = open(dir);
    assert.equal(second.durable.acceptedEpoch, 2n);
    assert.equal(second.durable.currentEpoch, 2n);
    assert.deepEqual(
      second.durable.history.map((e) => e.zxid),
      [makeZxid(1n, 1n), makeZxid(1n, 2n), makeZxid(2n, 1n)],
    );
    assert.deepEqual(second.durable.history[2]?.payload, entry(2, 1).payload);
    // The history is not applied at load: the tree is the (empty) snapshot's.
    assert.equal(second.tree.getNode("/n1-1"), undefined);
    await second.storage.close();
  });

  test("a SNAP becomes the newest snapshot and the log no longer applies", async () => {
    const dir = mkdtempSync(join(tmpdir(), "zkts-peer-"));
    dirs.push(dir);
    const first = open(dir);
    const ready = emptyReady<Buffer>();
    ready.append = [entry(1, 1), entry(1, 2)];
    await first.storage.persist(ready);
    // The leader's tree at 3.5, with a node of its own.
    const tree = new DataTree();
    const zxid = makeZxid(3n, 5n);
    tree.apply(
      { clientId: 1n, cxid: 0, zxid, time: 1n, type: OpCode.create },
      {
        type: OpCode.create,
        path: "/from-leader",
        data: Buffer.from("y"),
        acl: [{ perms: 31, id: { scheme: "world", id: "anyone" } }],
        ephemeral: false,
        parentCVersion: -1,
      },
    );
    const view = tree.beginSnapshot();
    const bytes = Buffer.concat([
      ...encodeSnapshot({ sessions: view.sessions, acls: view.acls, nodes: view.nodes }),
    ]);
    view.release();
    const snap = emptyReady<Buffer>();
    snap.snapshot = { zxid, data: { bytes } };
    snap.append = [entry(3, 6)];
    snap.currentEpoch = 3n;
    await first.storage.persist(snap);
    await first.storage.close();

    const second = open(dir);
    assert.equal(second.tree.lastProcessedZxid, zxid);
    assert.ok(second.tree.getNode("/from-leader"));
    assert.equal(second.durable.committed, zxid);
    assert.deepEqual(
      second.durable.history.map((e) => e.zxid),
      [makeZxid(3n, 6n)],
    );
    await second.storage.close();
  });
});
