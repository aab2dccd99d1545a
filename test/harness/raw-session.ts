/**
 * A bare ZooKeeper session on a socket, for storms of them: handshake, requests as frames, replies
 * matched by xid, notifications counted. Cheap enough to hold thousands (no client library, no
 * timers), and able to misbehave (never read, send anything). Tests and benchmarks share it.
 *
 *     const s = await RawSession.open(port);
 *     await s.call(getDataFrame(1, "/storm", true));   // resolves with the reply's err
 *     s.notifications;                                  // watch events seen so far
 *     s.destroy();
 */
import { readFileSync } from "node:fs";
import net from "node:net";
import { Reader, Writer } from "../../src/jute/index.js";
import { ConnectRequest, ConnectResponse, GetDataRequest } from "../../src/jute/records.js";
import { FrameDecoder } from "../../src/protocol/frames.js";
import { within } from "./client-helpers.js";

const HOST = "127.0.0.1";

export class RawSession {
  readonly socket: net.Socket;
  sessionId = 0n;
  /** The session's password from the handshake, to resume the session on another socket. */
  sessionPassword: Buffer = Buffer.alloc(16);
  /** Watch notifications (xid -1) received so far. */
  notifications = 0;
  /** Called on each notification. */
  onNotification: (() => void) | undefined;
  /** Resolves once the socket is closed, by either side. */
  readonly closed: Promise<void>;
  /** Replies awaited, by xid: called with the reply frame, or undefined if the socket closed. */
  readonly #waiting = new Map<number, (reply: Buffer | undefined) => void>();
  #handshake: ((response: ConnectResponse | undefined) => void) | undefined;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    const decoder = new FrameDecoder(256 * 1024 * 1024);
    socket.on("data", (chunk: Buffer) => {
      try {
        decoder.push(chunk, (frame) => this.#onFrame(frame));
      } catch {
        socket.destroy();
      }
    });
    socket.on("error", () => {});
    this.closed = new Promise((resolve) => {
      socket.on("close", () => {
        this.#handshake?.(undefined);
        for (const resolveCall of this.#waiting.values()) resolveCall(undefined);
        this.#waiting.clear();
        resolve();
      });
    });
  }

  /**
   * Connects and completes the handshake; rejects if the server closes instead, or answers
   * session id 0 (an expired session, when `resume` asks for one).
   */
  static async open(
    port: number,
    options: { timeOut?: number; resume?: { sessionId: bigint; password: Buffer } } = {},
  ): Promise<RawSession> {
    const socket = net.connect({ host: HOST, port });
    socket.setNoDelay(true);
    const session = new RawSession(socket);
    const response = await new Promise<ConnectResponse | undefined>((resolve) => {
      session.#handshake = resolve;
      socket.write(connectFrame(options.timeOut ?? 30_000, options.resume));
    });
    if (response === undefined || response.sessionId === 0n) {
      socket.destroy();
      throw new Error("the server refused or closed the handshake");
    }
    session.sessionId = response.sessionId;
    session.sessionPassword = response.passwd;
    return session;
  }

  send(frame: Buffer): void {
    this.socket.write(frame);
  }

  /** Sends a request frame and resolves with its reply's err (NaN if the connection closed). */
  async call(frame: Buffer): Promise<number> {
    const reply = await this.request(frame);
    return reply === undefined ? Number.NaN : reply.readInt32BE(12);
  }

  /** Sends a request frame and resolves with its whole reply (undefined if the connection closed). */
  async request(frame: Buffer): Promise<Buffer | undefined> {
    return (await this.exchange(frame))?.frame;
  }

  /**
   * Sends a request frame and resolves with its reply frame (xid, zxid, err, body) and how many
   * notifications had arrived before it; undefined if the connection closed first.
   */
  exchange(frame: Buffer): Promise<{ frame: Buffer; notificationsBefore: number } | undefined> {
    const xid = frame.readInt32BE(4);
    return new Promise((resolve) => {
      this.#waiting.set(xid, (reply) =>
        resolve(
          reply === undefined
            ? undefined
            : { frame: reply, notificationsBefore: this.notifications },
        ),
      );
      this.socket.write(frame);
    });
  }

  destroy(): void {
    this.socket.destroy();
  }

  #onFrame(frame: Buffer): void {
    if (this.#handshake !== undefined) {
      const resolve = this.#handshake;
      this.#handshake = undefined;
      try {
        resolve(ConnectResponse.read(new Reader(frame)));
      } catch {
        resolve(undefined);
      }
      return;
    }
    const xid = frame.readInt32BE(0);
    if (xid === -1) {
      this.notifications++;
      this.onNotification?.();
      return;
    }
    const resolve = this.#waiting.get(xid);
    if (resolve === undefined) return;
    this.#waiting.delete(xid);
    resolve(frame);
  }
}

export function connectFrame(
  timeOut = 30_000,
  resume?: { sessionId: bigint; password: Buffer },
): Buffer {
  const w = new Writer();
  const at = w.reserveInt();
  ConnectRequest.write(w, {
    protocolVersion: 0,
    lastZxidSeen: 0n,
    timeOut,
    sessionId: resume?.sessionId ?? 0n,
    passwd: resume?.password ?? Buffer.alloc(16),
    readOnly: false,
  });
  w.patchInt(at, w.length - 4);
  return w.take();
}

/** A request frame: length, xid, opcode, then what `body` writes. */
export function requestFrame(xid: number, opcode: number, body: (w: Writer) => void): Buffer {
  const w = new Writer();
  const at = w.reserveInt();
  w.writeInt(xid).writeInt(opcode);
  body(w);
  w.patchInt(at, w.length - 4);
  return w.take();
}

/** getData (opcode 4) or, with `children`, getChildren (8), optionally leaving a watch. */
export function getDataFrame(xid: number, path: string, watch = false, children = false): Buffer {
  return requestFrame(xid, children ? 8 : 4, (w) => GetDataRequest.write(w, { path, watch }));
}

/** A bare length prefix, e.g. 1 GiB, with nothing after it. */
export function lengthPrefix(length: number): Buffer {
  const prefix = Buffer.alloc(4);
  prefix.writeInt32BE(length);
  return prefix;
}

/** A field of /proc/<pid>/status, KiB (Linux). */
export function procStatusKiB(pid: number, field: "VmRSS" | "VmHWM"): number {
  const text = readFileSync(`/proc/${pid}/status`, "utf8");
  const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, "m").exec(text);
  return match === null ? 0 : Number(match[1]);
}

/**
 * Sends `bytes` on a fresh connection and resolves with everything the server sent until it
 * closed the connection; rejects after `timeoutMs` if it never does.
 */
export function untilClosed(port: number, bytes: Buffer, timeoutMs = 20_000): Promise<Buffer> {
  return within(
    new Promise((resolve) => {
      const socket = net.connect({ host: HOST, port });
      const chunks: Buffer[] = [];
      socket.on("connect", () => socket.write(bytes));
      socket.on("data", (chunk) => chunks.push(chunk));
      socket.on("close", () => resolve(Buffer.concat(chunks)));
      socket.on("error", () => {});
    }),
    timeoutMs,
    "the server closing the connection",
  );
}
