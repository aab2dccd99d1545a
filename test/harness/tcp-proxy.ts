/**
 * A loopback TCP proxy between a client under test and a server, with switches for the faults a
 * client must survive: hold back traffic, freeze connections without closing them, cut them,
 * refuse new ones. It makes "in flight when the connection died" and "the server went silent"
 * deterministic instead of a race against kill -9.
 */
import net from "node:net";
import { FrameDecoder } from "../../src/protocol/frames.js";

export interface TcpProxy {
  readonly host: string;
  readonly port: number;
  /** host:port to put in a connect string. */
  readonly address: string;
  /** Connections accepted so far. */
  readonly accepted: number;
  /** Client→server bytes forwarded so far, over all connections. */
  readonly requestBytes: number;
  /** The xid of every request frame forwarded (not the ConnectRequest), in order. */
  readonly requestXids: readonly number[];
  /** Resolves once `requestBytes` reaches `count`. */
  untilRequestBytes(count: number): Promise<void>;
  /** Stop forwarding client→server bytes on current connections (they queue in the proxy). */
  holdRequests(): void;
  /** Stop forwarding in both directions on current connections, keeping them open. */
  freeze(): void;
  /** Destroy every current connection (both sides see the close). */
  cut(): void;
  /** While true, new connections are accepted and closed at once. */
  refuse(value: boolean): void;
  /** Forward new connections to another server port. */
  retarget(port: number): void;
  close(): Promise<void>;
}

interface Pair {
  client: net.Socket;
  server: net.Socket;
  holding: boolean;
  frozen: boolean;
}

export async function startProxy(
  targetPort: number,
  options: { host?: string; port?: number } = {},
): Promise<TcpProxy> {
  const host = options.host ?? "127.0.0.1";
  let target = targetPort;
  let refusing = false;
  let accepted = 0;
  let requestBytes = 0;
  const requestXids: number[] = [];
  const byteWaiters: { count: number; resolve: () => void }[] = [];
  const pairs = new Set<Pair>();
  const forwarded = (bytes: number) => {
    requestBytes += bytes;
    for (const waiter of [...byteWaiters]) {
      if (requestBytes < waiter.count) continue;
      byteWaiters.splice(byteWaiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  };

  const server = net.createServer((client) => {
    accepted++;
    if (refusing) {
      client.destroy();
      return;
    }
    const upstream = net.connect({ host: "127.0.0.1", port: target });
    const pair: Pair = { client, server: upstream, holding: false, frozen: false };
    pairs.add(pair);
    const held: Buffer[] = [];
    const frames = new FrameDecoder(64 * 1024 * 1024);
    let sawConnect = false;
    client.on("data", (chunk: Buffer) => {
      if (pair.frozen) return;
      if (pair.holding) held.push(chunk);
      else {
        upstream.write(chunk);
        frames.push(chunk, (frame) => {
          if (sawConnect) requestXids.push(frame.readInt32BE(0));
          sawConnect = true;
        });
        forwarded(chunk.length);
      }
    });
    upstream.on("data", (chunk: Buffer) => {
      if (!pair.frozen) client.write(chunk);
    });
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on("close", end);
    upstream.on("close", end);
    client.on("error", end);
    upstream.on("error", end);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host, port: options.port ?? 0 }, () => resolve());
  });
  const address = server.address() as net.AddressInfo;

  const cut = () => {
    for (const pair of [...pairs]) {
      pair.client.destroy();
      pair.server.destroy();
    }
    pairs.clear();
  };
  return {
    host,
    port: address.port,
    address: `${host}:${address.port}`,
    get accepted() {
      return accepted;
    },
    get requestBytes() {
      return requestBytes;
    },
    requestXids,
    untilRequestBytes(count) {
      if (requestBytes >= count) return Promise.resolve();
      return new Promise((resolve) => byteWaiters.push({ count, resolve }));
    },
    holdRequests() {
      for (const pair of pairs) pair.holding = true;
    },
    freeze() {
      for (const pair of pairs) pair.frozen = true;
    },
    cut,
    refuse(value) {
      refusing = value;
    },
    retarget(port) {
      target = port;
    },
    close() {
      cut();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
