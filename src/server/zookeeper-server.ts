/**
 * The standalone server's core: sessions, the zxid counter, and one pass per request from
 * prep (checks, txn) to the data tree (apply, watches) to the reply. It does no I/O of its own:
 * connections (net/) hand it decoded frames and it answers through them.
 *
 * Ordering: a request is answered before the next one from any connection is looked at, so
 * every connection sees its replies in request order, and the notifications a write triggers go
 * out before that write's reply (ZooKeeper's guarantee to clients).
 *
 * The path "Txn in, DataTree change out" is one call, `commit(header, txn)`: the durable txn log
 * (storage/) slots in there, before apply.
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
  type Reader,
  RemoveWatchesRequest,
  SetACLRequest,
  SetDataRequest,
  SetWatches,
  SetWatches2,
  SyncRequest,
  SyncResponse,
  WhoAmIResponse,
  type Writer,
} from "../jute/index.js";
import { ErrorCode } from "../protocol/errors.js";
import { readMultiRequest, writeMultiResponse } from "../protocol/multi.js";
import { OpCode, Xid } from "../protocol/opcodes.js";
import { authenticate, KeeperError } from "./auth.js";
import type { ResolvedServerOptions } from "./config.js";
import type { ClientConnection } from "./connection.js";
import { DataTree } from "./data-tree.js";
import type { Logger } from "./logger.js";
import {
  ChangeRecords,
  MarshallingFailure,
  type PrepContext,
  prepCheck,
  prepCreate,
  prepDelete,
  prepMulti,
  prepReconfig,
  prepSetACL,
  prepSetData,
} from "./prep.js";
import * as reads from "./reads.js";
import { PartialMultiRead } from "./reads.js";
import { hex, isUndecodable, opName, replyBody } from "./replies.js";
import { checkSessionPassword, sessionPassword } from "./session-password.js";
import { SessionTracker } from "./sessions.js";
import { ServerStats } from "./stats.js";
import type { Txn, TxnHeader, TxnResult } from "./txn.js";

export class ZooKeeperServer {
  readonly tree = new DataTree();
  readonly sessions: SessionTracker;
  readonly stats = new ServerStats();
  readonly options: ResolvedServerOptions;
  /** The connection of each session that has one. */
  readonly connections = new Map<bigint, ClientConnection>();
  private readonly records: ChangeRecords;
  private readonly log: Logger;
  private readonly now: () => number;
  private zxid = 0n;

  constructor(options: ResolvedServerOptions, log: Logger, now: () => number = Date.now) {
    this.options = options;
    this.log = log;
    this.now = now;
    this.sessions = new SessionTracker(options.tickTime, now);
    this.records = new ChangeRecords(this.tree);
  }

  get lastZxid(): bigint {
    return this.tree.lastProcessedZxid;
  }

  // ---- sessions ----

  /** processConnectRequest: a new session, or the reopening of an existing one. */
  connect(cnxn: ClientConnection, request: ConnectRequest): void {
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
      this.commit(
        { clientId: id, cxid: 0, zxid: ++this.zxid, time: this.time(), type: OpCode.createSession },
        { type: OpCode.createSession, timeOut: timeout },
      );
      this.attach(cnxn, id);
      this.sendConnectResponse(cnxn, timeout, id, sessionPassword(id));
      this.log.debug({ session: hex(id), timeout, client: cnxn.remote }, "session established");
      return;
    }
    const id = request.sessionId;
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
      ConnectResponse.write(w, { protocolVersion: 0, timeOut, sessionId, passwd, readOnly: false }),
    );
  }

  /** The connection is gone (the session stays until it expires); its watches go now. */
  disconnected(cnxn: ClientConnection): void {
    this.tree.removeWatcher(cnxn);
    if (this.connections.get(cnxn.sessionId) === cnxn) this.connections.delete(cnxn.sessionId);
  }

  /** Ends sessions whose clients stopped talking: their ephemerals go, their connections close. */
  expireSessions(): void {
    for (const session of this.sessions.takeExpired()) {
      this.log.info({ session: hex(session.id), timeout: session.timeoutMs }, "session expired");
      this.closeSession(session.id, 0);
      this.connections.get(session.id)?.close("session expired");
    }
  }

  private closeSession(sessionId: bigint, cxid: number): TxnResult {
    const session = this.sessions.get(sessionId);
    if (session) session.closing = true;
    const paths = [...this.tree.ephemeralsOf(sessionId)];
    const header = {
      clientId: sessionId,
      cxid,
      zxid: ++this.zxid,
      time: this.time(),
      type: OpCode.closeSession,
    };
    const result = this.commit(header, { type: OpCode.closeSession, paths2Delete: paths });
    this.sessions.remove(sessionId);
    return result;
  }

  // ---- requests ----

  /** One request frame of an established connection. */
  process(cnxn: ClientConnection, frame: Reader): void {
    const xid = frame.readInt();
    const opcode = frame.readInt();
    cnxn.stats.packetsReceived++;
    this.stats.packetsReceived++;
    if (!this.sessions.touch(cnxn.sessionId)) {
      cnxn.close("session expired or closed");
      return;
    }
    if (xid === Xid.auth && opcode === OpCode.auth) return this.addAuth(cnxn, frame);
    const started = this.now();
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
        this.closeSession(cnxn.sessionId, xid);
        this.reply(cnxn, xid, 0, started, undefined, "CLOS");
        cnxn.close("client closed its session");
        return;
      }
      case OpCode.exists: {
        const { path, watch } = ExistsRequest.read(r);
        const result = reads.exists(tree, cnxn, path, watch);
        return this.reply(cnxn, xid, 0, started, (w) => ExistsResponse.write(w, result), "EXIS");
      }
      case OpCode.getData: {
        const { path, watch } = GetDataRequest.read(r);
        const result = reads.getData(tree, cnxn, path, watch);
        return this.reply(cnxn, xid, 0, started, (w) => GetDataResponse.write(w, result), "GETD");
      }
      case OpCode.getChildren:
      case OpCode.getChildren2: {
        const { path, watch } = GetDataRequest.read(r);
        const result = reads.getChildren(tree, cnxn, path, watch);
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
        const result = reads.getACL(tree, cnxn.authIds, GetACLRequest.read(r).path);
        return this.reply(cnxn, xid, 0, started, (w) => GetACLResponse.write(w, result), "GETA");
      }
      case OpCode.getAllChildrenNumber: {
        const totalNumber = reads.getAllChildrenNumber(
          tree,
          cnxn.authIds,
          GetAllChildrenNumberRequest.read(r).path,
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
        const result = reads.whoAmI(cnxn.authIds);
        return this.reply(cnxn, xid, 0, started, (w) => WhoAmIResponse.write(w, result), "HOMI");
      }
      case OpCode.sync: {
        const { path } = SyncRequest.read(r);
        return this.reply(cnxn, xid, 0, started, (w) => SyncResponse.write(w, { path }), "SYNC");
      }
      case OpCode.multiRead: {
        const results = reads.multiRead(tree, cnxn, readMultiRequest(r));
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
    const ids = authenticate(packet.scheme, packet.auth, this.options.superDigest, cnxn.clientIp);
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
    cnxn.send((w) => w.writeInt(Xid.auth).writeLong(0n).writeInt(0));
  }

  // ---- writes ----

  private write(
    cnxn: ClientConnection,
    xid: number,
    opcode: number,
    started: number,
    prepare: (ctx: PrepContext) => Txn,
  ): void {
    const zxid = this.zxid + 1n;
    const ctx: PrepContext = {
      records: this.records,
      zxid,
      time: this.time(),
      sessionId: cnxn.sessionId,
      authIds: cnxn.authIds,
      extendedTypesEnabled: this.options.extendedTypesEnabled,
      reconfigEnabled: false,
    };
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
    this.zxid = zxid;
    const header: TxnHeader = {
      clientId: cnxn.sessionId,
      cxid: xid,
      zxid,
      time: ctx.time,
      type: txn.type,
    };
    const result = this.commit(header, txn);
    const err = marshalling ? ErrorCode.MARSHALLINGERROR : opcode === OpCode.multi ? 0 : result.err;
    this.reply(cnxn, xid, err, started, replyBody(opcode, result), opName(opcode));
  }

  /** A txn's way into the tree: the txn log will write it here first. */
  commit(header: TxnHeader, txn: Txn): TxnResult {
    const result = this.tree.apply(header, txn);
    this.records.applied(header.zxid);
    return result;
  }

  // ---- replies ----

  private reply(
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
    this.stats.recordLatency(latency);
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
      const zxid = ++this.zxid;
      const header = {
        clientId: 0n,
        cxid: 0,
        zxid,
        time: this.time(),
        type: OpCode.deleteContainer,
      };
      const node = this.tree.getNode(path);
      const txn: Txn =
        node === undefined || node.children.size > 0
          ? { type: OpCode.error, err: ErrorCode.NOTEMPTY }
          : { type: OpCode.deleteContainer, path };
      this.commit(header, txn);
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
