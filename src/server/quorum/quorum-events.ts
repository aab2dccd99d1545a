/**
 * The ensemble's notable events as one log line each, found by looking at the peer every tick
 * (never per request): an election starting, a learner synced with its leader, a leader
 * gaining or losing a synced follower. The election's end is peer-shell's "leader established"
 * (on the winner) and "quorum role" (everyone's new role).
 */
import type { Logger } from "../logger.js";

/** What is read of the Zab peer. */
export interface ObservedPeer {
  readonly state: "LOOKING" | "FOLLOWING" | "LEADING" | "OBSERVING";
  readonly leader: number | undefined;
  readonly epoch: bigint;
  readonly serving: boolean;
  readonly lastZxid: bigint;
  syncedFollowers(): number[];
}

const hex = (zxid: bigint) => `0x${zxid.toString(16)}`;

export class QuorumEvents {
  private state: ObservedPeer["state"] | undefined;
  private serving = false;
  private synced = new Set<number>();
  private readonly peer: ObservedPeer;
  private readonly log: Logger;

  constructor(peer: ObservedPeer, log: Logger) {
    this.peer = peer;
    this.log = log;
  }

  /** Logs what changed since the last look. */
  observe(): void {
    const { peer, log } = this;
    if (peer.state !== this.state) {
      if (peer.state === "LOOKING") {
        log.info({ epoch: Number(peer.epoch), lastZxid: hex(peer.lastZxid) }, "election started");
      }
      this.state = peer.state;
    }
    const learner = peer.state === "FOLLOWING" || peer.state === "OBSERVING";
    if (learner && peer.serving && !this.serving) {
      const fields = { leader: peer.leader, epoch: Number(peer.epoch), zxid: hex(peer.lastZxid) };
      log.info(fields, peer.state === "OBSERVING" ? "observer synced" : "follower synced");
    }
    this.serving = peer.serving;
    this.observeFollowers();
  }

  /** A leader's followers as they sync with it and drop away. */
  private observeFollowers(): void {
    const now = new Set(this.peer.state === "LEADING" ? this.peer.syncedFollowers() : []);
    for (const id of now) {
      if (!this.synced.has(id)) this.log.info({ follower: id }, "leader: follower synced");
    }
    for (const id of this.synced) {
      if (!now.has(id)) this.log.info({ follower: id }, "leader: follower gone");
    }
    this.synced = now;
  }
}
