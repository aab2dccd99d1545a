/**
 * Zab over real sockets (src/server/quorum/): three peers on loopback ports elect a leader,
 * replicate proposals in one order, and when the leader goes, the other two elect a new one
 * and go on, with nothing committed lost. Storage is in memory here; the point is the
 * transport: election and quorum channels, hellos, FIFO links, and link loss.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { OpCode } from "../../src/protocol/opcodes.js";
import type { QuorumServer } from "../../src/server/ensemble-config.js";
import { createLogger } from "../../src/server/logger.js";
import { type PeerStorage, QuorumPeerShell } from "../../src/server/quorum/peer-shell.js";
import { DurablePeerStorage } from "../../src/server/quorum/peer-storage.js";
import { dataDirs as dirsOf } from "../../src/server/recovery.js";
import { serializeTxn } from "../../src/storage/txn-codec.js";
import type { Entry } from "../../src/zab/log.js";
import { makeZxid } from "../../src/zab/zxid.js";
import { freePorts } from "../harness/free-ports.js";

const TICK_MS = 50;

/**
 * A payload as the durable storage logs it: a txn (TxnHeader + record) whose zxid is the one
 * Zab gives it — the epoch's counter, as the server will assign them.
 */
function txn(epoch: bigint, counter: number, data: string): Buffer {
  const zxid = makeZxid(epoch, BigInt(counter));
  return serializeTxn(
    { clientId: 1n, cxid: counter, zxid, time: 1n, type: OpCode.setData },
    { type: OpCode.setData, path: "/k", data: Buffer.from(data), version: counter },
  );
}

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

  test("with durable storage, a leader killed and restarted rejoins and catches up", async () => {
    const ports = await freePorts(6);
    const servers: QuorumServer[] = [1, 2, 3].map((id, i) => ({
      id,
      host: "127.0.0.1",
      quorumPort: ports[2 * i] as number,
      electionPort: ports[2 * i + 1] as number,
      type: "participant",
    }));
    const dataDirs = servers.map(() => mkdtempSync(join(tmpdir(), "zkts-zab-")));
    after(() => {
      for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
    });
    const boot = (index: number) => {
      const applied: Entry<Buffer>[] = [];
      const opened = DurablePeerStorage.open(
        dirsOf(dataDirs[index] as string),
        createLogger("silent"),
        (entries) => applied.push(...entries),
        (error) => assert.fail(error),
      );
      const shell = new QuorumPeerShell<Buffer>({
        me: servers[index] as QuorumServer,
        servers,
        config: { initLimit: 40, syncLimit: 20, finalizeWait: 2, notificationInterval: 4 },
        durable: opened.durable,
        storage: opened.storage,
        tickMs: TICK_MS,
        log: createLogger("silent"),
      });
      return { id: index + 1, shell, applied, storage: opened.storage };
    };
    const peers = [0, 1, 2].map(boot);
    const running = new Set(peers);
    after(async () => {
      for (const p of running) await p.shell.stop();
      for (const p of running) await p.storage.close();
    });
    await Promise.all(peers.map((p) => p.shell.start()));
    const leaderOf = (list: typeof peers) =>
      list.find((p) => p.shell.peer.state === "LEADING" && p.shell.peer.serving);
    await until(() => leaderOf(peers) !== undefined, 20_000, "a leader");
    const first = leaderOf(peers) as (typeof peers)[number];
    for (let i = 0; i < 30; i++) first.shell.propose(txn(first.shell.peer.epoch, i + 1, `a${i}`));
    await until(() => peers.every((p) => p.applied.length === 30), 20_000, "30 txns everywhere");

    // "kill" the leader: it stops at once, its storage as it is on disk.
    await first.shell.stop();
    running.delete(first);
    await first.storage.close();
    const rest = peers.filter((p) => p !== first);
    await until(() => leaderOf(rest) !== undefined, 20_000, "a new leader");
    const second = leaderOf(rest) as (typeof peers)[number];
    for (let i = 0; i < 10; i++) second.shell.propose(txn(second.shell.peer.epoch, i + 1, `b${i}`));
    await until(() => rest.every((p) => p.applied.length === 40), 20_000, "40 txns on both");

    // It comes back from its data dir, syncs with the new leader, and applies it all.
    const back = boot(first.id - 1);
    running.add(back);
    await back.shell.start();
    await until(() => back.applied.length === 40, 20_000, "the old leader caught up");
    const payloads = (p: { applied: Entry<Buffer>[] }) =>
      p.applied.map((e) => e.payload.toString());
    assert.deepEqual(payloads(back), payloads(second));
    assert.equal(back.shell.peer.state, "FOLLOWING");
  });
});
