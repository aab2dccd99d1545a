/**
 * `startServer()`: a standalone zkts server on a TCP port, as ZooKeeper's ZooKeeperServerMain.
 *
 *     const server = await startServer({ clientPort: 0, clientPortAddress: "127.0.0.1" });
 *     console.log(server.address); // 127.0.0.1:41234
 *     await server.close();
 */
import net from "node:net";
import tls from "node:tls";
import type { Id } from "../jute/records.js";
import { InvalidArgumentError } from "../protocol/errors.js";
import type { AdminContext } from "./admin/commands.js";
import { type AdminExtension, startMonitoring } from "./admin/http.js";
import { scheduleAutopurge } from "./autopurge.js";
import { type ResolvedServerOptions, resolveOptions } from "./config.js";
import { ZKDatabase } from "./database.js";
import { fourLetterWord, type QuorumView } from "./four-letter-words/index.js";
import { createLogger, type Logger, rateLimited } from "./logger.js";
import { ServerConnection } from "./net/server-connection.js";
import type { ServerOptions } from "./options.js";
import { certificateIds, type SecureClientOptions, secureContextOptions } from "./tls.js";
import { ZooKeeperServer } from "./zookeeper-server.js";

export type { AdminExtension } from "./admin/http.js";
export { createLogger, type Level, type Logger } from "./logger.js";
export type { ServerOptions } from "./options.js";

export interface RunningServer {
  /** The plain client port's host and port; the secure port's when there is no plain one. */
  readonly host: string;
  readonly port: number;
  /** host:port, for a connect string. */
  readonly address: string;
  /** secureClientPort's port and host:port (TLS), when it is set. */
  readonly securePort: number | undefined;
  readonly secureAddress: string | undefined;
  /** The core, for tools and tests. */
  readonly zooKeeper: ZooKeeperServer;
  /** The txn log and snapshots, when the server has a dataDir. */
  readonly database: ZKDatabase | undefined;
  /** The AdminServer's port (admin.enableServer), if it runs. */
  readonly adminPort: number | undefined;
  /** The Prometheus /metrics port (metricsProvider.className), if it runs. */
  readonly metricsPort: number | undefined;
  /** Stops accepting, closes every connection, stops the timers. */
  close(): Promise<void>;
}

/** The zkts version reported by `srvr` and `stat` (as Apache ZooKeeper reports its own). */
export const ZKTS_VERSION = "3.8.0-zkts";

export async function startServer(
  options: ServerOptions = {},
  log: Logger = createLogger(),
  /** More routes on the AdminServer (the dashboard). */
  adminExtension?: AdminExtension,
): Promise<RunningServer> {
  const resolved = resolveOptions(options);
  let fatal: (error: Error) => void = () => {};
  const { dataDir } = resolved;
  const db =
    dataDir === undefined
      ? undefined
      : ZKDatabase.open({ ...resolved, dataDir }, log, (error) => fatal(error));
  const zooKeeper = new ZooKeeperServer(resolved, log, Date.now, db?.tree);
  if (db !== undefined) {
    zooKeeper.sink = db;
    zooKeeper.restoreSessions(db.tree.sessions);
    // As ZooKeeper does at every start: a clean snapshot of what was loaded, so the logs
    // before it are no longer needed (and a data dir always has a snapshot to start from).
    await db.takeSnapshot();
  }
  const served = await serveClients(zooKeeper, resolved, log, {
    ...(adminExtension !== undefined && { adminExtension }),
    stop: async () => {
      await db?.close();
    },
  });
  // A txn log that cannot be written: stop serving rather than acknowledge what is not durable.
  fatal = () => {
    void served.close();
  };
  return { ...served, database: db };
}

export interface ServeOptions {
  /** False while new clients must be turned away (an ensemble server without a leader). */
  readonly accept?: () => boolean;
  /** Runs after the listener and every connection are closed. */
  readonly stop?: () => Promise<void>;
  /** An ensemble server's view of its ensemble, for the AdminServer and the metrics. */
  readonly quorum?: QuorumView;
  /** More routes on the AdminServer (the dashboard). */
  readonly adminExtension?: AdminExtension;
}

/**
 * The client side of a server: the listener on clientPort, connections and their limits, the
 * session and container timers, autopurge. Shared by a standalone server and an ensemble's.
 */
export async function serveClients(
  zooKeeper: ZooKeeperServer,
  resolved: ResolvedServerOptions,
  log: Logger,
  options: ServeOptions = {},
): Promise<Omit<RunningServer, "database"> & { closeClients(reason: string): void }> {
  const connections = new Set<ServerConnection>();
  const perIp = new Map<string, number>();
  const view = serverView(zooKeeper, resolved, connections, options.quorum, () => listener);
  const hooks = {
    fourLetterWord: (word: string, self: ServerConnection, rest: Buffer) =>
      fourLetterWord(word, { ...view, clientPort: view.clientPort, self, rest }),
    closed: (connection: ServerConnection) => {
      if (!connections.delete(connection)) return;
      const n = (perIp.get(connection.clientIp) ?? 1) - 1;
      if (n <= 0) perIp.delete(connection.clientIp);
      else perIp.set(connection.clientIp, n);
      zooKeeper.disconnected(connection);
    },
  };
  const admit = admission(zooKeeper, resolved, log, perIp, options.accept);
  const accept = (socket: net.Socket, ids: readonly Id[] = []) => {
    if (!admit(socket)) return;
    connections.add(new ServerConnection(socket, zooKeeper, hooks, log, ids));
  };
  const { plain, secure } = await openListeners(resolved, accept, log);
  const listener = (plain ?? secure) as net.Server;
  const monitoring = await startMonitoring(view, resolved, log, options).catch(async (error) => {
    await Promise.all([closeListener(plain), closeListener(secure)]);
    throw error;
  });
  const ticker = setInterval(() => zooKeeper.expireSessions(), resolved.tickTime);
  const perCheck = Math.max(
    1,
    Math.floor((resolved.containerMaxPerMinute * resolved.containerCheckIntervalMs) / 60_000),
  );
  const containers = setInterval(
    () => zooKeeper.deleteExpiredContainers(perCheck),
    resolved.containerCheckIntervalMs,
  );
  const stopAutopurge = scheduleAutopurge(resolved, log);
  const address = listener.address() as net.AddressInfo;
  const host = address.address;
  const secureInfo = secure?.address() as net.AddressInfo | undefined;
  let closing: Promise<void> | undefined;
  function close(): Promise<void> {
    closing ??= (async () => {
      clearInterval(ticker);
      clearInterval(containers);
      stopAutopurge();
      const stopped = Promise.all([closeListener(plain), closeListener(secure)]);
      for (const connection of [...connections]) connection.close("server shutting down");
      await Promise.all([stopped, monitoring.close()]);
      await options.stop?.();
    })();
    return closing;
  }
  return {
    host,
    port: address.port,
    address: hostPort(host, address.port),
    securePort: secureInfo?.port,
    secureAddress: secureInfo && hostPort(secureInfo.address, secureInfo.port),
    adminPort: monitoring.adminPort,
    metricsPort: monitoring.metricsPort,
    zooKeeper,
    close,
    closeClients(reason: string) {
      for (const connection of [...connections]) connection.close(reason);
    },
  };
}

/**
 * Whether a new client connection may stay (counted in perIp if so): not while the server turns
 * clients away, nor past maxClientCnxns from one address. A refusal is one log line with the
 * reason, rate-limited: refused clients retry at once, and the log must stay quiet.
 */
function admission(
  zooKeeper: ZooKeeperServer,
  resolved: ResolvedServerOptions,
  log: Logger,
  perIp: Map<string, number>,
  accept: (() => boolean) | undefined,
): (socket: net.Socket) => boolean {
  const counters = zooKeeper.stats.metrics.counters;
  const rejected = rateLimited(log, "warn");
  return (socket) => {
    const ip = (socket.remoteAddress ?? "").replace(/^::ffff:/, "");
    if (accept !== undefined && !accept()) {
      rejected({ client: ip, reason: "not serving" }, "connection rejected");
      socket.destroy();
      return false;
    }
    counters.connection_request_count++;
    const count = perIp.get(ip) ?? 0;
    if (resolved.maxClientCnxns > 0 && count >= resolved.maxClientCnxns) {
      const reason = `too many connections from one address (maxClientCnxns=${resolved.maxClientCnxns})`;
      rejected({ client: ip, reason }, "connection rejected");
      counters.connection_rejected++;
      socket.destroy();
      return false;
    }
    perIp.set(ip, count + 1);
    return true;
  };
}

function hostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

function listen<T extends net.Server>(server: T, host: string, port: number): Promise<T> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host, port }, () => {
      server.off("error", reject);
      resolve(server);
    });
  });
}

/** The plain listener on clientPort (unless it is off) and the TLS one on secureClientPort. */
async function openListeners(
  resolved: ResolvedServerOptions,
  accept: (socket: net.Socket, ids?: readonly Id[]) => void,
  log: Logger,
): Promise<{ plain: net.Server | undefined; secure: tls.Server | undefined }> {
  const plain =
    resolved.clientPort === null
      ? undefined
      : await listen(net.createServer(accept), resolved.clientPortAddress, resolved.clientPort);
  try {
    const secure =
      resolved.secure === undefined ? undefined : await listenSecure(resolved.secure, accept, log);
    return { plain, secure };
  } catch (error) {
    await closeListener(plain);
    throw error;
  }
}

function closeListener(server: net.Server | undefined): Promise<void> {
  if (server === undefined || !server.listening) return Promise.resolve();
  return new Promise((resolve) => server.close(() => resolve()));
}

/**
 * The TLS listener on secureClientPort. A connection counts once its handshake is done (as
 * Netty's CertificateVerifier adds it): with ssl.clientAuth=need the handshake itself refuses a
 * client without a trusted certificate; with want, a certificate given must verify.
 */
function listenSecure(
  secure: SecureClientOptions,
  accept: (socket: net.Socket, ids: readonly Id[]) => void,
  log: Logger,
): Promise<tls.Server> {
  let contextOptions: tls.TlsOptions;
  try {
    contextOptions = secureContextOptions(secure);
    tls.createSecureContext(contextOptions);
  } catch (error) {
    if (error instanceof InvalidArgumentError) throw error;
    throw new InvalidArgumentError(
      `ssl.keyStore.location ${secure.keyStore.location}: ${(error as Error).message}`,
    );
  }
  const server = tls.createServer(contextOptions, (socket) => {
    const ids = certificateIds(socket, secure);
    if (ids === null) {
      log.warn(
        { client: socket.remoteAddress, reason: socket.authorizationError },
        "client certificate does not verify; closing the connection",
      );
      socket.destroy();
      return;
    }
    accept(socket, ids);
  });
  server.on("tlsClientError", (error, socket) => {
    log.info({ client: socket.remoteAddress, reason: error.message }, "TLS handshake failed");
  });
  return listen(server, secure.address, secure.port);
}

/** What the four-letter words, the AdminServer and the metrics read of a server. */
function serverView(
  server: ZooKeeperServer,
  resolved: ResolvedServerOptions,
  connections: Iterable<ServerConnection>,
  quorum: QuorumView | undefined,
  listener: () => net.Server,
): AdminContext {
  return {
    server,
    version: ZKTS_VERSION,
    get clientPort() {
      // ZooKeeper says -1 when there is no plain port.
      if (resolved.clientPort === null) return -1;
      return (listener().address() as net.AddressInfo | null)?.port ?? resolved.clientPort;
    },
    connections,
    quorum,
    initialConfig: resolved.initialConfig ?? "",
  };
}
