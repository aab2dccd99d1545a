/**
 * What peers say to each other. Two channels, as in ZooKeeper: election notifications (any
 * peer to any peer; losing, repeating or reordering them is harmless) and the quorum channel
 * between a leader and each learner, which must be FIFO and reliable while it lasts (TCP): the
 * shell (or the simulator) turns any loss on it into `disconnected` on both ends.
 *
 * The quorum messages keep ZooKeeper's names (QuorumPacket types) and order: FOLLOWERINFO,
 * LEADERINFO, ACKEPOCH, then DIFF / TRUNC / SNAP, NEWLEADER, ACK, UPTODATE, then PROPOSAL, ACK,
 * COMMIT (INFORM for observers) and PING.
 */
import type { Entry, HistorySummary } from "./log.js";

/** A state machine's snapshot, opaque to Zab: everything committed up to `zxid`. */
export interface Snapshot {
  readonly zxid: bigint;
  readonly data: unknown;
}

export type PeerState = "LOOKING" | "FOLLOWING" | "LEADING" | "OBSERVING";

/** A vote: who should lead, judged by (epoch, zxid, id) of its history. */
export interface Vote {
  readonly leader: number;
  readonly zxid: bigint;
  readonly peerEpoch: bigint;
}

export interface Notification {
  readonly type: "NOTIFICATION";
  readonly vote: Vote;
  /** The sender's election round (FastLeaderElection's logicalclock). */
  readonly electionEpoch: bigint;
  readonly state: PeerState;
}

export type QuorumMessage<P = unknown> =
  | {
      readonly type: "FOLLOWERINFO";
      readonly acceptedEpoch: bigint;
      readonly summary: HistorySummary;
      /** Its history starts after this zxid (the rest is in its snapshot). */
      readonly base: bigint;
      readonly observer: boolean;
    }
  | { readonly type: "LEADERINFO"; readonly epoch: bigint }
  | {
      readonly type: "ACKEPOCH";
      readonly currentEpoch: bigint;
      readonly lastZxid: bigint;
      readonly summary: HistorySummary;
      readonly base: bigint;
    }
  /**
   * Sync: DIFF appends `entries`; TRUNC first cuts the history after `truncateTo`; SNAP
   * replaces state and history with `snapshot` (the leader's state machine at its zxid) first.
   */
  | {
      readonly type: "SYNC";
      readonly mode: "DIFF" | "TRUNC" | "SNAP";
      readonly truncateTo: bigint;
      readonly snapshot?: Snapshot;
      readonly entries: readonly Entry<P>[];
    }
  | { readonly type: "NEWLEADER"; readonly epoch: bigint }
  | { readonly type: "ACK"; readonly zxid: bigint }
  /** The learner may serve: everything up to `committed` is committed. */
  | { readonly type: "UPTODATE"; readonly committed: bigint }
  | { readonly type: "PROPOSAL"; readonly entry: Entry<P> }
  | { readonly type: "COMMIT"; readonly zxid: bigint }
  /** Observers get committed txns only. */
  | { readonly type: "INFORM"; readonly entry: Entry<P> }
  | { readonly type: "PING" }
  | { readonly type: "PONG" }
  /** A learner's client request for the leader (ZooKeeper's REQUEST): opaque to Zab. */
  | { readonly type: "REQUEST"; readonly request: unknown };

export type Message<P = unknown> = Notification | QuorumMessage<P>;

export function isNotification(message: Message): message is Notification {
  return message.type === "NOTIFICATION";
}

/** FastLeaderElection.totalOrderPredicate: a higher epoch, then zxid, then server id wins. */
export function betterVote(a: Vote, b: Vote): boolean {
  if (a.peerEpoch !== b.peerEpoch) return a.peerEpoch > b.peerEpoch;
  if (a.zxid !== b.zxid) return a.zxid > b.zxid;
  return a.leader > b.leader;
}
