/**
 * Leader election as on ZooKeeper's recipes page, with Curator's LeaderLatch and LeaderSelector
 * lessons: every candidate creates an EPHEMERAL_SEQUENTIAL node under the election's znode, the
 * smallest sequence number leads, and every other candidate watches only the node just ahead of
 * it, so a leader's departure wakes its successor alone (no herd effect).
 *
 *     const election = new LeaderElection(zk, "/election/orders", { id: "worker-1" });
 *     election.start();
 *     await election.elected();            // Curator's LeaderLatch.await()
 *     for await (const event of election.events()) ...
 *
 * Connection states. While the client is disconnected (Curator's SUSPENDED) nobody can tell
 * whether the session, and with it the leader's node, is still alive: by default the election
 * treats that as lost (`isLeader` false, a `notLeader` event with reason "suspended"), as
 * Curator's LeaderLatch does, and elects us again on reconnecting if our node is still first.
 * A leader should stop work that must not run twice when it sees `notLeader`. With
 * `suspendedIsLost: false` leadership survives a disconnection; the leader then risks running
 * beside its successor if the session expired meanwhile. Close, and session expiry on a
 * client without renewal, end the election at once (`notLeader` with reason "expired" or
 * "closed"). On a client that renews expired sessions (connect's renewExpiredSession), an expiry
 * is a `notLeader` "expired" and the candidate queues up again, at the back, on the new session,
 * as Curator's LeaderLatch does.
 */
import { type ClientState, ClosedError, SessionExpiredError, type ZooKeeper } from "../index.js";
import {
  createCandidate,
  decodeCandidate,
  EventChannel,
  encodeCandidate,
  type Leader,
  readLeader,
  readParticipants,
  sortedCandidates,
} from "./leader-election-support.js";
import { deleteHeldNode } from "./lock-internals.js";

export type { Leader } from "./leader-election-support.js";

/** Why a candidate stopped leading (or, for "suspended", stopped being sure it leads). */
export type NotLeaderReason = "resigned" | "suspended" | "expired" | "closed" | "nodeDeleted";

/** What a candidate observes, in order, through `events()` or `on()`. */
export type ElectionEvent =
  | { readonly type: "elected"; readonly leader: Leader }
  | { readonly type: "notLeader"; readonly reason: NotLeaderReason }
  /** The leader this candidate knows of changed (to us, too). Followers learn it lazily; see `trackLeader`. */
  | { readonly type: "leaderChanged"; readonly leader: Leader };

export interface LeaderElectionOptions {
  /** This candidate's id, readable by any client through `currentLeader()`. */
  readonly id: string;
  /** A payload beside the id (an address, say), readable the same way. */
  readonly data?: Uint8Array | string;
  /** Treat a disconnection as lost leadership (Curator's LeaderLatch). Default true. */
  readonly suspendedIsLost?: boolean;
  /**
   * Also watch the leader's node, so that every candidate sees `leaderChanged` when the leader
   * goes. Each leader change then wakes every candidate (a herd, by choice). Default false:
   * a follower learns of a new leader only when its own predecessor goes.
   */
  readonly trackLeader?: boolean;
}

export interface ElectedOptions {
  readonly signal?: AbortSignal;
  readonly timeoutMs?: number;
}

export class LeaderElection implements AsyncDisposable {
  readonly path: string;
  private readonly zk: ZooKeeper;
  private readonly options: LeaderElectionOptions;
  private readonly nodeData: Buffer;
  private readonly channel = new EventChannel<ElectionEvent>();
  private leading = false;
  private ourNode: string | undefined;
  private knownLeader: string | undefined;
  private round: AbortController | undefined;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private ended: Error | undefined;
  private readonly offState: () => void;
  private readonly endWaiters = new Set<(error: Error) => void>();
  /** How many times this candidate has listed the children: for tests of the herd effect. */
  childrenReads = 0;

  constructor(zk: ZooKeeper, path: string, options: LeaderElectionOptions) {
    this.zk = zk;
    this.path = path;
    this.options = options;
    this.nodeData = encodeCandidate(options.id, options.data);
    this.offState = zk.onState((state) => this.onState(state));
  }

  /** The current leader of the election at `path`, read by any client; null if none. */
  static currentLeader(zk: ZooKeeper, path: string): Promise<Leader | null> {
    return readLeader(zk, path);
  }

  /** Every candidate of the election at `path` in queue order, the leader first. */
  static participants(zk: ZooKeeper, path: string): Promise<Leader[]> {
    return readParticipants(zk, path);
  }

  /** True while this candidate leads (and, by default, its client is connected). */
  get isLeader(): boolean {
    return this.leading;
  }

  /** Our candidate node's full path, while we take part. */
  get node(): string | undefined {
    return this.ourNode === undefined ? undefined : `${this.path}/${this.ourNode}`;
  }

  /** Takes part in the election (again, after `resign()`). Does nothing if already taking part. */
  start(): void {
    if (this.ended) throw this.ended;
    if (this.round) return;
    const round = new AbortController();
    this.round = round;
    this.loop = this.participate(round.signal);
  }

  /**
   * Resolves true once we lead (at once if we do), false after `timeoutMs`; rejects with the
   * signal's reason, or with the error that ended the election. Waits across `resign()` and a
   * later `start()`.
   */
  elected(options: ElectedOptions = {}): Promise<boolean> {
    if (this.leading) return Promise.resolve(true);
    if (this.ended) return Promise.reject(this.ended);
    const { signal, timeoutMs } = options;
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<boolean>((resolve, reject) => {
      const finish = (settle: () => void) => {
        off();
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        settle();
      };
      const onEnd = (error: Error) => finish(() => reject(error));
      this.endWaiters.add(onEnd);
      const offElected = this.channel.on((event) => {
        if (event.type === "elected") finish(() => resolve(true));
      });
      const off = () => {
        offElected();
        this.endWaiters.delete(onEnd);
      };
      const onAbort = () => finish(() => reject(signal?.reason));
      signal?.addEventListener("abort", onAbort, { once: true });
      const timer =
        timeoutMs === undefined
          ? undefined
          : setTimeout(() => finish(() => resolve(false)), timeoutMs);
    });
  }

  /** Every event from now on; the iterator ends when the election does (close or session end). */
  events(): AsyncIterableIterator<ElectionEvent> {
    return this.channel.iterate();
  }

  /** Calls `listener` on every event; returns a function that stops it. */
  on(listener: (event: ElectionEvent) => void): () => void {
    return this.channel.on(listener);
  }

  /**
   * Leaves the election: deletes our node (the next in line is elected) and stops taking part
   * until `start()` is called again, when we queue up at the back.
   */
  async resign(): Promise<void> {
    const round = this.round;
    this.round = undefined;
    round?.abort();
    await this.loop;
    this.loop = undefined;
    const node = this.node;
    this.ourNode = undefined;
    this.knownLeader = undefined;
    this.setLeading(false, "resigned");
    if (node !== undefined && !this.ended) await deleteHeldNode(this.zk, node);
  }

  /** Resigns and ends the election for good: iterators finish, waiters reject with ClosedError. */
  async close(): Promise<void> {
    if (!this.ended) await this.resign();
    this.end(new ClosedError("election closed"), "closed");
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  private onState(state: ClientState): void {
    if (state === "disconnected") {
      if (this.options.suspendedIsLost !== false) this.setLeading(false, "suspended");
    } else if (state === "connected") {
      this.wake?.(); // look again: we may lead once more, or have missed a change
    } else if (state === "expired") {
      if (!this.zk.renewsExpiredSession) {
        this.end(new SessionExpiredError(this.path), "expired");
        return;
      }
      // A new session follows (Curator's LeaderLatch resets): our node went with the old one,
      // so the round goes on and queues up again, at the back, once the new session is there.
      this.ourNode = undefined;
      this.knownLeader = undefined;
      this.setLeading(false, "expired");
      this.wake?.();
    } else if (state === "closed" || state === "authFailed") {
      this.end(new ClosedError("client closed"), "closed");
    }
  }

  private end(error: Error, reason: NotLeaderReason): void {
    if (this.ended) return;
    this.ended = error;
    this.round?.abort();
    this.round = undefined;
    this.offState();
    this.setLeading(false, reason);
    this.channel.end();
    for (const reject of [...this.endWaiters]) reject(error);
  }

  private setLeading(leading: boolean, reason: NotLeaderReason): void {
    if (this.leading === leading) return;
    this.leading = leading;
    if (!leading) this.channel.emit({ type: "notLeader", reason });
  }

  private async participate(round: AbortSignal): Promise<void> {
    while (!round.aborted) {
      try {
        await this.step(round);
      } catch (error) {
        if (round.aborted || this.ended) return;
        if (error instanceof Error && error.name === "ConnectionLossError") continue;
        // A call of the expired session; the next ones wait for its successor.
        if (error instanceof SessionExpiredError && this.zk.renewsExpiredSession) continue;
        // Not ours to recover from (NoAuth on the election's znode, say): end the election,
        // and take our node out of the queue so that it does not block the others.
        this.end(error instanceof Error ? error : new Error(String(error)), "closed");
        const node = this.node;
        if (node !== undefined) await deleteHeldNode(this.zk, node).catch(() => undefined);
        return;
      }
    }
  }

  /** One look at the children, then a wait for whatever could change our place in the queue. */
  private async step(round: AbortSignal): Promise<void> {
    this.ourNode ??= await createCandidate(this.zk, this.path, this.nodeData);
    if (round.aborted) return;
    this.childrenReads += 1;
    const candidates = sortedCandidates(await this.zk.getChildren(this.path));
    const index = this.ourNode === undefined ? -1 : candidates.indexOf(this.ourNode);
    if (index < 0) {
      // Someone deleted our node: we no longer stand; queue up again.
      this.ourNode = undefined;
      this.setLeading(false, "nodeDeleted");
      return;
    }
    const leaderNode = candidates[0]!;
    const leader = await this.noteLeader(leaderNode);
    if (leader === undefined || round.aborted) return;
    const watched = index === 0 ? leaderNode : candidates[index - 1]!;
    const waits = [this.watchGone(watched)];
    if (index > 1 && this.options.trackLeader) waits.push(this.watchGone(leaderNode));
    const watches = await Promise.all(waits);
    if (watches.some((w) => w === null) || round.aborted) return;
    if (index === 0 && this.connected()) {
      if (!this.leading) {
        this.leading = true;
        this.channel.emit({ type: "elected", leader });
      }
    }
    await this.until(watches as { fired: Promise<unknown> }[], round);
  }

  /** Reads the leader's id and data when the leader changed; undefined if it is gone already. */
  private async noteLeader(leaderNode: string): Promise<Leader | undefined> {
    const path = `${this.path}/${leaderNode}`;
    if (leaderNode === this.ourNode) {
      const leader = decodeCandidate(path, this.nodeData);
      this.announce(leaderNode, leader);
      return leader;
    }
    try {
      const leader = decodeCandidate(path, (await this.zk.getData(path)).data);
      this.announce(leaderNode, leader);
      return leader;
    } catch (error) {
      if (error instanceof Error && error.name === "NoNodeError") return undefined;
      throw error;
    }
  }

  private announce(leaderNode: string, leader: Leader): void {
    if (this.knownLeader === leaderNode) return;
    this.knownLeader = leaderNode;
    this.channel.emit({ type: "leaderChanged", leader });
  }

  /** An exists watch on a candidate's node: `fired` settles when it changes; null if gone. */
  private async watchGone(node: string): Promise<{ fired: Promise<unknown> } | null> {
    const { stat, watch } = await this.zk.exists(`${this.path}/${node}`, { watch: true });
    // Boxed: a bare promise in the result would be adopted, and awaiting it would wait for the event.
    return stat === null ? null : { fired: watch };
  }

  /** Waits for a watch to fire, a reconnection (wake) or the end of the round. */
  private until(
    watches: readonly { fired: Promise<unknown> }[],
    round: AbortSignal,
  ): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        this.wake = undefined;
        round.removeEventListener("abort", done);
        resolve();
      };
      this.wake = done;
      round.addEventListener("abort", done, { once: true });
      for (const watch of watches) watch.fired.then(done, done);
    });
  }

  private connected(): boolean {
    return this.zk.state === "connected" || this.options.suspendedIsLost === false;
  }
}

/** The reason a leader's work signal aborts when leadership goes. */
export class LeadershipLostError extends Error {
  readonly reason: NotLeaderReason;

  constructor(reason: NotLeaderReason) {
    super(`leadership lost: ${reason}`);
    this.name = "LeadershipLostError";
    this.reason = reason;
  }
}

export interface RunAsLeaderOptions extends LeaderElectionOptions {
  /** Take part again after the work returns (Curator's autoRequeue). Default false. */
  readonly requeue?: boolean;
  /** Leave the election: running work's signal aborts with this reason, and the call resolves. */
  readonly signal?: AbortSignal;
}

/**
 * Curator's LeaderSelector: waits to be elected, runs `work` as the leader, then resigns, so the
 * next in line leads. `work`'s signal aborts with LeadershipLostError when leadership goes (the
 * session ends or, by default, the client disconnects): the work must stop then. With `requeue`
 * the candidate queues up again after every run (also after a lost leadership, once the client
 * is back), until `signal` aborts.
 *
 * Resolves when it stops taking part: after one run without `requeue`, or when `signal` aborts.
 * Rejects with what `work` throws, or with the error that ended the election (SessionExpiredError
 * when it was to take part again on a client without renewal; a new session needs a new call).
 */
export async function runAsLeader(
  zk: ZooKeeper,
  path: string,
  work: (signal: AbortSignal) => Promise<void>,
  options: RunAsLeaderOptions,
): Promise<void> {
  const { requeue = false, signal, ...electionOptions } = options;
  const election = new LeaderElection(zk, path, electionOptions);
  try {
    do {
      election.start();
      await election.elected(signal === undefined ? {} : { signal });
      if (!election.isLeader) continue; // lost again before we could start: wait once more
      await leadOnce(election, work, signal);
      await election.resign();
    } while (requeue && !signal?.aborted);
  } catch (error) {
    if (!signal?.aborted) throw error;
  } finally {
    await election.close();
  }
}

async function leadOnce(
  election: LeaderElection,
  work: (signal: AbortSignal) => Promise<void>,
  signal: AbortSignal | undefined,
): Promise<void> {
  const leadership = new AbortController();
  const off = election.on((event) => {
    if (event.type === "notLeader") leadership.abort(new LeadershipLostError(event.reason));
  });
  const onAbort = () => leadership.abort(signal?.reason);
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    await work(leadership.signal);
  } finally {
    off();
    signal?.removeEventListener("abort", onAbort);
  }
}
