/**
 * `zkts shell` run by scripts: commands on stdin, with -c, or on the command line; zkCli's output
 * text; --json; exit statuses and one-line failures.
 *
 * Method: a differential test. One script of zkCli commands (with a marker command between
 * steps, `stat` of a path that does not exist, to cut the output into steps) is piped through
 * Apache ZooKeeper's own CLI (org.apache.zookeeper.ZooKeeperMain) against Apache ZooKeeper, and
 * through `zkts shell` against the same server and against a zkts server. After normalizing
 * what the server chooses (times, zxids relative to the first, session ids), each step's output
 * must be the same; watch events, which print whenever they arrive, are compared as one list.
 * The rest runs `zkts shell` alone against a zkts server: the parts zkCli lacks or gets wrong
 * (its stack traces), and the exit statuses.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { closeSync, existsSync, openSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { connect, digestId } from "../../src/index.js";
import {
  apacheZooKeeperSkip,
  startZooKeeper,
  type ZooKeeperProcess,
} from "../harness/apache-zookeeper.js";
import { within } from "../harness/client-helpers.js";
import { findInstallation } from "../harness/installation.js";
import { CLI_JVM_FLAGS } from "../harness/java-cli.js";
import { startZkts } from "../harness/zkts-server.js";

const MAIN = "src/cli/main.ts";
const RUN_TIMEOUT_MS = 60_000;
const MARKER = "/zkts-shell-step-";
const ALICE = digestId("alice", "secret");

interface Step {
  readonly name: string;
  readonly commands: readonly string[];
  /** ls -R walks children in the server's order in zkCli, in name order in zkts. */
  readonly unordered?: boolean;
  /** zkCli prints nothing here (a standalone server's config is empty). */
  readonly empty?: boolean;
}

const STEPS: readonly Step[] = [
  {
    name: "create: persistent, ephemeral, sequential, container, TTL, and its errors",
    commands: [
      "create /sh hello",
      "create -e /sh/eph e",
      "create -s /sh/seq- s",
      "create -e -s /sh/eseq- es",
      "create -c /sh/container",
      "create -t 600000 /sh/ttl t",
      "create /sh again",
      "create /no-parent/x",
      "create -e /sh/eph/child",
      "create sh-relative",
      'create /sh/quoted "two words"',
    ],
  },
  { name: "ls, ls -s", commands: ["ls /sh", "ls -s /sh", "ls /no-such-node", "ls /"] },
  { name: "ls -R", commands: ["ls -R /sh"], unordered: true },
  {
    name: "stat",
    commands: ["stat /sh/seq-0000000001", "stat /sh/eph", "stat /sh/container", "stat /no-such"],
  },
  {
    name: "get and set with -s and -v",
    commands: [
      "get /sh",
      "get /sh/quoted",
      "set /sh world",
      "get -s /sh",
      "set -v 1 /sh again",
      "set -v 1 /sh stale",
      "set -s /sh last",
      "get /no-such-node",
    ],
  },
  {
    name: "null data prints null",
    commands: ["create /sh-nodata", "get /sh-nodata", "delete /sh-nodata"],
  },
  {
    name: "delete with versions, of a parent, of a missing node",
    commands: [
      "create /sh/gone x",
      "set /sh/gone y",
      "delete -v 0 /sh/gone",
      "delete -v 1 /sh/gone",
      "delete /sh/gone",
      "delete /sh",
      "delete /zookeeper",
    ],
  },
  {
    name: "getAllChildrenNumber and getEphemerals",
    commands: [
      "getAllChildrenNumber /sh",
      "getAllChildrenNumber /no-such",
      "getEphemerals /sh",
      "getEphemerals",
      "getEphemerals /no-such",
    ],
  },
  {
    name: "addauth, whoami, getAcl, setAcl",
    commands: [
      "addauth digest alice:secret",
      "whoami",
      "getAcl /sh",
      "create /sh-secret s auth:alice:secret:cdrwa",
      "getAcl -s /sh-secret",
      `setAcl -v 0 /sh-secret digest:${ALICE}:cdrwa,world:anyone:r`,
      `setAcl -v 0 /sh-secret digest:${ALICE}:cdrwa`,
      "getAcl /sh-secret",
      "setAcl -s /sh/seq-0000000001 world:anyone:cd",
      "get /sh/seq-0000000001",
      "getAcl /no-such",
    ],
  },
  {
    name: "one-shot watches and sync",
    commands: [
      "create /sh-w w",
      "ls -w /sh-w",
      "get -w /sh-w",
      "stat -w /sh-w/child",
      "create /sh-w/child",
      "set /sh-w w2",
      "sync /sh-w",
      "get -w /sh-w",
      "removewatches /sh-w",
      "removewatches /sh-w",
      // zkCli prints events on a thread of their own: a round trip lets it catch up before
      // printwatches changes (it asks printwatches when it prints, not when the event came).
      "sync /sh-w",
    ],
  },
  {
    name: "printwatches",
    commands: [
      "printwatches",
      "printwatches off",
      "printwatches",
      "get -w /sh-w",
      "set /sh-w unseen",
      "sync /sh-w",
      "printwatches on",
    ],
  },
  {
    name: "setAcl -R and deleteall",
    commands: [
      "create /sh-tree",
      "create /sh-tree/a",
      "create /sh-tree/a/b",
      "setAcl -R /sh-tree world:anyone:rcd",
      "getAcl /sh-tree/a/b",
      "deleteall /sh-tree",
      "ls /sh-tree",
      "deleteall /no-such",
    ],
  },
  {
    name: "persistent watches: addWatch and removewatches",
    commands: [
      "create /sh-pw",
      "addWatch /sh-pw",
      "create /sh-pw/a",
      "set /sh-pw/a x",
      "addWatch -m PERSISTENT /sh-w",
      "set /sh-w p",
      "create /sh-w/other",
      "removewatches /sh-pw",
      "sync /sh-pw",
    ],
  },
  { name: "config of a standalone server", commands: ["config"], empty: true },
  { name: "history", commands: ["history"] },
];

/** Every line of the script, markers included, as both CLIs number them in history. */
const SCRIPT: readonly string[] = [
  `stat ${MARKER}0`,
  ...STEPS.flatMap((step, i) => [...step.commands, `stat ${MARKER}${i + 1}`]),
  "quit",
];

/** The JVM and ZooKeeper's jars for its CLI, logging to nowhere. */
function zkCliCommand(server: string): [string, string[]] {
  const found = findInstallation();
  if ("reason" in found) throw new Error(found.reason);
  const classpath = found.installation.classpath.filter(
    (entry) => !/(slf4j-log4j12|log4j-1\.2)\.jar$/.test(entry),
  );
  for (const jar of ["/usr/share/java/slf4j-nop.jar"]) if (existsSync(jar)) classpath.push(jar);
  const main = "org.apache.zookeeper.ZooKeeperMain";
  const args = [...CLI_JVM_FLAGS, "-cp", classpath.join(delimiter), main, "-server", server];
  return [found.installation.java, args];
}

function zktsShellCommand(...args: string[]): [string, string[]] {
  return [process.execPath, ["--import", "tsx", MAIN, "shell", ...args]];
}

/** Runs a CLI with `input` on stdin, stdout and stderr into one file, as a terminal shows them. */
async function runPiped(
  [command, args]: [string, string[]],
  input: string,
  dir: string,
  name: string,
): Promise<{ output: string; status: number | null }> {
  const inputFile = join(dir, `${name}.in`);
  const outputFile = join(dir, `${name}.out`);
  await writeFile(inputFile, input);
  const stdin = openSync(inputFile, "r");
  const stdout = openSync(outputFile, "w");
  let status: number | null;
  try {
    const child = spawn(command, args, { stdio: [stdin, stdout, stdout] });
    const exited = new Promise<number | null>((resolve, reject) => {
      child.once("error", reject);
      child.once("exit", (code) => resolve(code));
    });
    try {
      status = await within(exited, RUN_TIMEOUT_MS, name);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
  } finally {
    closeSync(stdin);
    closeSync(stdout);
  }
  return { output: await readFile(outputFile, "utf8"), status };
}

interface Split {
  readonly steps: string[][];
  readonly events: string[];
}

/** Cuts the output at the markers; takes watch events out; normalizes what the server chose. */
function split(raw: string): Split {
  const events: string[] = [];
  const steps: string[][] = [];
  let current: string[] | undefined;
  const normalize = normalizer();
  for (const line of raw.split("\n")) {
    if (line.startsWith(`Node does not exist: ${MARKER}`)) {
      current = [];
      steps.push(current);
    } else if (line.startsWith("WatchedEvent ")) {
      // zkCli's banner event; zkts shell shows the connection in its prompt instead.
      if (current !== undefined || !line.includes("type:None")) events.push(line.trim());
    } else if (line.trim() !== "" && line !== "WATCHER::") {
      current?.push(normalize(line));
    }
  }
  return { steps: steps.slice(0, STEPS.length), events };
}

const TIME = /^(ctime|mtime) = \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \S+ \d{4}$/;
const ZXID = /^(cZxid|mZxid|pZxid) = 0x([0-9a-f]+)$/;
const OWNER = /^ephemeralOwner = 0x([0-9a-f]+)$/;

function normalizer(): (line: string) => string {
  let base: bigint | undefined;
  return (line) => {
    const time = TIME.exec(line);
    if (time) return `${time[1]} = <time>`;
    const zxid = ZXID.exec(line);
    if (zxid) {
      const value = BigInt(`0x${zxid[2]}`);
      base ??= value;
      return `${zxid[1]} = z${value >= base ? "+" : ""}${value - base}`;
    }
    const owner = OWNER.exec(line);
    if (owner && BigInt(`0x${owner[1]}`) !== 0n) return "ephemeralOwner = <session>";
    return line;
  };
}

describe("zkts shell prints what zkCli prints", { skip: apacheZooKeeperSkip() }, () => {
  const runs = new Map<string, Split & { raw: string; status: number | null }>();
  const servers: ZooKeeperProcess[] = [];
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "zkts-shell-"));
    const [apache, zkts] = await Promise.all([
      startZooKeeper({ extraConfig: { extendedTypesEnabled: "true" } }),
      startZkts({ config: { extendedTypesEnabled: "true" } }),
    ]);
    servers.push(apache, zkts);
    const input = `${SCRIPT.join("\n")}\n`;
    const run = async (name: string, command: [string, string[]]) => {
      const result = await runPiped(command, input, dir, name.replace("/", "-"));
      runs.set(name, { ...split(result.output), raw: result.output, status: result.status });
    };
    // The two runs against Apache's server take turns (zxids are compared relative to the
    // first), with the tree emptied between them; the zkts server's run goes alongside.
    const againstZkts = run("zkts/zkts", zktsShellCommand("-server", zkts.connectString));
    await run("zkCli/apache", zkCliCommand(apache.connectString));
    await emptyTree(apache.connectString);
    await run("zkts/apache", zktsShellCommand("-server", apache.connectString));
    await againstZkts;
  });

  after(async () => {
    await Promise.allSettled(servers.map((server) => server.stop()));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  function stepOf(name: string, index: number, unordered = false): string[] {
    const run = runs.get(name);
    assert.ok(run, `no run ${name}`);
    const lines = run.steps[index];
    assert.ok(lines, `${name}: the output ends before step ${index + 1}:\n${run.raw}`);
    return unordered ? [...lines].sort() : lines;
  }

  STEPS.forEach((step, index) => {
    test(step.name, () => {
      const zkCli = stepOf("zkCli/apache", index, step.unordered);
      assert.equal(
        zkCli.length === 0,
        step.empty === true,
        `what zkCli printed:\n${zkCli.join("\n")}`,
      );
      assert.deepEqual(stepOf("zkts/apache", index, step.unordered), zkCli, "against Apache");
      assert.deepEqual(stepOf("zkts/zkts", index, step.unordered), zkCli, "against zkts");
    });
  });

  test("watch events: the same ones, in the same order, one-shot and persistent", () => {
    const zkCli = runs.get("zkCli/apache")!.events.filter((event) => !event.includes("Closed"));
    // The second get -w's watch is removed; the one set while printwatches was off fires unseen.
    assert.deepEqual(zkCli, [
      "WatchedEvent state:SyncConnected type:NodeCreated path:/sh-w/child",
      "WatchedEvent state:SyncConnected type:NodeChildrenChanged path:/sh-w",
      "WatchedEvent state:SyncConnected type:NodeDataChanged path:/sh-w",
      "WatchedEvent state:SyncConnected type:DataWatchRemoved path:/sh-w",
      "WatchedEvent state:SyncConnected type:NodeCreated path:/sh-pw/a",
      "WatchedEvent state:SyncConnected type:NodeDataChanged path:/sh-pw/a",
      "WatchedEvent state:SyncConnected type:NodeDataChanged path:/sh-w",
      "WatchedEvent state:SyncConnected type:NodeChildrenChanged path:/sh-w",
      "WatchedEvent state:SyncConnected type:PersistentWatchRemoved path:/sh-pw",
    ]);
    assert.deepEqual(runs.get("zkts/apache")!.events, zkCli);
    assert.deepEqual(runs.get("zkts/zkts")!.events, zkCli);
  });

  test("stdin mode exits 1 after failed commands (zkCli: its last command's status)", () => {
    assert.equal(runs.get("zkts/apache")!.status, 1);
    assert.equal(runs.get("zkts/zkts")!.status, 1);
  });
});

/** Deletes every znode but /zookeeper; one the script made unreadable has no children. */
async function emptyTree(connectString: string): Promise<void> {
  const zk = await connect(connectString, { auth: [{ scheme: "digest", auth: "alice:secret" }] });
  const remove = async (path: string): Promise<void> => {
    const children = await zk.getChildren(path).catch(() => []);
    for (const name of children) await remove(`${path}/${name}`);
    await zk.delete(path);
  };
  try {
    for (const name of await zk.getChildren("/")) {
      if (name !== "zookeeper") await remove(`/${name}`);
    }
  } finally {
    await zk.close();
  }
}

/** `zkts shell ARGS` with `input` on stdin; stdout and stderr apart. */
function shell(args: readonly string[], input = "") {
  const result = spawnSync(process.execPath, ["--import", "tsx", MAIN, "shell", ...args], {
    encoding: "utf8",
    input,
    timeout: RUN_TIMEOUT_MS,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("zkts shell, scripted, against a zkts server", () => {
  let server: ZooKeeperProcess;
  let at: string[];

  before(async () => {
    server = await startZkts();
    at = ["-server", server.connectString];
  });

  after(async () => {
    await server?.stop();
  });

  test("-c runs commands separated by ';', quotes kept, and exits 0", () => {
    const result = shell([...at, "-c", "create /c 'a; b'; get /c ; ls /"]);
    assert.equal(result.stderr, "");
    assert.equal(result.status, 0);
    assert.equal(result.stdout, "Created /c\na; b\n[c, zookeeper]\n");
  });

  test("a command on the command line, zkCli's `-server host:port cmd args`", () => {
    const result = shell([...at, "create", "/cmdline", "two words"]);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(shell([...at, "--", "get", "/cmdline"]).stdout, "two words\n");
  });

  test("a failed command: one line on stderr, exit 1; the next commands still run", () => {
    const result = shell([...at, "-c", "get /missing; create /after"]);
    assert.equal(result.status, 1);
    assert.equal(result.stderr, "Node does not exist: /missing\n");
    assert.equal(result.stdout, "Created /after\n");
  });

  test("--exit-on-error stops at the first failure", () => {
    const result = shell([...at, "--exit-on-error", "-c", "get /missing2; create /never"]);
    assert.equal(result.status, 1);
    assert.equal(result.stdout, "");
    assert.equal(shell([...at, "stat", "/never"]).stderr, "Node does not exist: /never\n");
  });

  test("commands typed wrong: one line each (no stack trace); exit 2 after the last", () => {
    const cases: [string, string][] = [
      ["redo 99", "Command index out of range"],
      ["set -v abc /after x", "-v argument must be an int value"],
      ["frobnicate /", "Command not found: frobnicate"],
      ["ls", "ls [-s] [-w] [-R] path"],
      ["ls -x /", "Unrecognized option: -x"],
      [
        "create -c -e /bad",
        "-c cannot be combined with -s or -e. Containers cannot be ephemeral or sequential.",
      ],
      ["create -t abc /bad", "-t argument must be a long value"],
      ["create -e -t 10 /bad", "TTLs cannot be used with Ephemeral znodes"],
      ["create relative", "Path must start with / character"],
      ["create /bad/ x", "Path must not end with / character"],
      ["setAcl /after bad", "bad does not have the form scheme:id:perm"],
      ["setAcl /after world:anyone:rx", "Unknown perm type: x"],
      ["addWatch -m SOMETIMES /after", "Unsupported mode: SOMETIMES"],
    ];
    const result = shell(at, cases.map(([command]) => `${command}\n`).join(""));
    assert.deepEqual(
      result.stderr.trimEnd().split("\n"),
      cases.map(([, message]) => message),
    );
    assert.equal(result.stdout, "");
    assert.equal(result.status, 2);
    // A failure the server reports is 1, whatever came before.
    assert.equal(shell(at, "ls -x /\nget /nowhere\n").status, 1);
  });

  test("bad shell options: one line, exit 2", () => {
    for (const args of [
      ["--bogus"],
      ["-server"],
      ["--timeout", "soon"],
      ["-c", "ls /", "ls", "/"],
    ]) {
      const result = shell(args);
      assert.equal(result.status, 2, args.join(" "));
      assert.equal(result.stdout, "");
      assert.match(result.stderr, /^zkts shell: [^\n]+\n$/, args.join(" "));
    }
  });

  test("no server: every command fails with one line, exit 1", () => {
    const result = shell(["-server", "127.0.0.1:1", "--timeout", "500", "ls", "/"]);
    assert.equal(result.status, 1);
    assert.match(result.stderr, /^Not connected: cannot connect to 127\.0\.0\.1:1: [^\n]+\n$/);
  });

  test("data: UTF-8 as text, other bytes as 0x-hex, in text and --json", async () => {
    const zk = await connect(server.connectString);
    try {
      await zk.create("/bytes", Buffer.from([0xff, 0x00, 0x10]));
      await zk.create("/text", "héllo");
    } finally {
      await zk.close();
    }
    assert.equal(shell([...at, "-c", "get /bytes; get /text"]).stdout, "0xff0010\nhéllo\n");
    const json = shell([...at, "--json", "-c", "get /bytes; get /text"])
      .stdout.trimEnd()
      .split("\n");
    assert.deepEqual(
      json.map((line) => JSON.parse(line)),
      [
        { ok: true, data: "ff0010", encoding: "hex" },
        { ok: true, data: "héllo", encoding: "utf8" },
      ],
    );
  });

  test("--json: one object per command and per event, failures included", () => {
    const result = shell(
      [...at, "--json"],
      "create /j x\nls -s /j\nget -w /j\nset /j y\ngetAcl /j\nstat /nope\nsync /j\n",
    );
    assert.equal(result.status, 1);
    assert.equal(result.stderr, "");
    const lines = result.stdout
      .trimEnd()
      .split("\n")
      .map((line) => JSON.parse(line));
    assert.deepEqual(lines[0], { ok: true, created: "/j" });
    assert.deepEqual(lines[1].children, []);
    assert.equal(lines[1].stat.dataLength, 1);
    assert.match(lines[1].stat.czxid, /^0x[0-9a-f]+$/);
    assert.deepEqual(lines[2], { ok: true, data: "x", encoding: "utf8" });
    const rest = lines.slice(3);
    assert.deepEqual(
      rest.filter((line) => "event" in line),
      [{ event: { type: "NodeDataChanged", state: "SyncConnected", path: "/j" } }],
    );
    assert.deepEqual(
      rest.filter((line) => !("event" in line)),
      [
        { ok: true },
        { ok: true, acl: [{ scheme: "world", id: "anyone", perms: "cdrwa" }] },
        { ok: false, error: "Node does not exist: /nope", code: "NONODE", path: "/nope" },
        { ok: true },
      ],
    );
  });

  test("close, then commands are not connected; connect opens a session again", () => {
    const result = shell(
      at,
      `ls /zookeeper\nclose\nls /\nconnect ${server.connectString}\nls /zookeeper\n`,
    );
    assert.equal(result.stdout, "[config, quota]\n[config, quota]\n");
    assert.equal(result.stderr, "Not connected\n");
    assert.equal(result.status, 1);
  });

  test("quit ends the script; history and redo number lines from 0", () => {
    const result = shell(at, "create /h 1\nget /h\nredo 1\nhistory\nquit\nget /never-run\n");
    assert.equal(result.status, 0, result.stderr);
    assert.equal(
      result.stdout,
      "Created /h\n1\n1\n0 - create /h 1\n1 - get /h\n2 - get /h\n3 - history\n",
    );
  });
});
