/**
 * The shell without its terminal: runs command lines, keeps zkCli's history, prints each
 * command's Reply (zkCli's text, or one JSON object per command with --json) and each failure
 * as one line. The interactive loop (interactive.ts) and the scripted modes (script.ts) feed it.
 */
import type { WatchEvent } from "../../index.js";
import { parseArgs } from "./args.js";
import { ALIASES, COMMANDS, usageOf } from "./commands.js";
import { ShellConnection } from "./connection.js";
import type { Reply, ShellContext } from "./context.js";
import { describeFailure, UsageError } from "./errors.js";
import { eventJson, eventText } from "./format.js";
import { splitWords } from "./words.js";

export interface ShellOptions {
  readonly connectString: string;
  readonly sessionTimeoutMs: number;
  readonly readOnly: boolean;
  readonly json: boolean;
  /** Writes one line of a command's output. */
  readonly out: (line: string) => void;
  /** Writes one line about a failed command. */
  readonly err: (line: string) => void;
  /** Writes a watch event, which may arrive at any time. */
  readonly event: (line: string) => void;
  /** The prompt's state changed (connected, disconnected, ...). */
  readonly onStateChange?: () => void;
}

/** A command's exit status: 0 done, 1 failed, 2 typed wrong. */
export type Status = 0 | 1 | 2;

export class Shell {
  readonly connection: ShellConnection;
  readonly history: string[] = [];
  printWatches = true;
  /** Set by `quit`: the loop feeding the shell stops. */
  quitting = false;
  private readonly options: ShellOptions;
  private running: AbortController | undefined;

  constructor(options: ShellOptions) {
    this.options = options;
    this.connection = new ShellConnection(options.connectString, {
      sessionTimeoutMs: options.sessionTimeoutMs,
      readOnly: options.readOnly,
      onEvent: (event) => this.printEvent(event),
      onStateChange: () => options.onStateChange?.(),
    });
  }

  /** True while a command runs. */
  get busy(): boolean {
    return this.running !== undefined;
  }

  /** Runs one command line (blank lines are skipped) and prints what it printed. */
  async execute(line: string): Promise<Status> {
    const words = splitWords(line);
    if (words.length === 0) return 0;
    this.history.push(line);
    const controller = new AbortController();
    this.running = controller;
    try {
      this.print(await this.run(words, controller.signal));
      return 0;
    } catch (error) {
      return this.fail(error);
    } finally {
      this.running = undefined;
    }
  }

  /** Aborts the running command (Ctrl-C); false if none runs. */
  interrupt(): boolean {
    if (!this.running) return false;
    this.running.abort(new Error("Interrupted"));
    return true;
  }

  /** zkCli's usage list: every command with its flags. */
  usage(): string[] {
    return [...COMMANDS.values()]
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((command) => `\t${usageOf(command)}`);
  }

  async close(): Promise<void> {
    await this.connection.close().catch(() => {});
  }

  private async run(words: readonly string[], signal: AbortSignal): Promise<Reply> {
    const [typed, ...rest] = words as [string, ...string[]];
    const command = COMMANDS.get(ALIASES.get(typed) ?? typed);
    if (!command) throw new UsageError(`Command not found: ${typed}`);
    const args = parseArgs(rest, command.flags);
    if (args.positionals.length < command.minArgs) throw new UsageError(usageOf(command));
    const zk = command.needsSession ? await this.connection.session() : undefined;
    return command.run(this.context(signal), args, zk);
  }

  private context(signal: AbortSignal): ShellContext {
    const shell = this;
    return {
      connection: this.connection,
      signal,
      watcher: (event) => this.printEvent(event),
      event: (event) => this.printEvent(event),
      get printWatches() {
        return shell.printWatches;
      },
      set printWatches(value: boolean) {
        shell.printWatches = value;
      },
      history: this.history,
      rerun: (line) => this.run(splitWords(line), signal),
      quit: () => {
        this.quitting = true;
      },
      usage: () => this.usage(),
    };
  }

  private print(reply: Reply): void {
    if (this.options.json) this.options.out(JSON.stringify({ ok: true, ...reply.json }));
    else for (const line of reply.text) this.options.out(line);
  }

  private fail(error: unknown): Status {
    const failure = describeFailure(error);
    if (this.options.json) {
      const { message, status, ...rest } = failure;
      this.options.out(JSON.stringify({ ok: false, error: message, ...rest }));
    } else {
      this.options.err(failure.message);
    }
    return failure.status;
  }

  private printEvent(event: WatchEvent): void {
    if (!this.printWatches) return;
    this.options.event(this.options.json ? JSON.stringify(eventJson(event)) : eventText(event));
  }
}
