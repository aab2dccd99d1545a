/**
 * Goal: validatePath accepts exactly the paths ZooKeeper's PathUtils.validatePath accepts, with
 * and without the sequential flag; the chroot mapping is a bijection on paths under the chroot.
 * Method: a table of verdicts recorded by running ZooKeeper 3.8.0's PathUtils over each case;
 * a reference model of PathUtils' rules (checked offline against PathUtils on 200,000 random
 * strings over the alphabet below, all agreeing) compared with validatePath by fast-check.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { prependChroot, stripChroot, validatePath } from "../../src/client/paths.js";
import { InvalidArgumentError } from "../../src/protocol/errors.js";

function accepts(path: string, sequential: boolean): boolean {
  try {
    validatePath(path, sequential);
    return true;
  } catch (error) {
    assert.ok(error instanceof InvalidArgumentError, `not an InvalidArgumentError: ${error}`);
    return false;
  }
}

/**
 * PathUtils.validatePath(path, sequential) run on ZooKeeper 3.8.0: [path, plain, sequential].
 * A sequential path is checked with "1" appended, the first digit of the server's counter.
 */
const PATH_UTILS_VERDICTS: readonly (readonly [string, boolean, boolean])[] = [
  ["/", true, true],
  ["", false, false],
  ["a", false, false],
  ["a/b", false, false],
  [" /a", false, false],
  ["/a", true, true],
  ["/a/b", true, true],
  ["/zookeeper/quota", true, true],
  ["/a/", false, true],
  ["/a/b/", false, true],
  ["//", false, false],
  ["//a", false, false],
  ["/a//b", false, false],
  ["/.", false, true],
  ["/..", false, true],
  ["/...", true, true],
  ["/a/.", false, true],
  ["/a/..", false, true],
  ["/a/./", false, false],
  ["/a/../", false, false],
  ["/a/./b", false, false],
  ["/a/../b", false, false],
  ["/.a", true, true],
  ["/a.", true, true],
  ["/a..b", true, true],
  ["/..a", true, true],
  ["/a/.b/..c", true, true],
  ["\u0000", false, false],
  ["/\u0000", false, false],
  ["/a\u0000", false, false],
  ["/a\u0000b", false, false],
  ["/a\u0001b", false, false],
  ["/a\tb", false, false],
  ["/a\u001fb", false, false],
  ["/a b", true, true],
  ["/a~b", true, true],
  ["/a\u007fb", false, false],
  ["/a\u009fb", false, false],
  ["/a\u00a0b", true, true],
  ["/é", true, true],
  ["/日本", true, true],
  ["/a\ud800b", false, false],
  ["/a\udfffb", false, false],
  ["/a\u{1f600}b", false, false], // any astral character: its surrogates are refused
  ["/a\ue000b", false, false],
  ["/a\uf8ffb", false, false],
  ["/a\uf900b", true, true],
  ["/a\uffefb", true, true],
  ["/a\ufff0b", false, false],
  ["/a\uffffb", false, false],
];

/** PathUtils' rules, restated: what ZooKeeper accepts, as a model to compare against. */
function zooKeeperAccepts(path: string, sequential: boolean): boolean {
  const full = sequential ? `${path}1` : path;
  if (!full.startsWith("/")) return false;
  if (full === "/") return true;
  if (full.endsWith("/")) return false;
  let name = "";
  for (let i = 1; i <= full.length; i++) {
    const unit = i === full.length ? 0x2f : full.charCodeAt(i);
    if (unit === 0x2f) {
      if (name === "" || name === "." || name === "..") return false;
      name = "";
    } else if (forbiddenUnit(unit)) {
      return false;
    } else {
      name += String.fromCharCode(unit);
    }
  }
  return true;
}

/** NUL and C0 controls, DEL and C1, surrogates and BMP private use, U+FFF0..U+FFFF. */
function forbiddenUnit(unit: number): boolean {
  return (
    unit <= 0x1f ||
    (unit >= 0x7f && unit <= 0x9f) ||
    (unit >= 0xd800 && unit <= 0xf8ff) ||
    unit >= 0xfff0
  );
}

// The edges of every rule: separators, dots, and each side of each refused range.
const ALPHABET = [
  "/",
  ".",
  "a",
  "1",
  "\u0000",
  "\u001f",
  " ",
  "~",
  "\u007f",
  "\u009f",
  "\u00a0",
  "\ud7ff",
  "\ud800",
  "\udc00",
  "\uf8ff",
  "\uf900",
  "\uffef",
  "\ufff0",
  "\uffff",
];
const pathLike = fc.oneof(
  fc.string({ unit: fc.constantFrom(...ALPHABET), maxLength: 8 }).map((rest) => `/${rest}`),
  fc.string({ unit: fc.constantFrom(...ALPHABET), maxLength: 8 }),
  fc.string({ unit: fc.constantFrom("/", ".", "a"), maxLength: 10 }),
);

describe("validatePath", () => {
  for (const [path, plain, sequential] of PATH_UTILS_VERDICTS) {
    test(`${JSON.stringify(path)}: ${plain ? "valid" : "invalid"}, sequential ${sequential ? "valid" : "invalid"}`, () => {
      assert.equal(accepts(path, false), plain, "plain");
      assert.equal(accepts(path, true), sequential, "sequential");
    });
  }

  test("the model agrees with every recorded PathUtils verdict", () => {
    for (const [path, plain, sequential] of PATH_UTILS_VERDICTS) {
      assert.equal(zooKeeperAccepts(path, false), plain, JSON.stringify(path));
      assert.equal(zooKeeperAccepts(path, true), sequential, JSON.stringify(path));
    }
  });

  test("accepts exactly what the PathUtils model accepts", () => {
    fc.assert(
      fc.property(pathLike, fc.boolean(), (path, sequential) => {
        assert.equal(accepts(path, sequential), zooKeeperAccepts(path, sequential));
      }),
      { numRuns: 5000 },
    );
  });

  test("sequential defaults to false", () => {
    assert.throws(() => validatePath("/a/"), InvalidArgumentError);
    assert.doesNotThrow(() => validatePath("/a/", true));
  });

  test("the error names the path", () => {
    assert.throws(
      () => validatePath("/a//b"),
      (error: unknown) => {
        assert.ok(error instanceof InvalidArgumentError);
        assert.equal(error.name, "InvalidArgumentError");
        assert.ok(error.message.includes('"/a//b"'), error.message);
        return true;
      },
    );
  });
});

const validPath = fc
  .array(fc.stringMatching(/^[a-z0-9_-]{1,6}$/), { maxLength: 4 })
  .map((names) => `/${names.join("/")}`);
const chroot = fc
  .array(fc.stringMatching(/^[a-z]{1,5}$/), { minLength: 1, maxLength: 3 })
  .map((names) => `/${names.join("/")}`);

describe("chroot", () => {
  test("no chroot leaves paths alone", () => {
    assert.equal(prependChroot("", "/a"), "/a");
    assert.equal(prependChroot("", "/"), "/");
    assert.equal(stripChroot("", "/a/b"), "/a/b");
  });

  test("prepend: the root is the chroot itself, other paths go under it", () => {
    assert.equal(prependChroot("/app", "/"), "/app");
    assert.equal(prependChroot("/app", "/a"), "/app/a");
    assert.equal(prependChroot("/app/x", "/a/b"), "/app/x/a/b");
  });

  test("strip: the chroot is the root, paths under it lose it, others stay", () => {
    assert.equal(stripChroot("/app", "/app"), "/");
    assert.equal(stripChroot("/app", "/app/a"), "/a");
    assert.equal(stripChroot("/app", "/apple"), "/apple");
    assert.equal(stripChroot("/app", "/other/app"), "/other/app");
    assert.equal(stripChroot("/app/x", "/app"), "/app");
  });

  test("strip undoes prepend; prepend stays valid and under the chroot", () => {
    fc.assert(
      fc.property(chroot, validPath, (root, path) => {
        const server = prependChroot(root, path);
        assert.equal(stripChroot(root, server), path);
        assert.ok(server === root || server.startsWith(`${root}/`));
        assert.ok(accepts(server, false), server);
      }),
      { numRuns: 500 },
    );
  });
});
