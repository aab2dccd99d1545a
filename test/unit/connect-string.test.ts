/**
 * Goal: connect strings parse as ZooKeeper's ConnectStringParser reads them (hosts, default port
 * 2181, bracketed IPv6, an optional chroot checked by PathUtils' rules), and anything that would
 * name no host or a port outside 1..65535 is an InvalidArgumentError.
 * Method: parse-only examples and a fast-check round trip of generated host lists. Nothing here
 * opens a socket.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { parseConnectString, shuffled } from "../../src/client/connect-string.js";
import { InvalidArgumentError } from "../../src/protocol/errors.js";

function rejects(text: string): void {
  assert.throws(
    () => parseConnectString(text),
    (error: unknown) => error instanceof InvalidArgumentError,
    JSON.stringify(text),
  );
}

describe("hosts and ports", () => {
  test("host:port pairs in order", () => {
    assert.deepStrictEqual(parseConnectString("h1:2181,h2:2182,10.0.0.3:3000"), {
      hosts: [
        { host: "h1", port: 2181 },
        { host: "h2", port: 2182 },
        { host: "10.0.0.3", port: 3000 },
      ],
      chroot: "",
    });
  });

  test("a host without a port gets 2181", () => {
    assert.deepStrictEqual(parseConnectString("zk1,zk2:2888").hosts, [
      { host: "zk1", port: 2181 },
      { host: "zk2", port: 2888 },
    ]);
  });

  test("IPv6 in brackets, with and without a port", () => {
    assert.deepStrictEqual(parseConnectString("[::1]:2182,[fe80::1%eth0],[2001:db8::7]:1").hosts, [
      { host: "::1", port: 2182 },
      { host: "fe80::1%eth0", port: 2181 },
      { host: "2001:db8::7", port: 1 },
    ]);
  });

  test("blanks around entries and empty entries are ignored", () => {
    assert.deepStrictEqual(parseConnectString(" h1:1 ,, h2 ,").hosts, [
      { host: "h1", port: 1 },
      { host: "h2", port: 2181 },
    ]);
  });

  test("ports 1 and 65535 are the bounds", () => {
    assert.equal(parseConnectString("h:1").hosts[0]?.port, 1);
    assert.equal(parseConnectString("h:65535").hosts[0]?.port, 65535);
    assert.equal(parseConnectString("h:02181").hosts[0]?.port, 2181);
  });

  test("bad ports are InvalidArgumentError", () => {
    for (const port of ["0", "65536", "99999999999", "-1", "abc", "", "1.5", "21.0", "0x10"]) {
      rejects(`h:${port}`);
    }
    for (const port of ["1e3", " 21", "+21", "2181 x"]) rejects(`h:${port}`);
    rejects("[::1]:0");
    rejects("[::1]:port");
    rejects("good:2181,bad:70000");
  });

  test("bad hosts are InvalidArgumentError", () => {
    rejects(":2181");
    rejects("[]:2181");
    rejects("[::1"); // no closing bracket
    rejects("[::1]2181"); // no colon after the bracket
  });

  test("an empty host list is InvalidArgumentError", () => {
    for (const text of ["", " ", ",", " , ,", "/app", "/", ",/app"]) rejects(text);
  });

  test("generated host lists parse back to what was written", () => {
    const name = fc.stringMatching(/^[a-z][a-z0-9.-]{0,10}$/);
    const entry = fc.record({
      host: fc.oneof(name, fc.constantFrom("::1", "fe80::2", "2001:db8::1")),
      port: fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }),
    });
    fc.assert(
      fc.property(fc.array(entry, { minLength: 1, maxLength: 5 }), (entries) => {
        const text = entries
          .map(({ host, port }) => {
            const shown = host.includes(":") ? `[${host}]` : host;
            return port === undefined ? shown : `${shown}:${port}`;
          })
          .join(",");
        const parsed = parseConnectString(text);
        assert.deepStrictEqual(
          parsed.hosts,
          entries.map(({ host, port }) => ({ host, port: port ?? 2181 })),
        );
        assert.equal(parsed.chroot, "");
      }),
      { numRuns: 300 },
    );
  });
});

describe("chroot", () => {
  test("everything from the first slash is the chroot", () => {
    assert.deepStrictEqual(parseConnectString("h1:2181,h2:2182/app/sub"), {
      hosts: [
        { host: "h1", port: 2181 },
        { host: "h2", port: 2182 },
      ],
      chroot: "/app/sub",
    });
    assert.equal(parseConnectString("[::1]:2181/app").chroot, "/app");
    assert.equal(parseConnectString("h/app").hosts[0]?.port, 2181);
  });

  test('a chroot of "/" is no chroot', () => {
    assert.equal(parseConnectString("h:2181/").chroot, "");
  });

  test("an invalid chroot is InvalidArgumentError", () => {
    for (const text of ["h/app/", "h//app", "h/app/../x", "h/app/.", "h/a\u0000b"]) rejects(text);
  });
});

describe("shuffled", () => {
  test("a permutation that leaves its input alone", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer()),
        fc.array(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true })),
        (items, draws) => {
          const input = [...items];
          let next = 0;
          const result = shuffled(input, () => draws[next++ % Math.max(draws.length, 1)] ?? 0);
          assert.deepStrictEqual(input, items);
          assert.deepStrictEqual(
            [...result].sort((a, b) => a - b),
            [...items].sort((a, b) => a - b),
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  test("every order is reachable: 3 items give all 6 orders", () => {
    const orders = new Set<string>();
    for (let a = 0; a < 3; a++) {
      for (let b = 0; b < 2; b++) {
        const draws = [a / 3 + 0.01, b / 2 + 0.01];
        let next = 0;
        orders.add(shuffled(["x", "y", "z"], () => draws[next++] ?? 0).join(""));
      }
    }
    assert.equal(orders.size, 6);
  });
});
