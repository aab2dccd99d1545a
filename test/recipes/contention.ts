/**
 * What the recipe contention tests share: one hold of a lock that increments a counter znode
 * with a plain getData-then-setData (no version check, so only mutual exclusion keeps it
 * right), recorded as a fencing interval; and the check that no two intervals overlap.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { ZooKeeper } from "../../src/index.js";
import type { InterProcessLock } from "../../src/recipes/index.js";

/** One holder's time in the lock, on the machine-wide monotonic clock (ns). */
export interface Hold {
  readonly id: string;
  readonly start: bigint;
  readonly end: bigint;
}

export async function incrementUnderLock(
  zk: ZooKeeper,
  lock: InterProcessLock,
  counterPath: string,
  id: string,
): Promise<Hold> {
  assert.equal(await lock.acquire(), true);
  const start = process.hrtime.bigint();
  const { data } = await zk.getData(counterPath);
  await zk.setData(counterPath, String(Number(data.toString()) + 1));
  const end = process.hrtime.bigint();
  await lock.release();
  return { id, start, end };
}

/** Fails if any two holds overlap in time. */
export function assertNoOverlap(holds: readonly Hold[]): void {
  const sorted = [...holds].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  for (let i = 1; i < sorted.length; i++) {
    const previous = sorted[i - 1]!;
    const current = sorted[i]!;
    assert.ok(
      current.start > previous.end,
      `${current.id} took the lock at ${current.start} before ${previous.id} left at ${previous.end}`,
    );
  }
}

const WORKER = fileURLToPath(new URL("./mutex-worker.ts", import.meta.url));
const TSX_LOADER = import.meta.resolve("tsx");

/** Runs mutex-worker.ts in a child process and returns its holds once it exits cleanly. */
export function runWorkerProcess(args: {
  connectString: string;
  lockPath: string;
  counterPath: string;
  iterations: number;
  id: string;
}): Promise<Hold[]> {
  const child = spawn(
    process.execPath,
    [
      "--import",
      TSX_LOADER,
      WORKER,
      args.connectString,
      args.lockPath,
      args.counterPath,
      String(args.iterations),
      args.id,
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => {
      const lines = stdout.split("\n").filter((line) => line !== "");
      if (code !== 0 || lines.at(-1) !== "done") {
        reject(new Error(`worker ${args.id} exited with ${code}:\n${stdout}\n${stderr}`));
        return;
      }
      resolve(
        lines
          .filter((line) => line.startsWith("hold "))
          .map((line) => {
            const [, id = "", start = "0", end = "0"] = line.split(" ");
            return { id, start: BigInt(start), end: BigInt(end) };
          }),
      );
    });
  });
}

/** Waits, on child watches, until `path` has `count` children. Bounded by the test's timeout. */
export async function childrenCount(zk: ZooKeeper, path: string, count: number): Promise<void> {
  for (let round = 0; round < 1000; round++) {
    const result = await zk.exists(path, { watch: true });
    if (result.stat === null) {
      await result.watch;
      continue;
    }
    const { children, watch } = await zk.getChildren(path, { watch: true });
    if (children.length === count) return;
    await watch;
  }
  throw new Error(`${path} never had ${count} children`);
}
