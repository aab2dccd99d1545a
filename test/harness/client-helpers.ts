/** Small waits on our client's own events, for tests: no sleeps, always bounded. */
import type { ClientState, ZooKeeper } from "../../src/index.js";

/**
 * Resolves when `zk` enters `state` (register this before the action that causes it), rejects
 * after `timeoutMs` naming the states it saw instead.
 */
export function stateReached(zk: ZooKeeper, state: ClientState, timeoutMs = 20_000): Promise<void> {
  if (zk.state === state) return Promise.resolve();
  const seen: ClientState[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(
        new Error(
          `state ${state} not reached in ${timeoutMs} ms; saw ${seen.join(" → ") || "nothing"}`,
        ),
      );
    }, timeoutMs);
    const off = zk.onState((s) => {
      seen.push(s);
      if (s !== state) return;
      clearTimeout(timer);
      off();
      resolve();
    });
  });
}

/** Records every state `zk` goes through from now on. */
export function recordStates(zk: ZooKeeper): ClientState[] {
  const seen: ClientState[] = [];
  zk.onState((s) => seen.push(s));
  return seen;
}

/** Rejects after `timeoutMs` if `promise` has not settled: a bound for waits on events. */
export function within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}
