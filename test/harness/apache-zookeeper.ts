/**
 * Real Apache ZooKeeper for tests: the oracle that differential and interop suites compare
 * zkts against (ARCHITECTURE.md, "How we know it works"; ORACLE.md for running it by hand).
 *
 *     const zk = await startZooKeeper();            // standalone, free port, temp dataDir
 *     const ensemble = await startEnsemble({ size: 3 });
 *     const withAdmin = await startEnsemble({ size: 3, adminServer: true }); // .adminPorts[i]
 *     const leader = await ensemble.leader();
 *     await leader.kill();                          // SIGKILL; start() brings it back
 *     await ensemble.stop(); await zk.stop();       // and the temp dirs are gone
 *
 * Suites skip themselves where it is not installed:
 *     describe("...", { skip: apacheZooKeeperSkip() }, () => { ... });
 *
 * zookeeper-server.ts runs one JVM; child-processes.ts makes sure none outlives the tests.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { modeOf } from "./four-letter-word.js";
import { freePorts } from "./free-ports.js";
import { findInstallation, type Installation } from "./installation.js";
import {
  type ApacheZooKeeperServer,
  createServer,
  DEFAULT_READY_TIMEOUT_MS,
  HOST,
  isBindFailure,
  POLL_INTERVAL_MS,
} from "./zookeeper-server.js";

export { modeOf } from "./four-letter-word.js";
export {
  type ApacheZooKeeperAvailability,
  apacheZooKeeperAvailability,
  apacheZooKeeperSkip,
} from "./installation.js";

/** A port probed free can be taken before the JVM binds it; then we start over on new ports. */
const FRESH_PORT_ATTEMPTS = 3;
const STANDALONE_MODES: ReadonlySet<string> = new Set(["standalone"]);
const QUORUM_MODES: ReadonlySet<string> = new Set(["leader", "follower", "observer"]);

export interface ZooKeeperOptions {
  /** ZooKeeper's tickTime; sessions may last 2 to 20 ticks. Default 2000. */
  tickTimeMs?: number;
  /** More zoo.cfg lines; they override the harness's own (except ports and dataDir: don't). */
  extraConfig?: Readonly<Record<string, string>>;
  /** `-Dkey=value` JVM flags, e.g. `zookeeper.DigestAuthenticationProvider.superDigest`. */
  systemProperties?: Readonly<Record<string, string>>;
  /** More jars after ZooKeeper's own (e.g. netty-codec.jar, which its Netty TLS needs). */
  classpath?: readonly string[];
  /** More JVM flags, after the harness's own, so they win (e.g. `-XX:TieredStopAtLevel=4`). */
  jvmFlags?: readonly string[];
  /** Leave the temporary dataDir (and its logs) behind on stop(). */
  keepDataDir?: boolean;
  /** Bound on waiting for `srvr` to report a serving mode. Default 30 000. */
  readyTimeoutMs?: number;
}

export interface EnsembleOptions extends Omit<ZooKeeperOptions, "tickTimeMs"> {
  size: 3 | 5;
  /** Default 500, four times ZooKeeper's, so elections finish in well under a second. */
  tickTimeMs?: number;
  /** Run each server's AdminServer (Jetty) on 127.0.0.1, on a free port of its own. */
  adminServer?: boolean;
  /** Observers besides the `size` voters (default 0): myids size+1, ..., peerType=observer. */
  observers?: number;
}

/** One Apache ZooKeeper server process. Every method is idempotent. */
export interface ZooKeeperProcess {
  readonly host: "127.0.0.1";
  readonly port: number;
  /** "127.0.0.1:port", for a client's connect string. */
  readonly connectString: string;
  readonly dataDir: string;
  /** ZooKeeper's log4j output: what to read when a test fails. */
  readonly logFile: string;
  /** The current JVM's pid, or the last one's once it has exited. */
  readonly pid: number;
  /** True from spawn until the JVM's exit. */
  readonly running: boolean;
  /** Starts it again after stop() or kill(), with the same config, port and dataDir. */
  start(): Promise<void>;
  /** SIGTERM, SIGKILL after 5 s; then removes dataDir unless keepDataDir (here or at start). */
  stop(options?: { keepDataDir?: boolean }): Promise<void>;
  /** SIGKILL, like a crash: nothing is flushed or closed cleanly. Keeps dataDir. */
  kill(): Promise<void>;
  /** Sends a four-letter word (ruok, srvr, stat, mntr, cons, ...) and resolves with the reply. */
  fourLetterWord(command: string): Promise<string>;
}

export interface ZooKeeperEnsemble {
  /** servers[i] has myid i + 1; the voters come first, then the observers. */
  readonly servers: readonly ZooKeeperProcess[];
  /** Every server, killed ones included, as a client lists them. */
  readonly connectString: string;
  /** adminPorts[i] is servers[i]'s AdminServer port (empty without `adminServer`). */
  readonly adminPorts: readonly number[];
  /** Waits (default bound 30 s) until exactly one running server reports `Mode: leader`. */
  leader(options?: { timeoutMs?: number }): Promise<ZooKeeperProcess>;
  /** Stops every server and removes their dataDirs (unless keepDataDir). */
  stop(): Promise<void>;
}

/** Starts a standalone Apache ZooKeeper on a free port and resolves once it serves. */
export async function startZooKeeper(options: ZooKeeperOptions = {}): Promise<ZooKeeperProcess> {
  const installation = requireInstallation();
  for (let attempt = 1; ; attempt++) {
    const [port] = await freePorts(1);
    const server = await createServer(installation, options, {
      port: port!,
      readyModes: STANDALONE_MODES,
      config: { tickTime: String(options.tickTimeMs ?? 2000) },
    });
    try {
      server.spawn();
      await server.waitReady();
      return server;
    } catch (error) {
      await server.stop();
      if (!isBindFailure(error) || attempt >= FRESH_PORT_ATTEMPTS) throw error;
    }
  }
}

/**
 * Starts a `size`-server ensemble (and its observers) on free ports and resolves once every
 * server serves as leader, follower or observer and exactly one is the leader.
 */
export async function startEnsemble(options: EnsembleOptions): Promise<ZooKeeperEnsemble> {
  const installation = requireInstallation();
  const readyTimeoutMs = options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS;
  for (let attempt = 1; ; attempt++) {
    const { servers, adminPorts } = await createEnsembleServers(installation, options);
    try {
      for (const server of servers) server.spawn();
      await Promise.all(servers.map((server) => server.waitReady()));
      const ensemble = new ApacheZooKeeperEnsemble(servers, adminPorts, readyTimeoutMs);
      await ensemble.leader();
      return ensemble;
    } catch (error) {
      await Promise.all(servers.map((server) => server.stop()));
      if (!isBindFailure(error) || attempt >= FRESH_PORT_ATTEMPTS) throw error;
    }
  }
}

class ApacheZooKeeperEnsemble implements ZooKeeperEnsemble {
  readonly servers: readonly ZooKeeperProcess[];
  readonly connectString: string;
  readonly adminPorts: readonly number[];
  readonly #readyTimeoutMs: number;

  constructor(
    servers: readonly ZooKeeperProcess[],
    adminPorts: readonly number[],
    readyTimeoutMs: number,
  ) {
    this.servers = servers;
    this.adminPorts = adminPorts;
    this.connectString = servers.map((server) => server.connectString).join(",");
    this.#readyTimeoutMs = readyTimeoutMs;
  }

  async leader(options: { timeoutMs?: number } = {}): Promise<ZooKeeperProcess> {
    const timeoutMs = options.timeoutMs ?? this.#readyTimeoutMs;
    const deadline = Date.now() + timeoutMs;
    let modes: string[] = [];
    for (let poll = 0; poll * POLL_INTERVAL_MS < timeoutMs && Date.now() < deadline; poll++) {
      const running = this.servers.filter((server) => server.running);
      const replies = await Promise.all(
        running.map((server) => server.fourLetterWord("srvr").catch(() => "")),
      );
      const leaders = running.filter((_, i) => modeOf(replies[i] ?? "") === "leader");
      if (leaders.length === 1) return leaders[0]!;
      modes = running.map((server, i) => `${server.port}=${modeOf(replies[i] ?? "") ?? "none"}`);
      await sleep(POLL_INTERVAL_MS);
    }
    throw new Error(`no single leader after ${timeoutMs} ms; modes: ${modes.join(" ")}`);
  }

  async stop(): Promise<void> {
    await Promise.all(this.servers.map((server) => server.stop()));
  }
}

async function createEnsembleServers(
  installation: Installation,
  options: EnsembleOptions,
): Promise<{ servers: ApacheZooKeeperServer[]; adminPorts: number[] }> {
  const count = options.size + (options.observers ?? 0);
  const ids = Array.from({ length: count }, (_, i) => i + 1);
  const observer = (id: number): boolean => id > options.size;
  // Client, quorum, election and (with adminServer) AdminServer ports, fresh on every attempt.
  const slots = options.adminServer === true ? 4 : 3;
  const ports = await freePorts(count * slots);
  const port = (id: number, slot: number): number => ports[(id - 1) * slots + slot]!;
  const adminPorts = options.adminServer === true ? ids.map((id) => port(id, 3)) : [];
  const admin = (id: number): Record<string, string> =>
    options.adminServer === true
      ? {
          "admin.enableServer": "true",
          "admin.serverAddress": HOST,
          "admin.serverPort": String(port(id, 3)),
        }
      : {};
  const quorum: Record<string, string> = {
    tickTime: String(options.tickTimeMs ?? 500),
    initLimit: "5",
    syncLimit: "2",
  };
  for (const id of ids) {
    const type = observer(id) ? ":observer" : "";
    quorum[`server.${id}`] = `${HOST}:${port(id, 1)}:${port(id, 2)}${type}`;
  }
  const servers = await Promise.all(
    ids.map((id) =>
      createServer(installation, options, {
        port: port(id, 0),
        readyModes: QUORUM_MODES,
        config: { ...quorum, ...admin(id), ...(observer(id) && { peerType: "observer" }) },
        myid: id,
      }),
    ),
  );
  return { servers, adminPorts };
}

function requireInstallation(): Installation {
  const found = findInstallation();
  if ("reason" in found) throw new Error(`Apache ZooKeeper not available: ${found.reason}`);
  return found.installation;
}
