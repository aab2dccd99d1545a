/**
 * The leader's side of Zab (ZooKeeper's Leader and LearnerHandler):
 *
 * 1. Discovery: learners send FOLLOWERINFO; once a quorum (the leader included) has, the new
 *    epoch is one past the highest acceptedEpoch among them, and each gets LEADERINFO. A learner
 *    that answers ACKEPOCH with a better history than ours means we should not lead: step down.
 * 2. Synchronization, after a quorum acked the epoch: each learner gets the history it lacks
 *    from the last zxid both hold (TRUNC first if it holds txns we do not), then NEWLEADER. Once
 *    a quorum acks NEWLEADER the leader is established: its whole history is committed, and
 *    those learners get UPTODATE. Later learners are synced the same way and join.
 * 3. Broadcast: a proposal goes to every synced (or syncing) follower; once a quorum has acked
 *    it (and everything before it), it is committed: COMMIT to followers, INFORM to observers.
 *    The leader's own ack is its log on disk (`persisted`), not its proposal: so the shell may
 *    send proposals to followers while the leader's own fsync runs (ZooKeeper does the same,
 *    and so does etcd's raft), and a txn acknowledged to a client is durable on a quorum.
 *
 * A leader that hears from less than a quorum for syncLimit ticks (or is not established after
 * initLimit) steps down.
 */
import type { PeerCore } from "./core.js";
import { commonPointFrom, type HistorySummary } from "./log.js";
import type { QuorumMessage } from "./messages.js";
import { makeZxid } from "./zxid.js";

interface LearnerHandle {
  readonly id: number;
  readonly observer: boolean;
  acceptedEpoch: bigint;
  summary: HistorySummary;
  base: bigint;
  stage: "info" | "epoch-acked" | "syncing" | "synced";
  /** Highest zxid it has acked (after its NEWLEADER ack). */
  acked: bigint;
  /** Observers: the last zxid they hold (synced or informed). */
  informed: bigint;
  lastHeard: number;
}

export class LeaderRole<P> {
  private readonly core: PeerCore<P>;
  readonly startedAt: number;
  /** The epoch this leader proposes; set once a quorum sent FOLLOWERINFO. */
  epoch: bigint | undefined;
  private epochAcked = false;
  established = false;
  private counter = 0n;
  /** The last zxid of our history known to be on our disk: our own ack. */
  private durable = 0n;
  private readonly learners = new Map<number, LearnerHandle>();
  private readonly newLeaderAcks = new Set<number>();

  constructor(core: PeerCore<P>) {
    this.core = core;
    this.startedAt = core.now;
  }

  /** Handles a learner's quorum message; false if the leader must step down. */
  receive(from: number, message: QuorumMessage<P>): boolean {
    const learner = this.learners.get(from);
    if (learner) learner.lastHeard = this.core.now;
    switch (message.type) {
      case "FOLLOWERINFO":
        if (this.epoch !== undefined && !message.observer && message.acceptedEpoch > this.epoch) {
          // A voter promised a later epoch (to a leader that failed): it can never join ours.
          // ZooKeeper leaves it out until the next election; we hold that election now, so the
          // ensemble gets its full strength back.
          return false;
        }
        this.followerInfo(from, message);
        return true;
      case "ACKEPOCH":
        return learner ? this.ackEpoch(learner, message) : true;
      case "ACK":
        if (learner) this.ack(learner, message.zxid);
        return true;
      case "REQUEST":
        if (learner?.stage === "synced") {
          this.core.ready.requests ??= [];
          this.core.ready.requests.push({ from, request: message.request });
        }
        return true;
      default:
        return true;
    }
  }

  private followerInfo(
    id: number,
    info: Extract<QuorumMessage<P>, { type: "FOLLOWERINFO" }>,
  ): void {
    const { acceptedEpoch, summary, base, observer } = info;
    const known = this.learners.get(id);
    // A repeat (the learner sends it until LEADERINFO arrives); a new link starts afresh.
    if (known !== undefined && known.stage !== "info") return;
    const learner: LearnerHandle = {
      id,
      observer,
      acceptedEpoch,
      summary,
      base,
      stage: "info",
      acked: 0n,
      informed: 0n,
      lastHeard: this.core.now,
    };
    this.learners.set(id, learner);
    this.newLeaderAcks.delete(id);
    if (this.epoch !== undefined) {
      this.core.send(id, { type: "LEADERINFO", epoch: this.epoch });
      return;
    }
    const voting = [...this.learners.values()].filter((l) => !l.observer);
    if (!this.core.isQuorum([this.core.id, ...voting.map((l) => l.id)])) return;
    let highest = this.core.acceptedEpoch;
    for (const l of voting) if (l.acceptedEpoch > highest) highest = l.acceptedEpoch;
    this.epoch = highest + 1n;
    this.core.setAcceptedEpoch(this.epoch);
    for (const l of this.learners.values()) {
      this.core.send(l.id, { type: "LEADERINFO", epoch: this.epoch });
    }
  }

  private ackEpoch(
    learner: LearnerHandle,
    message: Extract<QuorumMessage<P>, { type: "ACKEPOCH" }>,
  ): boolean {
    const { core } = this;
    if (learner.stage !== "info") return true;
    const ours = [core.currentEpoch, core.history.lastZxid] as const;
    if (
      message.currentEpoch > ours[0] ||
      (message.currentEpoch === ours[0] && message.lastZxid > ours[1])
    ) {
      // Election picked us, yet this learner holds a later history: leading would lose it.
      return false;
    }
    learner.summary = message.summary;
    learner.base = message.base;
    learner.stage = "epoch-acked";
    if (!this.epochAcked) {
      const acked = [...this.learners.values()].filter((l) => !l.observer && l.stage !== "info");
      if (!core.isQuorum([core.id, ...acked.map((l) => l.id)])) return true;
      this.epochAcked = true;
      core.setCurrentEpoch(this.epoch as bigint);
      for (const l of this.learners.values()) if (l.stage === "epoch-acked") this.sync(l);
      return true;
    }
    this.sync(learner);
    return true;
  }

  /**
   * DIFF from the last zxid we share (TRUNC first if it holds txns we lack), or SNAP if it is
   * behind what we keep in memory; then NEWLEADER.
   */
  private sync(learner: LearnerHandle): void {
    const { core } = this;
    const common = commonPointFrom(
      { summary: core.history.summary(), base: core.history.base },
      { summary: learner.summary, base: learner.base },
    );
    // Observers get only what is committed; the rest reaches them as INFORM.
    const upTo = learner.observer ? core.committed : core.history.lastZxid;
    if (common === undefined) {
      const snapshot = this.snapshot();
      const entries = core.history.after(snapshot.zxid).filter((e) => e.zxid <= upTo);
      core.send(learner.id, { type: "SYNC", mode: "SNAP", truncateTo: 0n, snapshot, entries });
      learner.informed = entries.at(-1)?.zxid ?? snapshot.zxid;
    } else {
      const entries = core.history.after(common).filter((e) => e.zxid <= upTo);
      const learnerLast = learner.summary.at(-1)?.[1] ?? learner.base;
      const mode = common === learnerLast ? "DIFF" : "TRUNC";
      core.send(learner.id, { type: "SYNC", mode, truncateTo: common, entries });
      learner.informed = entries.at(-1)?.zxid ?? common;
    }
    core.send(learner.id, { type: "NEWLEADER", epoch: this.epoch as bigint });
    learner.stage = "syncing";
  }

  /** The state machine, which must reach at least as far as the history we keep. */
  private snapshot() {
    const { core } = this;
    const provide = core.config.snapshot;
    if (provide === undefined) throw new Error("a learner needs a snapshot, and none is provided");
    const snapshot = provide();
    if (snapshot.zxid < core.history.base || snapshot.zxid > core.committed) {
      throw new Error(
        `snapshot at 0x${snapshot.zxid.toString(16)} is outside the committed history ` +
          `kept (0x${core.history.base.toString(16)}..0x${core.committed.toString(16)})`,
      );
    }
    return snapshot;
  }

  private ack(learner: LearnerHandle, zxid: bigint): void {
    const { core } = this;
    if (learner.stage === "syncing" && zxid === makeZxid(this.epoch as bigint, 0n)) {
      learner.stage = "synced";
      learner.acked = learner.observer ? 0n : learner.informed;
      if (!this.established) {
        if (!learner.observer) this.newLeaderAcks.add(learner.id);
        if (core.isQuorum([core.id, ...this.newLeaderAcks])) this.establish();
      } else {
        this.upToDate(learner);
      }
      return;
    }
    if (learner.stage !== "synced" || learner.observer) return;
    if (zxid > learner.acked) learner.acked = zxid;
    this.advanceCommit();
  }

  private upToDate(learner: LearnerHandle): void {
    if (learner.observer) this.inform(learner);
    this.core.send(learner.id, { type: "UPTODATE", committed: this.core.committed });
  }

  /** A quorum has our history: all of it is committed, and the synced learners may serve. */
  private establish(): void {
    const { core } = this;
    this.established = true;
    // NEWLEADER went out only once everything before it was persisted (the Ready rule), and
    // nothing was proposed since: our whole history is on disk.
    this.durable = core.history.lastZxid;
    core.commitUpTo(core.history.lastZxid);
    core.ready.established = this.epoch as bigint;
    for (const learner of this.learners.values()) {
      if (learner.stage === "synced") this.upToDate(learner);
    }
  }

  /** Proposes a txn: the shell gets its zxid back (undefined unless established). */
  propose(payload: P): bigint | undefined {
    const { core } = this;
    if (!this.established || this.epoch === undefined) return undefined;
    const entry = { zxid: makeZxid(this.epoch, ++this.counter), payload };
    core.append(entry);
    for (const learner of this.learners.values()) {
      if (!learner.observer && (learner.stage === "syncing" || learner.stage === "synced")) {
        core.send(learner.id, { type: "PROPOSAL", entry });
      }
    }
    this.advanceCommit();
    return entry.zxid;
  }

  /** The shell has our history up to `zxid` on disk: that is our ack. */
  persisted(zxid: bigint): void {
    if (!this.established || zxid <= this.durable) return;
    this.durable = zxid;
    this.advanceCommit();
  }

  /** The highest zxid a quorum holds (ours: what is on our disk). */
  private advanceCommit(): void {
    const { core } = this;
    const acks = [this.durable];
    for (const learner of this.learners.values()) {
      if (!learner.observer && learner.stage === "synced") acks.push(learner.acked);
    }
    acks.sort((a, b) => (a > b ? -1 : a < b ? 1 : 0));
    const needed = Math.floor(core.config.voters.length / 2) + 1;
    if (acks.length < needed) return;
    const point = acks[needed - 1] as bigint;
    if (point <= core.committed) return;
    core.commitUpTo(point);
    for (const learner of this.learners.values()) {
      if (learner.observer) {
        if (learner.stage === "synced") this.inform(learner);
      } else if (learner.stage === "syncing" || learner.stage === "synced") {
        core.send(learner.id, { type: "COMMIT", zxid: core.committed });
      }
    }
  }

  private inform(learner: LearnerHandle): void {
    for (const entry of this.core.history.after(learner.informed)) {
      if (entry.zxid > this.core.committed) break;
      this.core.send(learner.id, { type: "INFORM", entry });
      learner.informed = entry.zxid;
    }
  }

  /** Pings learners; false once a quorum has been silent too long (or never synced). */
  tick(): boolean {
    const { core } = this;
    if (!this.established) return core.now - this.startedAt <= core.config.initLimit;
    for (const learner of this.learners.values()) core.send(learner.id, { type: "PING" });
    const live = [...this.learners.values()].filter(
      (l) => !l.observer && l.stage === "synced" && core.now - l.lastHeard <= core.config.syncLimit,
    );
    return core.isQuorum([core.id, ...live.map((l) => l.id)]);
  }

  disconnected(id: number): void {
    this.learners.delete(id);
    this.newLeaderAcks.delete(id);
  }

  /** Every learner link, to close when this leader steps down. */
  learnerIds(): number[] {
    return [...this.learners.keys()];
  }

  /** Learners connected, in any stage (zk_learners). */
  learnerCount(): number {
    return this.learners.size;
  }

  /** Synced observers (zk_synced_observers). */
  syncedObservers(): number[] {
    return [...this.learners.values()]
      .filter((l) => l.observer && l.stage === "synced")
      .map((l) => l.id);
  }

  /** Synced voting followers (zk_synced_followers). */
  syncedFollowers(): number[] {
    return [...this.learners.values()]
      .filter((l) => !l.observer && l.stage === "synced")
      .map((l) => l.id);
  }
}
