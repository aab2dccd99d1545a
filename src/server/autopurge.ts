/**
 * autopurge.*, as ZooKeeper's DatadirCleanupManager runs it: when autopurge.purgeInterval (hours)
 * is positive and there is a dataDir, purge at once and then every interval, keeping
 * autopurge.snapRetainCount snapshots and the logs they need (storage/purge.ts). A failed purge
 * is logged and the schedule carries on, as PurgeTask does.
 */
import { purge } from "../storage/purge.js";
import type { ResolvedServerOptions } from "./config.js";
import type { Logger } from "./logger.js";

const HOUR_MS = 3_600_000;
/** Node's timers overflow past 2^31 - 1 ms (about 24.8 days); longer waits are chained. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Schedules the purge task; returns a function that cancels it (idempotent). With autopurge off
 * or no dataDir it schedules nothing, logs nothing, and returns a no-op. The timers are unref'd:
 * the schedule never keeps the process alive.
 */
export function scheduleAutopurge(options: ResolvedServerOptions, log: Logger): () => void {
  const { dataDir, dataLogDir, autopurgePurgeIntervalHours, autopurgeSnapRetainCount } = options;
  if (dataDir === undefined || autopurgePurgeIntervalHours <= 0) return () => {};
  const intervalMs = autopurgePurgeIntervalHours * HOUR_MS;
  const run = () => {
    try {
      const { removed, failed } = purge({
        dataDir,
        ...(dataLogDir !== undefined && { dataLogDir }),
        retainCount: autopurgeSnapRetainCount,
      });
      if (removed.length > 0) log.info({ removed }, `purged ${removed.length} old files`);
      for (const { path, reason } of failed) log.warn({ path, reason }, "purge: failed to remove");
    } catch (error) {
      log.warn({ error: (error as Error).message }, "purge failed");
    }
  };
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  // Waits `remainingMs` in steps a Node timer can take, then runs and starts the next interval.
  const wait = (remainingMs: number) => {
    const stepMs = Math.min(remainingMs, MAX_TIMER_MS);
    timer = setTimeout(() => {
      if (stopped) return;
      if (remainingMs > stepMs) return wait(remainingMs - stepMs);
      run();
      if (!stopped) wait(intervalMs);
    }, stepMs);
    timer.unref();
  };
  // DatadirCleanupManager schedules its first run with no delay.
  wait(0);
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
