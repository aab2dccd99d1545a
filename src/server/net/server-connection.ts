/**
 * One client's TCP connection: the socket shell around the server core. It frames (with
 * jute.maxbuffer as the limit), answers a four-letter word sent instead of a handshake, hands the
 * handshake and then each request to the core, batches everything written in one tick into one
 * socket write, and pushes back on a client that does not read: past a high-water mark it stops
 * reading that socket until the backlog drains, and past a hard limit it drops the connection.
 */
import type net from "node:net";
import { ConnectRequest, JuteDecodeError, Reader, WatcherEvent, Writer } from "../../jute/index.js";
import type { ACL, Id } from "../../jute/records.js";
import {
  EventType,
  type EventType as EventTypeName,
  KeeperState,
  Perms,
} from "../../protocol/constants.js";
import { FrameDecoder, FrameError } from "../../protocol/frames.js";
import { MultiFormatError } from "../../protocol/multi.js";
import { Xid } from "../../protocol/opcodes.js";
import { checkACL } from "../auth.js";
import type { ClientConnection, ConnectionStats } from "../connection.js";
import { newConnectionStats } from "../connection.js";
import type { Logger } from "../logger.js";
import type { ZooKeeperServer } from "../zookeeper-server.js";
import { notificationPacer } from "./notification-pacer.js";

/** Pause reading a client whose unread replies pass this; resume once they drain. */
export const OUTPUT_HIGH_WATER_BYTES = 4 * 1024 * 1024;
/** Drop a client whose unread replies pass this (notifications keep coming while paused). */
export const OUTPUT_HARD_LIMIT_BYTES = 64 * 1024 * 1024;

export interface ConnectionHooks {
  /**
   * The reply to a four-letter word, or undefined if `word` is none. `rest` is what followed the
   * word in the same read (`stmk` takes its argument from it).
   */
  fourLetterWord(word: string, connection: ServerConnection, rest: Buffer): string | undefined;
  closed(connection: ServerConnection): void;
}

export class ServerConnection implements ClientConnection {
  sessionId = 0n;
  readonly authIds: Id[];
  readonly certificateIds: readonly Id[];
  readonly clientIp: string;
  readonly remote: string;
  readonly stats: ConnectionStats;
  private readonly socket: net.Socket;
  private readonly server: ZooKeeperServer;
  private readonly hooks: ConnectionHooks;
  private readonly log: Logger;
  private readonly decoder: FrameDecoder;
  /** znode data of 16 KiB or more goes to the socket as it is, not copied (writer.ts). */
  private readonly writer = new Writer(16 * 1024, { shareFrom: 16 * 1024 });
  private flushScheduled = false;
  private handshaken = false;
  private sawFirstChunk = false;
  private framesSent = 0;
  private closed = false;
  private paused = false;
  /** Not reading because the server has globalOutstandingLimit writes in flight. */
  private throttled = false;
  private readonly handshakeTimer: NodeJS.Timeout;
  /** Frames read but not handled yet (only while paused, or within one chunk). */
  private readonly unread: Buffer[] = [];
  private next = 0;
  /** Watch events the pacer holds back in a storm, oldest first. */
  private held: WatcherEvent[] | undefined;

  /**
   * `socket` is a TCP socket or a TLS one (after its handshake); `certificateIds` are the ids its
   * verified client certificate gave.
   */
  constructor(
    socket: net.Socket,
    server: ZooKeeperServer,
    hooks: ConnectionHooks,
    log: Logger,
    certificateIds: readonly Id[] = [],
  ) {
    this.socket = socket;
    this.server = server;
    this.hooks = hooks;
    this.log = log;
    this.clientIp = (socket.remoteAddress ?? "").replace(/^::ffff:/, "");
    this.remote = `${this.clientIp}:${socket.remotePort}`;
    this.certificateIds = certificateIds;
    this.authIds = [{ scheme: "ip", id: this.clientIp }, ...certificateIds];
    this.stats = newConnectionStats(Date.now());
    this.decoder = new FrameDecoder(server.options.juteMaxBuffer);
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("drain", () => this.onDrain());
    socket.on("error", () => this.shut());
    socket.on("close", () => this.shut());
    // A connection that never completes a handshake holds a socket and counts against
    // maxClientCnxns: drop it, as ZooKeeper drops sessionless connections (after 10 s).
    this.handshakeTimer = setTimeout(() => {
      if (!this.handshaken && !this.closed) {
        this.log.warn({ client: this.remote }, "no handshake in time; closing the connection");
        this.close("no handshake");
      }
    }, server.options.sessionlessConnectionTimeoutMs);
    this.handshakeTimer.unref();
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    if (!this.sawFirstChunk) {
      this.sawFirstChunk = true;
      if (chunk.length >= 4 && this.tryFourLetterWord(chunk)) return;
    }
    try {
      this.decoder.push(chunk, (frame) => this.unread.push(frame));
    } catch (error) {
      if (!(error instanceof FrameError)) throw error;
      // The frames before the bad one were well formed: answer them, then close.
      this.processUnread();
      this.malformed(error.message);
      return;
    }
    this.processUnread();
  }

  /**
   * Handles the frames read so far, in order, until the replies waiting for this client pass
   * the high-water mark: then it stops (frames wait here, and the socket is no longer read)
   * until the client has taken its replies.
   */
  private processUnread(): void {
    while (this.next < this.unread.length && !this.paused && !this.throttled && !this.closed) {
      if (this.server.saturated && this.handshaken) {
        // ZooKeeper's throttle: stop reading clients until the writes in flight drain.
        this.throttled = true;
        this.socket.pause();
        this.server.whenUnsaturated(() => {
          this.throttled = false;
          if (this.closed) return;
          if (!this.paused) this.socket.resume();
          this.processUnread();
        });
        break;
      }
      const frame = this.unread[this.next++] as Buffer;
      this.onFrame(frame);
      if (this.writer.length + this.socket.writableLength > OUTPUT_HIGH_WATER_BYTES) {
        this.flush();
        if (!this.closed) {
          this.paused = true;
          this.socket.pause();
        }
      }
    }
    if (this.next === this.unread.length) {
      this.unread.length = 0;
      this.next = 0;
    }
  }

  private tryFourLetterWord(chunk: Buffer): boolean {
    const reply = this.hooks.fourLetterWord(
      chunk.toString("latin1", 0, 4),
      this,
      chunk.subarray(4),
    );
    if (reply === undefined) return false;
    this.closed = true;
    this.socket.end(reply);
    this.hooks.closed(this);
    return true;
  }

  private onFrame(frame: Buffer): void {
    if (this.closed) return;
    const reader = new Reader(frame);
    try {
      if (this.handshaken) {
        this.server.process(this, reader);
        return;
      }
      this.handshaken = true;
      this.server.connect(this, readConnectRequest(frame, reader));
    } catch (error) {
      if (error instanceof JuteDecodeError || error instanceof MultiFormatError) {
        this.malformed(error.message);
        return;
      }
      // A bug of ours must cost this connection, never the server and its other clients.
      this.log.error(
        { client: this.remote, error: String((error as Error)?.stack ?? error) },
        "internal error; closing the connection",
      );
      this.close("internal error");
    }
  }

  /** A packet that cannot be read: one log line, and this connection (only) is closed. */
  private malformed(reason: string): void {
    this.log.warn(
      { client: this.remote, session: this.sessionId.toString(16), reason },
      "malformed packet; closing the connection",
    );
    this.close("malformed packet");
  }

  /**
   * A watch fired for this connection: a notification frame, now or, in a watch storm, when
   * the pacer says (notification-pacer.ts); until then it holds back what this connection sends.
   */
  process(type: EventTypeName, path: string, acl?: readonly ACL[]): void {
    const anySaslUser = this.server.options.sasl.letAnySaslUserDoX;
    if (acl !== undefined && !mayRead(acl, this.authIds, anySaslUser)) return;
    const event = { type: EventType[type], state: KeeperState.SyncConnected, path };
    if (this.held === undefined && notificationPacer.admit()) {
      this.sendEvent(event);
      return;
    }
    if (this.held === undefined) {
      this.held = [];
      notificationPacer.defer(this);
    }
    this.held.push(event);
  }

  /** Sends the notifications held back, in order; how many there were. */
  release(): number {
    const held = this.held;
    if (held === undefined) return 0;
    this.held = undefined;
    for (const event of held) this.sendEvent(event);
    return held.length;
  }

  private sendEvent(event: WatcherEvent): void {
    this.send((w) => {
      w.writeInt(Xid.notification).writeLong(-1n).writeInt(0);
      WatcherEvent.write(w, event);
    });
  }

  send(encode: (w: Writer) => void): void {
    if (this.held !== undefined) this.release(); // a reply never overtakes a watch event
    if (this.closed) return;
    const start = this.writer.length;
    const at = this.writer.reserveInt();
    encode(this.writer);
    const size = this.writer.length - start - 4;
    this.writer.patchInt(at, size);
    // The first frame is the handshake's answer, which ZooKeeper leaves out of these figures.
    if (this.framesSent++ > 0) this.server.stats.recordResponseSize(size);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(() => this.flush());
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.closed || this.writer.length === 0) return;
    const chunks = this.writer.takeChunks();
    if (chunks.length === 1) {
      this.socket.write(chunks[0] as Buffer);
    } else {
      // One writev for the pieces, shared znode data among them.
      this.socket.cork();
      for (const chunk of chunks) this.socket.write(chunk);
      this.socket.uncork();
    }
    const backlog = this.socket.writableLength;
    if (backlog > OUTPUT_HARD_LIMIT_BYTES) {
      this.log.warn(
        { client: this.remote, backlogBytes: backlog },
        "client does not read its replies; closing the connection",
      );
      this.socket.destroy();
      this.shut();
    } else if (backlog > OUTPUT_HIGH_WATER_BYTES && !this.paused) {
      this.paused = true;
      this.socket.pause();
    }
  }

  private onDrain(): void {
    if (this.paused && !this.closed) {
      this.paused = false;
      if (!this.throttled) this.socket.resume();
      this.processUnread();
    }
  }

  close(_reason: string): void {
    clearTimeout(this.handshakeTimer);
    if (this.closed) return;
    this.release();
    if (this.flushScheduled) this.flush();
    this.closed = true;
    this.socket.end();
    this.hooks.closed(this);
  }

  private shut(): void {
    clearTimeout(this.handshakeTimer);
    if (!this.closed) {
      this.closed = true;
      this.hooks.closed(this);
    }
  }

  /** True while reading is paused because the client is not taking its replies. */
  get readingPaused(): boolean {
    return this.paused;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Bytes written to the socket but not yet taken by the client. */
  get backlogBytes(): number {
    return this.socket.writableLength;
  }
}

function mayRead(acl: readonly ACL[], ids: readonly Id[], anySaslUser?: string): boolean {
  try {
    checkACL(acl, Perms.READ, ids, anySaslUser);
    return true;
  } catch {
    return false;
  }
}

/** ConnectRequest, with or without the trailing readOnly flag old clients leave out. */
function readConnectRequest(frame: Buffer, reader: Reader): ConnectRequest {
  if (frame.length === 4 + 8 + 4 + 8 + 4 + 16) {
    const protocolVersion = reader.readInt();
    const lastZxidSeen = reader.readLong();
    const timeOut = reader.readInt();
    const sessionId = reader.readLong();
    return {
      protocolVersion,
      lastZxidSeen,
      timeOut,
      sessionId,
      passwd: reader.readBuffer(),
      readOnly: false,
    };
  }
  return ConnectRequest.read(reader);
}
