/**
 * `retry()`: a call tried again through the failures after which it may succeed, with
 * exponential backoff and jitter, as kazoo's KazooRetry and Curator's RetryLoop do.
 *
 *     const { data } = await retry(() => zk.getData("/config"));
 *     await retry(() => zk.setData("/config", next, { version }), { maxAttempts: 10 });
 *
 * Retried by default: connection loss, operation timeout, session moved and throttled
 * (`isRetriable`). Any other error, and the last one when the attempts run out, is thrown as
 * it is, so `instanceof` checks work on what comes out.
 *
 * A connection loss leaves it unknown whether the server applied the request. Retrying a read,
 * a versioned write or a check is safe. A create tried again may meet its own node
 * (NodeExistsError), a sequential one may leave a second node, and a delete may find its node
 * gone (NoNodeError): the recipes handle those cases themselves (protected names); treat them
 * in your own code. An expired session is not retried (a new session is another client, or
 * connect's renewExpiredSession).
 */
import { setTimeout as sleep } from "node:timers/promises";
import { InvalidArgumentError, isRetriable } from "../protocol/errors.js";

export interface RetryOptions {
  /** Attempts in all, the first included (default 5). */
  readonly maxAttempts?: number;
  /** Delay before the second attempt; doubled before each later one (default 100 ms). */
  readonly baseDelayMs?: number;
  /** The longest delay between attempts (default 5000 ms). */
  readonly maxDelayMs?: number;
  /** Which errors are worth another attempt (default `isRetriable`). */
  readonly retryOn?: (error: unknown) => boolean;
  /** Stops waiting for the next attempt: rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /** Jitter's source, [0, 1) (default Math.random). */
  readonly random?: () => number;
}

/** Calls `call` (with the attempt number, from 1) until it succeeds or may not be retried. */
export async function retry<T>(
  call: (attempt: number) => Promise<T>,
  options: RetryOptions = {},
): Promise<T> {
  const maxAttempts = options.maxAttempts ?? 5;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
    throw new InvalidArgumentError(`maxAttempts must be an integer >= 1, got ${maxAttempts}`);
  }
  const baseDelayMs = options.baseDelayMs ?? 100;
  const maxDelayMs = Math.max(baseDelayMs, options.maxDelayMs ?? 5000);
  const retryOn = options.retryOn ?? isRetriable;
  const random = options.random ?? Math.random;
  const { signal } = options;
  for (let attempt = 1; ; attempt++) {
    signal?.throwIfAborted();
    try {
      return await call(attempt);
    } catch (error) {
      if (attempt >= maxAttempts || !retryOn(error)) throw error;
    }
    // Half fixed, half random: clients that lost the same server do not come back in step.
    const delay = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
    await sleep(delay / 2 + (random() * delay) / 2, undefined, signal ? { signal } : {}).catch(() =>
      signal?.throwIfAborted(),
    );
  }
}
