/**
 * The interactive shell's history across runs: ~/.zkts_history, or $ZKTS_HISTORY ("" turns it
 * off). One command per line, oldest first; the last HISTORY_SIZE are kept. A history that
 * cannot be read or written is no reason to fail the shell: it is then simply not kept.
 */
import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

export const HISTORY_SIZE = 1000;

export function historyFile(): string | undefined {
  const override = process.env.ZKTS_HISTORY;
  if (override !== undefined) return override === "" ? undefined : override;
  return join(homedir(), ".zkts_history");
}

/** The saved history, newest first (readline's order); trims the file when it grew too long. */
export function loadHistory(file: string | undefined): string[] {
  if (file === undefined) return [];
  let lines: string[];
  try {
    lines = readFileSync(file, "utf8")
      .split("\n")
      .filter((line) => line.trim() !== "");
  } catch {
    return [];
  }
  if (lines.length > 2 * HISTORY_SIZE) {
    lines = lines.slice(-HISTORY_SIZE);
    try {
      writeFileSync(file, `${lines.join("\n")}\n`, { mode: 0o600 });
    } catch {
      // Kept as it is.
    }
  }
  return lines.slice(-HISTORY_SIZE).reverse();
}

export function saveLine(file: string | undefined, line: string): void {
  if (file === undefined || line.trim() === "") return;
  try {
    appendFileSync(file, `${line.replace(/\n/g, " ")}\n`, { mode: 0o600 });
  } catch {
    // Not kept.
  }
}
