/**
 * `zkts shell`: a zkCli-compatible shell. Interactive on a terminal (history, tab completion of
 * commands and znode paths, watch events printed above the line being typed, a prompt showing
 * the connection state); scripted with `-c 'cmd; cmd'`, with a command on the command line
 * (zkCli's `-server host:port cmd args`), or with commands on stdin.
 *
 * Exit status: 0 when every command succeeded; otherwise the status of the last that failed,
 * 1 for what the server refused or a lost connection, 2 for a command typed wrong. Bad shell
 * options: one line on stderr, exit 2. Never a stack trace.
 */
import type { Status } from "../shell/runner.js";

export const SHELL_USAGE = `usage: zkts shell [-server host:port[,host:port][/chroot]] [--timeout MS] [-r] [--json]
                  [--exit-on-error] [-c 'cmd; cmd' | [--] cmd args]

A ZooKeeper shell that speaks zkCli.sh's commands and prints what it prints.

  -server, --server HOSTS   servers to connect to (default localhost:2181)
  -timeout, --timeout MS    session timeout in ms (default 30000)
  -r, --readonly            accept a read-only server
  --json                    print one JSON object per command (and per watch event)
  -c, --command 'CMDS'      run these commands (separated by ';') and exit
  --exit-on-error           stop at the first command that fails
  cmd args                  run this one command and exit

Without -c or a command, it reads commands from stdin, interactively on a terminal.
History is kept in ~/.zkts_history (or $ZKTS_HISTORY). Type help for the commands.`;

export interface ShellArgs {
  readonly connectString: string;
  readonly sessionTimeoutMs: number;
  readonly readOnly: boolean;
  readonly json: boolean;
  readonly exitOnError: boolean;
  /** Command lines to run (-c, or the command on the command line); undefined for stdin. */
  readonly commands: readonly string[] | undefined;
}

class ShellUsageError extends Error {
  override readonly name = "ShellUsageError";
}

/** Runs `zkts shell` with the arguments after "shell"; resolves with the exit code. */
export async function shellCommand(argv: readonly string[]): Promise<number> {
  let args: ShellArgs | "help";
  try {
    args = parseShellArgs(argv);
  } catch (error) {
    if (!(error instanceof ShellUsageError)) throw error;
    console.error(`zkts shell: ${error.message}`);
    return 2;
  }
  if (args === "help") {
    console.log(SHELL_USAGE);
    return 0;
  }
  if (args.commands === undefined && process.stdin.isTTY) {
    const { runInteractive } = await import("../shell/interactive.js");
    return runInteractive(args);
  }
  const { runScript } = await import("../shell/script.js");
  return runScript(args);
}

const DEFAULT_SERVER = "localhost:2181";
const DEFAULT_TIMEOUT_MS = 30_000;

/** zkCli's own spellings (-server, -timeout, -r) and GNU ones (--server, --timeout). */
export function parseShellArgs(argv: readonly string[]): ShellArgs | "help" {
  let connectString = DEFAULT_SERVER;
  let sessionTimeoutMs = DEFAULT_TIMEOUT_MS;
  let readOnly = false;
  let json = false;
  let exitOnError = false;
  const script: string[] = [];
  let commandWords: string[] | undefined;
  for (let i = 0; i < argv.length; i++) {
    const option = argv[i]!;
    const value = (): string => {
      const next = argv[++i];
      if (next === undefined) throw new ShellUsageError(`option ${option} needs a value`);
      return next;
    };
    if (option === "-h" || option === "--help") return "help";
    else if (option === "-server" || option === "--server") connectString = value();
    else if (option === "-timeout" || option === "--timeout") sessionTimeoutMs = timeout(value());
    else if (option === "-r" || option === "--readonly") readOnly = true;
    else if (option === "--json") json = true;
    else if (option === "--exit-on-error") exitOnError = true;
    else if (option === "-c" || option === "--command") script.push(value());
    else if (option === "--" || !option.startsWith("-")) {
      commandWords = argv.slice(option === "--" ? i + 1 : i);
      break;
    } else throw new ShellUsageError(`unknown option ${option} (try: zkts shell --help)`);
  }
  if (connectString === "") throw new ShellUsageError("-server needs host:port");
  if (script.length > 0 && commandWords !== undefined && commandWords.length > 0) {
    throw new ShellUsageError("give either -c or a command, not both");
  }
  const commands =
    script.length > 0
      ? script
      : commandWords !== undefined && commandWords.length > 0
        ? [commandWords.map(quote).join(" ")]
        : undefined;
  return { connectString, sessionTimeoutMs, readOnly, json, exitOnError, commands };
}

function timeout(text: string): number {
  const ms = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!(ms > 0 && ms <= 0x7fffffff)) throw new ShellUsageError(`bad --timeout "${text}"`);
  return ms;
}

/** A word from the command line, quoted so that the shell splits it back into one word. */
function quote(word: string): string {
  if (word !== "" && !/[\s"';]/.test(word)) return word;
  return word.includes('"') ? `'${word}'` : `"${word}"`;
}

export type { Status };
