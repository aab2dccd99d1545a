/**
 * The AdminServer's ensemble commands and the ensemble's metrics, on a 3-server zkts ensemble
 * in one process (AdminServer and /metrics on kernel-picked ports): one server says it leads
 * and the others name it; all show the same voting view, the broadcast phase and quorum_size;
 * the leader counts its synced followers and times its proposals; every server timed its
 * election. (Apache ZooKeeper's answers are compared on a standalone server in
 * test/interop/admin-server.test.ts, and on a 3-server ensemble in
 * test/interop/admin-ensemble.test.ts.)
 *
 * Then `observers` on a zkts ensemble of real processes with one observer (3 voters + 1): the
 * leader lists it with LearnerHandler.getLearnerHandlerInfo's keys, its forwarded requests and
 * the zxid of the last txn sent to it; `orst` resets those counts; the others list none.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { connect, type ZooKeeper } from "../../src/index.js";
import { PROMETHEUS_METRICS_PROVIDER, resolveOptions } from "../../src/server/config.js";
import type { EnsembleConfig, QuorumServer } from "../../src/server/ensemble-config.js";
import { createLogger } from "../../src/server/logger.js";
import {
  type RunningEnsembleServer,
  startEnsembleServer,
} from "../../src/server/quorum/ensemble-server.js";
import { freePorts } from "../harness/free-ports.js";
import { type Ensemble, startEnsemble } from "../harness/zkts-ensemble.js";

const HOST = "127.0.0.1";

async function until(done: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function command(server: RunningEnsembleServer | { adminPort: number }, name: string) {
  const response = await fetch(`http://${HOST}:${server.adminPort}/commands/${name}`);
  return JSON.parse(await response.text());
}

/** Asks `name` of the AdminServer on `adminPort` until `done` holds of the answer (bounded). */
async function commandUntil(
  adminPort: number,
  name: string,
  done: (answer: Record<string, unknown>) => boolean,
  what: string,
): Promise<Record<string, unknown>> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const answer = await command({ adminPort }, name);
    if (done(answer)) return answer;
    if (Date.now() > deadline)
      assert.fail(`timed out waiting for ${what}: ${JSON.stringify(answer)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** LearnerHandler.getLearnerHandlerInfo's keys, in its order. */
const LEARNER_HANDLER_KEYS = [
  "remote_socket_address",
  "sid",
  "established",
  "queued_packets",
  "queued_packets_size",
  "packets_received",
  "packets_sent",
  "requests",
  "last_zxid",
];

async function metrics(server: RunningEnsembleServer): Promise<string> {
  return (await fetch(`http://${HOST}:${server.metricsPort}/metrics`)).text();
}

describe("AdminServer and metrics in an ensemble", () => {
  const root = mkdtempSync(join(tmpdir(), "zkts-admin-ensemble-"));
  const running: RunningEnsembleServer[] = [];
  const clients: ZooKeeper[] = [];
  after(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => {})));
    await Promise.all(running.map((s) => s.close()));
    rmSync(root, { recursive: true, force: true });
  });

  test("leader, voting_view, zabstate, quorum figures and the ensemble's summaries", async () => {
    const ports = await freePorts(9);
    const servers: QuorumServer[] = [0, 1, 2].map((i) => ({
      id: i + 1,
      host: HOST,
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
    for (const me of servers) {
      const dataDir = join(root, String(me.id));
      mkdirSync(dataDir, { recursive: true });
      writeFileSync(join(dataDir, "myid"), `${me.id}\n`);
      const resolved = resolveOptions({
        clientPort: me.clientPort as number,
        clientPortAddress: HOST,
        tickTime: 200,
        dataDir,
        adminEnableServer: true,
        adminServerAddress: HOST,
        adminServerPort: 0,
        metricsProviderClassName: PROMETHEUS_METRICS_PROVIDER,
        metricsProviderHttpHost: HOST,
        metricsProviderHttpPort: 0,
      });
      const log = createLogger("silent");
      running.push(await startEnsembleServer({ ...resolved, dataDir }, ensemble, me, log));
    }
    await until(() => running.every((s) => s.serving()), 15_000, "a leader and two followers");
    const leader = running.find((s) => s.role() === "LEADING") as RunningEnsembleServer;

    // Client ports come from the server lines (";port", no address): ZooKeeper's wildcard.
    const expectedView = Object.fromEntries(
      servers.map((s) => [
        String(s.id),
        {
          server_addresses: [`${HOST}:${s.quorumPort}`],
          election_addresses: [`${HOST}:${s.electionPort}`],
          client_address: `0.0.0.0:${s.clientPort}`,
          learner_type: "participant",
        },
      ]),
    );
    for (const server of running) {
      const lead = await command(server, "leader");
      assert.equal(lead.is_leader, server === leader, `server ${server.id}`);
      assert.equal(lead.leader_id, leader.id);
      assert.equal(lead.leader_ip, HOST);
      assert.deepEqual((await command(server, "voting_view")).current_config, expectedView);
      const zab = await command(server, "zabstate");
      assert.deepEqual([zab.voting, zab.zabstate], [true, "broadcast"]);
      assert.deepEqual([zab.myid, zab.is_leader], [server.id, server === leader]);
      const me = servers.find((s) => s.id === server.id) as QuorumServer;
      assert.equal(zab.quorum_address.one, `${HOST}:${me.quorumPort}`);
      assert.equal(zab.election_address.one, `${HOST}:${me.electionPort}`);
      assert.equal(zab.client_address, `${HOST}:${me.clientPort}`);
      const monitor = await command(server, "mntr");
      assert.equal(monitor.quorum_size, 3);
      assert.equal(monitor.server_state, server === leader ? "leader" : "follower");
      assert.equal((await command(server, "conf")).server_id, server.id);
      assert.equal("proposal_stats" in (await command(server, "srvr")), server === leader);
    }
    await until(
      () => leader.zooKeeper.quorumFigures?.()[0]?.[1] === 2,
      15_000,
      "two synced followers",
    );
    assert.equal((await command(leader, "mntr")).synced_followers, 2);

    const client = await connect(running.find((s) => s !== leader)?.address as string);
    clients.push(client);
    await client.create("/admin", "x");
    const text = await metrics(leader);
    assert.match(text, /^quorum_size 3\.0$/m);
    assert.match(text, /^synced_followers 2\.0$/m);
    assert.match(text, /^# TYPE election_time summary$/m);
    assert.match(text, /^election_time_count [1-9]\d*\.0$/m);
    assert.match(text, /^# TYPE proposal_latency summary$/m);
    assert.match(text, /^proposal_latency_count [1-9]\d*\.0$/m);
    assert.match(text, /^looking_count [1-9]\d*\.0$/m);
    const follower = await metrics(running.find((s) => s !== leader) as RunningEnsembleServer);
    assert.match(follower, /^election_time_count [1-9]\d*\.0$/m);
    assert.doesNotMatch(follower, /proposal_latency|synced_followers/);
  });

  test("observers: the leader lists its synced observer; orst resets its counts", async () => {
    const adminPorts = await freePorts(4);
    const adminPort = (id: number) => adminPorts[id - 1] as number;
    const startedAt = Date.now();
    const ensemble: Ensemble = await startEnsemble({
      observers: 1,
      memberConfig: (id) => ({
        "admin.enableServer": "true",
        "admin.serverAddress": HOST,
        "admin.serverPort": String(adminPort(id)),
      }),
    });
    try {
      const leader = await ensemble.leader();
      const observerId = 4;
      assert.equal(await ensemble.mode(observerId), "observer");
      const listed = await commandUntil(
        adminPort(leader),
        "observers",
        (a) => a.synced_observers === 1,
        "the leader to list its observer",
      );
      const [info] = listed.observers as Record<string, unknown>[];
      assert.equal((listed.observers as unknown[]).length, 1);
      assert.deepEqual(Object.keys(info ?? {}), LEARNER_HANDLER_KEYS);
      assert.equal(info?.sid, observerId);
      assert.match(String(info?.remote_socket_address), /^\/127\.0\.0\.1:\d+$/);
      const established = info?.established as number;
      assert.ok(
        established >= startedAt && established <= Date.now(),
        `established ${established}`,
      );
      for (const key of LEARNER_HANDLER_KEYS.slice(3)) {
        assert.equal(typeof info?.[key], "number", key);
      }
      assert.ok((info?.packets_received as number) > 0, "FOLLOWERINFO and acks were received");
      assert.ok((info?.packets_sent as number) > 0, "the sync and pings were sent");

      // A write through the observer: its session and write are forwarded requests, and the
      // committed txn goes back to it (INFORM) before its client hears the reply.
      const client = await connect(ensemble.member(observerId).address);
      clients.push(client);
      const { stat } = await client.createWithStat("/observed", "x");
      const after = (await command({ adminPort: adminPort(leader) }, "obsr")) as {
        observers: Record<string, unknown>[];
      };
      const seen = after.observers[0];
      assert.equal(seen?.last_zxid, Number(stat.czxid));
      assert.equal(seen?.requests, 2, "createSession and create");
      assert.ok((seen?.packets_sent as number) > (info?.packets_sent as number));

      const reset = await command({ adminPort: adminPort(leader) }, "orst");
      assert.deepEqual(reset, { command: "observer_connection_stat_reset", error: null });
      const zeroed = (await command({ adminPort: adminPort(leader) }, "observers")) as {
        observers: Record<string, unknown>[];
      };
      // No txn since the reset: nothing has been sent with a zxid.
      assert.equal(zeroed.observers[0]?.last_zxid, -1);

      for (const m of ensemble.members.filter((x) => x.id !== leader)) {
        const none = await command({ adminPort: adminPort(m.id) }, "observers");
        assert.deepEqual(none, {
          synced_observers: 0,
          observers: [],
          command: "observers",
          error: null,
        });
      }
    } finally {
      await Promise.all(clients.splice(0).map((c) => c.close().catch(() => {})));
      await ensemble.stop();
    }
  });
});
