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
 * items of equal priority in FIFO order. The delay queue puts the due time there instead, as 16
 * hex digits, and hands out only the items that are due.
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
const MAX_TIMER_MS = 2 ** 31 - 1;
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

  /** When `item` may be taken, in ms since the epoch; undefined: at once (all but the delay queue). */
  protected dueAt(_item: string): number | undefined {
    return undefined;
  }

  /** Of `items` (head first), those that may be taken now, and when the next of the others is due. */
  private split(items: readonly string[]): { ready: string[]; nextDue: number | undefined } {
    const now = Date.now();
    const ready: string[] = [];
    let nextDue: number | undefined;
    for (const item of items) {
      const due = this.dueAt(item);
      if (due === undefined || due <= now) ready.push(item);
      else if (nextDue === undefined || due < nextDue) nextDue = due;
    }
    return { ready, nextDue };
  }

  /**
   * Takes the head: resolves with its data, or null if the queue is empty (or does not exist).
   * Items taken by other consumers meanwhile are skipped.
   */
  async poll(): Promise<Buffer | null> {
    for (;;) {
      const { ready } = this.split(await this.items());
      if (ready.length === 0) return null;
      const data = await this.takeFirst(ready);
      if (data !== null) return data;
      // Every item listed went to other consumers (who made progress): list again.
    }
  }

  /** The head's data without taking it, or null if the queue is empty. */
  async peek(): Promise<Buffer | null> {
    for (const item of this.split(await this.items()).ready) {
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
        const { ready, nextDue } = this.split(this.sort(listed.children));
        const data = await this.takeFirst(ready);
        if (data !== null) return data;
        // A session that ends fires every watch, so this wait never outlives it. An item not
        // yet due wakes us when it is (Curator's DistributedDelayQueue, on this client's clock).
        let timer: NodeJS.Timeout | undefined;
        const due =
          nextDue === undefined
            ? undefined
            : new Promise<void>((resolve) => {
                // Capped: past 2^31-1 ms Node fires a timer at once, which would spin.
                timer = setTimeout(
                  resolve,
                  Math.min(MAX_TIMER_MS, Math.max(0, nextDue - Date.now())),
                );
              });
        try {
          await raceAbort(
            due === undefined ? listed.watch : Promise.race([listed.watch, due]),
            signal,
          );
        } finally {
          clearTimeout(timer);
        }
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

/**
 * A queue whose items wait until a time of the producer's choosing (Curator's
 * DistributedDelayQueue): take() hands out only items that are due, earliest due first, and
 * waits for the next due time as well as for new items. Due times are absolute (ms since the
 * epoch), compared with the consumer's clock: clocks apart by more than the delay's precision
 * you need make items early or late by that much.
 */
export class DistributedDelayQueue extends BaseQueue {
  /** Adds an item that may be taken from `dueAtMs` (ms since the epoch) on. */
  offer(data: Uint8Array | string, dueAtMs: number): Promise<string> {
    if (!Number.isSafeInteger(dueAtMs) || dueAtMs < 0) {
      throw new RangeError(`dueAtMs must be a time in ms since the epoch, got ${dueAtMs}`);
    }
    return this.offerNamed(`${dueAtMs.toString(16).padStart(16, "0")}-`, data);
  }

  protected sort(children: readonly string[]): string[] {
    const keyed: { child: string; key: string }[] = [];
    for (const child of children) {
      const key = itemKey(child);
      if (key !== undefined && DELAY_KEY.test(key)) keyed.push({ child, key });
    }
    // Fixed-width hex then the sequence: lexical order is due time, then offer order.
    keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return keyed.map((k) => k.child);
  }

  protected override dueAt(item: string): number | undefined {
    const key = itemKey(item);
    return key === undefined ? undefined : Number.parseInt(key.slice(0, 16), 16);
  }
}

const DELAY_KEY = /^[0-9a-f]{16}-\d{10}$/;
