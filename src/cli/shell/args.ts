/**
 * A command's flags, parsed as zkCli's commons-cli parsers do: `-s` alone, `-se` combined,
 * `-v 3` or `-v3` with a value, flags before or after the path, `--` ending the flags. A word
 * that looks like a negative number is an argument, not a flag, unless the command knows it.
 */
import { UsageError } from "./errors.js";

export interface FlagSpec {
  /** Flags without a value, e.g. "swR". */
  readonly switches: string;
  /** Flags that take a value, e.g. "v". */
  readonly valued: string;
}

export interface ParsedArgs {
  readonly flags: ReadonlyMap<string, string | true>;
  readonly positionals: readonly string[];
}

export function parseArgs(words: readonly string[], spec: FlagSpec): ParsedArgs {
  const flags = new Map<string, string | true>();
  const positionals: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    if (word === "--") {
      positionals.push(...words.slice(i + 1));
      break;
    }
    if (!word.startsWith("-") || word === "-" || isNegativeNumber(word, spec)) {
      positionals.push(word);
      continue;
    }
    i = takeFlags(words, i, spec, flags);
  }
  return { flags, positionals };
}

/** Reads the flags in words[i]; returns the index of the last word it used. */
function takeFlags(
  words: readonly string[],
  i: number,
  spec: FlagSpec,
  flags: Map<string, string | true>,
): number {
  const word = words[i]!;
  for (let j = 1; j < word.length; j++) {
    const letter = word[j]!;
    if (spec.valued.includes(letter)) {
      const rest = word.slice(j + 1);
      if (rest !== "") {
        flags.set(letter, rest);
        return i;
      }
      const value = words[i + 1];
      if (value === undefined) throw new UsageError(`Missing argument for option: ${letter}`);
      flags.set(letter, value);
      return i + 1;
    }
    if (!spec.switches.includes(letter)) {
      throw new UsageError(`Unrecognized option: ${j === 1 ? word : `-${letter}`}`);
    }
    flags.set(letter, true);
  }
  return i;
}

function isNegativeNumber(word: string, spec: FlagSpec): boolean {
  return /^-\d/.test(word) && !spec.switches.includes(word[1]!) && !spec.valued.includes(word[1]!);
}

/** Integer.parseInt's digits, as a number in int range. */
export function parseInt32(text: string, what: string): number {
  if (!/^[+-]?\d+$/.test(text)) throw new UsageError(`${what} must be an int value`);
  const value = Number(text);
  if (value < -0x80000000 || value > 0x7fffffff)
    throw new UsageError(`${what} must be an int value`);
  return value;
}
