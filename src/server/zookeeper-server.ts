/**
 * The standalone server's core: sessions, the zxid counter, and one pass per request from
 * prep (checks, txn) to the data tree (apply, watches) to the reply. It does no I/O of its own:
 * connections (net/) hand it decoded frames and it answers through them.
 *
 * A write is prepped at once (so its checks see every earlier write, applied or not: ChangeRecords),
 * handed to the TxnSink — the durable txn log, or nothing for an in-memory server — and applied
 * to the tree only once the sink says it is durable. Its reply goes out after that.
 *
 * Ordering, per connection: replies go out in request order. A read that arrives while the same
 * connection has writes in flight waits behind them (ZooKeeper's CommitProcessor does the same),
 * so a client reads its own writes; other connections' reads are answered at once from the
 * committed tree. The notifications a write triggers go out when it is applied, before its reply.
 */
import {
  AddWatchRequest,
  AuthPacket,
  CheckVersionRequest,
  CheckWatchesRequest,
  type ConnectRequest,
  ConnectResponse,
  CreateRequest,
  CreateTTLRequest,
  DeleteRequest,
  ExistsRequest,
  ExistsResponse,
  GetACLRequest,
  GetACLResponse,
  GetAllChildrenNumberRequest,
  GetAllChildrenNumberResponse,
  GetChildren2Response,
  GetChildrenResponse,
  GetDataRequest,
  GetDataResponse,
  GetEphemeralsRequest,
  GetEphemeralsResponse,
  GetSASLRequest,
  JuteDecodeError,
  NULL_BUFFER,
  type Reader,
  RemoveWatchesRequest,
  SetACLRequest,
  SetDataRequest,
  SetSASLResponse,
  SetWatches,
  SetWatches2,
  SyncRequest,
  SyncResponse,
  WhoAmIResponse,
  type Writer,
} from "../jute/index.js";
import { ErrorCode } from "../protocol/errors.js";
import { MultiFormatError, readMultiRequest, writeMultiResponse } from "../protocol/multi.js";
import { OpCode, Xid } from "../protocol/opcodes.js";
import { authenticate, KeeperError } from "./auth.js";
import type { ResolvedServerOptions } from "./config.js";
import type { ClientConnection } from "./connection.js";
import { DataTree } from "./data-tree.js";
import { type Logger, rateLimited } from "./logger.js";
import {
  ChangeRecords,
  MarshallingFailure,
  type PrepContext,
  prepCheck,
  prepCloseSession,
  prepCreate,
  prepDelete,
  prepDeleteContainer,
  prepMulti,
  prepReconfig,
  prepSetACL,
  prepSetData,
} from "./prep.js";
import { checkQuota } from "./quota.js";
import * as reads from "./reads.js";
import { PartialMultiRead } from "./reads.js";
import { hex, isUndecodable, opName, replyBody } from "./replies.js";
import { SaslExchanges } from "./sasl/exchange.js";
import { checkSessionPassword, sessionPassword } from "./session-password.js";
import { SessionTracker } from "./sessions.js";
import { ServerStats } from "./stats.js";
import type { Txn, TxnHeader, TxnResult } from "./txn.js";

/** Where txns go before they are applied: the txn log, or nowhere (an in-memory server). */
export interface TxnSink {
  /** Calls `durable` once the txn is safe (on disk, for a log); in append order. */
  append(header: TxnHeader, txn: Txn, durable: () => void): void;
}

/**
 * What a read-only server refuses with NOTREADONLY (ZooKeeper's ReadOnlyRequestProcessor):
 * every request that would change state, and sync, which needs a leader.
 */
const READ_ONLY_REFUSED: ReadonlySet<number> = new Set([
  OpCode.sync,
  OpCode.create,
  OpCode.create2,
  OpCode.createTTL,
  OpCode.createContainer,
  OpCode.delete,
  OpCode.deleteContainer,
  OpCode.setData,
  OpCode.reconfig,
  OpCode.setACL,
  OpCode.multi,
  OpCode.check,
]);

/** An in-memory server's sink: every txn is "durable" at once. */
export const MEMORY_SINK: TxnSink = { append: (_header, _txn, durable) => durable() };

/** Requests that become txns; every other request is answered from the tree. */
const WRITES: ReadonlySet<number> = new Set([
  OpCode.create,
  OpCode.create2,
  OpCode.createContainer,
  OpCode.createTTL,
  OpCode.delete,
  OpCode.setData,
  OpCode.setACL,
  OpCode.check,
  OpCode.reconfig,
  OpCode.multi,
  OpCode.createSession,
  OpCode.closeSession,
]);

/** A reply (or a deferred read) in a connection's queue; `run` is set once it can go. */
export interface Slot {
  run: (() => void) | undefined;
}

export class ZooKeeperServer {
  /** Replaced only by loadTree (an ensemble learner's SNAP). */
  tree: DataTree;
  readonly sessions: SessionTracker;
  readonly stats = new ServerStats();
  readonly options: ResolvedServerOptions;
  private readonly sasl: SaslExchanges;
  /** zookeeper.letAnySaslUserDoX, for the reads' checkACL. */
  private readonly anySaslUser: string | undefined;
  /** The connection of each session that has one. */
  readonly connections = new Map<bigint, ClientConnection>();
  private records: ChangeRecords;
  private readonly log: Logger;
  /** Refused sessions: clients retry at once, so these lines are rate-limited. */
  private readonly rejected: (fields: object, message: string) => void;
  private readonly now: () => number;
  /** The last zxid handed out; ahead of the tree's while txns are in the sink. */
  private zxid = 0n;
  /** Where txns are made durable; set before the server takes connections. */
  sink: TxnSink = MEMORY_SINK;
  /** Connections with replies not yet sent (a write in flight, or reads waiting behind one). */
  private readonly queues = new Map<ClientConnection, Slot[]>();
  /** Frames that came before the connection's createSession was durable. */
  private readonly early = new Map<ClientConnection, Reader[]>();
  /**
   * In an ensemble (quorum/ensemble-role.ts): a follower's writes and new sessions go to the
   * leader instead of the sink; these return true when they took the request.
   */
  forwardWrite?: (cnxn: ClientConnection, xid: number, opcode: number, body: Reader) => boolean;
  forwardSession?: (
    cnxn: ClientConnection,
    id: bigint,
    timeout: number,
    done: () => void,
  ) => boolean;
  /** In an ensemble, only the leader expires sessions; false on the others. */
  expiresSessions = true;
  /** In an ensemble: false while this server has no established leader to serve with. */
  acceptsSessions?: () => boolean;
  /** What srvr, stat and mntr call this server's mode. */
  serverState: "standalone" | "leader" | "follower" | "observer" | "looking" | "read-only" =
    "standalone";
  /**
   * Read-only mode (an ensemble server cut off from its quorum, with readonlymode.enabled), as
   * ZooKeeper's ReadOnlyZooKeeperServer: only clients that allow it connect, new sessions are
   * local to this server, and what would change state is answered NOTREADONLY.
   */
  private readOnlyMode = false;
  private readonly localSessions = new Set<bigint>();
  /** A leader's extra mntr figures (learners, synced followers), ZooKeeper's names. */
  quorumFigures?: () => [string, number][];
  /** Writes handed to the sink and not yet applied (globalOutstandingLimit counts these). */
  private inFlight = 0;
  private throttledReaders: (() => void)[] = [];

  constructor(
    options: ResolvedServerOptions,
    log: Logger,
    now: () => number = Date.now,
    tree: DataTree = new DataTree(),
    /** Its myid in an ensemble: session ids carry it in their top byte, so none collide. */
    serverId = 1n,
  ) {
    this.options = options;
    this.log = log;
    this.rejected = rateLimited(log, "info");
    this.now = now;
    this.tree = tree;
    this.zxid = tree.lastProcessedZxid;
    this.sessions = new SessionTracker(options.tickTime, now, serverId);
    this.records = new ChangeRecords(this.tree);
    this.sasl = new SaslExchanges(options.sasl);
    this.anySaslUser = options.sasl.letAnySaslUserDoX;
  }

  /**
   * An ensemble learner synced by SNAP: the leader's tree replaces ours. It serves no clients
   * while it syncs, so no watch or pending change refers to the old one.
   */
  loadTree(tree: DataTree): void {
    this.tree = tree;
    this.zxid = tree.lastProcessedZxid;
    this.records = new ChangeRecords(tree);
  }

  get readOnly(): boolean {
    return this.readOnlyMode;
  }

  /** Enters read-only mode (the caller closed every client first). */
  startReadOnly(): void {
    this.readOnlyMode = true;
    this.serverState = "read-only";
  }

  /** Leaves read-only mode: its local sessions end (the caller closes their clients). */
  endReadOnly(): void {
    this.readOnlyMode = false;
    for (const id of this.localSessions) this.sessions.remove(id);
    this.localSessions.clear();
  }

  /** Writes not yet durable and applied. */
  get outstanding(): number {
    return this.inFlight;
  }

  /** globalOutstandingLimit writes are in flight: connections should stop reading. */
  get saturated(): boolean {
    return this.inFlight >= this.options.globalOutstandingLimit;
  }

  /** Runs `resume` once fewer than globalOutstandingLimit writes are in flight. */
  whenUnsaturated(resume: () => void): void {
    if (!this.saturated) {
      queueMicrotask(resume);
      return;
    }
    this.throttledReaders.push(resume);
  }

  private releaseThrottled(): void {
    if (this.throttledReaders.length === 0 || this.saturated) return;
    const readers = this.throttledReaders;
    this.throttledReaders = [];
    // After the current batch of applies: the replies go out first.
    queueMicrotask(() => {
      for (const resume of readers) resume();
    });
  }

  get lastZxid(): bigint {
    return this.tree.lastProcessedZxid;
  }

  // ---- sessions ----

  /** processConnectRequest: a new session, or the reopening of an existing one. */
  connect(cnxn: ClientConnection, request: ConnectRequest): void {
    if (this.acceptsSessions !== undefined && !this.acceptsSessions()) {
      // An ensemble server without an established leader (or not yet synced with it) takes no
      // sessions, as ZooKeeper's server is not running then: the client tries another.
      this.rejected({ client: cnxn.remote, reason: "not serving: no leader" }, "session refused");
      cnxn.close("not serving: no leader");
      return;
    }
    if (this.readOnlyMode && !request.readOnly) {
      const reason = "read-only server, client not read-only";
      this.rejected({ client: cnxn.remote, reason }, "session refused");
      cnxn.close("refusing a session: a read-only server takes only read-only clients");
      return;
    }
    if (request.lastZxidSeen > this.lastZxid) {
      this.log.warn(
        {
          client: cnxn.remote,
          clientZxid: hex(request.lastZxidSeen),
          serverZxid: hex(this.lastZxid),
        },
        "refusing a session: the client has seen a later zxid than this server",
      );
      cnxn.close("client has seen a later zxid");
      return;
    }
    const { minSessionTimeout, maxSessionTimeout } = this.options;
    const timeout = Math.min(Math.max(request.timeOut, minSessionTimeout), maxSessionTimeout);
    cnxn.stats.sessionTimeoutMs = timeout;
    if (request.sessionId === 0n) {
      const id = this.sessions.nextSessionId();
      this.sessions.add(id, timeout);
      if (this.readOnlyMode) {
        // A local session: there is no quorum to make it global.
        this.localSessions.add(id);
        this.attach(cnxn, id);
        this.sendConnectResponse(cnxn, timeout, id, sessionPassword(id));
        return;
      }
      // Frames the client pipelines behind its ConnectRequest wait for the session.
      this.early.set(cnxn, []);
      const established = () => {
        const early = this.early.get(cnxn);
        this.early.delete(cnxn);
        if (early === undefined) return; // the connection went while the txn was in the sink
        this.attach(cnxn, id);
        this.sendConnectResponse(cnxn, timeout, id, sessionPassword(id));
        this.log.debug({ session: hex(id), timeout, client: cnxn.remote }, "session established");
        this.processEarly(cnxn, early);
      };
      if (this.forwardSession?.(cnxn, id, timeout, established)) return;
      const header = this.header(id, 0, OpCode.createSession);
      this.propose(header, { type: OpCode.createSession, timeOut: timeout }, established);
      return;
    }
    const id = request.sessionId;
    if (
      !this.expiresSessions &&
      this.sessions.get(id) === undefined &&
      this.tree.sessions.has(id)
    ) {
      // An ensemble server that does not lead knows the global sessions from the replicated
      // tree (sessions made before its snapshot or SNAP were never announced to it): the
      // client that moved here keeps its session.
      this.sessions.add(id, timeout);
    }
    const previous = this.connections.get(id);
    if (previous !== undefined && previous !== cnxn)
      previous.close("the session moved to another connection");
    if (!checkSessionPassword(id, request.passwd) || !this.sessions.touch(id, timeout)) {
      this.sendConnectResponse(cnxn, 0, 0n, Buffer.alloc(16));
      cnxn.close("invalid session");
      return;
    }
    this.attach(cnxn, id);
    this.sendConnectResponse(cnxn, timeout, id, sessionPassword(id));
  }

  /**
   * The frames that waited for the session. This runs in the txn log's callback, outside the
   * connection's own error handling: a frame that cannot be read (or a bug of ours) must close
   * this connection there too, never escape and take the server down. Stops once the
   * connection is gone (closed, or its session moved).
   */
  private processEarly(cnxn: ClientConnection, frames: readonly Reader[]): void {
    for (const frame of frames) {
      if (this.connections.get(cnxn.sessionId) !== cnxn) return;
      if (!this.guarded(cnxn, () => this.process(cnxn, frame))) return;
    }
  }

  /**
   * Runs `work` for a request of `cnxn` from a callback (the txn log's, a deferred read): what
   * it throws closes that connection with one log line, as the connection's shell does for the
   * frames it hands over itself. False if it threw.
   */
  private guarded(cnxn: ClientConnection, work: () => void): boolean {
    try {
      work();
      return true;
    } catch (error) {
      if (error instanceof JuteDecodeError || error instanceof MultiFormatError) {
        this.log.warn(
          { client: cnxn.remote, session: hex(cnxn.sessionId), reason: error.message },
          "malformed packet; closing the connection",
        );
        cnxn.close("malformed packet");
      } else {
        this.log.error(
          { client: cnxn.remote, error: String((error as Error)?.stack ?? error) },
          "internal error; closing the connection",
        );
        cnxn.close("internal error");
      }
      return false;
    }
  }

  private attach(cnxn: ClientConnection, id: bigint): void {
    cnxn.sessionId = id;
    this.connections.set(id, cnxn);
  }

  private sendConnectResponse(
    cnxn: ClientConnection,
    timeOut: number,
    sessionId: bigint,
    passwd: Buffer,
  ): void {
    cnxn.send((w) =>
      ConnectResponse.write(w, {
        protocolVersion: 0,
        timeOut,
        sessionId,
        passwd,
        readOnly: this.readOnlyMode,
      }),
    );
  }

  /** The connection is gone (the session stays until it expires); its watches go now. */
  disconnected(cnxn: ClientConnection): void {
    this.tree.removeWatcher(cnxn);
    this.queues.delete(cnxn);
    this.early.delete(cnxn);
    if (this.connections.get(cnxn.sessionId) === cnxn) this.connections.delete(cnxn.sessionId);
  }

  /** Ends sessions whose clients stopped talking: their ephemerals go, their connections close. */
  expireSessions(): void {
    if (this.readOnlyMode) {
      // Nothing to replicate: the session is forgotten here and its client closed.
      for (const session of this.sessions.takeExpired()) this.endLocalSession(session.id);
      return;
    }
    if (!this.expiresSessions) return;
    for (const session of this.sessions.takeExpired()) {
      this.log.info({ session: hex(session.id), timeout: session.timeoutMs }, "session expired");
      this.closeSession(session.id, 0, () =>
        this.connections.get(session.id)?.close("session expired"),
      );
    }
  }

  private endLocalSession(id: bigint, reason = "session expired"): void {
    this.sessions.remove(id);
    this.localSessions.delete(id);
    this.connections.get(id)?.close(reason);
  }

  /**
   * closeSession: no more requests from it; its ephemerals (and any its outstanding writes
   * create) go in one txn; `then` runs once that txn is applied.
   */
  private closeSession(sessionId: bigint, cxid: number, then: (result: TxnResult) => void): void {
    const session = this.sessions.get(sessionId);
    if (session) session.closing = true;
    const header = this.header(sessionId, cxid, OpCode.closeSession);
    const txn = prepCloseSession(this.prepContext(header.zxid, header.time, sessionId, []));
    this.propose(header, txn, (result) => {
      this.sessions.remove(sessionId);
      then(result);
    });
  }

  /** A TxnHeader with the next zxid. */
  header(clientId: bigint, cxid: number, type: number): TxnHeader {
    return { clientId, cxid, zxid: ++this.zxid, time: this.time(), type };
  }

  /**
   * Sessions restored from disk: they expire after their timeout unless their clients come
   * back (ZooKeeper's SessionTracker starts them afresh at load).
   */
  restoreSessions(sessions: ReadonlyMap<bigint, number>): void {
    for (const [id, timeout] of sessions) this.sessions.add(id, timeout);
  }

  // ---- requests ----

  /** One request frame of an established connection. */
  process(cnxn: ClientConnection, frame: Reader): void {
    const early = this.early.get(cnxn);
    if (early !== undefined) {
      early.push(frame);
      return;
    }
    const xid = frame.readInt();
    const opcode = frame.readInt();
    cnxn.stats.packetsReceived++;
    this.stats.packetsReceived++;
    if (!this.sessions.touch(cnxn.sessionId)) {
      cnxn.close("session expired or closed");
      return;
    }
    if (xid === Xid.auth && opcode === OpCode.auth) return this.addAuth(cnxn, frame);
    if (opcode === OpCode.sasl) return this.processSasl(cnxn, xid, frame);
    if (!this.sasl.mayProceed(cnxn.authIds)) return this.refuseUnauthenticated(cnxn, xid);
    const started = this.now();
    if (this.readOnlyMode && READ_ONLY_REFUSED.has(opcode)) {
      return this.reply(cnxn, xid, ErrorCode.NOTREADONLY, started, undefined, opName(opcode));
    }
    if (this.readOnlyMode && opcode === OpCode.closeSession) {
      this.reply(cnxn, xid, 0, started, undefined, "CLOS");
      this.endLocalSession(cnxn.sessionId, "client closed its session");
      return;
    }
    if (this.forwardWrite !== undefined && (WRITES.has(opcode) || opcode === OpCode.sync)) {
      if (this.forwardWrite(cnxn, xid, opcode, frame)) return;
    }
    const queue = this.queues.get(cnxn);
    if (queue !== undefined && !WRITES.has(opcode)) {
      // A read behind this connection's writes in flight: answered once they are applied.
      queue.push({
        run: () =>
          void this.guarded(cnxn, () => this.dispatchCaught(cnxn, xid, opcode, frame, started)),
      });
      return;
    }
    this.dispatchCaught(cnxn, xid, opcode, frame, started);
  }

  private dispatchCaught(
    cnxn: ClientConnection,
    xid: number,
    opcode: number,
    frame: Reader,
    started: number,
  ): void {
    try {
      this.dispatch(cnxn, xid, opcode, frame, started);
    } catch (error) {
      if (error instanceof PartialMultiRead) {
        // ZooKeeper answers what it read so far, under MARSHALLINGERROR.
        const body = (w: Writer) => writeMultiResponse(w, error.results);
        this.reply(cnxn, xid, ErrorCode.MARSHALLINGERROR, started, body, "MLTR", true);
      } else if (isUndecodable(error)) {
        this.undecodable(cnxn, opcode, error as Error);
        this.reply(cnxn, xid, ErrorCode.MARSHALLINGERROR, started, undefined, opName(opcode));
      } else if (error instanceof KeeperError) {
        // A failed request still names its operation (FinalRequestProcessor's lastOp).
        this.reply(cnxn, xid, error.code, started, undefined, opName(opcode));
      } else throw error;
    }
  }

  /** A request whose body cannot be read: one log line; ZooKeeper answers MARSHALLINGERROR. */
  private undecodable(cnxn: ClientConnection, opcode: number, error: Error): void {
    this.log.warn({ client: cnxn.remote, opcode, reason: error.message }, "malformed request");
  }

  private dispatch(
    cnxn: ClientConnection,
    xid: number,
    opcode: number,
    r: Reader,
    started: number,
  ): void {
    const tree = this.tree;
    switch (opcode) {
      case OpCode.ping:
        return this.reply(cnxn, xid, 0, started, undefined, "PING");
      case OpCode.create:
      case OpCode.create2:
      case OpCode.createContainer:
        return this.write(cnxn, xid, opcode, started, (ctx) =>
          prepCreate(ctx, opcode, CreateRequest.read(r)),
        );
      case OpCode.createTTL:
        return this.write(cnxn, xid, opcode, started, (ctx) =>
          prepCreate(ctx, opcode, CreateTTLRequest.read(r)),
        );
      case OpCode.delete:
        return this.write(cnxn, xid, opcode, started, (ctx) =>
          prepDelete(ctx, DeleteRequest.read(r)),
        );
      case OpCode.setData:
        return this.write(cnxn, xid, opcode, started, (ctx) =>
          prepSetData(ctx, SetDataRequest.read(r)),
        );
      case OpCode.setACL:
        return this.write(cnxn, xid, opcode, started, (ctx) =>
          prepSetACL(ctx, SetACLRequest.read(r)),
        );
      case OpCode.check:
        return this.write(cnxn, xid, opcode, started, (ctx) =>
          prepCheck(ctx, CheckVersionRequest.read(r)),
        );
      case OpCode.reconfig:
        return this.write(cnxn, xid, opcode, started, (ctx) => prepReconfig(ctx));
      case OpCode.multi:
        return this.write(
          cnxn,
          xid,
          opcode,
          started,
          (ctx) => prepMulti(ctx, readMultiRequest(r)).txn,
        );
      case OpCode.createSession:
        // A second createSession inside a session: ZooKeeper takes a zxid and cannot read it.
        return this.write(cnxn, xid, opcode, started, () => {
          throw new MarshallingFailure("createSession inside a session");
        });
      case OpCode.closeSession: {
        const slot = this.reserveSlot(cnxn);
        this.closeSession(cnxn.sessionId, xid, () =>
          this.fill(cnxn, slot, () => {
            this.reply(cnxn, xid, 0, started, undefined, "CLOS");
            cnxn.close("client closed its session");
          }),
        );
        return;
      }
      case OpCode.exists: {
        const { path, watch } = ExistsRequest.read(r);
        const result = reads.exists(tree, cnxn, path, watch);
        return this.reply(cnxn, xid, 0, started, (w) => ExistsResponse.write(w, result), "EXIS");
      }
      case OpCode.getData: {
        const { path, watch } = GetDataRequest.read(r);
        const result = reads.getData(tree, cnxn, path, watch, this.anySaslUser);
        return this.reply(cnxn, xid, 0, started, (w) => GetDataResponse.write(w, result), "GETD");
      }
      case OpCode.getChildren:
      case OpCode.getChildren2: {
        const { path, watch } = GetDataRequest.read(r);
        const result = reads.getChildren(tree, cnxn, path, watch, this.anySaslUser);
        const write =
          opcode === OpCode.getChildren
            ? (w: Writer) => GetChildrenResponse.write(w, result)
            : (w: Writer) => GetChildren2Response.write(w, result);
        return this.reply(cnxn, xid, 0, started, write, "GETC");
      }
      default:
        return this.dispatchOther(cnxn, xid, opcode, r, started);
    }
  }

  private dispatchOther(
    cnxn: ClientConnection,
    xid: number,
    opcode: number,
    r: Reader,
    started: number,
  ): void {
    const tree = this.tree;
    switch (opcode) {
      case OpCode.getACL: {
        const result = reads.getACL(
          tree,
          cnxn.authIds,
          GetACLRequest.read(r).path,
          this.anySaslUser,
        );
        return this.reply(cnxn, xid, 0, started, (w) => GetACLResponse.write(w, result), "GETA");
      }
      case OpCode.getAllChildrenNumber: {
        const totalNumber = reads.getAllChildrenNumber(
          tree,
          cnxn.authIds,
          GetAllChildrenNumberRequest.read(r).path,
          this.anySaslUser,
        );
        return this.reply(
          cnxn,
          xid,
          0,
          started,
          (w) => GetAllChildrenNumberResponse.write(w, { totalNumber }),
          "GETACN",
        );
      }
      case OpCode.getEphemerals: {
        const ephemerals = reads.getEphemerals(
          tree,
          cnxn.sessionId,
          GetEphemeralsRequest.read(r).prefixPath,
        );
        return this.reply(
          cnxn,
          xid,
          0,
          started,
          (w) => GetEphemeralsResponse.write(w, { ephemerals }),
          "GETE",
        );
      }
      case OpCode.whoAmI: {
        const result = reads.whoAmI(cnxn.authIds, this.options.sasl.saslProvider);
        return this.reply(cnxn, xid, 0, started, (w) => WhoAmIResponse.write(w, result), "HOMI");
      }
      case OpCode.sync: {
        const { path } = SyncRequest.read(r);
        return this.reply(cnxn, xid, 0, started, (w) => SyncResponse.write(w, { path }), "SYNC");
      }
      case OpCode.multiRead: {
        const results = reads.multiRead(tree, cnxn, readMultiRequest(r), this.anySaslUser);
        return this.reply(cnxn, xid, 0, started, (w) => writeMultiResponse(w, results), "MLTR");
      }
      case OpCode.setWatches:
      case OpCode.setWatches2: {
        const lists = opcode === OpCode.setWatches ? SetWatches.read(r) : SetWatches2.read(r);
        tree.setWatches(lists.relativeZxid, lists, cnxn);
        return this.reply(cnxn, xid, 0, started, undefined, opName(opcode));
      }
      case OpCode.addWatch: {
        const { path, mode } = AddWatchRequest.read(r);
        if (mode !== 0 && mode !== 1) throw new KeeperError(ErrorCode.MARSHALLINGERROR);
        tree.addWatch(path, cnxn, mode === 0 ? "persistent" : "persistentRecursive");
        return this.reply(cnxn, xid, 0, started, undefined, "ADDW");
      }
      case OpCode.checkWatches:
      case OpCode.removeWatches: {
        const { path, type } = (
          opcode === OpCode.checkWatches ? CheckWatchesRequest : RemoveWatchesRequest
        ).read(r);
        // 3.8 knows Children (1), Data (2) and Any (3); other types fail to parse there.
        if (type < 1 || type > 3) throw new KeeperError(ErrorCode.MARSHALLINGERROR);
        const found =
          opcode === OpCode.checkWatches
            ? tree.containsWatch(path, type, cnxn)
            : tree.removeWatch(path, type, cnxn);
        if (!found) throw new KeeperError(ErrorCode.NOWATCHER);
        return this.reply(
          cnxn,
          xid,
          0,
          started,
          undefined,
          opcode === OpCode.checkWatches ? "CHKW" : "REMW",
        );
      }
      default:
        // UnimplementedRequestProcessor: UNIMPLEMENTED, then the connection is closed.
        this.log.warn({ opcode, client: cnxn.remote }, "unknown opcode");
        this.reply(cnxn, xid, ErrorCode.UNIMPLEMENTED, started);
        cnxn.close(`unknown opcode ${opcode}`);
    }
  }

  private addAuth(cnxn: ClientConnection, r: Reader): void {
    const packet = AuthPacket.read(r);
    const ids = authenticate(
      packet.scheme,
      packet.auth,
      this.options.superDigest,
      cnxn.clientIp,
      cnxn.certificateIds,
    );
    if (ids === null) {
      this.log.warn(
        { scheme: packet.scheme, client: cnxn.remote },
        "authentication failed: no provider for the scheme",
      );
      cnxn.send((w) => w.writeInt(Xid.auth).writeLong(0n).writeInt(ErrorCode.AUTHFAILED));
      cnxn.close("authentication failed");
      return;
    }
    for (const id of ids) {
      if (!cnxn.authIds.some((a) => a.scheme === id.scheme && a.id === id.id))
        cnxn.authIds.push(id);
    }
    // The ids count from now on (ZooKeeper adds them on receipt); the reply keeps its place.
    const ok = () => cnxn.send((w) => w.writeInt(Xid.auth).writeLong(0n).writeInt(0));
    const queue = this.queues.get(cnxn);
    if (queue === undefined) ok();
    else queue.push({ run: ok });
  }

  /** ZooKeeperServer.processSasl: one token of the connection's SASL exchange. */
  private processSasl(cnxn: ClientConnection, xid: number, r: Reader): void {
    const answer = this.sasl.evaluate(cnxn, GetSASLRequest.read(r).token);
    const reply = () =>
      cnxn.send((w) => {
        w.writeInt(xid).writeLong(0n).writeInt(answer.err);
        SetSASLResponse.write(w, { token: answer.token ?? NULL_BUFFER });
      });
    if ("reason" in answer) {
      this.log.warn({ client: cnxn.remote, reason: answer.reason }, "SASL authentication failed");
      if (answer.err !== 0) {
        reply();
        cnxn.close("SASL authentication failed");
        return;
      }
      // allowSaslFailedClients: answered like a step of the exchange, the connection kept.
    }
    for (const id of "ids" in answer ? answer.ids : []) {
      if (!cnxn.authIds.some((a) => a.scheme === id.scheme && a.id === id.id)) {
        cnxn.authIds.push(id);
      }
    }
    if ("ids" in answer && answer.ids.length > 0) {
      this.log.info({ client: cnxn.remote, id: answer.ids[0]?.id }, "SASL authenticated");
    }
    const queue = this.queues.get(cnxn);
    if (queue === undefined) reply();
    else queue.push({ run: reply });
  }

  /** AuthenticationHelper.enforceAuthentication: no id of an enforced scheme, no service. */
  private refuseUnauthenticated(cnxn: ClientConnection, xid: number): void {
    this.log.warn({ client: cnxn.remote }, "closing an unauthenticated connection");
    cnxn.send((w) =>
      w.writeInt(xid).writeLong(0n).writeInt(ErrorCode.SESSIONCLOSEDREQUIRESASLAUTH),
    );
    cnxn.close("authentication required");
  }

  // ---- writes ----

  private write(
    cnxn: ClientConnection,
    xid: number,
    opcode: number,
    started: number,
    prepare: (ctx: PrepContext) => Txn,
  ): void {
    const time = this.time();
    const ctx = this.prepContext(this.zxid + 1n, time, cnxn.sessionId, cnxn.authIds);
    let txn: Txn;
    let marshalling = false;
    try {
      txn = prepare(ctx);
    } catch (error) {
      if (error instanceof KeeperError) {
        // A write that fails its checks is still a txn (an error txn) and takes a zxid.
        txn = { type: OpCode.error, err: error.code };
      } else if (
        error instanceof MarshallingFailure ||
        (opcode === OpCode.multi && isUndecodable(error))
      ) {
        // ZooKeeper has given a multi (or createSession) its zxid before it finds it unreadable.
        this.undecodable(cnxn, opcode, error as Error);
        txn = { type: OpCode.error, err: ErrorCode.MARSHALLINGERROR };
        marshalling = true;
      } else throw error; // an unreadable plain write: no zxid taken, process() answers it
    }
    const header: TxnHeader = {
      clientId: cnxn.sessionId,
      cxid: xid,
      zxid: ++this.zxid,
      time,
      type: txn.type,
    };
    const slot = this.reserveSlot(cnxn);
    this.propose(header, txn, (result) => {
      const err = marshalling
        ? ErrorCode.MARSHALLINGERROR
        : opcode === OpCode.multi
          ? 0
          : result.err;
      this.fill(cnxn, slot, () =>
        this.reply(cnxn, xid, err, started, replyBody(opcode, result), opName(opcode)),
      );
    });
  }

  private prepContext(
    zxid: bigint,
    time: bigint,
    sessionId: bigint,
    authIds: PrepContext["authIds"],
  ): PrepContext {
    return {
      records: this.records,
      zxid,
      time,
      sessionId,
      authIds,
      extendedTypesEnabled: this.options.extendedTypesEnabled,
      reconfigEnabled: false,
      x509Enabled: this.options.secure !== undefined,
      saslScheme: this.options.sasl.saslProvider,
      ...(this.options.sasl.letAnySaslUserDoX !== undefined && {
        anySaslUser: this.options.sasl.letAnySaslUserDoX,
      }),
      checkQuota: (path, lastData, data, countDiff) =>
        checkQuota(this.tree, path, lastData, data, countDiff, this.options.enforceQuota, (m) =>
          this.quotaWarning(m),
        ),
    };
  }

  private lastQuotaWarning = Number.NEGATIVE_INFINITY;

  /** Quota warnings, at most one a second (ZooKeeper's RateLogger) so a busy client cannot flood the log. */
  private quotaWarning(message: string): void {
    const now = this.now();
    if (now - this.lastQuotaWarning < 1_000) return;
    this.lastQuotaWarning = now;
    this.log.warn({}, message);
  }

  /**
   * A txn's way into the tree: to the sink, and once durable, applied (firing its watches) and
   * its records dropped; then `applied` (the reply, usually).
   */
  propose(header: TxnHeader, txn: Txn, applied: (result: TxnResult) => void): void {
    this.inFlight++;
    // A leader's proposal is applied once a quorum has it (ServerMetrics.PROPOSAL_LATENCY).
    const proposed = this.serverState === "leader" ? this.now() : undefined;
    this.sink.append(header, txn, () => {
      this.inFlight--;
      if (proposed !== undefined) this.stats.metrics.proposalLatency.add(this.now() - proposed);
      const result = this.tree.apply(header, txn);
      this.records.applied(header.zxid);
      applied(result);
      this.releaseThrottled();
    });
  }

  /**
   * A committed txn this server did not propose (a follower's, or a new leader's inherited
   * history): applied to the tree like any other. Returns the result for the caller's reply.
   */
  applyCommitted(header: TxnHeader, txn: Txn): TxnResult {
    const result = this.tree.apply(header, txn);
    this.records.applied(header.zxid);
    if (header.zxid > this.zxid) this.zxid = header.zxid;
    return result;
  }

  /**
   * The role changed under an ensemble server: writes handed to Zab will not be applied through
   * their callbacks any more (their clients are closed), so they stop counting as in flight.
   */
  abandonInFlight(): void {
    this.inFlight = 0;
    this.releaseThrottled();
  }

  /** A new leader's first zxid (its epoch, counter 0): its proposals count on from here. */
  resetZxid(zxid: bigint): void {
    this.zxid = zxid;
  }

  /** A place in the connection's reply order for a write's reply. */
  reserveSlot(cnxn: ClientConnection): Slot {
    const slot: Slot = { run: undefined };
    const queue = this.queues.get(cnxn);
    if (queue === undefined) this.queues.set(cnxn, [slot]);
    else queue.push(slot);
    return slot;
  }

  /** The write in `slot` is applied: send what can go now, in order. */
  fill(cnxn: ClientConnection, slot: Slot, run: () => void): void {
    slot.run = run;
    const queue = this.queues.get(cnxn);
    if (queue === undefined) return; // the connection is gone
    let i = 0;
    while (i < queue.length) {
      const next = (queue[i] as Slot).run;
      if (next === undefined) break;
      i++;
      next();
      // That one closed the connection (an unknown opcode, closeSession, a bad packet): what
      // waited behind it must not run, or a read would leave a watch for a connection that is
      // gone, never to be removed.
      if (this.queues.get(cnxn) !== queue) return;
    }
    if (i === queue.length) this.queues.delete(cnxn);
    else queue.splice(0, i);
  }

  // ---- replies ----

  reply(
    cnxn: ClientConnection,
    xid: number,
    err: number,
    started: number,
    body?: ((w: Writer) => void) | undefined,
    op = "NA",
    bodyDespiteError = false,
  ): void {
    const zxid = this.lastZxid;
    cnxn.send((w) => {
      w.writeInt(xid).writeLong(zxid).writeInt(err);
      if ((err === 0 || bodyDespiteError) && body) body(w);
    });
    const now = this.now();
    const latency = now - started;
    this.stats.recordLatency(latency, op);
    this.stats.packetsSent++;
    const s = cnxn.stats;
    s.packetsSent++;
    s.lastOperation = op;
    // Pings and other reserved xids are negative; ZooKeeper keeps the last real cxid.
    if (xid >= 0) s.lastCxid = xid;
    s.lastZxid = zxid;
    s.lastResponseTime = now;
    s.lastLatencyMs = latency;
    s.minLatencyMs = Math.min(s.minLatencyMs, latency);
    s.maxLatencyMs = Math.max(s.maxLatencyMs, latency);
    s.totalLatencyMs += latency;
    s.requests++;
  }

  private time(): bigint {
    return BigInt(this.now());
  }

  // ---- containers and TTL nodes ----

  /** ContainerManager: deletes emptied containers and expired TTL nodes, at most `limit`. */
  deleteExpiredContainers(limit: number): number {
    let deleted = 0;
    for (const path of this.containerCandidates()) {
      if (deleted >= limit) break;
      const time = this.time();
      const ctx = this.prepContext(this.zxid + 1n, time, 0n, []);
      let txn: Txn;
      try {
        txn = prepDeleteContainer(ctx, path);
      } catch (error) {
        if (!(error instanceof KeeperError)) throw error;
        txn = { type: OpCode.error, err: error.code };
      }
      this.propose(this.header(0n, 0, txn.type), txn, () => {});
      deleted++;
    }
    return deleted;
  }

  private *containerCandidates(): Generator<string> {
    const now = BigInt(this.now());
    for (const path of [...this.tree.containers]) {
      const node = this.tree.getNode(path);
      if (node && node.children.size === 0 && node.stat.cversion > 0) yield path;
    }
    for (const path of [...this.tree.ttls]) {
      const node = this.tree.getNode(path);
      if (!node || node.children.size > 0) continue;
      const ttl = node.stat.ephemeralOwner & 0xffffffffffn;
      if (ttl !== 0n && now - node.stat.mtime > ttl) yield path;
    }
  }
}
