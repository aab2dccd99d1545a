/**
 * zkts's own server for tests, as a child process: `zkts server` on 127.0.0.1 and a port the
 * kernel picks, with the same shape as the Apache harness's ZooKeeperProcess, so a suite can
 * run against either server (differential and interop tests).
 *
 *     const zk = await startZkts({ config: { tickTime: "500" } });
 *     const client = await connect(zk.connectString);
 *     await zk.kill();                 // SIGKILL; start() brings it back on the same port
 *     await zk.stop();                 // SIGTERM (SIGKILL after 5 s), temp dir removed
 *
 * The process runs `node --import tsx src/cli/main.ts server --host 127.0.0.1 --port 0 ...`;
 * readiness is the one line the command prints once it serves, `zkts server listening on
 * host:port`. Its stdout and stderr go to `<dataDir>/zkts.out` (logFile). child-processes.ts
 * tracks it and SIGKILLs it, by pid, if the test process exits without stopping it.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import type { ZooKeeperProcess } from "./apache-zookeeper.js";
import {
  killAndWait,
  releaseDir,
  removeAtExit,
  spawnTracked,
  type TrackedProcess,
  terminateAndWait,
} from "./child-processes.js";
import { fourLetterWord } from "./four-letter-word.js";
import { fileSize, readSince } from "./output-file.js";

const HOST = "127.0.0.1";
const MAIN = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));
/** tsx's loader by absolute URL, so the child finds it whatever the working directory. */
const TSX_LOADER = import.meta.resolve("tsx");
const LISTENING = /^zkts server listening on (.+):(\d+)$/m;

/** Node plus tsx start in well under a second; a loaded two-core machine may take several. */
const DEFAULT_READY_TIMEOUT_MS = 20_000;
const POLL_INTERVAL_MS = 20;
/** A restart keeps its port, which someone may have taken meanwhile: retry after a pause. */
const SAME_PORT_ATTEMPTS = 3;
const SAME_PORT_BACKOFF_MS = 500;
const OUTPUT_TAIL_LINES = 40;

export interface ZktsOptions {
  /** zoo.cfg settings by ZooKeeper's names. The harness owns the port and address. */
  config?: Readonly<Record<string, string>>;
  /** More `zkts server` flags, after the harness's own, so they win (ports aside: don't). */
  args?: readonly string[];
  /** Leave the temporary dataDir (zoo.cfg, output) behind on stop(). */
  keepDataDir?: boolean;
  /** Bound on waiting for the listening line. Default 20 000. */
  readyTimeoutMs?: number;
}

/** Starts `zkts server` on a free loopback port and resolves once it serves. */
export async function startZkts(options: ZktsOptions = {}): Promise<ZooKeeperProcess> {
  const dataDir = await mkdtemp(join(tmpdir(), "zkts-server-"));
  removeAtExit(dataDir);
  const configFile = join(dataDir, "zoo.cfg");
  // `zkts server` has ZooKeeper's AdminServer default (on, port 8080): off unless a test asks.
  const config = { dataDir, "admin.enableServer": "false", ...options.config };
  await writeFile(
    configFile,
    `${Object.entries(config)
      .map(([k, v]) => `${k}=${v}`)
      .join("\n")}\n`,
  );
  const server = new ZktsServer(dataDir, configFile, options);
  try {
    await server.start();
  } catch (error) {
    await server.stop();
    throw error;
  }
  return server;
}

class ZktsServer implements ZooKeeperProcess {
  readonly host = HOST;
  readonly dataDir: string;
  readonly logFile: string;
  #port = 0;
  readonly #configFile: string;
  readonly #options: ZktsOptions;
  #process: TrackedProcess | undefined;
  #removed = false;

  constructor(dataDir: string, configFile: string, options: ZktsOptions) {
    this.dataDir = dataDir;
    this.logFile = join(dataDir, "zkts.out");
    this.#configFile = configFile;
    this.#options = options;
  }

  /** The port it listens on; fixed by the first start(), kept by restarts. */
  get port(): number {
    return this.#port;
  }

  get connectString(): string {
    return `${HOST}:${this.#port}`;
  }

  get pid(): number {
    return this.#process?.pid ?? 0;
  }

  get running(): boolean {
    return this.#process !== undefined && !this.#process.hasExited();
  }

  async start(): Promise<void> {
    if (this.running) return;
    if (this.#removed) {
      throw new Error(
        `${this.connectString}: stop() removed its dataDir; stop({ keepDataDir: true })`,
      );
    }
    for (let attempt = 1; ; attempt++) {
      try {
        this.#port = await this.#spawnAndWait();
        return;
      } catch (error) {
        const portTaken = /EADDRINUSE/.test((error as Error).message);
        if (this.#port === 0 || !portTaken || attempt >= SAME_PORT_ATTEMPTS) throw error;
        await sleep(SAME_PORT_BACKOFF_MS);
      }
    }
  }

  async stop(options: { keepDataDir?: boolean } = {}): Promise<void> {
    if (this.#process !== undefined) await terminateAndWait(this.#process);
    if (options.keepDataDir ?? this.#options.keepDataDir ?? false) return;
    await rm(this.dataDir, { recursive: true, force: true, maxRetries: 3 });
    releaseDir(this.dataDir);
    this.#removed = true;
  }

  async kill(): Promise<void> {
    if (this.#process !== undefined) await killAndWait(this.#process);
  }

  fourLetterWord(command: string): Promise<string> {
    return fourLetterWord(HOST, this.#port, command);
  }

  /** Spawns the server and resolves with the port from its listening line. */
  async #spawnAndWait(): Promise<number> {
    const offset = fileSize(this.logFile);
    const args = [
      "--import",
      TSX_LOADER,
      MAIN,
      "server",
      "--config",
      this.#configFile,
      "--host",
      HOST,
      "--port",
      "0",
      ...(this.#options.args ?? []),
      // A restart comes back on the port its clients know.
      ...(this.#port === 0 ? [] : ["--port", String(this.#port)]),
    ];
    const child = spawnTracked(process.execPath, args, this.logFile);
    this.#process = child;
    const timeoutMs = this.#options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const output = readSince(this.logFile, offset);
      const listening = LISTENING.exec(output);
      if (listening !== null) return Number(listening[2]);
      if (child.hasExited()) throw this.#startError("exited before it listened", output);
      if (Date.now() >= deadline) {
        await killAndWait(child);
        throw this.#startError(`did not listen within ${timeoutMs} ms`, output);
      }
      await sleep(POLL_INTERVAL_MS);
    }
  }

  #startError(what: string, output: string): Error {
    const lines = output.trimEnd().split("\n").slice(-OUTPUT_TAIL_LINES).join("\n");
    return new Error(`zkts server (pid ${this.pid}) ${what}; its output:\n${lines || "(empty)"}`);
  }
}
