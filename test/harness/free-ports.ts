/**
 * Free loopback ports, found by letting the kernel pick them.
 *
 * A port found this way is only free until someone else binds it: the caller must be ready to
 * retry with new ports when the server it starts fails to bind (see apache-zookeeper.ts).
 */
import { createServer, type Server } from "node:net";

/**
 * Ports that belong to someone else by convention: ZooKeeper's defaults (client, quorum,
 * election, AdminServer) and the 3-node ensemble `npm start` brings up on 2181-2183.
 * The kernel's ephemeral range (32768-60999 on Linux) never hands them out; this is a guard
 * for machines whose range was widened.
 */
const RESERVED_PORTS: ReadonlySet<number> = new Set([2181, 2182, 2183, 2888, 3888, 8080]);

/** Resolves with `count` distinct ports on 127.0.0.1 that were free a moment ago. */
export async function freePorts(count: number): Promise<number[]> {
  // Every probe stays bound until all are found, so the kernel cannot hand out one port twice.
  const probes: Server[] = [];
  try {
    const ports: number[] = [];
    while (ports.length < count) {
      const probe = createServer();
      probes.push(probe);
      const port = await listenOnAnyPort(probe);
      if (!RESERVED_PORTS.has(port)) ports.push(port);
    }
    return ports;
  } finally {
    await Promise.all(probes.map((probe) => new Promise((resolve) => probe.close(resolve))));
  }
}

function listenOnAnyPort(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: "127.0.0.1", port: 0, exclusive: true }, () => {
      const address = server.address();
      if (address === null || typeof address === "string") {
        reject(new Error(`unexpected listen address: ${String(address)}`));
      } else {
        resolve(address.port);
      }
    });
  });
}
