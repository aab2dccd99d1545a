/**
 * One Apache ZooKeeper JVM: its files, its process, and when it counts as ready.
 *
 * Each server runs QuorumPeerMain on 127.0.0.1 with its own temporary dataDir, which also
 * holds its config and logs:
 *
 *     <dataDir>/conf/zoo.cfg, <dataDir>/conf/log4j.properties
 *     <dataDir>/zookeeper.log   what ZooKeeper logs (log4j)
 *     <dataDir>/zookeeper.out   the JVM's stdout and stderr (crashes, bad flags)
 *     <dataDir>/version-2/      ZooKeeper's snapshots and txn logs; <dataDir>/myid in ensembles
 *
 * Readiness is ZooKeeper's own `srvr` four-letter word reporting a serving mode: it answers
 * "not currently serving requests" until the server (or its quorum) is up, so no blind sleeps.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { ZooKeeperOptions, ZooKeeperProcess } from "./apache-zookeeper.js";
import {
  killAndWait,
  releaseDir,
  removeAtExit,
  spawnTracked,
  type TrackedProcess,
  terminateAndWait,
} from "./child-processes.js";
import { fourLetterWord, modeOf } from "./four-letter-word.js";
import type { Installation } from "./installation.js";
import { fileSize, readSince } from "./output-file.js";

export const HOST = "127.0.0.1";
const MAIN_CLASS = "org.apache.zookeeper.server.quorum.QuorumPeerMain";

const JVM_FLAGS: readonly string[] = [
  // Debian's scripts set no heap cap, which means a quarter of the machine per JVM.
  "-Xmx256m",
  // One GC thread: the machine's two cores are shared with the tests and other servers.
  "-XX:+UseSerialGC",
  // C1 only: start-up dominates short tests. Benchmarks should pass -XX:TieredStopAtLevel=4.
  "-XX:TieredStopAtLevel=1",
  // No hsperfdata files left in /tmp by JVMs that get SIGKILLed.
  "-XX:-UsePerfData",
  // TTL nodes (CreateMode TTL) are refused without it.
  "-Dzookeeper.extendedTypesEnabled=true",
];

export const DEFAULT_READY_TIMEOUT_MS = 30_000;
/** Start-up takes ~0.35 s standalone, so a short interval saves real time per test. */
export const POLL_INTERVAL_MS = 50;
const POLL_REPLY_TIMEOUT_MS = 1_000;
/** start() must keep its port, so a bind failure there is only retried after a pause. */
const SAME_PORT_ATTEMPTS = 3;
const SAME_PORT_BACKOFF_MS = 500;
const LOG_TAIL_LINES = 40;

interface ServerSpec {
  readonly installation: Installation;
  readonly dataDir: string;
  readonly port: number;
  readonly readyModes: ReadonlySet<string>;
  readonly keepDataDir: boolean;
  readonly readyTimeoutMs: number;
  readonly javaArgs: readonly string[];
}

/** A failed start, with whether a port was taken (which a retry on other ports may cure). */
class ZooKeeperStartError extends Error {
  readonly bindFailure: boolean;

  constructor(message: string, bindFailure: boolean) {
    super(message);
    this.name = "ZooKeeperStartError";
    this.bindFailure = bindFailure;
  }
}

export function isBindFailure(error: unknown): boolean {
  return error instanceof ZooKeeperStartError && error.bindFailure;
}

export class ApacheZooKeeperServer implements ZooKeeperProcess {
  readonly host = HOST;
  readonly port: number;
  readonly connectString: string;
  readonly dataDir: string;
  readonly logFile: string;
  readonly #outFile: string;
  readonly #spec: ServerSpec;
  #process: TrackedProcess | undefined;
  /** Where this JVM's output starts in the (appended) log files, so errors show only its own. */
  #logOffsets = { log: 0, out: 0 };
  #removed = false;

  constructor(spec: ServerSpec) {
    this.#spec = spec;
    this.port = spec.port;
    this.connectString = `${HOST}:${spec.port}`;
    this.dataDir = spec.dataDir;
    this.logFile = join(spec.dataDir, "zookeeper.log");
    this.#outFile = join(spec.dataDir, "zookeeper.out");
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
        `${this.connectString}: stop() removed its dataDir; stop({ keepDataDir: true }) to restart`,
      );
    }
    for (let attempt = 1; ; attempt++) {
      this.spawn();
      try {
        await this.waitReady();
        return;
      } catch (error) {
        if (!isBindFailure(error) || attempt >= SAME_PORT_ATTEMPTS) throw error;
        await sleep(SAME_PORT_BACKOFF_MS);
      }
    }
  }

  async stop(options: { keepDataDir?: boolean } = {}): Promise<void> {
    if (this.#process !== undefined) await terminateAndWait(this.#process);
    if (options.keepDataDir ?? this.#spec.keepDataDir) return;
    await rm(this.dataDir, { recursive: true, force: true, maxRetries: 3 });
    releaseDir(this.dataDir);
    this.#removed = true;
  }

  async kill(): Promise<void> {
    if (this.#process !== undefined) await killAndWait(this.#process);
  }

  fourLetterWord(command: string): Promise<string> {
    return fourLetterWord(HOST, this.port, command);
  }

  /** Launches the JVM without waiting; waitReady() does that. No-op while one runs. */
  spawn(): void {
    if (this.running) return;
    this.#logOffsets = { log: fileSize(this.logFile), out: fileSize(this.#outFile) };
    const { installation, javaArgs } = this.#spec;
    this.#process = spawnTracked(installation.java, [...javaArgs], this.#outFile);
  }

  /** Polls `srvr` until it reports a serving mode; kills the JVM and rejects on the deadline. */
  async waitReady(): Promise<void> {
    const process_ = this.#process;
    if (process_ === undefined) throw new Error("waitReady() before spawn()");
    const { readyTimeoutMs, readyModes } = this.#spec;
    const deadline = Date.now() + readyTimeoutMs;
    let lastReply = "none";
    for (let poll = 0; poll * POLL_INTERVAL_MS < readyTimeoutMs && Date.now() < deadline; poll++) {
      if (process_.hasExited()) throw this.#startError("exited before it was ready");
      try {
        const reply = await fourLetterWord(HOST, this.port, "srvr", POLL_REPLY_TIMEOUT_MS);
        const mode = modeOf(reply);
        if (mode !== undefined && readyModes.has(mode)) return;
        lastReply = reply.trim() || "(empty)";
      } catch (error) {
        lastReply = (error as Error).message;
      }
      await sleep(POLL_INTERVAL_MS);
    }
    await killAndWait(process_);
    throw this.#startError(`was not ready after ${readyTimeoutMs} ms (last srvr: ${lastReply})`);
  }

  #startError(what: string): ZooKeeperStartError {
    const log = readSince(this.logFile, this.#logOffsets.log);
    const out = readSince(this.#outFile, this.#logOffsets.out);
    const bindFailure = /BindException|Address already in use/.test(log + out);
    const message =
      `Apache ZooKeeper on ${this.connectString} (pid ${this.pid}, ${this.dataDir}) ${what}\n` +
      `--- ${this.logFile} (last ${LOG_TAIL_LINES} lines) ---\n${tail(log)}\n` +
      `--- ${this.#outFile} ---\n${tail(out)}`;
    return new ZooKeeperStartError(message, bindFailure);
  }
}

export interface ServerLayout {
  port: number;
  readyModes: ReadonlySet<string>;
  /** Lines beyond the common ones (tickTime, quorum settings). */
  config: Readonly<Record<string, string>>;
  myid?: number;
}

/** Makes the server's temporary dataDir with its config files; does not start it. */
export async function createServer(
  installation: Installation,
  options: ZooKeeperOptions,
  layout: ServerLayout,
): Promise<ApacheZooKeeperServer> {
  const dataDir = await mkdtemp(join(tmpdir(), "zkts-zookeeper-"));
  const keepDataDir = options.keepDataDir ?? false;
  if (!keepDataDir) removeAtExit(dataDir);
  const confDir = join(dataDir, "conf");
  await mkdir(confDir);
  const config: Record<string, string> = {
    dataDir,
    clientPort: String(layout.port),
    clientPortAddress: HOST,
    "4lw.commands.whitelist": "*",
    // Otherwise its AdminServer (Jetty) takes port 8080.
    "admin.enableServer": "false",
    // Tests may open many sessions from one address; ZooKeeper's default caps that at 60.
    maxClientCnxns: "0",
    ...layout.config,
    ...options.extraConfig,
  };
  await writeFile(join(confDir, "zoo.cfg"), propertiesText(config));
  await writeFile(join(confDir, "log4j.properties"), log4jProperties(dataDir));
  if (layout.myid !== undefined) await writeFile(join(dataDir, "myid"), `${layout.myid}\n`);
  const systemProperties = Object.entries(options.systemProperties ?? {}).map(
    ([key, value]) => `-D${key}=${value}`,
  );
  const javaArgs = [
    ...JVM_FLAGS,
    ...systemProperties,
    ...(options.jvmFlags ?? []),
    "-cp",
    // The conf dir comes first so log4j finds our log4j.properties.
    [confDir, ...installation.classpath, ...(options.classpath ?? [])].join(":"),
    MAIN_CLASS,
    join(confDir, "zoo.cfg"),
  ];
  return new ApacheZooKeeperServer({
    installation,
    dataDir,
    port: layout.port,
    readyModes: layout.readyModes,
    keepDataDir,
    readyTimeoutMs: options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS,
    javaArgs,
  });
}

function propertiesText(entries: Readonly<Record<string, string>>): string {
  const lines = Object.entries(entries).map(([key, value]) => {
    // A newline would smuggle in another setting; nothing legitimate needs one.
    if (/[\r\n]/.test(key + value)) throw new Error(`zoo.cfg entry ${key} contains a newline`);
    return `${key}=${value}`;
  });
  return `${lines.join("\n")}\n`;
}

/** Without a log4j config ZooKeeper logs nothing, and a failed start would be a mystery. */
function log4jProperties(dataDir: string): string {
  return propertiesText({
    "log4j.rootLogger": "INFO, FILE",
    "log4j.appender.FILE": "org.apache.log4j.FileAppender",
    "log4j.appender.FILE.File": join(dataDir, "zookeeper.log"),
    "log4j.appender.FILE.Append": "true",
    "log4j.appender.FILE.layout": "org.apache.log4j.PatternLayout",
    "log4j.appender.FILE.layout.ConversionPattern": "%d{ISO8601} %-5p [%t] %c{1} - %m%n",
  });
}

function tail(text: string): string {
  const lines = text.trimEnd().split("\n");
  return lines.slice(-LOG_TAIL_LINES).join("\n") || "(empty)";
}
