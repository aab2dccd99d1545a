/**
 * The zkts standalone server as its own process for benchmarks: `zkts server` from dist/ (tsc's
 * output, what users run; `npm run build` first) or from src/ through tsx, on 127.0.0.1 and a
 * port the kernel picks. Readiness is the one line the command prints once it serves. Optionally
 * under `node --cpu-prof`, which writes the profile when the process exits after SIGTERM.
 *
 * test/harness/zkts-server.ts does the same for tests, but always from src/ through tsx, whose
 * keepNames transform costs a little per closure made: a benchmark wants dist/.
 */

import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import {
  killAndWait,
  releaseDir,
  removeAtExit,
  spawnTracked,
  type TrackedProcess,
  terminateAndWait,
} from "../test/harness/child-processes.js";
import { fourLetterWord } from "../test/harness/four-letter-word.js";

const HOST = "127.0.0.1";
const LISTENING = /^zkts server listening on (.+):(\d+)$/m;
const READY_TIMEOUT_MS = 30_000;
const POLL_INTERVAL_MS = 20;

export interface ZktsProcessOptions {
  /** dist/cli/main.js (default) or src/cli/main.ts through tsx. */
  from: "dist" | "src";
  /** A directory for `node --cpu-prof` to write the server's whole-life profile into. */
  profileDir?: string | undefined;
  /** The sampling interval of that profile, µs (Node's default is 1000). */
  profileIntervalUs?: number;
  /** More `zkts server` flags. */
  args?: readonly string[];
}

/** What a benchmark needs of a server process, Apache ZooKeeper's or ours. */
export interface ServerProcess {
  readonly pid: number;
  readonly connectString: string;
  fourLetterWord(command: string): Promise<string>;
  stop(): Promise<void>;
}

export async function startZktsProcess(options: ZktsProcessOptions): Promise<ServerProcess> {
  const dir = await mkdtemp(join(tmpdir(), "zkts-bench-server-"));
  removeAtExit(dir);
  const logFile = join(dir, "zkts.out");
  const main = fileURLToPath(
    new URL(
      options.from === "dist" ? "../dist/cli/main.js" : "../src/cli/main.ts",
      import.meta.url,
    ),
  );
  const nodeFlags = [
    ...(options.from === "src" ? ["--import", import.meta.resolve("tsx")] : []),
    ...(options.profileDir === undefined
      ? []
      : [
          "--cpu-prof",
          `--cpu-prof-dir=${options.profileDir}`,
          `--cpu-prof-interval=${options.profileIntervalUs ?? 250}`,
        ]),
  ];
  const args = [
    ...nodeFlags,
    main,
    "server",
    "--host",
    HOST,
    "--port",
    "0",
    "--data-dir",
    dir,
    // No AdminServer on ZooKeeper's default port 8080.
    "-D",
    "admin.enableServer=false",
    ...(options.args ?? []),
  ];
  const child = spawnTracked(process.execPath, args, logFile);
  const stop = async (): Promise<void> => {
    await terminateAndWait(child);
    await rm(dir, { recursive: true, force: true, maxRetries: 3 });
    releaseDir(dir);
  };
  let port: number;
  try {
    port = await waitListening(child, logFile);
  } catch (error) {
    await killAndWait(child);
    await stop();
    throw error;
  }
  return {
    pid: child.pid,
    connectString: `${HOST}:${port}`,
    fourLetterWord: (command) => fourLetterWord(HOST, port, command),
    stop,
  };
}

async function waitListening(child: TrackedProcess, logFile: string): Promise<number> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    const output = readOrEmpty(logFile);
    const listening = LISTENING.exec(output);
    if (listening !== null) return Number(listening[2]);
    if (child.hasExited() || Date.now() >= deadline) {
      const what = child.hasExited() ? "exited before it listened" : "did not listen in time";
      throw new Error(`zkts server (pid ${child.pid}) ${what}; its output:\n${output.trimEnd()}`);
    }
    await sleep(POLL_INTERVAL_MS);
  }
}

function readOrEmpty(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return "";
  }
}
