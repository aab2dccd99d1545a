/**
 * The servers the differential suites compare: Apache ZooKeeper (the oracle) and zkts, each
 * started once per test file and wrapped in a DiffTarget.
 *
 * Both are set up alike: TTL nodes enabled, and the container manager's sweep effectively off
 * (once a day), because it runs on a timer: an emptied container vanishing in the middle of one
 * run but not of the other would be a difference of timing, not of semantics.
 *
 * The zkts harness (test/harness/zkts-server.ts, `startZkts()`) is written alongside this
 * suite; until it exists, `zktsSkip()` says so and the suite against zkts is skipped.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { startZooKeeper } from "../harness/apache-zookeeper.js";
import { DiffTarget } from "./runner.js";
import type { Perturb } from "./wire-tap.js";

export const CONTAINER_CHECK_INTERVAL_MS = 86_400_000;

/** A server under comparison and how to stop it. */
export interface RunningTarget {
  readonly target: DiffTarget;
  readonly pid: number;
  stop(): Promise<void>;
}

export async function startApacheTarget(
  name = "Apache ZooKeeper",
  options: { perturb?: Perturb } = {},
): Promise<RunningTarget> {
  const server = await startZooKeeper({
    systemProperties: {
      "zookeeper.extendedTypesEnabled": "true",
      "znode.container.checkIntervalMs": String(CONTAINER_CHECK_INTERVAL_MS),
    },
  });
  try {
    const target = await DiffTarget.open(name, { host: server.host, port: server.port }, options);
    return {
      target,
      pid: server.pid,
      stop: async () => {
        await target.close();
        await server.stop();
      },
    };
  } catch (error) {
    await server.stop();
    throw error;
  }
}

const ZKTS_HARNESS = fileURLToPath(new URL("../harness/zkts-server.ts", import.meta.url));
/** A variable, so the compiler does not insist on the module before it exists. */
const ZKTS_HARNESS_MODULE = "../harness/zkts-server.js";

/** The shape test/harness/zkts-server.ts promises (the same as the Apache harness's). */
interface ZktsProcess {
  readonly connectString: string;
  readonly port: number;
  readonly pid: number;
  stop(): Promise<void>;
}

/** For `describe(..., { skip })`: false when the zkts harness is there, else why not. */
export function zktsSkip(): false | string {
  return existsSync(ZKTS_HARNESS)
    ? false
    : `zkts server harness not written yet (${ZKTS_HARNESS} is missing)`;
}

export async function startZktsTarget(name = "zkts"): Promise<RunningTarget> {
  const harness = (await import(ZKTS_HARNESS_MODULE)) as {
    startZkts?: (options?: { config?: Record<string, string> }) => Promise<ZktsProcess>;
  };
  if (typeof harness.startZkts !== "function") {
    throw new Error(`${ZKTS_HARNESS} does not export startZkts()`);
  }
  const server = await harness.startZkts({
    config: {
      "zookeeper.extendedTypesEnabled": "true",
      "znode.container.checkIntervalMs": String(CONTAINER_CHECK_INTERVAL_MS),
      maxClientCnxns: "0",
    },
  });
  try {
    const [host, port] = hostAndPort(server.connectString, server.port);
    const target = await DiffTarget.open(name, { host, port });
    return {
      target,
      pid: server.pid,
      stop: async () => {
        await target.close();
        await server.stop();
      },
    };
  } catch (error) {
    await server.stop();
    throw error;
  }
}

function hostAndPort(connectString: string, port: number): [string, number] {
  const first = connectString.split(",")[0] ?? "";
  const host = first.slice(0, first.lastIndexOf(":")) || "127.0.0.1";
  return [host, port];
}
