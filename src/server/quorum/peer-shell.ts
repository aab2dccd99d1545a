/**
 * A Zab peer wired to the world: ticks from a timer, messages from the QuorumTransport, and
 * each Ready carried out in order — persisted (by the caller's PeerStorage), then links
 * dropped, messages sent, committed txns applied. Readies are processed one at a time: the
 * next waits until the previous one's persistence is done, so nothing is sent that depends on
 * state not yet durable.
 *
 * An established leader's broadcast Readies (ready.ts's isEager) are carried out at once when
 * nothing before them waits: proposals leave while the leader's own fsync runs, and only their
 * appends queue for the disk; once on disk, the peer is told (`persisted`), which is the
 * leader's own ack. So a write costs the longer of the two fsyncs, not their sum.
 */
import type { Message, PeerState, Snapshot } from "../../zab/messages.js";
import { type DurableState, type ZabConfig, ZabPeer } from "../../zab/peer.js";
import { isCommitOnly, isEager, type Ready } from "../../zab/ready.js";
import type { QuorumServer } from "../ensemble-config.js";
import type { Logger } from "../logger.js";
import type { QuorumSockets } from "./quorum-sockets.js";
import { type LearnerLinkInfo, QuorumTransport } from "./transport.js";

export interface PeerStorage<P> {
  /** Makes the Ready's epochs, truncation, snapshot and appends durable. */
  persist(ready: Ready<P>): Promise<void>;
  /** Applies committed txns, in order. */
  apply(entries: readonly { zxid: bigint; payload: P }[]): void;
  /** A SNAP (persisted already) replaces the state machine, before the commits that follow it. */
  install?(snapshot: Snapshot): void;
}

export interface PeerShellOptions<P> {
  readonly me: QuorumServer;
  readonly servers: readonly QuorumServer[];
  readonly config: Omit<ZabConfig, "id" | "voters" | "observers">;
  readonly durable: DurableState<P>;
  readonly storage: PeerStorage<P>;
  readonly tickMs: number;
  readonly log: Logger;
  /** Where links come from (plain TCP unless the ensemble is set up for TLS). */
  readonly sockets?: QuorumSockets;
  /** Told of every role change (and of a leader's establishment). */
  readonly onRole?: (state: PeerState, leader: number | undefined, epoch: bigint) => void;
  /** Called at once (not after persisting) when this peer establishes itself as leader. */
  readonly onEstablished?: (epoch: bigint) => void;
  /** Leader: a client request a learner forwarded. */
  readonly onRequest?: (from: number, request: unknown) => void;
  /** Every tick, after the peer's (a learner forwards its sessions' activity here). */
  readonly onTick?: () => void;
}

export class QuorumPeerShell<P> {
  readonly peer: ZabPeer<P>;
  private readonly transport: QuorumTransport<P>;
  private readonly options: PeerShellOptions<P>;
  private timer: NodeJS.Timeout | undefined;
  private backlog: { ready: Ready<P>; leader: number | undefined; delivered: boolean }[] = [];
  /** Readies in the backlog (or being persisted) whose messages and commits wait. */
  private waiting = 0;
  /** Those of them with commits to apply. */
  private waitingCommits = 0;
  private draining = false;
  private stopped = false;

  constructor(options: PeerShellOptions<P>) {
    this.options = options;
    const { me, servers } = options;
    this.peer = new ZabPeer<P>(
      {
        ...options.config,
        id: me.id,
        voters: servers.filter((s) => s.type === "participant").map((s) => s.id),
        observers: servers.filter((s) => s.type === "observer").map((s) => s.id),
      },
      options.durable,
    );
    this.transport = new QuorumTransport<P>(
      me,
      servers,
      {
        message: (from, message) => this.input(() => this.peer.step(from, message)),
        disconnected: (peer) => this.input(() => this.peer.disconnected(peer)),
      },
      options.log,
      options.sockets,
    );
  }

  async start(): Promise<void> {
    await this.transport.start();
    this.timer = setInterval(() => {
      this.input(() => this.peer.tick());
      this.options.onTick?.();
    }, this.options.tickMs);
    this.input(() => {});
  }

  /** Proposes on this peer if it is an established leader; the zxid, or undefined. */
  propose(payload: P): bigint | undefined {
    let zxid: bigint | undefined;
    this.input(() => {
      zxid = this.peer.propose(payload);
    });
    return zxid;
  }

  /** Learner, once synced: sends a client request to the leader; false if it cannot. */
  forward(request: unknown): boolean {
    let sent = false;
    this.input(() => {
      sent = this.peer.forward(request);
    });
    return sent;
  }

  /** A leader's link with learner `id` (its counts and address), or undefined. */
  learnerLink(id: number): LearnerLinkInfo | undefined {
    return this.transport.learnerLink(id);
  }

  /** Zeroes the counts of the leader's links with learners `ids`. */
  resetLearnerCounts(ids: readonly number[]): void {
    for (const id of ids) this.transport.resetLearnerCounts(id);
  }

  /** Feeds the peer, then queues its Ready behind the ones before it. */
  private input(step: () => void): void {
    if (this.stopped) return;
    step();
    const ready = this.peer.ready();
    // The server must number its txns from the new epoch before anything more is proposed.
    if (ready.established !== undefined) this.options.onEstablished?.(ready.established);
    // The link a quorum message takes depends on the role it was written in, not on the role
    // when it goes out (after the persistence before it).
    const learning = this.peer.state === "FOLLOWING" || this.peer.state === "OBSERVING";
    const leader = learning ? this.peer.leader : undefined;
    const leading = this.peer.state === "LEADING" && this.peer.serving;
    if (leading && this.waiting === 0 && isEager(ready)) {
      this.deliver(ready, undefined);
      if (ready.append.length === 0) return;
      this.backlog.push({ ready, leader, delivered: true });
    } else if (learning && this.peer.serving && this.waitingCommits === 0 && isCommitOnly(ready)) {
      // A follower's COMMIT need not wait for the fsync of the proposals after it.
      this.deliver(ready, leader);
      return;
    } else {
      this.waiting++;
      if (ready.commit.length > 0) this.waitingCommits++;
      this.backlog.push({ ready, leader, delivered: false });
    }
    if (!this.draining) void this.drain();
  }

  /**
   * Carries out the Readies in order. All the Readies that came while the previous ones were
   * being persisted go to storage together, so their txns share one fsync (group commit, as
   * ZooKeeper's SyncRequestProcessor batches); each batch's messages and commits go out once
   * the whole batch is durable.
   */
  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.backlog.length > 0 && !this.stopped) {
        const batch = this.backlog;
        this.backlog = [];
        await this.persistAll(batch.map(({ ready }) => ready));
        if (this.stopped) return;
        let appended: bigint | undefined;
        for (const { ready, leader, delivered } of batch) {
          appended = ready.append.at(-1)?.zxid ?? appended;
          if (delivered) continue;
          this.waiting--;
          if (ready.commit.length > 0) this.waitingCommits--;
          this.deliver(ready, leader);
        }
        // On disk now: a leader's own ack (its Ready joins the backlog, or goes out at once).
        if (appended !== undefined) {
          const zxid = appended;
          this.input(() => this.peer.persisted(zxid));
        }
      }
    } finally {
      this.draining = false;
    }
  }

  /**
   * persist() starts a Ready's appends at once, so Readies persisted together share one fsync;
   * but a TRUNC, a SNAP or a new epoch must find everything before it on disk first (an epoch
   * written ahead of the history it was synced with is ZOOKEEPER-4643).
   */
  private async persistAll(readies: readonly Ready<P>[]): Promise<void> {
    let started: Promise<void>[] = [];
    for (const ready of readies) {
      if (
        ready.snapshot !== undefined ||
        ready.truncateTo !== undefined ||
        ready.acceptedEpoch !== undefined ||
        ready.currentEpoch !== undefined
      ) {
        await Promise.all(started);
        started = [];
        await this.options.storage.persist(ready);
      } else {
        started.push(this.options.storage.persist(ready));
      }
    }
    await Promise.all(started);
  }

  private deliver(ready: Ready<P>, leader: number | undefined): void {
    for (const peer of ready.disconnect) this.transport.disconnect(peer);
    for (const { to, message } of ready.messages) {
      this.transport.send(to, message as Message<P>, to === leader);
    }
    if (ready.snapshot !== undefined) this.options.storage.install?.(ready.snapshot);
    if (ready.commit.length > 0) this.options.storage.apply(ready.commit);
    for (const { from, request } of ready.requests ?? []) this.options.onRequest?.(from, request);
    if (ready.role) {
      const { state, leader: leading, epoch } = ready.role;
      this.options.log.info({ state, leader: leading, epoch: Number(epoch) }, "quorum role");
      this.options.onRole?.(state, leading, epoch);
    }
    if (ready.established !== undefined) {
      this.options.log.info({ epoch: Number(ready.established) }, "leader established");
      this.options.onRole?.("LEADING", this.options.me.id, ready.established);
    }
  }

  /** Stops ticking and closes every connection (what is queued is dropped). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.transport.close();
  }
}
