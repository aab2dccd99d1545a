#!/usr/bin/env node
/**
 * `zkts`: the command line. Thin by design: one file per command under commands/, each a call
 * into the public API, loaded only when it runs. Bad arguments print one line and exit 2.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

const USAGE = `usage: zkts <command> [options]

commands:
  server             run a ZooKeeper-compatible server, standalone or in an ensemble
  cluster            run a local ensemble, 3 servers by default (zkts cluster --help)
  purge              remove old snapshots and txn logs (zkts purge --help)
  shell              a zkCli-compatible ZooKeeper shell (zkts shell --help)
  demo               watch a Mutex or a LeaderElection at work (zkts demo --help)
  version            print the zkts version
  help               print this help

zkts is a ZooKeeper-compatible toolkit. The library's client works against zkts and any
Apache ZooKeeper 3.5+ ensemble: import { connect } from "zkts".`;

function version(): string {
  const packageJson = new URL("../../package.json", import.meta.url);
  return (JSON.parse(readFileSync(packageJson, "utf8")) as { version: string }).version;
}

export async function main(argv: readonly string[]): Promise<number> {
  // A command's own options are its business: only what precedes the command is parsed here.
  const commandAt = argv.findIndex((arg) => !arg.startsWith("-"));
  const [command, rest] =
    commandAt === -1 ? [undefined, []] : [argv[commandAt], argv.slice(commandAt + 1)];
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(commandAt === -1 ? argv : argv.slice(0, commandAt));
  } catch (error) {
    // parseArgs explains at length; the first sentence says what was wrong.
    console.error(`zkts: ${(error as Error).message.split(". ")[0]}`);
    return 2;
  }
  if (parsed.values.version || command === "version") {
    console.log(version());
    return 0;
  }
  if (parsed.values.help || command === undefined || command === "help") {
    console.log(USAGE);
    return 0;
  }
  if (command === "server") {
    const { serverCommand } = await import("./commands/server.js");
    return serverCommand(rest);
  }
  if (command === "cluster") {
    const { clusterCommand } = await import("./commands/cluster.js");
    return clusterCommand(rest);
  }
  if (command === "purge") {
    const { purgeCommand } = await import("./commands/purge.js");
    return purgeCommand(rest);
  }
  if (command === "shell") {
    const { shellCommand } = await import("./commands/shell.js");
    return shellCommand(rest);
  }
  if (command === "demo") {
    const { demoCommand } = await import("./commands/demo.js");
    return demoCommand(rest);
  }
  console.error(`zkts: unknown command "${[command, ...rest].join(" ")}" (try: zkts help)`);
  return 2;
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: false,
    options: { help: { type: "boolean", short: "h" }, version: { type: "boolean", short: "v" } },
  });
}

process.exitCode = await main(process.argv.slice(2));
