/**
 * Goal: multi and multiRead framing round-trips for any list of ops and results, matches the
 * bytes ZooKeeper 3.8 writes, and rejects what a multi cannot hold.
 * Method: fast-check op and result lists over every op type; golden hex captured from
 * ZooKeeper 3.8.0's MultiOperationRecord and MultiResponse (BinaryOutputArchive); random and
 * damaged bytes, which may fail only with JuteDecodeError or MultiFormatError.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { JuteDecodeError, Reader } from "../../src/jute/reader.js";
import { ACL, Stat } from "../../src/jute/records.js";
import { Writer } from "../../src/jute/writer.js";
import {
  MultiFormatError,
  type MultiOp,
  type MultiResult,
  readMultiRequest,
  readMultiResponse,
  writeMultiRequest,
  writeMultiResponse,
} from "../../src/protocol/multi.js";
import { OpCode } from "../../src/protocol/opcodes.js";
import {
  arbitraryOf,
  bufferArbitrary,
  CountingReader,
  fromHex,
  hex,
  INT_MAX,
  INT_MIN,
  LONG_MAX,
  LONG_MIN,
  ustringArbitrary,
} from "./shapes.js";

const NUM_RUNS = 300;
const plain = { noNullPrototype: true } as const;

const path = ustringArbitrary;
const data = bufferArbitrary;
const int32 = fc.integer({ min: INT_MIN, max: INT_MAX });
const int64 = fc.bigInt({ min: LONG_MIN, max: LONG_MAX });
const acl = fc.array(arbitraryOf(ACL), { maxLength: 3 });
const stat = arbitraryOf(Stat);

const opArbitrary: fc.Arbitrary<MultiOp> = fc.oneof(
  fc.record(
    {
      type: fc.constantFrom(OpCode.create, OpCode.create2, OpCode.createContainer),
      path,
      data,
      acl,
      flags: int32,
    },
    plain,
  ),
  fc.record(
    { type: fc.constant(OpCode.createTTL), path, data, acl, flags: int32, ttl: int64 },
    plain,
  ),
  fc.record(
    { type: fc.constantFrom(OpCode.delete, OpCode.deleteContainer), path, version: int32 },
    plain,
  ),
  fc.record({ type: fc.constant(OpCode.setData), path, data, version: int32 }, plain),
  fc.record({ type: fc.constant(OpCode.check), path, version: int32 }, plain),
  fc.record(
    { type: fc.constantFrom(OpCode.getChildren, OpCode.getData), path, watch: fc.boolean() },
    plain,
  ),
);

const resultArbitrary: fc.Arbitrary<MultiResult> = fc.oneof(
  fc.record({ type: fc.constant(OpCode.create), path }, plain),
  fc.record(
    {
      type: fc.constantFrom(OpCode.create2, OpCode.createTTL, OpCode.createContainer),
      path,
      stat,
    },
    plain,
  ),
  fc.record({ type: fc.constantFrom(OpCode.delete, OpCode.deleteContainer, OpCode.check) }, plain),
  fc.record({ type: fc.constant(OpCode.setData), stat }, plain),
  fc.record(
    { type: fc.constant(OpCode.getChildren), children: fc.array(path, { maxLength: 5 }) },
    plain,
  ),
  fc.record({ type: fc.constant(OpCode.getData), data, stat }, plain),
  fc.record({ type: fc.constant(OpCode.error), err: int32 }, plain),
);

const opsArbitrary = fc.array(opArbitrary, { maxLength: 8 });
const resultsArbitrary = fc.array(resultArbitrary, { maxLength: 8 });

function encodeOps(ops: readonly MultiOp[]): Buffer {
  const writer = new Writer(16);
  writeMultiRequest(writer, ops);
  return writer.take();
}

function encodeResults(results: readonly MultiResult[]): Buffer {
  const writer = new Writer(16);
  writeMultiResponse(writer, results);
  return writer.take();
}

function readAll<T>(read: (r: Reader) => T, bytes: Buffer): T {
  const reader = new Reader(bytes);
  const value = read(reader);
  assert.equal(reader.remaining, 0, "bytes left after the done header");
  return value;
}

/** Runs a decode; only the two codec errors may come out of it. */
function rejectsOnlyAsCodec(read: () => unknown): "ok" | "rejected" {
  try {
    read();
    return "ok";
  } catch (error) {
    if (error instanceof JuteDecodeError || error instanceof MultiFormatError) return "rejected";
    throw error;
  }
}

const stat0 = {
  czxid: 1n,
  mzxid: 2n,
  ctime: 3n,
  mtime: 4n,
  version: 5,
  cversion: 6,
  aversion: 7,
  ephemeralOwner: 8n,
  dataLength: 9,
  numChildren: 10,
  pzxid: 11n,
};

describe("round trips", () => {
  test("every op type, one of each", () => {
    const openAcl = [{ perms: 31, id: { scheme: "world", id: "anyone" } }];
    const ops: MultiOp[] = [
      { type: OpCode.create, path: "/a", data: Buffer.from("x"), acl: openAcl, flags: 0 },
      { type: OpCode.create2, path: "/b", data: Buffer.alloc(0), acl: [], flags: 3 },
      { type: OpCode.createContainer, path: "/c", data: Buffer.alloc(0), acl: openAcl, flags: 4 },
      {
        type: OpCode.createTTL,
        path: "/d",
        data: Buffer.alloc(1),
        acl: openAcl,
        flags: 5,
        ttl: 9n,
      },
      { type: OpCode.delete, path: "/a", version: -1 },
      { type: OpCode.deleteContainer, path: "/c", version: 0 },
      { type: OpCode.setData, path: "/b", data: Buffer.from("y"), version: 2 },
      { type: OpCode.check, path: "/b", version: 3 },
      { type: OpCode.getChildren, path: "/", watch: false },
      { type: OpCode.getData, path: "/b", watch: true },
    ];
    assert.deepStrictEqual(readAll(readMultiRequest, encodeOps(ops)), ops);
    const results: MultiResult[] = [
      { type: OpCode.create, path: "/a" },
      { type: OpCode.create2, path: "/b", stat: stat0 },
      { type: OpCode.createContainer, path: "/c", stat: stat0 },
      { type: OpCode.createTTL, path: "/d", stat: stat0 },
      { type: OpCode.delete },
      { type: OpCode.deleteContainer },
      { type: OpCode.setData, stat: stat0 },
      { type: OpCode.check },
      { type: OpCode.getChildren, children: ["x", "y"] },
      { type: OpCode.getData, data: Buffer.from("z"), stat: stat0 },
      { type: OpCode.error, err: -110 },
    ];
    assert.deepStrictEqual(readAll(readMultiResponse, encodeResults(results)), results);
  });

  test("any list of ops", () => {
    fc.assert(
      fc.property(opsArbitrary, (ops) => {
        assert.deepStrictEqual(readAll(readMultiRequest, encodeOps(ops)), ops);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  test("any list of results", () => {
    fc.assert(
      fc.property(resultsArbitrary, (results) => {
        assert.deepStrictEqual(readAll(readMultiResponse, encodeResults(results)), results);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  test("a multi ends at its done header, leaving what follows unread", () => {
    const bytes = Buffer.concat([
      encodeOps([{ type: OpCode.check, path: "/", version: 1 }]),
      fromHex("cafe"),
    ]);
    const reader = new Reader(bytes);
    assert.equal(readMultiRequest(reader).length, 1);
    assert.equal(reader.remaining, 2);
  });
});

describe("golden bytes (ZooKeeper 3.8.0)", () => {
  test("request: create /a, check /a, delete /a", () => {
    const golden = fromHex(`
      00000001 00 ffffffff  00000002 2f61  00000001 01
        00000001 0000001f 00000005 776f726c64 00000006 616e796f6e65  00000000
      0000000d 00 ffffffff  00000002 2f61  00000000
      00000002 00 ffffffff  00000002 2f61  ffffffff
      ffffffff 01 ffffffff`);
    const ops: MultiOp[] = [
      {
        type: OpCode.create,
        path: "/a",
        data: Buffer.from([1]),
        acl: [{ perms: 31, id: { scheme: "world", id: "anyone" } }],
        flags: 0,
      },
      { type: OpCode.check, path: "/a", version: 0 },
      { type: OpCode.delete, path: "/a", version: -1 },
    ];
    assert.equal(hex(encodeOps(ops)), hex(golden));
    assert.deepStrictEqual(readAll(readMultiRequest, golden), ops);
  });

  test("response: a create result, then an error result carrying err in header and body", () => {
    // header {create, false, 0} "/a" | header {-1, false, BADVERSION} ErrorResponse{-103} | done
    const golden = fromHex(`
      00000001 00 00000000  00000002 2f61
      ffffffff 00 ffffff99  ffffff99
      ffffffff 01 ffffffff`);
    const results: MultiResult[] = [
      { type: OpCode.create, path: "/a" },
      { type: OpCode.error, err: -103 },
    ];
    assert.equal(hex(encodeResults(results)), hex(golden));
    assert.deepStrictEqual(readAll(readMultiResponse, golden), results);
  });

  test("an empty multi is the done header alone", () => {
    assert.equal(hex(encodeOps([])), "ffffffff01ffffffff");
    assert.equal(hex(encodeResults([])), "ffffffff01ffffffff");
  });
});

describe("what a multi cannot hold", () => {
  const header = (type: number) => {
    const bytes = Buffer.alloc(9 + 64); // header, then zeros any body could be read from
    bytes.writeInt32BE(type, 0);
    bytes[4] = 0;
    bytes.writeInt32BE(-1, 5);
    return bytes;
  };

  test("ping (11) in a request or a response is a MultiFormatError", () => {
    assert.throws(() => readMultiRequest(new Reader(header(OpCode.ping))), MultiFormatError);
    assert.throws(() => readMultiResponse(new Reader(header(OpCode.ping))), MultiFormatError);
  });

  test("any opcode outside the multi set is a MultiFormatError", () => {
    const requestOps = new Set<number>([1, 2, 4, 5, 8, 13, 15, 19, 20, 21]);
    const resultOps = new Set<number>([...requestOps, -1]);
    fc.assert(
      fc.property(fc.oneof(fc.integer({ min: -20, max: 120 }), int32), (type) => {
        if (!requestOps.has(type)) {
          assert.throws(
            () => readMultiRequest(new Reader(header(type))),
            (error: unknown) => {
              assert.ok(error instanceof MultiFormatError);
              assert.equal(error.name, "MultiFormatError");
              assert.match(error.message, new RegExp(`opcode ${type} `));
              return true;
            },
          );
        }
        if (!resultOps.has(type)) {
          assert.throws(() => readMultiResponse(new Reader(header(type))), MultiFormatError);
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });

  test("random bytes: only JuteDecodeError or MultiFormatError", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), (raw) => {
        const bytes = Buffer.from(raw);
        rejectsOnlyAsCodec(() => readMultiRequest(new CountingReader(bytes)));
        rejectsOnlyAsCodec(() => readMultiResponse(new CountingReader(bytes)));
      }),
      { numRuns: NUM_RUNS },
    );
  });

  test("damaged multis: a cut one is always rejected; a corrupted one only as codec errors", () => {
    const damage = fc.record({
      ops: opsArbitrary,
      results: resultsArbitrary,
      cut: fc.nat(),
      flips: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
    });
    fc.assert(
      fc.property(damage, ({ ops, results, cut, flips }) => {
        for (const [bytes, read] of [
          [encodeOps(ops), readMultiRequest],
          [encodeResults(results), readMultiResponse],
        ] as const) {
          const prefix = bytes.subarray(0, cut % bytes.length);
          assert.equal(
            rejectsOnlyAsCodec(() => read(new Reader(prefix))),
            "rejected",
          );
          const corrupt = Buffer.from(bytes);
          for (const [at, byte] of flips) corrupt[at % corrupt.length] = byte;
          rejectsOnlyAsCodec(() => read(new CountingReader(corrupt)));
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });
});
