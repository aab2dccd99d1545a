/**
 * Zab messages on the wire between zkts servers: a 4-byte big-endian length, then the body.
 * zkts's own format, not ZooKeeper's QuorumPacket (mixed ensembles are a separate step).
 *
 * - The messages of every write (PROPOSAL, ACK, COMMIT, INFORM, and a follower's forwarded
 *   write) are binary: a tag byte, then fixed fields and the payload's bytes as they are. They
 *   are most of the traffic, and JSON with base64 cost a write a fifth of the leader's CPU.
 * - Everything else (election, sync, pings, forwarded sessions) is JSON, which starts with "{",
 *   a byte no binary tag uses: bigints as {"$n": "<decimal>"}, Buffers as {"$b": "<base64>"}.
 *   Simple to read in a packet capture, and rare.
 *
 * The first frame on every connection is a hello, {"id": <server id>}, so the receiver knows
 * who is talking.
 */
import type { Id } from "../../jute/index.js";
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

/** Binary bodies' first byte. */
const Tag = { PROPOSAL: 1, ACK: 2, COMMIT: 3, INFORM: 4, WRITE: 5 } as const;

/** A follower's forwarded write (ensemble-role.ts's ForwardedRequest of kind "write"). */
interface ForwardedWrite {
  readonly kind: "write";
  readonly sessionId: bigint;
  readonly xid: number;
  readonly opcode: number;
  readonly body: Buffer;
  readonly authIds: readonly Id[];
}

export function encodeFrame(value: unknown): Buffer {
  return encodeBinary(value as Message<unknown>) ?? encodeJson(value);
}

function encodeJson(value: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(value, replacer), "utf8");
  const frame = Buffer.allocUnsafe(4 + body.length);
  frame.writeUInt32BE(body.length, 0);
  body.copy(frame, 4);
  return frame;
}

/** [length][tag][zxid], then `payload` if any. */
function zxidFrame(tag: number, zxid: bigint, payload?: Buffer): Buffer {
  const length = 1 + 8 + (payload?.length ?? 0);
  const frame = Buffer.allocUnsafe(4 + length);
  frame.writeUInt32BE(length, 0);
  frame[4] = tag;
  frame.writeBigInt64BE(zxid, 5);
  payload?.copy(frame, 13);
  return frame;
}

/** The binary frame of a hot message, or undefined for one that goes as JSON. */
function encodeBinary(message: Message<unknown>): Buffer | undefined {
  switch (message.type) {
    case "ACK":
      return zxidFrame(Tag.ACK, message.zxid);
    case "COMMIT":
      return zxidFrame(Tag.COMMIT, message.zxid);
    case "PROPOSAL":
    case "INFORM": {
      const { zxid, payload } = message.entry;
      if (!Buffer.isBuffer(payload)) return undefined;
      return zxidFrame(message.type === "PROPOSAL" ? Tag.PROPOSAL : Tag.INFORM, zxid, payload);
    }
    case "REQUEST": {
      const request = message.request as Partial<ForwardedWrite> | undefined;
      if (request?.kind !== "write" || !Buffer.isBuffer(request.body)) return undefined;
      return writeFrame(request as ForwardedWrite);
    }
    default:
      return undefined;
  }
}

/** [length][tag][sessionId][xid][opcode][auth ids: count, then scheme and id, each length + utf8][body] */
function writeFrame(request: ForwardedWrite): Buffer {
  const ids = request.authIds.flatMap((id) => [
    Buffer.from(id.scheme, "utf8"),
    Buffer.from(id.id, "utf8"),
  ]);
  const idBytes = ids.reduce((sum, b) => sum + 4 + b.length, 0);
  const length = 1 + 8 + 4 + 4 + 4 + idBytes + request.body.length;
  const frame = Buffer.allocUnsafe(4 + length);
  frame.writeUInt32BE(length, 0);
  frame[4] = Tag.WRITE;
  frame.writeBigInt64BE(request.sessionId, 5);
  frame.writeInt32BE(request.xid, 13);
  frame.writeInt32BE(request.opcode, 17);
  frame.writeInt32BE(request.authIds.length, 21);
  let at = 25;
  for (const bytes of ids) {
    frame.writeInt32BE(bytes.length, at);
    bytes.copy(frame, at + 4);
    at += 4 + bytes.length;
  }
  request.body.copy(frame, at);
  return frame;
}

/** A frame body as a message (or hello); throws on a body that does not decode. */
export function decodeBody(body: Buffer): unknown {
  const tag = body[0];
  if (tag === 0x7b) return JSON.parse(body.toString("utf8"), reviver);
  if (body.length < 9) throw new Error(`quorum frame of ${body.length} bytes with tag ${tag}`);
  const zxid = body.readBigInt64BE(1);
  switch (tag) {
    case Tag.ACK:
      return { type: "ACK", zxid };
    case Tag.COMMIT:
      return { type: "COMMIT", zxid };
    case Tag.PROPOSAL:
    case Tag.INFORM: {
      // A copy: the payload outlives the read buffer it came in (the history keeps it).
      const entry = { zxid, payload: Buffer.from(body.subarray(9)) };
      return { type: tag === Tag.PROPOSAL ? "PROPOSAL" : "INFORM", entry };
    }
    case Tag.WRITE:
      return { type: "REQUEST", request: readWrite(body) };
    default:
      throw new Error(`quorum frame with unknown tag ${tag}`);
  }
}

function readWrite(body: Buffer): ForwardedWrite {
  const count = body.readInt32BE(17);
  if (count < 0 || count > 1024) throw new Error(`forwarded write with ${count} auth ids`);
  let at = 21;
  const readString = () => {
    const length = body.readInt32BE(at);
    if (length < 0 || at + 4 + length > body.length) throw new Error("forwarded write cut short");
    const text = body.toString("utf8", at + 4, at + 4 + length);
    at += 4 + length;
    return text;
  };
  const authIds: Id[] = [];
  for (let i = 0; i < count; i++) authIds.push({ scheme: readString(), id: readString() });
  return {
    kind: "write",
    sessionId: body.readBigInt64BE(1),
    xid: body.readInt32BE(9),
    opcode: body.readInt32BE(13),
    body: Buffer.from(body.subarray(at)),
    authIds,
  };
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
