/**
 * The shell on a terminal: node:readline with history (kept in a file), tab completion, and a
 * prompt showing the session's state, `[zkts: host:port(CONNECTED) 3] `, redrawn when the state
 * changes. Watch events are printed above the line being typed, which is then drawn again as it
 * was (text and cursor), so an event never breaks what the user types. Ctrl-C aborts a running
 * command or clears the line; Ctrl-D or `quit` leaves.
 */
import {
  clearScreenDown,
  createInterface,
  cursorTo,
  type Interface,
  moveCursor,
} from "node:readline";
import type { ShellArgs } from "../commands/shell.js";
import { completer } from "./completion.js";
import { HISTORY_SIZE, historyFile, loadHistory, saveLine } from "./history-file.js";
import { Shell } from "./runner.js";

export async function runInteractive(args: ShellArgs): Promise<number> {
  const file = historyFile();
  const out = process.stdout;
  let rl: Interface | undefined;
  /** True while the prompt is on screen and no command runs. */
  let atPrompt = false;
  const shell: Shell = new Shell({
    connectString: args.connectString,
    sessionTimeoutMs: args.sessionTimeoutMs,
    readOnly: args.readOnly,
    json: args.json,
    out: (line) => out.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    event: (line) => (rl && atPrompt ? printAbove(rl, line) : out.write(`${line}\n`)),
    onStateChange: () => {
      if (!rl) return;
      rl.setPrompt(prompt(shell));
      if (atPrompt) rl.prompt(true);
    },
  });
  rl = createInterface({
    input: process.stdin,
    output: out,
    terminal: true,
    history: loadHistory(file),
    historySize: HISTORY_SIZE,
    completer: completer(shell.connection),
  });
  const input = rl;
  input.setPrompt(prompt(shell));
  // A prompt drawn on a closed interface would resume stdin and keep the process alive.
  input.on("close", () => {
    // Ctrl-D at the prompt: end its line, as a shell does.
    if (atPrompt) out.write("\n");
    atPrompt = false;
  });
  shell.connection.open();
  const lines = queue(input, shell, () => {
    atPrompt = false;
  });
  const showPrompt = () => {
    input.setPrompt(prompt(shell));
    atPrompt = true;
    input.prompt();
  };
  showPrompt();
  for await (const line of lines) {
    saveLine(file, line);
    await shell.execute(line);
    if (shell.quitting) break;
    showPrompt();
  }
  input.close();
  await shell.close();
  return 0;
}

/** zkCli's prompt, with zkts's name: `[zkts: localhost:2181(CONNECTED) 0] `. */
function prompt(shell: Shell): string {
  const { connectString, state } = shell.connection;
  return `[zkts: ${connectString}(${state}) ${shell.history.length}] `;
}

/**
 * Prints `text` where the prompt is and draws the prompt and the typed line again below it,
 * with the cursor where it was.
 */
function printAbove(rl: Interface, text: string): void {
  const out = process.stdout;
  moveCursor(out, 0, -rl.getCursorPos().rows);
  cursorTo(out, 0);
  clearScreenDown(out);
  out.write(`${text}\n`);
  // readline moves up by the rows it last drew before it redraws; we are already at the top.
  (rl as unknown as { prevRows: number }).prevRows = 0;
  rl.prompt(true);
}

/**
 * The lines typed, one at a time, as an async iterator that ends on Ctrl-D. Lines typed while a
 * command runs wait their turn. Ctrl-C interrupts the running command, or clears the line.
 */
function queue(rl: Interface, shell: Shell, onLine: () => void): AsyncIterable<string> {
  const waiting: string[] = [];
  let wake: (() => void) | undefined;
  let closed = false;
  rl.on("line", (line) => {
    onLine();
    waiting.push(line);
    wake?.();
  });
  rl.on("close", () => {
    closed = true;
    wake?.();
  });
  rl.on("SIGINT", () => {
    if (shell.interrupt()) return;
    const hint = rl.line === "" ? "  (type quit or press Ctrl-D to leave)" : "";
    process.stdout.write(`^C${hint}\n`);
    // Forget the typed line without drawing it again, as a shell does on Ctrl-C.
    const editable = rl as unknown as { line: string; cursor: number; prevRows: number };
    editable.line = "";
    editable.cursor = 0;
    editable.prevRows = 0;
    rl.prompt();
  });
  return {
    async *[Symbol.asyncIterator]() {
      for (;;) {
        const line = waiting.shift();
        if (line !== undefined) {
          yield line;
          continue;
        }
        if (closed) return;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
      }
    },
  };
}
