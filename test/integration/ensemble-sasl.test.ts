/**
 * SASL in a 3-server zkts ensemble (issue 9). Every server has the same JAAS users,
 * authProvider.1=SASLAuthenticationProvider and sessionRequireClientSASLAuth, as an operator
 * would configure ZooKeeper.
 *
 * Goal: the sasl id a follower learnt from its client's exchange must reach the leader with
 * every forwarded write, where prep checks the parent's ACL and expands "auth" (fixupACL);
 * after the client moves to another server its exchange must run again before its requests
 * (else they get SESSIONCLOSEDREQUIRESASLAUTH), and the ACL must still admit it; another sasl
 * user is refused (NOAUTH) and an unauthenticated client is refused outright.
 *
 * Method: alice connects to the followers only, so that each of her writes is forwarded; she
 * creates a sasl:alice node and a CREATOR_ALL_ACL one under a sasl:alice parent; the follower
 * she is on is killed (SIGKILL), she reconnects to the other and carries on.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  CREATOR_ALL_ACL,
  connect,
  NoAuthError,
  Perms,
  SessionClosedRequireSaslAuthError,
  type ZooKeeper,
} from "../../src/index.js";
import { SASL_AUTHENTICATION_PROVIDER } from "../../src/server/sasl/settings.js";
import { type Ensemble, startEnsemble } from "../harness/zkts-ensemble.js";

const ALICE = { username: "alice", password: "alice-pw" };
const BOB = { username: "bob", password: "bob-pw" };
const aliceOnly = [{ perms: Perms.ALL, id: { scheme: "sasl", id: "alice" } }];

/** Resolves at the client's next `wanted` state. */
async function nextState(zk: ZooKeeper, wanted: string): Promise<void> {
  for await (const state of zk.states()) if (state === wanted) return;
  assert.fail(`the client never became ${wanted}`);
}

const saslIds = async (zk: ZooKeeper) =>
  (await zk.whoAmI()).filter((i) => i.authScheme === "sasl").map((i) => i.user);

describe("SASL in a 3-server zkts ensemble", { timeout: 120_000 }, () => {
  let dir: string;
  let ensemble: Ensemble;
  const clients: ZooKeeper[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "zkts-ensemble-sasl-"));
    const jaas = join(dir, "server.jaas");
    await writeFile(
      jaas,
      'Server {\n  org.apache.zookeeper.server.auth.DigestLoginModule required\n  user_alice="alice-pw"\n  user_bob="bob-pw";\n};\n',
    );
    ensemble = await startEnsemble({
      config: {
        "java.security.auth.login.config": jaas,
        "authProvider.1": SASL_AUTHENTICATION_PROVIDER,
        "zookeeper.sessionRequireClientSASLAuth": "true",
      },
    });
  });

  after(async () => {
    await Promise.all(clients.map((zk) => zk.close().catch(() => {})));
    await ensemble?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test("writes forwarded with the sasl id, auth re-run on another server, others refused", async () => {
    const leader = await ensemble.leader();
    const followers = ensemble.members.map((m) => m.id).filter((id) => id !== leader);
    const alice = await connect(ensemble.connectString(followers), {
      sasl: ALICE,
      reconnectDelayMaxMs: 100,
    });
    clients.push(alice);
    const first = followers.find((id) => ensemble.member(id).address === alice.server);
    assert.ok(first !== undefined, `alice is on a follower, not on ${alice.server}`);

    // Forwarded creates: the leader checks the parent's sasl:alice ACL and expands "auth".
    await alice.create("/alice", "a", { acl: aliceOnly });
    await alice.create("/alice/mine", "m", { acl: CREATOR_ALL_ACL });
    assert.deepEqual((await alice.getACL("/alice/mine")).acl, aliceOnly);

    const moved = nextState(alice, "disconnected").then(() => nextState(alice, "connected"));
    await ensemble.kill(first);
    await moved;
    assert.notEqual(alice.server, ensemble.member(first).address);
    // Under sessionRequireClientSASLAuth these succeed only if the exchange ran again first.
    assert.deepEqual(await saslIds(alice), ["alice"]);
    assert.equal((await alice.getData("/alice/mine")).data.toString(), "m");
    await alice.setData("/alice/mine", "m2");
    await alice.create("/alice/after-move", "", { acl: CREATOR_ALL_ACL });
    assert.deepEqual((await alice.getACL("/alice/after-move")).acl, aliceOnly);

    // bob authenticates, but the sasl:alice ACLs refuse him, on reads and forwarded writes.
    const bob = await connect(ensemble.connectString(followers), { sasl: BOB });
    clients.push(bob);
    assert.deepEqual(await saslIds(bob), ["bob"]);
    await assert.rejects(bob.getData("/alice/mine"), NoAuthError);
    await assert.rejects(bob.setData("/alice/mine", "x"), NoAuthError);
    await assert.rejects(bob.create("/alice/bob", ""), NoAuthError);

    // Without SASL every request is refused, whichever server takes the connection.
    const anonymous = await connect(ensemble.connectString(followers));
    clients.push(anonymous);
    await assert.rejects(anonymous.getChildren("/"), SessionClosedRequireSaslAuthError);

    // The one write bob's forwarded attempts could have slipped through: none did.
    await ensemble.restart(first);
    await ensemble.waitServing(ensemble.members.map((m) => m.id));
    const check = await connect(ensemble.member(first).address, { sasl: ALICE });
    clients.push(check);
    await check.sync("/alice");
    assert.deepEqual((await check.getChildren("/alice")).sort(), ["after-move", "mine"]);
    assert.equal((await check.getData("/alice/mine")).data.toString(), "m2");
  });
});
