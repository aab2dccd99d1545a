/**
 * What the client interop suites share: one standalone server per test file, started with TTL
 * nodes enabled, a super user `super:test` and every four-letter word, and the clients a file
 * opens, closed when it ends. Each test works under its own base path, so tests never see each
 * other's znodes.
 *
 * The server is Apache ZooKeeper (the oracle) or zkts's own, as the environment variable
 * ZKTS_TEST_SERVER says ("apache", the default, or "zkts"): `npm test` runs these suites once
 * against each (scripts/test.mjs). Where zkts still differs from the oracle, a test is marked
 * `zktsTodo("what differs")`: a todo in the zkts run only, so the difference stays visible.
 */
import { readdirSync, readFileSync } from "node:fs";
import { setImmediate as nextMacrotask } from "node:timers/promises";
import { type ConnectOptions, connect, digestId, type ZooKeeper } from "../../src/index.js";
import {
  apacheZooKeeperSkip,
  startZooKeeper,
  type ZooKeeperProcess,
} from "../harness/apache-zookeeper.js";
import { startProxy, type TcpProxy } from "../harness/tcp-proxy.js";
import { startZkts } from "../harness/zkts-server.js";

export const SUPER_USER = "super";
export const SUPER_PASSWORD = "test";

export type ServerKind = "apache" | "zkts";

/** The server these suites run against, from ZKTS_TEST_SERVER (default "apache"). */
export const SERVER_KIND: ServerKind = serverKind(process.env.ZKTS_TEST_SERVER);

/** How suite names call that server, e.g. "client API against zkts". */
export const SERVER_NAME = SERVER_KIND === "zkts" ? "zkts" : "Apache ZooKeeper";

function serverKind(value: string | undefined): ServerKind {
  if (value === undefined || value === "" || value === "apache") return "apache";
  if (value === "zkts") return "zkts";
  throw new Error(`ZKTS_TEST_SERVER=${value}: expected "apache" or "zkts"`);
}

/** For `describe(name, { skip: serverSkip() }, ...)`: zkts's server is always there. */
export function serverSkip(): false | string {
  return SERVER_KIND === "zkts" ? false : apacheZooKeeperSkip();
}

/**
 * For `test(name, zktsTodo("what zkts does differently"), ...)`: a todo in the zkts run (the
 * test still runs and reports, but does not fail the suite), nothing in the Apache run.
 */
export function zktsTodo(difference: string): { todo?: string } {
  return SERVER_KIND === "zkts" ? { todo: `zkts: ${difference}` } : {};
}

export interface OracleOptions {
  /** tickTime in ms (sessions may last 2 to 20 ticks). Default 2000, for both servers. */
  tickTimeMs?: number;
  /** znode.container.checkIntervalMs: how often containers and TTL nodes are reaped. */
  containerCheckIntervalMs?: number;
}

/** A standalone server as the client suites need it: extended types on, a super digest set. */
export function startOracle(options: OracleOptions = {}): Promise<ZooKeeperProcess> {
  return startServerOf(SERVER_KIND, options);
}

/** startOracle() for the server named, whatever ZKTS_TEST_SERVER says. */
export function startServerOf(
  kind: ServerKind,
  options: OracleOptions = {},
): Promise<ZooKeeperProcess> {
  const tickTimeMs = options.tickTimeMs ?? 2000;
  const superDigest = digestId(SUPER_USER, SUPER_PASSWORD);
  const containers =
    options.containerCheckIntervalMs === undefined
      ? {}
      : { "znode.container.checkIntervalMs": String(options.containerCheckIntervalMs) };
  if (kind === "zkts") {
    return startZkts({
      config: {
        tickTime: String(tickTimeMs),
        extendedTypesEnabled: "true",
        "DigestAuthenticationProvider.superDigest": superDigest,
        "4lw.commands.whitelist": "*",
        ...containers,
      },
    });
  }
  // The Apache harness already whitelists every four-letter word.
  return startZooKeeper({
    tickTimeMs,
    systemProperties: {
      "zookeeper.extendedTypesEnabled": "true",
      "zookeeper.DigestAuthenticationProvider.superDigest": superDigest,
      ...containers,
    },
  });
}

/** The clients of one test file: open() connects, closeAll() ends every one still open. */
export class Clients {
  private readonly open_: ZooKeeper[] = [];
  private readonly proxies: TcpProxy[] = [];
  private server: ZooKeeperProcess | undefined;

  async start(options: OracleOptions = {}): Promise<ZooKeeperProcess> {
    this.server = await startOracle(options);
    return this.server;
  }

  get connectString(): string {
    if (!this.server) throw new Error("Clients.start() first");
    return this.server.connectString;
  }

  /** The running server's pid, a JVM or a node process (to pause it with SIGSTOP). */
  get pid(): number {
    if (!this.server) throw new Error("Clients.start() first");
    return this.server.pid;
  }

  /** The paths the server holds watches on, for any session (the `wchp` four-letter word). */
  async watchedPaths(): Promise<string[]> {
    if (!this.server) throw new Error("Clients.start() first");
    const reply = await this.server.fourLetterWord("wchp");
    return reply.split("\n").filter((line) => line.startsWith("/"));
  }

  /** Connects to the server, with `chroot` appended to the connect string. */
  async open(options: ConnectOptions & { chroot?: string } = {}): Promise<ZooKeeper> {
    const { chroot = "", ...connectOptions } = options;
    const zk = await connect(this.connectString + chroot, connectOptions);
    this.open_.push(zk);
    return zk;
  }

  /**
   * Connects through a TCP proxy of its own, with which a test can cut the client off
   * (expireBehindProxy, say).
   */
  async openBehindProxy(options: ConnectOptions = {}): Promise<{ zk: ZooKeeper; proxy: TcpProxy }> {
    if (!this.server) throw new Error("Clients.start() first");
    const proxy = await startProxy(this.server.port);
    this.proxies.push(proxy);
    const zk = await connect(proxy.address, options);
    this.open_.push(zk);
    return { zk, proxy };
  }

  async stop(): Promise<void> {
    await Promise.all(this.open_.map((zk) => zk.close()));
    await Promise.all(this.proxies.map((proxy) => proxy.close()));
    await this.server?.stop();
  }
}

let counter = 0;

/** A base path no other test of this process uses. */
export function uniquePath(name: string): string {
  counter += 1;
  return `/${name.replace(/[^A-Za-z0-9-]/g, "-")}-${counter}`;
}

/** Resolves after the current macrotask: what a client batched this tick has been written. */
export function afterWrites(): Promise<void> {
  return nextMacrotask();
}

/**
 * Runs `body` with the server's process stopped (SIGSTOP): nothing it is sent is answered. `body`
 * must not return a promise of a reply (it would wait for the server forever); wrap it.
 */
export async function withServerPaused<T>(pid: number, body: () => Promise<T>): Promise<T> {
  process.kill(pid, "SIGSTOP");
  try {
    await allThreadsStopped(pid);
    return await body();
  } finally {
    process.kill(pid, "SIGCONT");
  }
}

/**
 * kill() returns before every thread has stopped: a JVM thread may still answer a request sent
 * right after it (seen on a busy machine); node's threads are no different. Waits until /proc shows each thread stopped ("T").
 */
async function allThreadsStopped(pid: number, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const states = readdirSync(`/proc/${pid}/task`).map((tid) => {
      let stat: string;
      try {
        stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
      } catch {
        return "T"; // the thread ended in between: it answers nothing either
      }
      // The state follows the command name, which is in parentheses and may hold spaces.
      return stat.charAt(stat.lastIndexOf(")") + 2);
    });
    if (states.every((state) => state === "T")) return;
    if (performance.now() > deadline) {
      throw new Error(`pid ${pid} not stopped after ${timeoutMs} ms: ${states.join("")}`);
    }
    await nextMacrotask();
  }
}

/**
 * Calls `fn` and returns the error it throws synchronously or rejects with. Our client refuses
 * bad arguments both ways (async methods reject, the others throw before returning a promise);
 * either way nothing is sent.
 */
export async function refusal(fn: () => unknown, what = "the call"): Promise<unknown> {
  try {
    await fn();
  } catch (error) {
    return error;
  }
  throw new Error(`expected a refusal, but ${what} succeeded`);
}
