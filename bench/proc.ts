/** Another process's memory and CPU time, from /proc (Linux). */
import { readdirSync, readFileSync } from "node:fs";

export interface Memory {
  /** Resident set size now (VmRSS), KiB. */
  readonly rssKiB: number;
  /** The highest resident set size so far (VmHWM), KiB. */
  readonly peakKiB: number;
}

export function memoryOf(pid: number): Memory {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const field = (name: string): number => {
    const match = new RegExp(`^${name}:\\s+(\\d+) kB$`, "m").exec(status);
    if (!match) throw new Error(`/proc/${pid}/status has no ${name}`);
    return Number(match[1]);
  };
  return { rssKiB: field("VmRSS"), peakKiB: field("VmHWM") };
}

/**
 * Time on CPU of each of `pid`'s threads, ns, from /proc/<pid>/task/<tid>/schedstat (its first
 * field, the scheduler's sum_exec_runtime). Unlike utime+stime in /proc/<pid>/stat, which come
 * in clock ticks (10 ms here), this is exact; but a thread that exits takes its time with it,
 * so threadCpuMicros() gives up when one did.
 */
export function threadCpuNanos(pid: number): Map<number, number> {
  const times = new Map<number, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const ns = Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
      if (Number.isFinite(ns)) times.set(Number(tid), ns);
    } catch {
      // The thread exited between the listing and the read: it is simply not in `times`.
    }
  }
  return times;
}

/**
 * CPU µs all threads spent between two threadCpuNanos() readings (threads born in between count
 * from zero), or undefined if a thread of `before` is gone (its last stretch is lost).
 */
export function threadCpuMicros(
  before: ReadonlyMap<number, number>,
  after: ReadonlyMap<number, number>,
): number | undefined {
  let ns = 0;
  for (const tid of before.keys()) if (!after.has(tid)) return undefined;
  for (const [tid, now] of after) ns += now - (before.get(tid) ?? 0);
  return ns / 1000;
}
