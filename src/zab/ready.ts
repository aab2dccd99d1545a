/**
 * What a peer asks its shell to do, etcd-raft style: the shell makes `acceptedEpoch`,
 * `currentEpoch`, `truncateTo` and `append` durable first, then drops the links in
 * `disconnect`, then sends `messages`, then applies `commit` to the state machine (in order).
 * A peer never sends a message that depends on state it has not asked to persist in the same
 * or an earlier Ready, so a crash can only lose what nobody was told.
 *
 * One exception, which `isEager` names: an established leader's broadcast Readies (its
 * proposals, commits and pings) may be carried out before their appends are durable, provided
 * every earlier Ready has been carried out already, so messages keep their order. That is safe
 * because the leader counts its own ack only once the shell reports its log on disk
 * (`ZabPeer.persisted`): a COMMIT never rests on the leader's undurable copy.
 */
import type { Entry } from "./log.js";
import type { Message, PeerState, Snapshot } from "./messages.js";

export interface Outgoing<P> {
  readonly to: number;
  readonly message: Message<P>;
}

export interface Ready<P> {
  /**
   * SNAP: replace the state machine with this, and the durable history with nothing (before
   * `append`); it comes first.
   */
  snapshot?: Snapshot;
  acceptedEpoch?: bigint;
  currentEpoch?: bigint;
  /** Cut the durable history after this zxid (before `append`). */
  truncateTo?: bigint | undefined;
  append: Entry<P>[];
  /** Quorum links to close (learners of a leader that stepped down, a follower's leader). */
  disconnect: number[];
  messages: Outgoing<P>[];
  /** Newly committed entries, in zxid order. */
  commit: Entry<P>[];
  /** Set when the role changed: the new state, leader and (for a leader) epoch. */
  role?: { state: PeerState; leader: number | undefined; epoch: bigint };
  /** A leader that has a quorum synced: it can take proposals now. */
  established?: bigint;
  /** Leader: client requests its learners forwarded, for the shell's server to handle. */
  requests?: { from: number; request: unknown }[];
}

export function emptyReady<P>(): Ready<P> {
  return { append: [], disconnect: [], messages: [], commit: [] };
}

/** Messages an established leader may send before its own appends are durable. */
const EAGER_MESSAGES: ReadonlySet<string> = new Set(["PROPOSAL", "COMMIT", "INFORM", "PING"]);

/**
 * True for a Ready of an established leader's broadcast phase: appends, proposals, commits,
 * pings and forwarded requests only. (The caller checks that the peer is an established leader.)
 */
export function isEager(ready: Ready<unknown>): boolean {
  return (
    ready.snapshot === undefined &&
    ready.acceptedEpoch === undefined &&
    ready.currentEpoch === undefined &&
    ready.truncateTo === undefined &&
    ready.disconnect.length === 0 &&
    ready.role === undefined &&
    ready.established === undefined &&
    ready.messages.every(({ message }) => EAGER_MESSAGES.has(message.type))
  );
}

/**
 * True for a Ready that only applies committed txns. A serving learner may apply them before
 * the Readies ahead of it are persisted, if none of those has commits of its own (they stay in
 * order): a committed txn is durable on a quorum, and applying sends nothing.
 */
export function isCommitOnly(ready: Ready<unknown>): boolean {
  return (
    ready.commit.length > 0 &&
    ready.append.length === 0 &&
    ready.messages.length === 0 &&
    ready.disconnect.length === 0 &&
    ready.snapshot === undefined &&
    ready.acceptedEpoch === undefined &&
    ready.currentEpoch === undefined &&
    ready.truncateTo === undefined &&
    ready.role === undefined &&
    ready.established === undefined &&
    (ready.requests === undefined || ready.requests.length === 0)
  );
}

export function isEmpty(ready: Ready<unknown>): boolean {
  return (
    ready.snapshot === undefined &&
    ready.acceptedEpoch === undefined &&
    ready.currentEpoch === undefined &&
    ready.truncateTo === undefined &&
    ready.append.length === 0 &&
    ready.disconnect.length === 0 &&
    ready.messages.length === 0 &&
    ready.commit.length === 0 &&
    ready.role === undefined &&
    ready.established === undefined &&
    (ready.requests === undefined || ready.requests.length === 0)
  );
}
