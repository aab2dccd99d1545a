/**
 * The state every role of a peer shares: its configuration, its durable state (acceptedEpoch,
 * currentEpoch, history) and what is committed, and the Ready being filled for the shell.
 * Every change to durable state goes through here, so it always lands in the Ready.
 */
import { type Entry, History } from "./log.js";
import type { Message, Snapshot } from "./messages.js";
import { emptyReady, type Ready } from "./ready.js";
import { minZxid } from "./zxid.js";

export interface ZabConfig {
  readonly id: number;
  /** Voting members, this peer included unless it is an observer. */
  readonly voters: readonly number[];
  readonly observers: readonly number[];
  /** Ticks a learner has to connect and sync with a new leader (ZooKeeper's initLimit). */
  readonly initLimit: number;
  /** Ticks of silence after which a leader or learner gives up on the other (syncLimit). */
  readonly syncLimit: number;
  /** Ticks an election waits, once a quorum agrees, for a better vote (finalizeWait). */
  readonly finalizeWait: number;
  /** Ticks between repeats of this peer's vote while it looks for a leader. */
  readonly notificationInterval: number;
  /** The state machine as applied so far, for SNAP: its zxid and opaque contents. */
  readonly snapshot?: () => Snapshot;
}

/** What a peer remembers across restarts (ZooKeeper's acceptedEpoch, currentEpoch, txn log). */
export interface DurableState<P> {
  readonly acceptedEpoch: bigint;
  readonly currentEpoch: bigint;
  readonly history: readonly Entry<P>[];
  /**
   * The last zxid already applied to the state machine the shell restored (its snapshot's):
   * committed by definition. Later history is applied only once a leader commits it.
   */
  readonly committed: bigint;
}

export class PeerCore<P> {
  readonly config: ZabConfig;
  readonly history: History<P>;
  acceptedEpoch: bigint;
  currentEpoch: bigint;
  committed: bigint;
  now = 0;
  ready: Ready<P> = emptyReady();

  constructor(config: ZabConfig, durable: DurableState<P>) {
    this.config = config;
    this.history = new History(durable.history, durable.committed);
    this.acceptedEpoch = durable.acceptedEpoch;
    this.currentEpoch = durable.currentEpoch;
    this.committed = durable.committed;
  }

  get id(): number {
    return this.config.id;
  }

  get isObserver(): boolean {
    return !this.config.voters.includes(this.config.id);
  }

  /** A majority of the voters. */
  isQuorum(ids: Iterable<number>): boolean {
    let count = 0;
    for (const id of new Set(ids)) if (this.config.voters.includes(id)) count++;
    return count * 2 > this.config.voters.length;
  }

  send(to: number, message: Message<P>): void {
    this.ready.messages.push({ to, message });
  }

  setAcceptedEpoch(epoch: bigint): void {
    this.acceptedEpoch = epoch;
    this.ready.acceptedEpoch = epoch;
  }

  setCurrentEpoch(epoch: bigint): void {
    this.currentEpoch = epoch;
    this.ready.currentEpoch = epoch;
  }

  append(entry: Entry<P>): void {
    this.history.append(entry);
    this.ready.append.push(entry);
  }

  /** Cuts uncommitted history after `zxid`; committed txns are never cut (that is a bug). */
  truncate(zxid: bigint): void {
    if (zxid < this.committed) {
      throw new Error(
        `peer ${this.id}: asked to truncate to 0x${zxid.toString(16)}, below its commit point 0x${this.committed.toString(16)}`,
      );
    }
    if (zxid >= this.history.lastZxid) return;
    this.history.truncate(zxid);
    // Earlier appends of this Ready that the cut removes never reach the disk.
    this.ready.append = this.ready.append.filter((entry) => entry.zxid <= zxid);
    const previous = this.ready.truncateTo;
    this.ready.truncateTo = previous === undefined || zxid < previous ? zxid : previous;
  }

  /** Everything up to `zxid` (that this peer holds) is committed: hand it to the shell. */
  commitUpTo(zxid: bigint): void {
    const upTo = minZxid(zxid, this.history.lastZxid);
    if (upTo <= this.committed) return;
    for (const entry of this.history.after(this.committed)) {
      if (entry.zxid > upTo) break;
      this.ready.commit.push(entry);
    }
    this.committed = upTo;
  }

  /** SNAP: the leader's state machine replaces ours, and our history starts after it. */
  installSnapshot(snapshot: Snapshot): void {
    this.history.reset(snapshot.zxid);
    this.committed = snapshot.zxid;
    this.ready.snapshot = snapshot;
    this.ready.append = [];
    this.ready.commit = [];
    this.ready.truncateTo = undefined;
  }

  disconnect(peer: number): void {
    if (!this.ready.disconnect.includes(peer)) this.ready.disconnect.push(peer);
  }
}
