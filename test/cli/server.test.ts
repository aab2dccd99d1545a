/**
 * `zkts server`: the one line it prints, a client's first requests against it, a clean exit on
 * SIGTERM/SIGINT, and one line with exit 2 for bad arguments, configs and values.
 *
 * Method: the command runs as a child process, as a user runs it; the server tests use the
 * harness (test/harness/zkts-server.ts) or spawn it themselves to see its exit code. Ports are
 * always the kernel's pick (--port 0), never 2181.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { connect } from "../../src/index.js";
import { within } from "../harness/client-helpers.js";
import { startZkts } from "../harness/zkts-server.js";

const MAIN = "src/cli/main.ts";
const LISTENING = /^zkts server listening on 127\.0\.0\.1:(\d+)\n$/;

function zkts(...args: string[]) {
  const result = spawnSync(process.execPath, ["--import", "tsx", MAIN, ...args], {
    encoding: "utf8",
    timeout: 30_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Asserts exit 2 with exactly one line on stderr, no stack trace, matching `pattern`. */
function refusedWithOneLine(result: ReturnType<typeof zkts>, pattern: RegExp): void {
  assert.equal(result.status, 2, `exit ${result.status}; stderr: ${result.stderr}`);
  assert.equal(result.stdout, "");
  const lines = result.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, `more than one line:\n${result.stderr}`);
  assert.doesNotMatch(result.stderr, /^\s+at /m);
  assert.match(lines[0]!, pattern);
}

/** A `zkts server` child with its stdout collected, to see what it prints and how it exits. */
function spawnServer(...args: string[]) {
  // No AdminServer: it would take ZooKeeper's default port, 8080 (the admin tests use free ports).
  const serverArgs = ["server", "-D", "admin.enableServer=false", ...args];
  const child = spawn(process.execPath, ["--import", "tsx", MAIN, ...serverArgs], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString("utf8");
  });
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString("utf8");
  });
  const exited = new Promise<number | string>((resolve) => {
    child.once("exit", (code, signal) => resolve(code ?? signal ?? "unknown"));
  });
  const listening = within(
    new Promise<string>((resolve, reject) => {
      child.stdout.on("data", () => {
        if (stdout.includes("\n")) resolve(stdout);
      });
      void exited.then((code) => reject(new Error(`exited ${code} before listening: ${stderr}`)));
    }),
    20_000,
    "listening line",
  );
  return { child, listening, exited, output: () => ({ stdout, stderr }) };
}

const children = new Set<ChildProcess>();
after(() => {
  for (const child of children) child.kill("SIGKILL");
});

describe("zkts server: arguments", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "zkts-cli-server-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("prints its usage with --help, exit 0", () => {
    const { status, stdout } = zkts("server", "--help");
    assert.equal(status, 0);
    assert.match(stdout, /^usage: zkts server/);
  });

  it("refuses an unknown flag", () => {
    refusedWithOneLine(zkts("server", "--bogus"), /^zkts server: Unknown option '--bogus'/);
  });

  it("refuses a malformed number, naming the flag and the value", () => {
    refusedWithOneLine(
      zkts("server", "--port", "abc"),
      /^zkts server: --port: "abc" is not an integer$/,
    );
    refusedWithOneLine(zkts("server", "--tick-time", "2s"), /--tick-time: "2s" is not an integer/);
  });

  it("refuses a value out of range, naming the setting", () => {
    refusedWithOneLine(
      zkts("server", "--port", "70000"),
      /clientPort must be an integer in 0\.\.65535/,
    );
    refusedWithOneLine(
      zkts("server", "--min-session-timeout", "9000", "--max-session-timeout", "4000"),
      /minSessionTimeout \(9000\) must not be larger than maxSessionTimeout \(4000\)/,
    );
  });

  it("refuses an unreadable config", () => {
    const missing = join(dir, "missing.cfg");
    refusedWithOneLine(
      zkts("server", "--config", missing),
      /cannot read config .*missing\.cfg: ENOENT/,
    );
  });

  it("refuses a bad value in the config, naming the file and the key", () => {
    const file = join(dir, "bad.cfg");
    writeFileSync(file, "dataDir=/tmp/x\ntickTime=fast\nserver.1=127.0.0.1:2888:3888\n");
    refusedWithOneLine(zkts("server", "-c", file), /bad\.cfg: tickTime: "fast" is not an integer/);
  });

  it("refuses an unknown log level", () => {
    refusedWithOneLine(zkts("server", "--log-level", "loud"), /--log-level must be one of debug/);
  });

  it("refuses --set without KEY=VALUE, and a bad value given with it", () => {
    refusedWithOneLine(zkts("server", "--set", "tickTime"), /--set wants KEY=VALUE/);
    refusedWithOneLine(zkts("server", "-D", "maxClientCnxns=lots"), /--set maxClientCnxns: "lots"/);
  });

  it("refuses a Java KeyStore for TLS, saying how to convert it", () => {
    refusedWithOneLine(
      zkts("server", "--secure-port", "0", "-D", "ssl.keyStore.location=/nowhere/server.jks"),
      /ssl\.keyStore\.location \/nowhere\/server\.jks: a Java KeyStore .*keytool -importkeystore/,
    );
  });
});

describe("zkts server: serving", () => {
  it("prints one line, serves our client, and stops on SIGTERM", async () => {
    const server = await startZkts();
    try {
      assert.ok(server.port > 0 && server.port !== 2181);
      const zk = await connect(server.connectString, { sessionTimeoutMs: 10_000 });
      try {
        await zk.create("/cli-test", "hello");
        const { data, stat } = await zk.getData("/cli-test");
        assert.equal(Buffer.from(data).toString("utf8"), "hello");
        assert.equal(stat.version, 0);
      } finally {
        await zk.close();
      }
    } finally {
      await server.stop();
    }
    assert.equal(server.running, false);
  });

  it("takes the harness's zoo.cfg, answers four-letter words, and comes back after kill()", async () => {
    const server = await startZkts({ config: { "4lw.commands.whitelist": "ruok" } });
    try {
      assert.equal(await server.fourLetterWord("ruok"), "imok");
      assert.match(await server.fourLetterWord("srvr"), /^Mode: standalone$/m);
      assert.match(await server.fourLetterWord("stat"), /not in the whitelist/);
      const { port, pid } = server;
      await server.kill();
      assert.equal(server.running, false);
      await server.start();
      assert.equal(server.port, port);
      assert.notEqual(server.pid, pid);
      assert.equal(await server.fourLetterWord("ruok"), "imok");
    } finally {
      await server.stop();
    }
  });

  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    it(`exits 0 on ${signal}, having printed exactly the listening line`, async () => {
      const server = spawnServer("--host", "127.0.0.1", "--port", "0");
      children.add(server.child);
      const line = await server.listening;
      assert.match(line, LISTENING);
      server.child.kill(signal);
      assert.equal(await within(server.exited, 10_000, "exit"), 0);
      children.delete(server.child);
      assert.deepEqual(server.output(), { stdout: line, stderr: "" });
    });
  }

  it("lets flags override the config file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "zkts-cli-server-"));
    try {
      const file = join(dir, "zoo.cfg");
      writeFileSync(file, "tickTime=2000\nmaxSessionTimeout=40000\nclientPort=1\n");
      const server = spawnServer(
        "-c",
        file,
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--max-session-timeout",
        "5000",
      );
      children.add(server.child);
      const port = Number(LISTENING.exec(await server.listening)?.[1]);
      assert.ok(port > 1);
      const zk = await connect(`127.0.0.1:${port}`, { sessionTimeoutMs: 30_000 });
      try {
        assert.equal(zk.sessionTimeoutMs, 5000);
      } finally {
        await zk.close();
      }
      server.child.kill("SIGTERM");
      assert.equal(await within(server.exited, 10_000, "exit"), 0);
      children.delete(server.child);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("says in one line, exit 1, that the port is taken", async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    try {
      const address = blocker.address();
      assert.ok(address !== null && typeof address === "object");
      const result = zkts(
        "server",
        "-D",
        "admin.enableServer=false",
        "--host",
        "127.0.0.1",
        "--port",
        String(address.port),
      );
      assert.equal(result.status, 1, result.stderr);
      assert.equal(result.stdout, "");
      assert.equal(result.stderr.trimEnd().split("\n").length, 1, result.stderr);
      assert.match(result.stderr, /^zkts server: .*EADDRINUSE/);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});

describe("zkts server: SASL", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "zkts-cli-sasl-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("--jaas FILE with authProvider.1: its users authenticate, a wrong password is refused", async () => {
    const jaas = join(dir, "server.jaas");
    writeFileSync(
      jaas,
      'Server { org.apache.zookeeper.server.auth.DigestLoginModule required user_bob="pw"; };\n',
    );
    const server = spawnServer(
      "--host",
      "127.0.0.1",
      "--port",
      "0",
      "--jaas",
      jaas,
      "-D",
      "authProvider.1=org.apache.zookeeper.server.auth.SASLAuthenticationProvider",
      "-D",
      "sessionRequireClientSASLAuth=true",
    );
    children.add(server.child);
    const address = `127.0.0.1:${Number(LISTENING.exec(await server.listening)?.[1])}`;
    const zk = await connect(address, { sasl: { username: "bob", password: "pw" } });
    try {
      const ids = await zk.whoAmI();
      assert.ok(ids.some((i) => i.authScheme === "sasl" && i.user === "bob"));
    } finally {
      await zk.close();
    }
    await assert.rejects(
      connect(address, { sasl: { username: "bob", password: "no" } }),
      /AUTHFAILED/,
    );
    server.child.kill("SIGTERM");
    assert.equal(await within(server.exited, 10_000, "exit"), 0);
    children.delete(server.child);
  });

  it("refuses a JAAS file it cannot read, and sasl enforcement without the provider", () => {
    refusedWithOneLine(
      zkts("server", "--jaas", join(dir, "missing.jaas")),
      /java\.security\.auth\.login\.config .*missing\.jaas: ENOENT/,
    );
    refusedWithOneLine(
      zkts("server", "-D", "sessionRequireClientSASLAuth=true"),
      /Authentication scheme sasl is not available/,
    );
  });
});
