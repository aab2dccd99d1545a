/**
 * What changes in a ZooKeeperServer when it is one server of an ensemble (ZooKeeper's
 * LeaderZooKeeperServer / FollowerZooKeeperServer, in one place):
 *
 * - The leader preps every write (its own clients' and those its followers forward) and hands
 *   the txn to Zab instead of the local log; the txn is applied once Zab commits it.
 * - A follower forwards its clients' writes and new sessions to the leader and answers them
 *   when the committed txn comes back (matched by session id and cxid); reads it answers from
 *   its own tree, in order with the session's writes.
 * - Sessions are global: creation and close are txns; only the leader expires sessions, from
 *   the activity the followers report every tick.
 * - While a server has no established leader it serves no clients: role changes close them,
 *   and they reconnect to a server that serves (ZooKeeper shuts its server down likewise).
 */
import { type Id, Reader, SyncRequest, SyncResponse, Writer } from "../../jute/index.js";
import { ErrorCode } from "../../protocol/errors.js";
import { OpCode } from "../../protocol/opcodes.js";
import { deserializeTxn, serializeTxn } from "../../storage/txn-codec.js";
import { assert } from "../../util/assert.js";
import type { Entry } from "../../zab/log.js";
import type { PeerState } from "../../zab/messages.js";
import { makeZxid } from "../../zab/zxid.js";
import { type ClientConnection, newConnectionStats } from "../connection.js";
import type { Logger } from "../logger.js";
import { opName, replyBody } from "../replies.js";
import type { Txn, TxnHeader } from "../txn.js";
import type { Slot, TxnSink, ZooKeeperServer } from "../zookeeper-server.js";
import type { QuorumPeerShell } from "./peer-shell.js";

/** ZooKeeper's names for the modes, as srvr and mntr print them. */
const STATE_NAMES = {
  LOOKING: "looking",
  FOLLOWING: "follower",
  LEADING: "leader",
  OBSERVING: "observer",
} as const;

/** The least time a server looks for a leader before it turns read-only (QuorumPeer's). */
const READ_ONLY_GRACE_MS = 2_000;

/** A client request a follower passes to its leader. */
export type ForwardedRequest =
  | { kind: "createSession"; sessionId: bigint; timeout: number }
  | {
      kind: "write";
      sessionId: bigint;
      xid: number;
      opcode: number;
      body: Buffer;
      authIds: Id[];
    }
  | { kind: "touch"; sessions: bigint[] };

interface PendingWrite {
  readonly cnxn: ClientConnection;
  readonly slot: Slot;
  readonly opcode: number;
  readonly started: number;
  /** A sync's path, for its reply. */
  readonly path?: string;
}

/**
 * A sync is ordered like a write: a no-op txn (an error txn with no error) goes through the
 * quorum, and the sync is answered once it is applied here. So sync-then-read is
 * linearizable, even on a leader that lost its quorum without knowing (ZOOKEEPER-1675).
 */
const SYNC_TXN: Txn = { type: OpCode.error, err: 0 };

/** A follower's session as the leader sees it: requests run with its ids, replies go nowhere. */
function remoteConnection(sessionId: bigint, authIds: Id[]): ClientConnection {
  return {
    sessionId,
    authIds,
    clientIp: "",
    remote: "forwarded",
    stats: newConnectionStats(Date.now()),
    send: () => {},
    close: () => {},
    process: () => {},
  };
}

export class EnsembleRole implements TxnSink {
  private readonly server: ZooKeeperServer;
  private readonly log: Logger;
  private shell!: QuorumPeerShell<Buffer>;
  state: PeerState = "LOOKING";
  /** The leader's own proposals, by zxid: applied through ZooKeeperServer.propose's callback. */
  private readonly proposed = new Map<bigint, () => void>();
  private readonly forwarded = new Map<string, PendingWrite>();
  private readonly connecting = new Map<bigint, () => void>();
  private readonly touched = new Set<bigint>();
  /** Client connections are closed when this server stops serving (set by the wiring). */
  closeClients: (reason: string) => void = () => {};
  private readonly readOnlyModeEnabled: boolean;
  /** When this server last became an established leader (mntr's leader_uptime). */
  private establishedAt = 0;
  /** Proposals' sizes in bytes, as ZooKeeper's BufferStats (-1 until the first). */
  private readonly proposalSizes = { last: -1, min: -1, max: -1 };
  private readOnlyTimer: NodeJS.Timeout | undefined;

  constructor(server: ZooKeeperServer, log: Logger, readOnlyModeEnabled = false) {
    this.server = server;
    this.log = log;
    this.readOnlyModeEnabled = readOnlyModeEnabled;
    server.sink = this;
    server.expiresSessions = false;
    server.forwardWrite = (cnxn, xid, opcode, body) => this.forwardWrite(cnxn, xid, opcode, body);
    server.forwardSession = (cnxn, id, timeout, done) =>
      this.forwardSession(cnxn, id, timeout, done);
  }

  attach(shell: QuorumPeerShell<Buffer>): void {
    this.shell = shell;
    this.server.acceptsSessions = () => this.serving || this.server.readOnly;
    this.server.serverState = "looking";
    this.scheduleReadOnly();
    // A leader's figures in mntr, as ZooKeeper's leader adds them.
    // A leader's figures in mntr, in the order ZooKeeper's leader adds them.
    this.server.quorumFigures = () => {
      if (this.state !== "LEADING" || !shell.peer.serving) return [];
      const { peer } = shell;
      const sizes = this.proposalSizes;
      return [
        ["learners", peer.learnerCount()],
        ["synced_followers", peer.syncedFollowers().length],
        ["synced_non_voting_followers", 0],
        ["synced_observers", peer.syncedObservers().length],
        // A sync is a txn through the quorum here, never a request parked at the leader.
        ["pending_syncs", 0],
        ["leader_uptime", Date.now() - this.establishedAt],
        ["last_proposal_size", sizes.last],
        ["max_proposal_size", sizes.max],
        ["min_proposal_size", sizes.min],
      ];
    };
  }

  /** True while this server may take clients: an established leader, or a synced learner. */
  get serving(): boolean {
    return this.shell?.peer.serving ?? false;
  }

  // ---- leader: txns to Zab ----

  append(header: TxnHeader, txn: Txn, durable: () => void): void {
    const { peer } = this.shell;
    if (peer.state !== "LEADING" || !peer.serving) {
      // No longer an established leader: the write cannot be ordered here. Its client is
      // closed with the others when the role change lands, and retries elsewhere.
      this.log.warn({ zxid: header.zxid.toString(16) }, "write dropped: not the leader");
      return;
    }
    const payload = serializeTxn(header, txn);
    const sizes = this.proposalSizes;
    sizes.last = payload.length;
    sizes.min = sizes.min === -1 ? payload.length : Math.min(sizes.min, payload.length);
    sizes.max = Math.max(sizes.max, payload.length);
    const zxid = this.shell.propose(payload);
    // The server numbers txns from the epoch's start, as Zab does: a mismatch would log a txn
    // under a zxid that is not its own.
    assert(
      zxid === header.zxid,
      `zab gave 0x${zxid?.toString(16)} to txn 0x${header.zxid.toString(16)}`,
    );
    this.proposed.set(zxid, durable);
  }

  /** Committed txns, in order, from the peer's storage. */
  applyCommitted(entries: readonly Entry<Buffer>[]): void {
    for (const entry of entries) {
      const own = this.proposed.get(entry.zxid);
      if (own !== undefined) {
        this.proposed.delete(entry.zxid);
        own();
        continue;
      }
      const { header, txn } = deserializeTxn(entry.payload);
      const result = this.server.applyCommitted(header as TxnHeader, txn as Txn);
      this.answer(header as TxnHeader, txn as Txn, result);
    }
  }

  /** A committed txn of one of our clients' forwarded requests: its reply goes out now. */
  private answer(
    header: TxnHeader,
    txn: Txn,
    result: ReturnType<ZooKeeperServer["applyCommitted"]>,
  ) {
    const { server } = this;
    const id = header.clientId;
    if (txn.type === OpCode.createSession) {
      if (server.sessions.get(id) === undefined) server.sessions.add(id, txn.timeOut);
      const done = this.connecting.get(id);
      this.connecting.delete(id);
      done?.();
      return;
    }
    const pending = this.forwarded.get(`${id}:${header.cxid}`);
    this.forwarded.delete(`${id}:${header.cxid}`);
    if (txn.type === OpCode.closeSession) {
      server.sessions.remove(id);
      const cnxn = server.connections.get(id);
      if (pending !== undefined) {
        server.fill(pending.cnxn, pending.slot, () => {
          server.reply(pending.cnxn, header.cxid, 0, pending.started, undefined, "CLOS");
          pending.cnxn.close("client closed its session");
        });
      } else cnxn?.close("session expired");
      return;
    }
    if (pending === undefined) return;
    if (pending.opcode === OpCode.sync) {
      const path = pending.path ?? "/";
      server.fill(pending.cnxn, pending.slot, () =>
        server.reply(
          pending.cnxn,
          header.cxid,
          0,
          pending.started,
          (w) => SyncResponse.write(w, { path }),
          "SYNC",
        ),
      );
      return;
    }
    const marshalling = txn.type === OpCode.error && txn.err === ErrorCode.MARSHALLINGERROR;
    const err = marshalling ? txn.err : pending.opcode === OpCode.multi ? 0 : result.err;
    server.fill(pending.cnxn, pending.slot, () =>
      server.reply(
        pending.cnxn,
        header.cxid,
        err,
        pending.started,
        replyBody(pending.opcode, result),
        opName(pending.opcode),
      ),
    );
  }

  // ---- follower: requests to the leader ----

  private forwardWrite(cnxn: ClientConnection, xid: number, opcode: number, body: Reader): boolean {
    const path = opcode === OpCode.sync ? syncPath(body) : undefined;
    if (this.state === "LEADING") {
      if (opcode !== OpCode.sync) return false;
      this.syncThroughQuorum(cnxn, xid, path ?? "/");
      return true;
    }
    const slot = this.server.reserveSlot(cnxn);
    this.forwarded.set(`${cnxn.sessionId}:${xid}`, {
      cnxn,
      slot,
      opcode,
      started: Date.now(),
      ...(path !== undefined && { path }),
    });
    const sent = this.shell.forward({
      kind: "write",
      sessionId: cnxn.sessionId,
      xid,
      opcode,
      body: Buffer.from(body.rest()),
      authIds: cnxn.authIds,
    } satisfies ForwardedRequest);
    if (!sent) cnxn.close("no leader to forward the write to");
    return true;
  }

  private forwardSession(
    cnxn: ClientConnection,
    id: bigint,
    timeout: number,
    done: () => void,
  ): boolean {
    if (this.state === "LEADING") return false;
    this.connecting.set(id, done);
    const sent = this.shell.forward({ kind: "createSession", sessionId: id, timeout });
    if (!sent) cnxn.close("no leader to create the session with");
    return true;
  }

  /** The leader's own client's sync: a no-op through the quorum, then the reply. */
  private syncThroughQuorum(cnxn: ClientConnection, xid: number, path: string): void {
    const { server } = this;
    const started = Date.now();
    const slot = server.reserveSlot(cnxn);
    server.propose(server.header(cnxn.sessionId, xid, OpCode.error), SYNC_TXN, () =>
      server.fill(cnxn, slot, () =>
        server.reply(cnxn, xid, 0, started, (w) => SyncResponse.write(w, { path }), "SYNC"),
      ),
    );
  }

  /** Every tick, a follower tells the leader which of its sessions were active. */
  tick(): void {
    if (this.state === "LEADING") return;
    for (const id of this.server.connections.keys()) this.touched.add(id);
    if (this.touched.size === 0) return;
    this.shell.forward({ kind: "touch", sessions: [...this.touched] });
    this.touched.clear();
  }

  // ---- leader: requests from followers ----

  handleForwarded(request: ForwardedRequest): void {
    const { server } = this;
    if (this.state !== "LEADING") return;
    if (request.kind === "touch") {
      for (const id of request.sessions) server.sessions.touch(id);
      return;
    }
    if (request.kind === "createSession") {
      server.sessions.add(request.sessionId, request.timeout);
      const header = server.header(request.sessionId, 0, OpCode.createSession);
      server.propose(header, { type: OpCode.createSession, timeOut: request.timeout }, () => {});
      return;
    }
    if (request.opcode === OpCode.sync) {
      const header = server.header(request.sessionId, request.xid, OpCode.error);
      server.propose(header, SYNC_TXN, () => {});
      return;
    }
    const remote = remoteConnection(request.sessionId, request.authIds);
    const head = new Writer(8);
    head.writeInt(request.xid).writeInt(request.opcode);
    const before = server.outstanding;
    server.process(remote, new Reader(Buffer.concat([head.take(), request.body])));
    if (server.outstanding === before) {
      // No txn came of it (an unreadable body, a session gone): the follower still waits for
      // one, so it gets an error txn, as ZooKeeper's prep makes one.
      const code = server.sessions.get(request.sessionId)
        ? ErrorCode.MARSHALLINGERROR
        : ErrorCode.SESSIONEXPIRED;
      const header = server.header(request.sessionId, request.xid, OpCode.error);
      server.propose(header, { type: OpCode.error, err: code }, () => {});
    }
  }

  // ---- role changes ----

  roleChanged(state: PeerState, epoch: bigint, established: boolean): void {
    const { server } = this;
    // A read-only server stays so until it finds a leader.
    if (!(server.readOnly && state === "LOOKING")) server.serverState = STATE_NAMES[state];
    const wasServing = this.state !== "LOOKING";
    if (established) {
      // Our proposals count from the epoch's start; every session known gets a fresh timeout.
      server.resetZxid(makeZxid(epoch, 0n));
      this.establishedAt = Date.now();
      for (const [id, timeout] of server.tree.sessions) {
        if (server.sessions.get(id) === undefined) server.sessions.add(id, timeout);
      }
      server.expiresSessions = true;
      return;
    }
    if (state === this.state) return;
    this.state = state;
    server.expiresSessions = false;
    this.proposed.clear();
    this.forwarded.clear();
    this.connecting.clear();
    server.abandonInFlight();
    const wasReadOnly = server.readOnly;
    this.stopReadOnly();
    if (wasServing || wasReadOnly) this.closeClients(`this server is now ${state.toLowerCase()}`);
    if (state === "LOOKING") this.scheduleReadOnly();
  }

  /**
   * With readonlymode.enabled, a server still looking for a leader after a grace period
   * (ZooKeeper's: the larger of 2 s and tickTime) serves reads to read-only clients.
   */
  private scheduleReadOnly(): void {
    if (!this.readOnlyModeEnabled) return;
    const grace = Math.max(READ_ONLY_GRACE_MS, this.server.options.tickTime);
    this.readOnlyTimer = setTimeout(() => {
      this.readOnlyTimer = undefined;
      if (this.state !== "LOOKING") return;
      this.server.startReadOnly();
      this.log.info({}, "read-only mode: no quorum; serving reads to read-only clients");
    }, grace);
    this.readOnlyTimer.unref();
  }

  /** Leaves read-only mode (if in it) and cancels a pending start. */
  stopReadOnly(): void {
    if (this.readOnlyTimer !== undefined) clearTimeout(this.readOnlyTimer);
    this.readOnlyTimer = undefined;
    if (!this.server.readOnly) return;
    this.server.endReadOnly();
    this.log.info({}, "read-only mode ends");
  }
}

/** A sync request's path; "/" if its body cannot be read (the reply is all it is used for). */
function syncPath(body: Reader): string {
  try {
    return SyncRequest.read(new Reader(Buffer.from(body.rest()))).path;
  } catch {
    return "/";
  }
}
