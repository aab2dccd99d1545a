/**
 * The shell run by a script: commands from `-c`, from the command line, or from stdin, one
 * after another, each printing what it prints. A failed command prints one line on stderr and
 * the script goes on (as zkCli does with stdin), unless --exit-on-error; the exit status is
 * that of the last command that failed, or 0.
 */
import { createInterface } from "node:readline";
import type { ShellArgs } from "../commands/shell.js";
import { Shell, type Status } from "./runner.js";
import { splitCommands } from "./words.js";

export async function runScript(args: ShellArgs): Promise<number> {
  const shell = new Shell({
    connectString: args.connectString,
    sessionTimeoutMs: args.sessionTimeoutMs,
    readOnly: args.readOnly,
    json: args.json,
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    event: (line) => process.stdout.write(`${line}\n`),
  });
  let status: Status = 0;
  try {
    for await (const line of lines(args.commands)) {
      const result = await shell.execute(line);
      if (result !== 0) status = result;
      if (shell.quitting || (result !== 0 && args.exitOnError)) break;
    }
  } finally {
    await shell.close();
  }
  return status;
}

async function* lines(commands: readonly string[] | undefined): AsyncGenerator<string> {
  if (commands !== undefined) {
    for (const script of commands) yield* splitCommands(script);
    return;
  }
  const input = createInterface({ input: process.stdin, terminal: false });
  try {
    yield* input;
  } finally {
    input.close();
  }
}
