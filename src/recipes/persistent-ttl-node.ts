/**
 * A node that lives while this object runs and for about `ttlMs` after it stops, whatever
 * happens to sessions (Curator's PersistentTtlNode): "this process was alive lately", where an
 * ephemeral node would say "this session is alive".
 *
 *     const node = new PersistentTtlNode(zk, "/workers/w7", "10.0.0.7", { ttlMs: 10_000 });
 *     await node.start();
 *     await node.close();                        // deleted now; a crash: gone within ~ttlMs
 *
 * The node is a CONTAINER kept by a PersistentNode, with one child, `touch`, a TTL node that is
 * written every `ttlMs / touchScheduleFactor`. The server deletes a childless TTL node not
 * written for its TTL, and then the container it leaves empty (ZooKeeper's ContainerManager,
 * every znode.container.checkIntervalMs). Needs a server with extendedTypesEnabled.
 */
import {
  ConnectionLossError,
  CreateMode,
  NodeExistsError,
  NoNodeError,
  type ZooKeeper,
} from "../index.js";
import { deleteHeldNode } from "./lock-internals.js";
import { PersistentNode } from "./persistent-node.js";
import { followSession } from "./session-follower.js";

export interface PersistentTtlNodeOptions {
  /** How long the node outlives the last touch. */
  readonly ttlMs: number;
  /** Touches per TTL (default 2, as Curator). */
  readonly touchScheduleFactor?: number;
  /** The child written to keep the node alive (default "touch"). */
  readonly childName?: string;
}

export class PersistentTtlNode {
  readonly path: string;
  private readonly zk: ZooKeeper;
  private readonly ttlMs: number;
  private readonly touchPath: string;
  private readonly touchEveryMs: number;
  private readonly node: PersistentNode;
  private timer: NodeJS.Timeout | undefined;
  private offState: (() => void) | undefined;
  private touching: Promise<void> | undefined;

  constructor(
    zk: ZooKeeper,
    path: string,
    data: Uint8Array | string = "",
    options: PersistentTtlNodeOptions,
  ) {
    const { ttlMs, touchScheduleFactor = 2, childName = "touch" } = options;
    if (!Number.isInteger(ttlMs) || ttlMs <= 0) {
      throw new RangeError(`ttlMs must be a positive integer, got ${ttlMs}`);
    }
    if (!(touchScheduleFactor >= 1)) {
      throw new RangeError(`touchScheduleFactor must be >= 1, got ${touchScheduleFactor}`);
    }
    this.zk = zk;
    this.path = path;
    this.ttlMs = ttlMs;
    this.touchPath = `${path === "/" ? "" : path}/${childName}`;
    this.touchEveryMs = Math.max(1, Math.floor(ttlMs / touchScheduleFactor));
    this.node = new PersistentNode(zk, path, data, { mode: CreateMode.CONTAINER });
  }

  /** Creates the node and its first touch, then touches it on schedule until close(). */
  async start(): Promise<void> {
    await this.node.start();
    await this.touch();
    this.timer = setInterval(() => {
      // One touch at a time: a slow one (a server being looked for) is not piled onto.
      this.touching ??= this.touch()
        .catch(() => {})
        .finally(() => {
          this.touching = undefined;
        });
    }, this.touchEveryMs);
    // Touching stops with the client: the node then lives out its TTL, as after a crash.
    this.offState = followSession(this.zk, { ended: () => this.stop() });
  }

  /** Replaces the node's data, now and in every later re-creation. */
  setData(data: Uint8Array | string): Promise<void> {
    return this.node.setData(data);
  }

  /** Stops touching and deletes the node now (its touch child first). */
  async close(): Promise<void> {
    this.stop();
    await this.touching;
    // The child first: a container with children cannot be deleted. If the server deletes the
    // emptied container meanwhile, the PersistentNode makes it again, and close() deletes it.
    await deleteHeldNode(this.zk, this.touchPath).catch(() => {});
    await this.node.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.offState?.();
  }

  /** Writes the touch node (creating it, and the container if it went, as needed). */
  private async touch(): Promise<void> {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await this.zk.setData(this.touchPath, "");
        return;
      } catch (error) {
        if (!(error instanceof NoNodeError || error instanceof ConnectionLossError)) throw error;
      }
      try {
        await this.zk.create(this.touchPath, "", {
          mode: CreateMode.PERSISTENT_WITH_TTL,
          ttlMs: this.ttlMs,
        });
        return;
      } catch (error) {
        // NoNode: the container went (emptied, or deleted): the PersistentNode makes it again.
        if (!(error instanceof NodeExistsError || error instanceof NoNodeError)) throw error;
      }
    }
  }
}
