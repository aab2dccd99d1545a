/**
 * A follower's (or observer's) side of Zab (ZooKeeper's Learner, Follower, Observer):
 * FOLLOWERINFO with a summary of its history; on LEADERINFO, accept the new epoch (never go
 * back to an older one) and answer ACKEPOCH; take the SYNC (cut what the leader lacks, append
 * what it sends), and on NEWLEADER adopt the epoch and ack — all of it durable before the ack
 * goes out (the Ready rule), which is what ZOOKEEPER-3911 and its kin got wrong. Then
 * proposals are logged and acked, and applied once COMMIT (or UPTODATE, or INFORM for an
 * observer) says they are committed.
 */
import type { PeerCore } from "./core.js";
import type { QuorumMessage } from "./messages.js";
import { makeZxid, maxZxid } from "./zxid.js";

export class LearnerRole<P> {
  private readonly core: PeerCore<P>;
  readonly leader: number;
  stage: "discovery" | "sync" | "broadcast" = "discovery";
  private epoch: bigint | undefined;
  private lastHeard: number;
  /** A COMMIT that came before UPTODATE. */
  private pendingCommit = 0n;

  constructor(core: PeerCore<P>, leader: number) {
    this.core = core;
    this.leader = leader;
    this.lastHeard = core.now;
    this.followerInfo();
  }

  /** Sent until LEADERINFO comes: the leader may not have decided yet (it drops it then). */
  private followerInfo(): void {
    const { core } = this;
    core.send(this.leader, {
      type: "FOLLOWERINFO",
      acceptedEpoch: core.acceptedEpoch,
      summary: core.history.summary(),
      base: core.history.base,
      observer: core.isObserver,
    });
  }

  /** Handles the leader's message; false if this learner must go back to looking. */
  receive(from: number, message: QuorumMessage<P>): boolean {
    if (from !== this.leader) return true;
    switch (message.type) {
      case "FOLLOWERINFO":
      case "ACKEPOCH":
      case "ACK":
      case "PONG":
        // Our "leader" is a learner too, following us or someone else: look again.
        return false;
      default:
        this.lastHeard = this.core.now;
    }
    switch (message.type) {
      case "LEADERINFO":
        return this.leaderInfo(message.epoch);
      case "SYNC":
        return this.sync(message);
      case "NEWLEADER":
        return this.newLeader(message.epoch);
      case "PROPOSAL":
        return this.proposal(message.entry);
      case "COMMIT":
        this.commit(message.zxid);
        return true;
      case "UPTODATE":
        if (this.stage !== "sync") return false;
        this.stage = "broadcast";
        this.commit(maxZxid(message.committed, this.pendingCommit));
        return true;
      case "INFORM":
        return this.inform(message.entry);
      case "PING":
        this.core.send(this.leader, { type: "PONG" });
        return true;
      default:
        return true;
    }
  }

  private leaderInfo(epoch: bigint): boolean {
    const { core } = this;
    // A repeat, for a FOLLOWERINFO we repeated: already answered.
    if (this.stage !== "discovery") return epoch === this.epoch;
    if (epoch < core.acceptedEpoch) return false;
    if (epoch > core.acceptedEpoch) core.setAcceptedEpoch(epoch);
    this.epoch = epoch;
    this.stage = "sync";
    core.send(this.leader, {
      type: "ACKEPOCH",
      currentEpoch: core.currentEpoch,
      lastZxid: core.history.lastZxid,
      summary: core.history.summary(),
      base: core.history.base,
    });
    return true;
  }

  private sync(message: Extract<QuorumMessage<P>, { type: "SYNC" }>): boolean {
    const { core } = this;
    if (this.stage !== "sync") return false;
    if (message.mode === "SNAP") {
      if (message.snapshot === undefined) return false;
      core.installSnapshot(message.snapshot);
    } else {
      core.truncate(message.truncateTo);
    }
    for (const entry of message.entries) {
      if (entry.zxid > core.history.lastZxid) core.append(entry);
    }
    return true;
  }

  private newLeader(epoch: bigint): boolean {
    const { core } = this;
    if (this.stage !== "sync" || epoch !== this.epoch) return false;
    core.setCurrentEpoch(epoch);
    core.send(this.leader, { type: "ACK", zxid: makeZxid(epoch, 0n) });
    return true;
  }

  private proposal(entry: { zxid: bigint; payload: P }): boolean {
    const { core } = this;
    if (this.stage === "discovery" || core.isObserver) return false;
    if (entry.zxid <= core.history.lastZxid) return false;
    core.append(entry);
    core.send(this.leader, { type: "ACK", zxid: entry.zxid });
    return true;
  }

  private commit(zxid: bigint): void {
    if (this.stage !== "broadcast") {
      if (zxid > this.pendingCommit) this.pendingCommit = zxid;
      return;
    }
    this.core.commitUpTo(zxid);
  }

  private inform(entry: { zxid: bigint; payload: P }): boolean {
    const { core } = this;
    if (this.stage !== "broadcast") return false;
    if (entry.zxid > core.history.lastZxid) core.append(entry);
    core.commitUpTo(entry.zxid);
    return true;
  }

  /** Sends a client request to the leader; false unless synced (UPTODATE came). */
  forward(request: unknown): boolean {
    if (this.stage !== "broadcast") return false;
    this.core.send(this.leader, { type: "REQUEST", request });
    return true;
  }

  /** False once the leader has been silent too long for the phase we are in. */
  tick(): boolean {
    const { core } = this;
    if (this.stage === "discovery") this.followerInfo();
    const limit = this.stage === "broadcast" ? core.config.syncLimit : core.config.initLimit;
    return core.now - this.lastHeard <= limit;
  }
}
