/**
 * What the client interop suites share: one standalone Apache ZooKeeper per test file, started
 * with TTL nodes enabled and a super user `super:test`, and the clients a file opens, closed
 * when it ends. Each test works under its own base path, so tests never see each other's znodes.
 */
import { readdirSync, readFileSync } from "node:fs";
import { setImmediate as nextMacrotask } from "node:timers/promises";
import { type ConnectOptions, connect, digestId, type ZooKeeper } from "../../src/index.js";
import { startZooKeeper, type ZooKeeperProcess } from "../harness/apache-zookeeper.js";

export const SUPER_USER = "super";
export const SUPER_PASSWORD = "test";

/** A standalone server as the client suites need it: extended types on, a super digest set. */
export function startOracle(): Promise<ZooKeeperProcess> {
  return startZooKeeper({
    systemProperties: {
      "zookeeper.extendedTypesEnabled": "true",
      "zookeeper.DigestAuthenticationProvider.superDigest": digestId(SUPER_USER, SUPER_PASSWORD),
    },
  });
}

/** The clients of one test file: open() connects, closeAll() ends every one still open. */
export class Clients {
  private readonly open_: ZooKeeper[] = [];
  private server: ZooKeeperProcess | undefined;

  async start(): Promise<ZooKeeperProcess> {
    this.server = await startOracle();
    return this.server;
  }

  get connectString(): string {
    if (!this.server) throw new Error("Clients.start() first");
    return this.server.connectString;
  }

  /** The running server's JVM pid (to pause it with SIGSTOP in timeout tests). */
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

  async stop(): Promise<void> {
    await Promise.all(this.open_.map((zk) => zk.close()));
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
 * Runs `body` with the server's JVM stopped (SIGSTOP): nothing it is sent is answered. `body`
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
 * right after it (seen on a busy machine). Waits until /proc shows each thread stopped ("T").
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
