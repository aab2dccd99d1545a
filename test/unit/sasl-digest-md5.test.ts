/**
 * Goal: our DIGEST-MD5 server computes RFC 2831's digests and refuses what it must.
 * Method: RFC 2831 §4's worked example (user chris, password secret) for the response and
 * rspauth values; then a full exchange against a client computed with the same formulas,
 * with a right and a wrong password.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  DigestMd5Error,
  digestHa1,
  digestMd5Response,
  parseDirectives,
  responseValue,
} from "../../src/protocol/digest-md5.js";
import { DigestMd5Server } from "../../src/server/sasl/digest-md5.js";
import { digestUsers, parseJaas } from "../../src/server/sasl/jaas.js";

const rfcExample = {
  username: "chris",
  realm: "elwood.innosoft.com",
  password: "secret",
  nonce: "OA6MG9tEQGm2hh",
  cnonce: "OA6MHXh6VqTrRk",
  nc: "00000001",
  qop: "auth",
  digestUri: "imap/elwood.innosoft.com",
};

describe("DIGEST-MD5 digests (RFC 2831 §4 example)", () => {
  it("response and rspauth match the RFC's values", () => {
    const ha1 = digestHa1(rfcExample);
    assert.equal(
      responseValue(ha1, rfcExample, "AUTHENTICATE"),
      "d388dad90d4bbd760a152321f2143af7",
    );
    assert.equal(responseValue(ha1, rfcExample, ""), "ea40f60335c427b5527b84dbabcdfffd");
  });

  it("parses quoted strings with escapes and tokens", () => {
    const d = parseDirectives('username="a\\"b",nc=00000001, qop=auth,realm="r,s"');
    assert.equal(d.get("username"), 'a"b');
    assert.equal(d.get("nc"), "00000001");
    assert.equal(d.get("qop"), "auth");
    assert.equal(d.get("realm"), "r,s");
    assert.throws(() => parseDirectives("nc=1,nc=2"), DigestMd5Error);
  });
});

describe("DigestMd5Server exchange", () => {
  const users = new Map([["bob", "bobsecret"]]);
  const server = () => new DigestMd5Server({ password: (u) => users.get(u), nonce: "N0nce" });
  const clientResponse = (password: string, overrides: Record<string, string> = {}) => {
    const v = {
      username: "bob",
      realm: "zk-sasl-md5",
      password,
      nonce: "N0nce",
      cnonce: "C0nce",
      nc: "00000001",
      qop: "auth",
      digestUri: "zookeeper/zk-sasl-md5",
      ...overrides,
    };
    const response = responseValue(digestHa1(v), v, "AUTHENTICATE");
    const text =
      `charset=utf-8,username="${v.username}",realm="${v.realm}",nonce="${v.nonce}",` +
      `nc=${v.nc},cnonce="${v.cnonce}",digest-uri="${v.digestUri}",maxbuf=65536,` +
      `response=${response},qop=${v.qop}`;
    return { text: Buffer.from(text), rspauth: responseValue(digestHa1(v), v, "") };
  };

  it("challenges with ZooKeeper's realm, qop auth and md5-sess", () => {
    const challenge = parseDirectives(server().evaluate(Buffer.alloc(0)).toString());
    assert.equal(challenge.get("realm"), "zk-sasl-md5");
    assert.equal(challenge.get("nonce"), "N0nce");
    assert.equal(challenge.get("qop"), "auth");
    assert.equal(challenge.get("algorithm"), "md5-sess");
    assert.equal(challenge.get("charset"), "utf-8");
  });

  it("accepts the right password and answers rspauth", () => {
    const s = server();
    s.evaluate(Buffer.alloc(0));
    const { text, rspauth } = clientResponse("bobsecret");
    assert.equal(s.evaluate(text).toString(), `rspauth=${rspauth}`);
    assert.equal(s.isComplete, true);
    assert.equal(s.authenticatedId, "bob");
  });

  it("refuses a wrong password, an unknown user, another digest-uri or nonce", () => {
    const cases = [
      clientResponse("wrong"),
      clientResponse("bobsecret", { username: "eve" }),
      clientResponse("bobsecret", { digestUri: "zookeeper/elsewhere" }),
      clientResponse("bobsecret", { nonce: "other" }),
    ];
    for (const { text } of cases) {
      const s = server();
      s.evaluate(Buffer.alloc(0));
      assert.throws(() => s.evaluate(text), DigestMd5Error);
      assert.equal(s.isComplete, false);
      assert.equal(s.authenticatedId, undefined);
    }
  });
});

describe("JAAS file", () => {
  it("reads the Server section's user_ options", () => {
    const text = `/* comment */
Server {
  org.apache.zookeeper.server.auth.DigestLoginModule required
  user_super="adminsecret"
  user_bob="bob\\"secret";
};
Client { org.apache.zookeeper.server.auth.DigestLoginModule required username="bob" password="x"; };`;
    const users = digestUsers(parseJaas(text));
    assert.deepEqual(
      [...users],
      [
        ["super", "adminsecret"],
        ["bob", 'bob"secret'],
      ],
    );
    assert.throws(() => digestUsers(parseJaas("Client { m required; };")), /no section "Server"/);
  });

  it("takes a quoted option name, so that a user name may hold / and @ (as Java's parser does)", () => {
    const text = 'Server { m required "user_bob/host@EXAMPLE.COM"="pw" user_alice="a"; };';
    assert.deepEqual(
      [...digestUsers(parseJaas(text))],
      [
        ["bob/host@EXAMPLE.COM", "pw"],
        ["alice", "a"],
      ],
    );
  });
});

describe("digestMd5Response (our client's step)", () => {
  const users = new Map([["bob", 'bob"secret']]);
  const exchange = (password: string) => {
    const server = new DigestMd5Server({ password: (u) => users.get(u) });
    const challenge = server.evaluate(Buffer.alloc(0)).toString();
    const step = digestMd5Response(challenge, { username: "bob", password, cnonce: "cn" });
    return { server, step };
  };

  it("satisfies our server, whose rspauth is the one the client expects", () => {
    const { server, step } = exchange('bob"secret');
    assert.equal(server.evaluate(Buffer.from(step.response)).toString(), `rspauth=${step.rspauth}`);
    assert.equal(server.authenticatedId, "bob");
  });

  it("with a wrong password is refused", () => {
    const { server, step } = exchange("bobsecret");
    assert.throws(() => server.evaluate(Buffer.from(step.response)), /wrong password/);
  });

  it("refuses a challenge without a nonce or without qop auth", () => {
    const credentials = { username: "bob", password: "x", cnonce: "c" };
    assert.throws(() => digestMd5Response('realm="r",qop="auth"', credentials), DigestMd5Error);
    assert.throws(() => digestMd5Response('nonce="n",qop="auth-conf"', credentials), /no qop/);
  });
});
