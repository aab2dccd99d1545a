/**
 * Apache ZooKeeper's own command-line client (ZooKeeperMain) run against a server with a script
 * on stdin, for interop tests that need a Java client with TLS or SASL turned on:
 *
 *     const out = await runZooKeeperMain("127.0.0.1:2281", "get /x\nquit\n", {
 *       systemProperties: ["-Dzookeeper.sasl.client=true", ...],
 *     });
 *
 * It waits for its session before the first command and answers in one string, stdout and
 * stderr together, as a terminal shows them.
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { promisify } from "node:util";
import { findInstallation } from "./installation.js";

const execFileAsync = promisify(execFile);

/** A small, quick-starting JVM: the CLI runs a handful of commands and exits. */
export const CLI_JVM_FLAGS = [
  "-Xmx128m",
  "-XX:+UseSerialGC",
  "-XX:TieredStopAtLevel=1",
  "-XX:-UsePerfData",
];

export async function runZooKeeperMain(
  server: string,
  script: string,
  options: { systemProperties?: readonly string[]; classpath?: readonly string[] } = {},
): Promise<string> {
  const found = findInstallation();
  if ("reason" in found) throw new Error(found.reason);
  const { java, classpath } = found.installation;
  const dir = await mkdtemp(join(tmpdir(), "zkts-java-cli-"));
  try {
    const scriptFile = join(dir, "script");
    await writeFile(scriptFile, script);
    const { stdout } = await execFileAsync(
      "sh",
      [
        "-c",
        '"$0" "$@" < "$SCRIPT" 2>&1',
        java,
        ...CLI_JVM_FLAGS,
        ...(options.systemProperties ?? []),
        "-cp",
        [...classpath, ...(options.classpath ?? [])].join(delimiter),
        "org.apache.zookeeper.ZooKeeperMain",
        // Commands wait for the session (a TLS handshake or SASL takes the JVM a moment).
        "-waitforconnection",
        "-timeout",
        "30000",
        "-server",
        server,
      ],
      { env: { ...process.env, SCRIPT: scriptFile }, timeout: 60_000 },
    );
    return stdout;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
