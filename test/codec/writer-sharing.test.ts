/**
 * A Writer that shares large buffers (the server's reply writer) must put out exactly the bytes
 * a copying Writer does, length prefixes patched across shared buffers included, and must hand
 * the large buffers out as they are rather than copies.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { Writer } from "../../src/jute/writer.js";

const SHARE_FROM = 64;

type Op =
  | { kind: "int"; value: number }
  | { kind: "long"; value: bigint }
  | { kind: "string"; value: string }
  | { kind: "buffer"; value: Buffer | null };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant("int" as const), value: fc.integer() }),
  fc.record({
    kind: fc.constant("long" as const),
    value: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  }),
  fc.record({ kind: fc.constant("string" as const), value: fc.string({ maxLength: 40 }) }),
  fc.record({
    kind: fc.constant("buffer" as const),
    value: fc.option(
      fc.integer({ min: 0, max: 3 * SHARE_FROM }).map((n) => Buffer.alloc(n, n % 251)),
      { nil: null },
    ),
  }),
);

/** Frames as ServerConnection.send writes them: a length prefix patched after the body. */
function writeFrames(w: Writer, frames: readonly (readonly Op[])[]): void {
  for (const frame of frames) {
    const start = w.length;
    const at = w.reserveInt();
    for (const o of frame) {
      if (o.kind === "int") w.writeInt(o.value);
      else if (o.kind === "long") w.writeLong(o.value);
      else if (o.kind === "string") w.writeString(o.value);
      else w.writeBuffer(o.value);
    }
    w.patchInt(at, w.length - start - 4);
  }
}

test("a sharing Writer writes the bytes a copying one does, large buffers by reference", () => {
  fc.assert(
    fc.property(fc.array(fc.array(op, { maxLength: 8 }), { maxLength: 6 }), (frames) => {
      const copying = new Writer(16);
      const sharing = new Writer(16, { shareFrom: SHARE_FROM });
      for (let round = 0; round < 2; round++) {
        // Twice: a Writer is reused after takeChunks() as after take() and reset().
        writeFrames(copying, frames);
        writeFrames(sharing, frames);
        assert.equal(sharing.length, copying.length);
        const expected = copying.take();
        copying.reset();
        const chunks = sharing.takeChunks();
        assert.deepEqual(Buffer.concat(chunks), expected);
        assert.equal(sharing.length, 0);
        const large = frames
          .flat()
          .flatMap((o) =>
            o.kind === "buffer" && o.value !== null && o.value.length >= SHARE_FROM
              ? [o.value]
              : [],
          );
        assert.deepEqual(
          chunks.filter((c) => large.includes(c)),
          large,
        );
      }
    }),
    { numRuns: 300 },
  );
});

test("take() of a sharing Writer concatenates, and an unshared Writer behaves as before", () => {
  const big = Buffer.alloc(100, 7);
  const w = new Writer(8, { shareFrom: 64 });
  w.writeInt(1).writeBuffer(big).writeInt(2);
  assert.deepEqual(
    w.take(),
    Buffer.concat([Buffer.from([0, 0, 0, 1, 0, 0, 0, 100]), big, Buffer.from([0, 0, 0, 2])]),
  );
  const plain = new Writer(8);
  plain.writeBuffer(big);
  assert.deepEqual(plain.takeChunks(), [Buffer.concat([Buffer.from([0, 0, 0, 100]), big])]);
});
