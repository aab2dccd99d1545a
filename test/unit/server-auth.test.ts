/**
 * The ACL id rules of ZooKeeper 3.8's providers, as fixupACL and checkACL apply them, without a
 * server: the cases where the differential test (test/differential/acl.test.ts) found zkts
 * answering otherwise than Apache ZooKeeper, so they stay fixed where Java is not installed.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { ACL, Id } from "../../src/jute/index.js";
import { ErrorCode } from "../../src/protocol/errors.js";
import { checkACL, fixupACL, KeeperError } from "../../src/server/auth.js";

const ANONYMOUS: Id[] = [{ scheme: "ip", id: "127.0.0.1" }];
const acl = (scheme: string, id: string): ACL[] => [{ perms: 31, id: { scheme, id } }];

function valid(scheme: string, id: string, x509 = false): boolean {
  try {
    fixupACL(acl(scheme, id), ANONYMOUS, { x509 });
    return true;
  } catch (error) {
    assert.ok(error instanceof KeeperError);
    assert.equal(error.code, ErrorCode.INVALIDACL);
    return false;
  }
}

function reads(expr: string, clientIp = "127.0.0.1"): boolean {
  try {
    checkACL(acl("ip", expr), 1, [{ scheme: "ip", id: clientIp }]);
    return true;
  } catch {
    return false;
  }
}

describe("ACL ids as ZooKeeper 3.8's providers take them", () => {
  test("digest: Java's split(':') drops trailing empty strings", () => {
    assert.equal(valid("digest", "alice:hash"), true);
    assert.equal(valid("digest", ":hash"), true);
    assert.equal(valid("digest", "a:b:"), true);
    assert.equal(valid("digest", "alice:"), false);
    assert.equal(valid("digest", ":"), false);
    assert.equal(valid("digest", "alice"), false);
    assert.equal(valid("digest", "a:b:c"), false);
    assert.equal(valid("digest", ""), false);
  });

  test("ip: IPv4 only, numbers as Integer.parseInt reads them, a mask of 0..32", () => {
    for (const ok of ["127.0.0.1", "127.0.0.1/8", "10.0.0.0/0", "127.000.0.01", "+127.0.0.1/+8"]) {
      assert.equal(valid("ip", ok), true, ok);
    }
    for (const bad of [
      "::1",
      "fe80::/64",
      "::ffff:127.0.0.1",
      "127.1",
      "300.0.0.1",
      "127.0.0.1/33",
      "127.0.0.1/-1",
      "127.0.0.1/",
      "127.0.0.1/8/8",
      "127.0.0.1/99999999999",
      "localhost",
      "",
    ]) {
      assert.equal(valid("ip", bad), false, bad);
    }
  });

  test("ip: a client matches by its masked address", () => {
    assert.equal(reads("127.0.0.1"), true);
    assert.equal(reads("127.000.0.01"), true);
    assert.equal(reads("127.0.0.0/8"), true);
    assert.equal(reads("127.255.0.0/9"), false);
    assert.equal(reads("10.0.0.0/8"), false);
    assert.equal(reads("10.0.0.0/0"), true);
    assert.equal(reads("127.0.0.1", "::1"), false, "3.8 reads no IPv6 client address");
  });

  test("x509 ids are valid only where the x509 provider is (a server serving TLS)", () => {
    assert.equal(valid("x509", "CN=alice"), false);
    assert.equal(valid("x509", "CN=alice", true), true);
    assert.equal(valid("sasl", "alice", true), false);
  });
});
