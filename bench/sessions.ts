/**
 * The load loop the benchmarks share: ops kept in flight on one session, and counts spread over
 * sessions.
 */
import type { Issue } from "./drivers.js";

/** `count` split as evenly as possible into `parts` whole numbers, larger ones first. */
export function split(count: number, parts: number): number[] {
  return Array.from(
    { length: parts },
    (_, i) => Math.floor(count / parts) + (i < count % parts ? 1 : 0),
  );
}

/**
 * Keeps `concurrency` calls of `issue` in flight on one session until `shouldStop()` says so
 * (checked before each new call) or `count` calls were made; records each call's latency (ms).
 * A session answers in order, so each completion belongs to the oldest call in flight.
 */
export function runSession(
  issue: Issue,
  pathOf: (i: number) => string,
  concurrency: number,
  count: number,
  shouldStop: () => boolean,
  latencies: number[],
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const ring = Math.max(1, Math.min(concurrency, count));
    const starts = new Float64Array(ring);
    let head = 0;
    let tail = 0;
    let issued = 0;
    let done = 0;
    let failed = false;
    const start = (): void => {
      starts[tail] = performance.now();
      tail = tail + 1 === ring ? 0 : tail + 1;
      issue(pathOf(issued++), ok, fail);
    };
    const ok = (): void => {
      if (failed) return;
      latencies.push(performance.now() - starts[head]!);
      head = head + 1 === ring ? 0 : head + 1;
      done++;
      if (issued < count && !shouldStop()) start();
      else if (done === issued) resolve();
    };
    const fail = (error: unknown): void => {
      if (failed) return;
      failed = true;
      reject(error instanceof Error ? error : new Error(String(error)));
    };
    if (count === 0) resolve();
    else while (issued < ring) start();
  });
}
