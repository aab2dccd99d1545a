/**
 * Requests no well-behaved client sends (unknown opcodes, bad paths, bad create modes, truncated
 * bodies, reads inside a multi, ...), written byte by byte on a bare connection, so that the
 * servers' answers to bad input can be compared too: each request's reply (error code, body
 * length) or whether the server closed the connection instead, then whether the connection
 * still answers an exists("/").
 *
 * Each case opens its own session and ends it with closeSession (reconnecting first if the
 * server closed the connection), so no session is left to expire during a later test.
 */
import net from "node:net";
import {
  ConnectRequest,
  ConnectResponse,
  DEFAULT_MAX_BUFFER_BYTES,
  errorCodeName,
  FrameDecoder,
  OpCode,
  Reader,
  ReplyHeader,
  Writer,
  Xid,
} from "../../src/internal.js";
import type { ServerAddress } from "./runner.js";

const REPLY_WAIT_MS = 2_000;

type Frame = Buffer | "closed";

/** One session on a bare socket: frames in, frames out, nothing checked. */
class RawSession {
  readonly #socket: net.Socket;
  readonly #frames: Frame[] = [];
  #waiter: ((frame: Frame) => void) | undefined;
  sessionId = 0n;
  passwd: Buffer = Buffer.alloc(16);
  /** The timeout the server granted: 0 when it refused to reopen the session (expired). */
  timeOut = 0;

  private constructor(socket: net.Socket) {
    this.#socket = socket;
    const decoder = new FrameDecoder(DEFAULT_MAX_BUFFER_BYTES);
    socket.on("data", (chunk: Buffer) => {
      try {
        decoder.push(chunk, (frame) => this.#deliver(Buffer.from(frame)));
      } catch {
        socket.destroy();
      }
    });
    socket.on("close", () => this.#deliver("closed"));
    socket.on("error", () => {});
  }

  static async open(
    address: ServerAddress,
    resume?: { sessionId: bigint; passwd: Buffer },
  ): Promise<RawSession> {
    const socket = net.connect(address.port, address.host);
    socket.setNoDelay(true);
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve).once("error", reject);
    });
    const session = new RawSession(socket);
    const w = new Writer();
    ConnectRequest.write(w, {
      protocolVersion: 0,
      lastZxidSeen: 0n,
      timeOut: 30_000,
      sessionId: resume?.sessionId ?? 0n,
      passwd: resume?.passwd ?? Buffer.alloc(16),
      readOnly: false,
    });
    session.send(w.take());
    const frame = await session.next();
    if (frame === "closed" || frame === undefined) throw new Error("no ConnectResponse");
    const response = ConnectResponse.read(new Reader(frame));
    session.sessionId = response.sessionId;
    session.passwd = Buffer.from(response.passwd);
    session.timeOut = response.timeOut;
    return session;
  }

  send(body: Buffer): void {
    const length = Buffer.alloc(4);
    length.writeInt32BE(body.length);
    this.#socket.write(Buffer.concat([length, body]));
  }

  /** The next frame, "closed", or undefined if none came within the wait. */
  next(): Promise<Frame | undefined> {
    const queued = this.#frames.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#waiter = undefined;
        resolve(undefined);
      }, REPLY_WAIT_MS);
      this.#waiter = (frame) => {
        clearTimeout(timer);
        resolve(frame);
      };
    });
  }

  #deliver(frame: Frame): void {
    const waiter = this.#waiter;
    this.#waiter = undefined;
    if (waiter) waiter(frame);
    else this.#frames.push(frame);
  }

  get closed(): boolean {
    return this.#socket.destroyed;
  }

  /** Resolves once the server has closed the connection, or after REPLY_WAIT_MS. */
  async untilClosed(): Promise<void> {
    if (this.#socket.destroyed) return;
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      this.#socket.once("close", () => resolve());
      timer = setTimeout(resolve, REPLY_WAIT_MS);
    });
    clearTimeout(timer);
  }

  destroy(): void {
    this.#socket.destroy();
  }
}

/** One raw request: its opcode and body; the xid is the case's running counter. */
export interface RawRequest {
  readonly name: string;
  readonly opcode: number;
  /** The body after the RequestHeader; `base` is the case's own znode. */
  readonly body: (w: Writer, base: string) => void;
  /** An xid other than the next one (e.g. Xid.ping). */
  readonly xid?: number;
  /**
   * The server closes the connection after this reply. Apache ZooKeeper does it a moment later
   * (a close queued behind the reply), and on a busy machine it was seen to answer one more
   * request first: wait for the close (bounded) before sending the next one.
   */
  readonly thenClosed?: boolean;
}

export interface RawCase {
  readonly name: string;
  readonly requests: readonly RawRequest[];
}

/** Runs one case on a new session; the lines two servers must agree on. */
export async function runRawCase(
  address: ServerAddress,
  base: string,
  rawCase: RawCase,
): Promise<string[]> {
  const session = await RawSession.open(address);
  const lines: string[] = [];
  let xid = 0;
  try {
    for (const request of [...rawCase.requests, PROBE]) {
      const w = new Writer();
      const sent = request.xid ?? ++xid;
      w.writeInt(sent).writeInt(request.opcode);
      request.body(w, base);
      session.send(w.take());
      const answer = await replyTo(session, sent);
      lines.push(`${request.name} → ${answer}`);
      if (answer.startsWith("connection closed")) break;
      if (request.thenClosed) await session.untilClosed();
    }
  } finally {
    await endSession(address, session);
  }
  return lines;
}

/** The reply to `xid` (notifications before it are listed), or what happened instead. */
async function replyTo(session: RawSession, xid: number): Promise<string> {
  const before: string[] = [];
  for (;;) {
    const frame = await session.next();
    if (frame === undefined) return [...before, `no reply in ${REPLY_WAIT_MS} ms`].join(", ");
    if (frame === "closed") return [...before, "connection closed"].join(", ");
    const reader = new Reader(frame);
    const header = ReplyHeader.read(reader);
    if (header.xid === Xid.notification) {
      before.push("a notification");
      continue;
    }
    const err = header.err === 0 ? "ok" : (errorCodeName(header.err) ?? `err${header.err}`);
    const body = reader.remaining > 0 ? ` +${reader.remaining} bytes` : "";
    const other = header.xid === xid ? "" : ` (reply xid ${header.xid})`;
    return [...before, `${err}${body}${other}`].join(", ");
  }
}

/** Bounded: each attempt is a connection of its own. */
const END_ATTEMPTS = 5;

/**
 * closeSession until it is answered, on a new connection to the same session whenever the
 * server closed the one in hand: a session left open would expire during a later test, and its
 * closeSession txn would move one server's zxids and not the other's.
 */
async function endSession(address: ServerAddress, session: RawSession): Promise<void> {
  let live = session;
  for (let attempt = 0; attempt < END_ATTEMPTS; attempt++) {
    if (live.closed) {
      const reopened = await RawSession.open(address, session).catch(() => undefined);
      // Unreachable, or refused because the session is gone already: nothing left to close.
      if (reopened === undefined || reopened.timeOut <= 0) {
        reopened?.destroy();
        return;
      }
      live = reopened;
    }
    const w = new Writer();
    w.writeInt(1_000_000).writeInt(OpCode.closeSession);
    live.send(w.take());
    const answer = await live.next();
    live.destroy();
    if (answer !== undefined && answer !== "closed") return;
  }
}

// ---- the cases ----

const PROBE: RawRequest = {
  name: "then exists /",
  opcode: OpCode.exists,
  body: (w) => void w.writeString("/").writeBool(false),
};
const OPEN_ACL = (w: Writer) =>
  void w.writeInt(1).writeInt(31).writeString("world").writeString("anyone");

const read = (name: string, opcode: number, path: (base: string) => string): RawRequest => ({
  name,
  opcode,
  body: (w, base) => void w.writeString(path(base)).writeBool(false),
});
const create = (
  name: string,
  path: (base: string) => string,
  flags: number,
  acl: (w: Writer) => void = OPEN_ACL,
  opcode: number = OpCode.create,
  ttl?: bigint,
): RawRequest => ({
  name,
  opcode,
  body: (w, base) => {
    w.writeString(path(base)).writeBuffer(Buffer.from("x"));
    acl(w);
    w.writeInt(flags);
    if (ttl !== undefined) w.writeLong(ttl);
  },
});
const withPath = (name: string, opcode: number, path: (base: string) => string): RawRequest => ({
  name,
  opcode,
  body: (w, base) => void w.writeString(path(base)),
});

export const RAW_CASES: readonly RawCase[] = [
  {
    name: "paths ZooKeeper refuses",
    requests: [
      read("getData ''", OpCode.getData, () => ""),
      read("getData relative", OpCode.getData, () => "d"),
      read("getData trailing /", OpCode.getData, (b) => `${b}/`),
      read("getData //", OpCode.getData, (b) => `${b}//x`),
      read("getData /./", OpCode.getData, (b) => `${b}/./x`),
      read("exists with NUL", OpCode.exists, (b) => `${b}/a\u0000b`),
      create("create trailing / (not sequential)", (b) => `${b}/x/`, 0),
      create("create //", (b) => `${b}//x`, 0),
      create("create /..", (b) => `${b}/..`, 0),
      create("create under /zookeeper", (b) => `/zookeeper${b}`, 0),
      create("create / ", () => "/", 0),
      {
        name: "delete /",
        opcode: OpCode.delete,
        body: (w) => void w.writeString("/").writeInt(-1),
      },
      {
        name: "delete ''",
        opcode: OpCode.delete,
        body: (w) => void w.writeString("").writeInt(-1),
      },
      read("getChildren ''", OpCode.getChildren, () => ""),
      read("exists ''", OpCode.exists, () => ""),
      withPath("getACL ''", OpCode.getACL, () => ""),
      withPath("sync ''", OpCode.sync, () => ""),
      withPath(
        "getAllChildrenNumber of a missing node",
        OpCode.getAllChildrenNumber,
        (b) => `${b}/no`,
      ),
      withPath("getEphemerals ''", OpCode.getEphemerals, () => ""),
    ],
  },
  {
    name: "create modes, TTLs and ACLs ZooKeeper refuses",
    requests: [
      create("create flags 99", (b) => `${b}/m99`, 99),
      create("create flags 5 (TTL) by plain create", (b) => `${b}/ttl-plain`, 5),
      create("create flags 4 (container) by plain create", (b) => `${b}/c-plain`, 4),
      create("createTTL flags 0", (b) => `${b}/ttl0`, 0, OPEN_ACL, OpCode.createTTL, 1000n),
      create("createTTL ttl 0", (b) => `${b}/ttl1`, 5, OPEN_ACL, OpCode.createTTL, 0n),
      create("createTTL ttl -1", (b) => `${b}/ttl2`, 5, OPEN_ACL, OpCode.createTTL, -1n),
      create("createTTL ttl 2^40", (b) => `${b}/ttl3`, 5, OPEN_ACL, OpCode.createTTL, 2n ** 40n),
      create("createContainer flags 0", (b) => `${b}/c0`, 0, OPEN_ACL, OpCode.createContainer),
      create("create2 ephemeral sequential", (b) => `${b}/es-`, 3, OPEN_ACL, OpCode.create2),
      create(
        "create empty ACL",
        (b) => `${b}/acl0`,
        0,
        (w) => void w.writeInt(0),
      ),
      create(
        "create ACL scheme foo",
        (b) => `${b}/acl1`,
        0,
        (w) => void w.writeInt(1).writeInt(31).writeString("foo").writeString("bar"),
      ),
      create(
        "create ACL perms 0",
        (b) => `${b}/acl2`,
        0,
        (w) => void w.writeInt(1).writeInt(0).writeString("world").writeString("anyone"),
      ),
      create(
        "create ACL world:nobody",
        (b) => `${b}/acl3`,
        0,
        (w) => void w.writeInt(1).writeInt(31).writeString("world").writeString("nobody"),
      ),
      create(
        "create ACL ip 10.0.0.0/8",
        (b) => `${b}/acl4`,
        0,
        (w) => void w.writeInt(1).writeInt(31).writeString("ip").writeString("10.0.0.0/8"),
      ),
      create(
        "create ACL ip bad",
        (b) => `${b}/acl5`,
        0,
        (w) => void w.writeInt(1).writeInt(31).writeString("ip").writeString("300.1.1.1"),
      ),
      {
        name: "setACL empty list",
        opcode: OpCode.setACL,
        body: (w, b) => void w.writeString(b).writeInt(0).writeInt(-1),
      },
      {
        name: "setData version -2",
        opcode: OpCode.setData,
        body: (w, b) => void w.writeString(b).writeBuffer(Buffer.from("v")).writeInt(-2),
      },
      {
        name: "setData /zookeeper/config",
        opcode: OpCode.setData,
        body: (w) => void w.writeString("/zookeeper/config").writeBuffer(null).writeInt(-1),
      },
    ],
  },
  {
    name: "multi and multiRead holding ops of the other kind",
    requests: [
      {
        name: "multi with a getData",
        opcode: OpCode.multi,
        body: (w, b) => {
          w.writeInt(OpCode.getData).writeBool(false).writeInt(-1);
          w.writeString(b).writeBool(false);
          w.writeInt(-1).writeBool(true).writeInt(-1);
        },
      },
      {
        name: "multiRead with a create",
        opcode: OpCode.multiRead,
        body: (w, b) => {
          w.writeInt(OpCode.create).writeBool(false).writeInt(-1);
          w.writeString(`${b}/mr`).writeBuffer(Buffer.alloc(0));
          OPEN_ACL(w);
          w.writeInt(0);
          w.writeInt(-1).writeBool(true).writeInt(-1);
        },
      },
      {
        name: "multi with no ops",
        opcode: OpCode.multi,
        body: (w) => void w.writeInt(-1).writeBool(true).writeInt(-1),
      },
      {
        name: "multiRead with no ops",
        opcode: OpCode.multiRead,
        body: (w) => void w.writeInt(-1).writeBool(true).writeInt(-1),
      },
      {
        name: "multi with a sync",
        opcode: OpCode.multi,
        body: (w, b) => {
          w.writeInt(OpCode.sync).writeBool(false).writeInt(-1);
          w.writeString(b);
          w.writeInt(-1).writeBool(true).writeInt(-1);
        },
      },
    ],
  },
  {
    name: "watch requests ZooKeeper refuses",
    requests: [
      {
        name: "addWatch mode 7",
        opcode: OpCode.addWatch,
        body: (w, b) => void w.writeString(b).writeInt(7),
      },
      {
        name: "removeWatches of no watch",
        opcode: OpCode.removeWatches,
        body: (w, b) => void w.writeString(b).writeInt(1),
      },
      {
        name: "checkWatches of no watch",
        opcode: OpCode.checkWatches,
        body: (w, b) => void w.writeString(b).writeInt(2),
      },
      {
        name: "removeWatches type 9",
        opcode: OpCode.removeWatches,
        body: (w, b) => void w.writeString(b).writeInt(9),
      },
      {
        name: "setWatches for missing nodes",
        opcode: OpCode.setWatches,
        xid: Xid.setWatches,
        body: (w, b) => {
          w.writeLong(0n);
          for (const list of [[`${b}/no1`], [`${b}/no2`], [`${b}/no3`]]) {
            w.writeInt(list.length);
            for (const path of list) w.writeString(path);
          }
        },
      },
      { name: "ping", opcode: OpCode.ping, xid: Xid.ping, body: () => {} },
      { name: "whoAmI", opcode: OpCode.whoAmI, body: () => {} },
      {
        name: "reconfig (standalone)",
        opcode: OpCode.reconfig,
        body: (w) => void w.writeString("").writeString("").writeString("").writeLong(-1n),
      },
    ],
  },
  {
    name: "auth packets ZooKeeper refuses",
    requests: [
      {
        name: "auth ip",
        opcode: OpCode.auth,
        xid: Xid.auth,
        body: (w) => void w.writeInt(0).writeString("ip").writeBuffer(Buffer.from("127.0.0.1")),
      },
      {
        name: "auth world",
        opcode: OpCode.auth,
        xid: Xid.auth,
        body: (w) => void w.writeInt(0).writeString("world").writeBuffer(Buffer.from("anyone")),
        thenClosed: true,
      },
      {
        name: "auth digest without a colon",
        opcode: OpCode.auth,
        xid: Xid.auth,
        body: (w) => void w.writeInt(0).writeString("digest").writeBuffer(Buffer.from("nocolon")),
      },
    ],
  },
  {
    name: "an unknown opcode",
    requests: [{ name: "opcode 999", opcode: 999, body: () => {}, thenClosed: true }],
  },
  {
    name: "opcode 0 (notification's)",
    requests: [{ name: "opcode 0", opcode: 0, body: () => {}, thenClosed: true }],
  },
  {
    name: "createSession inside a session",
    requests: [{ name: "createSession", opcode: OpCode.createSession, body: () => {} }],
  },
  {
    name: "a truncated body",
    requests: [
      {
        name: "getData with a string length past the end",
        opcode: OpCode.getData,
        body: (w) => void w.writeInt(100).writeInt(0x2f2f2f2f),
      },
    ],
  },
  {
    name: "a body with bytes left over",
    requests: [
      {
        name: "exists / with 8 extra bytes",
        opcode: OpCode.exists,
        body: (w) => void w.writeString("/").writeBool(false).writeLong(7n),
      },
    ],
  },
  {
    name: "requests after closeSession",
    requests: [
      { name: "closeSession", opcode: OpCode.closeSession, body: () => {}, thenClosed: true },
      read("getData after close", OpCode.getData, () => "/"),
    ],
  },
];
