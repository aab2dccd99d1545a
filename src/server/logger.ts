/**
 * The server's structured log: one JSON line per notable event on stderr, pino's shape
 * (level, time, msg, fields), so pino tooling reads it. Quiet by default: warnings and
 * notable events (session expired, malformed packet), never one line per request.
 */
export type Level = "debug" | "info" | "warn" | "error" | "silent";

export interface Logger {
  debug(fields: object, message: string): void;
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

const RANK: Record<Level, number> = { debug: 20, info: 30, warn: 40, error: 50, silent: 100 };

export function createLogger(
  level: Level = "info",
  write: (line: string) => void = (line) => process.stderr.write(line),
): Logger {
  const threshold = RANK[level];
  const log = (at: Exclude<Level, "silent">) => (fields: object, msg: string) => {
    if (RANK[at] < threshold) return;
    write(
      `${JSON.stringify({ level: RANK[at], time: Date.now(), msg, ...fields }, bigintAsString)}\n`,
    );
  };
  return { debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error") };
}

function bigintAsString(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? value.toString() : value;
}
