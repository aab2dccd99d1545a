#!/usr/bin/env node
/**
 * `zkts`: the command line. Thin by design: each command is a call into the public API. The
 * server, cluster and shell commands arrive with their issues; until then this prints what
 * exists. Bad arguments print one line and exit 2.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

const USAGE = `usage: zkts <command> [options]

commands:
  version            print the zkts version
  help               print this help

zkts is a ZooKeeper-compatible toolkit. The library's client works today against any
Apache ZooKeeper 3.5+ ensemble: import { connect } from "zkts".`;

function version(): string {
  const packageJson = new URL("../../package.json", import.meta.url);
  return (JSON.parse(readFileSync(packageJson, "utf8")) as { version: string }).version;
}

export function main(argv: readonly string[]): number {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    // parseArgs explains at length; the first sentence says what was wrong.
    console.error(`zkts: ${(error as Error).message.split(". ")[0]}`);
    return 2;
  }
  const [command = "help", ...rest] = parsed.positionals;
  if (parsed.values.version || command === "version") {
    console.log(version());
    return 0;
  }
  if (parsed.values.help || command === "help") {
    console.log(USAGE);
    return 0;
  }
  console.error(`zkts: unknown command "${[command, ...rest].join(" ")}" (try: zkts help)`);
  return 2;
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: { help: { type: "boolean", short: "h" }, version: { type: "boolean", short: "v" } },
  });
}

process.exitCode = main(process.argv.slice(2));
