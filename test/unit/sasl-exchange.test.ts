/**
 * Goal: processSasl's and enforceAuthentication's decisions as ZooKeeperServer makes them.
 * Method: SaslExchanges driven with our DIGEST-MD5 client step, under different settings.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { NULL_BUFFER } from "../../src/jute/index.js";
import { digestMd5Response } from "../../src/protocol/digest-md5.js";
import { ErrorCode } from "../../src/protocol/errors.js";
import { SaslExchanges } from "../../src/server/sasl/exchange.js";
import type { SaslSettings } from "../../src/server/sasl/settings.js";

const base: SaslSettings = {
  users: new Map([["bob", "pw"]]),
  saslProvider: true,
  enforceAuthSchemes: [],
  saslAuthRequired: false,
  superUsers: [],
  allowSaslFailedClients: false,
  principalRules: { defaultRealm: "", removeHost: false, removeRealm: false },
};

function run(settings: SaslSettings, password: string, username = "bob") {
  const exchanges = new SaslExchanges(settings);
  const cnxn = {};
  const challenge = exchanges.evaluate(cnxn, Buffer.alloc(0));
  assert.equal(challenge.err, 0);
  const step = digestMd5Response(String(challenge.token), {
    username,
    password,
    cnonce: "c",
  });
  return exchanges.evaluate(cnxn, Buffer.from(step.response));
}

describe("SaslExchanges", () => {
  it("a completed exchange adds sasl:bob, and super for zookeeper.superUser", () => {
    const plain = run(base, "pw");
    assert.deepEqual("ids" in plain && plain.ids, [{ scheme: "sasl", id: "bob" }]);
    const superUser = run({ ...base, superUsers: ["alice", "bob"] }, "pw");
    assert.deepEqual("ids" in superUser && superUser.ids, [
      { scheme: "sasl", id: "bob" },
      { scheme: "super", id: "" },
    ]);
  });

  it("a failed one is AUTHFAILED, or SESSIONCLOSEDREQUIRESASLAUTH when sasl is enforced", () => {
    const failed = run(base, "wrong");
    assert.equal(failed.err, ErrorCode.AUTHFAILED);
    assert.equal(failed.token, null);
    const enforced = run({ ...base, enforceAuthSchemes: ["sasl"], saslAuthRequired: true }, "x");
    assert.equal(enforced.err, ErrorCode.SESSIONCLOSEDREQUIRESASLAUTH);
  });

  it("allowSaslFailedClients: a failure is OK with no token, unless sasl is enforced", () => {
    const allowed = run({ ...base, allowSaslFailedClients: true }, "wrong");
    assert.equal(allowed.err, 0);
    assert.equal(allowed.token, null);
    assert.ok(!("ids" in allowed), "no id for a failed exchange");
    const enforced = run(
      {
        ...base,
        allowSaslFailedClients: true,
        enforceAuthSchemes: ["sasl"],
        saslAuthRequired: true,
      },
      "wrong",
    );
    assert.equal(enforced.err, ErrorCode.SESSIONCLOSEDREQUIRESASLAUTH);
  });

  it("the sasl id is the user name mapped as a Kerberos principal of the default realm", () => {
    const users = new Map([
      ["bob/host@", "pw"],
      ["bob/host@EXAMPLE.COM", "pw"],
      ["a/b/c@R", "pw"],
    ]);
    const removeBoth = { defaultRealm: "", removeHost: true, removeRealm: true };
    const ids = (user: string, principalRules = removeBoth) => {
      const answer = run({ ...base, users, principalRules }, "pw", user);
      return "ids" in answer ? answer.ids.map((id) => id.id) : answer.err;
    };
    assert.deepEqual(ids("bob/host@"), ["bob"]);
    assert.deepEqual(ids("bob/host@", { ...removeBoth, removeRealm: false }), ["bob@"]);
    // Another realm than the default: no rule maps it, the name stays whole.
    assert.deepEqual(ids("bob/host@EXAMPLE.COM"), ["bob/host@EXAMPLE.COM"]);
    assert.deepEqual(ids("bob/host@EXAMPLE.COM", { ...removeBoth, defaultRealm: "EXAMPLE.COM" }), [
      "bob",
    ]);
    // Not a Kerberos name at all: the authorization fails, and with it the exchange.
    assert.equal(ids("a/b/c@R"), ErrorCode.AUTHFAILED);
  });

  it("without a JAAS file a sasl packet gets OK and no token, as ZooKeeper answers it", () => {
    const { users: _, ...noJaas } = base;
    const answer = new SaslExchanges(noJaas).evaluate({}, Buffer.alloc(0));
    assert.equal(answer.err, 0);
    assert.equal(answer.token, NULL_BUFFER); // written as a null buffer (length -1)
  });

  it("enforcement admits a connection with an id of an enforced scheme only", () => {
    const open = new SaslExchanges(base);
    assert.equal(open.mayProceed([{ scheme: "ip", id: "127.0.0.1" }]), true);
    const enforced = new SaslExchanges({ ...base, enforceAuthSchemes: ["sasl", "digest"] });
    assert.equal(enforced.mayProceed([{ scheme: "ip", id: "127.0.0.1" }]), false);
    assert.equal(enforced.mayProceed([{ scheme: "digest", id: "u:x" }]), true);
    assert.equal(enforced.mayProceed([{ scheme: "sasl", id: "bob" }]), true);
  });
});
