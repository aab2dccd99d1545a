/**
 * The AdminServer's ensemble commands (leader, voting_view, zabstate, observers), zkts against
 * a 3-server Apache ZooKeeper 3.8 ensemble (the oracle; admin-server.test.ts compares the rest
 * on a standalone server).
 *
 * Method: both ensembles are configured alike (3 voters and 1 observer; server lines without
 * client ports, each server with its own clientPort on 127.0.0.1 and its own AdminServer port)
 * and put in the same state through our client (one session that creates a node, then closes).
 * Then the leader, a follower and the observer of each are asked every command and alias over
 * HTTP: the same keys in the same order at every level, the same JSON types, and the same
 * values where they follow from the configuration, the role and that state. The answers that
 * follow from nothing else (a follower's and an observer's `observers`) are compared byte for
 * byte.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { connect } from "../../src/index.js";
import { resolveOptions } from "../../src/server/config.js";
import type { EnsembleConfig, QuorumServer } from "../../src/server/ensemble-config.js";
import { createLogger } from "../../src/server/logger.js";
import {
  type RunningEnsembleServer,
  startEnsembleServer,
} from "../../src/server/quorum/ensemble-server.js";
import {
  apacheZooKeeperSkip,
  startEnsemble,
  type ZooKeeperEnsemble,
} from "../harness/apache-zookeeper.js";
import { freePorts } from "../harness/free-ports.js";

const HOST = "127.0.0.1";

/** One server of either ensemble, as the comparison sees it. */
interface Member {
  readonly id: number;
  readonly clientPort: number;
  readonly quorumPort: number;
  readonly electionPort: number;
  readonly adminPort: number;
  readonly observer: boolean;
}

type Role = "leader" | "follower" | "observer";

interface Side {
  readonly name: "zookeeper" | "zkts";
  readonly members: readonly Member[];
  readonly leader: Member;
  readonly follower: Member;
  readonly observer: Member;
}

async function get(port: number, name: string): Promise<string> {
  const response = await fetch(`http://${HOST}:${port}/commands/${name}`);
  assert.equal(response.status, 200, `${name} on port ${port}`);
  return response.text();
}

/** A JSON value's shape: keys in order, value types, arrays by their first element. */
function shape(value: unknown): unknown {
  if (Array.isArray(value)) return value.length === 0 ? "[]" : [shape(value[0])];
  if (value === null) return "null";
  if (typeof value !== "object") return typeof value;
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, shape(item)]));
}

/** What voting_view must say on `me`, from the configuration alone (ZooKeeper's rule). */
function expectedVotingView(members: readonly Member[], me: Member): unknown {
  return Object.fromEntries(
    members
      .filter((m) => !m.observer)
      .map((m) => [
        String(m.id),
        {
          server_addresses: [`${HOST}:${m.quorumPort}`],
          election_addresses: [`${HOST}:${m.electionPort}`],
          // Server lines without client ports: a server knows only its own.
          client_address: m === me ? `${HOST}:${m.clientPort}` : "",
          learner_type: "participant",
        },
      ]),
  );
}

/** A MultipleAddresses of one loopback address, as Jackson writes it. */
function oneAddress(port: number): unknown {
  const address = `${HOST}:${port}`;
  return {
    empty: false,
    all_addresses: [address],
    all_reachable_addresses: [address],
    one: address,
    reachable_address: address,
    wildcard_addresses: [`0.0.0.0:${port}`],
    all_ports: [port],
    all_host_strings: [HOST],
    all_reachable_addresses_or_all: [address],
    reachable_or_one: address,
  };
}

async function startZktsEnsemble(
  root: string,
): Promise<{ running: RunningEnsembleServer[]; members: Member[] }> {
  const ports = await freePorts(12);
  const servers: QuorumServer[] = [0, 1, 2, 3].map((i) => ({
    id: i + 1,
    host: HOST,
    quorumPort: ports[3 * i] as number,
    electionPort: ports[3 * i + 1] as number,
    type: i === 3 ? "observer" : "participant",
  }));
  const ensemble: EnsembleConfig = {
    servers,
    initLimit: 10,
    syncLimit: 5,
    readOnlyModeEnabled: false,
  };
  const running: RunningEnsembleServer[] = [];
  const members: Member[] = [];
  for (const [i, me] of servers.entries()) {
    const dataDir = join(root, String(me.id));
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(join(dataDir, "myid"), `${me.id}\n`);
    const clientPort = ports[3 * i + 2] as number;
    const resolved = resolveOptions({
      clientPort,
      clientPortAddress: HOST,
      tickTime: 200,
      dataDir,
      adminEnableServer: true,
      adminServerAddress: HOST,
      adminServerPort: 0,
    });
    const log = createLogger("silent");
    const server = await startEnsembleServer({ ...resolved, dataDir }, ensemble, me, log);
    running.push(server);
    const { quorumPort, electionPort } = me;
    members.push({
      id: me.id,
      clientPort,
      quorumPort,
      electionPort,
      adminPort: server.adminPort as number,
      observer: me.type === "observer",
    });
  }
  return { running, members };
}

/** Resolves once `done` holds, checking every 50 ms for at most `ms`. */
async function until(done: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await done())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe("AdminServer ensemble commands against Apache ZooKeeper", {
  skip: apacheZooKeeperSkip(),
}, () => {
  const root = mkdtempSync(join(tmpdir(), "zkts-admin-interop-"));
  let zookeeper: ZooKeeperEnsemble | undefined;
  const zkts: RunningEnsembleServer[] = [];
  const sides: Side[] = [];

  before(async () => {
    zookeeper = await startEnsemble({ size: 3, observers: 1, adminServer: true });
    const started = await startZktsEnsemble(root);
    zkts.push(...started.running);
    await until(async () => zkts.every((s) => s.serving()), 20_000, "zkts to serve");
    // ZooKeeper's quorum and election ports, from its servers' own answers (the harness keeps
    // them to itself); zabstate's test checks them against voting_view.
    const zkMembers: Member[] = [];
    for (const [i, server] of zookeeper.servers.entries()) {
      const adminPort = zookeeper.adminPorts[i] as number;
      const zab = JSON.parse(await get(adminPort, "zabstate"));
      zkMembers.push({
        id: i + 1,
        clientPort: server.port,
        quorumPort: zab.quorum_address.all_ports[0],
        electionPort: zab.election_address.all_ports[0],
        adminPort,
        observer: i === 3,
      });
    }
    const zkLeader = zookeeper.servers.indexOf(await zookeeper.leader()) + 1;
    const zktsLeader = zkts.find((s) => s.role() === "LEADING")?.id;
    const both = [
      ["zookeeper", zkMembers, zkLeader, zookeeper.connectString],
      ["zkts", started.members, zktsLeader, zkts.map((s) => s.address).join(",")],
    ] as const;
    for (const [name, members, leaderId, connectString] of both) {
      const leader = members.find((m) => m.id === leaderId) ?? assert.fail(`${name}: no leader`);
      const follower = members.find((m) => m !== leader && !m.observer) as Member;
      const observer = members.find((m) => m.observer) as Member;
      sides.push({ name, members, leader, follower, observer });
      // The same state on both: one session that creates a node, then closes.
      const client = await connect(connectString);
      await client.create("/admin-ensemble", "x");
      await client.close();
    }
  });

  after(async () => {
    await zookeeper?.stop();
    await Promise.all(zkts.map((s) => s.close()));
    rmSync(root, { recursive: true, force: true });
  });

  /** The answers of the leader, a follower and the observer of each side: [zookeeper, zkts]. */
  async function ask(name: string): Promise<{ role: Role; answers: [Side, string][] }[]> {
    const out: { role: Role; answers: [Side, string][] }[] = [];
    for (const role of ["leader", "follower", "observer"] as const) {
      const answers = await Promise.all(
        sides.map(async (side) => [side, await get(side[role].adminPort, name)] as [Side, string]),
      );
      out.push({ role, answers });
    }
    return out;
  }

  /** Same keys in the same order and the same JSON types on both sides. */
  function sameShape(name: string, role: string, answers: [Side, string][]): void {
    const [zk, ours] = answers.map(([, text]) => shape(JSON.parse(text)));
    assert.deepEqual(ours, zk, `${name} on the ${role}`);
  }

  test("leader and lead: who leads, by id and address", async () => {
    for (const name of ["leader", "lead"]) {
      for (const { role, answers } of await ask(name)) {
        sameShape(name, role, answers);
        for (const [side, text] of answers) {
          assert.deepEqual(JSON.parse(text), {
            is_leader: role === "leader",
            leader_id: side.leader.id,
            leader_ip: HOST,
            command: "leader",
            error: null,
          });
        }
      }
    }
  });

  test("voting_view: each voter's addresses, and only its own client address", async () => {
    for (const { role, answers } of await ask("voting_view")) {
      sameShape("voting_view", role, answers);
      for (const [side, text] of answers) {
        const me = side[role];
        const answer = JSON.parse(text);
        assert.deepEqual(answer.current_config, expectedVotingView(side.members, me), side.name);
      }
    }
  });

  test("zabstate: identity, addresses, last logged zxid and phase", async () => {
    // A follower logs the last txn once the leader sent it, which may be after the client's
    // reply: wait until every server of both sides has logged as many txns.
    const counters = async () =>
      Promise.all(
        sides.flatMap((side) =>
          side.members.map(async (m) => JSON.parse(await get(m.adminPort, "zabstate")).zab_counter),
        ),
      );
    await until(
      async () => new Set(await counters()).size === 1,
      20_000,
      "every server of both ensembles to log the same txns",
    );
    for (const { role, answers } of await ask("zabstate")) {
      sameShape("zabstate", role, answers);
      for (const [side, text] of answers) {
        const me = side[role];
        const zab = JSON.parse(text);
        const what = `${side.name} ${role}`;
        assert.equal(zab.myid, me.id, what);
        assert.equal(zab.is_leader, role === "leader", what);
        assert.deepEqual(zab.quorum_address, oneAddress(me.quorumPort), what);
        assert.deepEqual(zab.election_address, oneAddress(me.electionPort), what);
        assert.equal(zab.client_address, `${HOST}:${me.clientPort}`, what);
        assert.equal(zab.voting, role !== "observer", what);
        assert.equal(zab.zabstate, "broadcast", what);
        const zxid = (BigInt(zab.zab_epoch) << 32n) | BigInt(zab.zab_counter);
        assert.equal(zab.last_zxid, `0x${zxid.toString(16)}`, what);
        assert.ok(zab.zab_epoch >= 1, what);
      }
    }
  });

  test("observers and obsr: the leader's synced observer; none elsewhere", async () => {
    // An observer counts as synced once its leader had its ack of the sync.
    await until(
      async () => {
        const leaders = sides.map((side) => get(side.leader.adminPort, "observers"));
        const counts = (await Promise.all(leaders)).map((t) => JSON.parse(t).synced_observers);
        return counts.every((n) => n === 1);
      },
      20_000,
      "both leaders to count their observer synced",
    );
    for (const name of ["observers", "obsr"]) {
      for (const { role, answers } of await ask(name)) {
        if (role !== "leader") {
          const [zk, ours] = answers.map(([, text]) => text);
          assert.equal(ours, zk, `${name} on the ${role}`);
          continue;
        }
        sameShape(name, role, answers);
        for (const [side, text] of answers) {
          const [info] = JSON.parse(text).observers;
          assert.equal(info.sid, side.observer.id, side.name);
          assert.match(info.remote_socket_address, /^\/127\.0\.0\.1:\d+$/, side.name);
        }
      }
    }
  });
});
