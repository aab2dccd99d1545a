/**
 * Goal: every record of records.ts encodes and decodes to the same value, consumes exactly its
 * own bytes, and lays its fields out as its shape declares; a few records match the bytes Apache
 * ZooKeeper 3.8 writes for them.
 * Method: generators derived from each record's shape (shapes.ts); the golden hex below was
 * captured from ZooKeeper 3.8.0's own jute classes (BinaryOutputArchive over the record, as the
 * client and server write it) and checked by hand field by field.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { Reader } from "../../src/jute/reader.js";
import {
  ConnectRequest,
  CreateRequest,
  ReplyHeader,
  Stat,
  type Stat as StatType,
  SyncRequest,
} from "../../src/jute/records.js";
import { Writer, writeLongAt } from "../../src/jute/writer.js";
import { allRecords, arbitraryOf, fromHex, hex, writeByShape } from "./shapes.js";

const NUM_RUNS = 200;

test("records.ts exports every record of the 3.8 protocol, each named as exported", () => {
  const names = allRecords.map(([name]) => name);
  // A sample from each jute module: data, proto, quorum/persistence, txn.
  for (const name of ["Id", "ACL", "Stat", "ConnectRequest", "MultiHeader", "ReplyHeader"]) {
    assert.ok(names.includes(name), name);
  }
  for (const name of ["WhoAmIResponse", "QuorumPacket", "FileHeader", "TxnHeader", "MultiTxn"]) {
    assert.ok(names.includes(name), name);
  }
  assert.ok(allRecords.length >= 70, `only ${allRecords.length} records found`);
  for (const [name, codec] of allRecords) assert.equal(codec.name, name);
});

describe("every record round-trips", () => {
  // One Writer reused across runs, as the client does; it must behave like a fresh one.
  const shared = new Writer(8);
  for (const [name, codec] of allRecords) {
    test(name, () => {
      const input = fc.record({
        value: arbitraryOf(codec),
        initialBytes: fc.integer({ min: 0, max: 16 }),
        prefix: fc.uint8Array({ maxLength: 8 }),
        suffix: fc.uint8Array({ maxLength: 8 }),
      });
      fc.assert(
        fc.property(input, ({ value, initialBytes, prefix, suffix }) => {
          const fresh = new Writer(initialBytes);
          codec.write(fresh, value);
          const bytes = fresh.take();

          shared.reset();
          codec.write(shared, value);
          assert.deepEqual(shared.take(), bytes, "a reused Writer wrote different bytes");

          const byShape = new Writer(64);
          writeByShape(byShape, codec.shape, value);
          assert.equal(hex(bytes), hex(byShape.take()), "bytes differ from the declared shape");

          // Decode from the middle of a larger buffer: the reader must honour start and end.
          const framed = Buffer.concat([prefix, bytes, suffix]);
          const end = prefix.length + bytes.length;
          const reader = new Reader(framed, prefix.length, end);
          assert.deepStrictEqual(codec.read(reader), value);
          assert.equal(reader.offset, end, "reader did not consume exactly the record");
          assert.equal(reader.remaining, 0);
        }),
        { numRuns: NUM_RUNS },
      );
    });
  }
});

test("a Writer made with no initial capacity still grows", () => {
  // Regression: growth doubled the capacity, and doubling 0 looped forever.
  const writer = new Writer(0);
  writer.writeInt(7).writeString("/a").writeLong(-1n).writeBuffer(Buffer.alloc(300, 1));
  assert.equal(writer.length, 4 + 6 + 8 + 304);
  const head = fromHex("00000007 00000002 2f61 ffffffffffffffff");
  assert.equal(hex(writer.take().subarray(0, head.length)), hex(head));
});

test("writeLong and writeLongAt lay out every long as Java's DataOutput.writeLong does", () => {
  // Safe integers take a fast path of byte stores; the rest (session ids with a server id in the
  // top byte, the container owner) the slow one. Both must match the big-endian two's complement.
  const edges = fc.constantFrom(
    0n,
    -1n,
    2n ** 53n - 1n,
    2n ** 53n,
    -(2n ** 53n) + 1n,
    -(2n ** 53n),
    2n ** 63n - 1n,
    -(2n ** 63n),
    0x0100000000000001n,
  );
  const long = fc.oneof(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), edges);
  fc.assert(
    fc.property(long, (value) => {
      const expected = Buffer.alloc(8);
      expected.writeBigInt64BE(value);
      const direct = Buffer.alloc(11, 0xee);
      writeLongAt(direct, 3, value);
      assert.equal(hex(direct.subarray(3)), hex(expected));
      assert.equal(hex(direct.subarray(0, 3)), "eeeeee");
      assert.equal(hex(new Writer(0).writeLong(value).take()), hex(expected));
    }),
    { numRuns: 2000 },
  );
});

/** Encodes one record with a fresh Writer. */
function encode<T>(codec: { write(w: Writer, v: T): void }, value: T): Buffer {
  const writer = new Writer(0);
  codec.write(writer, value);
  return writer.take();
}

/** Decodes one record and requires that it used every byte. */
function decode<T>(codec: { read(r: Reader): T }, bytes: Buffer): T {
  const reader = new Reader(bytes);
  const value = codec.read(reader);
  assert.equal(reader.remaining, 0, "trailing bytes after the record");
  return value;
}

describe("golden bytes (ZooKeeper 3.8.0)", () => {
  test("ReplyHeader {xid 1, zxid 0x100000002, err NONODE}", () => {
    // xid | zxid (epoch 1, counter 2) | err -101
    const golden = fromHex("00000001 0000000100000002 ffffff9b");
    const value = { xid: 1, zxid: 0x100000002n, err: -101 };
    assert.equal(hex(encode(ReplyHeader, value)), hex(golden));
    assert.deepStrictEqual(decode(ReplyHeader, golden), value);
  });

  test("ConnectRequest with the readOnly flag after the jute record", () => {
    // protocolVersion 0 | lastZxidSeen 0x2a | timeOut 30000 | sessionId 0 |
    // passwd: length 16 + 16 zero bytes | readOnly true
    const golden = fromHex(`
      00000000 000000000000002a 00007530 0000000000000000
      00000010 00000000000000000000000000000000
      01`);
    const value = {
      protocolVersion: 0,
      lastZxidSeen: 0x2an,
      timeOut: 30000,
      sessionId: 0n,
      passwd: Buffer.alloc(16),
      readOnly: true,
    };
    assert.equal(hex(encode(ConnectRequest, value)), hex(golden));
    assert.deepStrictEqual(decode(ConnectRequest, golden), value);
    assert.equal(golden.length, 4 + 8 + 4 + 8 + 4 + 16 + 1);
  });

  test("Stat: eleven fields, 68 bytes, longs and ints in jute order", () => {
    const golden = fromHex(`
      0000000000000001 0000000000000002 0000018bcfe56800 0000018bcfe56801
      00000003 00000004 00000005 0000000000001234 00000006 00000007 0000000000000008`);
    const value: StatType = {
      czxid: 1n,
      mzxid: 2n,
      ctime: 1_700_000_000_000n,
      mtime: 1_700_000_000_001n,
      version: 3,
      cversion: 4,
      aversion: 5,
      ephemeralOwner: 0x1234n,
      dataLength: 6,
      numChildren: 7,
      pzxid: 8n,
    };
    assert.equal(golden.length, 68);
    assert.equal(hex(encode(Stat, value)), hex(golden));
    assert.deepStrictEqual(decode(Stat, golden), value);
  });

  test("CreateRequest /a with OPEN_ACL_UNSAFE, PERSISTENT_SEQUENTIAL", () => {
    // path "/a" | data "hi" | acl: 1 entry {perms ALL 31, id {"world", "anyone"}} | flags 2
    const golden = fromHex(`
      00000002 2f61
      00000002 6869
      00000001 0000001f 00000005 776f726c64 00000006 616e796f6e65
      00000002`);
    const value = {
      path: "/a",
      data: Buffer.from("hi"),
      acl: [{ perms: 31, id: { scheme: "world", id: "anyone" } }],
      flags: 2,
    };
    assert.equal(hex(encode(CreateRequest, value)), hex(golden));
    assert.deepStrictEqual(decode(CreateRequest, golden), value);
  });

  test("extreme ints and longs keep their sign on the wire", () => {
    const value = { xid: -(2 ** 31), zxid: -(2n ** 63n), err: 2 ** 31 - 1 };
    const golden = fromHex("80000000 8000000000000000 7fffffff");
    assert.equal(hex(encode(ReplyHeader, value)), hex(golden));
    assert.deepStrictEqual(decode(ReplyHeader, golden), value);
  });

  test("a ustring is its UTF-8 byte count, then UTF-8 (not UTF-16 units)", () => {
    // "/é😀": 1 + 2 + 4 = 7 UTF-8 bytes, though .length is 4.
    const value = { path: "/é😀" };
    const golden = fromHex("00000007 2f c3a9 f09f9880");
    assert.equal(hex(encode(SyncRequest, value)), hex(golden));
    assert.deepStrictEqual(decode(SyncRequest, golden), value);
  });

  test("a ustring is the same bytes whether ASCII or not, short or long (writeString's paths)", () => {
    const around = (n: number) => fc.nat(n).map((k) => "a".repeat(k));
    const strings = fc.tuple(
      fc.oneof(around(300), fc.constant("a".repeat(256))),
      fc.oneof(fc.constant(""), fc.string({ unit: "binary", maxLength: 4 })),
      fc.oneof(fc.constant(""), fc.string({ unit: "grapheme-ascii", maxLength: 40 })),
    );
    fc.assert(
      fc.property(strings, ([ascii, other, tail]) => {
        for (const value of [ascii + other + tail, other + ascii, ascii]) {
          const utf8 = Buffer.from(value, "utf8");
          const expected = Buffer.concat([Buffer.alloc(4), utf8]);
          expected.writeInt32BE(utf8.length, 0);
          // Written after another field: the string's bytes start mid-buffer.
          const written = new Writer(8).writeInt(7).writeString(value).take().subarray(4);
          assert.equal(hex(written), hex(expected));
          // A snapshot's paths come as the parent's prefix and the name, written joined.
          for (let cut = 0; cut <= value.length; cut += 1 + Math.floor(value.length / 7)) {
            const joined = new Writer(8)
              .writeInt(7)
              .writeJoinedString(value.slice(0, cut), value.slice(cut))
              .take()
              .subarray(4);
            assert.equal(hex(joined), hex(expected));
          }
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });
});
