/**
 * Four-letter words without sockets or Apache ZooKeeper: Java's text conventions, the
 * whitelist, the packet counting and the stateful words, on a server core. The comparison with
 * Apache ZooKeeper itself is test/interop/four-letter-words.test.ts.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { resolveOptions } from "../../src/server/config.js";
import { newConnectionStats } from "../../src/server/connection.js";
import {
  type FourLetterConnection,
  fourLetterWord,
} from "../../src/server/four-letter-words/index.js";
import {
  average4,
  javaDate,
  javaDouble,
  javaHex,
  javaSocketAddress,
} from "../../src/server/four-letter-words/java-text.js";
import { createLogger } from "../../src/server/logger.js";
import type { ServerOptions } from "../../src/server/options.js";
import { ZooKeeperServer } from "../../src/server/zookeeper-server.js";

describe("four-letter words: Java's text", () => {
  test("doubles read as Double.toString", () => {
    assert.equal(javaDouble(7), "7.0");
    assert.equal(javaDouble(0), "0.0");
    assert.equal(javaDouble(0.4444), "0.4444");
    assert.equal(javaDouble(76.6667), "76.6667");
    assert.equal(javaDouble(0.0001), "1.0E-4");
    assert.equal(javaDouble(12_345_678.5), "1.23456785E7");
  });

  test("averages are rounded half-up to four decimals, 0 for none", () => {
    assert.equal(average4(51, 5), 10.2);
    assert.equal(average4(4, 9), 0.4444);
    assert.equal(average4(230, 3), 76.6667);
    assert.equal(average4(0, 0), 0);
  });

  test("longs in hex are two's complement; dates and addresses as Java prints them", () => {
    assert.equal(javaHex(-1n), "ffffffffffffffff");
    assert.equal(javaHex(0x1000025db920000n), "1000025db920000");
    assert.match(javaDate(Date.now()), /^\w{3} \w{3} \d{2} \d{2}:\d{2}:\d{2} \S+ \d{4}$/);
    assert.equal(javaSocketAddress("127.0.0.1:41902"), "/127.0.0.1:41902");
    assert.equal(javaSocketAddress("::1:2181"), "/0:0:0:0:0:0:0:1:2181");
    assert.equal(javaSocketAddress("fe80::a:1%eth0:5"), "/fe80:0:0:0:0:0:a:1%eth0:5");
  });
});

const silent = createLogger("silent");

function core(options: ServerOptions = {}): ZooKeeperServer {
  return new ZooKeeperServer(resolveOptions(options), silent);
}

function asker(): FourLetterConnection {
  return { sessionId: 0n, remote: "127.0.0.1:50000", stats: newConnectionStats(Date.now()) };
}

/** Asks `server` a word as a fresh connection that is the server's only one. */
function ask(server: ZooKeeperServer, word: string, rest?: Buffer): string | undefined {
  const self = asker();
  return fourLetterWord(word, {
    server,
    version: "3.8.0-test",
    clientPort: 2182,
    connections: [self],
    self,
    ...(rest !== undefined && { rest }),
  });
}

describe("four-letter words: the whitelist and the counters", () => {
  test("by default only srvr answers; the others get ZooKeeper's refusal", () => {
    const server = core();
    assert.match(ask(server, "srvr") ?? "", /^Zookeeper version: 3\.8\.0-test\n/);
    assert.equal(ask(server, "ruok"), "ruok is not executed because it is not in the whitelist.\n");
    assert.equal(
      ask(server, "\xff\xf4\xff\xfd"),
      "telnet close is not executed because it is not in the whitelist.\n",
    );
  });

  test("four bytes that are no word are left to the handshake, and not counted", () => {
    const server = core({ fourLetterWordsWhitelist: "*" });
    assert.equal(ask(server, "\0\0\0\x2d"), undefined);
    assert.equal(ask(server, "RUOK"), undefined);
    assert.equal(server.stats.packetsReceived, 0);
  });

  test("a word counts as a packet in; its answer as packets out, after it ran", () => {
    const server = core({ fourLetterWordsWhitelist: "*" });
    assert.match(ask(server, "srvr") ?? "", /^Received: 1\nSent: 0$/m);
    assert.match(ask(server, "srvr") ?? "", /^Received: 2\nSent: 1$/m);
    assert.equal(ask(server, "mntr")?.startsWith("zk_version\t3.8.0-test\n"), true);
    assert.equal(ask(server, "srst"), "Server stats reset.\n");
    assert.match(ask(server, "srvr") ?? "", /^Received: 1\nSent: 1$/m);
  });

  test("a fresh tree: ZooKeeper's node count (root twice) and data size", () => {
    const mntr = ask(core({ fourLetterWordsWhitelist: "*" }), "mntr") ?? "";
    assert.match(mntr, /^zk_znode_count\t5$/m);
    // "/" + "/zookeeper" + "/zookeeper/quota" + "/zookeeper/config", data all empty.
    assert.match(mntr, /^zk_approximate_data_size\t44$/m);
    assert.match(mntr, /^zk_last_client_response_size\t-1$/m);
  });

  test("stmk sets the mask gtmk reads, per server; without its 8 bytes, no answer", () => {
    const server = core({ fourLetterWordsWhitelist: ["gtmk", "stmk"] });
    assert.equal(ask(server, "gtmk"), "306");
    const mask = Buffer.alloc(8);
    mask.writeBigInt64BE(-2n);
    assert.equal(ask(server, "stmk", mask), "-2");
    assert.equal(ask(server, "gtmk"), "-2");
    assert.equal(ask(core({ fourLetterWordsWhitelist: "*" }), "gtmk"), "306");
    assert.equal(ask(server, "stmk", Buffer.alloc(7)), "");
  });

  test("conf shows the effective settings", () => {
    const conf = ask(core({ fourLetterWordsWhitelist: "*", tickTime: 500 }), "conf") ?? "";
    assert.match(conf, /^clientPort=2182\n/);
    assert.match(conf, /^tickTime=500\nmaxClientCnxns=60\nminSessionTimeout=1000\n/m);
    assert.match(conf, /^maxSessionTimeout=10000\n/m);
  });
});
