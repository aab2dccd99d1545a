/**
 * Four-letter words, zkts against Apache ZooKeeper 3.8 (the oracle).
 *
 * Method: both servers are put in the same state through our client (two sessions, ephemerals,
 * data, child, exists and persistent watches), then each word is sent to both over a raw socket
 * and the answers are compared by shape: the same lines or keys in the same order, with values
 * that must differ (versions, ports, times, latencies, packet counts, session ids) normalized,
 * and the values that follow from the state (node, watch, ephemeral, session and connection
 * counts; watch and ephemeral listings per session and per path; zxid advance) compared as
 * values. Session ids become the labels A and B. Words that change the server (crst, srst,
 * stmk) and extra connections come last, so that the state the earlier tests compare is the same.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { CreateMode, connect, type ZooKeeper } from "../../src/index.js";
import { ConnectRequest, Writer } from "../../src/jute/index.js";
import { type RunningServer, startServer } from "../../src/server/index.js";
import {
  apacheZooKeeperSkip,
  startZooKeeper,
  type ZooKeeperProcess,
} from "../harness/apache-zookeeper.js";
import {
  groups,
  INTEGER,
  JAVA_DOUBLE,
  label,
  linesOf,
  type Names,
  normalizeConnection,
  normalizeServerStats,
  pairs,
  parseDump,
  sections,
} from "./four-letter-words-text.js";

const HOST = "127.0.0.1";
const TICK_TIME_MS = 2000;
const ASK_TIMEOUT_MS = 5_000;

/** One server under test, as the words see it. */
interface Target {
  readonly name: "zookeeper" | "zkts";
  readonly port: number;
  readonly connectString: string;
  stop(): Promise<void>;
}

/** A server with the test's state in it; its session ids are labelled A and B. */
interface World extends Names {
  readonly target: Target;
  readonly a: ZooKeeper;
  readonly b: ZooKeeper;
}

function apacheTarget(zk: ZooKeeperProcess): Target {
  return {
    name: "zookeeper",
    port: zk.port,
    connectString: zk.connectString,
    stop: () => zk.stop(),
  };
}

function zktsTarget(server: RunningServer, dataDir: string): Target {
  return {
    name: "zkts",
    port: server.port,
    connectString: server.address,
    stop: async () => {
      await server.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

async function startZkts(whitelist: readonly string[] | "*"): Promise<Target> {
  const dataDir = await mkdtemp(join(tmpdir(), "zkts-4lw-"));
  const server = await startServer({
    clientPort: 0,
    clientPortAddress: HOST,
    fourLetterWordsWhitelist: whitelist,
    tickTime: TICK_TIME_MS,
    maxClientCnxns: 0,
    dataDir,
  });
  return zktsTarget(server, dataDir);
}

/**
 * Sends `bytes` as the first bytes of a new connection and resolves with everything received
 * until the server closes it (a reset after the answer counts as a close).
 */
function ask(port: number, bytes: string | Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = net.connect({ host: HOST, port });
    socket.setTimeout(ASK_TIMEOUT_MS, () =>
      socket.destroy(new Error(`no close within ${ASK_TIMEOUT_MS} ms after ${String(bytes)}`)),
    );
    socket.on("connect", () => socket.write(bytes));
    socket.on("data", (chunk) => chunks.push(chunk));
    socket.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code !== "ECONNRESET") reject(error);
    });
    socket.on("close", () => resolve(Buffer.concat(chunks).toString("utf8")));
  });
}

const hex = (id: bigint) => `0x${BigInt.asUintN(64, id).toString(16)}`;

function zxidOf(srvr: string): bigint {
  const zxid = /^Zxid: (0x[0-9a-f]+)$/m.exec(srvr)?.[1];
  assert.ok(zxid, `no Zxid line in ${srvr}`);
  return BigInt(zxid);
}

/** The same state on either server: the same requests, from two sessions. */
async function makeWorld(target: Target): Promise<World> {
  const baseZxid = zxidOf(await ask(target.port, "srvr"));
  const a = await connect(target.connectString);
  const b = await connect(target.connectString);
  const ignore = () => {};
  await a.create("/app", "hello");
  await a.create("/app/e1", "x", { mode: CreateMode.EPHEMERAL });
  await b.create("/app/e2", "yy", { mode: CreateMode.EPHEMERAL });
  await a.create("/app/blob", Buffer.alloc(100, 7));
  await a.create("/other", "ü-data");
  await a.getData("/app", { watch: ignore });
  await b.getData("/app", { watch: ignore });
  await b.getChildren("/app", { watch: ignore });
  // A child watch only: counted in zk_watch_count, listed by no watch word.
  await a.getChildren("/", { watch: ignore });
  await b.exists("/nope", { watch: ignore });
  // Persistent and persistent-recursive: a data and a child watch each (in ZooKeeper 3.8).
  await a.addWatch("/app/e1");
  await b.addWatch("/other", { recursive: true });
  await a.getData("/other", { watch: ignore });
  const labels = new Map([
    [hex(a.sessionId), "A"],
    [hex(b.sessionId), "B"],
  ]);
  return { target, a, b, labels, baseZxid };
}

async function closeWorld(world: World | undefined): Promise<void> {
  if (world === undefined) return;
  await Promise.all([world.a.close(), world.b.close()]);
}

/** Asks both servers the same word. */
async function both(worlds: readonly World[], word: string | Buffer): Promise<string[]> {
  return Promise.all(worlds.map((world) => ask(world.target.port, word)));
}

describe("four-letter words against Apache ZooKeeper", { skip: apacheZooKeeperSkip() }, () => {
  const worlds: World[] = [];
  const targets: Target[] = [];

  before(async () => {
    targets.push(
      apacheTarget(await startZooKeeper({ tickTimeMs: TICK_TIME_MS })),
      await startZkts("*"),
    );
    for (const target of targets) worlds.push(await makeWorld(target));
  });

  after(async () => {
    for (const world of worlds) await closeWorld(world);
    await Promise.all(targets.map((target) => target.stop()));
  });

  test("ruok and isro answer imok and rw", async () => {
    assert.deepEqual(await both(worlds, "ruok"), ["imok", "imok"]);
    assert.deepEqual(await both(worlds, "isro"), ["rw", "rw"]);
  });

  test("srvr: the same lines; connections, node count, mode and zxid advance agree", async () => {
    const replies = await both(worlds, "srvr");
    const [expected, actual] = worlds.map((world, i) => normalizeServerStats(world, replies[i]!));
    assert.deepEqual(actual, expected);
    assert.ok(expected?.includes("Connections: 3"), replies[0]);
    assert.ok(expected?.includes("Mode: standalone"), replies[0]);
  });

  test("stat: the connections (the asking one too), then srvr's lines", async () => {
    const replies = await both(worlds, "stat");
    const [expected, actual] = worlds.map((world, i) => {
      const [clients, stats] = sections(replies[i]!);
      const connections = clients.map((line) => normalizeConnection(world, line)).sort();
      return { connections, stats: normalizeServerStats(world, stats.join("\n")) };
    });
    assert.deepEqual(actual, expected);
    assert.equal(expected?.connections.length, 3);
  });

  test("cons: each connection's session, last op, timeout and cxid agree", async () => {
    const replies = await both(worlds, "cons");
    for (const reply of replies) assert.ok(reply.endsWith(")\n\n"), JSON.stringify(reply));
    const [expected, actual] = worlds.map((world, i) =>
      linesOf(replies[i]!.slice(0, -2))
        .map((line) => normalizeConnection(world, line))
        .sort(),
    );
    assert.deepEqual(actual, expected);
    assert.equal(expected?.filter((line) => /sid=A,lop=GETD,/.test(line)).length, 1);
    assert.equal(expected?.filter((line) => /sid=B,lop=ADDW,/.test(line)).length, 1);
  });

  test("mntr: ZooKeeper's gauges in its order; the state's figures agree", async () => {
    const replies = await both(worlds, "mntr");
    const [expected = [], actual = []] = replies.map((reply) => pairs(reply, "\t"));
    const keys = actual.map(([key]) => key);
    const gauges = keys.slice(0, 26);
    assert.deepEqual(
      gauges,
      expected.slice(0, gauges.length).map(([key]) => key),
    );
    assert.equal(gauges.at(-1), "zk_non_mtls_local_conn_count");
    // Then the ServerMetrics summaries zkts measures (it keeps a data dir here), in the order
    // ZooKeeper prints them among its others; the advanced ones with their percentiles.
    const basic = ["avg", "min", "max", "cnt", "sum"];
    const advanced = [...basic, "p50", "p95", "p99", "p999"];
    const summaries = [
      ...["fsynctime", "snapshottime"].flatMap((name) => basic.map((s) => `zk_${s}_${name}`)),
      ...["updatelatency", "readlatency"].flatMap((name) => advanced.map((s) => `zk_${s}_${name}`)),
    ];
    assert.deepEqual(keys.slice(26), summaries);
    const zkKeys = expected.map(([key]) => key);
    const at = summaries.map((key) => zkKeys.indexOf(key));
    assert.ok(
      at.every((i, n) => i >= 26 && (n === 0 || i > (at[n - 1] as number))),
      `${at}`,
    );
    const zk = new Map(expected);
    const ours = new Map(actual);
    const stateKeys = [
      "zk_server_state",
      "zk_ephemerals_count",
      "zk_num_alive_connections",
      "zk_outstanding_requests",
      "zk_znode_count",
      "zk_global_sessions",
      "zk_non_mtls_remote_conn_count",
      "zk_connection_drop_probability",
      "zk_watch_count",
      "zk_auth_failed_count",
      "zk_approximate_data_size",
      "zk_local_sessions",
      "zk_outstanding_tls_handshake",
      "zk_non_mtls_local_conn_count",
    ];
    for (const key of stateKeys) assert.equal(ours.get(key), zk.get(key), key);
    for (const [key, value] of actual) {
      if (key === "zk_version" || stateKeys.includes(key)) continue;
      assert.match(value, key.startsWith("zk_avg_") ? JAVA_DOUBLE : INTEGER, key);
      if (summaries.includes(key))
        assert.match(zk.get(key) ?? "", key.startsWith("zk_avg_") ? JAVA_DOUBLE : INTEGER, key);
    }
  });

  test("conf: the same keys; settings agree, the port is each server's own", async () => {
    const replies = await both(worlds, "conf");
    const [expected, actual] = worlds.map((world, i) =>
      pairs(replies[i]!, "=").map(([key, value]) => {
        if (key === "clientPort") {
          assert.equal(value, String(world.target.port));
          return [key, "<port>"];
        }
        if (key === "dataDir" || key === "dataLogDir") {
          assert.match(value, /^\/.*\/version-2$/, `${world.target.name} ${key}`);
          return [key, "<dir>"];
        }
        if (key === "dataDirSize" || key === "dataLogSize") {
          assert.match(value, INTEGER);
          return [key, "<size>"];
        }
        return [key, value];
      }),
    );
    assert.deepEqual(actual, expected);
  });

  test("envi: the same keys in the same order; the OS and user figures agree", async () => {
    const replies = await both(worlds, "envi");
    for (const reply of replies) assert.ok(reply.startsWith("Environment:\n"), reply);
    const [expected = [], actual = []] = replies.map((reply) =>
      pairs(reply.slice("Environment:\n".length), "="),
    );
    assert.deepEqual(
      actual.map(([key]) => key),
      expected.map(([key]) => key),
    );
    const zk = new Map(expected);
    for (const [key, value] of actual) {
      if (["os.name", "os.arch", "os.version", "user.name", "user.home"].includes(key)) {
        assert.equal(value, zk.get(key), key);
      } else if (key.startsWith("os.memory.")) {
        assert.match(value, /^\d+MB$/, key);
        assert.match(zk.get(key) ?? "", /^\d+MB$/, key);
      }
    }
  });

  test("wchs: connections, paths and data watches agree", async () => {
    const [expected, actual] = await both(worlds, "wchs");
    assert.equal(actual, expected);
    assert.equal(expected, "2 connections watching 4 paths\nTotal watches:6\n");
  });

  test("wchc: each session's data watches agree", async () => {
    const replies = await both(worlds, "wchc");
    const [expected, actual] = worlds.map((world, i) => groups(world, replies[i]!));
    assert.deepEqual(actual, expected);
    assert.deepEqual(
      expected,
      new Map([
        ["A", ["/app", "/app/e1", "/other"]],
        ["B", ["/app", "/nope", "/other"]],
      ]),
    );
  });

  test("wchp: each path's watching sessions agree", async () => {
    const replies = await both(worlds, "wchp");
    const [expected, actual] = worlds.map((world, i) => groups(world, replies[i]!));
    assert.deepEqual(actual, expected);
    assert.deepEqual([...(expected?.keys() ?? [])], ["/app", "/app/e1", "/nope", "/other"]);
  });

  test("dump: sessions, ephemerals by session and connections agree", async () => {
    const replies = await both(worlds, "dump");
    const [expected, actual] = worlds.map((world, i) => parseDump(world, replies[i]!));
    assert.deepEqual(actual, expected);
    assert.deepEqual(expected?.sessions, ["A", "B"]);
    assert.deepEqual(
      expected?.ephemerals,
      new Map([
        ["A", ["/app/e1"]],
        ["B", ["/app/e2"]],
      ]),
    );
  });

  test("dirs: the two sizes", async () => {
    for (const reply of await both(worlds, "dirs")) {
      assert.match(reply, /^datadir_size: \d+\nlogdir_size: \d+\n$/);
    }
  });

  test("hash: no digest logged yet (ZooKeeper logs one every 128 txns)", async () => {
    assert.deepEqual(await both(worlds, "hash"), ["", ""]);
  });

  test("an unknown first four bytes are no word: read as a frame length, then closed", async () => {
    // "xyzw" is a length far past jute.maxbuffer: both close without a word.
    assert.deepEqual(await both(worlds, "xyzw"), ["", ""]);
  });

  test("telnet's close sequence, whitelisted by *, is closed without an answer", async () => {
    assert.deepEqual(await both(worlds, Buffer.from([0xff, 0xf4, 0xff, 0xfd])), ["", ""]);
  });

  test("gtmk and stmk: the trace mask, set from the 8 bytes after stmk", async () => {
    assert.deepEqual(await both(worlds, "gtmk"), ["306", "306"]);
    const mask = Buffer.alloc(12);
    mask.write("stmk", "latin1");
    mask.writeBigInt64BE(0x1ffn, 4);
    assert.deepEqual(await both(worlds, mask), ["511", "511"]);
    assert.deepEqual(await both(worlds, "gtmk"), ["511", "511"]);
    mask.writeBigInt64BE(306n, 4);
    assert.deepEqual(await both(worlds, mask), ["306", "306"]);
    // Without its argument stmk gets no answer.
    assert.deepEqual(await both(worlds, "stmk"), ["", ""]);
  });

  test("a connection without a session is listed by stat, cons, dump and counted", async () => {
    const idle = await Promise.all(worlds.map((world) => openIdle(world.target.port)));
    try {
      // ZooKeeper hands an accepted socket to a selector thread: wait until it is registered.
      const idleLine = " /127.0.0.1:<port>[1](queued=0,recved=<n>,sent=<n>)";
      for (const world of worlds) {
        await eventually(async () => {
          const reply = await ask(world.target.port, "cons");
          const lines = linesOf(reply.slice(0, -2)).map((l) => normalizeConnection(world, l));
          assert.equal(lines.filter((line) => line === idleLine).length, 1, reply);
        });
      }
      const dumps = await both(worlds, "dump");
      const [expected, actual] = worlds.map((world, i) => parseDump(world, dumps[i]!));
      assert.deepEqual(actual?.connections, expected?.connections);
      assert.equal(expected?.connections.filter((c) => c.endsWith("0x0")).length, 2);
      const counts = (await both(worlds, "mntr")).map(
        (reply) => /^zk_num_alive_connections\t(\d+)$/m.exec(reply)?.[1],
      );
      assert.deepEqual(counts, ["4", "4"]);
    } finally {
      for (const socket of idle) socket.destroy();
    }
  });

  test("crst: every connection's figures are reset", async () => {
    assert.deepEqual(await both(worlds, "crst"), [
      "Connection stats reset.\n",
      "Connection stats reset.\n",
    ]);
    const replies = await both(worlds, "cons");
    const [expected, actual] = worlds.map((world, i) =>
      linesOf(label(world, replies[i]!.slice(0, -2)))
        .map((line) => line.replace(/:\d+\[/, ":<port>[").replace(/est=\d+/, "est=<t>"))
        .sort(),
    );
    assert.deepEqual(actual, expected);
    assert.ok(
      expected?.includes(
        " /127.0.0.1:<port>[1](queued=0,recved=0,sent=0,sid=A,lop=NA,est=<t>,to=30000," +
          "lzxid=0xffffffffffffffff,lresp=0,llat=0,minlat=0,avglat=0,maxlat=0)",
      ),
      expected?.join("\n"),
    );
  });

  test("srst: the server's figures are reset; srst's answer and srvr itself count again", async () => {
    assert.deepEqual(await both(worlds, "srst"), [
      "Server stats reset.\n",
      "Server stats reset.\n",
    ]);
    const replies = await both(worlds, "srvr");
    const [expected, actual] = replies.map((reply) =>
      linesOf(reply).filter((line) => /^(Latency|Received|Sent)/.test(line)),
    );
    assert.deepEqual(actual, expected);
    assert.deepEqual(expected, ["Latency min/avg/max: 0/0.0/0", "Received: 1", "Sent: 1"]);
  });

  test("a handshake's first four bytes are a frame length, not a word", async () => {
    const replies = await Promise.all(worlds.map((world) => handshake(world.target.port)));
    for (const reply of replies) {
      assert.equal(reply.readInt32BE(0), reply.length - 4, "one length-prefixed frame");
      assert.equal(reply.readInt32BE(4), 0, "ConnectResponse.protocolVersion");
      assert.equal(reply.readInt32BE(8), 30_000, "ConnectResponse.timeOut");
    }
  });
});

describe("four-letter words: the whitelist", { skip: apacheZooKeeperSkip() }, () => {
  const targets: Target[] = [];

  before(async () => {
    targets.push(
      apacheTarget(
        await startZooKeeper({
          tickTimeMs: TICK_TIME_MS,
          extraConfig: { "4lw.commands.whitelist": "ruok, cons" },
        }),
      ),
      await startZkts(["ruok", "cons"]),
    );
  });

  after(() => Promise.all(targets.map((target) => target.stop())));

  const ask2 = (word: string | Buffer) =>
    Promise.all(targets.map((target) => ask(target.port, word)));

  test("a word not on the list gets ZooKeeper's refusal on both", async () => {
    for (const word of ["stat", "mntr", "wchs", "dump", "envi", "isro", "crst", "hash"]) {
      const refusal = `${word} is not executed because it is not in the whitelist.\n`;
      assert.deepEqual(await ask2(word), [refusal, refusal], word);
    }
    const telnet = "telnet close is not executed because it is not in the whitelist.\n";
    assert.deepEqual(await ask2(Buffer.from([0xff, 0xf4, 0xff, 0xfd])), [telnet, telnet]);
  });

  test("listed words answer, and srvr always does", async () => {
    assert.deepEqual(await ask2("ruok"), ["imok", "imok"]);
    for (const reply of await ask2("srvr")) assert.match(reply, /^Zookeeper version: /);
    for (const reply of await ask2("cons")) assert.match(reply, /^ \/127\.0\.0\.1:\d+\[0\]/);
  });

  test("an unknown word is no word: the connection is closed without a refusal", async () => {
    assert.deepEqual(await ask2("abcd"), ["", ""]);
  });
});

/** Retries `check` until it passes, for at most ~2 s. */
async function eventually(check: () => Promise<void>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await check();
    } catch (error) {
      if (attempt >= 40) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/** A connection that has sent nothing (no handshake yet); resolves once connected. */
function openIdle(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: HOST, port }, () => resolve(socket));
    socket.once("error", reject);
  });
}

/** A raw ConnectRequest for a new session; resolves with the bytes of the answer. */
function handshake(port: number): Promise<Buffer> {
  const w = new Writer(64);
  const at = w.reserveInt();
  ConnectRequest.write(w, {
    protocolVersion: 0,
    lastZxidSeen: 0n,
    timeOut: 30_000,
    sessionId: 0n,
    passwd: Buffer.alloc(16),
    readOnly: false,
  });
  w.patchInt(at, w.length - at - 4);
  const request = w.take();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = net.connect({ host: HOST, port }, () => socket.write(request));
    socket.setTimeout(ASK_TIMEOUT_MS, () => socket.destroy(new Error("no ConnectResponse")));
    socket.on("data", (chunk) => {
      chunks.push(chunk);
      const bytes = Buffer.concat(chunks);
      if (bytes.length >= 4 && bytes.length >= bytes.readInt32BE(0) + 4) {
        socket.destroy();
        resolve(bytes);
      }
    });
    socket.on("error", reject);
  });
}
