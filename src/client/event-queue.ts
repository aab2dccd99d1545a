/**
 * A push-to-pull bridge: events pushed in arrive, in order, to whoever iterates with `for await`.
 * Ending it finishes every pending and future `next()`. Events wait in memory until read, so a
 * consumer that stops reading should `return()` (break out of its loop) to release them.
 */
import { type Deferred, deferred } from "../util/deferred.js";

export class EventQueue<T> implements AsyncIterableIterator<T> {
  private readonly buffered: T[] = [];
  private readonly waiting: Deferred<IteratorResult<T>>[] = [];
  private ended = false;
  private readonly onReturn: (() => void) | undefined;

  constructor(onReturn?: () => void) {
    this.onReturn = onReturn;
  }

  get done(): boolean {
    return this.ended;
  }

  push(value: T): void {
    if (this.ended) return;
    const waiter = this.waiting.shift();
    if (waiter) waiter.resolve({ value, done: false });
    else this.buffered.push(value);
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    for (const waiter of this.waiting.splice(0)) waiter.resolve({ value: undefined, done: true });
  }

  next(): Promise<IteratorResult<T>> {
    if (this.buffered.length > 0) {
      return Promise.resolve({ value: this.buffered.shift() as T, done: false });
    }
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    const waiter = deferred<IteratorResult<T>>();
    this.waiting.push(waiter);
    return waiter.promise;
  }

  return(): Promise<IteratorResult<T>> {
    this.buffered.length = 0;
    this.end();
    this.onReturn?.();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }
}
