/**
 * Splitting what a user types into commands and words, as zkCli does: words are separated by
 * white space, and a word that starts with a quote runs to the matching quote, which is
 * stripped ("a b" and 'a b' are one word). Unlike zkCli, an unclosed quote takes the rest of the
 * line rather than being dropped. `;` separates commands in `zkts shell -c`.
 */

/** The words of one command line; [] for a blank line. */
export function splitWords(line: string): string[] {
  const words: string[] = [];
  let i = 0;
  while (i < line.length) {
    while (i < line.length && isSpace(line[i]!)) i++;
    if (i >= line.length) break;
    const quote = line[i];
    if (quote === '"' || quote === "'") {
      const close = line.indexOf(quote, i + 1);
      const end = close === -1 ? line.length : close;
      words.push(line.slice(i + 1, end));
      i = end + 1;
      continue;
    }
    const start = i;
    while (i < line.length && !isSpace(line[i]!)) i++;
    words.push(line.slice(start, i));
  }
  return words;
}

/** Splits a script on `;` and newlines that are not inside quotes; blank commands are dropped. */
export function splitCommands(script: string): string[] {
  const commands: string[] = [];
  let quote: string | undefined;
  let start = 0;
  for (let i = 0; i <= script.length; i++) {
    const c = script[i];
    if (quote !== undefined) {
      if (c === quote) quote = undefined;
      continue;
    }
    if (c === '"' || c === "'") {
      // Quotes open only at the start of a word, as in splitWords.
      if (i === start || isSpace(script[i - 1]!)) quote = c;
      continue;
    }
    if (c === undefined || c === ";" || c === "\n") {
      const command = script.slice(start, i).trim();
      if (command !== "") commands.push(command);
      start = i + 1;
    }
  }
  return commands;
}

function isSpace(c: string): boolean {
  return c === " " || c === "\t" || c === "\r" || c === "\n";
}
