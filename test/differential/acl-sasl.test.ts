/**
 * The sasl ACL scheme, differential (issue 9): Apache ZooKeeper 3.8 and zkts, both with
 * authProvider.1=SASLAuthenticationProvider, the same JAAS "Server" section, zookeeper.superUser
 * and zookeeper.letAnySaslUserDoX, must answer alike.
 *
 * The matrix (acl-matrix.ts) over sasl ACLs: sasl:alice, a user no session is (sasl:carol),
 * "auth" as alice (her sasl id), the id letAnySaslUserDoX names, and world beside sasl:alice;
 * from sessions that authenticated by SASL DIGEST-MD5 as alice, as bob, as the user "super"
 * (whose sasl id matches every sasl ACL), as the zookeeper.superUser (a super id besides), by
 * digest as alice (another scheme: no sasl ACL admits it), and unauthenticated.
 *
 * Then the sasl edge cases step by step: which sasl ids fixupACL takes (KerberosName's shape),
 * setACL and getACL with sasl ids, "auth" for sessions with sasl and digest ids, whoAmI.
 *
 * Then the ids Kerberos-style user names get (user/host@REALM) under each of
 * zookeeper.kerberos.removeHostFromPrincipal / removeRealmFromPrincipal and a default realm
 * (java.security.krb5.realm), and what "auth" makes of them.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { CREATOR_ALL_ACL, connect, Perms, type ZooKeeper } from "../../src/index.js";
import { SASL_AUTHENTICATION_PROVIDER } from "../../src/server/sasl/settings.js";
import { startZooKeeper, type ZooKeeperProcess } from "../harness/apache-zookeeper.js";
import { apacheZooKeeperSkip } from "../harness/installation.js";
import { startZkts } from "../harness/zkts-server.js";
import {
  acls,
  compareMatrix,
  createWith,
  type EdgeStep,
  id,
  OPS,
  outcome,
  PERM_SETS,
  type Schemes,
  stat,
} from "./acl-matrix.js";

/** The JAAS users (user_<name>="<password>"): quoted, so that names may hold "/" and "@". */
const USERS: Readonly<Record<string, string>> = {
  alice: "alice-pw",
  bob: "bob-pw",
  super: "super-pw",
  admin: "admin-pw",
  "carol/host@": "carol-pw",
  "dave/host@EXAMPLE.COM": "dave-pw",
  "erin@": "erin-pw",
  "frank/host": "frank-pw",
};

const ANY_SASL_USER = "anySaslUser";

/** The sessions: SASL users, a digest one, and none. */
const SESSIONS: Readonly<Record<string, { sasl?: string; digest?: string }>> = {
  anonymous: {},
  alice: { sasl: "alice" },
  bob: { sasl: "bob" },
  saslSuper: { sasl: "super" },
  admin: { sasl: "admin" },
  digestAlice: { digest: "alice:alice-pw" },
};

const sasl = (user: string, perms: number) => ({ perms, id: id("sasl", user) });

const SCHEMES: Schemes = {
  sasl: (perms) => [sasl("alice", perms)],
  saslOther: (perms) => [sasl("carol", perms)],
  auth: (perms) => [{ perms, id: id("auth", "") }],
  anySaslUser: (perms) => [sasl(ANY_SASL_USER, perms)],
  split: (perms) => [{ perms, id: id("world", "anyone") }, sasl("alice", Perms.ALL & ~perms)],
};

let dir: string;
let jaasFile: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "zkts-acl-sasl-"));
  jaasFile = join(dir, "server.jaas");
  const users = Object.entries(USERS).map(([user, pw]) => `  "user_${user}"="${pw}"`);
  await writeFile(
    jaasFile,
    `Server {\n  org.apache.zookeeper.server.auth.DigestLoginModule required\n${users.join("\n")};\n};\n`,
  );
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Both servers with the same properties: -D for Apache's JVM, zoo.cfg lines for zkts. */
async function startBoth(
  properties: Readonly<Record<string, string>>,
): Promise<[ZooKeeperProcess, ZooKeeperProcess]> {
  const all = {
    "java.security.auth.login.config": jaasFile,
    "zookeeper.authProvider.1": SASL_AUTHENTICATION_PROVIDER,
    ...properties,
  };
  return Promise.all([startZooKeeper({ systemProperties: all }), startZkts({ config: all })]);
}

function open(server: ZooKeeperProcess, how: { sasl?: string; digest?: string }) {
  return connect(server.connectString, {
    ...(how.sasl !== undefined && {
      sasl: { username: how.sasl, password: USERS[how.sasl] as string },
    }),
    ...(how.digest !== undefined && { auth: [{ scheme: "digest", auth: how.digest }] }),
  });
}

async function openSessions(server: ZooKeeperProcess): Promise<Map<string, ZooKeeper>> {
  const sessions = new Map<string, ZooKeeper>();
  for (const [name, how] of Object.entries(SESSIONS)) sessions.set(name, await open(server, how));
  return sessions;
}

const whoAmI = async (zk: ZooKeeper) =>
  (await zk.whoAmI())
    .map((i) => `${i.authScheme}:${i.user}`)
    .sort()
    .join(",");

const saslACL = (user: string) => [sasl(user, Perms.ALL)];

/** fixupACL's and checkACL's sasl corners, one step at a time. */
const EDGES: readonly EdgeStep[] = [
  ["parent", "alice", async (zk) => zk.create("/edge")],
  // Each id with alice's READ beside it, so that she can read the ACL back.
  ...["alice", "", "a/b", "a/b/c", "/", "a@R", "a/b@R", "@", "a@b@c", "a@b/c", "a/b/c@R"].map(
    (user, i): EdgeStep => [
      `sasl:${user} as an ACL`,
      "alice",
      createWith(`/edge/id${i}`, [sasl(user, Perms.ALL), sasl("alice", Perms.READ)]),
    ],
  ),
  ["CREATOR_ALL_ACL as alice", "alice", createWith("/edge/creator-alice", CREATOR_ALL_ACL)],
  ["CREATOR_ALL_ACL as the superUser", "admin", createWith("/edge/creator-admin", CREATOR_ALL_ACL)],
  [
    "CREATOR_ALL_ACL as sasl super",
    "saslSuper",
    createWith("/edge/creator-super", CREATOR_ALL_ACL),
  ],
  ["CREATOR_ALL_ACL, sasl and digest", "aliceBoth", createWith("/edge/both", CREATOR_ALL_ACL)],
  ["auth and a sasl id", "bob", createWith("/edge/mixed", [...CREATOR_ALL_ACL, ...saslACL("x")])],
  [
    "bob reads alice's",
    "bob",
    async (zk) => String((await zk.getData("/edge/creator-alice")).data),
  ],
  [
    "sasl super reads alice's",
    "saslSuper",
    async (zk) => stat((await zk.getData("/edge/id0")).stat),
  ],
  ["sasl super, getACL", "saslSuper", async (zk) => acls((await zk.getACL("/edge/both")).acl)],
  ["superUser reads alice's", "admin", async (zk) => stat((await zk.getData("/edge/id0")).stat)],
  [
    "digest alice reads sasl alice's",
    "digestAlice",
    async (zk) => acls((await zk.getACL("/edge/id0")).acl),
  ],
  [
    "setACL to sasl ids, read only",
    "alice",
    async (zk) => stat(await zk.setACL("/edge/both", [sasl("alice", Perms.READ), sasl("bob", 31)])),
  ],
  ["getACL without ADMIN", "aliceBoth", async (zk) => acls((await zk.getACL("/edge/both")).acl)],
  [
    "setACL without ADMIN",
    "alice",
    async (zk) => stat(await zk.setACL("/edge/both", saslACL("alice"))),
  ],
  [
    "setACL by bob",
    "bob",
    async (zk) => stat(await zk.setACL("/edge/both", [sasl(ANY_SASL_USER, 1)])),
  ],
  [
    "letAnySaslUserDoX: alice reads",
    "alice",
    async (zk) => stat((await zk.getData("/edge/both")).stat),
  ],
  [
    "letAnySaslUserDoX: anonymous",
    "anonymous",
    async (zk) => stat((await zk.getData("/edge/both")).stat),
  ],
  [
    "letAnySaslUserDoX: digest",
    "digestAlice",
    async (zk) => stat((await zk.getData("/edge/both")).stat),
  ],
  [
    "setACL, an invalid sasl id",
    "admin",
    async (zk) => stat(await zk.setACL("/edge", saslACL("a@b@c"))),
  ],
  ...["anonymous", "alice", "saslSuper", "admin", "digestAlice", "aliceBoth"].map(
    (session): EdgeStep => [`whoAmI ${session}`, session, whoAmI],
  ),
];

describe("ACLs: the sasl scheme on Apache ZooKeeper and zkts", {
  skip: apacheZooKeeperSkip(),
  timeout: 240_000,
}, () => {
  const servers: ZooKeeperProcess[] = [];
  const sessions: Map<string, ZooKeeper>[] = [];
  before(async () => {
    servers.push(
      ...(await startBoth({
        "zookeeper.superUser": "admin",
        "zookeeper.letAnySaslUserDoX": ANY_SASL_USER,
        "zookeeper.extendedTypesEnabled": "true",
      })),
    );
    for (const server of servers) sessions.push(await openSessions(server));
  });
  after(async () => {
    for (const map of sessions) for (const zk of map.values()) await zk.close().catch(() => {});
    for (const server of servers) await server.stop();
  });

  test("sasl ACL x permission x opcode x session answers the same", async () => {
    const [apache, zkts] = sessions as [Map<string, ZooKeeper>, Map<string, ZooKeeper>];
    assert.equal(await whoAmI(apache.get("alice") as ZooKeeper), "ip:127.0.0.1,sasl:alice");
    assert.equal(await whoAmI(zkts.get("admin") as ZooKeeper), "ip:127.0.0.1,sasl:admin,super:");
    await compareMatrix(apache, zkts, SCHEMES);
    const cases = Object.keys(SCHEMES).length * PERM_SETS.length * apache.size * OPS.length;
    assert.equal(cases, 5 * 10 * 6 * 34);
  });

  test("the sasl edge cases of fixupACL, checkACL, setACL and getACL answer the same", async () => {
    const answers: string[][] = [];
    for (const [i, server] of servers.entries()) {
      const map = sessions[i] as Map<string, ZooKeeper>;
      const aliceBoth = await open(server, { sasl: "alice", digest: "alice:alice-pw" });
      map.set("aliceBoth", aliceBoth);
      const out: string[] = [];
      for (const [name, session, call] of EDGES) {
        out.push(`${name}: ${await outcome(() => call(map.get(session) as ZooKeeper))}`);
      }
      answers.push(out);
    }
    const [expected, actual] = answers as [string[], string[]];
    assert.deepEqual(actual, expected);
    // The answers that tell the cases apart happened on Apache ZooKeeper's side.
    assert.ok(
      expected.includes("sasl:a/b/c as an ACL: ok /edge/id3 31:sasl:a/b/c,1:sasl:alice"),
      expected.join("\n"),
    );
    assert.ok(expected.includes("sasl:a@b@c as an ACL: error -114"), expected.join("\n"));
    assert.ok(expected.includes("letAnySaslUserDoX: anonymous: error -102"), expected.join("\n"));
  });
});

/** What each Kerberos-style user's sasl id is, and what "auth" becomes for it. */
async function principalIds(server: ZooKeeperProcess): Promise<string[]> {
  const out: string[] = [];
  for (const [i, user] of Object.keys(USERS).entries()) {
    const zk = await open(server, { sasl: user });
    try {
      const created = await outcome(() => createWith(`/p${i}`, CREATOR_ALL_ACL)(zk));
      out.push(`${user}: whoAmI ${await whoAmI(zk)}; auth ${created}`);
    } finally {
      await zk.close();
    }
  }
  return out;
}

/**
 * Each setting, and the sasl ids carol/host@ and dave/host@EXAMPLE.COM get under it: a name
 * maps only when its realm is the default one ("" without a Kerberos configuration).
 */
const PRINCIPAL_SETTINGS: readonly [string, Readonly<Record<string, string>>, string, string][] = [
  ["no removal", {}, "carol/host@", "dave/host@EXAMPLE.COM"],
  [
    "remove host",
    { "zookeeper.kerberos.removeHostFromPrincipal": "true" },
    "carol@",
    "dave/host@EXAMPLE.COM",
  ],
  [
    "remove realm",
    { "zookeeper.kerberos.removeRealmFromPrincipal": "true" },
    "carol/host",
    "dave/host@EXAMPLE.COM",
  ],
  [
    "remove both, flags not exactly true",
    {
      "zookeeper.kerberos.removeHostFromPrincipal": "TRUE",
      "zookeeper.kerberos.removeRealmFromPrincipal": "yes",
    },
    "carol/host@",
    "dave/host@EXAMPLE.COM",
  ],
  [
    "remove both, default realm EXAMPLE.COM",
    {
      "zookeeper.kerberos.removeHostFromPrincipal": "true",
      "zookeeper.kerberos.removeRealmFromPrincipal": "true",
      "java.security.krb5.realm": "EXAMPLE.COM",
      "java.security.krb5.kdc": "127.0.0.1",
    },
    "carol/host@",
    "dave",
  ],
];

describe("sasl ids of Kerberos-style user names", {
  skip: apacheZooKeeperSkip(),
  timeout: 240_000,
}, () => {
  for (const [name, properties, carol, dave] of PRINCIPAL_SETTINGS) {
    test(`${name}: the same ids on both`, async () => {
      const both = await startBoth(properties);
      try {
        const [expected, actual] = (await Promise.all(both.map(principalIds))) as [
          string[],
          string[],
        ];
        assert.deepEqual(actual, expected);
        assert.equal(expected.length, Object.keys(USERS).length);
        const text = expected.join("\n");
        assert.ok(text.includes(`carol/host@: whoAmI ip:127.0.0.1,sasl:${carol};`), text);
        assert.ok(text.includes(`dave/host@EXAMPLE.COM: whoAmI ip:127.0.0.1,sasl:${dave};`), text);
      } finally {
        await Promise.all(both.map((server) => server.stop()));
      }
    });
  }
});
