/**
 * Two-phase commit (ZooKeeper recipes page, "Two-phased Commit"): a coordinator creates a
 * transaction node with one child per site; each site writes its vote to its child; the
 * coordinator collects the votes and writes the outcome to the transaction node's data, which
 * every site watches.
 *
 *     // the coordinator
 *     const outcome = await TwoPhaseCommit.coordinate(zk, "/tx/42", ["a", "b", "c"], {
 *       timeoutMs: 5000,
 *     });
 *     // each site, in its own session
 *     const outcome = await new TwoPhaseParticipant(zk, "/tx/42", "a").vote("commit");
 *
 * The outcome is "commit" only if every site voted "commit"; one "abort" decides "abort" at
 * once, and so does a coordinator's timeout. A site that votes before the coordinator has
 * created the transaction waits for its child node to appear; a site that comes after the
 * outcome was written learns it without voting.
 *
 * Votes and the outcome are UTF-8 strings ("commit" / "abort"); empty data means "not yet".
 * The transaction node and its children are persistent and left in place for late readers:
 * delete them with TwoPhaseCommit.remove() once every site has the outcome.
 */
import { ConnectionLossError, NoNodeError, type ZooKeeper } from "../index.js";
import { withDeadline } from "./barrier.js";
import { ensurePath, raceAbort } from "./lock-internals.js";

export type Vote = "commit" | "abort";
export type Outcome = Vote;

export interface CoordinateOptions {
  /** Abort the wait for votes: coordinate() rejects with the signal's reason, writing nothing. */
  readonly signal?: AbortSignal;
  /** Votes missing after this long decide "abort" (which is written as the outcome). */
  readonly timeoutMs?: number;
}

export interface VoteOptions {
  /** Stop waiting (for the child node or the outcome): vote() rejects with the reason. */
  readonly signal?: AbortSignal;
}

/** A lost reply is asked again; each attempt waits for a server on its own. */
const READ_ATTEMPTS = 10;

function parseVote(data: Uint8Array): Vote | undefined {
  const text = Buffer.from(data).toString("utf8");
  if (text === "") return undefined;
  if (text === "commit" || text === "abort") return text;
  throw new Error(`not a two-phase commit vote: ${JSON.stringify(text)}`);
}

/**
 * Reads `path`'s data until it holds a vote, watching it in between. Resolves with the vote;
 * rejects with NoNodeError if the node does not exist, with the signal's reason on abort.
 */
async function awaitVote(zk: ZooKeeper, path: string, signal: AbortSignal | undefined) {
  const callOptions = signal === undefined ? {} : { signal };
  for (let lost = 0; ; ) {
    let read: { data: Uint8Array; watch: Promise<unknown> };
    try {
      read = await zk.getData(path, { ...callOptions, watch: true });
    } catch (error) {
      if (error instanceof ConnectionLossError && ++lost < READ_ATTEMPTS) continue;
      throw error;
    }
    const vote = parseVote(read.data);
    if (vote !== undefined) return vote;
    // A session that ends fires every watch, so this wait never outlives it.
    await raceAbort(read.watch, signal);
  }
}

export const TwoPhaseCommit = {
  /**
   * Runs one transaction as its coordinator: creates `path` (and missing parents) with a child
   * per site, collects the votes and writes the outcome to `path`'s data; resolves with it.
   * Rejects with NodeExistsError if `path` exists already (a transaction runs once).
   */
  async coordinate(
    zk: ZooKeeper,
    path: string,
    sites: readonly string[],
    options: CoordinateOptions = {},
  ): Promise<Outcome> {
    if (sites.length === 0) throw new RangeError("a transaction needs at least one site");
    if (new Set(sites).size !== sites.length) throw new RangeError("site names must be unique");
    options.signal?.throwIfAborted();
    const parent = path.slice(0, path.lastIndexOf("/"));
    if (parent !== "") await ensurePath(zk, parent);
    // One multi: a site sees the transaction with all its children or not at all.
    await zk.multi([
      { type: "create", path },
      ...sites.map((site) => ({ type: "create" as const, path: `${path}/${site}` })),
    ]);
    const outcome = await withDeadline<Outcome>(options, "abort", (signal) =>
      collectVotes(zk, path, sites, signal),
    );
    await zk.setData(path, outcome);
    return outcome;
  },

  /** The outcome written to `path`, or undefined while undecided. */
  async outcome(zk: ZooKeeper, path: string): Promise<Outcome | undefined> {
    return parseVote((await zk.getData(path)).data);
  },

  /** Deletes a finished transaction's node and its children (missing ones are fine). */
  async remove(zk: ZooKeeper, path: string): Promise<void> {
    let children: string[];
    try {
      children = await zk.getChildren(path);
    } catch (error) {
      if (error instanceof NoNodeError) return;
      throw error;
    }
    for (const child of [...children, ""]) {
      try {
        await zk.delete(child === "" ? path : `${path}/${child}`);
      } catch (error) {
        if (!(error instanceof NoNodeError)) throw error;
      }
    }
  },
};

/** "abort" as soon as one site aborts, "commit" once every site has committed. */
async function collectVotes(
  zk: ZooKeeper,
  path: string,
  sites: readonly string[],
  outer: AbortSignal | undefined,
): Promise<Outcome> {
  // Stops the other sites' waits once the outcome is known.
  const done = new AbortController();
  const signal = outer === undefined ? done.signal : AbortSignal.any([outer, done.signal]);
  try {
    return await new Promise<Outcome>((resolve, reject) => {
      let commits = 0;
      for (const site of sites) {
        awaitVote(zk, `${path}/${site}`, signal).then((vote) => {
          if (vote === "abort") resolve("abort");
          else if (++commits === sites.length) resolve("commit");
        }, reject);
      }
    });
  } finally {
    done.abort();
  }
}

export class TwoPhaseParticipant {
  readonly path: string;
  readonly site: string;
  private readonly zk: ZooKeeper;

  constructor(zk: ZooKeeper, path: string, site: string) {
    this.zk = zk;
    this.path = path;
    this.site = site;
  }

  /**
   * Writes this site's vote and resolves with the transaction's outcome once the coordinator
   * has written it. Waits for the transaction (its child node) to be created first; if the
   * outcome is already known, resolves with it without voting.
   */
  async vote(vote: Vote, options: VoteOptions = {}): Promise<Outcome> {
    const { signal } = options;
    signal?.throwIfAborted();
    const child = `${this.path}/${this.site}`;
    await this.awaitNode(child, signal);
    const early = await TwoPhaseCommit.outcome(this.zk, this.path);
    if (early !== undefined) return early;
    await this.zk.setData(child, vote);
    return awaitVote(this.zk, this.path, signal);
  }

  /** Resolves once `path` exists (an exists watch fires on its creation). */
  private async awaitNode(path: string, signal: AbortSignal | undefined): Promise<void> {
    const callOptions = signal === undefined ? {} : { signal };
    for (let lost = 0; ; ) {
      let watched: { stat: unknown; watch: Promise<unknown> };
      try {
        watched = await this.zk.exists(path, { ...callOptions, watch: true });
      } catch (error) {
        if (error instanceof ConnectionLossError && ++lost < READ_ATTEMPTS) continue;
        throw error;
      }
      if (watched.stat !== null) return;
      await raceAbort(watched.watch, signal);
    }
  }
}
