/**
 * Goal: our error codes are ZooKeeper 3.8's KeeperException.Code, name for name and number for
 * number, and each code off the wire becomes its own error class.
 * Method: the table below was read from the bytecode of ZooKeeper 3.8.0's
 * `KeeperException$Code` (`javap -c -p` on /usr/share/java/zookeeper.jar: the enum's static
 * initializer, constant by constant), not from our source; every code is then run through
 * errorFromCode.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import {
  ConnectionLossError,
  ErrorCode,
  errorCodeName,
  errorFromCode,
  isRetriable,
  NodeExistsError,
  NoNodeError,
  ZooKeeperError,
} from "../../src/protocol/errors.js";

/** KeeperException.Code in ZooKeeper 3.8.0, in the enum's declaration order. */
const KEEPER_EXCEPTION_CODE: readonly (readonly [string, number])[] = [
  ["OK", 0],
  ["SYSTEMERROR", -1],
  ["RUNTIMEINCONSISTENCY", -2],
  ["DATAINCONSISTENCY", -3],
  ["CONNECTIONLOSS", -4],
  ["MARSHALLINGERROR", -5],
  ["UNIMPLEMENTED", -6],
  ["OPERATIONTIMEOUT", -7],
  ["BADARGUMENTS", -8],
  ["NEWCONFIGNOQUORUM", -13],
  ["RECONFIGINPROGRESS", -14],
  ["UNKNOWNSESSION", -12],
  ["APIERROR", -100],
  ["NONODE", -101],
  ["NOAUTH", -102],
  ["BADVERSION", -103],
  ["NOCHILDRENFOREPHEMERALS", -108],
  ["NODEEXISTS", -110],
  ["NOTEMPTY", -111],
  ["SESSIONEXPIRED", -112],
  ["INVALIDCALLBACK", -113],
  ["INVALIDACL", -114],
  ["AUTHFAILED", -115],
  ["SESSIONMOVED", -118],
  ["NOTREADONLY", -119],
  ["EPHEMERALONLOCALSESSION", -120],
  ["NOWATCHER", -121],
  ["REQUESTTIMEOUT", -122],
  ["RECONFIGDISABLED", -123],
  ["SESSIONCLOSEDREQUIRESASLAUTH", -124],
  ["QUOTAEXCEEDED", -125],
  ["THROTTLEDOP", -127],
];

const RETRIABLE = new Set(["CONNECTIONLOSS", "OPERATIONTIMEOUT", "SESSIONMOVED", "THROTTLEDOP"]);

describe("ErrorCode is KeeperException.Code", () => {
  test("same names, same numbers, nothing more, nothing less", () => {
    assert.deepStrictEqual(
      Object.fromEntries(Object.entries(ErrorCode)),
      Object.fromEntries(KEEPER_EXCEPTION_CODE),
    );
  });

  test("errorCodeName is the inverse", () => {
    for (const [name, code] of KEEPER_EXCEPTION_CODE) assert.equal(errorCodeName(code), name);
    assert.equal(errorCodeName(-9), undefined);
    assert.equal(errorCodeName(-126), undefined);
  });
});

describe("errorFromCode", () => {
  for (const [name, code] of KEEPER_EXCEPTION_CODE.filter(([n]) => n !== "OK")) {
    test(`${name} (${code}) gets its own class`, () => {
      const error = errorFromCode(code, "/some/path");
      assert.ok(error instanceof ZooKeeperError);
      assert.ok(error instanceof Error);
      assert.notEqual(error.constructor, ZooKeeperError, "fell back to the base class");
      assert.equal(error.code, code);
      assert.equal(error.path, "/some/path");
      assert.match(error.name, /^[A-Z][A-Za-z]*Error$/);
      assert.notEqual(error.name, "ZooKeeperError");
      assert.equal(error.constructor.name, error.name);
      assert.ok(error.message.includes(name), error.message);
      assert.ok(error.message.includes("/some/path"), error.message);
      assert.equal(isRetriable(error), RETRIABLE.has(name));
    });
  }

  test("one class per code: no two codes share a class or a name", () => {
    const errors = KEEPER_EXCEPTION_CODE.filter(([n]) => n !== "OK").map(([, c]) =>
      errorFromCode(c),
    );
    assert.equal(new Set(errors.map((e) => e.constructor)).size, errors.length);
    assert.equal(new Set(errors.map((e) => e.name)).size, errors.length);
  });

  test("well-known classes are the ones the registry builds", () => {
    assert.ok(errorFromCode(-101) instanceof NoNodeError);
    assert.ok(errorFromCode(-110) instanceof NodeExistsError);
    assert.ok(errorFromCode(-4) instanceof ConnectionLossError);
    assert.equal(errorFromCode(-101).name, "NoNodeError");
    assert.equal(new NoNodeError("/x").code, -101);
  });

  test("without a path, path is undefined and the message is the code's name", () => {
    const error = errorFromCode(-112);
    assert.equal(error.path, undefined);
    assert.equal(error.message, "SESSIONEXPIRED");
  });

  test("a cause passes through", () => {
    const cause = new Error("socket closed");
    assert.equal(errorFromCode(-4, undefined, { cause }).cause, cause);
  });

  test("an unknown code gives the base class, carrying the code", () => {
    const known = new Set(KEEPER_EXCEPTION_CODE.map(([, c]) => c));
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), (code) => {
        if (known.has(code)) return;
        const error = errorFromCode(code, "/p");
        assert.equal(error.constructor, ZooKeeperError);
        assert.equal(error.name, "ZooKeeperError");
        assert.equal(error.code, code);
        assert.ok(error.message.includes(`UNKNOWN(${code})`), error.message);
        assert.equal(isRetriable(error), false);
      }),
      { numRuns: 300 },
    );
    assert.equal(errorFromCode(-126).constructor, ZooKeeperError);
  });

  test("OK (0) is not an error class of its own", () => {
    assert.equal(errorFromCode(0).constructor, ZooKeeperError);
  });
});

describe("isRetriable", () => {
  test("true only for CONNECTIONLOSS, OPERATIONTIMEOUT, SESSIONMOVED, THROTTLEDOP", () => {
    const retriable = KEEPER_EXCEPTION_CODE.filter(([, c]) => isRetriable(errorFromCode(c))).map(
      ([n]) => n,
    );
    assert.deepStrictEqual(new Set(retriable), RETRIABLE);
  });

  test("false for anything that is not a ZooKeeperError", () => {
    for (const value of [new Error("x"), { code: -4 }, -4, null, undefined, "CONNECTIONLOSS"]) {
      assert.equal(isRetriable(value), false);
    }
  });
});
