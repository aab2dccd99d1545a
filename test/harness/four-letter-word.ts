/**
 * ZooKeeper's four-letter words (`ruok`, `srvr`, `stat`, `mntr`, ...) over a raw TCP socket.
 *
 * The server reads the four bytes, writes its answer and closes the connection, so the answer
 * is everything received before the close. Using node:net directly keeps the harness free of
 * any client code (ours is what the harness exists to test).
 */
import { connect } from "node:net";

/** Default bound for one exchange: a live server answers in a few milliseconds. */
const DEFAULT_TIMEOUT_MS = 2_000;

/**
 * Sends `command` to host:port and resolves with the full reply.
 * Rejects on a refused or reset connection, or when no close arrives within `timeoutMs`.
 */
export function fourLetterWord(
  host: string,
  port: number,
  command: string,
  timeoutMs: number = DEFAULT_TIMEOUT_MS,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect({ host, port });
    socket.setTimeout(timeoutMs, () => {
      socket.destroy(new Error(`'${command}' to ${host}:${port}: no reply in ${timeoutMs} ms`));
    });
    // No half-close after writing: the server closes once it has answered, and a FIN racing
    // the command could make it drop the connection before reading it.
    socket.on("connect", () => socket.write(command));
    socket.on("data", (chunk) => chunks.push(chunk));
    socket.on("error", reject);
    socket.on("close", (hadError) => {
      if (!hadError) resolve(Buffer.concat(chunks).toString("utf8"));
    });
  });
}

/** The `Mode:` line of a `srvr` or `stat` reply (standalone, leader, follower, observer). */
export function modeOf(srvrReply: string): string | undefined {
  return /^Mode: ([\w-]+)\s*$/m.exec(srvrReply)?.[1];
}
