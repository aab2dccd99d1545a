/**
 * Spawning and reaping the JVMs the harness starts, so a test run leaves none behind.
 *
 * Every child is tracked until its 'exit' event. When the test process exits (normally, by
 * process.exit, or by SIGINT/SIGTERM/SIGHUP) the survivors are SIGKILLed by pid and their
 * temporary directories removed. Processes are only ever signalled by the pid we spawned,
 * never by name: other tests, benchmarks or a developer's own ZooKeeper may be running.
 * A SIGKILL of the test process itself cannot be caught; nothing here covers that case.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, openSync, rmSync } from "node:fs";

/** A JVM (or any child) started by the harness, with its exit observable as a promise. */
export interface TrackedProcess {
  readonly pid: number;
  /** Resolves once the process has exited and been reaped; never rejects. */
  readonly exited: Promise<void>;
  hasExited(): boolean;
}

/** How long stop() gives a process to honour SIGTERM before it uses SIGKILL. */
const TERM_GRACE_MS = 5_000;

const live = new Map<number, ChildProcess>();
/** Directories to remove at exit if the test forgot to stop the server that owns them. */
const ownedDirs = new Set<string>();
let hooksInstalled = false;

/**
 * Spawns `command` with stdout and stderr appended to `outputFile` and tracks it.
 * The child does not keep the event loop alive, so a test that forgets to stop a server still
 * lets its process exit (and the exit hook then kills the server); waiting for the exit refs it.
 */
export function spawnTracked(command: string, args: string[], outputFile: string): TrackedProcess {
  installExitHooks();
  const output = openSync(outputFile, "a");
  let child: ChildProcess;
  try {
    child = spawn(command, args, { stdio: ["ignore", output, output], detached: false });
  } finally {
    // The child holds its own copy of the descriptor.
    closeSync(output);
  }
  const pid = child.pid;
  if (pid === undefined) {
    // spawn reports ENOENT and friends asynchronously; the missing pid is the synchronous sign.
    child.on("error", () => {});
    throw new Error(`could not spawn ${command}`);
  }
  child.unref();
  live.set(pid, child);
  let exitedFlag = false;
  const exited = new Promise<void>((resolve) => {
    child.once("exit", () => {
      exitedFlag = true;
      live.delete(pid);
      resolve();
    });
  });
  return { pid, exited, hasExited: () => exitedFlag };
}

/** SIGKILLs the process by pid and waits for its 'exit' event. Idempotent. */
export async function killAndWait(process_: TrackedProcess): Promise<void> {
  await signalAndWait(process_, "SIGKILL");
}

/**
 * SIGTERMs the process, waits for it to exit, and SIGKILLs it if it has not exited after
 * TERM_GRACE_MS. Idempotent.
 */
export async function terminateAndWait(process_: TrackedProcess): Promise<void> {
  if (process_.hasExited()) return;
  let timer: NodeJS.Timeout | undefined;
  const grace = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), TERM_GRACE_MS);
  });
  try {
    const outcome = await Promise.race([signalAndWait(process_, "SIGTERM"), grace]);
    if (outcome === "timeout") await killAndWait(process_);
  } finally {
    clearTimeout(timer);
  }
}

async function signalAndWait(process_: TrackedProcess, signal: NodeJS.Signals): Promise<void> {
  if (process_.hasExited()) return;
  // Waiting must keep the loop alive: the exit event is the only thing still pending.
  live.get(process_.pid)?.ref();
  try {
    process.kill(process_.pid, signal);
  } catch (error) {
    // ESRCH: it died on its own and the exit event is on its way.
    if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
  }
  await process_.exited;
}

/** Removes `dir` at process exit unless released first (stop() releases what it removes). */
export function removeAtExit(dir: string): void {
  ownedDirs.add(dir);
}

export function releaseDir(dir: string): void {
  ownedDirs.delete(dir);
}

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on("exit", () => killLeftovers("a test did not stop() what it started"));
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.once(signal, () => {
      killLeftovers(`the test process got ${signal}`);
      // Listening for a signal replaces Node's default action (exit). If nobody else listens,
      // re-raise it so the process still dies the way it was asked to.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  }
}

/** Synchronous, as 'exit' listeners must be. */
function killLeftovers(why: string): void {
  const pids = [...live.keys()];
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
  live.clear();
  if (pids.length > 0) {
    process.stderr.write(
      `zkts harness: killed ${pids.length} leftover ZooKeeper JVM(s) (pids ${pids.join(", ")}): ` +
        `${why}\n`,
    );
  }
  for (const dir of ownedDirs) {
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    } catch {
      // Best effort: an exit hook must not throw, and a stray temp dir is harmless.
    }
  }
  ownedDirs.clear();
}
