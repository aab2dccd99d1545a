/**
 * The session engine under the public client: it finds a server, keeps one session across
 * connections, pipelines requests with xids and matches replies in order, delivers watch events
 * in the order the server sent them, pings, and on connection loss fails what was in flight and
 * reconnects to the next host with the same session, its auth and its watches.
 *
 * Ordering contract: frames are handled one at a time in arrival order, and each reply settles
 * its promise (and each notification calls its listeners) before the next frame is read, so a
 * watch event is always delivered before the reply of any request the server answered after it.
 */
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import type tls from "node:tls";
import {
  AuthPacket,
  type ConnectResponse,
  GetSASLRequest,
  Reader,
  ReplyHeader,
  SetSASLResponse,
  SetWatches,
  SetWatches2,
  WatcherEvent,
  type Writer,
} from "../jute/index.js";
import { eventTypeName, keeperStateName } from "../protocol/constants.js";
import {
  AuthFailedError,
  ClosedError,
  ConnectionLossError,
  ErrorCode,
  errorFromCode,
  MarshallingError,
  RequestTimeoutError,
  SessionExpiredError,
  type ZooKeeperError,
} from "../protocol/errors.js";
import { OpCode, PROTOCOL_VERSION, Xid } from "../protocol/opcodes.js";
import { type Deferred, deferred } from "../util/deferred.js";
import { type ConnectString, type HostAddress, shuffled } from "./connect-string.js";
import { Connection, ConnectionError } from "./connection.js";
import { Fifo } from "./fifo.js";
import { prependChroot, stripChroot } from "./paths.js";
import { probeReadWrite } from "./read-write-probe.js";
import { type SaslCredentials, saslDigestMd5 } from "./sasl.js";
import type { CallOptions, ClientState, WatchEvent, WatchListener } from "./types.js";
import { WatchManager } from "./watch-manager.js";

/** One request as the session sends it; the operation layer builds these. */
export interface Request<T> {
  readonly opcode: number;
  /** The caller's path, named in errors. */
  readonly path?: string | undefined;
  /** Writes the body after the RequestHeader. */
  encode(w: Writer): void;
  /** Reads the body of a reply whose err is 0. */
  decode(r: Reader): T;
  /** Sees every reply's err before the promise settles (watch registration hangs here). */
  onReply?: ((err: number) => void) | undefined;
  /** Turns a non-zero err into a value instead of an error, when it returns one. */
  recover?: ((err: number) => T | undefined) | undefined;
  /** Builds the error for a non-zero err (multi reads per-op results from the body). */
  failure?: ((err: number, r: Reader) => Error) | undefined;
}

interface Pending {
  readonly request: Request<unknown>;
  readonly deferred: Deferred<unknown>;
  xid: number;
  settled: boolean;
  dispose: (() => void) | undefined;
}

export interface AuthInfo {
  readonly scheme: string;
  readonly auth: Buffer;
}

export interface SessionOptions {
  readonly sessionTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly canBeReadOnly: boolean;
  readonly maxBufferBytes: number;
  readonly reconnectDelayMinMs: number;
  readonly reconnectDelayMaxMs: number;
  readonly sessionId: bigint;
  readonly sessionPassword: Buffer;
  readonly auth: readonly AuthInfo[];
  /** Resolves a host name to addresses, again on every attempt (a moved server is found). */
  readonly resolve: (host: string) => Promise<string[]>;
  readonly random: () => number;
  /** Connect over TLS with these options (undefined: plain TCP). */
  readonly tls?: tls.ConnectionOptions | undefined;
  /** SASL DIGEST-MD5 on every connection, before anything else is sent on it. */
  readonly sasl?: SaslCredentials | undefined;
  /**
   * Take the session for expired once no server has been reached for a whole session timeout
   * after the connection was lost, without waiting for a server to say so (Curator does).
   */
  readonly expireWhenCutOff?: boolean;
}

export async function resolveHost(host: string): Promise<string[]> {
  const addresses = await lookup(host, { all: true });
  return addresses.map((a) => a.address);
}

const SET_WATCHES_MAX_BYTES = 128 * 1024;
const TERMINAL: ReadonlySet<ClientState> = new Set(["expired", "authFailed", "closed"]);

export class Session {
  state: ClientState = "connecting";
  sessionId: bigint;
  sessionPassword: Buffer;
  lastZxid = 0n;
  negotiatedTimeoutMs = 0;
  /** The server this session is connected to, as host:port. */
  server: string | undefined;
  readonly watches = new WatchManager();
  readonly chroot: string;

  private readonly options: SessionOptions;
  private readonly target: ConnectString;
  private hosts: HostAddress[];
  private hostIndex = 0;
  /** The host of the connection under way or up, as the host list names it. */
  private currentHost: HostAddress | undefined;
  private readonly authInfo: AuthInfo[];
  private connection: Connection | null = null;
  private readonly queued = new Fifo<Pending>();
  private readonly inflight = new Fifo<Pending>();
  private readonly authReplies = new Fifo<Deferred<void>>();
  private xid = 0;
  private pingTimer: NodeJS.Timeout | undefined;
  /** expireWhenCutOff: fires a session timeout after the connection was lost. */
  private cutOffTimer: NodeJS.Timeout | undefined;
  private closing = false;
  /** The final state finish() is entering (set before it tells the watchers). */
  private ending: "expired" | "authFailed" | "closed" | undefined;
  private readonly lifetime = new AbortController();
  private readonly stateListeners = new Set<(state: ClientState) => void>();
  /** Settles once the auth sent with the latest connection is answered. */
  private authSettled: Promise<void> = Promise.resolve();
  lastConnectError: Error | undefined;
  /**
   * A session made by a read-only server is local to it; until a read-write server has taken
   * the session, each attempt asks for a new one (ZooKeeper's client: seenRwServerBefore).
   */
  private seenReadWrite: boolean;

  constructor(target: ConnectString, options: SessionOptions) {
    this.options = options;
    this.target = target;
    this.chroot = target.chroot;
    this.hosts = shuffled(target.hosts, options.random);
    this.sessionId = options.sessionId;
    this.sessionPassword = options.sessionPassword;
    this.authInfo = [...options.auth];
    this.seenReadWrite = options.sessionId !== 0n;
  }

  get terminal(): boolean {
    return TERMINAL.has(this.state);
  }

  get connected(): boolean {
    return this.state === "connected" || this.state === "connectedReadOnly";
  }

  onState(listener: (state: ClientState) => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  private setState(state: ClientState): void {
    if (this.state === state) return;
    this.state = state;
    for (const listener of [...this.stateListeners]) listener(state);
  }

  /**
   * A new session to follow this expired one (Curator and kazoo renew a session the server
   * expired): same servers, options and auth (addAuth's included), a fresh id, and the highest
   * zxid seen, so that it never connects to a server behind what the client has already read.
   */
  successor(): Session {
    // The servers as they are now: updateServerList may have changed them since connect().
    const next = new Session(
      { ...this.target, hosts: this.hosts },
      {
        ...this.options,
        sessionId: 0n,
        sessionPassword: Buffer.alloc(16),
        auth: [...this.authInfo],
      },
    );
    next.lastZxid = this.lastZxid;
    return next;
  }

  /** Starts looking for a server with no deadline (a successor: it keeps trying until closed). */
  begin(): void {
    void this.connectLoop();
  }

  /**
   * Replaces the servers (ZooKeeper's updateServerList, after the ensemble was reconfigured).
   * As ZooKeeper's StaticHostProvider does, simplified: the session moves if its server left
   * the list; if the list grew, it moves to one of the new servers with probability
   * 1 - old/new, so that clients spread over them; otherwise it stays. Moving drops the
   * connection: the session resumes on the new server (disconnected, then connected).
   * Returns whether it moves.
   */
  updateServerList(hosts: readonly HostAddress[], random: () => number): boolean {
    const key = (h: HostAddress) => `${h.host}:${h.port}`;
    const oldKeys = new Set(this.hosts.map(key));
    const oldCount = this.hosts.length;
    const next = shuffled(hosts, random);
    const current = this.connection === null ? undefined : this.currentHost;
    this.hosts = next;
    this.hostIndex = 0;
    if (current === undefined) return false; // the next attempt takes from the new list
    const here = next.findIndex((h) => key(h) === key(current));
    let targets: HostAddress[] | undefined;
    if (here < 0) targets = next;
    else if (next.length > oldCount && random() < 1 - oldCount / next.length) {
      targets = next.filter((h) => !oldKeys.has(key(h)));
    }
    if (targets === undefined || targets.length === 0) {
      this.hostIndex = here + 1; // a later reconnect goes round from the next one
      return false;
    }
    const chosen = new Set(targets.map(key));
    this.hosts = [...targets, ...next.filter((h) => !chosen.has(key(h)))];
    this.connection?.destroy(new ConnectionError(`${key(current)}: server list updated`));
    return true;
  }

  /** Connects for the first time; rejects if no server takes the session within `timeoutMs`. */
  async start(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    const ready = deferred<void>();
    const off = this.onState((state) => {
      if (this.connected) ready.resolve();
      else if (state === "expired") ready.reject(new SessionExpiredError());
      else if (state === "authFailed") ready.reject(new AuthFailedError());
      else if (state === "closed") ready.reject(new ClosedError("client closed while connecting"));
    });
    const deadline = setTimeout(() => ready.reject(this.connectFailure(timeoutMs)), timeoutMs);
    const abort = () => ready.reject(signal?.reason);
    if (signal?.aborted) abort();
    signal?.addEventListener("abort", abort, { once: true });
    void this.connectLoop();
    try {
      await ready.promise;
      await this.authSettled;
    } catch (error) {
      await this.close(0);
      throw error;
    } finally {
      off();
      clearTimeout(deadline);
      signal?.removeEventListener("abort", abort);
    }
  }

  private connectFailure(timeoutMs: number): ZooKeeperError {
    const hosts = this.hosts.map((h) => `${h.host}:${h.port}`).join(",");
    const cause = this.lastConnectError;
    const reason = cause ? `: ${cause.message}` : "";
    return new ConnectionLossError(undefined, {
      cause,
      message: `CONNECTIONLOSS: no server of ${hosts} took the session within ${timeoutMs} ms${reason}`,
    } as ErrorOptions);
  }

  private async connectLoop(): Promise<void> {
    let delay = this.options.reconnectDelayMinMs;
    for (let attempt = 1; !this.terminal && !this.closing; attempt++) {
      const host = this.hosts[this.hostIndex++ % this.hosts.length] as HostAddress;
      try {
        const connection = await this.open(host);
        if (connection) return;
      } catch (error) {
        this.lastConnectError = error as Error;
      }
      // A full round of hosts failed: back off (with jitter) before the next round.
      if (attempt % this.hosts.length === 0) {
        const jittered = delay / 2 + (this.options.random() * delay) / 2;
        await sleep(jittered, undefined, { signal: this.lifetime.signal }).catch(() => {});
        delay = Math.min(delay * 2, this.options.reconnectDelayMaxMs);
      }
    }
  }

  /**
   * TLS options for one host: the certificate is checked against the host as the connect string
   * names it (we connect to a resolved address), sent as SNI unless it is an IP address.
   */
  private tlsFor(host: string): tls.ConnectionOptions | undefined {
    const options = this.options.tls;
    // An address is checked as the address connected to (no SNI for addresses, RFC 6066).
    if (options === undefined || options.servername !== undefined || isIP(host) !== 0) {
      return options;
    }
    return { ...options, servername: host };
  }

  /** One attempt: resolve, connect, handshake. Returns the connection, or null if we stopped. */
  private async open(host: HostAddress): Promise<Connection | null> {
    const addresses = await this.options.resolve(host.host);
    const address = addresses[Math.floor(this.options.random() * addresses.length)];
    if (address === undefined) throw new ConnectionError(`${host.host}: no address`);
    const { connectTimeoutMs, maxBufferBytes, sessionTimeoutMs, canBeReadOnly } = this.options;
    const connection = await Connection.open(
      address,
      host.port,
      connectTimeoutMs,
      maxBufferBytes,
      this.tlsFor(host.host),
    );
    let response: ConnectResponse;
    try {
      response = await connection.handshake(
        {
          protocolVersion: PROTOCOL_VERSION,
          lastZxidSeen: this.lastZxid,
          timeOut: sessionTimeoutMs,
          sessionId: this.seenReadWrite ? this.sessionId : 0n,
          passwd: this.seenReadWrite ? this.sessionPassword : Buffer.alloc(16),
          readOnly: canBeReadOnly,
        },
        connectTimeoutMs,
      );
    } catch (error) {
      connection.close();
      throw error;
    }
    if (this.terminal || this.closing) {
      connection.close();
      return null;
    }
    if (response.timeOut <= 0) {
      connection.close();
      this.finish("expired", () => new SessionExpiredError());
      return null;
    }
    this.server = `${host.host}:${host.port}`;
    this.currentHost = host;
    this.onConnected(connection, response);
    return connection;
  }

  private onConnected(connection: Connection, response: ConnectResponse): void {
    this.connection = connection;
    this.negotiatedTimeoutMs = response.timeOut;
    this.sessionId = response.sessionId;
    this.sessionPassword = response.passwd;
    if (!response.readOnly) this.seenReadWrite = true;
    connection.attach({
      onFrame: (frame) => this.onFrame(connection, frame),
      onClose: (error) => this.onConnectionLost(connection, error),
    });
    // The server may have closed it already, with its reply (a session closed by another
    // client, say): attach() has reported that, and a new round of attempts is under way.
    if (this.connection !== connection) return;
    const sasl = this.options.sasl;
    if (sasl === undefined) {
      this.onReady(connection, response);
      return;
    }
    void this.authenticate(connection, sasl).then((ok) => {
      if (ok && this.connection === connection) this.onReady(connection, response);
    });
  }

  /** The connection serves the session: watches, auth and queued requests go out. */
  private onReady(connection: Connection, response: ConnectResponse): void {
    clearTimeout(this.cutOffTimer);
    this.cutOffTimer = undefined;
    this.sendSetWatches(connection);
    const auths: Promise<void>[] = [];
    for (const info of this.authInfo) auths.push(this.sendAuth(connection, info));
    this.authSettled = Promise.all(auths).then(() => {});
    this.authSettled.catch(() => {}); // observed by start() and addAuth; never unhandled
    for (const pending of this.queued.drain())
      if (!pending.settled) this.write(connection, pending);
    this.startPings(connection);
    this.setState(response.readOnly ? "connectedReadOnly" : "connected");
    if (response.readOnly) void this.searchReadWrite(connection);
  }

  /**
   * While connected read-only, probes the other hosts (backing off from 100 ms to 60 s) until
   * one serves writes, then drops this connection so that the next attempt goes there.
   */
  private async searchReadWrite(connection: Connection): Promise<void> {
    let delay = 100;
    while (this.connection === connection && this.state === "connectedReadOnly") {
      await sleep(delay, undefined, { signal: this.lifetime.signal }).catch(() => {});
      delay = Math.min(delay * 2, 60_000);
      for (let i = 0; i < this.hosts.length; i++) {
        if (this.connection !== connection) return;
        const index = (this.hostIndex + i) % this.hosts.length;
        const host = this.hosts[index] as HostAddress;
        const { connectTimeoutMs } = this.options;
        const tlsOptions = this.tlsFor(host.host);
        if (!(await probeReadWrite(host.host, host.port, connectTimeoutMs, tlsOptions))) continue;
        if (this.connection !== connection) return;
        this.hostIndex = index;
        connection.destroy(new ConnectionError(`${host.host}:${host.port} serves writes again`));
        return;
      }
    }
  }

  /**
   * SASL before anything else on the connection, as ZooKeeper's Java client holds every other
   * packet (pings too) while its exchange runs: a server with sessionRequireClientSASLAuth
   * would close the connection on them. A refusal is final (authFailed); a lost connection
   * is not (the next one tries again).
   */
  private async authenticate(connection: Connection, credentials: SaslCredentials) {
    try {
      await saslDigestMd5((token) => this.sendSasl(connection, token), credentials);
      return true;
    } catch (error) {
      if (this.connection !== connection || error instanceof ConnectionLossError) return false;
      this.lastConnectError = error as Error;
      this.finish("authFailed", () => new AuthFailedError(undefined, { cause: error }));
      return false;
    }
  }

  private sendSasl(connection: Connection, token: Buffer): Promise<Buffer> {
    const pending: Pending = {
      request: {
        opcode: OpCode.sasl,
        encode: (w) => GetSASLRequest.write(w, { token }),
        decode: (r) => SetSASLResponse.read(r).token,
      },
      deferred: deferred<unknown>(),
      xid: 0,
      settled: false,
      dispose: undefined,
    };
    this.write(connection, pending);
    return pending.deferred.promise as Promise<Buffer>;
  }

  private sendAuth(connection: Connection, info: AuthInfo): Promise<void> {
    const reply = deferred<void>();
    this.authReplies.push(reply);
    connection.send((w) => {
      w.writeInt(Xid.auth).writeInt(OpCode.auth);
      AuthPacket.write(w, { type: 0, scheme: info.scheme, auth: info.auth });
    });
    return reply.promise;
  }

  /** Re-registers every watch, in batches under 128 KiB as ZooKeeper's own client does. */
  private sendSetWatches(connection: Connection): void {
    if (this.watches.isEmpty) return;
    const kinds = ["data", "exist", "child", "persistent", "persistentRecursive"] as const;
    const lists = kinds.map((kind) =>
      this.watches.paths(kind).map((p) => prependChroot(this.chroot, p)),
    );
    const usePersistent = (lists[3]?.length ?? 0) + (lists[4]?.length ?? 0) > 0;
    const batch: string[][] = kinds.map(() => []);
    let bytes = 0;
    const flush = () => {
      const [
        dataWatches = [],
        existWatches = [],
        childWatches = [],
        persistent = [],
        recursive = [],
      ] = batch;
      const relativeZxid = this.lastZxid;
      connection.send((w) => {
        if (usePersistent) {
          w.writeInt(Xid.setWatches).writeInt(OpCode.setWatches2);
          SetWatches2.write(w, {
            relativeZxid,
            dataWatches,
            existWatches,
            childWatches,
            persistentWatches: persistent,
            persistentRecursiveWatches: recursive,
          });
        } else {
          // Plain SetWatches when it is enough, so that a 3.5 server understands it too.
          w.writeInt(Xid.setWatches).writeInt(OpCode.setWatches);
          SetWatches.write(w, { relativeZxid, dataWatches, existWatches, childWatches });
        }
      });
      for (const list of batch) list.length = 0;
      bytes = 0;
    };
    lists.forEach((list, k) => {
      for (const path of list) {
        if (bytes + path.length > SET_WATCHES_MAX_BYTES) flush();
        batch[k]?.push(path);
        bytes += path.length;
      }
    });
    if (bytes > 0) flush();
  }

  private startPings(connection: Connection): void {
    clearInterval(this.pingTimer);
    const interval = Math.max(1, Math.floor(this.negotiatedTimeoutMs / 3));
    const readTimeout = (this.negotiatedTimeoutMs * 2) / 3;
    connection.lastReceiveAt = performance.now();
    this.pingTimer = setInterval(() => {
      const now = performance.now();
      if (now - connection.lastReceiveAt > readTimeout) {
        connection.destroy(
          new ConnectionError(`${connection.remote}: no reply in ${Math.round(readTimeout)} ms`),
        );
        return;
      }
      if (now - connection.lastSendAt >= interval * 0.9) {
        connection.send((w) => w.writeInt(Xid.ping).writeInt(OpCode.ping));
      }
    }, interval);
  }

  private onConnectionLost(connection: Connection, error: Error): void {
    if (this.connection !== connection) return;
    this.connection = null;
    this.server = undefined;
    clearInterval(this.pingTimer);
    this.lastConnectError = error;
    const lost = () => new ConnectionLossError(undefined, { cause: error });
    for (const pending of this.inflight.drain()) this.settle(pending, lost());
    for (const reply of this.authReplies.drain()) reply.reject(lost());
    if (this.terminal || this.closing) return;
    this.setState("disconnected");
    this.armCutOff();
    void this.connectLoop();
  }

  /**
   * With expireWhenCutOff: if no server takes the session back within its timeout, the server
   * has expired it, or will unless a new leader restarted its clock: end it here, so that a
   * lock holder or leader cut off from the ensemble learns of it without a server. (About when
   * the server does, not before: it last heard from us before we noticed the loss.)
   */
  private armCutOff(): void {
    if (!this.options.expireWhenCutOff || this.cutOffTimer !== undefined) return;
    if (this.negotiatedTimeoutMs <= 0) return;
    this.cutOffTimer = setTimeout(() => {
      this.cutOffTimer = undefined;
      if (!this.connected) this.finish("expired", () => new SessionExpiredError());
    }, this.negotiatedTimeoutMs);
  }

  // ---- requests ----

  submit<T>(request: Request<T>, options?: CallOptions): Promise<T> {
    const refusal = this.refusal();
    if (refusal) return Promise.reject(refusal);
    return this.dispatch(request, options);
  }

  private dispatch<T>(request: Request<T>, options?: CallOptions): Promise<T> {
    const pending: Pending = {
      request: request as Request<unknown>,
      deferred: deferred<unknown>(),
      xid: 0,
      settled: false,
      dispose: undefined,
    };
    this.arm(pending, options);
    if (pending.settled) return pending.deferred.promise as Promise<T>;
    if (this.connection && this.connected) this.write(this.connection, pending);
    else this.queued.push(pending);
    return pending.deferred.promise as Promise<T>;
  }

  private refusal(): Error | undefined {
    // `ending`: a watcher told of the end (finish() tells them before the state changes) that
    // calls at once is refused too, instead of waiting in a queue that nobody will drain.
    const state = this.ending ?? this.state;
    if (state === "expired") return new SessionExpiredError();
    if (state === "authFailed") return new AuthFailedError();
    if (state === "closed" || this.closing) return new ClosedError("client is closed");
    return undefined;
  }

  /** Hooks up the call's abort signal and timeout; either settles the call early. */
  private arm(pending: Pending, options: CallOptions | undefined): void {
    const signal = options?.signal;
    const timeoutMs = options?.timeoutMs ?? this.options.requestTimeoutMs;
    if (signal?.aborted) {
      this.settle(pending, signal.reason);
      return;
    }
    if (!signal && !(timeoutMs > 0)) return;
    const path = pending.request.path;
    const timer =
      timeoutMs > 0
        ? setTimeout(() => this.settle(pending, new RequestTimeoutError(path)), timeoutMs)
        : undefined;
    const abort = () => this.settle(pending, signal?.reason);
    signal?.addEventListener("abort", abort, { once: true });
    pending.dispose = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", abort);
    };
  }

  private write(connection: Connection, pending: Pending): void {
    this.xid = this.xid >= 0x7fffffff ? 1 : this.xid + 1;
    pending.xid = this.xid;
    this.inflight.push(pending);
    const { request } = pending;
    connection.send((w) => {
      w.writeInt(pending.xid).writeInt(request.opcode);
      request.encode(w);
    });
  }

  private settle(pending: Pending, error: unknown, value?: unknown): void {
    if (pending.settled) return;
    pending.settled = true;
    pending.dispose?.();
    if (error === undefined) pending.deferred.resolve(value);
    else pending.deferred.reject(error);
  }

  // ---- replies ----

  private onFrame(connection: Connection, frame: Buffer): void {
    const reader = new Reader(frame);
    try {
      const header = ReplyHeader.read(reader);
      switch (header.xid) {
        case Xid.notification:
          this.onNotification(reader, header.zxid);
          break;
        case Xid.ping:
        case Xid.setWatches:
          break;
        case Xid.auth:
          this.onAuthReply(header.err);
          break;
        default:
          this.onReply(connection, reader, header);
      }
    } catch (error) {
      connection.destroy(
        new ConnectionError(`${connection.remote}: bad reply: ${(error as Error).message}`),
      );
    }
  }

  private onReply(connection: Connection, reader: Reader, header: ReplyHeader): void {
    const pending = this.inflight.shift();
    if (pending === undefined || pending.xid !== header.xid) {
      throw new Error(`xid out of order: got ${header.xid}, expected ${pending?.xid ?? "none"}`);
    }
    if (header.zxid > 0n) this.lastZxid = header.zxid;
    const { request } = pending;
    if (header.err !== 0) {
      request.onReply?.(header.err);
      const recovered = request.recover?.(header.err);
      if (recovered !== undefined) {
        this.settle(pending, undefined, recovered);
        return;
      }
      const error =
        request.failure?.(header.err, reader) ?? errorFromCode(header.err, request.path);
      this.settle(pending, error);
      return;
    }
    let value: unknown;
    try {
      value = request.decode(reader);
    } catch (error) {
      this.settle(pending, new MarshallingError(request.path, { cause: error }));
      connection.destroy(new ConnectionError(`${connection.remote}: undecodable reply`));
      return;
    }
    request.onReply?.(0);
    this.settle(pending, undefined, value);
  }

  private onAuthReply(err: number): void {
    const reply = this.authReplies.shift();
    if (err === ErrorCode.AUTHFAILED) {
      reply?.reject(new AuthFailedError());
      this.finish("authFailed", () => new AuthFailedError());
    } else if (err !== 0) {
      reply?.reject(errorFromCode(err));
    } else {
      reply?.resolve();
    }
  }

  private onNotification(reader: Reader, zxid: bigint): void {
    const raw = WatcherEvent.read(reader);
    const type = eventTypeName(raw.type);
    const state = keeperStateName(raw.state);
    if (type === undefined || state === undefined) return;
    const path = stripChroot(this.chroot, raw.path);
    const event: WatchEvent = { type, state, path, zxid };
    for (const listener of this.watches.materialize(type, path)) deliver(listener, event);
  }

  // ---- auth and close ----

  /** Adds auth to the session now and to every later connection of it. */
  async addAuth(info: AuthInfo): Promise<void> {
    const refusal = this.refusal();
    if (refusal) throw refusal;
    this.authInfo.push(info);
    if (this.connection && this.connected) await this.sendAuth(this.connection, info);
  }

  /** Ends the session: closeSession if connected (bounded by `timeoutMs`), then final state. */
  async close(timeoutMs: number): Promise<void> {
    if (this.terminal || this.closing) return;
    this.closing = true;
    const connection = this.connection;
    if (connection && this.connected && timeoutMs > 0) {
      const closeSession = { opcode: OpCode.closeSession, encode() {}, decode() {} };
      await this.dispatch(closeSession, { timeoutMs }).catch(() => {});
    }
    this.finish("closed", () => new ClosedError("client closed"));
  }

  /** Enters a final state: fails every waiter, tells every watch, drops the connection. */
  private finish(state: "expired" | "authFailed" | "closed", reason: () => Error): void {
    // Only finish() enters a final state, and it sets `ending` first.
    if (this.ending !== undefined) return;
    this.ending = state;
    this.lifetime.abort();
    clearInterval(this.pingTimer);
    clearTimeout(this.cutOffTimer);
    const connection = this.connection;
    this.connection = null;
    this.server = undefined;
    connection?.close();
    for (const pending of [...this.inflight.drain(), ...this.queued.drain()]) {
      this.settle(pending, reason());
    }
    for (const reply of this.authReplies.drain()) reply.reject(reason());
    const keeperState =
      state === "expired" ? "Expired" : state === "authFailed" ? "AuthFailed" : "Closed";
    this.watches.clear({ type: "None", state: keeperState, path: "", zxid: -1n }, deliver);
    this.setState(state);
  }
}

/** Calls one listener; a throwing listener must not stop the others or the session. */
function deliver(listener: WatchListener, event: WatchEvent): void {
  try {
    listener(event);
  } catch (error) {
    queueMicrotask(() => {
      throw error;
    });
  }
}
