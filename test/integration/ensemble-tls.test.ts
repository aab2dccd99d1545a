/**
 * TLS between the servers of a zkts ensemble (sslQuorum, ssl.quorum.*, portUnification), on
 * real processes:
 *
 * - with sslQuorum the ensemble elects and replicates over TLS links, and a server whose
 *   certificate the others do not trust never joins until it has one they do; a plain
 *   connection to a quorum port is dropped without a word;
 * - ZooKeeper's rolling upgrade works: a plain ensemble with portUnification on moves to
 *   sslQuorum one server at a time, then drops portUnification one server at a time, and
 *   takes writes at every step;
 * - the same zoo.cfg lines and PEM files bring up Apache ZooKeeper 3.8's ensemble over TLS,
 *   so one set of key material serves both.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import net from "node:net";
import { after, before, describe, test } from "node:test";
import { connect, type ZooKeeper } from "../../src/index.js";
import { encodeFrame } from "../../src/server/quorum/codec.js";
import {
  apacheZooKeeperSkip,
  startEnsemble as startApacheEnsemble,
} from "../harness/apache-zookeeper.js";
import { makePeerCertificates, type PeerCertificates } from "../harness/tls-certs.js";
import { NETTY_CODEC_JAR } from "../harness/tls-servers.js";
import { type Ensemble, startEnsemble } from "../harness/zkts-ensemble.js";

const HOST = "127.0.0.1";

describe("TLS between ensemble members", { timeout: 240_000 }, () => {
  let certs: PeerCertificates;
  const ensembles: Ensemble[] = [];
  const clients: ZooKeeper[] = [];
  before(async () => {
    certs = await makePeerCertificates();
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => {})));
    await Promise.all(ensembles.map((e) => e.stop()));
    await certs.remove();
  });

  const keyMaterial = (key = certs.peer.pemFile) => ({
    "ssl.quorum.keyStore.location": key,
    "ssl.quorum.trustStore.location": certs.caFile,
  });

  async function client(e: Ensemble, ids: readonly number[]): Promise<ZooKeeper> {
    const zk = await connect(e.connectString(ids));
    clients.push(zk);
    return zk;
  }

  /** The fields of server `id`'s "quorum links" log lines (what it connects and accepts). */
  const links = (e: Ensemble, id: number) =>
    e.logLines(id, /^quorum links$/).map(({ connect, accept }) => ({ connect, accept }));

  /**
   * Resolves once the server that owns `port` has dropped a connection that sent `bytes`,
   * with what it answered (hex).
   */
  async function dropped(port: number, bytes: Buffer): Promise<string> {
    const socket = net.connect({ host: HOST, port });
    await once(socket, "connect");
    let answer = "";
    socket.on("data", (chunk: Buffer) => {
      answer += chunk.toString("hex");
    });
    socket.on("error", () => {});
    socket.write(bytes);
    await once(socket, "close", { signal: AbortSignal.timeout(10_000) });
    return answer;
  }

  test("sslQuorum: elects and replicates over TLS, and lets in only trusted peers", async () => {
    // Three voters and an observer (server 4), which learns over the same TLS links.
    const e = await startEnsemble({
      observers: 1,
      config: { sslQuorum: "true", ...keyMaterial() },
    });
    ensembles.push(e);
    for (const m of e.members) {
      assert.deepEqual(links(e, m.id), [{ connect: "tls", accept: "tls" }]);
    }
    const leader = await e.leader();
    const [follower, other] = [1, 2, 3].filter((id) => id !== leader) as [number, number];
    const onFollower = await client(e, [follower]);
    await onFollower.create("/tls", "over tls");
    for (const id of [other, 4]) {
      const reader = await client(e, [id]);
      await reader.sync("/tls");
      assert.equal((await reader.getData("/tls")).data?.toString(), "over tls");
    }

    // A plain connection that claims to be a follower is dropped: nothing answers it.
    const hello = encodeFrame({ id: follower });
    assert.equal(await dropped(e.member(leader).quorumPort, hello), "");
    assert.equal(await dropped(e.member(leader).electionPort, hello), "");

    // Server `other` comes back with a certificate from a CA the ensemble does not trust:
    // the others refuse it, and it does not serve.
    await e.kill(other);
    e.configure(other, keyMaterial(certs.stranger.pemFile));
    const refusalsBefore = e.logLines(leader, /^quorum TLS refused$/).length;
    await e.restart(other);
    await waitFor(() => e.logLines(leader, /^quorum TLS refused$/).length > refusalsBefore);
    const refusal = e.logLines(leader, /^quorum TLS refused$/).at(-1);
    assert.match(
      String(refusal?.reason),
      /^untrusted certificate: UNABLE_TO_VERIFY_LEAF_SIGNATURE/,
    );
    assert.notEqual(await e.mode(other), "follower");
    await onFollower.setData("/tls", "two of three"); // the quorum of two still writes

    // With a certificate the CA signed, it joins and catches up.
    await e.kill(other);
    e.configure(other, keyMaterial());
    await e.restart(other);
    await e.waitServing([1, 2, 3, 4]);
    const back = await client(e, [other]);
    await back.sync("/tls");
    assert.equal((await back.getData("/tls")).data?.toString(), "two of three");
    await e.stop();
  });

  test("rolling upgrade: plain to TLS through portUnification, writing at every step", async () => {
    const e = await startEnsemble({ config: { portUnification: "true", ...keyMaterial() } });
    ensembles.push(e);
    const writer = await client(e, [1, 2, 3]);
    let step = 0;
    const restartWith = async (id: number, settings: Record<string, string | undefined>) => {
      await e.kill(id);
      e.configure(id, settings);
      await e.restart(id);
      await e.waitServing([1, 2, 3]);
      await writer.create(`/step-${++step}`, `server ${id}`);
    };
    // Servers that connect over TLS and servers that connect in plain serve together.
    for (const id of [1, 2, 3]) await restartWith(id, { sslQuorum: "true" });
    for (const id of [1, 2, 3]) await restartWith(id, { portUnification: undefined });
    for (const m of e.members) {
      assert.deepEqual(links(e, m.id).at(-1), { connect: "tls", accept: "tls" });
    }
    const reader = await client(e, [(await e.leader()) === 1 ? 2 : 1]);
    await reader.sync("/");
    const children = (await reader.getChildren("/")).filter((name) => name.startsWith("step-"));
    assert.deepEqual(children.sort(), ["step-1", "step-2", "step-3", "step-4", "step-5", "step-6"]);
    // And now a plain peer is no longer accepted.
    const leader = await e.leader();
    assert.equal(await dropped(e.member(leader).quorumPort, encodeFrame({ id: 1 })), "");
  });
});

describe("the same sslQuorum lines on Apache ZooKeeper", {
  skip: apacheZooKeeperSkip(),
  timeout: 120_000,
}, () => {
  test("its ensemble forms over TLS with our PEM key material, and serves a write", async () => {
    const certs = await makePeerCertificates();
    const apache = await startApacheEnsemble({
      size: 3,
      // Without netty-codec (Debian's zookeeper.jar leaves it off its classpath) ZooKeeper's
      // election listener stopped at the first TLS peer, logging no exception.
      classpath: [NETTY_CODEC_JAR],
      extraConfig: {
        sslQuorum: "true",
        "ssl.quorum.keyStore.location": certs.peer.pemFile,
        "ssl.quorum.keyStore.type": "PEM",
        "ssl.quorum.trustStore.location": certs.caFile,
        "ssl.quorum.trustStore.type": "PEM",
      },
    });
    try {
      const leader = await apache.leader();
      const zk = await connect(apache.connectString);
      try {
        await zk.create("/tls", "apache");
        assert.equal((await zk.getData("/tls")).data?.toString(), "apache");
      } finally {
        await zk.close();
      }
      const log = readFileSync(leader.logFile, "utf8");
      assert.match(log, /Using TLS encrypted quorum communication/);
      assert.match(log, /Creating TLS-only quorum server socket/);
    } finally {
      await apache.stop();
      await certs.remove();
    }
  });
});

/** Polls `condition` every 50 ms for at most 20 s. */
async function waitFor(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in 20 s");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
