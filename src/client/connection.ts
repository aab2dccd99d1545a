/**
 * One TCP connection to one server: the socket shell under a Session. It frames what the session
 * encodes, batches every frame written in one tick into a single socket write (most of a Node
 * peer's cost is per write, not per request), decodes every complete frame of each chunk, and
 * reports the first failure once. It knows nothing of xids, sessions or watches.
 */
import net from "node:net";
import tls from "node:tls";
import { ConnectRequest, ConnectResponse, Reader, Writer } from "../jute/index.js";
import { FrameDecoder } from "../protocol/frames.js";
import { type Deferred, deferred } from "../util/deferred.js";

export interface ConnectionHandlers {
  /** One complete frame; the buffer may be a view into a socket chunk, valid only during the call. */
  onFrame(frame: Buffer): void;
  /** Called once, when the connection ends for any reason after the handshake. */
  onClose(error: Error): void;
}

export class ConnectionError extends Error {
  override readonly name = "ConnectionError";
}

export class Connection {
  private readonly socket: net.Socket;
  private readonly decoder: FrameDecoder;
  private readonly writer = new Writer(64 * 1024);
  private flushScheduled = false;
  private handlers: ConnectionHandlers | null = null;
  private handshakeReply: Deferred<Buffer> | null = null;
  /** Frames that came after the handshake's reply but before attach() (same chunk, say). */
  private early: Buffer[] = [];
  private closedWith: Error | null = null;
  /** Times (ms, monotonic) of the last byte sent and received: the session's ping and read timers. */
  lastSendAt = 0;
  lastReceiveAt = 0;
  readonly remote: string;

  private constructor(socket: net.Socket, maxFrameBytes: number, remote: string) {
    this.socket = socket;
    this.decoder = new FrameDecoder(maxFrameBytes);
    this.remote = remote;
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("error", (error) => this.fail(new ConnectionError(`${remote}: ${error.message}`)));
    socket.on("close", () => this.fail(new ConnectionError(`${remote}: connection closed`)));
  }

  /**
   * Opens a TCP connection, or a TLS one with `secure` (resolved once its handshake is done);
   * rejects with ConnectionError on failure (a certificate that does not verify included) or
   * after `timeoutMs`.
   */
  static open(
    host: string,
    port: number,
    timeoutMs: number,
    maxFrameBytes: number,
    secure?: tls.ConnectionOptions,
  ): Promise<Connection> {
    const remote = host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
    return new Promise((resolve, reject) => {
      const socket =
        secure === undefined ? net.connect({ host, port }) : tls.connect({ ...secure, host, port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new ConnectionError(`${remote}: connect timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once("error", (error) => {
        clearTimeout(timer);
        socket.destroy();
        reject(new ConnectionError(`${remote}: ${error.message}`));
      });
      socket.once(secure === undefined ? "connect" : "secureConnect", () => {
        clearTimeout(timer);
        socket.removeAllListeners("error");
        resolve(new Connection(socket, maxFrameBytes, remote));
      });
    });
  }

  /** Sends the ConnectRequest and waits for the server's ConnectResponse. */
  async handshake(request: ConnectRequest, timeoutMs: number): Promise<ConnectResponse> {
    this.handshakeReply = deferred<Buffer>();
    this.send((w) => ConnectRequest.write(w, request));
    const timer = setTimeout(
      () =>
        this.fail(new ConnectionError(`${this.remote}: no connect response in ${timeoutMs} ms`)),
      timeoutMs,
    );
    try {
      const frame = await this.handshakeReply.promise;
      // A 3.3-era server leaves out the trailing readOnly flag; tolerate that.
      const reader = new Reader(frame);
      if (frame.length === 4 + 4 + 8 + 4 + 16) {
        const { protocolVersion, timeOut, sessionId } = {
          protocolVersion: reader.readInt(),
          timeOut: reader.readInt(),
          sessionId: reader.readLong(),
        };
        return {
          protocolVersion,
          timeOut,
          sessionId,
          passwd: reader.readBuffer(),
          readOnly: false,
        };
      }
      return ConnectResponse.read(reader);
    } finally {
      clearTimeout(timer);
      this.handshakeReply = null;
    }
  }

  /** Starts delivering frames after a successful handshake. */
  attach(handlers: ConnectionHandlers): void {
    this.handlers = handlers;
    for (const frame of this.early.splice(0)) handlers.onFrame(frame);
    if (this.closedWith) handlers.onClose(this.closedWith);
  }

  /** Encodes one frame into the outgoing batch; it is written at the end of this tick. */
  send(encode: (w: Writer) => void): void {
    if (this.closedWith) return;
    const at = this.writer.reserveInt();
    encode(this.writer);
    this.writer.patchInt(at, this.writer.length - at - 4);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(() => this.flush());
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.closedWith || this.writer.length === 0) return;
    const bytes = this.writer.take();
    this.writer.reset();
    this.lastSendAt = performance.now();
    this.socket.write(bytes);
  }

  private onData(chunk: Buffer): void {
    this.lastReceiveAt = performance.now();
    try {
      this.decoder.push(chunk, (frame) => {
        if (this.handshakeReply) {
          this.handshakeReply.resolve(Buffer.from(frame));
          // The rest is the session's, even if it comes in this same chunk.
          this.handshakeReply = null;
        } else if (this.handlers) this.handlers.onFrame(frame);
        else this.early.push(Buffer.from(frame));
      });
    } catch (error) {
      this.fail(
        new ConnectionError(`${this.remote}: ${(error as Error).message}`, { cause: error }),
      );
    }
  }

  /** Drops the connection now; the handlers' onClose sees `error`. */
  destroy(error: Error): void {
    this.fail(error);
  }

  private fail(error: Error): void {
    if (this.closedWith) return;
    this.closedWith = error;
    this.socket.destroy();
    this.handshakeReply?.reject(error);
    this.handlers?.onClose(error);
  }

  /** Writes what is batched, then closes. Idempotent. */
  close(): void {
    if (this.closedWith) return;
    if (this.flushScheduled) this.flush();
    this.closedWith = new ConnectionError(`${this.remote}: closed by the client`);
    this.socket.end();
    this.socket.destroySoon();
  }

  get closed(): boolean {
    return this.closedWith !== null;
  }
}
