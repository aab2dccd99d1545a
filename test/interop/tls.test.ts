/**
 * TLS on the client port (issue 9): our client over TLS against zkts's secureClientPort and
 * against Apache ZooKeeper's (its Netty server), the same checks on both:
 *
 * - with a client certificate it connects and works; whoAmI names it as x509:<RFC 2253 subject>;
 * - ssl.clientAuth=need refuses a client without a certificate, and one whose certificate
 *   another CA signed; want lets the one without in (and still names the one with);
 * - the client refuses a server whose certificate it cannot verify, or that names another host
 *   (unless hostnameVerification is off);
 * - an x509 ACL lets the certificate it names in and no other;
 * - four-letter words answer on the TLS port.
 *
 * zkts runs in this process, TLS only (no clientPort), key material as PEM for `need` and
 * PKCS#12 for `want`. Apache ZooKeeper runs with serverCnxnFactory=NettyServerCnxnFactory, a
 * PKCS#12 keystore and a JKS truststore made by keytool. Key material is made at test time.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { after, before, describe, it } from "node:test";
import tls from "node:tls";
import { promisify } from "node:util";
import {
  connect,
  NoAuthError,
  OPEN_ACL_UNSAFE,
  Perms,
  type SecureOptions,
  type ZooKeeper,
} from "../../src/index.js";
import { apacheZooKeeperSkip } from "../harness/apache-zookeeper.js";
import { runZooKeeperMain } from "../harness/java-cli.js";
import { type Certificates, type KeyPair, STORE_PASSWORD } from "../harness/tls-certs.js";
import {
  makeTestCertificates,
  NETTY_CODEC_JAR,
  type SecureTarget,
  startApacheTls,
  startZktsTls,
} from "../harness/tls-servers.js";

const _execFileAsync = promisify(execFile);

/** A refused connect is retried until this passes; short, since refusals are what we test. */
const REFUSED_WITHIN_MS = 1_000;

function withCert(certs: Certificates, pair: KeyPair): SecureOptions {
  return { ca: certs.ca, cert: pair.cert, key: pair.key };
}

async function refused(address: string, secure: SecureOptions | boolean): Promise<Error> {
  const error = await connect(address, {
    secure,
    initialConnectTimeoutMs: REFUSED_WITHIN_MS,
    reconnectDelayMaxMs: 100,
  }).then(
    async (zk) => {
      await zk.close();
      assert.fail(`${address} took a connection it should have refused`);
    },
    (e: unknown) => e as Error,
  );
  return error;
}

/** A four-letter word over TLS with a client certificate. */
function secureFourLetterWord(port: number, word: string, options: tls.ConnectionOptions) {
  return new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = tls.connect({ host: "127.0.0.1", port, ...options }, () => socket.write(word));
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    socket.on("error", reject);
  });
}

/** The checks every TLS server with ssl.clientAuth=need must pass. */
function needChecks(name: string, start: (certs: Certificates) => Promise<SecureTarget>) {
  describe(`${name}: TLS with ssl.clientAuth=need`, () => {
    let certs: Certificates;
    let target: SecureTarget;
    const clients: ZooKeeper[] = [];
    const open = async (pair: KeyPair, extra: Partial<SecureOptions> = {}) => {
      const zk = await connect(target.address, { secure: { ...withCert(certs, pair), ...extra } });
      clients.push(zk);
      return zk;
    };

    before(async () => {
      certs = await sharedCertificates();
      target = await start(certs);
    });
    after(async () => {
      await Promise.all(clients.map((zk) => zk.close()));
      await target?.close();
    });

    it("connects with a client certificate, serves requests, and names it x509:<subject>", async () => {
      const zk = await open(certs.clients.alice);
      await zk.create("/tls", "over tls");
      assert.equal((await zk.getData("/tls")).data.toString(), "over tls");
      await zk.setData("/tls", "changed");
      assert.equal((await zk.getData("/tls")).data.toString(), "changed");
      const ids = await zk.whoAmI();
      assert.ok(
        ids.some((id) => id.authScheme === "x509" && id.user === certs.clients.alice.subject),
        `whoAmI: ${JSON.stringify(ids)}`,
      );
      await zk.delete("/tls");
    });

    it("refuses a client without a certificate, and one signed by another CA", async () => {
      await refused(target.address, { ca: certs.ca });
      await refused(target.address, withCert(certs, certs.clients.stranger));
    });

    it("the client refuses a server it cannot verify or that names another host", async () => {
      const alice = certs.clients.alice;
      // No CA: Node's root CAs do not know ours.
      await refused(target.address, { cert: alice.cert, key: alice.key });
      await refused(target.address, { ...withCert(certs, alice), servername: "zk.example.org" });
      const zk = await open(alice, { servername: "zk.example.org", hostnameVerification: false });
      assert.ok((await zk.exists("/")) !== null);
      // The certificate's DNS name works as a host in the connect string.
      const byName = await connect(`localhost:${target.port}`, {
        secure: withCert(certs, alice),
      });
      clients.push(byName);
      assert.ok((await byName.exists("/")) !== null);
    });

    it("an x509 ACL lets in the certificate it names and no other", async () => {
      const alice = await open(certs.clients.alice);
      const bob = await open(certs.clients.bob);
      const aliceOnly = [
        { perms: Perms.ALL, id: { scheme: "x509", id: certs.clients.alice.subject } },
      ];
      await alice.create("/x509-secret", "alice's", { acl: aliceOnly });
      assert.equal((await alice.getData("/x509-secret")).data.toString(), "alice's");
      await assert.rejects(bob.getData("/x509-secret"), NoAuthError);
      await assert.rejects(bob.setData("/x509-secret", "bob's"), NoAuthError);
      await alice.setACL("/x509-secret", OPEN_ACL_UNSAFE);
      assert.equal((await bob.getData("/x509-secret")).data.toString(), "alice's");
      await alice.delete("/x509-secret");
    });

    it("answers four-letter words on the TLS port", async () => {
      const alice = certs.clients.alice;
      const reply = await secureFourLetterWord(target.port, "ruok", {
        ca: certs.ca,
        cert: alice.cert,
        key: alice.key,
      });
      assert.equal(reply, "imok");
    });
  });
}

/** The checks of ssl.clientAuth=want. */
function wantChecks(name: string, start: (certs: Certificates) => Promise<SecureTarget>) {
  describe(`${name}: TLS with ssl.clientAuth=want`, () => {
    let certs: Certificates;
    let target: SecureTarget;

    before(async () => {
      certs = await sharedCertificates();
      target = await start(certs);
    });
    after(async () => {
      await target?.close();
    });

    it("lets a client without a certificate in, names one with it, refuses an untrusted one", async () => {
      const anonymous = await connect(target.address, { secure: { ca: certs.ca } });
      try {
        const ids = await anonymous.whoAmI();
        assert.deepEqual(
          ids.map((id) => id.authScheme),
          ["ip"],
        );
      } finally {
        await anonymous.close();
      }
      const bob = await connect(target.address, { secure: withCert(certs, certs.clients.bob) });
      try {
        const ids = await bob.whoAmI();
        assert.ok(
          ids.some((id) => id.authScheme === "x509" && id.user === certs.clients.bob.subject),
        );
      } finally {
        await bob.close();
      }
      await refused(target.address, withCert(certs, certs.clients.stranger));
    });
  });
}

let certificates: Promise<Certificates> | undefined;
/** One set of key material for the whole file (openssl and keytool take a second or two). */
function sharedCertificates(): Promise<Certificates> {
  certificates ??= makeTestCertificates();
  return certificates;
}
after(async () => {
  await (await certificates)?.remove();
});

needChecks("zkts", (certs) => startZktsTls(certs, "need"));
wantChecks("zkts", (certs) => startZktsTls(certs, "want"));

describe("Apache ZooKeeper (Netty)", { skip: apacheZooKeeperSkip() }, () => {
  needChecks("Apache ZooKeeper", (certs) => startApacheTls(certs, "need"));
  wantChecks("Apache ZooKeeper", (certs) => startApacheTls(certs, "want"));
});

/**
 * The x509 scheme, differentially: the same steps on zkts and on Apache ZooKeeper (Netty,
 * authProvider.x509), every outcome recorded, the two records required to be equal. Covers the
 * subject's RFC 2253 form for a subject with every escaped character, multi-valued RDNs and an
 * attribute Java writes as an OID (whoAmI), which ids an x509 ACL accepts (isValid), "auth"
 * expanding to the certificate's id, each permission against the certificate it names and
 * another, and addAuth("x509").
 */
async function x509Steps(address: string, certs: Certificates): Promise<string[]> {
  const record: string[] = [];
  const { alice, bob, carol } = certs.clients;
  const clients = await Promise.all(
    [alice, bob, carol].map((pair) => connect(address, { secure: withCert(certs, pair) })),
  );
  const [a, b, c] = clients as [ZooKeeper, ZooKeeper, ZooKeeper];
  const outcome = async (what: string, op: () => Promise<unknown>) => {
    try {
      const value = await op();
      record.push(`${what}: ok${typeof value === "string" ? ` ${value}` : ""}`);
    } catch (error) {
      record.push(`${what}: ${(error as Error).name}`);
    }
  };
  try {
    const who = async (zk: ZooKeeper) =>
      (await zk.whoAmI())
        .map((id) => `${id.authScheme}:${id.user}`)
        .sort()
        .join(" ");
    await outcome("carol whoAmI", () => who(c));
    const carolSubject = (await c.whoAmI()).find((id) => id.authScheme === "x509")?.user ?? "";
    const ids = [
      alice.subject,
      "cn=alice, ou=eng, o=zkts",
      "CN=alice;OU=eng;O=zkts",
      "not a dn",
      "",
      "CN=x,NOSUCHATTR=y",
      "1.2.3.4=#0403616263",
      'CN="quoted, value"',
      carolSubject,
    ];
    for (const [i, id] of ids.entries()) {
      const acl = [{ perms: Perms.READ, id: { scheme: "x509", id } }];
      await outcome(`create with x509:${id}`, () => a.create(`/acl-${i}`, "", { acl }));
      await outcome(`alice reads /acl-${i}`, () => a.getData(`/acl-${i}`));
      await outcome(`carol reads /acl-${i}`, () => c.getData(`/acl-${i}`));
    }
    const auth = [{ perms: Perms.ALL, id: { scheme: "auth", id: "" } }];
    await outcome("create with auth", () => a.create("/auth", "", { acl: auth }));
    await outcome("getACL of auth", async () => JSON.stringify((await a.getACL("/auth")).acl));
    const matrix = [
      { perms: Perms.READ | Perms.WRITE | Perms.CREATE, id: { scheme: "x509", id: alice.subject } },
      { perms: Perms.READ | Perms.ADMIN, id: { scheme: "x509", id: bob.subject } },
    ];
    await a.create("/m", "", { acl: matrix });
    for (const [name, zk] of [
      ["alice", a],
      ["bob", b],
      ["carol", c],
    ] as const) {
      await outcome(`${name} getData`, () => zk.getData("/m"));
      await outcome(`${name} setData`, () => zk.setData("/m", name));
      await outcome(`${name} create child`, () => zk.create(`/m/${name}`, ""));
      await outcome(`${name} getChildren`, () => zk.getChildren("/m"));
      await outcome(`${name} getACL`, () => zk.getACL("/m"));
      await outcome(`${name} setACL`, () => zk.setACL("/m", matrix));
      await outcome(`${name} delete`, () => zk.delete(`/m/${name}`));
    }
    await outcome("carol addAuth x509", () => c.addAuth("x509", ""));
    await outcome("carol whoAmI after addAuth", () => who(c));
  } finally {
    await Promise.all(clients.map((zk) => zk.close()));
  }
  return record;
}

describe("x509 ACLs: zkts and Apache ZooKeeper agree", { skip: apacheZooKeeperSkip() }, () => {
  it("records the same outcomes on both", async () => {
    const certs = await sharedCertificates();
    const [zkts, apache] = await Promise.all([
      startZktsTls(certs, "need"),
      startApacheTls(certs, "need"),
    ]);
    try {
      const expected = await x509Steps(apache.address, certs);
      const actual = await x509Steps(zkts.address, certs);
      assert.deepEqual(actual, expected);
      // And the record says something: the certificate it names reads, another does not.
      assert.ok(expected.includes("alice reads /acl-0: ok"), expected.join("\n"));
      assert.ok(expected.includes("carol reads /acl-0: NoAuthError"), expected.join("\n"));
      assert.ok(expected.includes("carol reads /acl-8: ok"), expected.join("\n"));
    } finally {
      await Promise.all([zkts.close(), apache.close()]);
    }
  });
});

/**
 * Apache ZooKeeper's own Java client (ZooKeeperMain over ClientCnxnSocketNetty, with
 * zookeeper.client.secure=true and its ssl.* properties: a PKCS#12 keystore and a keytool JKS
 * truststore) against zkts's TLS port: a real ZooKeeper client's TLS, hostname verification
 * included, is what the server must satisfy.
 */
describe("Apache ZooKeeper's Java client against zkts over TLS", {
  skip: apacheZooKeeperSkip(),
}, () => {
  it("connects with its certificate, writes, reads, and is named x509:<subject>", async () => {
    const certs = await sharedCertificates();
    const server = await startZktsTls(certs, "need");
    try {
      const alice = certs.clients.alice;
      const stdout = await runZooKeeperMain(
        server.address,
        "create /java-tls hello\nget /java-tls\nwhoami\nquit\n",
        {
          systemProperties: [
            "-Dzookeeper.client.secure=true",
            "-Dzookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty",
            `-Dzookeeper.ssl.keyStore.location=${alice.p12File}`,
            `-Dzookeeper.ssl.keyStore.password=${STORE_PASSWORD}`,
            "-Dzookeeper.ssl.keyStore.type=PKCS12",
            `-Dzookeeper.ssl.trustStore.location=${certs.caJksFile}`,
            `-Dzookeeper.ssl.trustStore.password=${STORE_PASSWORD}`,
            "-Dzookeeper.ssl.trustStore.type=JKS",
          ],
          // ClientCnxnSocketNetty also needs netty-resolver.
          classpath: [NETTY_CODEC_JAR, "/usr/share/java/netty-resolver.jar"],
        },
      );
      assert.match(stdout, /Created \/java-tls/);
      assert.match(stdout, /^hello$/m);
      assert.match(stdout, new RegExp(`^x509: ${escapeRegExp(alice.subject)}$`, "m"));
    } finally {
      await server.close();
    }
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
