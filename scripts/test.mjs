#!/usr/bin/env node
/**
 * `npm test`: every test/**\/*.test.ts through node's test runner, loaded by tsx.
 *
 * Node 20 neither expands globs nor picks up .ts files by itself, so the files are listed here.
 * Usage: node scripts/test.mjs [node test flags...] [files or dirs...]
 *   e.g. node scripts/test.mjs test/unit --test-name-pattern=mutex
 *
 * Suites against Apache ZooKeeper skip themselves when it is not installed; this script says
 * so once, loudly, and refuses to let CI (CI=true) pass that way. The same holds for the
 * dashboard's browser tests (test/dashboard/) and Chromium (/usr/bin/chromium, or ZKTS_CHROMIUM).
 *
 * Our client's interop suites (test/interop/client-*.test.ts, session.test.ts) and the recipe
 * suites (test/recipes/*.test.ts) run twice: with
 * every other file against Apache ZooKeeper, then once more against zkts's own server
 * (ZKTS_TEST_SERVER=zkts, read by test/interop/fixture.ts). Set ZKTS_TEST_SERVER yourself
 * (apache or zkts) to run the selected files once, against that server only.
 */
import { spawnSync } from "node:child_process";
import { accessSync, constants, existsSync, readdirSync, statSync } from "node:fs";
import { delimiter, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));

/**
 * The suites that run against both servers (paths relative to the repo root): the client's
 * interop suites and every recipe suite (test/recipes/*.test.ts).
 */
const BOTH_SERVERS = /^test\/(interop\/(client-[^/]+|session)|recipes\/[^/]+)\.test\.ts$/;

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

const chosenServer = process.env.ZKTS_TEST_SERVER;
const againstZkts =
  chosenServer === undefined || chosenServer === ""
    ? files.filter((file) => BOTH_SERVERS.test(file.split(sep).join("/")))
    : [];

const missing = chosenServer === "zkts" ? undefined : apacheZooKeeperMissing();
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

/** Same check as test/harness/chromium.ts: why the dashboard's browser tests can't run. */
function chromiumMissing() {
  const chromium = process.env.ZKTS_CHROMIUM || "/usr/bin/chromium";
  try {
    accessSync(chromium, constants.X_OK);
    return undefined;
  } catch {
    return `${chromium} is missing`;
  }
}

const browserTests = files.some((file) => file.split(sep).join("/").startsWith("test/dashboard/"));
const noChromium = browserTests ? chromiumMissing() : undefined;
if (noChromium !== undefined) {
  console.error(
    `zkts: Chromium not found (${noChromium}): the dashboard's browser tests will be SKIPPED. ` +
      "Install Debian's 'chromium' package to run them.",
  );
  if (process.env.CI === "true") {
    console.error("zkts: CI=true: refusing to skip the dashboard's browser tests.");
    process.exit(1);
  }
}

/** One `node --test` over `testFiles`, a file at a time: suites start servers on two cores. */
function run(testFiles, env = process.env) {
  const result = spawnSync(
    process.execPath,
    [
      "--import",
      "tsx",
      "--test",
      "--test-reporter=spec",
      "--test-concurrency=1",
      ...flags,
      ...testFiles,
    ],
    { cwd: root, stdio: "inherit", env },
  );
  if (result.error) throw result.error;
  return result.status ?? 1;
}

let status = run(files);
if (againstZkts.length > 0) {
  console.log(
    `\nzkts: ${againstZkts.length} client suite${againstZkts.length === 1 ? "" : "s"} again, ` +
      "against zkts's server (ZKTS_TEST_SERVER=zkts)\n",
  );
  const zktsStatus = run(againstZkts, { ...process.env, ZKTS_TEST_SERVER: "zkts" });
  if (status === 0) status = zktsStatus;
}
process.exit(status);
