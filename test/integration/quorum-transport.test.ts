/**
 * Zab over real sockets (src/server/quorum/): three peers on loopback ports elect a leader,
 * replicate proposals in one order, and when the leader goes, the other two elect a new one
 * and go on, with nothing committed lost. Storage is in memory here; the point is the
 * transport: election and quorum channels, hellos, FIFO links, and link loss.
 */
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import type { QuorumServer } from "../../src/server/ensemble-config.js";
import { createLogger } from "../../src/server/logger.js";
import { type PeerStorage, QuorumPeerShell } from "../../src/server/quorum/peer-shell.js";
import type { Entry } from "../../src/zab/log.js";
import { freePorts } from "../harness/free-ports.js";

const TICK_MS = 50;

/** Waits for `done()` to hold, checking every tick, for at most `ms`. */
async function until(done: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, TICK_MS));
  }
}

interface Node {
  readonly id: number;
  readonly shell: QuorumPeerShell<string>;
  readonly applied: Entry<string>[];
}

function memoryStorage(applied: Entry<string>[]): PeerStorage<string> {
  return {
    persist: async () => {},
    apply: (entries) => {
      for (const entry of entries) applied.push(entry);
    },
  };
}

describe("Zab over TCP", () => {
  const nodes: Node[] = [];
  after(async () => {
    await Promise.all(nodes.map((n) => n.shell.stop()));
  });

  test("three peers elect, replicate, lose their leader and go on", async () => {
    const ports = await freePorts(6);
    const servers: QuorumServer[] = [1, 2, 3].map((id, i) => ({
      id,
      host: "127.0.0.1",
      quorumPort: ports[2 * i] as number,
      electionPort: ports[2 * i + 1] as number,
      type: "participant",
    }));
    for (const me of servers) {
      const applied: Entry<string>[] = [];
      const shell = new QuorumPeerShell<string>({
        me,
        servers,
        config: { initLimit: 40, syncLimit: 20, finalizeWait: 2, notificationInterval: 4 },
        durable: { acceptedEpoch: 0n, currentEpoch: 0n, history: [], committed: 0n },
        storage: memoryStorage(applied),
        tickMs: TICK_MS,
        log: createLogger("silent"),
      });
      nodes.push({ id: me.id, shell, applied });
    }
    await Promise.all(nodes.map((n) => n.shell.start()));
    const leader = () =>
      nodes.find((n) => n.shell.peer.state === "LEADING" && n.shell.peer.serving);
    await until(() => leader() !== undefined, 20_000, "a leader");
    const first = leader() as Node;
    for (let i = 0; i < 50; i++) assert.ok(first.shell.propose(`a${i}`) !== undefined);
    await until(() => nodes.every((n) => n.applied.length === 50), 20_000, "50 txns everywhere");
    for (const n of nodes) assert.deepEqual(n.applied, first.applied);

    await first.shell.stop();
    const rest = nodes.filter((n) => n !== first);
    const next = () => rest.find((n) => n.shell.peer.state === "LEADING" && n.shell.peer.serving);
    await until(() => next() !== undefined, 20_000, "a new leader");
    const second = next() as Node;
    assert.ok(second.shell.peer.epoch > first.shell.peer.epoch, "a later epoch");
    for (let i = 0; i < 20; i++) assert.ok(second.shell.propose(`b${i}`) !== undefined);
    await until(() => rest.every((n) => n.applied.length === 70), 20_000, "70 txns on both");
    for (const n of rest) {
      assert.deepEqual(n.applied.slice(0, 50), first.applied);
      assert.deepEqual(
        n.applied.map((e) => e.payload),
        second.applied.map((e) => e.payload),
      );
    }
  });
});
