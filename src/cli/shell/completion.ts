/**
 * Tab completion: the first word from the command names, a word that starts with "/" from the
 * children of its parent znode, asked of the server (bounded, so a slow or lost server never
 * blocks the prompt: then nothing completes).
 */
import type { Completer, CompleterResult } from "node:readline";
import { ALIASES, COMMANDS } from "./commands.js";
import type { ShellConnection } from "./connection.js";

const COMPLETION_TIMEOUT_MS = 2000;

export function completer(connection: ShellConnection): Completer {
  return ((line: string, callback: (error: null, result: CompleterResult) => void) => {
    complete(connection, line).then(
      (result) => callback(null, result),
      () => callback(null, [[], line]),
    );
  }) as unknown as Completer;
}

/** The completions of the last word of `line` (the text before the cursor). */
export async function complete(
  connection: ShellConnection,
  line: string,
): Promise<CompleterResult> {
  const word = line.slice(Math.max(line.lastIndexOf(" "), line.lastIndexOf("\t")) + 1);
  if (line.trimStart() === word) {
    const names = [...COMMANDS.keys(), ...ALIASES.keys()].filter((name) => name.startsWith(word));
    return [names.sort().map((name) => `${name} `), word];
  }
  if (!word.startsWith("/")) return [[], word];
  return [await childPaths(connection, word), word];
}

async function childPaths(connection: ShellConnection, word: string): Promise<string[]> {
  const zk = connection.connected;
  if (!zk) return [];
  const slash = word.lastIndexOf("/");
  const parent = slash === 0 ? "/" : word.slice(0, slash);
  const prefix = word.slice(slash + 1);
  const base = parent === "/" ? "/" : `${parent}/`;
  try {
    const children = await zk.getChildren(parent, { timeoutMs: COMPLETION_TIMEOUT_MS });
    return children
      .filter((name) => name.startsWith(prefix))
      .sort()
      .map((name) => base + name);
  } catch {
    return [];
  }
}
