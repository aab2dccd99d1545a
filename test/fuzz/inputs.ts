/**
 * Hostile inputs for the server, as fast-check arbitraries: what one connection sends, from its
 * opening (a handshake, a resumed or forged session, a four-letter word, garbage) through a run of
 * frames (well-formed requests of every opcode on a small pool of paths, so that they meet each
 * other's znodes and watches; damaged ones; random bodies; lying, negative and 1 GiB length
 * prefixes; raw bytes), cut into chunks at random points.
 *
 * A script is data: the bytes of a resumed session are filled in when it runs (it needs a session
 * the server handed out earlier), everything else is fixed by the seed, so a failing run replays.
 */
import fc from "fast-check";
import type { ACL } from "../../src/jute/records.js";
import {
  AddWatchRequest,
  AuthPacket,
  CheckVersionRequest,
  CheckWatchesRequest,
  ConnectRequest,
  CreateRequest,
  CreateTTLRequest,
  DeleteRequest,
  ExistsRequest,
  GetACLRequest,
  GetAllChildrenNumberRequest,
  GetDataRequest,
  GetEphemeralsRequest,
  MultiHeader,
  ReconfigRequest,
  SetACLRequest,
  SetDataRequest,
  SetWatches,
  SetWatches2,
  SyncRequest,
} from "../../src/jute/records.js";
import { Writer } from "../../src/jute/writer.js";
import { type MultiOp, writeMultiRequest } from "../../src/protocol/multi.js";
import { OpCode } from "../../src/protocol/opcodes.js";
import { requestRecords } from "../../src/protocol/requests.js";
import { arbitraryOf, INT_MAX, INT_MIN } from "../codec/shapes.js";

/** The xid of the request a runner appends to see whether the connection still answers. */
export const SENTINEL_XID = 0x7ffffffe;
/** ZooKeeper's jute.maxbuffer default, the servers' frame limit in these runs. */
export const MAX_FRAME_BYTES = 0xfffff;

/** One piece of the byte stream after the opening, and what it is, for reports. */
export interface Piece {
  readonly label: string;
  readonly bytes: Buffer;
}

export type Opening =
  | { readonly kind: "handshake"; readonly request: ConnectRequest; readonly oldStyle: boolean }
  /** Resume the `pick`-th known session (modulo the pool); `forge` damages its password. */
  | { readonly kind: "resume"; readonly pick: number; readonly forge: boolean }
  | { readonly kind: "fourLetterWord"; readonly word: string; readonly rest: Buffer }
  /** No handshake: the first piece is taken for one. */
  | { readonly kind: "none" };

export interface Script {
  readonly opening: Opening;
  readonly pieces: readonly Piece[];
  /** Cut points over the whole stream (opening included), any order; chunks are written apart. */
  readonly cuts: readonly number[];
  /** False: the client takes no replies until it has sent everything (a client that lags). */
  readonly reads: boolean;
}

const OPEN_ACL: ACL[] = [{ perms: 31, id: { scheme: "world", id: "anyone" } }];

/** Paths that exist or will, their children, and every kind of bad path ZooKeeper refuses. */
export const PATHS = [
  "/",
  "/fz",
  "/fz/a",
  "/fz/a/b",
  "/fz/a/b/c",
  "/fz/b",
  "/fz/s-",
  "/fz/s-0000000001",
  "/fz/e",
  "/fz/ttl",
  "/fz/cont",
  "/fz/cont/x",
  "/zookeeper",
  "/zookeeper/quota",
  "/zookeeper/config",
  "",
  "fz",
  "/fz/",
  "//fz",
  "/fz/./a",
  "/fz/../a",
  "/fz\u0000a",
  "/fz/\u{1f600}",
] as const;

const path = fc.oneof(
  { weight: 12, arbitrary: fc.constantFrom(...PATHS) },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 16 }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 300 }).map((s) => `/fz/${s}`) },
);

const int = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: -2, max: 4 }) },
  { weight: 1, arbitrary: fc.constantFrom(INT_MIN, INT_MAX, 0x40000000, 0xfffff, 0x100000) },
  { weight: 1, arbitrary: fc.integer({ min: INT_MIN, max: INT_MAX }) },
);

const data = fc.oneof(
  { weight: 30, arbitrary: fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b)) },
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 8192 }).map((n) => Buffer.alloc(n, 0x61)) },
  // Near and past jute.maxbuffer once the rest of the frame is added.
  { weight: 1, arbitrary: fc.integer({ min: 0xfff00, max: 0xfffff }).map((n) => Buffer.alloc(n)) },
);

const acl: fc.Arbitrary<ACL[]> = fc.oneof(
  { weight: 8, arbitrary: fc.constant(OPEN_ACL) },
  {
    weight: 3,
    arbitrary: fc.array(
      fc.record({
        perms: fc.oneof(fc.integer({ min: 0, max: 31 }), int),
        id: fc.record({
          scheme: fc.constantFrom("world", "auth", "digest", "ip", "super", "sasl", "x509", "?"),
          id: fc.constantFrom(
            "anyone",
            "",
            "fz:ABCDEFGHIJKLMNOPQRSTUVWXYZ0=",
            "fz",
            "127.0.0.1",
            "10.0.0.0/8",
            "127.0.0.1/99",
            "::1",
            "not an address",
          ),
        }),
      }),
      { maxLength: 4 },
    ),
  },
);

const flags = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 6 }) },
  { weight: 1, arbitrary: int },
);
const version = fc.oneof(fc.constantFrom(-1, 0, 1), int);
const ttl = fc.oneof(
  fc.bigInt({ min: -2n, max: 100_000n }),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
);

function body(write: (w: Writer) => void): Buffer {
  const w = new Writer(256);
  write(w);
  return w.take();
}

const create = fc.record({ path, data, acl, flags });

const multiOp: fc.Arbitrary<MultiOp> = fc.oneof(
  create.map((r) => ({ type: OpCode.create, ...r })),
  create.map((r) => ({ type: OpCode.create2, ...r })),
  fc.record({ path, data, acl, flags, ttl }).map((r) => ({ type: OpCode.createTTL, ...r })),
  fc.record({ path, version }).map((r) => ({ type: OpCode.delete, ...r })),
  fc.record({ path, data, version }).map((r) => ({ type: OpCode.setData, ...r })),
  fc.record({ path, version }).map((r) => ({ type: OpCode.check, ...r })),
  fc.record({ path, watch: fc.boolean() }).map((r) => ({ type: OpCode.getData, ...r })),
  fc.record({ path, watch: fc.boolean() }).map((r) => ({ type: OpCode.getChildren, ...r })),
);

/** A multi's body: ops, optionally a header of an opcode a multi cannot hold, maybe no end. */
const multiBody = fc
  .record({
    ops: fc.array(multiOp, { maxLength: 6 }),
    bogus: fc.option(fc.record({ type: int, tail: fc.uint8Array({ maxLength: 16 }) })),
  })
  .map(({ ops, bogus }) =>
    body((w) => {
      if (bogus === null) return writeMultiRequest(w, ops);
      for (const op of ops.slice(0, 1)) writeMultiRequest(w, [op]);
      MultiHeader.write(w, { type: bogus.type, done: false, err: -1 });
      w.writeBuffer(Buffer.from(bogus.tail));
    }),
  );

const watchLists = fc.record({
  relativeZxid: fc.oneof(fc.constant(0n), fc.bigInt({ min: -1n, max: 2n ** 40n })),
  dataWatches: fc.array(path, { maxLength: 4 }),
  existWatches: fc.array(path, { maxLength: 4 }),
  childWatches: fc.array(path, { maxLength: 4 }),
});

/** A well-formed request body for `opcode`, with fields drawn to meet the tree and each other. */
function craftedBody(opcode: number): fc.Arbitrary<Buffer> {
  const pw = fc.record({ path, watch: fc.boolean() });
  switch (opcode) {
    case OpCode.create:
    case OpCode.create2:
    case OpCode.createContainer:
      return create.map((r) => body((w) => CreateRequest.write(w, r)));
    case OpCode.createTTL:
      return fc
        .record({ path, data, acl, flags, ttl })
        .map((r) => body((w) => CreateTTLRequest.write(w, r)));
    case OpCode.delete:
    case OpCode.deleteContainer:
      return fc.record({ path, version }).map((r) => body((w) => DeleteRequest.write(w, r)));
    case OpCode.exists:
      return pw.map((r) => body((w) => ExistsRequest.write(w, r)));
    case OpCode.getData:
    case OpCode.getChildren:
    case OpCode.getChildren2:
      return pw.map((r) => body((w) => GetDataRequest.write(w, r)));
    case OpCode.setData:
      return fc.record({ path, data, version }).map((r) => body((w) => SetDataRequest.write(w, r)));
    case OpCode.getACL:
      return fc.record({ path }).map((r) => body((w) => GetACLRequest.write(w, r)));
    case OpCode.setACL:
      return fc.record({ path, acl, version }).map((r) => body((w) => SetACLRequest.write(w, r)));
    case OpCode.sync:
      return fc.record({ path }).map((r) => body((w) => SyncRequest.write(w, r)));
    case OpCode.check:
      return fc.record({ path, version }).map((r) => body((w) => CheckVersionRequest.write(w, r)));
    case OpCode.multi:
    case OpCode.multiRead:
      return multiBody;
    case OpCode.reconfig:
      return arbitraryOf(ReconfigRequest).map((r) => body((w) => ReconfigRequest.write(w, r)));
    case OpCode.checkWatches:
    case OpCode.removeWatches:
      return fc
        .record({ path, type: fc.oneof(fc.integer({ min: 0, max: 4 }), int) })
        .map((r) => body((w) => CheckWatchesRequest.write(w, r)));
    case OpCode.auth:
      return fc
        .record({
          type: fc.constant(0),
          scheme: fc.constantFrom("digest", "ip", "world", "super", "sasl", "x509", ""),
          auth: fc.oneof(
            fc.constantFrom("fz:secret", "super:x", "", ":", "a:b:c").map((s) => Buffer.from(s)),
            fc.uint8Array({ maxLength: 32 }).map((b) => Buffer.from(b)),
          ),
        })
        .map((r) => body((w) => AuthPacket.write(w, r)));
    case OpCode.setWatches:
      return watchLists.map((r) => body((w) => SetWatches.write(w, r)));
    case OpCode.setWatches2:
      return fc
        .record({
          lists: watchLists,
          persistentWatches: fc.array(path, { maxLength: 3 }),
          persistentRecursiveWatches: fc.array(path, { maxLength: 3 }),
        })
        .map(({ lists, ...rest }) => body((w) => SetWatches2.write(w, { ...lists, ...rest })));
    case OpCode.getEphemerals:
      return fc
        .record({ prefixPath: path })
        .map((r) => body((w) => GetEphemeralsRequest.write(w, r)));
    case OpCode.getAllChildrenNumber:
      return fc.record({ path }).map((r) => body((w) => GetAllChildrenNumberRequest.write(w, r)));
    case OpCode.addWatch:
      return fc
        .record({ path, mode: fc.oneof(fc.constantFrom(0, 1), int) })
        .map((r) => body((w) => AddWatchRequest.write(w, r)));
    default:
      // ping, whoAmI, closeSession, createSession, sasl and unknown opcodes: any body at all.
      return fc.uint8Array({ maxLength: 24 }).map((b) => Buffer.from(b));
  }
}

const OPCODES = Object.values(OpCode).filter((op) => op !== OpCode.notification);

/** Mostly known opcodes, the rare closeSession, and now and then any int at all. */
const opcode = fc.oneof(
  { weight: 40, arbitrary: fc.constantFrom(...OPCODES.filter((op) => op !== OpCode.closeSession)) },
  { weight: 1, arbitrary: fc.constant(OpCode.closeSession) },
  { weight: 2, arbitrary: int },
);

const xid = fc.oneof(
  { weight: 12, arbitrary: fc.integer({ min: 1, max: 1_000_000 }) },
  { weight: 1, arbitrary: fc.constantFrom(0, -1, -2, -4, -8, INT_MIN, INT_MAX) },
);

/** A record of requests.ts with random field values (any string, any length), well framed. */
const randomRecordBody = fc
  .constantFrom(...requestRecords.entries())
  .chain(([op, codec]) =>
    arbitraryOf(codec).map((value) => ({ op, bytes: body((w) => codec.write(w, value)) })),
  );

/** A request: header + body, before framing. The auth opcode goes with its own xid. */
const request: fc.Arbitrary<{ label: string; bytes: Buffer }> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.tuple(xid, opcode).chain(([x, op]) =>
      craftedBody(op).map((b) => ({
        label: `op ${op}`,
        bytes: header(op === OpCode.auth ? -4 : x, op, b),
      })),
    ),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(xid, randomRecordBody)
      .map(([x, { op, bytes }]) => ({ label: `random op ${op}`, bytes: header(x, op, bytes) })),
  },
);

function header(xidValue: number, op: number, rest: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeInt32BE(xidValue === SENTINEL_XID ? 1 : xidValue);
  head.writeInt32BE(op, 4);
  return Buffer.concat([head, rest]);
}

export function frame(payload: Buffer): Buffer {
  const prefix = Buffer.alloc(4);
  prefix.writeInt32BE(payload.length);
  return Buffer.concat([prefix, payload]);
}

function prefixOf(length: number): Buffer {
  const prefix = Buffer.alloc(4);
  prefix.writeInt32BE(length);
  return prefix;
}

const wellFormed: fc.Arbitrary<Piece> = request.map((r) => ({
  label: r.label,
  bytes: frame(r.bytes),
}));

/** Damage that keeps the framing: the length prefix is written for the damaged body. */
const damage = fc.oneof(
  fc.nat().map((at) => ({ kind: "truncate" as const, at })),
  fc.uint8Array({ minLength: 1, maxLength: 16 }).map((tail) => ({ kind: "extend" as const, tail })),
  fc
    .array(fc.record({ at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }), {
      minLength: 1,
      maxLength: 4,
    })
    .map((flips) => ({ kind: "flip" as const, flips })),
  fc
    .record({ at: fc.nat(), value: fc.constantFrom(-2, -1, 0x7fffffff, 0x40000000, 0xfffff, 1000) })
    .map((r) => ({ kind: "int" as const, ...r })),
);

type Damage = typeof damage extends fc.Arbitrary<infer D> ? D : never;

function applyDamage(bytes: Buffer, d: Damage): Buffer {
  if (bytes.length === 0) return bytes;
  switch (d.kind) {
    case "truncate":
      return bytes.subarray(0, d.at % bytes.length);
    case "extend":
      return Buffer.concat([bytes, d.tail]);
    case "flip": {
      const out = Buffer.from(bytes);
      for (const { at, byte } of d.flips) out[at % out.length] = byte;
      return out;
    }
    case "int": {
      const out = Buffer.from(bytes);
      if (out.length >= 4) out.writeInt32BE(d.value, d.at % (out.length - 3));
      return out;
    }
  }
}

/** One piece of what follows the opening. */
export const piece: fc.Arbitrary<Piece> = fc.oneof(
  { weight: 30, arbitrary: wellFormed },
  {
    weight: 8,
    arbitrary: fc
      .tuple(request, damage)
      .map(([r, d]) => ({ label: `${r.label} ${d.kind}`, bytes: frame(applyDamage(r.bytes, d)) })),
  },
  {
    weight: 2,
    arbitrary: fc
      .uint8Array({ maxLength: 64 })
      .map((b) => ({ label: "random body", bytes: frame(Buffer.from(b)) })),
  },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom(0x40000000, 0x7fffffff, -1, INT_MIN, MAX_FRAME_BYTES + 1, 0x100000)
      .map((n) => ({ label: `length prefix ${n}`, bytes: prefixOf(n) })),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.integer({ min: 1, max: 64 }), fc.uint8Array({ maxLength: 8 }))
      .map(([more, b]) => ({
        label: `length prefix ${b.length + more} over ${b.length} bytes`,
        bytes: Buffer.concat([prefixOf(b.length + more), b]),
      })),
  },
  {
    weight: 1,
    arbitrary: fc
      .uint8Array({ minLength: 1, maxLength: 32 })
      .map((b) => ({ label: "raw bytes", bytes: Buffer.from(b) })),
  },
);

const connectRequest: fc.Arbitrary<ConnectRequest> = fc.record({
  protocolVersion: fc.oneof(
    { weight: 8, arbitrary: fc.constant(0) },
    { weight: 1, arbitrary: int },
  ),
  lastZxidSeen: fc.oneof(
    { weight: 8, arbitrary: fc.constant(0n) },
    { weight: 1, arbitrary: fc.bigInt({ min: -1n, max: 2n ** 62n }) },
  ),
  timeOut: fc.oneof(fc.constantFrom(30_000, 0, 1, -1), int),
  sessionId: fc.oneof(
    { weight: 10, arbitrary: fc.constant(0n) },
    { weight: 1, arbitrary: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }) },
  ),
  passwd: fc.oneof(
    { weight: 8, arbitrary: fc.constant(Buffer.alloc(16)) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b)) },
  ),
  readOnly: fc.boolean(),
});

export const opening: fc.Arbitrary<Opening> = fc.oneof(
  {
    weight: 12,
    arbitrary: fc
      .record({ request: connectRequest, oldStyle: fc.boolean() })
      .map((r) => ({ kind: "handshake" as const, ...r })),
  },
  {
    weight: 3,
    arbitrary: fc
      .record({ pick: fc.nat(), forge: fc.boolean() })
      .map((r) => ({ kind: "resume" as const, ...r })),
  },
  {
    weight: 1,
    arbitrary: fc
      .record({
        word: fc.constantFrom(
          "ruok",
          "stat",
          "srvr",
          "cons",
          "crst",
          "dump",
          "envi",
          "conf",
          "srst",
          "wchs",
          "wchc",
          "wchp",
          "mntr",
          "isro",
          "gtmk",
          "stmk",
          "dirs",
          "hash",
          "\xff\xf4\xff\xfd",
          "rUok",
        ),
        rest: fc.uint8Array({ maxLength: 12 }).map((b) => Buffer.from(b)),
      })
      .map((r) => ({ kind: "fourLetterWord" as const, ...r })),
  },
  { weight: 1, arbitrary: fc.constant({ kind: "none" as const }) },
);

export const script: fc.Arbitrary<Script> = fc.record({
  opening,
  // Some connections send only well-formed requests, so that they live long enough to reach
  // the deeper states (watches set and fired, sessions moved, multis applied).
  pieces: fc.oneof(fc.array(piece, { maxLength: 12 }), fc.array(wellFormed, { maxLength: 16 })),
  cuts: fc.array(fc.nat(), { maxLength: 4 }),
  reads: fc.oneof(
    { weight: 12, arbitrary: fc.constant(true) },
    { weight: 1, arbitrary: fc.constant(false) },
  ),
});

/** A session the server handed out, for later scripts to resume (or to forge). */
export interface KnownSession {
  readonly sessionId: bigint;
  readonly passwd: Buffer;
}

/** The opening's bytes; a resume with no known session yet is a fresh handshake. */
export function openingBytes(o: Opening, known: readonly KnownSession[]): Buffer {
  switch (o.kind) {
    case "none":
      return Buffer.alloc(0);
    case "fourLetterWord":
      return Buffer.concat([Buffer.from(o.word, "latin1"), o.rest]);
    case "resume": {
      const session = known[o.pick % Math.max(1, known.length)];
      const passwd = Buffer.from(session?.passwd ?? Buffer.alloc(16));
      if (o.forge) passwd[0] = (passwd[0] ?? 0) ^ 0x5a;
      return connectFrame({
        protocolVersion: 0,
        lastZxidSeen: 0n,
        timeOut: 4000,
        sessionId: session?.sessionId ?? 0n,
        passwd,
        readOnly: false,
      });
    }
    case "handshake":
      return connectFrame(o.request, o.oldStyle);
  }
}

export function connectFrame(request: ConnectRequest, oldStyle = false): Buffer {
  const bytes = body((w) => ConnectRequest.write(w, request));
  // Clients before 3.4 send no readOnly byte.
  return frame(oldStyle ? bytes.subarray(0, bytes.length - 1) : bytes);
}

/** exists("/") with the sentinel xid: its reply says everything sent before was taken. */
export function sentinelFrame(): Buffer {
  const w = new Writer(32);
  w.writeInt(SENTINEL_XID).writeInt(OpCode.exists);
  ExistsRequest.write(w, { path: "/", watch: false });
  return frame(w.take());
}

/** The stream cut at `cuts` (taken modulo its length), in order. */
export function chunked(stream: Buffer, cuts: readonly number[]): Buffer[] {
  const points = [0, ...cuts.map((c) => c % (stream.length + 1)), stream.length].sort(
    (a, b) => a - b,
  );
  const chunks: Buffer[] = [];
  for (let i = 1; i < points.length; i++) {
    const chunk = stream.subarray(points[i - 1] as number, points[i] as number);
    if (chunk.length > 0) chunks.push(chunk);
  }
  return chunks;
}
