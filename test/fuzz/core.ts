/**
 * The in-process fuzz target: the server's real connection shell (framing, four-letter words,
 * back-pressure) and core (sessions, prep, data tree, watches) behind fake sockets, so that tens
 * of thousands of hostile connections a second reach every decoder and every request path with
 * no TCP in the way. Each run is a fresh server and a few connections whose chunks interleave
 * (so sessions move, watches fire across connections), which makes a failing run replay alone.
 *
 * What counts as a finding: an exception out of a socket event handler (in the real server, an
 * uncaught exception: the process dies), an "internal error" log line (a bug the connection's
 * catch-all turned into a closed connection), a connection whose whole frames went unanswered
 * though it was not closed, and state left behind by a closed connection (the server's per-
 * connection maps must be empty once every connection is gone: memory that would grow without
 * bound over a long life).
 */
import { EventEmitter } from "node:events";
import { ConnectResponse, Reader } from "../../src/jute/index.js";
import { FrameDecoder } from "../../src/protocol/frames.js";
import { resolveOptions } from "../../src/server/config.js";
import { fourLetterWord } from "../../src/server/four-letter-words/index.js";
import { createLogger } from "../../src/server/logger.js";
import {
  OUTPUT_HARD_LIMIT_BYTES,
  OUTPUT_HIGH_WATER_BYTES,
  ServerConnection,
} from "../../src/server/net/server-connection.js";
import { ZooKeeperServer } from "../../src/server/zookeeper-server.js";
import {
  chunked,
  type KnownSession,
  MAX_FRAME_BYTES,
  openingBytes,
  type Script,
  SENTINEL_XID,
  sentinelFrame,
} from "./inputs.js";

export class Finding extends Error {
  override readonly name = "Finding";
}

/** A socket as ServerConnection uses one; what the server writes is kept. */
class FakeSocket extends EventEmitter {
  readonly remoteAddress = "127.0.0.1";
  readonly remotePort: number;
  readonly out: Buffer[] = [];
  writableLength = 0;
  maxBacklog = 0;
  paused = false;
  gone = false;
  private readonly reads: boolean;

  constructor(port: number, reads: boolean) {
    super();
    this.remotePort = port;
    this.reads = reads;
  }

  setNoDelay(): void {}
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
  }
  write(bytes: Buffer): boolean {
    this.out.push(Buffer.from(bytes));
    if (!this.reads) {
      this.writableLength += bytes.length;
      this.maxBacklog = Math.max(this.maxBacklog, this.writableLength);
    }
    return true;
  }
  end(reply?: string): void {
    if (reply !== undefined) this.out.push(Buffer.from(reply, "latin1"));
    this.gone = true;
  }
  destroy(): void {
    this.gone = true;
  }
  /** The client takes everything written so far. */
  drain(): void {
    this.writableLength = 0;
    this.emit("drain");
  }
}

interface Connection {
  readonly script: Script;
  readonly socket: FakeSocket;
  readonly chunks: Buffer[];
  /** The stream is whole frames within the limit: the sentinel went after it. */
  readonly intact: boolean;
  readonly handshake: boolean;
  next: number;
  learned: boolean;
}

export interface CoreFigures {
  runs: number;
  connections: number;
  pieces: number;
  bytes: number;
  answered: number;
  closed: number;
}

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** True when `stream` is a whole number of frames, each within the limit. */
export function isWholeFrames(stream: Buffer): boolean {
  let offset = 0;
  while (offset + 4 <= stream.length) {
    const length = stream.readInt32BE(offset);
    if (length < 0 || length > MAX_FRAME_BYTES) return false;
    offset += 4 + length;
  }
  return offset === stream.length;
}

export class CoreTarget {
  readonly figures: CoreFigures = {
    runs: 0,
    connections: 0,
    pieces: 0,
    bytes: 0,
    answered: 0,
    closed: 0,
  };
  private readonly known: KnownSession[] = [];
  private internalErrors: string[] = [];
  private nextPort = 1;

  /** One run: a fresh server, `scripts` as concurrent connections; throws a Finding. */
  async run(scripts: readonly Script[]): Promise<void> {
    this.figures.runs++;
    this.internalErrors = [];
    this.known.length = 0;
    let now = 1_000_000;
    const log = createLogger("error", (line) => this.internalErrors.push(line));
    const options = resolveOptions({
      tickTime: 200,
      fourLetterWordsWhitelist: "*",
      sessionlessConnectionTimeoutMs: 60_000,
    });
    const server = new ZooKeeperServer(options, log, () => now);
    // A durable server's txns become durable later, in a callback of the txn log's fsync: so
    // here, between rounds. (An in-memory sink is synchronous and would hide that path.)
    const durable: (() => void)[] = [];
    server.sink = { append: (_header, _txn, done) => void durable.push(done) };
    const sync = () => {
      for (const done of durable.splice(0)) this.guard(done, "txn log fsync callback");
    };
    const live = new Set<ServerConnection>();
    const view = { server, version: "fuzz", clientPort: 0, connections: live, initialConfig: "" };
    const hooks = {
      fourLetterWord: (word: string, self: ServerConnection, rest: Buffer) =>
        fourLetterWord(word, { ...view, self, rest }),
      closed: (connection: ServerConnection) => {
        live.delete(connection);
        server.disconnected(connection);
      },
    };
    // Connections start two rounds apart, so that a later one can resume an earlier one's
    // session; then round-robin, one chunk each, as a busy server sees them.
    const connections: Connection[] = [];
    for (let round = 0; ; round++) {
      const start = scripts[round / 2];
      if (round % 2 === 0 && start !== undefined) {
        const c = this.open(start);
        connections.push(c);
        live.add(new ServerConnection(c.socket as never, server, hooks, log));
      }
      const busy = connections.filter((c) => c.next < c.chunks.length && !c.socket.gone);
      if (busy.length === 0 && connections.length === scripts.length) break;
      for (const c of busy) {
        await this.step(c);
        sync();
        await settle();
        this.learnSession(c);
      }
      now += 50;
      this.guard(() => server.expireSessions(), "expireSessions");
      if (round > 10_000) throw new Finding("a run did not finish in 10,000 rounds");
    }
    for (let i = 0; i < 100 && durable.length > 0; i++) {
      sync();
      await settle();
    }
    for (const c of connections) this.finish(c);
    for (const c of connections) {
      if (!c.socket.gone) this.guard(() => c.socket.emit("close", false), "close");
    }
    await settle();
    this.checkEmpty(server, live);
    if (this.internalErrors.length > 0) {
      throw new Finding(`internal error: ${this.internalErrors.join("\n")}`);
    }
  }

  private open(script: Script): Connection {
    const socket = new FakeSocket(this.nextPort++, script.reads);
    const stream = Buffer.concat([
      openingBytes(script.opening, this.known),
      ...script.pieces.map((p) => p.bytes),
    ]);
    // The first frame is taken for a handshake, whatever it is; without one, nothing is answered.
    const handshake = script.opening.kind !== "fourLetterWord" && stream.length > 0;
    const intact = handshake && isWholeFrames(stream);
    const chunks = chunked(stream, script.cuts);
    if (intact) chunks.push(sentinelFrame());
    this.figures.connections++;
    this.figures.pieces += script.pieces.length + 1;
    this.figures.bytes += stream.length;
    return { script, socket, chunks, intact, handshake, next: 0, learned: false };
  }

  /** Hands the connection its next chunk, as a socket would: not while reading is paused. */
  private async step(c: Connection): Promise<void> {
    const { socket } = c;
    if (socket.gone || c.next >= c.chunks.length) return;
    if (socket.paused) {
      // A lagging client catches up once the server stops reading it; the throttle (writes
      // in flight) lifts once the txn log catches up (the run's loop bounds the wait).
      if (socket.writableLength > 0) this.guard(() => socket.drain(), "drain");
      return;
    }
    const chunk = c.chunks[c.next++] as Buffer;
    this.guard(() => socket.emit("data", chunk), "data");
    await settle();
  }

  private finish(c: Connection): void {
    const { socket } = c;
    if (socket.maxBacklog > OUTPUT_HARD_LIMIT_BYTES + OUTPUT_HIGH_WATER_BYTES) {
      throw new Finding(`a lagging client's backlog reached ${socket.maxBacklog} bytes`);
    }
    const frames = readFrames(Buffer.concat(socket.out));
    const answered = frames.some((f) => f.length >= 4 && f.readInt32BE(0) === SENTINEL_XID);
    if (answered) this.figures.answered++;
    if (socket.gone) this.figures.closed++;
    if (c.intact && !answered && !socket.gone) {
      throw new Finding("whole frames, a connection left open, and no answer to the last one");
    }
  }

  /** The session the server gave `c`, once its ConnectResponse is out, for others to resume. */
  private learnSession(c: Connection): void {
    if (c.learned || !c.handshake || c.socket.out.length === 0) return;
    c.learned = true;
    const first = readFrames(Buffer.concat(c.socket.out))[0];
    if (first === undefined || first.length < 36) return;
    try {
      const response = ConnectResponse.read(new Reader(first));
      if (response.sessionId !== 0n) this.remember(response);
    } catch {
      // Not a ConnectResponse: the server answered something else first.
    }
  }

  private remember(response: ConnectResponse): void {
    this.known.push({ sessionId: response.sessionId, passwd: Buffer.from(response.passwd) });
    if (this.known.length > 64) this.known.shift();
  }

  private checkEmpty(server: ZooKeeperServer, live: Set<ServerConnection>): void {
    const internals = server as unknown as {
      queues: Map<unknown, unknown>;
      early: Map<unknown, unknown>;
    };
    const left = [
      ["open connections", live.size],
      ["sessions with a connection", server.connections.size],
      ["reply queues", internals.queues.size],
      ["early frame queues", internals.early.size],
      ["data watches", server.tree.dataWatches.size],
      ["child watches", server.tree.childWatches.size],
    ].filter(([, n]) => n !== 0);
    if (left.length > 0) {
      throw new Finding(
        `state left once every connection closed: ${left.map(([w, n]) => `${w} ${n}`).join(", ")}`,
      );
    }
  }

  /** Runs a socket event handler; what escapes it would kill the real server. */
  private guard(handler: () => void, event: string): void {
    try {
      handler();
    } catch (error) {
      throw new Finding(
        `uncaught in the server's "${event}" handler: ${(error as Error)?.stack ?? error}`,
      );
    }
  }
}

/** The server's output as frames; stops at anything that is not one (a four-letter word's text). */
function readFrames(output: Buffer): Buffer[] {
  const frames: Buffer[] = [];
  const decoder = new FrameDecoder(256 * 1024 * 1024);
  try {
    decoder.push(output, (f) => frames.push(Buffer.from(f)));
  } catch {
    // Text, not frames.
  }
  return frames;
}
