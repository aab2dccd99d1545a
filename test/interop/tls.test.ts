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
import { after, before, describe, it } from "node:test";
import tls from "node:tls";
import {
  connect,
  NoAuthError,
  OPEN_ACL_UNSAFE,
  Perms,
  type SecureOptions,
  type ZooKeeper,
} from "../../src/index.js";
import { createLogger, startServer } from "../../src/server/index.js";
import {
  apacheZooKeeperSkip,
  startZooKeeper,
  type ZooKeeperProcess,
} from "../harness/apache-zookeeper.js";
import { freePorts } from "../harness/free-ports.js";
import { findInstallation } from "../harness/installation.js";
import {
  type Certificates,
  type KeyPair,
  makeCertificates,
  STORE_PASSWORD,
} from "../harness/tls-certs.js";

const NETTY_CODEC_JAR = "/usr/share/java/netty-codec.jar";

/** A refused connect is retried until this passes; short, since refusals are what we test. */
const REFUSED_WITHIN_MS = 1_000;

interface SecureTarget {
  /** host:port of the TLS port. */
  readonly address: string;
  readonly port: number;
  close(): Promise<void>;
}

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
  const installation = findInstallation();
  const keytool =
    "installation" in installation
      ? installation.installation.java.replace(/java$/, "keytool")
      : undefined;
  certificates ??= makeCertificates(keytool === undefined ? {} : { keytool });
  return certificates;
}
after(async () => {
  await (await certificates)?.remove();
});

async function startZktsTls(
  certs: Certificates,
  clientAuth: "need" | "want",
): Promise<SecureTarget> {
  const keyStore =
    clientAuth === "need"
      ? { sslKeyStoreLocation: certs.server.pemFile }
      : { sslKeyStoreLocation: certs.server.p12File, sslKeyStorePassword: STORE_PASSWORD };
  const server = await startServer(
    {
      clientPort: null,
      secureClientPort: 0,
      secureClientPortAddress: "127.0.0.1",
      ...keyStore,
      sslTrustStoreLocation: certs.caFile,
      sslClientAuth: clientAuth,
      fourLetterWordsWhitelist: "*",
    },
    createLogger("silent"),
  );
  assert.equal(server.address, server.secureAddress, "TLS only: the address is the TLS port's");
  return {
    address: server.secureAddress as string,
    port: server.securePort as number,
    close: () => server.close(),
  };
}

async function startApacheTls(
  certs: Certificates,
  clientAuth: "need" | "want",
): Promise<SecureTarget> {
  const [securePort] = await freePorts(1);
  const zk: ZooKeeperProcess = await startZooKeeper({
    // Netty's SslHandler needs netty-codec, which zookeeper.jar's manifest leaves out.
    classpath: [NETTY_CODEC_JAR],
    systemProperties: {
      "zookeeper.serverCnxnFactory": "org.apache.zookeeper.server.NettyServerCnxnFactory",
    },
    extraConfig: {
      secureClientPort: String(securePort),
      "ssl.keyStore.location": certs.server.p12File,
      "ssl.keyStore.password": STORE_PASSWORD,
      "ssl.keyStore.type": "PKCS12",
      "ssl.trustStore.location": certs.caJksFile as string,
      "ssl.trustStore.password": STORE_PASSWORD,
      "ssl.trustStore.type": "JKS",
      "ssl.clientAuth": clientAuth,
      "authProvider.x509": "org.apache.zookeeper.server.auth.X509AuthenticationProvider",
    },
  });
  return {
    address: `127.0.0.1:${securePort}`,
    port: securePort!,
    close: () => zk.stop(),
  };
}

needChecks("zkts", (certs) => startZktsTls(certs, "need"));
wantChecks("zkts", (certs) => startZktsTls(certs, "want"));

describe("Apache ZooKeeper (Netty)", { skip: apacheZooKeeperSkip() }, () => {
  needChecks("Apache ZooKeeper", (certs) => startApacheTls(certs, "need"));
  wantChecks("Apache ZooKeeper", (certs) => startApacheTls(certs, "want"));
});
