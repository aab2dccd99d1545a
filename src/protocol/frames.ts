/**
 * ZooKeeper's framing: every packet is a 4-byte big-endian length, then that many bytes. The
 * decoder is incremental: feed it socket chunks of any size; it calls back once per complete
 * frame, in order. Frames wholly inside one chunk are handed out as views without a copy (the
 * callback must finish with them before returning); a frame split across chunks is gathered into
 * a buffer of exactly its size, allocated only after its length passed the limit check.
 */
export class FrameError extends Error {
  override readonly name = "FrameError";
}

export class FrameDecoder {
  private readonly maxFrameBytes: number;
  private readonly header = Buffer.alloc(4);
  private headerFilled = 0;
  private body: Buffer | null = null;
  private bodyFilled = 0;

  constructor(maxFrameBytes: number) {
    this.maxFrameBytes = maxFrameBytes;
  }

  /** Bytes buffered for a frame that is not complete yet. */
  get bufferedBytes(): number {
    return this.headerFilled + this.bodyFilled;
  }

  private checkLength(length: number): void {
    if (length < 0 || length > this.maxFrameBytes) {
      throw new FrameError(`packet length ${length} is out of range (limit ${this.maxFrameBytes})`);
    }
  }

  /** Feeds one chunk; throws FrameError on a length out of range (the stream is then unusable). */
  push(chunk: Buffer, onFrame: (frame: Buffer) => void): void {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.body !== null) {
        offset = this.fillBody(chunk, offset, onFrame);
        continue;
      }
      if (this.headerFilled === 0 && chunk.length - offset >= 4) {
        const length = chunk.readInt32BE(offset);
        this.checkLength(length);
        const start = offset + 4;
        if (chunk.length - start >= length) {
          onFrame(chunk.subarray(start, start + length));
          offset = start + length;
          continue;
        }
        this.body = Buffer.allocUnsafe(length);
        offset = start;
        continue;
      }
      // The length prefix itself is split across chunks.
      const take = Math.min(4 - this.headerFilled, chunk.length - offset);
      chunk.copy(this.header, this.headerFilled, offset, offset + take);
      this.headerFilled += take;
      offset += take;
      if (this.headerFilled === 4) {
        const length = this.header.readInt32BE(0);
        this.headerFilled = 0;
        this.checkLength(length);
        this.body = Buffer.allocUnsafe(length);
        if (length === 0) this.emitBody(onFrame);
      }
    }
  }

  private fillBody(chunk: Buffer, offset: number, onFrame: (frame: Buffer) => void): number {
    const body = this.body as Buffer;
    const take = Math.min(body.length - this.bodyFilled, chunk.length - offset);
    chunk.copy(body, this.bodyFilled, offset, offset + take);
    this.bodyFilled += take;
    if (this.bodyFilled === body.length) this.emitBody(onFrame);
    return offset + take;
  }

  private emitBody(onFrame: (frame: Buffer) => void): void {
    const body = this.body as Buffer;
    this.body = null;
    this.bodyFilled = 0;
    onFrame(body);
  }
}
