/**
 * Asks a server, with the `isro` four-letter word, whether it serves writes ("rw") or is a
 * read-only server cut off from its quorum ("ro"). A client connected read-only uses it to find
 * its way back to a read-write server, as ZooKeeper's own client does.
 */
import net from "node:net";
import tls from "node:tls";

export function probeReadWrite(
  host: string,
  port: number,
  timeoutMs: number,
  secure?: tls.ConnectionOptions,
): Promise<boolean> {
  return new Promise((resolve) => {
    const socket =
      secure === undefined ? net.connect({ host, port }) : tls.connect({ ...secure, host, port });
    const ready = secure === undefined ? "connect" : "secureConnect";
    const chunks: Buffer[] = [];
    const done = (readWrite: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(readWrite);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.on(ready, () => socket.write("isro"));
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("end", () => done(Buffer.concat(chunks).toString("latin1").startsWith("rw")));
    socket.on("error", () => done(false));
  });
}
