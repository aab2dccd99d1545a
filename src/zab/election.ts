/**
 * Leader election as ZooKeeper's FastLeaderElection runs it: each looking peer votes for the
 * best history it has heard of, (currentEpoch, last zxid, id) in that order, and tells every
 * other peer; rounds (logicalclock) let a peer that fell behind catch up. A peer decides once a
 * quorum backs its vote and no better vote arrives for `finalizeWait` ticks, or once a quorum of
 * peers that already decided names a leader that says it leads.
 *
 * Observers take part only to learn who leads: they never vote and are never counted.
 */
import type { PeerCore } from "./core.js";
import { betterVote, type Notification, type PeerState, type Vote } from "./messages.js";

export type Decision = { readonly leader: number } | undefined;

export class Election<P> {
  private readonly core: PeerCore<P>;
  /** FastLeaderElection's logicalclock: the election round. */
  round = 0n;
  vote: Vote;
  private readonly received = new Map<number, Vote>();
  private readonly decided = new Map<number, { vote: Vote; round: bigint; state: PeerState }>();
  private decideAt: number | undefined;
  private lastSent = Number.NEGATIVE_INFINITY;

  constructor(core: PeerCore<P>) {
    this.core = core;
    this.vote = this.ownVote();
  }

  private ownVote(): Vote {
    const { core } = this;
    // An observer names nobody: its notifications only ask the others who leads.
    const leader = core.isObserver ? -1 : core.id;
    return { leader, zxid: core.history.lastZxid, peerEpoch: core.currentEpoch };
  }

  /** A new round: vote for ourselves and say so. */
  start(): void {
    this.round++;
    this.vote = this.ownVote();
    this.received.clear();
    this.decided.clear();
    this.decideAt = undefined;
    this.broadcast("LOOKING");
  }

  notification(state: PeerState, vote: Vote = this.vote): Notification {
    return { type: "NOTIFICATION", vote, electionEpoch: this.round, state };
  }

  private broadcast(state: PeerState): void {
    const { core } = this;
    for (const id of [...core.config.voters, ...core.config.observers]) {
      if (id !== core.id) core.send(id, this.notification(state));
    }
    this.lastSent = core.now;
  }

  /** While looking: repeat our vote now and then (notifications may be lost). */
  tick(): Decision {
    const { core } = this;
    if (core.now - this.lastSent >= core.config.notificationInterval) this.broadcast("LOOKING");
    if (this.decideAt !== undefined && core.now >= this.decideAt) {
      this.decideAt = undefined;
      if (this.backed(this.vote)) return { leader: this.vote.leader };
    }
    return undefined;
  }

  /** A notification while this peer is looking. */
  receive(from: number, n: Notification): Decision {
    const { core } = this;
    if (n.state === "LOOKING") return this.fromLooking(from, n);
    // From a peer that has decided: join its leader once a quorum says the same.
    this.decided.set(from, { vote: n.vote, round: n.electionEpoch, state: n.state });
    if (n.electionEpoch === this.round && !core.isObserver) {
      this.received.set(from, n.vote);
      if (this.backed(n.vote) && this.leaderConfirmed(n.vote.leader, this.round)) {
        // Our vote is what we tell peers that look later: it must name the leader we follow.
        this.vote = n.vote;
        return { leader: n.vote.leader };
      }
    }
    // Peers that decided may have decided through different votes for the same leader (or
    // on different rounds): among them, naming the same leader is agreement enough, as long
    // as the leader itself says it leads. A leader that cannot form a quorum loses us again.
    const agreeing = [...this.decided].filter(([, d]) => d.vote.leader === n.vote.leader);
    if (
      this.core.isQuorum(agreeing.map(([id]) => id)) &&
      this.leaderConfirmed(n.vote.leader, n.electionEpoch)
    ) {
      this.round = n.electionEpoch;
      this.vote = n.vote;
      return { leader: n.vote.leader };
    }
    return undefined;
  }

  private fromLooking(from: number, n: Notification): Decision {
    const { core } = this;
    if (core.isObserver || core.config.observers.includes(from)) {
      // Observers neither vote nor count; one that asks gets our view.
      if (core.config.observers.includes(from)) core.send(from, this.notification("LOOKING"));
      return undefined;
    }
    if (n.electionEpoch > this.round) {
      this.round = n.electionEpoch;
      this.received.clear();
      const own = this.ownVote();
      this.vote = betterVote(n.vote, own) ? n.vote : own;
      this.broadcast("LOOKING");
    } else if (n.electionEpoch < this.round) {
      core.send(from, this.notification("LOOKING"));
      return undefined;
    } else if (betterVote(n.vote, this.vote)) {
      this.vote = n.vote;
      this.broadcast("LOOKING");
    } else if (!sameVote(n.vote, this.vote)) {
      // The sender may not have our vote: it was still following when we sent it, and what
      // reaches a peer that has decided is not counted when it starts looking. Without this
      // answer it would learn our better vote only at our next repeat (a slow second round).
      core.send(from, this.notification("LOOKING"));
    }
    this.received.set(from, n.vote);
    this.received.set(core.id, this.vote);
    if (this.backed(this.vote)) this.decideAt ??= core.now + core.config.finalizeWait;
    else this.decideAt = undefined;
    return undefined;
  }

  /** A quorum of this round's votes names the same leader and history. */
  private backed(vote: Vote): boolean {
    const backers = [...this.received].filter(([, v]) => sameVote(v, vote)).map(([id]) => id);
    return this.core.isQuorum(backers);
  }

  /** FastLeaderElection.checkLeader: the leader must itself say it leads (or be us). */
  private leaderConfirmed(leader: number, round: bigint): boolean {
    if (leader === this.core.id) return round === this.round;
    const said = this.decided.get(leader);
    return said !== undefined && said.state === "LEADING";
  }
}

function sameVote(a: Vote, b: Vote): boolean {
  return a.leader === b.leader && a.zxid === b.zxid && a.peerEpoch === b.peerEpoch;
}
