import { NULL_BUFFER } from "./reader.js";

/**
 * Writes a jute long at `at` of `buffer`. One bigint-to-number conversion and byte stores: about
 * twice as fast as writeBigInt64BE (several bigint operations per call), for every long a safe
 * integer holds (zxids, times); the others go the slow way.
 */
export function writeLongAt(buffer: Uint8Array, at: number, value: bigint): void {
  const n = Number(value);
  if (n <= Number.MAX_SAFE_INTEGER && n >= Number.MIN_SAFE_INTEGER) {
    const hi = Math.floor(n / 4294967296);
    storeWords(buffer, at, hi, n - hi * 4294967296);
  } else {
    new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength).setBigInt64(at, value);
  }
}

/** A long's high and low 32-bit words, big-endian, at `at`. */
function storeWords(buffer: Uint8Array, at: number, hi: number, lo: number): void {
  buffer[at] = hi >>> 24;
  buffer[at + 1] = hi >>> 16;
  buffer[at + 2] = hi >>> 8;
  buffer[at + 3] = hi;
  buffer[at + 4] = lo >>> 24;
  buffer[at + 5] = lo >>> 16;
  buffer[at + 6] = lo >>> 8;
  buffer[at + 7] = lo;
}

/** A large buffer a sharing Writer refers to instead of copying: it belongs before `at`. */
interface SharedBuffer {
  readonly at: number;
  readonly value: Uint8Array;
}

/** Strings up to this many UTF-16 units take writeString's ASCII path. */
const SHORT_STRING = 256;

/**
 * A growable output buffer for jute records. One Writer is reused for many records: callers
 * encode, take the bytes with `take()` (a copy) and `reset()`, so steady-state encoding does not
 * allocate beyond the copy it hands out.
 *
 * A Writer made with `shareFrom` keeps jute buffers of that many bytes or more by reference
 * instead of copying them in, and hands the output out in pieces (`takeChunks()`), for a
 * socket's writev: a server answering 512 KiB getData replies copied each one three times
 * (into the Writer, while it grew, and out of it) and kept megabytes per connection. Such
 * buffers must not change until the chunks are written (znode data never changes in place).
 */
export class Writer {
  private buffer: Buffer;
  private cursor = 0;
  private readonly shareFrom: number;
  /** Shared buffers in output order, and their bytes. */
  private shared: SharedBuffer[] = [];
  private sharedBytes = 0;
  /** The last two safe-integer longs written, with their high and low words (see writeLong). */
  private longA = 0n;
  private hiA = 0;
  private loA = 0;
  private longB = 0n;
  private hiB = 0;
  private loB = 0;

  constructor(initialBytes = 4096, options: { shareFrom?: number } = {}) {
    this.buffer = Buffer.allocUnsafe(initialBytes);
    this.shareFrom = options.shareFrom ?? Number.POSITIVE_INFINITY;
  }

  /** Bytes written, shared buffers included. */
  get length(): number {
    return this.cursor + this.sharedBytes;
  }

  private ensure(bytes: number): void {
    const needed = this.cursor + bytes;
    if (needed <= this.buffer.length) return;
    // Never 0: a Writer made with initialBytes 0 would otherwise double 0 forever.
    let size = Math.max(this.buffer.length * 2, 64);
    while (size < needed) size *= 2;
    const grown = Buffer.allocUnsafe(size);
    this.buffer.copy(grown, 0, 0, this.cursor);
    this.buffer = grown;
  }

  writeInt(value: number): this {
    this.ensure(4);
    this.buffer.writeInt32BE(value, this.cursor);
    this.cursor += 4;
    return this;
  }

  writeLong(value: bigint): this {
    this.ensure(8);
    const at = this.cursor;
    this.cursor += 8;
    // Turning a bigint into a number is most of writeLongAt's cost, and comparing two bigints
    // a fifth of it: the last two longs written are kept as words (a snapshot's nodes repeat
    // their zxids and times: czxid = mzxid = pzxid and ctime = mtime until a node changes).
    if (value === this.longA) return this.writeWords(at, this.hiA, this.loA);
    if (value === this.longB) return this.writeWords(at, this.hiB, this.loB);
    const n = Number(value);
    if (n > Number.MAX_SAFE_INTEGER || n < Number.MIN_SAFE_INTEGER) {
      writeLongAt(this.buffer, at, value);
      return this;
    }
    const hi = Math.floor(n / 4294967296);
    const lo = n - hi * 4294967296;
    this.longB = this.longA;
    this.hiB = this.hiA;
    this.loB = this.loA;
    this.longA = value;
    this.hiA = hi;
    this.loA = lo;
    return this.writeWords(at, hi, lo);
  }

  private writeWords(at: number, hi: number, lo: number): this {
    storeWords(this.buffer, at, hi, lo);
    return this;
  }

  writeBool(value: boolean): this {
    this.ensure(1);
    this.buffer[this.cursor++] = value ? 1 : 0;
    return this;
  }

  writeString(value: string): this {
    if (value.length <= SHORT_STRING) return this.writeShortString(value);
    return this.writeEncodedString(value);
  }

  /**
   * Most strings written are short and ASCII (paths, schemes, ids): stored char by char, which
   * skips Buffer.write's layers (a million-node snapshot writes a million paths). The first
   * char past ASCII hands the string to the UTF-8 encoder, from the start.
   */
  private writeShortString(value: string): this {
    const length = value.length;
    this.ensure(4 + length);
    const buffer = this.buffer;
    const start = this.cursor + 4;
    for (let i = 0; i < length; i++) {
      const code = value.charCodeAt(i);
      if (code >= 0x80) return this.writeEncodedString(value);
      buffer[start + i] = code;
    }
    buffer.writeInt32BE(length, this.cursor);
    this.cursor = start + length;
    return this;
  }

  /** writeString(head + tail), without joining them first when both are short and ASCII. */
  writeJoinedString(head: string, tail: string): this {
    const length = head.length + tail.length;
    if (length > SHORT_STRING) return this.writeEncodedString(head + tail);
    this.ensure(4 + length);
    const buffer = this.buffer;
    const start = this.cursor + 4;
    for (let i = 0; i < head.length; i++) {
      const code = head.charCodeAt(i);
      if (code >= 0x80) return this.writeEncodedString(head + tail);
      buffer[start + i] = code;
    }
    const middle = start + head.length;
    for (let i = 0; i < tail.length; i++) {
      const code = tail.charCodeAt(i);
      if (code >= 0x80) return this.writeEncodedString(head + tail);
      buffer[middle + i] = code;
    }
    buffer.writeInt32BE(length, this.cursor);
    this.cursor = start + length;
    return this;
  }

  private writeEncodedString(value: string): this {
    const bytes = Buffer.byteLength(value, "utf8");
    this.ensure(4 + bytes);
    this.buffer.writeInt32BE(bytes, this.cursor);
    this.buffer.write(value, this.cursor + 4, bytes, "utf8");
    this.cursor += 4 + bytes;
    return this;
  }

  /** Writes a jute buffer; null (or NULL_BUFFER) writes jute's -1 length. */
  writeBuffer(value: Uint8Array | null): this {
    if (value === null || value === NULL_BUFFER) return this.writeInt(-1);
    if (value.length >= this.shareFrom) {
      this.writeInt(value.length);
      this.shared.push({ at: this.cursor, value });
      this.sharedBytes += value.length;
      return this;
    }
    this.ensure(4 + value.length);
    this.buffer.writeInt32BE(value.length, this.cursor);
    this.buffer.set(value, this.cursor + 4);
    this.cursor += 4 + value.length;
    return this;
  }

  /**
   * Reserves 4 bytes for a length prefix and returns where to patch it (a place in this
   * Writer's own buffer: measure lengths by `length`, which counts shared buffers too).
   */
  reserveInt(): number {
    this.ensure(4);
    const at = this.cursor;
    this.cursor += 4;
    return at;
  }

  patchInt(at: number, value: number): void {
    this.buffer.writeInt32BE(value, at);
  }

  /** A copy of the bytes written since `from` (0 when buffers were shared). */
  take(from = 0): Buffer {
    if (this.shared.length > 0) {
      if (from !== 0) throw new Error("take(from) of a Writer holding shared buffers");
      return Buffer.concat(this.takeChunks());
    }
    return Buffer.from(this.buffer.subarray(from, this.cursor));
  }

  /**
   * Everything written, in order: copies of this Writer's own bytes between the shared buffers,
   * which are handed out as they are. Then the Writer is empty, as after reset().
   */
  takeChunks(): Buffer[] {
    const chunks: Buffer[] = [];
    let from = 0;
    for (const { at, value } of this.shared) {
      if (at > from) chunks.push(Buffer.from(this.buffer.subarray(from, at)));
      chunks.push(
        Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.length),
      );
      from = at;
    }
    if (this.cursor > from) chunks.push(Buffer.from(this.buffer.subarray(from, this.cursor)));
    this.reset();
    return chunks;
  }

  reset(): void {
    this.cursor = 0;
    if (this.shared.length > 0) {
      this.shared = [];
      this.sharedBytes = 0;
    }
  }
}
