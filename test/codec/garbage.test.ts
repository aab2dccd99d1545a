/**
 * Goal: no byte string makes a record decoder fail other than with JuteDecodeError, loop, or
 * allocate by a length it has not checked against the bytes it holds.
 * Method: random bytes and damaged valid encodings fed to every record of records.ts; crafted
 * lengths (-2, 0x7fffffff, one past the end) at known offsets for ustring, buffer and vector;
 * the memory of decoding a 2 GiB length measured.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { type Codec, ustring, vector } from "../../src/jute/codec.js";
import { JuteDecodeError, Reader } from "../../src/jute/reader.js";
import { SetDataRequest, SetWatches, WatcherEvent } from "../../src/jute/records.js";
import { Writer } from "../../src/jute/writer.js";
import { allRecords, arbitraryOf, CountingReader, fromHex } from "./shapes.js";

const NUM_RUNS = 200;

/**
 * Decodes, returning the value, or null after a JuteDecodeError; any other throw escapes. The
 * CountingReader bounds the work by the input's length, so "never hangs" is checked, not hoped.
 */
function decodeOrReject<T>(codec: Codec<T>, bytes: Buffer): { value: T; offset: number } | null {
  const reader = new CountingReader(bytes);
  try {
    const value = codec.read(reader);
    return { value, offset: reader.offset };
  } catch (error) {
    if (error instanceof JuteDecodeError) return null;
    throw error;
  }
}

function encode<T>(codec: Codec<T>, value: T): Buffer {
  const writer = new Writer(64);
  codec.write(writer, value);
  return writer.take();
}

/** Asserts that `read` throws a JuteDecodeError that points at `offset`. */
function throwsAt(read: () => unknown, offset: number): void {
  assert.throws(read, (error: unknown) => {
    assert.ok(error instanceof JuteDecodeError, `not a JuteDecodeError: ${String(error)}`);
    assert.equal(error.name, "JuteDecodeError");
    assert.equal(error.offset, offset, error.message);
    assert.match(error.message, new RegExp(`at offset ${offset}$`));
    return true;
  });
}

function int(value: number): string {
  const bytes = Buffer.alloc(4);
  bytes.writeInt32BE(value);
  return bytes.toString("hex");
}

describe("random bytes: a value or a JuteDecodeError, nothing else", () => {
  for (const [name, codec] of allRecords) {
    test(name, () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 2048 }), (raw) => {
          const bytes = Buffer.from(raw);
          const decoded = decodeOrReject(codec, bytes);
          if (decoded === null) return;
          assert.ok(decoded.offset <= bytes.length, "read past the end");
          // Whatever decodes is a value the codec can write and read back unchanged.
          const again = encode(codec, decoded.value);
          assert.deepStrictEqual(decodeOrReject(codec, again)?.value, decoded.value);
        }),
        { numRuns: NUM_RUNS },
      );
    });
  }
});

describe("damaged valid encodings", () => {
  for (const [name, codec] of allRecords) {
    test(name, () => {
      const damaged = fc.record({
        value: arbitraryOf(codec),
        cut: fc.nat(),
        flips: fc.array(fc.record({ at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }), {
          minLength: 1,
          maxLength: 4,
        }),
      });
      fc.assert(
        fc.property(damaged, ({ value, cut, flips }) => {
          const bytes = encode(codec, value);
          // Every strict prefix lacks bytes the full record needs.
          if (bytes.length > 0) {
            const prefix = bytes.subarray(0, cut % bytes.length);
            assert.equal(decodeOrReject(codec, prefix), null, `prefix of ${prefix.length} decoded`);
          }
          const corrupt = Buffer.from(bytes);
          for (const { at, byte } of flips) {
            if (corrupt.length > 0) corrupt[at % corrupt.length] = byte;
          }
          decodeOrReject(codec, corrupt);
        }),
        { numRuns: NUM_RUNS },
      );
    });
  }
});

describe("crafted lengths", () => {
  // WatcherEvent {int type; int state; ustring path}: the path's length sits at offset 8.
  const event = (length: number, payload = "") => fromHex(int(3) + int(3) + int(length) + payload);

  test("ustring length -2 is rejected at the length", () => {
    throwsAt(() => WatcherEvent.read(new Reader(event(-2))), 8);
  });

  test("ustring length 0x7fffffff is rejected at the length", () => {
    throwsAt(() => WatcherEvent.read(new Reader(event(0x7fffffff, "2f61"))), 8);
  });

  test("ustring one byte longer than what is left is rejected; exactly what is left is read", () => {
    throwsAt(() => WatcherEvent.read(new Reader(event(4, "2f6162"))), 8);
    throwsAt(() => WatcherEvent.read(new Reader(event(3, "2f61"))), 8);
    assert.deepStrictEqual(WatcherEvent.read(new Reader(event(3, "2f6162"))), {
      type: 3,
      state: 3,
      path: "/ab",
    });
  });

  test("ustring -1 (jute null) reads as an empty string and takes 4 bytes", () => {
    const reader = new Reader(event(-1));
    assert.deepStrictEqual(WatcherEvent.read(reader), { type: 3, state: 3, path: "" });
    assert.equal(reader.remaining, 0);
  });

  // SetDataRequest {ustring path; buffer data; int version}: "/a" puts data's length at 6.
  const setData = (length: number, payload = "") =>
    fromHex(`${int(2)}2f61${int(length)}${payload}${int(7)}`);

  test("buffer length -2 and 0x7fffffff are rejected at the length", () => {
    throwsAt(() => SetDataRequest.read(new Reader(setData(-2))), 6);
    throwsAt(() => SetDataRequest.read(new Reader(setData(0x7fffffff, "00"))), 6);
  });

  test("buffer one byte longer than what is left is rejected at the length", () => {
    // After the length: 2 payload bytes + 4 version bytes = 6 left.
    throwsAt(() => SetDataRequest.read(new Reader(setData(7, "abcd"))), 6);
    // 6 is accepted as a length; the version is then missing, 4 bytes at offset 16.
    throwsAt(() => SetDataRequest.read(new Reader(setData(6, "abcd"))), 16);
  });

  test("buffer -1 (jute null) reads as an empty buffer", () => {
    const reader = new Reader(setData(-1));
    const value = SetDataRequest.read(reader);
    assert.deepStrictEqual(value, { path: "/a", data: Buffer.alloc(0), version: 7 });
    assert.ok(Buffer.isBuffer(value.data));
    assert.equal(reader.remaining, 0);
  });

  // SetWatches {long relativeZxid; vector<ustring> data, exist, child}: data's count at 8.
  const watches = (count: number, rest: string) => fromHex(`0000000000000005${int(count)}${rest}`);
  const twoEmptyVectors = int(0) + int(0);

  test("vector count -2 and 0x7fffffff are rejected at the count", () => {
    throwsAt(() => SetWatches.read(new Reader(watches(-2, twoEmptyVectors))), 8);
    throwsAt(() => SetWatches.read(new Reader(watches(0x7fffffff, twoEmptyVectors))), 8);
  });

  test("vector count one more than the bytes left is rejected at the count", () => {
    const rest = `${int(1)}2f${twoEmptyVectors}`; // one element "/" then two empty vectors
    const left = rest.length / 2;
    throwsAt(() => SetWatches.read(new Reader(watches(left + 1, rest))), 8);
  });

  test("vector -1 (jute null) reads as an empty array", () => {
    const value = SetWatches.read(new Reader(watches(-1, int(-1) + int(0))));
    assert.deepStrictEqual(value, {
      relativeZxid: 5n,
      dataWatches: [],
      existWatches: [],
      childWatches: [],
    });
  });

  test("a count the bytes can hold but whose elements are cut short fails inside them", () => {
    // Count 2 with 6 bytes left passes the count check; the second ustring's length is missing.
    throwsAt(() => SetWatches.read(new Reader(watches(2, `${int(0)}0000`))), 16);
  });
});

describe("never a huge allocation", () => {
  test("vector<ustring> count 0x7fffffff in a 12-byte input fails at the count", () => {
    const bytes = fromHex(`0000000000000001${int(0x7fffffff)}`);
    assert.equal(bytes.length, 12);
    // Offset 8 is the count itself: rejected before a single element was attempted.
    throwsAt(() => SetWatches.read(new Reader(bytes)), 8);
    throwsAt(() => vector(ustring).read(new Reader(bytes, 8)), 8);
  });

  test("a 2 GiB buffer or ustring length allocates nothing", () => {
    const bytes = fromHex(`${int(2)}2f61${int(0x7fffffff)}00000000`);
    const before = process.memoryUsage().arrayBuffers;
    for (let i = 0; i < 100; i++) {
      throwsAt(() => SetDataRequest.read(new Reader(bytes)), 6);
      throwsAt(() => ustring.read(new Reader(bytes, 6)), 6);
    }
    const grown = process.memoryUsage().arrayBuffers - before;
    assert.ok(grown < 1024 * 1024, `arrayBuffers grew by ${grown} bytes`);
  });
});
