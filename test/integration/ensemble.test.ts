/**
 * A 3-server ensemble in one process (src/server/quorum/ensemble-server.ts), each server with
 * its own client port, quorum and election ports and data dir: clients on any server write
 * (followers forward to the leader) and read their writes anywhere once synced; a write on
 * one server is seen on the others; the leader goes, a new one is elected, clients move and
 * carry on, and nothing acknowledged is lost.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { connect, type ZooKeeper } from "../../src/index.js";
import { resolveOptions } from "../../src/server/config.js";
import type { EnsembleConfig, QuorumServer } from "../../src/server/ensemble-config.js";
import { createLogger } from "../../src/server/logger.js";
import {
  type RunningEnsembleServer,
  startEnsembleServer,
} from "../../src/server/quorum/ensemble-server.js";
import { freePorts } from "../harness/free-ports.js";

/** The `srvr` four-letter word's answer. */
async function srvr(port: number): Promise<string> {
  const socket = createConnection({ host: "127.0.0.1", port });
  socket.write("srvr");
  const chunks: Buffer[] = [];
  for await (const chunk of socket) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString();
}

async function until(done: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe("a 3-server ensemble", () => {
  const root = mkdtempSync(join(tmpdir(), "zkts-ensemble-"));
  const running: RunningEnsembleServer[] = [];
  const clients: ZooKeeper[] = [];
  after(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => {})));
    await Promise.all(running.map((s) => s.close()));
    rmSync(root, { recursive: true, force: true });
  });

  test("writes through any server, reads everywhere, survives the leader's loss", async () => {
    const ports = await freePorts(9);
    const servers: QuorumServer[] = [0, 1, 2].map((i) => ({
      id: i + 1,
      host: "127.0.0.1",
      quorumPort: ports[3 * i] as number,
      electionPort: ports[3 * i + 1] as number,
      type: "participant",
      clientPort: ports[3 * i + 2] as number,
    }));
    const ensemble: EnsembleConfig = {
      servers,
      initLimit: 10,
      syncLimit: 5,
      readOnlyModeEnabled: false,
    };
    const log = createLogger("silent");
    for (const me of servers) {
      const dataDir = join(root, String(me.id));
      mkdirSync(dataDir, { recursive: true });
      writeFileSync(join(dataDir, "myid"), `${me.id}\n`);
      const resolved = resolveOptions({
        clientPort: me.clientPort as number,
        clientPortAddress: "127.0.0.1",
        tickTime: 200,
        dataDir,
      });
      running.push(await startEnsembleServer({ ...resolved, dataDir }, ensemble, me, log));
    }
    await until(
      () => running.every((s) => s.serving()),
      15_000,
      "a leader and two synced followers",
    );
    const leader = running.find((s) => s.role() === "LEADING") as RunningEnsembleServer;
    const followers = running.filter((s) => s !== leader);
    assert.equal(followers.length, 2);
    // srvr names each server's mode as ZooKeeper's does.
    assert.match(await srvr(leader.port), /^Mode: leader$/m);
    for (const f of followers) assert.match(await srvr(f.port), /^Mode: follower$/m);

    // A client on a follower: its writes go through the leader, its reads see them.
    const onFollower = await connect(followers[0]?.address as string);
    clients.push(onFollower);
    await onFollower.create("/k", Buffer.from("v0"));
    for (let i = 1; i <= 20; i++) await onFollower.setData("/k", Buffer.from(`v${i}`));
    assert.equal((await onFollower.getData("/k")).data?.toString(), "v20");
    const seq = await onFollower.create("/s-", null, { mode: 2 });
    // The same data everywhere, once each server has applied it (sync first, as a client must).
    for (const server of running) {
      const c = await connect(server.address);
      clients.push(c);
      await c.sync("/k");
      assert.equal((await c.getData("/k")).data?.toString(), "v20", `server ${server.id}`);
      assert.ok(await c.exists(seq), `server ${server.id} has ${seq}`);
    }

    // The leader goes; a client that knows every server moves and carries on.
    const all = running.map((s) => s.address).join(",");
    const mover = await connect(all);
    clients.push(mover);
    await mover.setData("/k", Buffer.from("before"));
    await leader.close();
    await until(
      () => followers.some((s) => s.role() === "LEADING" && s.serving()),
      15_000,
      "a new leader",
    );
    await mover.setData("/k", Buffer.from("after"), { timeoutMs: 15_000 });
    assert.equal((await mover.getData("/k")).data?.toString(), "after");
    assert.ok(await mover.exists(seq), "the sequential node survived the leader");
  });
});
