#!/usr/bin/env node
/**
 * `npm test`: every test/**\/*.test.ts through node's test runner, loaded by tsx.
 *
 * Node 20 neither expands globs nor picks up .ts files by itself, so the files are listed here.
 * Usage: node scripts/test.mjs [node test flags...] [files or dirs...]
 *   e.g. node scripts/test.mjs test/unit --test-name-pattern=mutex
 *
 * Suites against Apache ZooKeeper skip themselves when it is not installed; this script says
 * so once, loudly, and refuses to let CI (CI=true) pass that way.
 */
import { spawnSync } from "node:child_process";
import { accessSync, constants, existsSync, readdirSync, statSync } from "node:fs";
import { delimiter, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));

/** Every *.test.ts under `dir`, recursively, as paths relative to the repo root. */
function testFiles(dir) {
  return readdirSync(dir, { recursive: true })
    .filter((name) => name.endsWith(".test.ts"))
    .map((name) => relative(root, join(dir, name)))
    .sort();
}

/** Same check as test/harness/installation.ts, kept minimal: why Apache ZooKeeper can't run. */
function apacheZooKeeperMissing() {
  const classpath = process.env.ZKTS_ZOOKEEPER_CLASSPATH;
  if (classpath) {
    const missing = classpath
      .split(delimiter)
      .find((entry) => entry !== "" && !existsSync(entry.replace(/\/\*$/, "")));
    if (missing !== undefined) return `ZKTS_ZOOKEEPER_CLASSPATH entry ${missing} does not exist`;
  } else if (!existsSync("/usr/share/java/zookeeper.jar")) {
    return "/usr/share/java/zookeeper.jar is missing";
  }
  const override = process.env.ZKTS_JAVA;
  const java = override || "java";
  const candidates = java.includes("/")
    ? [java]
    : (process.env.PATH ?? "").split(delimiter).map((dir) => join(dir, java));
  const executable = candidates.some((file) => {
    try {
      accessSync(file, constants.X_OK);
      return statSync(file).isFile();
    } catch {
      return false;
    }
  });
  if (executable) return undefined;
  return override ? `ZKTS_JAVA=${override} is not an executable` : "no java on PATH";
}

const args = process.argv.slice(2);
const flags = args.filter((arg) => arg.startsWith("-"));
const targets = args.filter((arg) => !arg.startsWith("-"));
const files = (
  targets.length > 0 ? targets.map((target) => resolve(target)) : [join(root, "test")]
).flatMap((target) => {
  if (!existsSync(target)) {
    console.error(`zkts: no such test file or directory: ${target}`);
    process.exit(2);
  }
  return statSync(target).isDirectory() ? testFiles(target) : [relative(root, target)];
});
if (files.length === 0) {
  console.error(`zkts: no *.test.ts files in ${targets.join(" ") || "test/"}`);
  process.exit(1);
}

const missing = apacheZooKeeperMissing();
if (missing !== undefined) {
  console.error(
    `zkts: Apache ZooKeeper not found (${missing}): interop and integration suites against it ` +
      "will be SKIPPED. Install Debian's 'zookeeper' package to run them.",
  );
  if (process.env.CI === "true") {
    console.error("zkts: CI=true: refusing to skip the suites against Apache ZooKeeper.");
    process.exit(1);
  }
}

// One file at a time: suites start JVMs, and the machine has two cores.
const result = spawnSync(
  process.execPath,
  ["--import", "tsx", "--test", "--test-reporter=spec", "--test-concurrency=1", ...flags, ...files],
  { cwd: root, stdio: "inherit" },
);
if (result.error) throw result.error;
process.exit(result.status ?? 1);
