/**
 * java.util.Random and ZooKeeper's session passwords, bit for bit.
 *
 * Method: golden vectors recorded from OpenJDK 17 (inline, so the test asserts something
 * anywhere); then, where `java` is on PATH, a small Java program written to a temp dir and run
 * as a single-file source launch prints the same draws for more seeds, and we compare; where
 * Apache ZooKeeper's jar is installed, its own ZooKeeperServer.generatePasswd (by reflection)
 * is the oracle for the passwords.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { describe, it } from "node:test";
import { JavaRandom } from "../../src/server/java-random.js";
import {
  checkSessionPassword,
  SUPER_SECRET,
  sessionPassword,
} from "../../src/server/session-password.js";
import { apacheZooKeeperSkip, findInstallation } from "../harness/installation.js";

/** One line of RandomVectors.java's output: what `new Random(seed)` draws, in this order. */
function draws(seed: bigint): string {
  const random = new JavaRandom(seed);
  const ints = [random.nextInt(), random.nextInt(), random.nextInt(), random.nextInt()];
  const bits = [random.next(1), random.next(7), random.next(31)];
  const long = random.nextLong();
  const bytes = new Uint8Array(10);
  random.nextBytes(bytes);
  return `random ${seed} ints ${ints.join(" ")} bits ${bits.join(" ")} long ${long} bytes ${hex(bytes)}`;
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex");
}

// Recorded with OpenJDK 17.0.15 running RANDOM_VECTORS_JAVA below.
const GOLDEN_DRAWS = [
  "random 0 ints -1155484576 -723955400 1033096058 -1690734402 bits 1 39 1182054491 long 2158390814503909950 bytes 6da712c82bcd4d554bf0",
  "random 1 ints -1155869325 431529176 1761283695 1749940626 bits 0 4 714504434 long -6292788870224356907 bytes 6808f3b572e5900112b8",
  "random -1 ints 1155099827 1887904451 52699159 -1941176418 bits 1 76 894294477 long 7365572370171403210 bytes f638790e007558ce41eb",
  "random 42 ints -1170105035 234785527 -1360544799 205897768 bits 0 120 595021505 long -5391787952107853122 bytes 9a0c6117bd6743e7dc97",
  "random -9223372036854775808 ints -1155484576 -723955400 1033096058 -1690734402 bits 1 39 1182054491 long 2158390814503909950 bytes 6da712c82bcd4d554bf0",
  "random 9223372036854775807 ints 1155099827 1887904451 52699159 -1941176418 bits 1 76 894294477 long 7365572370171403210 bytes f638790e007558ce41eb",
  "random 72057624566038528 ints -1468842130 1591024174 -887267272 1570273700 bits 0 102 1911777706 long -4892855016299144948 bytes 2359e6c8a9fbe188f1ef",
  "random 3007372288 ints 2087309646 1594742522 -1693745903 102325151 bits 0 48 864820584 long -1269587554435590975 bytes 69d0ec53a98de0eb2a17",
  "random -3007372289 ints -2087694396 -430793471 -1515426176 560731326 bits 1 68 1211528384 long -7653193330303680185 bytes fa0f9f8281b4c53762c4",
  "random 281474976710656 ints -1155484576 -723955400 1033096058 -1690734402 bits 1 39 1182054491 long 2158390814503909950 bytes 6da712c82bcd4d554bf0",
];

// Recorded from Apache ZooKeeper 3.8.0's ZooKeeperServer.generatePasswd (Debian's jar).
const GOLDEN_PASSWORDS: readonly [bigint, string][] = [
  [0x10000071b9e0000n, "0030baae8da1fbb8de4245b21e35dbdf"],
  [0x10000071b9e0001n, "1351b4ae2deddafdd385acddf2bdefac"],
  [1n, "054cc74a37327db215e702e20c73f005"],
  [-1n, "20f62cb5648dc2d771471c8a2486a9ee"],
  [0x7fffffffffffffffn, "20f62cb5648dc2d771471c8a2486a9ee"],
  [-0x100000000000000n, "f22acd4a97e69d6d20a49bb638eadb38"],
];

/** Seeds for the comparisons with a live JVM: the golden ones plus 40 more, from the LCG itself. */
function comparisonSeeds(): bigint[] {
  const more = new JavaRandom(20240601n);
  const extra = Array.from({ length: 40 }, () => more.nextLong());
  return [...GOLDEN_DRAWS.map((line) => BigInt(line.split(" ")[1]!)), ...extra];
}

/** Session ids the way ZooKeeper lays them out (server id in the top byte), and edge cases. */
function comparisonSessionIds(): bigint[] {
  const more = new JavaRandom(7n);
  const serverIds = [0n, 1n, 2n, 3n, 255n];
  const timeBased = serverIds.flatMap((id) =>
    Array.from({ length: 4 }, () =>
      BigInt.asIntN(64, (id << 56n) | (BigInt(more.nextInt() >>> 0) << 16n)),
    ),
  );
  return [...GOLDEN_PASSWORDS.map(([id]) => id), ...timeBased, 0n, -(1n << 63n)];
}

const RANDOM_VECTORS_JAVA = `
import java.util.Random;

public class RandomVectors {
  static final class Exposed extends Random {
    Exposed(long seed) { super(seed); }
    int bits(int n) { return next(n); }
  }
  static String hex(byte[] b) {
    StringBuilder s = new StringBuilder();
    for (byte x : b) s.append(String.format("%02x", x));
    return s.toString();
  }
  public static void main(String[] args) {
    for (String a : args[0].split(",")) {
      Exposed r = new Exposed(Long.parseLong(a));
      StringBuilder line = new StringBuilder("random " + a + " ints");
      for (int i = 0; i < 4; i++) line.append(' ').append(r.nextInt());
      line.append(" bits");
      for (int bits : new int[] {1, 7, 31}) line.append(' ').append(r.bits(bits));
      line.append(" long ").append(r.nextLong());
      byte[] b = new byte[10];
      r.nextBytes(b);
      System.out.println(line.append(" bytes ").append(hex(b)));
    }
    for (String a : args[1].split(",")) {
      Random r = new Random(Long.parseLong(a) ^ 0XB3415C00L);
      byte[] p = new byte[16];
      r.nextBytes(p);
      System.out.println("password " + a + " " + hex(p));
    }
  }
}
`;

const ZOOKEEPER_PASSWORDS_JAVA = `
import java.lang.reflect.Method;
import org.apache.zookeeper.server.ZooKeeperServer;

public class ZooKeeperPasswords {
  public static void main(String[] args) throws Exception {
    Method generate = ZooKeeperServer.class.getDeclaredMethod("generatePasswd", long.class);
    generate.setAccessible(true);
    ZooKeeperServer server = new ZooKeeperServer();
    for (String a : args[0].split(",")) {
      byte[] p = (byte[]) generate.invoke(server, Long.parseLong(a));
      StringBuilder s = new StringBuilder();
      for (byte x : p) s.append(String.format("%02x", x));
      System.out.println("password " + a + " " + s);
    }
  }
}
`;

/** Runs a single-file Java program (Java 11+ source launch) and returns its stdout lines. */
function runJava(
  java: string,
  className: string,
  source: string,
  args: string[],
  classpath?: string,
) {
  const dir = mkdtempSync(join(tmpdir(), "zkts-java-random-"));
  try {
    const file = join(dir, `${className}.java`);
    writeFileSync(file, source);
    const cp = classpath === undefined ? [] : ["-cp", classpath];
    const result = spawnSync(java, ["-XX:-UsePerfData", ...cp, file, ...args], {
      encoding: "utf8",
      timeout: 60_000,
    });
    assert.equal(result.status, 0, `java failed: ${result.error?.message ?? result.stderr}`);
    return result.stdout.trim().split("\n");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function javaOnPath(): string | undefined {
  const result = spawnSync("java", ["-version"], { encoding: "utf8" });
  return result.status === 0 ? "java" : undefined;
}

const java = javaOnPath();

describe("JavaRandom", () => {
  it("draws what java.util.Random draws (golden vectors from OpenJDK 17)", () => {
    for (const line of GOLDEN_DRAWS) {
      assert.equal(draws(BigInt(line.split(" ")[1]!)), line);
    }
  });

  it("uses only the seed's low 48 bits, like Java's scramble", () => {
    assert.equal(new JavaRandom(1n << 48n).nextInt(), new JavaRandom(0n).nextInt());
    assert.equal(new JavaRandom(-(1n << 63n)).nextInt(), new JavaRandom(0n).nextInt());
  });

  it("setSeed restarts the sequence", () => {
    const random = new JavaRandom(5n);
    const first = [random.nextInt(), random.nextInt()];
    random.setSeed(5n);
    assert.deepEqual([random.nextInt(), random.nextInt()], first);
  });

  it("nextBytes takes four bytes per nextInt, low byte first, discarding the rest", () => {
    for (let length = 0; length <= 9; length++) {
      const bytes = new Uint8Array(length);
      new JavaRandom(99n).nextBytes(bytes);
      const ints = new JavaRandom(99n);
      const expected: number[] = [];
      while (expected.length < length) {
        const int = ints.nextInt();
        for (let shift = 0; shift < 32 && expected.length < length; shift += 8) {
          expected.push((int >> shift) & 0xff);
        }
      }
      assert.deepEqual([...bytes], expected, `length ${length}`);
    }
  });
});

describe("sessionPassword", () => {
  it("is ZooKeeper's generatePasswd (golden vectors from ZooKeeper 3.8.0)", () => {
    assert.equal(SUPER_SECRET, 0xb3415c00n);
    for (const [sessionId, expected] of GOLDEN_PASSWORDS) {
      assert.equal(
        hex(sessionPassword(sessionId)),
        expected,
        `session 0x${sessionId.toString(16)}`,
      );
    }
  });

  it("checks a password as ZooKeeper's checkPasswd does", () => {
    const id = 0x10000071b9e0000n;
    assert.equal(checkSessionPassword(id, sessionPassword(id)), true);
    assert.equal(checkSessionPassword(id, sessionPassword(id + 1n)), false);
    assert.equal(checkSessionPassword(id, sessionPassword(id).subarray(0, 15)), false);
    assert.equal(checkSessionPassword(0n, sessionPassword(0n)), false);
  });
});

describe("against a live JVM", { skip: java === undefined && "no java on PATH" }, () => {
  it("java.util.Random draws the same for 50 seeds, and the same passwords", () => {
    const seeds = comparisonSeeds();
    const ids = comparisonSessionIds();
    const lines = runJava(java!, "RandomVectors", RANDOM_VECTORS_JAVA, [
      seeds.join(","),
      ids.join(","),
    ]);
    const ours = [
      ...seeds.map(draws),
      ...ids.map((id) => `password ${id} ${hex(sessionPassword(id))}`),
    ];
    assert.deepEqual(ours, lines);
  });
});

describe("against Apache ZooKeeper's generatePasswd", { skip: apacheZooKeeperSkip() }, () => {
  it("gives the same password for every session id", () => {
    const found = findInstallation();
    assert.ok("installation" in found);
    const { java: zkJava, classpath } = found.installation;
    const ids = comparisonSessionIds();
    const lines = runJava(
      zkJava,
      "ZooKeeperPasswords",
      ZOOKEEPER_PASSWORDS_JAVA,
      [ids.join(",")],
      classpath.join(delimiter),
    ).filter((line) => line.startsWith("password "));
    assert.deepEqual(
      ids.map((id) => `password ${id} ${hex(sessionPassword(id))}`),
      lines,
    );
  });
});
