/**
 * `connect()`: the client's front door. Options carry ZooKeeper's own meanings; everything has a
 * default, and nonsense is refused with InvalidArgumentError before any socket opens.
 */

import { InvalidArgumentError } from "../protocol/errors.js";
import { DEFAULT_MAX_BUFFER_BYTES } from "../protocol/opcodes.js";
import { parseConnectString } from "./connect-string.js";
import { toData } from "./create.js";
import { resolveHost, Session, type SessionOptions } from "./session.js";
import { ZooKeeper } from "./zookeeper.js";

export interface ConnectOptions {
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
  /** The largest packet accepted from the server (jute.maxbuffer, default 0xfffff). */
  readonly maxBufferBytes?: number;
  /** Backoff between rounds of failed attempts over all hosts (default 50..1000 ms). */
  readonly reconnectDelayMinMs?: number;
  readonly reconnectDelayMaxMs?: number;
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
  return new ZooKeeper(session);
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
