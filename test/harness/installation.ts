/**
 * Where Apache ZooKeeper and a JVM to run it are, and whether they are there at all.
 *
 * Debian's `zookeeper` package installs jars under /usr/share/java (ORACLE.md). Elsewhere set
 * ZKTS_ZOOKEEPER_CLASSPATH (e.g. "/opt/zookeeper/lib/*:/opt/zookeeper/conf") and ZKTS_JAVA.
 * scripts/test.mjs repeats this check in plain JavaScript: keep the two in step.
 */
import { accessSync, constants, existsSync, statSync } from "node:fs";
import { delimiter, join } from "node:path";

export type ApacheZooKeeperAvailability =
  | { available: true }
  | { available: false; reason: string };

export interface Installation {
  /** The java executable. */
  readonly java: string;
  /** ZooKeeper's classpath entries, without the harness's conf dir. */
  readonly classpath: readonly string[];
}

const JAR_DIR = "/usr/share/java";
const ZOOKEEPER_JAR = `${JAR_DIR}/zookeeper.jar`;
/**
 * Optional jars: logging to a file (ORACLE.md), and the servlet API that ZooKeeper's AdminServer
 * (Jetty) needs and that zookeeper.jar's manifest does not list. ZooKeeper runs without them,
 * silently and without an AdminServer.
 */
const OPTIONAL_JARS = [
  `${JAR_DIR}/slf4j-log4j12.jar`,
  `${JAR_DIR}/log4j-1.2.jar`,
  `${JAR_DIR}/servlet-api.jar`,
];

type Found = { installation: Installation } | { reason: string };

let cached: Found | undefined;

/** Looks for the JVM and the jars once per process: a few stat calls, no JVM started. */
export function findInstallation(): Found {
  cached ??= look();
  return cached;
}

/** Whether startZooKeeper() and startEnsemble() can work here, and if not, why. */
export function apacheZooKeeperAvailability(): ApacheZooKeeperAvailability {
  const found = findInstallation();
  return "reason" in found ? { available: false, reason: found.reason } : { available: true };
}

/**
 * For `describe(name, { skip: apacheZooKeeperSkip() }, ...)`: false when Apache ZooKeeper is
 * available, else the reason, starting "Apache ZooKeeper not available:".
 */
export function apacheZooKeeperSkip(): false | string {
  const found = findInstallation();
  return "reason" in found ? `Apache ZooKeeper not available: ${found.reason}` : false;
}

/** A value found, or why it was not. */
type Lookup<T> = { value: T } | { reason: string };

function look(): Found {
  const classpath = findClasspath();
  if ("reason" in classpath) return classpath;
  const java = findJava();
  if ("reason" in java) return java;
  return { installation: { java: java.value, classpath: classpath.value } };
}

function findClasspath(): Lookup<string[]> {
  const override = process.env.ZKTS_ZOOKEEPER_CLASSPATH;
  if (override !== undefined && override !== "") {
    const entries = override.split(delimiter).filter((entry) => entry !== "");
    // A "dir/*" entry is Java's wildcard for every jar in dir.
    const missing = entries.find((entry) => !existsSync(entry.replace(/\/\*$/, "")));
    if (missing !== undefined) {
      return { reason: `ZKTS_ZOOKEEPER_CLASSPATH entry ${missing} does not exist` };
    }
    return { value: entries };
  }
  if (!existsSync(ZOOKEEPER_JAR)) return { reason: `${ZOOKEEPER_JAR} is missing` };
  return { value: [ZOOKEEPER_JAR, ...OPTIONAL_JARS.filter((jar) => existsSync(jar))] };
}

function findJava(): Lookup<string> {
  const override = process.env.ZKTS_JAVA;
  if (override !== undefined && override !== "") {
    const found = override.includes("/") ? executable(override) : searchPath(override);
    return found !== undefined
      ? { value: found }
      : { reason: `ZKTS_JAVA=${override} is not an executable` };
  }
  const found = searchPath("java");
  return found !== undefined ? { value: found } : { reason: "no java on PATH (set ZKTS_JAVA)" };
}

function searchPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    const found = dir === "" ? undefined : executable(join(dir, name));
    if (found !== undefined) return found;
  }
  return undefined;
}

function executable(file: string): string | undefined {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile() ? file : undefined;
  } catch {
    return undefined;
  }
}
