/**
 * A persistent or persistent-recursive watch (addWatch): an async iterator of its events that
 * stays registered across events and reconnects until removed, the session ends, or the loop
 * that reads it breaks.
 */
import { EventQueue } from "./event-queue.js";
import type { WatchEvent, WatchListener } from "./types.js";

export class PersistentWatch implements AsyncIterable<WatchEvent> {
  readonly path: string;
  readonly recursive: boolean;
  /** The listener registered with the client for this watch. */
  readonly listener: WatchListener;
  private readonly queue: EventQueue<WatchEvent>;
  private readonly unregister: (watch: PersistentWatch) => Promise<void>;

  constructor(
    path: string,
    recursive: boolean,
    unregister: (watch: PersistentWatch) => Promise<void>,
  ) {
    this.path = path;
    this.recursive = recursive;
    this.unregister = unregister;
    this.queue = new EventQueue<WatchEvent>(() => {
      void this.remove().catch(() => {});
    });
    this.listener = (event) => {
      // The final None event (expired, closed) or our own removal ends the stream.
      if (event.type === "None" || event.type === "PersistentWatchRemoved") this.queue.end();
      else this.queue.push(event);
    };
  }

  [Symbol.asyncIterator](): AsyncIterator<WatchEvent> {
    return this.queue;
  }

  /**
   * Removes the watch from the client and the server; iteration ends. Idempotent: every call
   * returns the same removal, so a remove() after `break` (which starts one in the background)
   * still waits until the server has dropped the watch.
   */
  remove(): Promise<void> {
    if (this.removal === undefined) {
      this.queue.end();
      this.removal = this.unregister(this);
    }
    return this.removal;
  }

  private removal: Promise<void> | undefined;
}
