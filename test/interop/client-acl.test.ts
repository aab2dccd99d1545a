/**
 * Our client against Apache ZooKeeper 3.8 (the oracle): ACLs and their versions, digest auth
 * (added later, given at connect, the super user), whoAmI, and the calls around the data tree:
 * sync, getConfig, reconfig.
 *
 * `npm test` runs this suite against zkts's server too (ZKTS_TEST_SERVER=zkts, fixture.ts).
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  AuthFailedError,
  BadVersionError,
  CREATOR_ALL_ACL,
  digestACL,
  digestId,
  InvalidACLError,
  InvalidArgumentError,
  NoAuthError,
  NoNodeError,
  OPEN_ACL_UNSAFE,
  Perms,
  READ_ACL_UNSAFE,
  ReconfigDisabledError,
  type ZooKeeper,
} from "../../src/index.js";
import {
  Clients,
  refusal,
  SERVER_NAME,
  SUPER_PASSWORD,
  SUPER_USER,
  serverSkip,
  uniquePath,
} from "./fixture.js";

const ALICE = digestACL("alice", "secret");
const byScheme = (a: { authScheme: string }, b: { authScheme: string }) =>
  a.authScheme.localeCompare(b.authScheme);

describe(`client ACLs and auth against ${SERVER_NAME}`, { skip: serverSkip() }, () => {
  const clients = new Clients();
  let zk: ZooKeeper;
  before(async () => {
    await clients.start();
    zk = await clients.open();
  });
  after(() => clients.stop());

  test("getACL/setACL: the default ACL, aversion, BadVersionError", async () => {
    const base = uniquePath("acl-versions");
    await zk.create(base);
    const initial = await zk.getACL(base);
    assert.deepEqual(initial.acl, [...OPEN_ACL_UNSAFE]);
    assert.equal(initial.stat.aversion, 0);
    const readAdmin = [{ perms: Perms.READ | Perms.ADMIN, id: { scheme: "world", id: "anyone" } }];
    const stat = await zk.setACL(base, readAdmin, { version: 0 });
    assert.equal(stat.aversion, 1);
    assert.equal(stat.version, 0, "setACL leaves the data version alone");
    await assert.rejects(zk.setACL(base, OPEN_ACL_UNSAFE, { version: 0 }), (e) => {
      assert.ok(e instanceof BadVersionError);
      assert.equal(e.path, base);
      return true;
    });
    const now = await zk.getACL(base);
    assert.deepEqual(now.acl, readAdmin);
    assert.equal(now.stat.aversion, 1);
    // No WRITE: setData is refused, even to the creator.
    await assert.rejects(zk.setData(base, "x"), NoAuthError);
    // Without ADMIN, setACL is refused before its version is looked at.
    await zk.setACL(base, READ_ACL_UNSAFE, { version: 1 });
    await assert.rejects(zk.setACL(base, OPEN_ACL_UNSAFE, { version: 0 }), NoAuthError);
    await assert.rejects(zk.getACL(`${base}/missing`), NoNodeError);
    const empty = await refusal(() => zk.setACL(base, []));
    assert.ok(empty instanceof InvalidArgumentError);
  });

  test("a digest ACL: NoAuthError until addAuth with the right password", async () => {
    const base = uniquePath("acl-digest");
    await zk.create(base, "private", { acl: [ALICE] });
    const other = await clients.open();
    await assert.rejects(other.getData(base), (e) => {
      assert.ok(e instanceof NoAuthError);
      assert.equal(e.code, -102);
      assert.equal(e.path, base);
      return true;
    });
    await assert.rejects(other.getACL(base), NoAuthError);
    // exists needs no permission; only the data is guarded.
    assert.equal((await other.exists(base))?.dataLength, 7);
    // A wrong password is not refused by the digest scheme: it is just another identity.
    await other.addAuth("digest", "alice:wrong");
    await assert.rejects(other.getData(base), NoAuthError);
    await other.addAuth("digest", "alice:secret");
    assert.equal((await other.getData(base)).data.toString(), "private");
    assert.deepEqual((await other.getACL(base)).acl, [ALICE]);
    assert.equal(ALICE.id.id, digestId("alice", "secret"));
  });

  test("auth given in connect options is in place before the first call", async () => {
    const base = uniquePath("acl-connect-auth");
    await zk.create(base, "for alice", { acl: [ALICE] });
    const alice = await clients.open({ auth: [{ scheme: "digest", auth: "alice:secret" }] });
    assert.equal((await alice.getData(base)).data.toString(), "for alice");
    assert.equal((await alice.setData(base, "changed")).version, 1);
  });

  test("the super user (superDigest super:test) passes every ACL", async () => {
    const base = uniquePath("acl-super");
    await zk.create(base, "guarded", { acl: [digestACL("bob", "hunter2", Perms.READ)] });
    const root = await clients.open({
      auth: [{ scheme: "digest", auth: `${SUPER_USER}:${SUPER_PASSWORD}` }],
    });
    assert.equal((await root.getData(base)).data.toString(), "guarded");
    assert.equal((await root.setData(base, "overridden")).version, 1);
    assert.equal((await root.setACL(base, OPEN_ACL_UNSAFE)).aversion, 1);
    assert.deepEqual((await root.whoAmI()).sort(byScheme), [
      { authScheme: "digest", user: SUPER_USER },
      { authScheme: "ip", user: "127.0.0.1" },
      { authScheme: "super", user: "" },
    ]);
    assert.equal((await zk.getData(base)).data.toString(), "overridden");
  });

  test("CREATOR_ALL_ACL: the creator's digest identity; InvalidACLError without one", async () => {
    const base = uniquePath("acl-creator");
    await zk.create(base);
    const anonymous = await clients.open();
    // The ip identity does not count: "auth" needs an authenticated scheme.
    await assert.rejects(
      anonymous.create(`${base}/mine`, null, { acl: CREATOR_ALL_ACL }),
      (e) => e instanceof InvalidACLError && e.path === `${base}/mine`,
    );
    const carol = await clients.open({ auth: [{ scheme: "digest", auth: "carol:pw" }] });
    await carol.create(`${base}/mine`, "c", { acl: CREATOR_ALL_ACL });
    assert.deepEqual((await carol.getACL(`${base}/mine`)).acl, [
      { perms: Perms.ALL, id: { scheme: "digest", id: digestId("carol", "pw") } },
    ]);
    await assert.rejects(anonymous.getData(`${base}/mine`), NoAuthError);
  });

  test("whoAmI lists the ip identity, then the digest user added", async () => {
    const client = await clients.open();
    assert.deepEqual(await client.whoAmI(), [{ authScheme: "ip", user: "127.0.0.1" }]);
    await client.addAuth("digest", "dave:pw");
    assert.deepEqual((await client.whoAmI()).sort(byScheme), [
      { authScheme: "digest", user: "dave" },
      { authScheme: "ip", user: "127.0.0.1" },
    ]);
  });

  test("addAuth with a scheme the server lacks: AuthFailedError, and the session ends", async () => {
    const client = await clients.open();
    await assert.rejects(client.addAuth("no-such-scheme", "x"), AuthFailedError);
    assert.equal(client.state, "authFailed");
    assert.ok((await client.closed()) instanceof AuthFailedError);
    await assert.rejects(client.getData("/"), AuthFailedError);
  });

  test("sync resolves with the path, even for a missing znode", async () => {
    const base = uniquePath("sync");
    await zk.create(base);
    assert.equal(await zk.sync(base), base);
    assert.equal(await zk.sync("/"), "/");
    assert.equal(await zk.sync(`${base}/missing`), `${base}/missing`);
  });

  test("getConfig on a standalone server resolves with /zookeeper/config's Stat", async () => {
    const { data, stat } = await zk.getConfig();
    assert.ok(Buffer.isBuffer(data));
    assert.equal(stat.dataLength, data.length);
    assert.equal(typeof stat.version, "number");
  });

  test("reconfig on a standalone server: ReconfigDisabledError", async () => {
    await assert.rejects(zk.reconfig({ joining: "server.2=127.0.0.1:65001:65002;65003" }), (e) => {
      assert.ok(e instanceof ReconfigDisabledError);
      assert.equal(e.code, -123);
      return true;
    });
  });
});
