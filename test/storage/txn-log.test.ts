/**
 * The transaction log in ZooKeeper 3.8's format (src/storage/txn-codec.ts, txn-log.ts): every txn
 * type round trips, Adler-32 matches known vectors, a torn tail is told from corruption before it,
 * and the format is proven both ways against Apache ZooKeeper 3.8.0: we read the log a real
 * server wrote, and its TxnLogToolkit reads the log we wrote.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import fc from "fast-check";
import { connect, Perms } from "../../src/index.js";
import { OpCode } from "../../src/protocol/opcodes.js";
import type { Txn as ServerTxn } from "../../src/server/txn.js";
import { adler32 } from "../../src/storage/adler32.js";
import {
  deserializeTxn,
  type LoggedTxn,
  type LoggedTxnHeader,
  serializeTxn,
} from "../../src/storage/txn-codec.js";
import {
  FILE_HEADER_BYTES,
  logFileName,
  paddedFileSize,
  readTxnLog,
  TxnLogCorruptError,
  TxnLogWriter,
  zxidOfLogFile,
} from "../../src/storage/txn-log.js";
import { apacheZooKeeperSkip, startZooKeeper } from "../harness/apache-zookeeper.js";

// The server's txns are storage's logged txns, with no mapping (checked at compile time).
const _serverTxnIsLogged = (txn: ServerTxn): LoggedTxn => txn;
void _serverTxnIsLogged;

const world = [{ perms: Perms.ALL, id: { scheme: "world", id: "anyone" } }];
const SESSION = 0x1000abcd0001n;

/** One txn of every type the log holds, multi included (with an error and a check inside). */
const SAMPLES: readonly LoggedTxn[] = [
  { type: OpCode.createSession, timeOut: 30000 },
  {
    type: OpCode.create,
    path: "/a",
    data: Buffer.from("x"),
    acl: world,
    ephemeral: false,
    parentCVersion: 1,
  },
  { type: OpCode.create2, path: "/e", data: null, acl: world, ephemeral: true, parentCVersion: 2 },
  {
    type: OpCode.createContainer,
    path: "/c",
    data: Buffer.alloc(0),
    acl: world,
    parentCVersion: 3,
  },
  {
    type: OpCode.createTTL,
    path: "/t",
    data: Buffer.from("ttl"),
    acl: world,
    parentCVersion: 4,
    ttl: 5000n,
  },
  { type: OpCode.setData, path: "/a", data: Buffer.from("yy"), version: 1 },
  {
    type: OpCode.setACL,
    path: "/a",
    acl: [{ perms: Perms.READ, id: { scheme: "digest", id: "u:hash" } }],
    version: 2,
  },
  { type: OpCode.delete, path: "/a" },
  { type: OpCode.deleteContainer, path: "/c" },
  { type: OpCode.error, err: -101 },
  {
    type: OpCode.multi,
    txns: [
      {
        type: OpCode.create,
        path: "/m",
        data: Buffer.from("m"),
        acl: world,
        ephemeral: false,
        parentCVersion: 5,
      },
      { type: OpCode.check, path: "/m", version: 0 },
      { type: OpCode.setData, path: "/m", data: Buffer.from("n"), version: 0 },
      { type: OpCode.delete, path: "/m" },
      { type: OpCode.error, err: 0 },
    ],
  },
  { type: OpCode.closeSession, paths2Delete: ["/e"] },
];

const headerFor = (txn: LoggedTxn, i: number): LoggedTxnHeader => ({
  clientId: SESSION,
  cxid: i,
  zxid: 0x100000001n + BigInt(i),
  time: 1_700_000_000_000n + BigInt(i),
  type: txn.type,
});

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "zkts-txnlog-"));
  dirs.push(dir);
  return dir;
}
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A log with every sample, preallocated in 4 KiB blocks. */
function writeSamples(dir: string, digest = true): string {
  const log = new TxnLogWriter(dir, 0x100000001n, { preAllocBytes: 4096 });
  SAMPLES.forEach((txn, i) => {
    log.append(
      headerFor(txn, i),
      txn,
      digest ? { version: 2, treeDigest: 1000n + BigInt(i) } : undefined,
    );
  });
  log.sync();
  log.close();
  return log.file;
}

describe("Adler-32", () => {
  test("known vectors", () => {
    assert.equal(adler32(Buffer.from("Wikipedia")), 0x11e60398);
    assert.equal(adler32(Buffer.alloc(0)), 1);
    assert.equal(adler32(Buffer.from("a")), 0x00620062);
    assert.equal(adler32(Buffer.from("abc")), 0x024d0127);
    assert.equal(adler32(Buffer.from("The quick brown fox jumps over the lazy dog")), 0x5bdc0fda);
  });
  test("long inputs reduce without overflow, and checksums continue", () => {
    // 100 000 bytes of 0xff: a = 1 + 25 500 000 mod 65521, b by the closed form, both mod 65521.
    const bytes = Buffer.alloc(100_000, 0xff);
    const n = 100_000n;
    const a = (1n + n * 255n) % 65521n;
    const b = (n + 255n * ((n * (n + 1n)) / 2n)) % 65521n;
    assert.equal(adler32(bytes), Number((b << 16n) | a));
    assert.equal(
      adler32(bytes.subarray(40_000), adler32(bytes.subarray(0, 40_000))),
      adler32(bytes),
    );
  });
  test("any bytes, any length, continued from any checksum: as RFC 1950 defines it", () => {
    // The definition a byte at a time, against the eight-bytes-a-step loop and its tail.
    const reference = (bytes: Uint8Array, adler: number) => {
      let a = adler & 0xffff;
      let b = adler >>> 16;
      for (const x of bytes) {
        a = (a + x) % 65521;
        b = (b + a) % 65521;
      }
      return ((b << 16) | a) >>> 0;
    };
    const sums = fc.tuple(fc.nat(65520), fc.nat(65520)).map(([a, b]) => ((b << 16) | a) >>> 0);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 12_000, size: "max" }), sums, (bytes, adler) => {
        assert.equal(adler32(bytes, adler), reference(bytes, adler));
      }),
      { numRuns: 200 },
    );
  });
});

describe("txn codec", () => {
  test("every txn type round trips, with and without a digest", () => {
    SAMPLES.forEach((txn, i) => {
      const header = headerFor(txn, i);
      assert.deepEqual(deserializeTxn(serializeTxn(header, txn)), { header, txn });
      const digest = { version: 2, treeDigest: -5n };
      assert.deepEqual(deserializeTxn(serializeTxn(header, txn, digest)), { header, txn, digest });
    });
  });
  test("bytes are TxnHeader then the record: a delete's exact layout", () => {
    const header = headerFor({ type: OpCode.delete, path: "/ab" }, 0);
    const bytes = serializeTxn(header, { type: OpCode.delete, path: "/ab" });
    // clientId long, cxid int, zxid long, time long, type int; then path ustring.
    assert.equal(bytes.length, 8 + 4 + 8 + 8 + 4 + 4 + 3);
    assert.equal(bytes.readBigInt64BE(0), SESSION);
    assert.equal(bytes.readInt32BE(28), OpCode.delete);
    assert.equal(bytes.readInt32BE(32), 3);
    assert.equal(bytes.subarray(36).toString(), "/ab");
  });
  test("a CreateTxnV0 (no parentCVersion) reads with parentCVersion -1", () => {
    const txn = SAMPLES[1] as LoggedTxn & { type: 1 };
    const header = headerFor(txn, 1);
    const v1 = serializeTxn(header, txn);
    const v0 = v1.subarray(0, v1.length - 4);
    assert.deepEqual(deserializeTxn(v0).txn, { ...txn, parentCVersion: -1 });
  });
  test("a header whose type is not the txn's is refused", () => {
    assert.throws(() => serializeTxn({ ...headerFor(SAMPLES[0]!, 0), type: 1 }, SAMPLES[0]!));
  });
});

describe("txn log files", () => {
  test("names are log.<hex zxid>", () => {
    assert.equal(logFileName(0x100000001n), "log.100000001");
    assert.equal(zxidOfLogFile("/x/log.1ab"), 0x1abn);
    assert.equal(zxidOfLogFile("snapshot.1"), undefined);
  });

  test("padding follows FilePadding: one block more when within 4 KiB of the end", () => {
    const block = 64 * 1024 * 1024;
    assert.equal(paddedFileSize(16, 16, block), 16 + block);
    assert.equal(paddedFileSize(1000, 16 + block, block), 16 + block);
    assert.equal(paddedFileSize(block + 16 - 100, 16 + block, block), 16 + 2 * block);
    assert.equal(paddedFileSize(3 * block + 5, block, block), 4 * block);
    assert.equal(paddedFileSize(100, 16, 0), 16);
  });

  test("write then read: header, every entry, preallocated zeros", () => {
    const file = writeSamples(tempDir());
    const bytes = readFileSync(file);
    assert.equal(bytes.readInt32BE(0), 0x5a4b4c47);
    assert.equal(bytes.subarray(0, 4).toString(), "ZKLG");
    assert.equal(bytes.readInt32BE(4), 2);
    assert.equal(bytes.readBigInt64BE(8), 0n);
    assert.equal(statSync(file).size % 4096, 16, "preallocated in whole blocks after the header");
    const log = readTxnLog(file);
    assert.equal(log.torn, undefined);
    assert.equal(log.entries.length, SAMPLES.length);
    log.entries.forEach((entry, i) => {
      assert.deepEqual(entry.txn, SAMPLES[i]);
      assert.deepEqual(entry.header, headerFor(SAMPLES[i]!, i));
      assert.deepEqual(entry.digest, { version: 2, treeDigest: 1000n + BigInt(i) });
    });
    assert.equal(log.entries[0]?.offset, FILE_HEADER_BYTES);
    // Entry framing: checksum long, length int, bytes, 'B'.
    const first = log.entries[0]!;
    const length = bytes.readInt32BE(first.offset + 8);
    const body = bytes.subarray(first.offset + 12, first.offset + 12 + length);
    assert.equal(bytes.readBigInt64BE(first.offset), BigInt(adler32(body)));
    assert.equal(bytes[first.offset + 12 + length], 0x42);
    assert.equal(log.entries[1]?.offset, first.offset + 12 + length + 1);
    assert.ok(log.end > first.offset && log.end < statSync(file).size);
  });

  test("a log without preallocation ends at EOF", () => {
    const dir = tempDir();
    const log = new TxnLogWriter(dir, 5n, { preAllocBytes: 0 });
    log.append(headerFor(SAMPLES[0]!, 0), SAMPLES[0]!);
    log.close();
    assert.equal(statSync(log.file).size, log.size);
    assert.equal(readTxnLog(log.file).entries.length, 1);
  });

  test("a torn last record is reported at its offset, the entries before it kept", () => {
    for (const damage of ["truncate", "zero-tail", "flip-last"] as const) {
      const file = writeSamples(tempDir());
      const whole = readTxnLog(file);
      const last = whole.entries.at(-1)!;
      const bytes = readFileSync(file);
      if (damage === "truncate") writeFileSync(file, bytes.subarray(0, whole.end - 7));
      if (damage === "zero-tail") {
        bytes.fill(0, whole.end - 10, whole.end);
        writeFileSync(file, bytes);
      }
      if (damage === "flip-last") {
        bytes[last.offset + 20] = (bytes[last.offset + 20] ?? 0) ^ 0xff;
        writeFileSync(file, bytes);
      }
      const torn = readTxnLog(file);
      assert.equal(torn.entries.length, SAMPLES.length - 1, damage);
      assert.deepEqual(torn.torn && { file: torn.torn.file, offset: torn.torn.offset }, {
        file,
        offset: last.offset,
      });
      assert.equal(torn.end, last.offset);
    }
  });

  test("a checksum mismatch before the tail is corruption naming file and offset", () => {
    const file = writeSamples(tempDir());
    const victim = readTxnLog(file).entries[3]!;
    const bytes = readFileSync(file);
    bytes[victim.offset + 30] = (bytes[victim.offset + 30] ?? 0) ^ 0x01;
    writeFileSync(file, bytes);
    assert.throws(
      () => readTxnLog(file),
      (error: unknown) =>
        error instanceof TxnLogCorruptError &&
        error.file === file &&
        error.offset === victim.offset &&
        error.message.includes(file) &&
        error.message.includes(String(victim.offset)) &&
        /checksum/.test(error.message),
    );
  });

  test("a bad magic is corruption at offset 0", () => {
    const file = writeSamples(tempDir());
    const bytes = readFileSync(file);
    bytes[0] = 0;
    writeFileSync(file, bytes);
    assert.throws(
      () => readTxnLog(file),
      (e: unknown) => e instanceof TxnLogCorruptError && e.offset === 0,
    );
  });
});

const JAVA_CLASSPATH = [
  "/usr/share/java/zookeeper.jar",
  "/usr/share/java/slf4j-api.jar",
  "/usr/share/java/slf4j-nop.jar",
].join(":");

describe("format proof with Apache ZooKeeper 3.8", { skip: apacheZooKeeperSkip() }, () => {
  test("we read the log Apache ZooKeeper wrote", async () => {
    const zk = await startZooKeeper({ keepDataDir: true });
    dirs.push(zk.dataDir);
    let sessionId = 0n;
    try {
      const client = await connect(zk.connectString);
      sessionId = client.sessionId;
      await client.create("/p", "x");
      await client.setData("/p", "y");
      await client.create("/p/c");
      await client.setACL("/p/c", [{ perms: Perms.READ, id: { scheme: "world", id: "anyone" } }]);
      await client.multi([
        { type: "create", path: "/m", data: "1" },
        { type: "check", path: "/p", version: 1 },
        { type: "setData", path: "/p", data: "z", version: 1 },
        { type: "delete", path: "/p/c" },
      ]);
      await client.delete("/m");
      await client.close();
    } finally {
      await zk.stop({ keepDataDir: true });
    }
    const logDir = join(zk.dataDir, "version-2");
    const logs = readdirSync(logDir).filter((name) => zxidOfLogFile(name) !== undefined);
    assert.equal(logs.length, 1, `one log file in ${logDir}: ${logs.join(", ")}`);
    const file = join(logDir, logs[0]!);
    assert.equal(statSync(file).size, 16 + 64 * 1024 * 1024, "ZooKeeper preallocates 64 MiB");
    const log = readTxnLog(file);
    assert.equal(log.torn, undefined);
    assert.equal(log.dbid, 0n);
    const mine = log.entries.filter((e) => e.header.clientId === sessionId);
    const summary = mine.map(({ txn }) => [txn.type, "path" in txn ? txn.path : undefined]);
    const create = mine[1]?.txn.type === OpCode.create2 ? OpCode.create2 : OpCode.create;
    assert.deepEqual(summary, [
      [OpCode.createSession, undefined],
      [create, "/p"],
      [OpCode.setData, "/p"],
      [create, "/p/c"],
      [OpCode.setACL, "/p/c"],
      [OpCode.multi, undefined],
      [OpCode.delete, "/m"],
      [OpCode.closeSession, undefined],
    ]);
    const multi = mine[5]!.txn;
    assert.ok(multi.type === OpCode.multi);
    assert.deepEqual(
      multi.txns.map((t) => [t.type, "path" in t ? t.path : undefined]),
      [
        [create, "/m"],
        [OpCode.check, "/p"],
        [OpCode.setData, "/p"],
        [OpCode.delete, "/p/c"],
      ],
    );
    const setData = mine[2]!.txn;
    assert.ok(setData.type === OpCode.setData);
    assert.equal(setData.data?.toString(), "y");
    assert.equal(setData.version, 1);
    // ZooKeeper 3.8 logs a TxnDigest (version 2) after every txn, and zxids climb by one.
    for (const entry of log.entries) assert.equal(entry.digest?.version, 2);
    for (let i = 1; i < log.entries.length; i++) {
      assert.equal(log.entries[i]!.header.zxid, log.entries[i - 1]!.header.zxid + 1n);
    }
    // Re-marshalling what we read gives ZooKeeper's bytes back, entry for entry.
    const bytes = readFileSync(file);
    for (const entry of log.entries) {
      const length = bytes.readInt32BE(entry.offset + 8);
      const theirs = bytes.subarray(entry.offset + 12, entry.offset + 12 + length);
      assert.deepEqual(serializeTxn(entry.header, entry.txn, entry.digest), theirs);
    }
  });

  test("Apache's TxnLogToolkit reads the log we wrote", () => {
    const file = writeSamples(tempDir());
    const run = spawnSync(
      "java",
      ["-cp", JAVA_CLASSPATH, "org.apache.zookeeper.server.persistence.TxnLogToolkit", file],
      {
        encoding: "utf8",
        timeout: 60_000,
      },
    );
    assert.equal(run.status, 0, run.stderr + run.stdout);
    const out = run.stdout;
    assert.doesNotMatch(out + run.stderr, /CRC ERROR|exception/i);
    assert.match(out, /ZooKeeper Transactional Log File with dbid 0 txnlog format version 2/);
    const lines = out.split("\n").filter((line) => /session 0x/.test(line));
    assert.equal(lines.length, SAMPLES.length, out);
    SAMPLES.forEach((txn, i) => {
      const line = lines[i]!;
      assert.match(line, new RegExp(`zxid 0x${(0x100000001n + BigInt(i)).toString(16)} `), line);
      assert.match(line, new RegExp(`session 0x${SESSION.toString(16)} `), line);
      assert.match(line, new RegExp(`cxid 0x${i.toString(16)} `), line);
      // It prints paths with or without jute's leading quote; a multi's sub-txns as raw bytes.
      if ("path" in txn) assert.ok(line.includes(txn.path), line);
      if (txn.type === OpCode.error) assert.match(line, / error -101$/);
      if (txn.type === OpCode.multi) {
        assert.match(line, / multi create:.*\/m.*;check:.*;setData:.*;delete:.*;error:/, line);
      }
      if (txn.type === OpCode.closeSession) assert.match(line, / closeSession v\{'\/e\}$/);
    });
    assert.match(out, /EOF reached after 12 txns\./);
  });
});
