/**
 * A failed SASL exchange, differential (issue 9): what the client sees and what becomes of its
 * connection and session, on Apache ZooKeeper 3.8 and on zkts, with and without
 * zookeeper.allowSaslFailedClients (and with it beside sessionRequireClientSASLAuth, which wins).
 *
 * Method: a bare session on a socket sends the two DIGEST-MD5 steps by hand (the second with a
 * wrong password, or for a user the JAAS file lacks), then a getData and a whoAmI; the record
 * of each answer (err, whether a token came), whether the socket closed, and whether the session
 * can still be resumed on a new socket must be the same on both servers. Also our client's own
 * view: connect() with a wrong password.
 *
 * And the sasl super user's two settings: zookeeper.SASLAuthenticationProvider.superPassword
 * (the password of the JAAS user "super") and zookeeper.superUser.N (a numbered superUser).
 */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { connect } from "../../src/index.js";
import { Reader } from "../../src/jute/index.js";
import { GetSASLRequest, SetSASLResponse, WhoAmIResponse } from "../../src/jute/records.js";
import { digestMd5Response } from "../../src/protocol/digest-md5.js";
import { OpCode } from "../../src/protocol/opcodes.js";
import { SASL_AUTHENTICATION_PROVIDER } from "../../src/server/sasl/settings.js";
import { startZooKeeper, type ZooKeeperProcess } from "../harness/apache-zookeeper.js";
import { apacheZooKeeperSkip } from "../harness/installation.js";
import { getDataFrame, RawSession, requestFrame } from "../harness/raw-session.js";
import { startZkts } from "../harness/zkts-server.js";
import { outcome } from "./acl-matrix.js";

/** A reply's header is xid, zxid, err: its body starts here. */
const REPLY_HEADER_BYTES = 16;

let dir: string;
let jaasFile: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "zkts-sasl-failed-"));
  jaasFile = join(dir, "server.jaas");
  await writeFile(
    jaasFile,
    'Server {\n  org.apache.zookeeper.server.auth.DigestLoginModule required\n  user_bob="bob-pw"\n  user_super="file-pw";\n};\n',
  );
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function describeReply(reply: Buffer | undefined): { text: string; token: Buffer | null } {
  if (reply === undefined) return { text: "closed", token: null };
  const err = reply.readInt32BE(12);
  const body = reply.subarray(REPLY_HEADER_BYTES);
  // A null buffer (length -1) and an empty one read alike as records: tell them apart here.
  const absent = body.length === 0 || body.readInt32BE(0) === -1;
  const token = absent ? null : SetSASLResponse.read(new Reader(body)).token;
  const shown = token === null ? "null" : token.length === 0 ? "empty" : "some";
  return { text: `err ${err} token ${shown}`, token };
}

const saslFrame = (xid: number, token: Buffer) =>
  requestFrame(xid, OpCode.sasl, (w) => GetSASLRequest.write(w, { token }));

/** One failed exchange on a bare session, and everything seen after it. */
async function failedExchange(port: number, username: string): Promise<string[]> {
  const session = await RawSession.open(port);
  const seen: string[] = [];
  const challenge = describeReply(await session.request(saslFrame(1, Buffer.alloc(0))));
  seen.push(`challenge: ${challenge.text}`);
  const step = digestMd5Response(String(challenge.token), {
    username,
    password: "wrong",
    cnonce: "cnonce",
  });
  seen.push(
    `response: ${describeReply(await session.request(saslFrame(2, Buffer.from(step.response)))).text}`,
  );
  const read = await session.call(getDataFrame(3, "/"));
  seen.push(`getData: ${Number.isNaN(read) ? "closed" : `err ${read}`}`);
  if (!Number.isNaN(read)) {
    const reply = await session.request(requestFrame(4, OpCode.whoAmI, () => {}));
    const ids =
      reply === undefined
        ? "closed"
        : WhoAmIResponse.read(new Reader(reply.subarray(REPLY_HEADER_BYTES)))
            .clientInfo.map((i) => `${i.authScheme}:${i.user}`)
            .join(",");
    seen.push(`whoAmI: ${ids}`);
  }
  session.destroy();
  await session.closed;
  // The session outlives the connection (it times out later): it can be resumed.
  const resume = { sessionId: session.sessionId, password: session.sessionPassword };
  const resumed = await RawSession.open(port, { resume }).then(
    (again) => {
      again.destroy();
      return "resumed";
    },
    () => "refused",
  );
  seen.push(`session: ${resumed}`);
  return seen;
}

/** Our client with a wrong password, and then with the right one. */
async function ourClient(server: ZooKeeperProcess): Promise<string[]> {
  const attempt = async (password: string) =>
    outcome(async () => {
      const zk = await connect(server.connectString, { sasl: { username: "bob", password } });
      const ids = (await zk.whoAmI()).map((i) => `${i.authScheme}:${i.user}`).sort();
      await zk.close();
      return ids.join(",");
    });
  return [
    `our client, wrong password: ${await attempt("wrong")}`,
    `right: ${await attempt("bob-pw")}`,
  ];
}

async function observe(server: ZooKeeperProcess): Promise<string[]> {
  return [
    ...(await failedExchange(server.port, "bob")).map((line) => `wrong password, ${line}`),
    ...(await failedExchange(server.port, "nobody")).map((line) => `unknown user, ${line}`),
    ...(await ourClient(server)),
  ];
}

/** Each setting, and the answer Apache ZooKeeper must give the wrong password's response. */
const SETTINGS: readonly [string, Readonly<Record<string, string>>, string][] = [
  ["by default", {}, "err -115 token null"],
  ["allowSaslFailedClients", { "zookeeper.allowSaslFailedClients": "true" }, "err 0 token null"],
  [
    "allowSaslFailedClients under sessionRequireClientSASLAuth",
    {
      "zookeeper.allowSaslFailedClients": "true",
      "zookeeper.sessionRequireClientSASLAuth": "true",
    },
    "err -124 token null",
  ],
];

/** Both servers with the JAAS file, the sasl provider and `properties`. */
async function startBoth(properties: Readonly<Record<string, string>>) {
  const all = {
    "java.security.auth.login.config": jaasFile,
    "zookeeper.authProvider.1": SASL_AUTHENTICATION_PROVIDER,
    ...properties,
  };
  return Promise.all([startZooKeeper({ systemProperties: all }), startZkts({ config: all })]);
}

/** Who each user and password is, by whoAmI, or the error connect() rejects with. */
async function whoIs(server: ZooKeeperProcess, logins: readonly [string, string][]) {
  const out: string[] = [];
  for (const [username, password] of logins) {
    const ids = await outcome(async () => {
      const zk = await connect(server.connectString, { sasl: { username, password } });
      const who = (await zk.whoAmI()).map((i) => `${i.authScheme}:${i.user}`).sort();
      await zk.close();
      return who.join(",");
    });
    out.push(`${username} with ${password}: ${ids}`);
  }
  return out;
}

describe("the sasl super user on Apache ZooKeeper and zkts", {
  skip: apacheZooKeeperSkip(),
  timeout: 60_000,
}, () => {
  test("SASLAuthenticationProvider.superPassword and zookeeper.superUser.N", async () => {
    const servers = await startBoth({
      "zookeeper.SASLAuthenticationProvider.superPassword": "property-pw",
      "zookeeper.superUser.1": "bob",
    });
    try {
      const logins: [string, string][] = [
        ["super", "file-pw"],
        ["super", "property-pw"],
        ["bob", "bob-pw"],
      ];
      const [expected, actual] = (await Promise.all(servers.map((s) => whoIs(s, logins)))) as [
        string[],
        string[],
      ];
      assert.deepEqual(actual, expected);
      assert.deepEqual(expected, [
        "super with file-pw: error -115",
        "super with property-pw: ok ip:127.0.0.1,sasl:super",
        "bob with bob-pw: ok ip:127.0.0.1,sasl:bob,super:",
      ]);
    } finally {
      await Promise.all(servers.map((server) => server.stop()));
    }
  });
});

describe("a failed SASL exchange on Apache ZooKeeper and zkts", {
  skip: apacheZooKeeperSkip(),
  timeout: 120_000,
}, () => {
  for (const [name, properties, answer] of SETTINGS) {
    test(`${name}: the same answers, connection and session`, async () => {
      const servers = await startBoth(properties);
      try {
        const [expected, actual] = (await Promise.all(servers.map(observe))) as [
          string[],
          string[],
        ];
        assert.deepEqual(actual, expected);
        const text = expected.join("\n");
        assert.ok(text.includes(`wrong password, response: ${answer}`), text);
        assert.ok(text.includes("unknown user, session: resumed"), text);
      } finally {
        await Promise.all(servers.map((server) => server.stop()));
      }
    });
  }
});
