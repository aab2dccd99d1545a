/**
 * The sockets between the servers of an ensemble, for a Zab peer (zab/peer.ts):
 *
 * - Election notifications go to each server's election port, on a connection this server
 *   opens when it first has something to say (and opens again after a failure). Losing some is
 *   harmless: the peer repeats its vote.
 * - Quorum messages travel on one TCP connection between a learner and its leader, opened by
 *   the learner to the leader's quorum port (as in ZooKeeper). That connection is Zab's FIFO
 *   link: when it breaks, both ends are told (`disconnected`), and a message for a peer with no
 *   link is dropped (a learner repeats FOLLOWERINFO until its leader answers).
 *
 * Every connection starts with a hello frame naming the server that opened it. The sockets come
 * from quorum-sockets.ts: plain, or TLS when the ensemble is configured for it.
 */
import type net from "node:net";
import type { Message } from "../../zab/messages.js";
import type { QuorumServer } from "../ensemble-config.js";
import type { Logger } from "../logger.js";
import { decodeBody, encodeFrame, FrameSplitter, type Hello } from "./codec.js";
import { type QuorumSockets, quorumSockets } from "./quorum-sockets.js";

export interface TransportHandlers<P> {
  message(from: number, message: Message<P>): void;
  disconnected(peer: number): void;
}

/**
 * A leader's link with one learner, as ZooKeeper's LearnerHandler.getLearnerHandlerInfo shows
 * it (the AdminServer's `observers`). Counts are of quorum frames, the hello not included.
 */
export interface LearnerLinkInfo {
  /** The learner's address, "ip:port". */
  readonly remote: string;
  /** When the learner connected, in ms since the epoch. */
  readonly establishedAt: number;
  /** Frames waiting for the link's next socket write, and their bytes. */
  readonly queuedPackets: number;
  readonly queuedBytes: number;
  readonly packetsReceived: number;
  readonly packetsSent: number;
  /** Client requests the learner forwarded. */
  readonly requests: number;
  /** The last zxid sent to it (a txn, a commit or a sync's end); -1 before any. */
  readonly lastZxid: bigint;
}

interface LinkCounts {
  readonly establishedAt: number;
  packetsReceived: number;
  packetsSent: number;
  requests: number;
  lastZxid: bigint;
}

interface Link {
  readonly peer: number;
  readonly socket: net.Socket;
  /** Frames queued while the connection is being made. */
  pending: Buffer[] | undefined;
  /** Frames for the next write: one socket write per link per turn of the event loop. */
  out?: Buffer[] | undefined;
  /** Inbound quorum links only (a leader's learners). */
  counts?: LinkCounts;
}

export class QuorumTransport<P> {
  private readonly me: QuorumServer;
  private readonly servers: Map<number, QuorumServer>;
  private readonly handlers: TransportHandlers<P>;
  private readonly log: Logger;
  private readonly sockets: QuorumSockets;
  private readonly listeners: net.Server[] = [];
  private readonly election = new Map<number, Link>();
  /** Quorum links this server opened (to its leader). */
  private readonly outbound = new Map<number, Link>();
  /** Quorum links learners opened to this server (as their leader). */
  private readonly inbound = new Map<number, Link>();
  /** Every accepted TCP connection, TLS handshakes not yet done included: close ends them. */
  private readonly accepted = new Set<net.Socket>();
  private closed = false;

  constructor(
    me: QuorumServer,
    servers: readonly QuorumServer[],
    handlers: TransportHandlers<P>,
    log: Logger,
    sockets: QuorumSockets = quorumSockets(undefined, log),
  ) {
    this.me = me;
    this.servers = new Map(servers.map((s) => [s.id, s]));
    this.handlers = handlers;
    this.log = log;
    this.sockets = sockets;
  }

  async start(): Promise<void> {
    await Promise.all([
      this.listen(this.me.quorumPort, "quorum"),
      this.listen(this.me.electionPort, "election"),
    ]);
  }

  private async listen(port: number, channel: "quorum" | "election"): Promise<void> {
    const server = await this.sockets.listen(this.me.host, port, (socket) =>
      this.accept(socket, channel),
    );
    server.on("connection", (socket: net.Socket) => {
      this.accepted.add(socket);
      socket.once("close", () => this.accepted.delete(socket));
    });
    this.listeners.push(server);
  }

  /** A connection another server opened: its first frame says who it is. */
  private accept(socket: net.Socket, channel: "quorum" | "election"): void {
    socket.setNoDelay(true);
    let peer: number | undefined;
    this.read(socket, (frame) => {
      if (peer === undefined) {
        const id = (frame as Hello).id;
        if (typeof id !== "number" || !this.servers.has(id)) {
          this.log.warn({ channel }, "quorum connection from an unknown server; closing it");
          socket.destroy();
          return;
        }
        peer = id;
        if (channel === "quorum") {
          // A learner that connects again replaces its old link.
          this.inbound.get(id)?.socket.destroy();
          const counts = newCounts();
          this.inbound.set(id, { peer: id, socket, pending: undefined, counts });
        }
        return;
      }
      const counts = this.inbound.get(peer)?.counts;
      if (channel === "quorum" && counts !== undefined) {
        counts.packetsReceived++;
        if (isClientRequest(frame as Message<P>)) counts.requests++;
      }
      this.handlers.message(peer, frame as Message<P>);
    });
    socket.on("close", () => {
      if (channel === "quorum" && peer !== undefined && this.inbound.get(peer)?.socket === socket) {
        this.inbound.delete(peer);
        if (!this.closed) this.handlers.disconnected(peer);
      }
    });
  }

  private read(socket: net.Socket, onFrame: (frame: unknown) => void): void {
    const splitter = new FrameSplitter();
    socket.on("data", (chunk: Buffer) => {
      try {
        splitter.push(chunk, (body) => onFrame(decodeBody(body)));
      } catch (error) {
        this.log.warn({ reason: (error as Error).message }, "malformed quorum frame; closing");
        socket.destroy();
      }
    });
    socket.on("error", () => {});
  }

  /**
   * Sends a message: a notification on the election channel; a quorum message on the link
   * with `to` — the one we opened if `toLeader` (we are its learner), else the one it opened.
   */
  send(to: number, message: Message<P>, toLeader: boolean): void {
    if (this.closed || to === this.me.id) return;
    const frame = encodeFrame(message);
    if (message.type === "NOTIFICATION") {
      this.write(this.connect(this.election, to, "election"), frame);
    } else if (toLeader) {
      this.write(this.connect(this.outbound, to, "quorum"), frame);
    } else {
      const link = this.inbound.get(to);
      if (link === undefined) return;
      if (link.counts !== undefined) countSent(link.counts, message);
      this.write(link, frame);
    }
  }

  /** The leader's link with learner `peer`, or undefined when it has none. */
  learnerLink(peer: number): LearnerLinkInfo | undefined {
    const link = this.inbound.get(peer);
    if (link?.counts === undefined) return undefined;
    const queued = link.out ?? [];
    const { remoteAddress, remotePort } = link.socket;
    return {
      ...link.counts,
      remote: `${remoteAddress ?? ""}:${remotePort ?? 0}`,
      queuedPackets: queued.length,
      queuedBytes: queued.reduce((sum, frame) => sum + frame.length, 0),
    };
  }

  /** Zeroes a learner link's counts (ZooKeeper's resetObserverConnectionStats). */
  resetLearnerCounts(peer: number): void {
    const counts = this.inbound.get(peer)?.counts;
    if (counts === undefined) return;
    counts.packetsReceived = 0;
    counts.packetsSent = 0;
    counts.requests = 0;
    counts.lastZxid = -1n;
  }

  /**
   * Queues a frame on a link. The frames of one job (a Ready's messages, a batch of commits)
   * leave in one socket write at its end: a write per frame was 40% of a leader's CPU.
   */
  private write(link: Link | undefined, frame: Buffer): void {
    if (link === undefined) return;
    if (link.pending !== undefined) {
      link.pending.push(frame);
      return;
    }
    if (link.out !== undefined) {
      link.out.push(frame);
      return;
    }
    link.out = [frame];
    queueMicrotask(() => {
      const frames = link.out ?? [];
      link.out = undefined;
      if (link.socket.destroyed) return;
      link.socket.write(frames.length === 1 ? (frames[0] as Buffer) : Buffer.concat(frames));
    });
  }

  /** The link we opened to `peer` on a channel, opening it if there is none. */
  private connect(
    links: Map<number, Link>,
    peer: number,
    channel: "quorum" | "election",
  ): Link | undefined {
    const existing = links.get(peer);
    if (existing !== undefined) return existing;
    const server = this.servers.get(peer);
    if (server === undefined) return undefined;
    const port = channel === "quorum" ? server.quorumPort : server.electionPort;
    const link: Link = {
      peer,
      socket: this.sockets.connect(server.host, port, () => {
        const frames = link.pending ?? [];
        link.pending = undefined;
        link.socket.write(Buffer.concat(frames));
      }),
      pending: [encodeFrame({ id: this.me.id })],
    };
    const { socket } = link;
    socket.setNoDelay(true);
    links.set(peer, link);
    this.read(socket, (frame) => this.handlers.message(peer, frame as Message<P>));
    socket.on("close", () => {
      if (links.get(peer) !== link) return;
      links.delete(peer);
      if (channel === "quorum" && !this.closed) this.handlers.disconnected(peer);
    });
    return link;
  }

  /** Drops the quorum links with `peer` (a leader stepping down, a learner leaving its leader). */
  disconnect(peer: number): void {
    for (const links of [this.outbound, this.inbound]) {
      const link = links.get(peer);
      if (link !== undefined) {
        links.delete(peer);
        link.socket.destroy();
      }
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const links of [this.election, this.outbound, this.inbound]) {
      for (const link of links.values()) link.socket.destroy();
      links.clear();
    }
    for (const socket of this.accepted) socket.destroy();
    await Promise.all(
      this.listeners.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))),
    );
  }
}

/**
 * A learner's forwarded session or write. Its sessions' activity also travels as a REQUEST
 * here, but ZooKeeper's learners report that in their PINGs: it is not counted.
 */
function isClientRequest(message: Message<unknown>): boolean {
  if (message.type !== "REQUEST") return false;
  return (message.request as { kind?: unknown } | null)?.kind !== "touch";
}

function newCounts(): LinkCounts {
  return {
    establishedAt: Date.now(),
    packetsReceived: 0,
    packetsSent: 0,
    requests: 0,
    lastZxid: -1n,
  };
}

/** Counts a frame to a learner; like LearnerHandler, a zxid above 0 becomes its last zxid. */
function countSent(counts: LinkCounts, message: Message<unknown>): void {
  counts.packetsSent++;
  const zxid = sentZxid(message);
  if (zxid !== undefined && zxid > 0n) counts.lastZxid = zxid;
}

function sentZxid(message: Message<unknown>): bigint | undefined {
  switch (message.type) {
    case "PROPOSAL":
    case "INFORM":
      return message.entry.zxid;
    case "COMMIT":
      return message.zxid;
    case "SYNC":
      return message.entries.at(-1)?.zxid ?? message.snapshot?.zxid ?? message.truncateTo;
    default:
      return undefined;
  }
}
