/** CPU time of this process and of another one (the server JVM), in microseconds. */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

/** The kernel's USER_HZ, the unit of utime/stime in /proc/<pid>/stat (`getconf CLK_TCK`). */
export function clockTicksPerSecond(): number {
  const ticks = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());
  if (!Number.isInteger(ticks) || ticks <= 0) throw new Error(`getconf CLK_TCK gave ${ticks}`);
  return ticks;
}

/** utime + stime of `pid` (all its threads: JIT and GC included), in µs. */
export function cpuMicros(pid: number, ticksPerSecond: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name, which is in parentheses and may itself contain spaces.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after "pid (comm) ".
  const ticks = Number(fields[11]) + Number(fields[12]);
  if (!Number.isFinite(ticks)) throw new Error(`unreadable /proc/${pid}/stat`);
  return (ticks * 1e6) / ticksPerSecond;
}

export function processCpuMicros(usage: NodeJS.CpuUsage): number {
  return usage.user + usage.system;
}
