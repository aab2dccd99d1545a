/**
 * A double barrier (ZooKeeper recipes page "Double Barriers", Curator's DistributedDoubleBarrier):
 * `memberCount` clients enter together, compute, and leave together.
 *
 *     const barrier = new DoubleBarrier(zk, "/barriers/round", 3);
 *     if (await barrier.enter({ timeoutMs: 10_000 })) {
 *       ...                                    // every member is in
 *       await barrier.leave();                 // resolves once every member is out
 *     }
 *
 * Layout: each member is an EPHEMERAL node `<path>/<uuid>`; `<path>/ready` appears when the
 * members are complete. enter() creates our node and, unless `ready` exists, counts the
 * members: the one who completes the count creates `ready`, the others wait on an exists watch
 * on it. leave() follows the recipes page: the lowest member (by name) waits for the highest to
 * go, every other member deletes its node and waits for the lowest to go; the lowest deletes its
 * node last, so no leave() returns before every member has left. The last one out removes
 * `ready`, so the path can serve another round once every member of this one has left.
 */
import { randomUUID } from "node:crypto";
import {
  ConnectionLossError,
  CreateMode,
  NodeExistsError,
  NoNodeError,
  type ZooKeeper,
} from "../index.js";
import { type WaitOptions, withDeadline } from "./barrier.js";
import { ensurePath, raceAbort } from "./lock-internals.js";

/** The node whose existence says every member has entered (Curator's READY_NODE). */
export const READY_NODE = "ready";

/** Bounded retries of a write whose reply was lost; each waits for a server on its own. */
const WRITE_ATTEMPTS = 10;

export class DoubleBarrier {
  readonly path: string;
  readonly memberCount: number;
  private readonly zk: ZooKeeper;
  private readonly ourNode = randomUUID();
  private readonly readyPath: string;

  constructor(zk: ZooKeeper, path: string, memberCount: number) {
    if (!Number.isInteger(memberCount) || memberCount < 1) {
      throw new RangeError(`memberCount must be a positive integer, got ${memberCount}`);
    }
    this.zk = zk;
    this.path = path;
    this.memberCount = memberCount;
    this.readyPath = `${path}/${READY_NODE}`;
  }

  /** Our member node's path. */
  get ourPath(): string {
    return `${this.path}/${this.ourNode}`;
  }

  /**
   * Enters: resolves true once `memberCount` members have entered, false after `timeoutMs`;
   * rejects with the signal's reason on abort. On false or a rejection our member node is
   * deleted, so that a member who gave up is not counted.
   */
  async enter(options: WaitOptions = {}): Promise<boolean> {
    try {
      const entered = await withDeadline(options, false, (signal) => this.enterNow(signal));
      if (!entered) await this.deleteOurNode();
      return entered;
    } catch (error) {
      await this.deleteOurNode().catch(() => undefined);
      throw error;
    }
  }

  /**
   * Leaves: resolves true once every member has left (deleted its node), false after
   * `timeoutMs`; rejects with the signal's reason on abort. Our node may be gone already when
   * it gives up: the others then count us as left.
   */
  leave(options: WaitOptions = {}): Promise<boolean> {
    return withDeadline(options, false, (signal) => this.leaveNow(signal));
  }

  /** The member nodes present now, sorted by name. */
  async members(): Promise<string[]> {
    try {
      const children = await this.zk.getChildren(this.path);
      return children.filter((child) => child !== READY_NODE).sort();
    } catch (error) {
      if (error instanceof NoNodeError) return [];
      throw error;
    }
  }

  private async enterNow(signal: AbortSignal | undefined): Promise<boolean> {
    await this.createOurNode();
    const callOptions = signal === undefined ? {} : { signal };
    for (;;) {
      try {
        // The watch goes on before the count: a `ready` created after the count wakes us.
        const { stat, watch } = await this.zk.exists(this.readyPath, {
          ...callOptions,
          watch: true,
        });
        if (stat !== null) return true;
        const members = await this.members();
        if (members.length >= this.memberCount) {
          await this.zk.create(this.readyPath).catch((error: unknown) => {
            if (!(error instanceof NodeExistsError)) throw error;
          });
          return true;
        }
        await raceAbort(watch, signal);
      } catch (error) {
        if (!(error instanceof ConnectionLossError)) throw error;
      }
    }
  }

  private async leaveNow(signal: AbortSignal | undefined): Promise<boolean> {
    const callOptions = signal === undefined ? {} : { signal };
    for (;;) {
      try {
        const members = await this.members();
        const lowest = members[0];
        const highest = members[members.length - 1];
        if (lowest === undefined || highest === undefined) return true;
        if (members.length === 1 && lowest === this.ourNode) {
          await this.deleteOurNode();
          await this.deleteReady();
          return true;
        }
        // The lowest waits for the highest; every other member goes, then waits for the lowest.
        const awaited = lowest === this.ourNode ? highest : lowest;
        if (awaited === lowest) await this.deleteOurNode();
        const { stat, watch } = await this.zk.exists(`${this.path}/${awaited}`, {
          ...callOptions,
          watch: true,
        });
        if (stat !== null) await raceAbort(watch, signal);
      } catch (error) {
        if (!(error instanceof ConnectionLossError)) throw error;
      }
    }
  }

  /** Creates our EPHEMERAL member node; its uuid name makes NodeExists after a lost reply ours. */
  private async createOurNode(): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.zk.create(this.ourPath, "", { mode: CreateMode.EPHEMERAL });
        return;
      } catch (error) {
        if (error instanceof NodeExistsError) return;
        if (attempt >= WRITE_ATTEMPTS) throw error;
        if (error instanceof NoNodeError) await ensurePath(this.zk, this.path);
        else if (!(error instanceof ConnectionLossError)) throw error;
      }
    }
  }

  private async deleteOurNode(): Promise<void> {
    await this.deleteIfThere(this.ourPath);
  }

  private async deleteReady(): Promise<void> {
    await this.deleteIfThere(this.readyPath);
  }

  private async deleteIfThere(path: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.zk.delete(path);
        return;
      } catch (error) {
        if (error instanceof NoNodeError) return;
        if (!(error instanceof ConnectionLossError) || attempt >= WRITE_ATTEMPTS) throw error;
      }
    }
  }
}
