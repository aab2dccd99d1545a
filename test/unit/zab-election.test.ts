/**
 * One rule of the election, in isolation: a looking peer that hears a worse vote of its own
 * round answers the sender with its vote. The sender may have missed that vote (it was still
 * following when it came, and a peer that starts looking forgets what it heard before), and
 * would otherwise learn it only at the next repeat: the slow second round measured in
 * bench:ensemble's fail-over.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Message } from "../../src/zab/messages.js";
import { ZabPeer } from "../../src/zab/peer.js";

const CONFIG = {
  voters: [1, 2, 3],
  observers: [],
  initLimit: 10,
  syncLimit: 5,
  finalizeWait: 4,
  notificationInterval: 8,
};

function peer(id: number, lastCounter: bigint): ZabPeer<string> {
  const history = Array.from({ length: Number(lastCounter) }, (_, i) => ({
    zxid: (1n << 32n) | BigInt(i + 1),
    payload: `1.${i + 1}`,
  }));
  return new ZabPeer<string>(
    { ...CONFIG, id },
    { acceptedEpoch: 1n, currentEpoch: 1n, history, committed: 0n },
  );
}

function notificationsTo(p: ZabPeer<string>, to: number): Message<string>[] {
  return p
    .ready()
    .messages.filter((m) => m.to === to && m.message.type === "NOTIFICATION")
    .map((m) => m.message);
}

describe("election", () => {
  test("a worse vote of the same round gets our vote back; an equal one does not", () => {
    const best = peer(3, 5n);
    best.ready(); // its first broadcast
    const worse = { leader: 1, zxid: (1n << 32n) | 2n, peerEpoch: 1n };
    best.step(1, { type: "NOTIFICATION", vote: worse, electionEpoch: 1n, state: "LOOKING" });
    const answer = notificationsTo(best, 1);
    assert.equal(answer.length, 1);
    assert.deepEqual((answer[0] as { vote: unknown }).vote, {
      leader: 3,
      zxid: (1n << 32n) | 5n,
      peerEpoch: 1n,
    });
    // Once the sender votes as we do, nothing more is sent: the exchange ends.
    const same = { leader: 3, zxid: (1n << 32n) | 5n, peerEpoch: 1n };
    best.step(1, { type: "NOTIFICATION", vote: same, electionEpoch: 1n, state: "LOOKING" });
    assert.equal(notificationsTo(best, 1).length, 0);
  });
});
