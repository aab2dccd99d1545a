/**
 * The server's structured log: one line per notable event on stderr. Quiet by default:
 * warnings and notable events (election started, leader established, follower synced, session
 * expired, snapshot taken, connection rejected and why), never one line per request.
 *
 * Two formats of the same record. "json" (the default when stderr is not a terminal, so files
 * and pipes always get it) is pino's shape, `{"level":30,"time":<ms>,"msg":"...",<fields>}`, so
 * pino tooling and the tests read it. "pretty" (the default on a terminal) is for a person:
 * `12:00:01.234 INFO  snapshot taken  file=... zxid=0x5`.
 */
export type Level = "debug" | "info" | "warn" | "error" | "silent";
export type LogFormat = "json" | "pretty";

export interface Logger {
  debug(fields: object, message: string): void;
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

const RANK: Record<Level, number> = { debug: 20, info: 30, warn: 40, error: 50, silent: 100 };

/**
 * A logger at `level`. Lines go to stderr unless `write` is given; the format is "pretty" only
 * when they go to stderr and stderr is a terminal, unless `format` says otherwise.
 */
export function createLogger(
  level: Level = "info",
  write?: (line: string) => void,
  format?: LogFormat,
): Logger {
  const threshold = RANK[level];
  const out = write ?? ((text: string) => process.stderr.write(text));
  const pretty =
    (format ?? (write === undefined && process.stderr.isTTY ? "pretty" : "json")) === "pretty";
  const line = pretty ? prettyLine : jsonLine;
  const log = (at: Exclude<Level, "silent">) => (fields: object, msg: string) => {
    if (RANK[at] < threshold) return;
    out(line(at, Date.now(), msg, fields));
  };
  return { debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error") };
}

function jsonLine(at: Exclude<Level, "silent">, time: number, msg: string, fields: object) {
  return `${JSON.stringify({ level: RANK[at], time, msg, ...fields }, bigintAsString)}\n`;
}

const COLOR: Record<Exclude<Level, "silent">, string> = {
  debug: "\x1b[90m",
  info: "\x1b[36m",
  warn: "\x1b[33m",
  error: "\x1b[31m",
};

/** The local time, the level, the message, then key=value (values that need it as JSON). */
export function prettyLine(
  at: Exclude<Level, "silent">,
  time: number,
  msg: string,
  fields: object,
): string {
  const d = new Date(time);
  const pad = (n: number, width = 2) => String(n).padStart(width, "0");
  const clock = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
  const pairs = Object.entries(fields).map(([key, value]) => {
    const text =
      typeof value === "string" && /^[^\s"=]+$/.test(value)
        ? value
        : JSON.stringify(value, bigintAsString);
    return `${key}=${text}`;
  });
  const label = `${COLOR[at]}${at.toUpperCase().padEnd(5)}\x1b[0m`;
  return `${clock} ${label} ${msg}${pairs.length > 0 ? `  ${pairs.join(" ")}` : ""}\n`;
}

function bigintAsString(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? value.toString() : value;
}

/**
 * A log line that may come in floods (clients retrying against a server that turns them away):
 * the first of each message per `intervalMs` is written, the rest counted and reported as
 * `suppressed` on the next one written.
 */
export function rateLimited(
  log: Logger,
  at: "info" | "warn",
  intervalMs = 1_000,
  now: () => number = Date.now,
): (fields: object, message: string) => void {
  const last = new Map<string, { at: number; suppressed: number }>();
  return (fields, message) => {
    const seen = last.get(message);
    const t = now();
    if (seen !== undefined && t - seen.at < intervalMs) {
      seen.suppressed++;
      return;
    }
    const suppressed = seen?.suppressed ?? 0;
    last.set(message, { at: t, suppressed: 0 });
    log[at](suppressed > 0 ? { ...fields, suppressed } : fields, message);
  };
}
