/**
 * `connect()`: the client's front door. Options carry ZooKeeper's own meanings; everything has a
 * default, and nonsense is refused with InvalidArgumentError before any socket opens.
 */

import type tls from "node:tls";
import { InvalidArgumentError } from "../protocol/errors.js";
import { DEFAULT_MAX_BUFFER_BYTES } from "../protocol/opcodes.js";
import { parseConnectString } from "./connect-string.js";
import { toData } from "./create.js";
import { resolveHost, Session, type SessionOptions } from "./session.js";
import { ZooKeeper } from "./zookeeper.js";

/**
 * TLS to the servers (ZooKeeper's secureClientPort), as ZooKeeper's client does it with
 * zookeeper.client.secure=true: the server's certificate must chain to `ca` (default: Node's
 * root CAs) and name the host of the connect string (an IP SAN for an address, a DNS SAN for a
 * name) unless `hostnameVerification` is false; `cert` and `key` (PEM) or `pfx` (PKCS#12) are
 * the client's own certificate, for servers with ssl.clientAuth=need or the x509 ACL scheme.
 */
export interface SecureOptions {
  /** CA certificates (PEM) that the server's certificate must chain to. */
  readonly ca?: string | Buffer | readonly (string | Buffer)[];
  /** The client certificate chain (PEM). */
  readonly cert?: string | Buffer | readonly (string | Buffer)[];
  /** The client's private key (PEM). */
  readonly key?: string | Buffer;
  /** Key and certificate as PKCS#12 (what keytool and `openssl pkcs12 -export` make). */
  readonly pfx?: Buffer;
  /** The key's or the PKCS#12 file's password. */
  readonly passphrase?: string;
  /**
   * Check that the server's certificate names the host connected to (default true, as
   * zookeeper.ssl.hostnameVerification). False still checks the chain.
   */
  readonly hostnameVerification?: boolean;
  /** The TLS server name (SNI) and the name checked, when not the connect string's host. */
  readonly servername?: string;
}

export interface ConnectOptions {
  /** Connect over TLS: true for Node's root CAs and no client certificate, or the details. */
  readonly secure?: boolean | SecureOptions;
  /** Session timeout asked of the server, which bounds it by its min/max (default 30000). */
  readonly sessionTimeoutMs?: number;
  /** Time for one attempt's TCP connect and handshake (default sessionTimeoutMs / hosts). */
  readonly connectTimeoutMs?: number;
  /** How long `connect()` keeps trying hosts before it gives up (default 15000). */
  readonly initialConnectTimeoutMs?: number;
  /** Default timeout of every call, 0 for none (default 0). */
  readonly requestTimeoutMs?: number;
  /** Accept a read-only server cut off from its quorum (default false). */
  readonly canBeReadOnly?: boolean;
  /** Identities added at connect and re-sent on every reconnect, e.g. digest "user:password". */
  readonly auth?: readonly { readonly scheme: string; readonly auth: Uint8Array | string }[];
  /**
   * SASL DIGEST-MD5 as a user of the server's JAAS "Server" section, on connect and on every
   * reconnect before anything else is sent (ZooKeeper's Java client with
   * zookeeper.sasl.client=true); the session's id is then sasl:<username>. A refused password
   * makes connect() reject with AuthFailedError (state authFailed once connected).
   */
  readonly sasl?: { readonly username: string; readonly password: string };
  /** The largest packet accepted from the server (jute.maxbuffer, default 0xfffff). */
  readonly maxBufferBytes?: number;
  /** Backoff between rounds of failed attempts over all hosts (default 50..1000 ms). */
  readonly reconnectDelayMinMs?: number;
  readonly reconnectDelayMaxMs?: number;
  /**
   * When the server expires the session, start a new one on this client and carry on, as
   * Curator and kazoo do (default false: as ZooKeeper's Java client, expiry ends the client).
   * The expiry still happens: ephemerals and watches are gone, calls in flight fail with
   * SessionExpiredError, and state listeners hear `expired`, then `connecting` and `connected`
   * on the new session. Recipes that can (caches, GroupMember, PersistentNode) rebuild on it.
   *
   * Such a client also takes its session for expired when no server has taken it back within
   * the session timeout after the connection was lost, as Curator does: cut off from the
   * ensemble that long, the session is gone (or goes unless a new leader restarted its clock),
   * and a lock holder or leader learns so then, not only once a server is back. The server
   * expires the old session in its own time; the new one starts as soon as a server answers.
   */
  readonly renewExpiredSession?: boolean;
  /** Resume an existing session (another client's sessionId and sessionPassword). */
  readonly sessionId?: bigint;
  readonly sessionPassword?: Uint8Array;
  /** Aborts the initial connect. */
  readonly signal?: AbortSignal;
  /** Host name resolution, called again on every attempt (default: the system resolver). */
  readonly resolve?: (host: string) => Promise<string[]>;
}

/**
 * Connects to one of the servers of `connectString` (`host:port,host:port[/chroot]`), in a
 * shuffled order, and resolves once a server has taken the session (and its auth, if any).
 */
export async function connect(
  connectString: string,
  options: ConnectOptions = {},
): Promise<ZooKeeper> {
  const target = parseConnectString(connectString);
  const session = new Session(target, sessionOptions(options, target.hosts.length));
  await session.start(options.initialConnectTimeoutMs ?? 15_000, options.signal);
  return new ZooKeeper(session, { renewExpiredSession: options.renewExpiredSession ?? false });
}

function sessionOptions(options: ConnectOptions, hostCount: number): SessionOptions {
  const sessionTimeoutMs = positive("sessionTimeoutMs", options.sessionTimeoutMs ?? 30_000);
  const password = options.sessionPassword ? toData(options.sessionPassword) : Buffer.alloc(16);
  if (password.length !== 16) throw new InvalidArgumentError("sessionPassword must be 16 bytes");
  const reconnectDelayMinMs = positive("reconnectDelayMinMs", options.reconnectDelayMinMs ?? 50);
  return {
    sessionTimeoutMs,
    connectTimeoutMs: positive(
      "connectTimeoutMs",
      options.connectTimeoutMs ?? Math.max(1000, Math.floor(sessionTimeoutMs / hostCount)),
    ),
    requestTimeoutMs: nonNegative("requestTimeoutMs", options.requestTimeoutMs ?? 0),
    canBeReadOnly: options.canBeReadOnly ?? false,
    maxBufferBytes: positive("maxBufferBytes", options.maxBufferBytes ?? DEFAULT_MAX_BUFFER_BYTES),
    reconnectDelayMinMs,
    reconnectDelayMaxMs: Math.max(reconnectDelayMinMs, options.reconnectDelayMaxMs ?? 1000),
    sessionId: options.sessionId ?? 0n,
    sessionPassword: password,
    auth: (options.auth ?? []).map((a) => ({ scheme: a.scheme, auth: toData(a.auth) })),
    resolve: options.resolve ?? resolveHost,
    random: Math.random,
    tls: tlsOptions(options.secure),
    sasl: options.sasl,
    expireWhenCutOff: options.renewExpiredSession ?? false,
  };
}

/** tls.connect's options for `secure`, or undefined for plain TCP. */
function tlsOptions(secure: ConnectOptions["secure"]): tls.ConnectionOptions | undefined {
  if (secure === undefined || secure === false) return undefined;
  if (secure === true) return {};
  const { ca, cert, key, pfx, passphrase, servername, hostnameVerification = true } = secure;
  return {
    ...(ca !== undefined && { ca: ca as tls.ConnectionOptions["ca"] }),
    ...(cert !== undefined && { cert: cert as tls.ConnectionOptions["cert"] }),
    ...(key !== undefined && { key }),
    ...(pfx !== undefined && { pfx }),
    ...(passphrase !== undefined && { passphrase }),
    ...(servername !== undefined && { servername }),
    ...(!hostnameVerification && { checkServerIdentity: () => undefined }),
  };
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0)
    throw new InvalidArgumentError(`${name} must be > 0, got ${value}`);
  return value;
}

function nonNegative(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0)
    throw new InvalidArgumentError(`${name} must be >= 0, got ${value}`);
  return value;
}
