/**
 * A cursor over one received jute record. It never trusts a length read from the wire: a
 * negative length (other than jute's -1 for null), or one that runs past the end of the bytes
 * it was given, is a JuteDecodeError, raised before anything is allocated. The bytes it is given
 * are one frame, already capped by the frame decoder's packet limit, so no length can make it
 * allocate more than that limit.
 */
export class JuteDecodeError extends Error {
  override readonly name = "JuteDecodeError";
  readonly offset: number;

  constructor(message: string, offset: number) {
    super(`${message} at offset ${offset}`);
    this.offset = offset;
  }
}

/**
 * Jute's null buffer. ZooKeeper keeps null data apart from empty data (a Java client's
 * create(path, null) reads back as null), so null travels as this one shared empty Buffer:
 * callers see an empty buffer, and the Writer writes it back as null (length -1).
 */
export const NULL_BUFFER: Buffer = Buffer.alloc(0);

export class Reader {
  private readonly buffer: Buffer;
  private cursor: number;
  private readonly end: number;

  constructor(buffer: Buffer, start = 0, end = buffer.length) {
    this.buffer = buffer;
    this.cursor = start;
    this.end = end;
  }

  get offset(): number {
    return this.cursor;
  }

  /** The bytes not read yet (a view), e.g. a request body to pass on unread. */
  rest(): Buffer {
    return this.buffer.subarray(this.cursor, this.end);
  }

  get remaining(): number {
    return this.end - this.cursor;
  }

  private need(bytes: number, what: string): void {
    if (this.end - this.cursor < bytes) {
      throw new JuteDecodeError(
        `${what} needs ${bytes} bytes, ${this.remaining} left`,
        this.cursor,
      );
    }
  }

  readInt(): number {
    this.need(4, "int");
    const value = this.buffer.readInt32BE(this.cursor);
    this.cursor += 4;
    return value;
  }

  readLong(): bigint {
    this.need(8, "long");
    const value = this.buffer.readBigInt64BE(this.cursor);
    this.cursor += 8;
    return value;
  }

  /** Steps over `bytes` bytes that the caller reads itself; returns where they start. */
  skip(bytes: number, what: string): number {
    this.need(bytes, what);
    const at = this.cursor;
    this.cursor += bytes;
    return at;
  }

  readBool(): boolean {
    this.need(1, "boolean");
    return this.buffer[this.cursor++] !== 0;
  }

  /** Reads a length prefix: -1 (jute's null) comes back as -1, any other negative throws. */
  readLength(what: string, unitBytes: number): number {
    const at = this.cursor;
    const length = this.readInt();
    if (length < -1) throw new JuteDecodeError(`negative ${what} length ${length}`, at);
    // Each element takes at least unitBytes, so a count the remaining bytes cannot hold is
    // rejected here, before a caller sizes anything by it.
    if (length > 0 && length * unitBytes > this.remaining) {
      throw new JuteDecodeError(`${what} length ${length} runs past the end`, at);
    }
    return length;
  }

  /** A jute ustring; null (-1) reads as "". */
  readString(): string {
    const length = this.readLength("ustring", 1);
    if (length <= 0) return "";
    const value = this.buffer.toString("utf8", this.cursor, this.cursor + length);
    this.cursor += length;
    return value;
  }

  /**
   * A jute buffer, copied so that the caller never pins the whole socket chunk. Jute's null
   * (-1) reads as NULL_BUFFER, an empty buffer that writes back as null.
   */
  readBuffer(): Buffer {
    const length = this.readLength("buffer", 1);
    if (length === -1) return NULL_BUFFER;
    if (length === 0) return Buffer.alloc(0);
    const value = Buffer.allocUnsafe(length);
    this.buffer.copy(value, 0, this.cursor, this.cursor + length);
    this.cursor += length;
    return value;
  }

  /** Whether a jute buffer here is null (-1 length) — the server distinguishes null data. */
  peekNullBuffer(): boolean {
    return this.remaining >= 4 && this.buffer.readInt32BE(this.cursor) === -1;
  }
}
