/**
 * Apache ZooKeeper's own CLI (org.apache.zookeeper.ZooKeeperMain, from Debian's package)
 * against zkts's server: create, ls, get, set, stat, delete, getAcl, setAcl, addauth and a few
 * more, each step asserted on what the CLI prints, and required to print exactly what it prints
 * against Apache ZooKeeper 3.8 once times, zxids and session ids are normalized.
 *
 * One JVM per server: the whole script is piped to an interactive ZooKeeperMain on stdin (JLine
 * is not installed, so it reads plain lines and runs them in order). Between steps a `stat` of a
 * marker path that does not exist prints a line to split the output on; stdout and stderr go to
 * one file, so each error message lands in its own step. Watch events arrive on the CLI's event
 * thread at any point, so they are taken out and compared as one ordered list.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { closeSync, existsSync, openSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { connect, digestId } from "../../src/index.js";
import { apacheZooKeeperSkip, type ZooKeeperProcess } from "../harness/apache-zookeeper.js";
import { within } from "../harness/client-helpers.js";
import { findInstallation } from "../harness/installation.js";
import { CLI_JVM_FLAGS } from "../harness/java-cli.js";
import { type ServerKind, startServerOf } from "./fixture.js";

const CLI_TIMEOUT_MS = 60_000;
const MARKER = "/zkts-cli-step-";
const ALICE = digestId("alice", "secret");

interface Step {
  readonly name: string;
  readonly commands: readonly string[];
  /** What the CLI prints for these commands (normalized), stdout and stderr in one. */
  readonly expected: readonly string[];
  /** Lines whose order is the server's choice (ls -R walks children in server order). */
  readonly unordered?: boolean;
  /** Set while zkts prints something else: a todo, so the difference stays visible. */
  readonly todo?: string;
}

/** A stat's lines after normalize(): `zxid` is relative to the first zxid of the run. */
function stat(fields: {
  czxid: number;
  mzxid?: number;
  pzxid?: number;
  cversion?: number;
  version?: number;
  aversion?: number;
  owner?: string;
  dataLength: number;
  numChildren?: number;
}): string[] {
  const zxid = (n: number) => `z+${n}`;
  return [
    `cZxid = ${zxid(fields.czxid)}`,
    "ctime = <time>",
    `mZxid = ${zxid(fields.mzxid ?? fields.czxid)}`,
    "mtime = <time>",
    `pZxid = ${zxid(fields.pzxid ?? fields.czxid)}`,
    `cversion = ${fields.cversion ?? 0}`,
    `dataVersion = ${fields.version ?? 0}`,
    `aclVersion = ${fields.aversion ?? 0}`,
    `ephemeralOwner = ${fields.owner ?? "0x0"}`,
    `dataLength = ${fields.dataLength}`,
    `numChildren = ${fields.numChildren ?? 0}`,
  ];
}

// zxids are relative to /cli's create (z+0). A write that fails takes a zxid too (an error txn).
const STEPS: readonly Step[] = [
  {
    name: "create: persistent, ephemeral, sequential, container, TTL; its errors",
    commands: [
      "create /cli hello",
      "create -e /cli/eph e",
      "create -s /cli/seq- s",
      "create -e -s /cli/eseq- es",
      "create -c /cli/container",
      "create -t 600000 /cli/ttl t",
      "create /cli again",
      "create /no-parent/x",
      "create -e /cli/eph/child",
      "create -t 1000 /cli/ttl-without-s-or-p",
    ],
    expected: [
      "Created /cli",
      "Created /cli/eph",
      "Created /cli/seq-0000000001",
      "Created /cli/eseq-0000000002",
      "Created /cli/container",
      "Created /cli/ttl",
      "Node already exists: /cli",
      "Node does not exist: /no-parent/x",
      "Ephemerals cannot have children: /cli/eph/child",
      "Created /cli/ttl-without-s-or-p",
    ],
  },
  {
    name: "ls: children sorted, with -s its stat",
    commands: ["ls /cli", "ls -s /cli", "ls /no-such-node"],
    expected: [
      "[container, eph, eseq-0000000002, seq-0000000001, ttl, ttl-without-s-or-p]",
      "[container, eph, eseq-0000000002, seq-0000000001, ttl, ttl-without-s-or-p]",
      ...stat({ czxid: 0, pzxid: 9, cversion: 6, dataLength: 5, numChildren: 6 }),
      "Node does not exist: /no-such-node",
    ],
  },
  {
    name: "ls -R walks the subtree",
    commands: ["ls -R /cli"],
    unordered: true,
    expected: [
      "/cli",
      "/cli/container",
      "/cli/eph",
      "/cli/eseq-0000000002",
      "/cli/seq-0000000001",
      "/cli/ttl",
      "/cli/ttl-without-s-or-p",
    ],
  },
  {
    name: "stat: persistent, ephemeral, container and TTL owners",
    commands: ["stat /cli/seq-0000000001", "stat /cli/eph", "stat /cli/container", "stat /cli/ttl"],
    expected: [
      ...stat({ czxid: 2, dataLength: 1 }),
      ...stat({ czxid: 1, owner: "<session>", dataLength: 1 }),
      // Containers and TTL nodes keep their kind in ephemeralOwner, but clients are shown 0.
      ...stat({ czxid: 4, dataLength: 0 }),
      ...stat({ czxid: 5, dataLength: 1 }),
    ],
  },
  {
    name: "get and set: data, -s stat, -v versions",
    commands: [
      "get /cli",
      "set /cli world",
      "get -s /cli",
      "set -v 1 /cli again",
      "set -v 1 /cli stale",
      "set -s /cli last",
      "get /no-such-node",
    ],
    expected: [
      "hello",
      "world",
      ...stat({
        czxid: 0,
        mzxid: 10,
        pzxid: 9,
        cversion: 6,
        version: 1,
        dataLength: 5,
        numChildren: 6,
      }),
      "version No is not valid : /cli",
      ...stat({
        czxid: 0,
        mzxid: 13,
        pzxid: 9,
        cversion: 6,
        version: 3,
        dataLength: 4,
        numChildren: 6,
      }),
      "Node does not exist: /no-such-node",
    ],
  },
  {
    name: "get of a znode created without data prints null",
    commands: ["create /cli-nodata", "get /cli-nodata", "delete /cli-nodata"],
    expected: ["Created /cli-nodata", "null"],
  },
  {
    name: "delete: -v versions, a non-empty node, a missing one",
    commands: [
      "create /cli/gone x",
      "set /cli/gone y",
      "delete -v 0 /cli/gone",
      "delete -v 1 /cli/gone",
      "delete /cli/gone",
      "delete /cli",
      "stat /cli/gone",
    ],
    expected: [
      "Created /cli/gone",
      "version No is not valid : /cli/gone",
      "Node does not exist: /cli/gone",
      "Node not empty: /cli",
      "Node does not exist: /cli/gone",
    ],
  },
  {
    name: "addauth digest, then whoami lists the session's ids",
    commands: ["addauth digest alice:secret", "whoami"],
    // ZooKeeper keeps them in a ConcurrentHashMap: iteration order is the Ids' hash order.
    expected: ["Auth scheme: User", "digest: alice", "ip: 127.0.0.1"],
  },
  {
    name: "getAcl, setAcl with versions, auth ACLs and NOAUTH",
    commands: [
      "getAcl /cli",
      "create /cli-secret s auth:alice:secret:cdrwa",
      "getAcl -s /cli-secret",
      `setAcl -v 0 /cli-secret digest:${ALICE}:cdrwa,world:anyone:r`,
      `setAcl -v 0 /cli-secret digest:${ALICE}:cdrwa`,
      "getAcl /cli-secret",
      "setAcl -s /cli/seq-0000000001 world:anyone:cd",
      "get /cli/seq-0000000001",
      "create /cli/seq-0000000001/child",
    ],
    expected: [
      "'world,'anyone",
      ": cdrwa",
      "Created /cli-secret",
      `'digest,'${ALICE}`,
      ": cdrwa",
      ...stat({ czxid: 22, dataLength: 1 }),
      "version No is not valid : /cli-secret",
      `'digest,'${ALICE}`,
      ": cdrwa",
      "'world,'anyone",
      ": r",
      ...stat({ czxid: 2, aversion: 1, dataLength: 1 }),
      "Insufficient permission : /cli/seq-0000000001",
      "Created /cli/seq-0000000001/child",
    ],
  },
  {
    name: "watches: ls -w, get -w, stat -w fire in the server's order",
    commands: [
      "create /cli-w w",
      "ls -w /cli-w",
      "get -w /cli-w",
      "stat -w /cli-w/child",
      "create /cli-w/child",
      "set /cli-w w2",
      "sync /cli-w",
    ],
    expected: [
      "Created /cli-w",
      "[]",
      "w",
      "Node does not exist: /cli-w/child",
      "Created /cli-w/child",
      "Sync is OK",
    ],
  },
];

/** The JVM and ZooKeeper's jars for the CLI, logging to nowhere (slf4j-nop) if it is there. */
function cliInstallation(): { java: string; classpath: string[] } {
  const found = findInstallation();
  if ("reason" in found) throw new Error(found.reason);
  const classpath = found.installation.classpath.filter(
    (entry) => !/(slf4j-log4j12|log4j-1\.2)\.jar$/.test(entry),
  );
  const nop = "/usr/share/java/slf4j-nop.jar";
  if (existsSync(nop)) classpath.push(nop);
  return { java: found.installation.java, classpath };
}

interface CliRun {
  /** Each step's normalized output, in STEPS order. */
  readonly steps: string[][];
  /** The watch events the CLI printed, in order. */
  readonly events: string[];
  readonly exitCode: number | null;
  /** The raw output, for failure messages. */
  readonly raw: string;
}

/** Runs every step through one ZooKeeperMain connected to `server`. */
async function runCli(server: ZooKeeperProcess, dir: string, kind: ServerKind): Promise<CliRun> {
  const { java, classpath } = cliInstallation();
  const script = [
    `stat ${MARKER}0`,
    ...STEPS.flatMap((step, i) => [...step.commands, `stat ${MARKER}${i + 1}`]),
    "quit",
  ];
  const scriptFile = join(dir, `${kind}.script`);
  await writeFile(scriptFile, `${script.join("\n")}\n`);
  const outputFile = join(dir, `${kind}.out`);
  const input = openSync(scriptFile, "r");
  const output = openSync(outputFile, "w");
  let exitCode: number | null;
  try {
    const child = spawn(
      java,
      [
        ...CLI_JVM_FLAGS,
        "-cp",
        classpath.join(delimiter),
        "org.apache.zookeeper.ZooKeeperMain",
        "-server",
        server.connectString,
      ],
      { stdio: [input, output, output] },
    );
    const exited = new Promise<number | null>((resolve, reject) => {
      child.once("error", reject);
      child.once("exit", (code) => resolve(code));
    });
    try {
      exitCode = await within(exited, CLI_TIMEOUT_MS, `ZooKeeperMain against ${kind}`);
    } finally {
      // Only if it hung: by the pid we spawned.
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
  } finally {
    closeSync(input);
    closeSync(output);
  }
  const raw = await readFile(outputFile, "utf8");
  return { ...split(raw), exitCode, raw };
}

/** Cuts the output at the markers and normalizes what the server chose (times, ids). */
function split(raw: string): { steps: string[][]; events: string[] } {
  const events: string[] = [];
  const sections: string[][] = [];
  let current: string[] | undefined;
  const normalizer = new Normalizer();
  for (const line of raw.split("\n")) {
    if (line.startsWith(`Node does not exist: ${MARKER}`)) {
      current = [];
      sections.push(current);
      continue;
    }
    if (line.startsWith("WatchedEvent ")) {
      events.push(line.trim());
      continue;
    }
    if (line.trim() === "" || line === "WATCHER::") continue;
    // Before the first marker: the banner and any logging noise.
    current?.push(normalizer.line(line));
  }
  // The last marker's section holds what `quit` printed: nothing we compare.
  return { steps: sections.slice(0, STEPS.length), events };
}

const TIME = /^(ctime|mtime) = (\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \w+ \d{4})$/;
const ZXID = /^(cZxid|mZxid|pZxid) = 0x([0-9a-f]+)$/;
const OWNER = /^ephemeralOwner = 0x([0-9a-f]+)$/;

class Normalizer {
  private base: bigint | undefined;

  line(line: string): string {
    const time = TIME.exec(line);
    if (time) return `${time[1]} = <time>`;
    const zxid = ZXID.exec(line);
    if (zxid) {
      const value = BigInt(`0x${zxid[2]}`);
      this.base ??= value;
      const delta = value - this.base;
      return `${zxid[1]} = z${delta >= 0n ? "+" : ""}${delta}`;
    }
    const owner = OWNER.exec(line);
    if (owner) {
      const value = BigInt(`0x${owner[1]}`);
      // 0: persistent; the top bit: a container; 0xff top byte: a TTL. Else a session id.
      const special = value === 0n || value === 1n << 63n || value >> 56n === 0xffn;
      return special ? line : "ephemeralOwner = <session>";
    }
    return line;
  }
}

describe("Apache ZooKeeper's Java CLI against zkts (and Apache ZooKeeper)", {
  skip: apacheZooKeeperSkip(),
}, () => {
  const runs = new Map<ServerKind, CliRun>();
  const servers: ZooKeeperProcess[] = [];
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "zkts-cli-"));
    for (const kind of ["zkts", "apache"] as const) {
      const server = await startServerOf(kind);
      servers.push(server);
      const run = await runCli(server, dir, kind);
      runs.set(kind, run);
      // The CLI's quit closed its session: its ephemerals must be gone.
      const zk = await connect(server.connectString);
      try {
        assert.equal(await zk.exists("/cli/eph"), null, `${kind}: /cli/eph outlived the CLI`);
        assert.equal(await zk.exists("/cli/eseq-0000000002"), null);
        assert.notEqual(await zk.exists("/cli/seq-0000000001"), null);
      } finally {
        await zk.close();
      }
    }
  });

  after(async () => {
    await Promise.allSettled(servers.map((server) => server.stop()));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  function outputs(index: number, unordered = false): Record<ServerKind, string[]> {
    const pick = (kind: ServerKind) => {
      const run = runs.get(kind);
      assert.ok(run, `no CLI run against ${kind}`);
      const lines = run.steps[index];
      assert.ok(lines, `${kind}: the CLI's output ends before step ${index + 1}:\n${run.raw}`);
      return unordered ? [...lines].sort() : lines;
    };
    return { zkts: pick("zkts"), apache: pick("apache") };
  }

  STEPS.forEach((step, index) => {
    const options = step.todo === undefined ? {} : { todo: `zkts: ${step.todo}` };
    test(step.name, options, () => {
      const { zkts, apache } = outputs(index, step.unordered);
      const expected = step.unordered ? [...step.expected].sort() : step.expected;
      assert.deepEqual(apache, expected, "Apache ZooKeeper's output is not what this test expects");
      assert.deepEqual(zkts, apache, "the CLI prints something else against zkts");
    });
  });

  test("watch events arrive as against Apache ZooKeeper; quit exits alike", () => {
    const zkts = runs.get("zkts");
    const apache = runs.get("apache");
    assert.ok(zkts && apache);
    assert.deepEqual(apache.events, [
      "WatchedEvent state:SyncConnected type:None path:null",
      "WatchedEvent state:SyncConnected type:NodeCreated path:/cli-w/child",
      "WatchedEvent state:SyncConnected type:NodeChildrenChanged path:/cli-w",
      "WatchedEvent state:SyncConnected type:NodeDataChanged path:/cli-w",
      "WatchedEvent state:Closed type:None path:null",
    ]);
    assert.deepEqual(zkts.events, apache.events);
    assert.equal(zkts.exitCode, apache.exitCode);
  });
});
