/**
 * A Zab peer (ZooKeeper's QuorumPeer) as a deterministic state machine: LOOKING (election) →
 * LEADING or FOLLOWING (OBSERVING for an observer) → back to LOOKING whenever the quorum is
 * lost. Inputs: `tick()`, `step(from, message)`, `disconnected(peer)`, `propose(payload)`.
 * Output: `ready()`, which the shell executes in order (see ready.ts). No I/O, no clock, no
 * randomness: the shell (or the simulator) supplies all three.
 *
 *     const peer = new ZabPeer(config, durable);
 *     peer.tick();                       // every tickTime
 *     peer.step(from, message);          // every message received
 *     const ready = peer.ready();        // persist, disconnect, send, apply — in that order
 */
import { type DurableState, PeerCore, type ZabConfig } from "./core.js";
import { Election } from "./election.js";
import { LeaderRole } from "./leader.js";
import { LearnerRole } from "./learner.js";
import { isNotification, type Message, type PeerState } from "./messages.js";
import { emptyReady, type Ready } from "./ready.js";
import { minZxid } from "./zxid.js";

export type { DurableState, ZabConfig } from "./core.js";

export class ZabPeer<P> {
  private readonly core: PeerCore<P>;
  private readonly election: Election<P>;
  private role: LeaderRole<P> | LearnerRole<P> | undefined;
  state: PeerState = "LOOKING";

  constructor(config: ZabConfig, durable: DurableState<P>) {
    this.core = new PeerCore(config, durable);
    this.election = new Election(this.core);
    this.lookForLeader();
  }

  get id(): number {
    return this.core.id;
  }

  /** The leader this peer follows or is; undefined while looking. */
  get leader(): number | undefined {
    if (this.role instanceof LeaderRole) return this.core.id;
    return this.role?.leader;
  }

  /** The epoch of the current leader once known (acceptedEpoch while syncing). */
  get epoch(): bigint {
    return this.core.currentEpoch;
  }

  /** A leader with a quorum synced, or a learner that got UPTODATE: it may serve clients. */
  get serving(): boolean {
    if (this.role instanceof LeaderRole) return this.role.established;
    return this.role?.stage === "broadcast";
  }

  get lastZxid(): bigint {
    return this.core.history.lastZxid;
  }

  get committed(): bigint {
    return this.core.committed;
  }

  get acceptedEpoch(): bigint {
    return this.core.acceptedEpoch;
  }

  /** Learners connected to this leader, in any stage (0 unless leading). */
  learnerCount(): number {
    return this.role instanceof LeaderRole ? this.role.learnerCount() : 0;
  }

  /** Observers synced with this leader (empty unless leading). */
  syncedObservers(): number[] {
    return this.role instanceof LeaderRole ? this.role.syncedObservers() : [];
  }

  /** Voting followers synced with this leader (empty unless leading). */
  syncedFollowers(): number[] {
    return this.role instanceof LeaderRole ? this.role.syncedFollowers() : [];
  }

  tick(): void {
    this.core.now++;
    if (this.role === undefined) {
      const decision = this.election.tick();
      if (decision) this.decide(decision.leader);
    } else if (!this.role.tick()) {
      this.lookForLeader();
    }
  }

  step(from: number, message: Message<P>): void {
    if (isNotification(message)) {
      if (this.role !== undefined) {
        // Decided: a looking peer learns who leads from our vote and state.
        if (message.state === "LOOKING") {
          this.core.send(from, this.election.notification(this.state));
        }
        return;
      }
      const decision = this.election.receive(from, message);
      if (decision) this.decide(decision.leader);
      return;
    }
    if (this.role !== undefined && !this.role.receive(from, message)) this.lookForLeader();
  }

  /** The quorum link to `peer` broke (the shell saw the socket close, or the simulator cut it). */
  disconnected(peer: number): void {
    if (this.role instanceof LeaderRole) this.role.disconnected(peer);
    else if (this.role?.leader === peer) this.lookForLeader();
  }

  /**
   * The shell persisted this peer's history up to `zxid` (every Ready before the one it is
   * told in). A leader counts it as its own ack; others need not be told.
   */
  persisted(zxid: bigint): void {
    if (this.role instanceof LeaderRole) this.role.persisted(zxid);
  }

  /** Leader only, once established: the txn's zxid, or undefined if this peer cannot propose. */
  propose(payload: P): bigint | undefined {
    return this.role instanceof LeaderRole ? this.role.propose(payload) : undefined;
  }

  /**
   * The shell saved the state machine up to `zxid` (a snapshot): committed history up to there
   * may leave memory. Learners that lack it are then synced by SNAP. Never past the commit point.
   */
  compact(zxid: bigint): void {
    this.core.history.compact(minZxid(zxid, this.core.committed));
  }

  /** Learner only, once synced: sends a client request to the leader; false otherwise. */
  forward(request: unknown): boolean {
    return this.role instanceof LearnerRole ? this.role.forward(request) : false;
  }

  /** Takes what the shell must do now (see ready.ts). */
  ready(): Ready<P> {
    const ready = this.core.ready;
    this.core.ready = emptyReady();
    return ready;
  }

  private lookForLeader(): void {
    if (this.role instanceof LeaderRole) {
      for (const id of this.role.learnerIds()) this.core.disconnect(id);
    } else if (this.role !== undefined) {
      this.core.disconnect(this.role.leader);
    }
    this.role = undefined;
    this.setState("LOOKING", undefined);
    this.election.start();
  }

  private decide(leader: number): void {
    if (leader === this.core.id) {
      this.role = new LeaderRole(this.core);
      this.setState("LEADING", leader);
    } else {
      this.role = new LearnerRole(this.core, leader);
      this.setState(this.core.isObserver ? "OBSERVING" : "FOLLOWING", leader);
    }
  }

  private setState(state: PeerState, leader: number | undefined): void {
    this.state = state;
    this.core.ready.role = { state, leader, epoch: this.core.acceptedEpoch };
  }
}
