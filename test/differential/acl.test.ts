/**
 * ACLs, differential (issue 9): the same steps on Apache ZooKeeper 3.8 and on zkts, both with a
 * superDigest and extended types on, must give the same answers.
 *
 * The matrix (acl-matrix.ts): for each ACL scheme (world:anyone, auth, digest, ip matching and
 * not, ip/mask matching and not), each permission granted alone and all but it, and each
 * session (none authenticated, alice, alice with a wrong password, the super user), one znode
 * of its own on which every opcode that may check an ACL is tried in turn.
 *
 * Then the edge cases of fixupACL and checkACL, one step at a time: ids no provider accepts
 * (INVALIDACL), an empty ACL, "auth" without an authenticated id, CREATOR_ALL_ACL, duplicates,
 * perms 0 and out of range, ip expressions with bad masks, digest ids of odd shape.
 *
 * Then addAuth with each scheme, and the matrix once more over TLS for the x509 scheme (both
 * servers with ssl.clientAuth=want; test/interop/tls.test.ts compares subject forms and x509
 * ids step by step). The sasl scheme has its own suite (acl-sasl.test.ts); watch delivery is
 * left to the watch suites.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  type ACL,
  CREATOR_ALL_ACL,
  connect,
  digestACL,
  digestId,
  Perms,
  type ZooKeeper,
} from "../../src/index.js";
import { startZooKeeper, type ZooKeeperProcess } from "../harness/apache-zookeeper.js";
import { apacheZooKeeperSkip } from "../harness/installation.js";
import type { Certificates } from "../harness/tls-certs.js";
import {
  makeTestCertificates,
  type SecureTarget,
  startApacheTls,
  startZktsTls,
} from "../harness/tls-servers.js";
import { startZkts } from "../harness/zkts-server.js";
import {
  acls,
  compareMatrix,
  createWith,
  done,
  type EdgeStep,
  id,
  outcome,
  type Schemes,
  stat,
} from "./acl-matrix.js";

const SUPER_DIGEST = digestId("super", "test");

/** The sessions each node is tried from, by the digest they add at connect. */
const SESSIONS: Readonly<Record<string, string | undefined>> = {
  anonymous: undefined,
  alice: "alice:secret",
  wrongPassword: "alice:wrong",
  super: "super:test",
};

const SCHEMES: Schemes = {
  world: (perms) => [{ perms, id: id("world", "anyone") }],
  auth: (perms) => [{ perms, id: id("auth", "") }],
  digest: (perms) => [digestACL("alice", "secret", perms)],
  ip: (perms) => [{ perms, id: id("ip", "127.0.0.1") }],
  ipOther: (perms) => [{ perms, id: id("ip", "10.1.2.3") }],
  ipMask: (perms) => [{ perms, id: id("ip", "127.0.0.0/8") }],
  ipMaskOther: (perms) => [{ perms, id: id("ip", "10.0.0.0/8") }],
  // Two entries: the world gets the perms, alice the rest (checkACL looks at every entry).
  split: (perms) => [
    { perms, id: id("world", "anyone") },
    digestACL("alice", "secret", Perms.ALL & ~perms),
  ],
};

/** addAuth's corners: each on a fresh session, since AUTHFAILED ends it. */
const ADD_AUTH: readonly [scheme: string, auth: string][] = [
  ["digest", "bob:pw"],
  ["digest", "nocolon"],
  ["digest", ""],
  ["digest", "super:test"],
  ["digest", "super:wrong"],
  ["ip", "10.1.2.3"],
  ["world", "anyone"],
  ["auth", ""],
  ["super", ""],
  ["x509", ""],
  ["sasl", "alice"],
  ["nosuch", "x"],
];

interface Side {
  readonly name: string;
  readonly server: ZooKeeperProcess;
  readonly sessions: Map<string, ZooKeeper>;
}

async function openSessions(server: ZooKeeperProcess): Promise<Map<string, ZooKeeper>> {
  const sessions = new Map<string, ZooKeeper>();
  for (const [name, digest] of Object.entries(SESSIONS)) {
    const auth = digest === undefined ? [] : [{ scheme: "digest", auth: digest }];
    sessions.set(name, await connect(server.connectString, { auth }));
  }
  return sessions;
}

const ipACL = (expr: string): ACL[] => [{ perms: Perms.ALL, id: id("ip", expr) }];
/** fixupACL's and checkACL's corners, one step at a time. */
const EDGES: readonly EdgeStep[] = [
  ["parent", "alice", async (zk) => zk.create("/edge")],
  [
    "an unknown scheme",
    "alice",
    createWith("/edge/unknown", [{ perms: 31, id: id("nosuch", "x") }]),
  ],
  [
    "world with another id",
    "alice",
    createWith("/edge/world", [{ perms: 31, id: id("world", "nobody") }]),
  ],
  [
    "super as an ACL scheme",
    "alice",
    createWith("/edge/super", [{ perms: 31, id: id("super", "") }]),
  ],
  [
    "x509 without TLS",
    "alice",
    createWith("/edge/x509", [{ perms: 31, id: id("x509", "CN=alice") }]),
  ],
  [
    "sasl as an ACL scheme",
    "alice",
    createWith("/edge/sasl", [{ perms: 31, id: id("sasl", "alice") }]),
  ],
  ["an empty ACL", "alice", createWith("/edge/empty", [])],
  ["auth, nobody authenticated", "anonymous", createWith("/edge/auth-anon", CREATOR_ALL_ACL)],
  ["CREATOR_ALL_ACL as alice", "alice", createWith("/edge/creator", CREATOR_ALL_ACL)],
  ["CREATOR_ALL_ACL as super", "super", createWith("/edge/creator-super", CREATOR_ALL_ACL)],
  [
    "auth beside world",
    "alice",
    createWith("/edge/auth-world", [
      { perms: Perms.READ, id: id("world", "anyone") },
      { perms: Perms.ALL, id: id("auth", "ignored") },
    ]),
  ],
  [
    "duplicates",
    "alice",
    createWith("/edge/dup", [...CREATOR_ALL_ACL, ...CREATOR_ALL_ACL, digestACL("alice", "secret")]),
  ],
  ["perms 0", "alice", createWith("/edge/perms0", [{ perms: 0, id: id("world", "anyone") }])],
  ["perms 0: read it", "alice", async (zk) => String((await zk.getData("/edge/perms0")).data)],
  ["perms 0: getACL", "alice", async (zk) => acls((await zk.getACL("/edge/perms0")).acl)],
  ["perms 0: a child", "alice", async (zk) => zk.create("/edge/perms0/x")],
  ["perms 0: super reads", "super", async (zk) => String((await zk.getData("/edge/perms0")).data)],
  ["perms 0: super deletes", "super", async (zk) => done(zk.delete("/edge/perms0"))],
  ["perms 255", "alice", createWith("/edge/perms255", [{ perms: 255, id: id("world", "anyone") }])],
  ["perms -1", "alice", createWith("/edge/perms-1", [{ perms: -1, id: id("world", "anyone") }])],
  ["ip /8", "alice", createWith("/edge/ip8", ipACL("127.0.0.1/8"))],
  ["ip /32", "alice", createWith("/edge/ip32", ipACL("127.0.0.1/32"))],
  ["ip /0", "alice", createWith("/edge/ip0", ipACL("10.0.0.0/0"))],
  ["ip /0 reads", "anonymous", async (zk) => String((await zk.getData("/edge/ip0")).data)],
  ["ip /33", "alice", createWith("/edge/ip33", ipACL("127.0.0.1/33"))],
  ["ip /-1", "alice", createWith("/edge/ip-neg", ipACL("127.0.0.1/-1"))],
  ["ip /abc", "alice", createWith("/edge/ip-abc", ipACL("127.0.0.1/abc"))],
  ["ip /8/8", "alice", createWith("/edge/ip-two", ipACL("127.0.0.1/8/8"))],
  ["ip / alone", "alice", createWith("/edge/ip-slash", ipACL("127.0.0.1/"))],
  ["ip 300.0.0.1", "alice", createWith("/edge/ip-300", ipACL("300.0.0.1"))],
  ["ip a name", "alice", createWith("/edge/ip-name", ipACL("localhost"))],
  ["ip empty", "alice", createWith("/edge/ip-empty", ipACL(""))],
  ["ip v6 loopback", "alice", createWith("/edge/ip6", ipACL("::1"))],
  ["ip v6 /64", "alice", createWith("/edge/ip6-64", ipACL("fe80::/64"))],
  ["ip 127.1", "alice", createWith("/edge/ip-short", ipACL("127.1"))],
  ["ip with leading zeros", "alice", createWith("/edge/ip-zeros", ipACL("127.000.0.01"))],
  [
    "ip with leading zeros reads",
    "anonymous",
    async (zk) => String((await zk.getData("/edge/ip-zeros")).data),
  ],
  ["ip with a plus sign", "alice", createWith("/edge/ip-plus", ipACL("+127.0.0.1/+8"))],
  [
    "ip with a plus sign reads",
    "anonymous",
    async (zk) => String((await zk.getData("/edge/ip-plus")).data),
  ],
  ["ip with a mask of 08", "alice", createWith("/edge/ip-08", ipACL("127.0.0.1/08"))],
  [
    "ip mask too long a number",
    "alice",
    createWith("/edge/ip-big", ipACL("127.0.0.1/99999999999")),
  ],
  ["ip v4-mapped v6", "alice", createWith("/edge/ip-mapped", ipACL("::ffff:127.0.0.1"))],
  [
    "digest without a colon",
    "alice",
    createWith("/edge/d1", [{ perms: 31, id: id("digest", "alice") }]),
  ],
  [
    "digest ending in a colon",
    "alice",
    createWith("/edge/d2", [{ perms: 31, id: id("digest", "alice:") }]),
  ],
  [
    "digest starting with a colon",
    "alice",
    createWith("/edge/d3", [{ perms: 31, id: id("digest", ":hash") }]),
  ],
  [
    "digest with two colons",
    "alice",
    createWith("/edge/d4", [{ perms: 31, id: id("digest", "a:b:c") }]),
  ],
  [
    "digest a:b: (trailing)",
    "alice",
    createWith("/edge/d5", [{ perms: 31, id: id("digest", "a:b:") }]),
  ],
  ["digest colon only", "alice", createWith("/edge/d6", [{ perms: 31, id: id("digest", ":") }])],
  ["digest empty", "alice", createWith("/edge/d7", [{ perms: 31, id: id("digest", "") }])],
  ["digest a::", "alice", createWith("/edge/d8", [{ perms: 31, id: id("digest", "a::") }])],
  ["digest ::b", "alice", createWith("/edge/d9", [{ perms: 31, id: id("digest", "::b") }])],
  [
    "setACL to an unknown scheme",
    "alice",
    async (zk) => stat(await zk.setACL("/edge", [{ perms: 31, id: id("nosuch", "") }])),
  ],
  [
    "setACL to auth, anonymous",
    "anonymous",
    async (zk) => stat(await zk.setACL("/edge", CREATOR_ALL_ACL)),
  ],
  [
    "setACL to auth as alice",
    "alice",
    async (zk) => stat(await zk.setACL("/edge", CREATOR_ALL_ACL)),
  ],
  [
    "anonymous reads alice's",
    "anonymous",
    async (zk) => String((await zk.getChildren("/edge")).length),
  ],
  [
    "wrong password reads alice's",
    "wrongPassword",
    async (zk) => String((await zk.getChildren("/edge")).length),
  ],
  ["wrong password: getACL", "wrongPassword", async (zk) => acls((await zk.getACL("/edge")).acl)],
  ["super reads alice's", "super", async (zk) => String((await zk.getChildren("/edge")).length)],
  [
    "super: setACL with a bad id still INVALIDACL",
    "super",
    async (zk) => stat(await zk.setACL("/edge", ipACL("1.2.3.4/99"))),
  ],
  ["super: create under alice's", "super", createWith("/edge/by-super", CREATOR_ALL_ACL)],
  ["super: getACL unmasked", "super", async (zk) => acls((await zk.getACL("/edge")).acl)],
  [
    "read-only getACL masks digests",
    "alice",
    async (zk) => stat(await zk.setACL("/edge/dup", [digestACL("alice", "secret", Perms.READ)])),
  ],
  ["masked getACL", "alice", async (zk) => acls((await zk.getACL("/edge/dup")).acl)],
];

describe("ACLs: Apache ZooKeeper and zkts", {
  skip: apacheZooKeeperSkip(),
  timeout: 180_000,
}, () => {
  const sides: Side[] = [];
  before(async () => {
    const [apache, zkts] = await Promise.all([
      startZooKeeper({
        systemProperties: {
          "zookeeper.DigestAuthenticationProvider.superDigest": SUPER_DIGEST,
          "zookeeper.extendedTypesEnabled": "true",
        },
      }),
      startZkts({
        config: {
          "DigestAuthenticationProvider.superDigest": SUPER_DIGEST,
          extendedTypesEnabled: "true",
        },
      }),
    ]);
    sides.push({ name: "Apache ZooKeeper", server: apache, sessions: await openSessions(apache) });
    sides.push({ name: "zkts", server: zkts, sessions: await openSessions(zkts) });
  });
  after(async () => {
    for (const side of sides) {
      for (const zk of side.sessions.values()) await zk.close().catch(() => {});
      await side.server.stop();
    }
  });

  test("every scheme x permission x opcode x session answers the same", async () => {
    const [apache, zkts] = sides as [Side, Side];
    await compareMatrix(apache.sessions, zkts.sessions, SCHEMES);
  });

  test("the edge cases of fixupACL and checkACL answer the same", async () => {
    const answers: string[][] = [];
    for (const side of sides) {
      const out: string[] = [];
      for (const [name, session, call] of EDGES) {
        out.push(`${name}: ${await outcome(() => call(side.sessions.get(session) as ZooKeeper))}`);
      }
      answers.push(out);
    }
    const [expected, actual] = answers as [string[], string[]];
    assert.deepEqual(actual, expected);
    assert.ok(
      expected.some((a) => a.endsWith("error -114")),
      "some ACL was INVALIDACL",
    );
  });
  test("addAuth with each scheme: the same ids, or AUTHFAILED", async () => {
    const answers: string[][] = [];
    for (const side of sides) {
      const out: string[] = [];
      for (const [scheme, auth] of ADD_AUTH) {
        const zk = await connect(side.server.connectString);
        try {
          const added = await outcome(async () => done(zk.addAuth(scheme, auth)));
          const ids = await outcome(async () =>
            (await zk.whoAmI())
              .map((i) => `${i.authScheme}:${i.user}`)
              .sort()
              .join(","),
          );
          out.push(`addAuth ${scheme} "${auth}": ${added}; whoAmI ${ids}`);
        } finally {
          await zk.close().catch(() => {});
        }
      }
      answers.push(out);
    }
    const [expected, actual] = answers as [string[], string[]];
    assert.deepEqual(actual, expected);
    assert.ok(
      expected.some((a) => a.includes("error -115")),
      "some addAuth was AUTHFAILED",
    );
  });
});

/**
 * The x509 scheme in the same matrix: both servers serve TLS only, with ssl.clientAuth=want so
 * that a session without a certificate connects too. alice and bob present certificates (their
 * x509 ids), the super user a digest; the nodes name alice's certificate, "auth" as alice (her
 * certificate's id, the one authenticated id she has), and a two-entry ACL.
 */
describe("ACLs over TLS: the x509 scheme in the matrix", {
  skip: apacheZooKeeperSkip(),
  timeout: 180_000,
}, () => {
  let certs: Certificates;
  const targets: SecureTarget[] = [];
  const sessions: Map<string, ZooKeeper>[] = [];
  before(async () => {
    certs = await makeTestCertificates();
    targets.push(
      ...(await Promise.all([
        startApacheTls(certs, "want", {
          "zookeeper.DigestAuthenticationProvider.superDigest": SUPER_DIGEST,
          "zookeeper.extendedTypesEnabled": "true",
        }),
        startZktsTls(certs, "want", { superDigest: SUPER_DIGEST, extendedTypesEnabled: true }),
      ])),
    );
    const { alice, bob } = certs.clients;
    for (const target of targets) {
      const open = (options: Parameters<typeof connect>[1]) => connect(target.address, options);
      sessions.push(
        new Map([
          ["anonymous", await open({ secure: { ca: certs.ca } })],
          ["alice", await open({ secure: { ca: certs.ca, cert: alice.cert, key: alice.key } })],
          ["bob", await open({ secure: { ca: certs.ca, cert: bob.cert, key: bob.key } })],
          [
            "super",
            await open({
              secure: { ca: certs.ca },
              auth: [{ scheme: "digest", auth: "super:test" }],
            }),
          ],
        ]),
      );
    }
  });
  after(async () => {
    for (const map of sessions) for (const zk of map.values()) await zk.close().catch(() => {});
    for (const target of targets) await target.close();
    await certs?.remove();
  });

  test("x509 x permission x opcode x session answers the same", async () => {
    const subject = certs.clients.alice.subject;
    const x509: Schemes = {
      x509: (perms) => [{ perms, id: id("x509", subject) }],
      auth: (perms) => [{ perms, id: id("auth", "") }],
      split: (perms) => [
        { perms, id: id("world", "anyone") },
        { perms: Perms.ALL & ~perms, id: id("x509", subject) },
      ],
    };
    const [apache, zkts] = sessions as [Map<string, ZooKeeper>, Map<string, ZooKeeper>];
    const who = async (zk: ZooKeeper) => (await zk.whoAmI()).map((i) => i.authScheme).sort();
    assert.deepEqual(await who(apache.get("alice") as ZooKeeper), ["ip", "x509"]);
    assert.deepEqual(await who(zkts.get("alice") as ZooKeeper), ["ip", "x509"]);
    await compareMatrix(apache, zkts, x509);
  });
});
