/** What a shell command sees (its session, its output) and what it hands back. */
import type { WatchEvent, WatchListener } from "../../index.js";
import type { ShellConnection } from "./connection.js";

/**
 * A command's result: zkCli's text lines and the --json object. The runner prints one or the
 * other; commands never write themselves, so both forms always say the same.
 */
export interface Reply {
  readonly text: readonly string[];
  readonly json: Readonly<Record<string, unknown>>;
}

export interface ShellContext {
  readonly connection: ShellConnection;
  /** Aborts the running command (Ctrl-C in the interactive shell). */
  readonly signal: AbortSignal;
  /** The shell's one watcher, zkCli's default watcher: it prints every event. */
  readonly watcher: WatchListener;
  /** Prints an event as the watcher does (persistent watches deliver theirs here). */
  readonly event: (event: WatchEvent) => void;
  /** zkCli's `printwatches`. */
  printWatches: boolean;
  /** Every command line run so far, numbered from 0 (zkCli's history). */
  readonly history: string[];
  /** Runs a command line again, for `redo`. */
  readonly rerun: (line: string) => Promise<Reply>;
  /** Asks the shell to end once this command is done. */
  readonly quit: () => void;
  /** The command names, for `help`. */
  readonly usage: () => string[];
}

export const EMPTY: Reply = { text: [], json: {} };
