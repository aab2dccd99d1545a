/**
 * Distributed queues (ZooKeeper recipes page "Queues" and "Priority Queues", Curator's
 * SimpleDistributedQueue and DistributedPriorityQueue).
 *
 *     const queue = new DistributedQueue(zk, "/queues/jobs");
 *     await queue.offer("job 1");                       // producers
 *     const item = await queue.take({ timeoutMs: 5000 }); // consumers: a Buffer, or null
 *
 * Each item is a PERSISTENT_SEQUENTIAL node under the queue's path, named
 * `_c_<uuid>-qn-<sequence>`: the sequence orders the queue (FIFO), and the protected uuid prefix
 * (as in the locks) lets an offer whose reply was lost find its node instead of adding the item
 * twice. A consumer lists the children, sorts them, reads the head and deletes it; the delete
 * decides who got the item: NoNode means another consumer did, so it tries the next one. Items
 * are therefore delivered at most once. One case is ambiguous, as in Curator: a delete whose
 * reply is lost to a dropped connection and then answered NoNode may have been ours; the item
 * is then treated as taken by someone else.
 *
 * The priority queue puts the priority in the name before the sequence, `..qn-<priority>-<seq>`,
 * encoded (as Curator does) so that the names' lexical order serves lower numbers first, and
 * items of equal priority in FIFO order.
 */
import { randomUUID } from "node:crypto";
import {
  ConnectionLossError,
  CreateMode,
  NoNodeError,
  type WatchEvent,
  type ZooKeeper,
} from "../index.js";
import { type WaitOptions, withDeadline } from "./barrier.js";
import {
  ensurePath,
  findByPrefix,
  PROTECTED_PREFIX,
  raceAbort,
  sortChildren,
} from "./lock-internals.js";

/** The name part of every item node (Curator's QUEUE_PREFIX). */
export const QUEUE_ITEM_NAME = "qn-";

/** Bounded retries of a call whose reply was lost; each waits for a server on its own. */
const CALL_ATTEMPTS = 10;

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

/**
 * The priority as 9 characters whose lexical order is the numeric order of 32-bit integers:
 * "0" or "1" for the sign, then the two's complement in 8 upper-case hex digits (Curator's
 * DistributedPriorityQueue).
 */
export function priorityKey(priority: number): string {
  if (!Number.isInteger(priority) || priority < INT32_MIN || priority > INT32_MAX) {
    throw new RangeError(`priority must be a 32-bit integer, got ${priority}`);
  }
  const hex = (priority >>> 0).toString(16).toUpperCase().padStart(8, "0");
  return `${priority >= 0 ? "1" : "0"}${hex}`;
}

/** The part of an item node's name after QUEUE_ITEM_NAME (uuid ignored), or undefined. */
function itemKey(child: string): string | undefined {
  const at = child.lastIndexOf(QUEUE_ITEM_NAME);
  return at < 0 ? undefined : child.slice(at + QUEUE_ITEM_NAME.length);
}

/** What both queues share: offer a named item, and poll, peek and take the head. */
export abstract class BaseQueue {
  readonly path: string;
  protected readonly zk: ZooKeeper;

  constructor(zk: ZooKeeper, path: string) {
    this.zk = zk;
    this.path = path;
  }

  /** The item nodes among `children`, head first. */
  protected abstract sort(children: readonly string[]): string[];

  /**
   * Takes the head: resolves with its data, or null if the queue is empty (or does not exist).
   * Items taken by other consumers meanwhile are skipped.
   */
  async poll(): Promise<Buffer | null> {
    for (;;) {
      const items = await this.items();
      if (items.length === 0) return null;
      const data = await this.takeFirst(items);
      if (data !== null) return data;
      // Every item listed went to other consumers (who made progress): list again.
    }
  }

  /** The head's data without taking it, or null if the queue is empty. */
  async peek(): Promise<Buffer | null> {
    for (const item of await this.items()) {
      try {
        return (await this.zk.getData(`${this.path}/${item}`)).data;
      } catch (error) {
        if (!(error instanceof NoNodeError)) throw error;
      }
    }
    return null;
  }

  /**
   * Takes the head, waiting (on a child watch) while the queue is empty. Resolves with its data,
   * or null after `timeoutMs`; rejects with the signal's reason on abort. An abort never loses
   * an item: once the delete is sent, the call resolves with the item.
   */
  take(options: WaitOptions = {}): Promise<Buffer | null> {
    return withDeadline(options, null, async (signal) => {
      const callOptions = signal === undefined ? {} : { signal };
      for (;;) {
        let listed: { children: string[]; watch: Promise<WatchEvent> };
        try {
          listed = await this.zk.getChildren(this.path, { ...callOptions, watch: true });
        } catch (error) {
          if (error instanceof ConnectionLossError) continue;
          if (!(error instanceof NoNodeError)) throw error;
          await ensurePath(this.zk, this.path);
          continue;
        }
        const data = await this.takeFirst(this.sort(listed.children));
        if (data !== null) return data;
        // A session that ends fires every watch, so this wait never outlives it.
        await raceAbort(listed.watch, signal);
      }
    });
  }

  /** The item nodes now, head first ([] if the queue's node does not exist). */
  async items(): Promise<string[]> {
    try {
      return this.sort(await this.zk.getChildren(this.path));
    } catch (error) {
      if (error instanceof NoNodeError) return [];
      throw error;
    }
  }

  /** Adds `<path>/_c_<uuid>-qn-<suffix><sequence>`; resolves with the item's path. */
  protected async offerNamed(suffix: string, data: Uint8Array | string): Promise<string> {
    const prefix = `${PROTECTED_PREFIX}${randomUUID()}-`;
    let lostReply = false;
    for (let attempt = 0; ; attempt++) {
      try {
        if (lostReply) {
          const found = await findByPrefix(this.zk, this.path, prefix);
          if (found !== undefined) return found;
        }
        return await this.zk.create(`${this.path}/${prefix}${QUEUE_ITEM_NAME}${suffix}`, data, {
          mode: CreateMode.PERSISTENT_SEQUENTIAL,
        });
      } catch (error) {
        if (attempt >= CALL_ATTEMPTS) throw error;
        if (error instanceof ConnectionLossError) lostReply = true;
        else if (error instanceof NoNodeError) await ensurePath(this.zk, this.path);
        else throw error;
      }
    }
  }

  /** Takes the first of `items` still there: its data, or null if others took them all. */
  private async takeFirst(items: readonly string[]): Promise<Buffer | null> {
    for (const item of items) {
      const data = await this.tryTake(`${this.path}/${item}`);
      if (data !== null) return data;
    }
    return null;
  }

  /** Reads and deletes one item: its data, or null if another consumer deleted it first. */
  private async tryTake(path: string): Promise<Buffer | null> {
    let data: Buffer | undefined;
    for (let attempt = 0; ; attempt++) {
      try {
        data ??= (await this.zk.getData(path)).data;
        await this.zk.delete(path);
        return data;
      } catch (error) {
        if (error instanceof NoNodeError) return null;
        if (!(error instanceof ConnectionLossError) || attempt >= CALL_ATTEMPTS) throw error;
      }
    }
  }
}

/** A FIFO queue (Curator's SimpleDistributedQueue). */
export class DistributedQueue extends BaseQueue {
  /** Adds an item at the tail; resolves with its node's path. */
  offer(data: Uint8Array | string): Promise<string> {
    return this.offerNamed("", data);
  }

  protected sort(children: readonly string[]): string[] {
    return sortChildren(children, [QUEUE_ITEM_NAME]);
  }
}

/** A priority queue: lower priority numbers first, FIFO among equals (Curator's). */
export class DistributedPriorityQueue extends BaseQueue {
  /** Adds an item with `priority`, a 32-bit integer; resolves with its node's path. */
  offer(data: Uint8Array | string, priority: number): Promise<string> {
    return this.offerNamed(`${priorityKey(priority)}-`, data);
  }

  protected sort(children: readonly string[]): string[] {
    const keyed: { child: string; key: string }[] = [];
    for (const child of children) {
      const key = itemKey(child);
      if (key !== undefined && /^[01][0-9A-F]{8}-\d{10}$/.test(key)) keyed.push({ child, key });
    }
    keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return keyed.map((k) => k.child);
  }
}
