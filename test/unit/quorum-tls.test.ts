/**
 * TLS between ensemble members, below the ensemble: the ssl.quorum.* settings as ZooKeeper
 * reads them, and the sockets quorum-sockets.ts hands the quorum transport — who is let in
 * (truststore, hostname verification, clientAuth), and portUnification telling TLS from plain
 * by the first byte. Real sockets on 127.0.0.1, certificates made with openssl per run.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import net from "node:net";
import { after, before, describe, test } from "node:test";
import tls from "node:tls";
import { createLogger } from "../../src/server/logger.js";
import { quorumSockets } from "../../src/server/quorum/quorum-sockets.js";
import { type QuorumTlsSettings, resolveQuorumTls } from "../../src/server/quorum/quorum-tls.js";
import { makePeerCertificates, type PeerCertificates } from "../harness/tls-certs.js";

const HOST = "127.0.0.1";

describe("ssl.quorum.* settings", () => {
  const resolve = (entries: Record<string, string>) =>
    resolveQuorumTls(new Map(Object.entries(entries)));

  test("plain links unless sslQuorum or portUnification is true (Java's parseBoolean)", () => {
    assert.equal(resolve({}), undefined);
    assert.equal(resolve({ sslQuorum: "false", portUnification: "no" }), undefined);
    assert.equal(resolve({ sslQuorum: "yes", "ssl.quorum.keyStore.location": "k.pem" }), undefined);
    const settings = resolve({ sslQuorum: " TRUE ", "ssl.quorum.keyStore.location": "k.pem" });
    assert.equal(settings?.sslQuorum, true);
    assert.equal(settings?.portUnification, false);
  });

  test("defaults: hostname verification on, client certificates needed, 5 s detection", () => {
    const settings = resolve({
      sslQuorum: "true",
      "zookeeper.ssl.quorum.keyStore.location": "/etc/zk/peer.p12",
      "ssl.quorum.trustStore.location": "/etc/zk/ca.pem",
    });
    assert.deepEqual(settings?.keyStore, {
      location: "/etc/zk/peer.p12",
      password: undefined,
      type: "PKCS12",
    });
    assert.equal(settings?.trustStore?.type, "PEM");
    assert.equal(settings?.hostnameVerification, true);
    assert.equal(settings?.clientAuth, "need");
    assert.equal(settings?.handshakeDetectionTimeoutMs, 5000);
    assert.deepEqual(settings?.unsupported, []);
  });

  test("refusals name the key", () => {
    assert.throws(
      () => resolve({ sslQuorum: "true" }),
      /ssl\.quorum\.keyStore\.location must be set/,
    );
    assert.throws(
      () => resolve({ sslQuorum: "true", "ssl.quorum.keyStore.location": "peer.jks" }),
      /ssl\.quorum\.keyStore\.location peer\.jks: a Java KeyStore \(JKS\).*keytool -importkeystore/,
    );
    assert.throws(
      () =>
        resolve({
          sslQuorum: "true",
          "ssl.quorum.keyStore.location": "k.pem",
          "ssl.quorum.clientAuth": "sometimes",
        }),
      /ssl\.quorum\.clientAuth must be none, want or need, got "sometimes"/,
    );
    assert.throws(
      () =>
        resolve({
          portUnification: "true",
          "ssl.quorum.handshakeDetectionTimeoutMillis": "0",
        }),
      /handshakeDetectionTimeoutMillis must be a positive integer/,
    );
  });

  test("Java-only settings are named, not silently dropped", () => {
    const settings = resolve({
      sslQuorum: "true",
      "ssl.quorum.keyStore.location": "k.pem",
      "ssl.quorum.ciphersuites": "TLS_AES_128_GCM_SHA256",
      "ssl.quorum.enabledProtocols": "TLSv1.3",
    });
    assert.deepEqual(settings?.unsupported, [
      "ssl.quorum.enabledProtocols",
      "ssl.quorum.ciphersuites",
    ]);
  });
});

describe("quorum sockets", () => {
  let certs: PeerCertificates;
  before(async () => {
    certs = await makePeerCertificates();
  });
  after(() => certs.remove());

  const settings = (overrides: Partial<QuorumTlsSettings> = {}): QuorumTlsSettings => ({
    sslQuorum: true,
    portUnification: false,
    keyStore: { location: certs.peer.pemFile, password: undefined, type: "PEM" },
    trustStore: { location: certs.caFile, password: undefined, type: "PEM" },
    hostnameVerification: true,
    clientAuth: "need",
    handshakeDetectionTimeoutMs: 5000,
    unsupported: [],
    ...overrides,
  });

  /** A listener on a free port whose accepted peers echo what they read, and its log lines. */
  async function echoServer(tlsSettings: QuorumTlsSettings | undefined) {
    const lines: string[] = [];
    const sockets = quorumSockets(
      tlsSettings,
      createLogger("info", (line) => lines.push(line)),
    );
    const accepted: net.Socket[] = [];
    const server = await sockets.listen(HOST, 0, (socket) => {
      accepted.push(socket);
      socket.on("data", (chunk) => socket.write(chunk));
    });
    const port = (server.address() as net.AddressInfo).port;
    const close = () => {
      for (const s of accepted) s.destroy();
      server.close();
    };
    return { port, lines, accepted, close, sockets };
  }

  /** Sends `text` on a fresh link and resolves with the echo, or "closed" if it was refused. */
  async function roundTrip(socket: net.Socket, ready: Promise<unknown>, text: string) {
    const reply = new Promise<string>((resolve) => {
      let got = "";
      socket.on("data", (chunk) => {
        got += chunk.toString();
        if (got.length >= text.length) {
          resolve(got);
          socket.destroy();
        }
      });
      socket.on("close", () => resolve(got === "" ? "closed" : got));
      socket.on("error", () => {});
    });
    await ready.catch(() => {});
    if (!socket.destroyed) socket.write(text);
    return reply;
  }

  function connectTls(port: number, key: { pemFile: string } | undefined, options = {}) {
    const material =
      key === undefined ? {} : { key: readFileSync(key.pemFile), cert: readFileSync(key.pemFile) };
    const socket = tls.connect({
      host: HOST,
      port,
      ca: readFileSync(certs.caFile),
      ...material,
      ...options,
    });
    return { socket, ready: once(socket, "secureConnect") };
  }

  test("two TLS peers: frames cross, and the listener sees a TLS socket", async () => {
    const server = await echoServer(settings());
    try {
      const client = quorumSockets(settings(), createLogger("silent"));
      let onReady!: () => void;
      const ready = new Promise<void>((resolve) => {
        onReady = resolve;
      });
      const socket = client.connect(HOST, server.port, onReady);
      assert.equal(await roundTrip(socket, ready, "hello"), "hello");
      assert.ok(server.accepted[0] instanceof tls.TLSSocket);
    } finally {
      server.close();
    }
  });

  test("sslQuorum alone refuses plain peers, strangers and peers without a certificate", async () => {
    const server = await echoServer(settings());
    try {
      const plain = net.connect({ host: HOST, port: server.port });
      assert.equal(await roundTrip(plain, once(plain, "connect"), "hello"), "closed");
      const stranger = connectTls(server.port, certs.stranger, { rejectUnauthorized: false });
      assert.equal(await roundTrip(stranger.socket, stranger.ready, "hello"), "closed");
      const anonymous = connectTls(server.port, undefined);
      assert.equal(await roundTrip(anonymous.socket, anonymous.ready, "hello"), "closed");
      assert.equal(server.accepted.length, 0);
      const said = server.lines.join("");
      assert.match(said, /"plain quorum connection refused \(sslQuorum\)"/);
      assert.match(said, /"quorum TLS refused"/);
    } finally {
      server.close();
    }
  });

  test("hostname verification: a certificate that does not name the peer's address is refused", async () => {
    const server = await echoServer(settings());
    try {
      const elsewhere = connectTls(server.port, certs.elsewhere);
      assert.equal(await roundTrip(elsewhere.socket, elsewhere.ready, "hello"), "closed");
      assert.match(server.lines.join(""), /hostname verification/);
    } finally {
      server.close();
    }
    const lax = await echoServer(settings({ hostnameVerification: false }));
    try {
      const elsewhere = connectTls(lax.port, certs.elsewhere);
      assert.equal(await roundTrip(elsewhere.socket, elsewhere.ready, "hello"), "hello");
    } finally {
      lax.close();
    }
  });

  test("the connecting side checks the listener's certificate against the address it dials", async () => {
    const server = await echoServer(
      settings({
        hostnameVerification: false,
        keyStore: { location: certs.elsewhere.pemFile, password: undefined, type: "PEM" },
      }),
    );
    try {
      const strict = quorumSockets(settings(), createLogger("silent"));
      const refused = strict.connect(HOST, server.port, () => {});
      const [error] = (await once(refused, "error")) as [Error];
      assert.match(error.message, /altnames|IP: 127\.0\.0\.1 is not in the cert's list/);
      const lax = quorumSockets(settings({ hostnameVerification: false }), createLogger("silent"));
      let onReady!: () => void;
      const ready = new Promise<void>((resolve) => {
        onReady = resolve;
      });
      const socket = lax.connect(HOST, server.port, onReady);
      assert.equal(await roundTrip(socket, ready, "hello"), "hello");
    } finally {
      server.close();
    }
  });

  test("portUnification takes TLS and plain peers on one port, by the first byte", async () => {
    const server = await echoServer(settings({ sslQuorum: false, portUnification: true }));
    try {
      const plain = net.connect({ host: HOST, port: server.port });
      assert.equal(await roundTrip(plain, once(plain, "connect"), "plain hello"), "plain hello");
      const secure = connectTls(server.port, certs.peer);
      assert.equal(await roundTrip(secure.socket, secure.ready, "tls hello"), "tls hello");
      assert.deepEqual(
        server.accepted.map((s) => s instanceof tls.TLSSocket),
        [false, true],
      );
      const stranger = connectTls(server.port, certs.stranger, { rejectUnauthorized: false });
      assert.equal(await roundTrip(stranger.socket, stranger.ready, "hello"), "closed");
    } finally {
      server.close();
    }
  });

  test("portUnification closes a link that says nothing within the detection timeout", async () => {
    const server = await echoServer(
      settings({ portUnification: true, handshakeDetectionTimeoutMs: 50 }),
    );
    try {
      const silent = net.connect({ host: HOST, port: server.port });
      await once(silent, "connect");
      await once(silent, "close");
      assert.equal(server.accepted.length, 0);
    } finally {
      server.close();
    }
  });
});
