/**
 * The quorum codec (src/server/quorum/codec.ts): every message comes back as it was sent,
 * whether it travels binary (PROPOSAL, ACK, COMMIT, INFORM, a forwarded write) or as JSON (the
 * rest); the frame splitter reassembles frames from any chunking; and a body that is not a
 * frame throws an Error (the transport then closes that link), never anything else.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { decodeBody, encodeFrame, FrameSplitter } from "../../src/server/quorum/codec.js";

const zxid = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
const bytes = fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a));
const text = fc.string({ maxLength: 12 });
/** Records with Object's prototype, as decoded messages have. */
const record = <T extends Record<string, fc.Arbitrary<unknown>>>(fields: T) =>
  fc.record(fields, { noNullPrototype: true });

const message = fc.oneof(
  zxid.map((z) => ({ type: "ACK", zxid: z })),
  zxid.map((z) => ({ type: "COMMIT", zxid: z })),
  record({ zxid, payload: bytes }).map((entry) => ({ type: "PROPOSAL", entry })),
  record({ zxid, payload: bytes }).map((entry) => ({ type: "INFORM", entry })),
  fc
    .record({
      sessionId: zxid,
      xid: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
      opcode: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
      body: bytes,
      authIds: fc.array(record({ scheme: text, id: text }), { maxLength: 3 }),
    })
    .map((w) => ({ type: "REQUEST", request: { kind: "write", ...w } })),
  // JSON ones: strings as payloads (the simulator's), sync, forwarded touches, hello.
  record({ zxid, payload: text }).map((entry) => ({ type: "PROPOSAL", entry })),
  fc
    .record({ truncateTo: zxid, entries: fc.array(record({ zxid, payload: bytes })) })
    .map((s) => ({ type: "SYNC", mode: "DIFF", ...s })),
  fc.array(zxid).map((sessions) => ({ type: "REQUEST", request: { kind: "touch", sessions } })),
  fc.nat().map((id) => ({ id })),
);

function frames(messages: readonly unknown[], cuts: readonly number[]): unknown[] {
  const stream = Buffer.concat(messages.map(encodeFrame));
  const out: unknown[] = [];
  const splitter = new FrameSplitter();
  let at = 0;
  for (const cut of [...cuts.map((c) => c % (stream.length + 1)).sort((a, b) => a - b)]) {
    splitter.push(stream.subarray(at, Math.max(at, cut)), (body) => out.push(decodeBody(body)));
    at = Math.max(at, cut);
  }
  splitter.push(stream.subarray(at), (body) => out.push(decodeBody(body)));
  return out;
}

describe("quorum codec", () => {
  test("messages round-trip, binary or JSON, however the stream is cut", () => {
    fc.assert(
      fc.property(
        fc.array(message, { maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        (ms, cuts) => {
          assert.deepEqual(frames(ms, cuts), ms);
        },
      ),
      { numRuns: 300 },
    );
  });

  test("the hot messages travel binary, not as JSON", () => {
    const proposal = encodeFrame({
      type: "PROPOSAL",
      entry: { zxid: 5n, payload: Buffer.from("x") },
    });
    assert.equal(proposal.length, 4 + 1 + 8 + 1);
    assert.equal(encodeFrame({ type: "ACK", zxid: 5n }).length, 4 + 1 + 8);
    assert.equal(encodeFrame({ type: "PING" })[4], "{".charCodeAt(0));
  });

  test("a body that is not a message throws an Error", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (body) => {
        try {
          decodeBody(Buffer.from(body));
        } catch (error) {
          assert.ok(error instanceof Error, String(error));
        }
      }),
      { numRuns: 500 },
    );
    assert.throws(() => decodeBody(Buffer.from([9, 0, 0, 0, 0, 0, 0, 0, 1])), /unknown tag 9/);
  });
});
