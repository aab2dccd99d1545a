/**
 * Goal: the FrameDecoder hands out the same frames, in order, however the stream is cut into
 * chunks; it rejects lengths out of range before allocating for them.
 * Method: random frames (0..5000 bytes) fed whole, byte by byte and at random cut points;
 * crafted length prefixes at and around the limit, on the in-chunk path (prefix and body in
 * one chunk) and on the split path (prefix split across chunks).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { FrameDecoder, FrameError } from "../../src/protocol/frames.js";

const LIMIT = 8192;

function frameOf(body: Uint8Array): Buffer {
  const prefix = Buffer.alloc(4);
  prefix.writeInt32BE(body.length);
  return Buffer.concat([prefix, body]);
}

function lengthPrefix(length: number): Buffer {
  const prefix = Buffer.alloc(4);
  prefix.writeInt32BE(length);
  return prefix;
}

/** Feeds chunks to a fresh decoder; copies each frame, since frames may be views of a chunk. */
function decodeAll(chunks: readonly Buffer[], limit = LIMIT): Buffer[] {
  const decoder = new FrameDecoder(limit);
  const frames: Buffer[] = [];
  for (const chunk of chunks) decoder.push(chunk, (frame) => frames.push(Buffer.from(frame)));
  assert.equal(decoder.bufferedBytes, 0, "a whole stream left bytes buffered");
  return frames;
}

/** The stream cut at the given offsets (any order, duplicates allowed; empty chunks too). */
function cutAt(stream: Buffer, cuts: readonly number[]): Buffer[] {
  const points = [0, ...cuts.map((cut) => cut % (stream.length + 1)), stream.length];
  points.sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  for (let i = 1; i < points.length; i++) {
    chunks.push(stream.subarray(points[i - 1] as number, points[i] as number));
  }
  return chunks;
}

function byteByByte(stream: Buffer): Buffer[] {
  return Array.from({ length: stream.length }, (_, i) => stream.subarray(i, i + 1));
}

const bodies = fc.array(
  fc.oneof(
    fc.uint8Array({ maxLength: 5000 }),
    fc.uint8Array({ maxLength: 8 }), // many tiny and empty frames, to put prefixes side by side
  ),
  { maxLength: 8 },
);

describe("buffering", () => {
  test("bufferedBytes counts the split prefix, then the body bytes, then drops to 0", () => {
    const decoder = new FrameDecoder(LIMIT);
    const stream = frameOf(Buffer.from("hello"));
    const frames: string[] = [];
    const counts: number[] = [];
    for (let i = 0; i < stream.length; i++) {
      decoder.push(stream.subarray(i, i + 1), (frame) => frames.push(frame.toString()));
      counts.push(decoder.bufferedBytes);
    }
    // The parsed prefix is not held (it is the allocated body now): 3 -> 0 at the fourth byte.
    assert.deepStrictEqual(counts, [1, 2, 3, 0, 1, 2, 3, 4, 0]);
    assert.deepStrictEqual(frames, ["hello"]);
  });

  // First in the file, before the property tests leave garbage a GC could free mid-measurement.
  test("no body is allocated until all 4 length bytes are in", () => {
    const limit = 64 * 1024 * 1024;
    const decoder = new FrameDecoder(limit);
    const prefix = lengthPrefix(limit);
    const before = process.memoryUsage().arrayBuffers;
    decoder.push(prefix.subarray(0, 3), () => assert.fail("no frame yet"));
    const afterThree = process.memoryUsage().arrayBuffers - before;
    assert.equal(decoder.bufferedBytes, 3);
    assert.ok(afterThree < 1024 * 1024, `3 prefix bytes allocated ${afterThree} bytes`);
    // The control: the fourth byte completes the length, and the body is allocated then.
    decoder.push(prefix.subarray(3), () => assert.fail("no frame yet"));
    const afterFour = process.memoryUsage().arrayBuffers - before;
    assert.ok(afterFour >= limit / 2, `4 prefix bytes allocated only ${afterFour}`);
  });

  test("an over-limit length allocates nothing", () => {
    const decoder = new FrameDecoder(1024);
    const before = process.memoryUsage().arrayBuffers;
    assert.throws(() => decoder.push(lengthPrefix(0x7fffffff), () => {}), FrameError);
    assert.ok(process.memoryUsage().arrayBuffers - before < 1024 * 1024);
  });
});

describe("same frames however the stream is chunked", () => {
  test("whole, byte by byte, and at random cuts", () => {
    fc.assert(
      fc.property(bodies, fc.array(fc.nat(), { maxLength: 20 }), (frames, cuts) => {
        const expected = frames.map((body) => Buffer.from(body));
        const stream = Buffer.concat(frames.map(frameOf));
        assert.deepStrictEqual(decodeAll([stream]), expected);
        assert.deepStrictEqual(decodeAll(byteByByte(stream)), expected);
        assert.deepStrictEqual(decodeAll(cutAt(stream, cuts)), expected);
      }),
      { numRuns: 200 },
    );
  });

  test("a frame is delivered by the push that completes it; bufferedBytes tracks the rest", () => {
    fc.assert(
      fc.property(bodies, fc.array(fc.nat(), { maxLength: 20 }), (frames, cuts) => {
        const stream = Buffer.concat(frames.map(frameOf));
        // Byte offset at which each frame is complete.
        const ends: number[] = [];
        let end = 0;
        for (const body of frames) {
          end += 4 + body.length;
          ends.push(end);
        }
        const decoder = new FrameDecoder(LIMIT);
        let fed = 0;
        let delivered = 0;
        for (const chunk of cutAt(stream, cuts)) {
          decoder.push(chunk, () => delivered++);
          fed += chunk.length;
          assert.equal(delivered, ends.filter((e) => e <= fed).length);
          // Held back: the prefix bytes while the prefix is split, then only body bytes.
          const since = fed - ends.filter((e) => e <= fed).reduce((a, b) => Math.max(a, b), 0);
          assert.equal(decoder.bufferedBytes, since < 4 ? since : since - 4);
        }
      }),
      { numRuns: 200 },
    );
  });

  test("a frame wholly inside one chunk is a view of that chunk, not a copy", () => {
    const chunk = Buffer.concat([frameOf(Buffer.from("abc")), frameOf(Buffer.from("de"))]);
    const seen: Buffer[] = [];
    new FrameDecoder(LIMIT).push(chunk, (frame) => seen.push(frame));
    assert.equal(seen.length, 2);
    assert.equal(seen[0]?.buffer, chunk.buffer);
    assert.equal(seen[0]?.byteOffset, chunk.byteOffset + 4);
    assert.equal(seen[1]?.toString(), "de");
  });
});

describe("lengths out of range", () => {
  /** Feeds the prefix in one chunk (with a body byte) and split across chunks. */
  function bothPaths(length: number, check: (push: () => void) => void): void {
    check(() =>
      new FrameDecoder(LIMIT).push(
        Buffer.concat([lengthPrefix(length), Buffer.alloc(1)]),
        () => {},
      ),
    );
    check(() => {
      const decoder = new FrameDecoder(LIMIT);
      for (const chunk of byteByByte(lengthPrefix(length))) decoder.push(chunk, () => {});
    });
  }

  test("a length of -1 is a FrameError", () => {
    bothPaths(-1, (push) => assert.throws(push, FrameError));
  });

  test("the most negative length is a FrameError", () => {
    bothPaths(-(2 ** 31), (push) => assert.throws(push, FrameError));
  });

  test("limit + 1 is a FrameError that names the length and the limit", () => {
    bothPaths(LIMIT + 1, (push) =>
      assert.throws(push, (error: unknown) => {
        assert.ok(error instanceof FrameError);
        assert.equal(error.name, "FrameError");
        assert.match(error.message, new RegExp(`${LIMIT + 1}.*${LIMIT}`));
        return true;
      }),
    );
  });

  test("a length exactly at the limit is accepted, whole or split", () => {
    const body = Buffer.alloc(LIMIT, 7);
    const stream = frameOf(body);
    assert.deepStrictEqual(decodeAll([stream]), [body]);
    assert.deepStrictEqual(decodeAll(cutAt(stream, [2, 4, 100])), [body]);
    assert.deepStrictEqual(decodeAll(cutAt(stream, [4])), [body]);
  });

  test("an error comes before any frame of the bad packet is delivered", () => {
    const stream = Buffer.concat([frameOf(Buffer.from("ok")), lengthPrefix(LIMIT + 1)]);
    const frames: string[] = [];
    assert.throws(
      () => new FrameDecoder(LIMIT).push(stream, (frame) => frames.push(frame.toString())),
      FrameError,
    );
    assert.deepStrictEqual(frames, ["ok"]);
  });
});
