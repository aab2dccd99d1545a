/**
 * zoo.cfg: reading ZooKeeper's configuration file into ServerOptions, and ZooKeeper's defaults.
 *
 *     const options = optionsFromConfig(parseZooCfg(readFileSync("zoo.cfg", "utf8")));
 *     const resolved = resolveOptions(options); // defaults filled, nonsense refused
 *
 * The defaults are Apache ZooKeeper 3.8's own, checked against its source and its 3.8.0 jar:
 * QuorumPeerConfig (maxClientCnxns 60; min/max session timeout 2 and 20 ticks when unset or
 * -1), ZooKeeperServer (DEFAULT_TICK_TIME 3000, globalOutstandingLimit 1000),
 * BinaryInputArchive (jute.maxbuffer 0xfffff), FourLetterCommands (only `srvr` unless
 * whitelisted, and `srvr` always), ZooKeeperServerMain (container checks every 60 000 ms, at most
 * 10 000 deletions a minute). Note that ZooKeeper's tickTime default is 3000, not the 2000 of
 * its sample zoo.cfg: a file without tickTime gets 3000 there, and so here.
 *
 * ZooKeeper turns every zoo.cfg key it does not know into the system property
 * `zookeeper.<key>`, which is how `4lw.commands.whitelist`, `globalOutstandingLimit`,
 * `extendedTypesEnabled` and `DigestAuthenticationProvider.superDigest` work from a zoo.cfg;
 * we accept those names and the `zookeeper.`-prefixed ones. `jute.maxbuffer` and
 * `znode.container.*` are JVM system properties only in ZooKeeper (a zoo.cfg line for them is
 * silently ignored there); we honour them in zoo.cfg. The AdminServer's admin.* keys work as
 * zoo.cfg keys and as zookeeper.admin.* (ZooKeeper reads them as system properties), the
 * metricsProvider.* keys as zoo.cfg keys. Keys for the ensemble (server.N, initLimit,
 * syncLimit, ...) are read by ensemble-config.ts and ignored here.
 */
import { InvalidArgumentError } from "../protocol/errors.js";
import type { ServerOptions } from "./options.js";
import { resolveSasl, type SaslSettings, schemeList } from "./sasl/settings.js";
import { resolveSecureOptions, type SecureClientOptions } from "./tls.js";

/** The TLS settings, which resolve into ResolvedServerOptions.secure. */
type SecureSettings =
  | "secureClientPort"
  | "secureClientPortAddress"
  | "sslKeyStoreLocation"
  | "sslKeyStorePassword"
  | "sslKeyStoreType"
  | "sslTrustStoreLocation"
  | "sslTrustStorePassword"
  | "sslTrustStoreType"
  | "sslClientAuth"
  | "x509SuperUser";
type SaslOptions =
  | "authProviders"
  | "jaasConfigFile"
  | "sessionRequireClientSASLAuth"
  | "enforceAuthEnabled"
  | "enforceAuthSchemes"
  | "saslSuperUsers"
  | "saslSuperPassword"
  | "letAnySaslUserDoX"
  | "allowSaslFailedClients"
  | "kerberosRemoveHostFromPrincipal"
  | "kerberosRemoveRealmFromPrincipal"
  | "krb5Realm"
  | "krb5Kdc";

/** ServerOptions with every default filled in; superDigest and dataDir stay optional. */
export interface ResolvedServerOptions
  extends Required<
    Omit<
      ServerOptions,
      "superDigest" | "dataDir" | "dataLogDir" | "initialConfig" | SecureSettings | SaslOptions
    >
  > {
  /** SASL DIGEST-MD5 users, the sasl scheme and authentication enforcement. */
  readonly sasl: SaslSettings;
  /** null: no plain port, TLS only. */
  readonly clientPort: number | null;
  /** secureClientPort and its ssl.* settings, when it is set. */
  readonly secure?: SecureClientOptions;
  /**
   * The effective whitelist: "*" or the listed words plus `srvr`, which ZooKeeper always
   * enables (zkServer.sh depends on it).
   */
  readonly fourLetterWordsWhitelist: readonly string[] | "*";
  readonly superDigest?: string;
  readonly dataDir?: string;
  readonly dataLogDir?: string;
  readonly initialConfig?: string;
}

/** ZooKeeperServer.DEFAULT_TICK_TIME. */
export const DEFAULT_TICK_TIME = 3000;

/** The defaults that do not depend on other settings (session timeouts follow tickTime). */
export const DEFAULTS = {
  clientPort: 2181,
  clientPortAddress: "0.0.0.0",
  tickTime: DEFAULT_TICK_TIME,
  maxClientCnxns: 60,
  juteMaxBuffer: 0xfffff,
  globalOutstandingLimit: 1000,
  fourLetterWordsWhitelist: ["srvr"],
  extendedTypesEnabled: false,
  enforceQuota: false,
  containerCheckIntervalMs: 60_000,
  containerMaxPerMinute: 10_000,
  sessionlessConnectionTimeoutMs: 10_000,
  forceSync: true,
  snapCount: 100_000,
  snapSizeLimitInKb: 4 * 1024 * 1024,
  preAllocSizeKb: 64 * 1024,
  autopurgeSnapRetainCount: 3,
  autopurgePurgeIntervalHours: 0,
  adminEnableServer: false,
  adminServerAddress: "0.0.0.0",
  adminServerPort: 8080,
  adminCommandUrl: "/commands",
  metricsProviderClassName: "org.apache.zookeeper.metrics.impl.DefaultMetricsProvider",
  metricsProviderHttpHost: "0.0.0.0",
  metricsProviderHttpPort: 7000,
  metricsProviderExportJvmInfo: true,
} as const satisfies Partial<ResolvedServerOptions>;

/** ZooKeeper's Prometheus provider: the one metricsProvider.className that serves /metrics. */
export const PROMETHEUS_METRICS_PROVIDER =
  "org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider";

/** The metrics providers ZooKeeper 3.8 ships (an unknown class name stops it from starting). */
const METRICS_PROVIDERS: ReadonlySet<string> = new Set([
  PROMETHEUS_METRICS_PROVIDER,
  "org.apache.zookeeper.metrics.impl.DefaultMetricsProvider",
  "org.apache.zookeeper.metrics.impl.NullMetricsProvider",
]);

/** The four-letter word ZooKeeper enables whatever the whitelist says. */
const ALWAYS_ENABLED_WORD = "srvr";
const JAVA_INT_MAX = 0x7fffffff;

// ---------------------------------------------------------------------------------------------
// zoo.cfg text -> key/value pairs (java.util.Properties.load, then trimmed as QuorumPeerConfig)
// ---------------------------------------------------------------------------------------------

/**
 * Parses zoo.cfg text as java.util.Properties does: `key=value`, `key: value` or `key value`;
 * `#` and `!` comment lines; a trailing backslash continues a line; `\t \n \r \f \uXXXX`
 * escapes. Keys and values are trimmed. A key given twice keeps its last value, and the Map's
 * order is that of each key's last occurrence (so of two aliases, the later line wins).
 */
export function parseZooCfg(text: string): Map<string, string> {
  const props = new Map<string, string>();
  for (const line of logicalLines(text)) {
    const [rawKey, rawValue] = splitKeyValue(line);
    const key = unescapeJava(rawKey).trim();
    props.delete(key);
    props.set(key, unescapeJava(rawValue).trim());
  }
  return props;
}

const WHITESPACE = new Set([" ", "\t", "\f"]);

/** Natural lines joined across continuations, without blank and comment lines. */
function logicalLines(text: string): string[] {
  const lines: string[] = [];
  let pending: string | undefined;
  for (const natural of text.split(/\r\n|\r|\n/)) {
    let line = natural;
    if (pending === undefined) {
      line = stripLeadingWhitespace(line);
      if (line === "" || line.startsWith("#") || line.startsWith("!")) continue;
    } else {
      line = pending + stripLeadingWhitespace(line);
    }
    if (endsWithOddBackslashes(line)) {
      pending = line.slice(0, -1);
    } else {
      pending = undefined;
      lines.push(line);
    }
  }
  if (pending !== undefined && pending !== "") lines.push(pending);
  return lines;
}

function stripLeadingWhitespace(line: string): string {
  let i = 0;
  while (i < line.length && WHITESPACE.has(line[i]!)) i++;
  return line.slice(i);
}

function endsWithOddBackslashes(line: string): boolean {
  let count = 0;
  for (let i = line.length - 1; i >= 0 && line[i] === "\\"; i--) count++;
  return count % 2 === 1;
}

/** The key ends at the first unescaped `=`, `:` or whitespace; one `=` or `:` may follow. */
function splitKeyValue(line: string): [string, string] {
  let end = 0;
  let escaped = false;
  for (; end < line.length; end++) {
    const c = line[end]!;
    if (escaped) {
      escaped = false;
    } else if (c === "\\") {
      escaped = true;
    } else if (c === "=" || c === ":" || WHITESPACE.has(c)) {
      break;
    }
  }
  let start = end;
  while (start < line.length && WHITESPACE.has(line[start]!)) start++;
  if (start < line.length && (line[start] === "=" || line[start] === ":")) start++;
  while (start < line.length && WHITESPACE.has(line[start]!)) start++;
  return [line.slice(0, end), line.slice(start)];
}

const ESCAPES: Readonly<Record<string, string>> = { t: "\t", n: "\n", r: "\r", f: "\f" };

function unescapeJava(text: string): string {
  if (!text.includes("\\")) return text;
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c !== "\\" || i === text.length - 1) {
      out += c;
      continue;
    }
    const next = text[++i]!;
    if (next === "u") {
      const hex = text.slice(i + 1, i + 5);
      if (!/^[0-9a-fA-F]{4}$/.test(hex)) {
        throw new InvalidArgumentError(`zoo.cfg: malformed \\uxxxx escape in "${text}"`);
      }
      out += String.fromCharCode(Number.parseInt(hex, 16));
      i += 4;
    } else {
      out += ESCAPES[next] ?? next;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// key/value pairs -> ServerOptions
// ---------------------------------------------------------------------------------------------

/** Where a zoo.cfg key goes in ServerOptions, and how its text is read (undefined = unset). */
interface Setting {
  readonly field: keyof ServerOptions;
  readonly parse: (value: string, where: string) => ServerOptions[keyof ServerOptions];
}

/**
 * The zoo.cfg keys we understand. `int` is Java's Integer.parseInt (QuorumPeerConfig's own
 * keys); `decodedInt` also takes 0x hex, as Integer.getInteger does for the settings ZooKeeper
 * reads as system properties.
 */
const SETTINGS: ReadonlyMap<string, Setting> = new Map<string, Setting>([
  ["clientPort", { field: "clientPort", parse: int }],
  ["clientPortAddress", { field: "clientPortAddress", parse: nonEmpty }],
  ["tickTime", { field: "tickTime", parse: int }],
  ["minSessionTimeout", { field: "minSessionTimeout", parse: sessionTimeout }],
  ["maxSessionTimeout", { field: "maxSessionTimeout", parse: sessionTimeout }],
  ["maxClientCnxns", { field: "maxClientCnxns", parse: int }],
  ["jute.maxbuffer", { field: "juteMaxBuffer", parse: decodedInt }],
  ...aliases(["globalOutstandingLimit"], { field: "globalOutstandingLimit", parse: int }),
  ...aliases(["4lw.commands.whitelist"], { field: "fourLetterWordsWhitelist", parse: whitelist }),
  ...aliases(["extendedTypesEnabled"], { field: "extendedTypesEnabled", parse: boolean }),
  ...aliases(["enforceQuota"], { field: "enforceQuota", parse: boolean }),
  ...aliases(["superDigest", "DigestAuthenticationProvider.superDigest"], {
    field: "superDigest",
    parse: nonEmpty,
  }),
  ["znode.container.checkIntervalMs", { field: "containerCheckIntervalMs", parse: decodedInt }],
  ["znode.container.maxPerMinute", { field: "containerMaxPerMinute", parse: decodedInt }],
  ...aliases(["nio.sessionlessCnxnTimeout"], {
    field: "sessionlessConnectionTimeoutMs",
    parse: decodedInt,
  }),
  ["dataDir", { field: "dataDir", parse: nonEmpty }],
  ["dataLogDir", { field: "dataLogDir", parse: nonEmpty }],
  ...aliases(["forceSync"], { field: "forceSync", parse: yesNo }),
  ...aliases(["snapCount"], { field: "snapCount", parse: int }),
  ...aliases(["snapSizeLimitInKb"], { field: "snapSizeLimitInKb", parse: int }),
  ...aliases(["preAllocSize"], { field: "preAllocSizeKb", parse: int }),
  ["autopurge.snapRetainCount", { field: "autopurgeSnapRetainCount", parse: int }],
  ["autopurge.purgeInterval", { field: "autopurgePurgeIntervalHours", parse: int }],
  ...aliases(["admin.enableServer"], { field: "adminEnableServer", parse: boolean }),
  ...aliases(["admin.serverAddress"], { field: "adminServerAddress", parse: nonEmpty }),
  ...aliases(["admin.serverPort"], { field: "adminServerPort", parse: decodedInt }),
  ...aliases(["admin.commandURL"], { field: "adminCommandUrl", parse: nonEmpty }),
  ["metricsProvider.className", { field: "metricsProviderClassName", parse: nonEmpty }],
  ["metricsProvider.httpHost", { field: "metricsProviderHttpHost", parse: nonEmpty }],
  ["metricsProvider.httpPort", { field: "metricsProviderHttpPort", parse: int }],
  ["metricsProvider.exportJvmInfo", { field: "metricsProviderExportJvmInfo", parse: javaBoolean }],
  ["secureClientPort", { field: "secureClientPort", parse: int }],
  ["secureClientPortAddress", { field: "secureClientPortAddress", parse: nonEmpty }],
  ...aliases(["ssl.keyStore.location"], { field: "sslKeyStoreLocation", parse: nonEmpty }),
  ...aliases(["ssl.keyStore.password"], { field: "sslKeyStorePassword", parse: text }),
  ...aliases(["ssl.keyStore.type"], { field: "sslKeyStoreType", parse: nonEmpty }),
  ...aliases(["ssl.trustStore.location"], { field: "sslTrustStoreLocation", parse: nonEmpty }),
  ...aliases(["ssl.trustStore.password"], { field: "sslTrustStorePassword", parse: text }),
  ...aliases(["ssl.trustStore.type"], { field: "sslTrustStoreType", parse: nonEmpty }),
  ...aliases(["ssl.clientAuth"], { field: "sslClientAuth", parse: nonEmpty }),
  ...aliases(["X509AuthenticationProvider.superUser"], { field: "x509SuperUser", parse: nonEmpty }),
  // ZooKeeper takes the JAAS file from this JVM system property only; we accept it in zoo.cfg.
  ["java.security.auth.login.config", { field: "jaasConfigFile", parse: nonEmpty }],
  ...aliases(["sessionRequireClientSASLAuth"], {
    field: "sessionRequireClientSASLAuth",
    parse: javaBoolean,
  }),
  ...aliases(["enforce.auth.enabled"], { field: "enforceAuthEnabled", parse: javaBoolean }),
  ...aliases(["enforce.auth.schemes"], { field: "enforceAuthSchemes", parse: schemeList }),
  ...aliases(["SASLAuthenticationProvider.superPassword"], {
    field: "saslSuperPassword",
    parse: text,
  }),
  ...aliases(["letAnySaslUserDoX"], { field: "letAnySaslUserDoX", parse: text }),
  ...aliases(["allowSaslFailedClients"], { field: "allowSaslFailedClients", parse: javaBoolean }),
  ...aliases(["kerberos.removeHostFromPrincipal"], {
    field: "kerberosRemoveHostFromPrincipal",
    parse: exactlyTrue,
  }),
  ...aliases(["kerberos.removeRealmFromPrincipal"], {
    field: "kerberosRemoveRealmFromPrincipal",
    parse: exactlyTrue,
  }),
  // JVM system properties (no zookeeper. prefix) that give Java its default Kerberos realm.
  ["java.security.krb5.realm", { field: "krb5Realm", parse: text }],
  ["java.security.krb5.kdc", { field: "krb5Kdc", parse: text }],
]);

/**
 * zookeeper.superUser and zookeeper.superUser.<anything> (any N), as zoo.cfg keys or system
 * properties: each names a sasl id that is the super user too (ZooKeeperServer.isSaslSuperUser).
 */
const SASL_SUPER_USER_KEY = /^(?:zookeeper\.)?superUser(?:\..*)?$/;

/** authProvider.N (any N), as zoo.cfg or as the system property zookeeper.authProvider.N. */
const AUTH_PROVIDER_KEY = /^(?:zookeeper\.)?authProvider\..+$/;

/** Each name as written in a zoo.cfg and as the system property `zookeeper.<name>`. */
function aliases(names: readonly string[], setting: Setting): [string, Setting][] {
  return names.flatMap((name) => [
    [name, setting],
    [`zookeeper.${name}`, setting],
  ]);
}

/**
 * Maps zoo.cfg keys (ZooKeeper's names) to ServerOptions. Keys it does not know are ignored.
 * A malformed value throws InvalidArgumentError naming the key (or whatever `describeKey` says
 * the key came from, e.g. a command-line flag) and the value. Ranges are resolveOptions' job.
 */
export function optionsFromConfig(
  props: ReadonlyMap<string, string>,
  describeKey: (key: string) => string = (key) => key,
): ServerOptions {
  const options: Record<string, unknown> = {};
  for (const [key, text] of props) {
    if (AUTH_PROVIDER_KEY.test(key)) {
      options.authProviders = [...((options.authProviders as string[]) ?? []), text.trim()];
      continue;
    }
    if (SASL_SUPER_USER_KEY.test(key)) {
      options.saslSuperUsers = [...((options.saslSuperUsers as string[]) ?? []), text];
      continue;
    }
    const setting = SETTINGS.get(key);
    if (setting === undefined) continue;
    const value = setting.parse(text, describeKey(key));
    if (value === undefined) delete options[setting.field];
    else options[setting.field] = value;
  }
  // As ZooKeeper: a zoo.cfg with secureClientPort and no clientPort serves TLS only.
  if (options.secureClientPort !== undefined && options.clientPort === undefined) {
    options.clientPort = null;
  }
  return options as ServerOptions;
}

function text(value: string): string {
  return value;
}

/** ZooKeeper reads -1 as "not set": the default (2 or 20 ticks) applies. */
function sessionTimeout(value: string, where: string): number | undefined {
  const timeout = int(value, where);
  return timeout === -1 ? undefined : timeout;
}

function int(value: string, where: string): number {
  if (!/^[+-]?\d+$/.test(value)) throw malformed(value, where, "is not an integer");
  return checkedInt(Number(value), value, where);
}

function decodedInt(value: string, where: string): number {
  const hex = /^([+-]?)(?:0[xX]|#)([0-9a-fA-F]+)$/.exec(value);
  if (hex === null) return int(value, where);
  const magnitude = Number.parseInt(hex[2]!, 16);
  return checkedInt(hex[1] === "-" ? -magnitude : magnitude, value, where);
}

function checkedInt(number: number, value: string, where: string): number {
  if (number > JAVA_INT_MAX || number < -JAVA_INT_MAX - 1) {
    throw malformed(value, where, "is out of range for an int");
  }
  return number;
}

function boolean(value: string, where: string): boolean {
  const lower = value.toLowerCase();
  if (lower === "true") return true;
  if (lower === "false") return false;
  throw malformed(value, where, "is not true or false");
}

/** Boolean.parseBoolean, as the metrics provider reads its flags: "true" (any case) or false. */
function javaBoolean(value: string): boolean {
  return value.toLowerCase() === "true";
}

/** SaslServerCallbackHandler's kerberos flags count only when the value is exactly "true". */
function exactlyTrue(value: string): boolean {
  return value === "true";
}

/** zookeeper.forceSync: ZooKeeper syncs unless the value is "no" (any case); so do we. */
function yesNo(value: string): boolean {
  return value.toLowerCase() !== "no";
}

function nonEmpty(value: string, where: string): string {
  if (value === "") throw malformed(value, where, "is empty");
  return value;
}

/** FourLetterCommands: comma-separated, trimmed, empty entries dropped, "*" anywhere = all. */
function whitelist(value: string): readonly string[] | "*" {
  const words = value
    .split(",")
    .map((word) => word.trim())
    .filter((word) => word !== "");
  return words.includes("*") ? "*" : words;
}

function malformed(value: string, where: string, what: string): InvalidArgumentError {
  return new InvalidArgumentError(`${where}: "${value}" ${what}`);
}

// ---------------------------------------------------------------------------------------------
// ServerOptions -> ResolvedServerOptions (defaults, validation)
// ---------------------------------------------------------------------------------------------

/**
 * Fills ZooKeeper's defaults and refuses settings ZooKeeper would refuse or could not run with,
 * with an InvalidArgumentError that names the setting by its zoo.cfg name.
 */
export function resolveOptions(options: ServerOptions = {}): ResolvedServerOptions {
  const tickTime = options.tickTime ?? DEFAULTS.tickTime;
  checkRange("tickTime", tickTime, 1);
  const secure = resolveSecureOptions(options);
  const clientPort =
    options.clientPort === null
      ? null
      : checkRange("clientPort", options.clientPort ?? DEFAULTS.clientPort, 0, 65535);
  if (clientPort === null && secure === undefined) {
    throw new InvalidArgumentError("clientPort or secureClientPort must be set");
  }
  const resolved: ResolvedServerOptions = {
    clientPort,
    ...(secure !== undefined && { secure }),
    clientPortAddress: checkAddress(options.clientPortAddress ?? DEFAULTS.clientPortAddress),
    tickTime,
    minSessionTimeout: checkRange(
      "minSessionTimeout",
      options.minSessionTimeout ?? 2 * tickTime,
      1,
    ),
    maxSessionTimeout: checkRange(
      "maxSessionTimeout",
      options.maxSessionTimeout ?? 20 * tickTime,
      1,
    ),
    maxClientCnxns: checkRange(
      "maxClientCnxns",
      options.maxClientCnxns ?? DEFAULTS.maxClientCnxns,
      0,
    ),
    juteMaxBuffer: checkRange("jute.maxbuffer", options.juteMaxBuffer ?? DEFAULTS.juteMaxBuffer, 1),
    globalOutstandingLimit: checkRange(
      "globalOutstandingLimit",
      options.globalOutstandingLimit ?? DEFAULTS.globalOutstandingLimit,
      1,
    ),
    fourLetterWordsWhitelist: effectiveWhitelist(options.fourLetterWordsWhitelist),
    extendedTypesEnabled: checkBoolean(
      "extendedTypesEnabled",
      options.extendedTypesEnabled ?? DEFAULTS.extendedTypesEnabled,
    ),
    enforceQuota: checkBoolean("enforceQuota", options.enforceQuota ?? DEFAULTS.enforceQuota),
    containerCheckIntervalMs: checkRange(
      "znode.container.checkIntervalMs",
      options.containerCheckIntervalMs ?? DEFAULTS.containerCheckIntervalMs,
      1,
    ),
    containerMaxPerMinute: checkRange(
      "znode.container.maxPerMinute",
      options.containerMaxPerMinute ?? DEFAULTS.containerMaxPerMinute,
      1,
    ),
    sessionlessConnectionTimeoutMs: checkRange(
      "zookeeper.nio.sessionlessCnxnTimeout",
      options.sessionlessConnectionTimeoutMs ?? DEFAULTS.sessionlessConnectionTimeoutMs,
      1,
    ),
    ...resolveStorageOptions(options),
    ...resolveMonitoringOptions(options),
    ...(options.superDigest !== undefined && { superDigest: checkDigest(options.superDigest) }),
    ...(options.dataDir !== undefined && { dataDir: checkString("dataDir", options.dataDir) }),
    ...(options.dataLogDir !== undefined && {
      dataLogDir: checkString("dataLogDir", options.dataLogDir),
    }),
    ...(options.initialConfig !== undefined && { initialConfig: options.initialConfig }),
    sasl: resolveSasl(options),
  };
  if (resolved.minSessionTimeout > resolved.maxSessionTimeout) {
    throw new InvalidArgumentError(
      `minSessionTimeout (${resolved.minSessionTimeout}) must not be larger than ` +
        `maxSessionTimeout (${resolved.maxSessionTimeout})`,
    );
  }
  return resolved;
}

/** The txn log, snapshot and purge settings. */
function resolveStorageOptions(options: ServerOptions) {
  return {
    forceSync: checkBoolean("forceSync", options.forceSync ?? DEFAULTS.forceSync),
    snapCount: checkRange("snapCount", options.snapCount ?? DEFAULTS.snapCount, 2),
    snapSizeLimitInKb: checkRange(
      "snapSizeLimitInKb",
      options.snapSizeLimitInKb ?? DEFAULTS.snapSizeLimitInKb,
      1,
    ),
    preAllocSizeKb: checkRange(
      "preAllocSize",
      options.preAllocSizeKb ?? DEFAULTS.preAllocSizeKb,
      0,
    ),
    // PurgeTxnLog keeps at least 3 snapshots; DatadirCleanupManager raises a smaller count to 3.
    autopurgeSnapRetainCount: Math.max(
      3,
      checkRange(
        "autopurge.snapRetainCount",
        options.autopurgeSnapRetainCount ?? DEFAULTS.autopurgeSnapRetainCount,
        0,
      ),
    ),
    autopurgePurgeIntervalHours: Math.max(
      0,
      checkRange(
        "autopurge.purgeInterval",
        options.autopurgePurgeIntervalHours ?? DEFAULTS.autopurgePurgeIntervalHours,
        -JAVA_INT_MAX,
      ),
    ),
  };
}

/** The AdminServer's and the metrics endpoint's settings. */
function resolveMonitoringOptions(options: ServerOptions) {
  const className = options.metricsProviderClassName ?? DEFAULTS.metricsProviderClassName;
  if (!METRICS_PROVIDERS.has(className)) {
    throw new InvalidArgumentError(
      `metricsProvider.className: "${className}" is not a metrics provider zkts has ` +
        `(${[...METRICS_PROVIDERS].join(", ")})`,
    );
  }
  const commandUrl = options.adminCommandUrl ?? DEFAULTS.adminCommandUrl;
  if (typeof commandUrl !== "string" || !commandUrl.startsWith("/")) {
    throw new InvalidArgumentError(`admin.commandURL must be a path starting with "/"`);
  }
  return {
    adminEnableServer: checkBoolean(
      "admin.enableServer",
      options.adminEnableServer ?? DEFAULTS.adminEnableServer,
    ),
    adminServerAddress: checkHost(
      "admin.serverAddress",
      options.adminServerAddress ?? DEFAULTS.adminServerAddress,
    ),
    adminServerPort: checkRange(
      "admin.serverPort",
      options.adminServerPort ?? DEFAULTS.adminServerPort,
      0,
      65535,
    ),
    // Jetty's context path: a trailing slash names the same place.
    adminCommandUrl: commandUrl.length > 1 ? commandUrl.replace(/\/+$/, "") : commandUrl,
    metricsProviderClassName: className,
    metricsProviderHttpHost: checkHost(
      "metricsProvider.httpHost",
      options.metricsProviderHttpHost ?? DEFAULTS.metricsProviderHttpHost,
    ),
    metricsProviderHttpPort: checkRange(
      "metricsProvider.httpPort",
      options.metricsProviderHttpPort ?? DEFAULTS.metricsProviderHttpPort,
      0,
      65535,
    ),
    metricsProviderExportJvmInfo: checkBoolean(
      "metricsProvider.exportJvmInfo",
      options.metricsProviderExportJvmInfo ?? DEFAULTS.metricsProviderExportJvmInfo,
    ),
  };
}

/** An integer in min..max (max defaults to Java's int range, which ZooKeeper stores them in). */
function checkRange(name: string, value: number, min: number, max = JAVA_INT_MAX): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    const range = max === JAVA_INT_MAX ? `an integer >= ${min}` : `an integer in ${min}..${max}`;
    throw new InvalidArgumentError(`${name} must be ${range}, got ${String(value)}`);
  }
  return value;
}

function checkBoolean(name: string, value: boolean): boolean {
  if (typeof value !== "boolean") {
    throw new InvalidArgumentError(`${name} must be true or false, got ${String(value)}`);
  }
  return value;
}

function checkString(name: string, value: string): string {
  if (typeof value !== "string" || value === "") {
    throw new InvalidArgumentError(`${name} must be a non-empty string`);
  }
  return value;
}

function checkAddress(address: string): string {
  return checkHost("clientPortAddress", address);
}

function checkHost(name: string, address: string): string {
  checkString(name, address);
  if (/\s/.test(address)) {
    throw new InvalidArgumentError(`${name} "${address}" is not a host name or address`);
  }
  return address;
}

/** DigestAuthenticationProvider compares it with "user:base64(sha1(user:password))". */
function checkDigest(superDigest: string): string {
  checkString("superDigest", superDigest);
  if (!/^[^:]+:.+$/.test(superDigest)) {
    throw new InvalidArgumentError(`superDigest must be "user:base64digest", got "${superDigest}"`);
  }
  return superDigest;
}

function effectiveWhitelist(whitelist: ServerOptions["fourLetterWordsWhitelist"]) {
  if (whitelist === undefined) return DEFAULTS.fourLetterWordsWhitelist;
  if (whitelist === "*") return "*";
  if (!Array.isArray(whitelist) || whitelist.some((word) => typeof word !== "string")) {
    throw new InvalidArgumentError(`4lw.commands.whitelist must be "*" or a list of words`);
  }
  const words = whitelist.map((word) => word.trim()).filter((word) => word !== "");
  if (words.includes("*")) return "*";
  return [...new Set([...words, ALWAYS_ENABLED_WORD])];
}
