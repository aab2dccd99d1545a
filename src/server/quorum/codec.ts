/**
 * Zab messages on the wire between zkts servers: a 4-byte big-endian length, then the message
 * as JSON with bigints as {"$n": "<decimal>"} and Buffers as {"$b": "<base64>"}. zkts's own
 * format, not ZooKeeper's QuorumPacket (mixed ensembles are a separate step): simple to read in
 * a packet capture, and messages are few next to client requests.
 *
 * The first frame on every connection is a hello, {"id": <server id>}, so the receiver knows
 * who is talking.
 */
import type { Message } from "../../zab/messages.js";

export const MAX_QUORUM_FRAME = 256 * 1024 * 1024;

function replacer(this: unknown, key: string, value: unknown): unknown {
  const raw = (this as Record<string, unknown>)[key];
  if (typeof raw === "bigint") return { $n: raw.toString() };
  if (Buffer.isBuffer(raw)) return { $b: raw.toString("base64") };
  return value;
}

function reviver(_key: string, value: unknown): unknown {
  if (value !== null && typeof value === "object") {
    const tagged = value as { $n?: unknown; $b?: unknown };
    if (typeof tagged.$n === "string" && Object.keys(value).length === 1) return BigInt(tagged.$n);
    if (typeof tagged.$b === "string" && Object.keys(value).length === 1) {
      return Buffer.from(tagged.$b, "base64");
    }
  }
  return value;
}

export function encodeFrame(value: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(value, replacer), "utf8");
  const frame = Buffer.allocUnsafe(4 + body.length);
  frame.writeUInt32BE(body.length, 0);
  body.copy(frame, 4);
  return frame;
}

export function decodeBody(body: Buffer): unknown {
  return JSON.parse(body.toString("utf8"), reviver);
}

export interface Hello {
  readonly id: number;
}

export type QuorumFrame<P> = Hello | Message<P>;

/** Splits a byte stream into frame bodies; throws on a length past MAX_QUORUM_FRAME. */
export class FrameSplitter {
  private buffered: Buffer = Buffer.alloc(0);

  push(chunk: Buffer, onBody: (body: Buffer) => void): void {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    let offset = 0;
    while (this.buffered.length - offset >= 4) {
      const length = this.buffered.readUInt32BE(offset);
      if (length > MAX_QUORUM_FRAME) throw new Error(`quorum frame of ${length} bytes`);
      if (this.buffered.length - offset - 4 < length) break;
      onBody(this.buffered.subarray(offset + 4, offset + 4 + length));
      offset += 4 + length;
    }
    this.buffered = this.buffered.subarray(offset);
  }
}
