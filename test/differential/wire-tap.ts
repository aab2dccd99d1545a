/**
 * A recording TCP proxy between one client session and the server under test: the order in
 * which the server sent watch notifications and replies on that connection, exactly as the
 * client received them.
 *
 * The client's API cannot show that order (a listener runs when its frame arrives, but a reply's
 * continuation runs a microtask later), nor a duplicate notification that no watch is left to
 * receive; the wire can. Each server→client frame after the ConnectResponse becomes an entry:
 * a notification (type, path, state, zxid), or a reply labelled with the opcode of the request
 * that had its xid, its error code and its header zxid. Pings are left out.
 *
 * A `perturb` hook may rewrite or drop server→client frames: the framework's own tests use it
 * to prove that a wrong server is caught.
 */
import net from "node:net";
import {
  DEFAULT_MAX_BUFFER_BYTES,
  EventType,
  FrameDecoder,
  KeeperState,
  OpCode,
  Reader,
  ReplyHeader,
  RequestHeader,
  WatcherEvent,
  Xid,
} from "../../src/internal.js";

export type WireEntry =
  | {
      readonly kind: "event";
      readonly type: number;
      readonly state: number;
      readonly path: string;
      readonly zxid: bigint;
    }
  | {
      readonly kind: "reply";
      readonly xid: number;
      /** The request's opcode, or undefined if no request had this xid. */
      readonly opcode: number | undefined;
      readonly err: number;
      readonly zxid: bigint;
    }
  /** A frame that does not even parse as a reply header (or notification). */
  | { readonly kind: "garbage"; readonly error: string };

/** Rewrites one server→client frame (after the ConnectResponse): a frame to send, or null. */
export type Perturb = (frame: Buffer) => Buffer | null;

const OPCODE_NAMES = new Map<number, string>(
  Object.entries(OpCode).map(([name, code]) => [code, name]),
);
const EVENT_NAMES = new Map<number, string>(
  Object.entries(EventType).map(([name, code]) => [code, name]),
);
const STATE_NAMES = new Map<number, string>(
  Object.entries(KeeperState).map(([name, code]) => [code, name]),
);

export const opcodeName = (code: number | undefined): string =>
  code === undefined ? "?" : (OPCODE_NAMES.get(code) ?? `op${code}`);
export const eventTypeName = (code: number): string => EVENT_NAMES.get(code) ?? `type${code}`;
export const keeperStateName = (code: number): string => STATE_NAMES.get(code) ?? `state${code}`;

export class WireTap {
  readonly port: number;
  readonly #server: net.Server;
  readonly #sockets = new Set<net.Socket>();
  #entries: WireEntry[] = [];
  #refusing = false;

  private constructor(server: net.Server, port: number) {
    this.#server = server;
    this.port = port;
  }

  /** Listens on a free loopback port and forwards every connection to `target`. */
  static async start(target: { host: string; port: number }, perturb?: Perturb): Promise<WireTap> {
    let tap: WireTap | undefined;
    const server = net.createServer((client) => {
      if (tap === undefined) client.destroy();
      else tap.#accept(client, target, perturb);
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ host: "127.0.0.1", port: 0 }, resolve);
    });
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("tap has no port");
    tap = new WireTap(server, address.port);
    return tap;
  }

  /** The entries recorded since the last take(), oldest first. */
  take(): WireEntry[] {
    const taken = this.#entries;
    this.#entries = [];
    return taken;
  }

  /** Cuts every connection and refuses new ones (closed at once) until heal(). */
  partition(): void {
    this.#refusing = true;
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets.clear();
  }

  heal(): void {
    this.#refusing = false;
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(
    client: net.Socket,
    target: { host: string; port: number },
    perturb: Perturb | undefined,
  ): void {
    if (this.#refusing) {
      client.destroy();
      return;
    }
    const server = net.connect(target.port, target.host);
    client.setNoDelay(true);
    server.setNoDelay(true);
    this.#sockets.add(client).add(server);
    const requests = new Map<number, number>();
    const up = new FrameDecoder(DEFAULT_MAX_BUFFER_BYTES);
    const down = new FrameDecoder(DEFAULT_MAX_BUFFER_BYTES);
    let upFrames = 0;
    let downFrames = 0;
    // Bytes from the client wait until the server socket is connected (net queues writes).
    client.on("data", (chunk: Buffer) => {
      up.push(chunk, (frame) => {
        // The first frame is the ConnectRequest; the rest start with a RequestHeader.
        if (upFrames++ > 0 && frame.length >= 8) {
          const header = RequestHeader.read(new Reader(frame));
          requests.set(header.xid, header.type);
        }
      });
      server.write(chunk);
    });
    server.on("data", (chunk: Buffer) => {
      const out: Buffer[] = [];
      down.push(chunk, (frame) => {
        const first = downFrames++ === 0;
        const sent = first || perturb === undefined ? Buffer.from(frame) : perturb(frame);
        if (sent === null) return;
        // What the client gets is what counts: record after the perturbation.
        if (!first) this.#record(sent, requests);
        const length = Buffer.alloc(4);
        length.writeInt32BE(sent.length);
        out.push(length, sent);
      });
      if (out.length > 0) client.write(Buffer.concat(out));
    });
    const close = () => {
      if (!this.#sockets.has(client)) return;
      this.#sockets.delete(client);
      this.#sockets.delete(server);
      client.destroy();
      server.destroy();
    };
    client.on("close", close).on("error", close);
    server.on("close", close).on("error", close);
  }

  #record(frame: Buffer, requests: Map<number, number>): void {
    try {
      this.#parse(frame, requests);
    } catch (error) {
      this.#entries.push({ kind: "garbage", error: (error as Error).message });
    }
  }

  #parse(frame: Buffer, requests: Map<number, number>): void {
    const reader = new Reader(frame);
    const header = ReplyHeader.read(reader);
    if (header.xid === Xid.ping) return;
    if (header.xid === Xid.notification) {
      const event = WatcherEvent.read(reader);
      this.#entries.push({ kind: "event", ...event, zxid: header.zxid });
      return;
    }
    const opcode =
      header.xid === Xid.auth
        ? OpCode.auth
        : header.xid === Xid.setWatches
          ? OpCode.setWatches
          : requests.get(header.xid);
    requests.delete(header.xid);
    this.#entries.push({
      kind: "reply",
      xid: header.xid,
      opcode,
      err: header.err,
      zxid: header.zxid,
    });
  }
}
