/**
 * `zkts server`: a standalone server, configured like ZooKeeper (a zoo.cfg, by its own names)
 * with flags on top. Prints `zkts server listening on <host>:<port>` once it serves (and a
 * `listening securely` line for secureClientPort);
 * SIGTERM or SIGINT closes it and exits 0. Bad arguments, an unreadable config or bad values:
 * one line on stderr and exit 2. A server that cannot start (say, the port is taken): one line,
 * exit 1.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { InvalidArgumentError } from "../../protocol/errors.js";
import type { AdminExtension } from "../../server/admin/http.js";
import {
  optionsFromConfig,
  PROMETHEUS_METRICS_PROVIDER,
  parseZooCfg,
  resolveOptions,
} from "../../server/config.js";
import { type EnsembleConfig, ensembleFromConfig, readMyId } from "../../server/ensemble-config.js";
import type { Level, Logger } from "../../server/logger.js";
import type { ServerOptions } from "../../server/options.js";

export const SERVER_USAGE = `usage: zkts server [--config zoo.cfg] [options]

Runs a standalone ZooKeeper-compatible server until SIGTERM or SIGINT. Settings come from the
zoo.cfg (ZooKeeper's names and defaults), then from these flags, which override it:

  -c, --config FILE               a ZooKeeper zoo.cfg
  -p, --port N                    clientPort (default 2181; 0 picks a free port)
      --host ADDR                 clientPortAddress (default 0.0.0.0)
      --secure-port N             secureClientPort: TLS (with -D ssl.keyStore.location=...,
                                  ssl.trustStore.location, ssl.clientAuth; README "TLS")
      --tick-time MS              tickTime (default 3000)
      --min-session-timeout MS    minSessionTimeout (default 2 ticks)
      --max-session-timeout MS    maxSessionTimeout (default 20 ticks)
      --max-client-cnxns N        maxClientCnxns per client IP (default 60; 0 = no limit)
      --jute-maxbuffer BYTES      jute.maxbuffer (default 1048575)
      --global-outstanding-limit N  globalOutstandingLimit (default 1000)
      --4lw-whitelist LIST        4lw.commands.whitelist, e.g. "ruok,stat" or "*" (srvr is on)
      --extended-types            extendedTypesEnabled=true (TTL nodes)
      --super-digest USER:DIGEST  DigestAuthenticationProvider.superDigest
      --jaas FILE                 java.security.auth.login.config: SASL DIGEST-MD5 users from
                                  the JAAS file's Server section (with -D authProvider.1=
                                  org.apache.zookeeper.server.auth.SASLAuthenticationProvider)
      --data-dir DIR              dataDir: txn log and snapshots (none: memory only)
      --data-log-dir DIR          dataLogDir: the txn log on its own disk (default dataDir)
      --admin-port N              admin.serverPort: the AdminServer's HTTP port (default 8080;
                                  -D admin.enableServer=false turns it off)
      --metrics-port N            metricsProvider.httpPort: serve Prometheus /metrics here
                                  (sets metricsProvider.className to ZooKeeper's Prometheus one)
  -D, --set KEY=VALUE             any zoo.cfg setting by its ZooKeeper name (repeatable),
                                  e.g. -D forceSync=no -D snapCount=10000
      --log-level LEVEL           debug, info (default), warn, error or silent; JSON on stderr

Once it serves it prints "zkts server listening on <host>:<port>" (the plain port) and, with
secureClientPort, "zkts server listening securely on <host>:<port>", and nothing else.`;

/** The flags that stand for one zoo.cfg key each, in the order they are applied. */
const FLAG_KEYS = [
  ["port", "clientPort"],
  ["host", "clientPortAddress"],
  ["secure-port", "secureClientPort"],
  ["tick-time", "tickTime"],
  ["min-session-timeout", "minSessionTimeout"],
  ["max-session-timeout", "maxSessionTimeout"],
  ["max-client-cnxns", "maxClientCnxns"],
  ["jute-maxbuffer", "jute.maxbuffer"],
  ["global-outstanding-limit", "globalOutstandingLimit"],
  ["4lw-whitelist", "4lw.commands.whitelist"],
  ["super-digest", "superDigest"],
  ["jaas", "java.security.auth.login.config"],
  ["data-dir", "dataDir"],
  ["data-log-dir", "dataLogDir"],
  ["admin-port", "admin.serverPort"],
  ["metrics-port", "metricsProvider.httpPort"],
] as const;

const LOG_LEVELS: readonly Level[] = ["debug", "info", "warn", "error", "silent"];

/** What the command line asks for. */
interface ServerCommand {
  readonly options: ServerOptions;
  readonly logLevel: Level | undefined;
  /** The zoo.cfg's server.N lines, if it has more than one: this server is in an ensemble. */
  readonly ensemble: EnsembleConfig | undefined;
  /** zkts's own admin.peer.N=host:port lines: every server's AdminServer, for the dashboard. */
  readonly adminPeers: ReadonlyMap<number, string>;
}

/** Grace for handles a closed server might leave behind before we exit regardless. */
const EXIT_GRACE_MS = 2_000;

/** A bad argument or config: one line on stderr, exit 2. */
class UsageError extends Error {
  override readonly name = "UsageError";
}

/** Runs `zkts server` with the arguments after "server"; resolves with the exit code. */
export async function serverCommand(argv: readonly string[]): Promise<number> {
  let command: ServerCommand;
  try {
    const parsed = parse(argv);
    if (parsed === "help") {
      console.log(SERVER_USAGE);
      return 0;
    }
    command = parsed;
    resolveOptions(command.options);
  } catch (error) {
    if (!(error instanceof UsageError || error instanceof InvalidArgumentError)) throw error;
    return fail(error.message, 2);
  }
  return serve(command);
}

/** What the command line asks for, or "help". Throws UsageError or InvalidArgumentError. */
function parse(argv: readonly string[]): ServerCommand | "help" {
  let values: ReturnType<typeof parseFlags>["values"];
  try {
    ({ values } = parseFlags(argv));
  } catch (error) {
    // parseArgs explains at length; the first sentence says what was wrong.
    throw new UsageError((error as Error).message.split(". ")[0]!);
  }
  if (values.help) return "help";
  const logLevel = values["log-level"] as Level | undefined;
  if (logLevel !== undefined && !LOG_LEVELS.includes(logLevel)) {
    throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(", ")}, got "${logLevel}"`);
  }
  const text = values.config === undefined ? undefined : readConfigText(values.config);
  const props: Map<string, string> =
    text === undefined ? new Map() : parseConfig(values.config as string, text);
  const origins = new Map<string, string>();
  const override = (key: string, value: string, origin: string) => {
    props.delete(key);
    props.set(key, value);
    origins.set(key, origin);
  };
  for (const [flag, key] of FLAG_KEYS) {
    const value = values[flag];
    if (value !== undefined) override(key, value, `--${flag}`);
  }
  if (values["extended-types"]) override("extendedTypesEnabled", "true", "--extended-types");
  if (values["metrics-port"] !== undefined) {
    override("metricsProvider.className", PROMETHEUS_METRICS_PROVIDER, "--metrics-port");
  }
  for (const setting of values.set ?? []) {
    const separator = setting.indexOf("=");
    if (separator <= 0) throw new UsageError(`--set wants KEY=VALUE, got "${setting}"`);
    const key = setting.slice(0, separator).trim();
    override(key, setting.slice(separator + 1).trim(), `--set ${key}`);
  }
  const file = values.config;
  const options: ServerOptions = {
    // A server run as ZooKeeper is has ZooKeeper's AdminServer default: on, on port 8080.
    adminEnableServer: true,
    ...optionsFromConfig(props, (key) => origins.get(key) ?? `${file}: ${key}`),
    ...(text !== undefined && { initialConfig: text }),
  };
  return { options, logLevel, ensemble: ensembleFromConfig(props), adminPeers: adminPeers(props) };
}

/** admin.peer.N=host:port (zkts's key; ZooKeeper ignores it): where server N's AdminServer is. */
function adminPeers(props: ReadonlyMap<string, string>): Map<number, string> {
  const peers = new Map<number, string>();
  for (const [key, value] of props) {
    const match = /^(?:zookeeper\.)?admin\.peer\.(\d+)$/.exec(key);
    if (match === null) continue;
    if (!/^[^\s:]+:\d+$|^\[[^\]]+\]:\d+$/.test(value)) {
      throw new UsageError(`${key}: "${value}" is not host:port`);
    }
    peers.set(Number(match[1]), value);
  }
  return peers;
}

function parseFlags(argv: readonly string[]) {
  const value = { type: "string" } as const;
  return parseArgs({
    args: [...argv],
    allowPositionals: false,
    options: {
      help: { type: "boolean", short: "h" },
      config: { type: "string", short: "c" },
      port: { type: "string", short: "p" },
      host: value,
      "secure-port": value,
      "tick-time": value,
      "min-session-timeout": value,
      "max-session-timeout": value,
      "max-client-cnxns": value,
      "jute-maxbuffer": value,
      "global-outstanding-limit": value,
      "4lw-whitelist": value,
      "extended-types": { type: "boolean" },
      "super-digest": value,
      jaas: value,
      "data-dir": value,
      "data-log-dir": value,
      "admin-port": value,
      "metrics-port": value,
      set: { type: "string", short: "D", multiple: true },
      "log-level": value,
    },
  });
}

function readConfigText(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new UsageError(`cannot read config ${file}: ${reason}`);
  }
}

function parseConfig(file: string, text: string): Map<string, string> {
  try {
    return parseZooCfg(text);
  } catch (error) {
    throw new UsageError(`${file}: ${(error as Error).message}`);
  }
}

/** Starts the server, prints the listening line, and waits for SIGTERM/SIGINT. */
async function serve({ options, logLevel, ensemble, adminPeers }: ServerCommand): Promise<number> {
  // Imported here so that `zkts help` and argument errors need none of the server.
  const { createLogger, startServer } = await import("../../server/index.js");
  const { createDashboard } = await import("../../dashboard/index.js");
  const dashboard = createDashboard({ peers: adminPeers });
  let running: { address: string; secureAddress: string | undefined; close(): Promise<void> };
  try {
    running =
      ensemble === undefined
        ? await startServer(options, createLogger(logLevel), dashboard)
        : await startInEnsemble(options, ensemble, createLogger(logLevel), dashboard);
  } catch (error) {
    return fail((error as Error).message, error instanceof InvalidArgumentError ? 2 : 1);
  }
  const code = await new Promise<number>((resolve) => {
    let closing = false;
    const onSignal = () => {
      if (closing) {
        // A second signal while closing: the operator wants out now.
        process.exit(1);
      }
      closing = true;
      running.close().then(
        () => resolve(0),
        (error: unknown) => resolve(fail(`close failed: ${(error as Error).message}`, 1)),
      );
    };
    // Listening before the line goes out: whoever reads it may signal at once.
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
    process.stdout.write(listeningLines(running.address, running.secureAddress));
  });
  // Exit even if a closed server left a handle open; unref'd, so it never delays a clean exit.
  setTimeout(() => process.exit(code), EXIT_GRACE_MS).unref();
  return code;
}

/** The plain port's line (unless it is off: then address is the TLS port's), the TLS port's. */
function listeningLines(address: string, secureAddress: string | undefined): string {
  const plain = address === secureAddress ? "" : `zkts server listening on ${address}\n`;
  const secure =
    secureAddress === undefined ? "" : `zkts server listening securely on ${secureAddress}\n`;
  return plain + secure;
}

/** One server of an ensemble: its id from dataDir/myid, its client port from its line. */
async function startInEnsemble(
  options: ServerOptions,
  ensemble: EnsembleConfig,
  log: Logger,
  dashboard: AdminExtension,
) {
  const { startEnsembleServer } = await import("../../server/quorum/ensemble-server.js");
  if (options.dataDir === undefined) {
    throw new InvalidArgumentError("an ensemble server needs a dataDir (for myid and its data)");
  }
  const me = readMyId(options.dataDir, ensemble);
  const resolved = resolveOptions({
    ...options,
    ...(me.clientPort !== undefined &&
      options.clientPort === undefined && { clientPort: me.clientPort }),
    ...(me.clientAddress !== undefined &&
      options.clientPortAddress === undefined && { clientPortAddress: me.clientAddress }),
  });
  return startEnsembleServer(
    { ...resolved, dataDir: options.dataDir },
    ensemble,
    me,
    log,
    dashboard,
  );
}

function fail(message: string, code: number): number {
  console.error(`zkts server: ${message.split("\n")[0]}`);
  return code;
}
