/**
 * Group commit (src/storage/group-commit.ts): txns that arrive while a write + fdatasync is in
 * flight share the next one; callbacks run in append order, only once their txn is in the file;
 * the log rolls to a new file where asked; an I/O error is fatal and acknowledges nothing more.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { OpCode } from "../../src/protocol/opcodes.js";
import { GroupCommitLog } from "../../src/storage/group-commit.js";
import type { LoggedTxn, LoggedTxnHeader } from "../../src/storage/txn-codec.js";
import { readTxnLog } from "../../src/storage/txn-log.js";

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "zkts-group-commit-"));
  dirs.push(dir);
  return dir;
}

function setData(zxid: bigint): [LoggedTxnHeader, LoggedTxn] {
  return [
    { clientId: 1n, cxid: Number(zxid), zxid, time: 5n, type: OpCode.setData },
    { type: OpCode.setData, path: "/k", data: Buffer.from(`v${zxid}`), version: Number(zxid) },
  ];
}

describe("group commit", () => {
  test("a burst shares fsyncs, callbacks run in order, and the file holds every txn", async () => {
    const dir = tempDir();
    const batches: number[] = [];
    const log = new GroupCommitLog(dir, {
      preAllocBytes: 1 << 20,
      onFatal: (error) => assert.fail(error),
      onBatch: (txns) => batches.push(txns),
    });
    const done: bigint[] = [];
    // Three bursts: the second and third arrive while the first batch is on its way to disk.
    for (let burst = 0; burst < 3; burst++) {
      for (let i = 1; i <= 200; i++) {
        const zxid = BigInt(burst * 200 + i);
        const [header, txn] = setData(zxid);
        log.append(header, txn, () => {
          done.push(zxid);
        });
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    await log.idle();
    assert.deepEqual(
      done,
      Array.from({ length: 600 }, (_, i) => BigInt(i + 1)),
    );
    assert.equal(
      batches.reduce((a, b) => a + b, 0),
      600,
    );
    assert.ok(batches.length < 600 / 10, `expected few batches, got ${batches.length}`);
    await log.close();
    const contents = readTxnLog(join(dir, "log.1"));
    assert.deepEqual(
      contents.entries.map((e) => e.header.zxid),
      done,
    );
    assert.equal(contents.torn, undefined);
  });

  test("roll starts a new file named by its first zxid", async () => {
    const dir = tempDir();
    const log = new GroupCommitLog(dir, { preAllocBytes: 0, onFatal: (e) => assert.fail(e) });
    for (let zxid = 1n; zxid <= 3n; zxid++) log.append(...setData(zxid), () => {});
    await log.idle();
    assert.deepEqual(log.sinceRoll.txns, 3);
    log.roll();
    assert.deepEqual(log.sinceRoll, { txns: 0, bytes: 0 });
    for (let zxid = 4n; zxid <= 5n; zxid++) log.append(...setData(zxid), () => {});
    await log.close();
    assert.deepEqual(readdirSync(dir).sort(), ["log.1", "log.4"]);
    assert.deepEqual(
      readTxnLog(join(dir, "log.4")).entries.map((e) => e.header.zxid),
      [4n, 5n],
    );
  });

  test("forceSync=no still writes every txn before its callback", async () => {
    const dir = tempDir();
    const log = new GroupCommitLog(dir, { forceSync: false, onFatal: (e) => assert.fail(e) });
    let acknowledged = 0;
    for (let zxid = 1n; zxid <= 50n; zxid++) {
      log.append(...setData(zxid), () => {
        acknowledged++;
      });
    }
    await log.close();
    assert.equal(acknowledged, 50);
    assert.equal(readTxnLog(join(dir, "log.1")).entries.length, 50);
  });

  test("an I/O error is fatal: nothing is acknowledged, then or after", async () => {
    const dir = join(tempDir(), "gone");
    const errors: Error[] = [];
    const log = new GroupCommitLog(dir, { onFatal: (error) => errors.push(error) });
    let acknowledged = 0;
    log.append(...setData(1n), () => {
      acknowledged++;
    });
    await log.idle();
    log.append(...setData(2n), () => {
      acknowledged++;
    });
    await log.idle();
    assert.equal(acknowledged, 0);
    assert.equal(errors.length, 1);
    assert.match(errors[0]?.message ?? "", /ENOENT/);
  });
});
