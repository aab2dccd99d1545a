/**
 * Generators and a reference encoder derived from a codec's `shape`, so that the codec tests
 * cover every record of records.ts without naming one: a record added there is tested here
 * with no new line of test code.
 */
import fc from "fast-check";
import type { Codec, RecordCodec, Shape } from "../../src/jute/codec.js";
import { Reader } from "../../src/jute/reader.js";
import * as records from "../../src/jute/records.js";
import type { Writer } from "../../src/jute/writer.js";

export const INT_MIN = -(2 ** 31);
export const INT_MAX = 2 ** 31 - 1;
export const LONG_MIN = -(2n ** 63n);
export const LONG_MAX = 2n ** 63n - 1n;

function isRecordCodec(value: unknown): value is RecordCodec<unknown> {
  if (typeof value !== "object" || value === null) return false;
  const shape = (value as { shape?: Shape }).shape;
  return shape !== undefined && shape.kind === "record";
}

/** Every record codec records.ts exports, by export name, in a stable order. */
export const allRecords: readonly (readonly [string, RecordCodec<unknown>])[] = Object.entries(
  records as Record<string, unknown>,
)
  .filter((entry): entry is [string, RecordCodec<unknown>] => isRecordCodec(entry[1]))
  .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

/**
 * Any string that survives UTF-8: whole code points of the full Unicode range (never a lone
 * surrogate, which UTF-8 cannot carry) and multi-code-point graphemes.
 */
export const ustringArbitrary: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: "binary", maxLength: 12 }),
  fc.string({ unit: "grapheme", maxLength: 6 }),
);

export const bufferArbitrary: fc.Arbitrary<Buffer> = fc
  .uint8Array({ maxLength: 24 })
  .map((bytes) => Buffer.from(bytes));

const cache = new Map<Codec<unknown>, fc.Arbitrary<unknown>>();

/** An arbitrary of the values a codec reads and writes, from its shape alone. */
export function arbitraryOf<T>(codec: Codec<T>): fc.Arbitrary<T> {
  let arbitrary = cache.get(codec as Codec<unknown>);
  if (arbitrary === undefined) {
    arbitrary = fromShape(codec.shape);
    cache.set(codec as Codec<unknown>, arbitrary);
  }
  return arbitrary as fc.Arbitrary<T>;
}

function fromShape(shape: Shape): fc.Arbitrary<unknown> {
  switch (shape.kind) {
    case "int":
      return fc.integer({ min: INT_MIN, max: INT_MAX });
    case "long":
      return fc.bigInt({ min: LONG_MIN, max: LONG_MAX });
    case "boolean":
      return fc.boolean();
    case "ustring":
      return ustringArbitrary;
    case "buffer":
      return bufferArbitrary;
    case "vector":
      return fc.array(arbitraryOf(shape.element), { maxLength: 5 });
    case "record": {
      const fields: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [name, codec] of Object.entries(shape.fields)) fields[name] = arbitraryOf(codec);
      return fc.record(fields, { noNullPrototype: true });
    }
  }
}

/**
 * Encodes a value by walking the shape with the Writer's primitives, independently of the
 * codec's own `write`: a hand-written codec (Stat, ReplyHeader) whose shape lists its fields in
 * another order than it writes them shows up as a byte difference.
 */
export function writeByShape(writer: Writer, shape: Shape, value: unknown): void {
  switch (shape.kind) {
    case "int":
      writer.writeInt(value as number);
      return;
    case "long":
      writer.writeLong(value as bigint);
      return;
    case "boolean":
      writer.writeBool(value as boolean);
      return;
    case "ustring":
      writer.writeString(value as string);
      return;
    case "buffer":
      writer.writeBuffer(value as Buffer);
      return;
    case "vector": {
      const values = value as unknown[];
      writer.writeInt(values.length);
      for (const element of values) writeByShape(writer, shape.element.shape, element);
      return;
    }
    case "record":
      for (const [name, codec] of Object.entries(shape.fields)) {
        writeByShape(writer, codec.shape, (value as Record<string, unknown>)[name]);
      }
      return;
  }
}

/** Hex of a byte string, and back, for golden fixtures written as hex in the tests. */
export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex");
}

export function fromHex(text: string): Buffer {
  const clean = text.replace(/\s+/g, "");
  if (!/^(?:[0-9a-f]{2})*$/.test(clean)) throw new Error(`bad hex fixture: ${text}`);
  return Buffer.from(clean, "hex");
}

/**
 * A Reader that counts its primitive reads and throws past a budget. Every successful int,
 * long or boolean read consumes at least one byte (ustring, buffer and vector lengths are ints),
 * so decoding n bytes takes at most n + 1 of them, the last being the one that fails. A decoder
 * that loops without consuming input breaks this bound and fails the test instead of hanging it.
 */
export class CountingReader extends Reader {
  reads = 0;
  private readonly budget: number;

  constructor(bytes: Buffer) {
    super(bytes);
    this.budget = bytes.length + 1;
  }

  private count(): void {
    this.reads++;
    if (this.reads > this.budget) {
      throw new Error(
        `${this.reads} reads of ${this.budget - 1} bytes: a loop that consumes nothing`,
      );
    }
  }

  override readInt(): number {
    this.count();
    return super.readInt();
  }

  override readLong(): bigint {
    this.count();
    return super.readLong();
  }

  override readBool(): boolean {
    this.count();
    return super.readBool();
  }
}
