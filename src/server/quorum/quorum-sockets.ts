/**
 * How the quorum transport gets its sockets: plain TCP, TLS (sslQuorum), or a listener that
 * takes both (portUnification) by looking at a connection's first byte, as ZooKeeper's
 * UnifiedServerSocket does: 0x16 opens a TLS handshake record, anything else is a plain peer.
 *
 * With TLS, a peer is one whose certificate chains to the truststore and, when
 * ssl.quorum.hostnameVerification is on (the default), names the address it connects from
 * or to: ZooKeeper's ZKTrustManager checks the IP address first, then the name a reverse
 * lookup gives. A link is handed to the transport only once that is settled.
 */
import { promises as dns } from "node:dns";
import net from "node:net";
import tls from "node:tls";
import { type Logger, rateLimited } from "../logger.js";
import { keyMaterial } from "../tls.js";
import type { QuorumTlsSettings } from "./quorum-tls.js";

export interface QuorumSockets {
  /** Listens on host:port; `onPeer` gets each accepted link once it may carry frames. */
  listen(host: string, port: number, onPeer: (socket: net.Socket) => void): Promise<net.Server>;
  /** Opens a link; `onReady` runs once frames may be written to it. */
  connect(host: string, port: number, onReady: () => void): net.Socket;
}

/** The first byte of a TLS record that carries a handshake (RFC 8446, 5.1). */
const TLS_HANDSHAKE = 0x16;

export function quorumSockets(settings: QuorumTlsSettings | undefined, log: Logger): QuorumSockets {
  if (settings === undefined) return plainSockets;
  if (settings.unsupported.length > 0) {
    log.warn(
      { settings: settings.unsupported },
      "quorum TLS settings zkts does not apply; Node's defaults hold",
    );
  }
  log.info(
    {
      connect: settings.sslQuorum ? "tls" : "plain",
      accept: settings.portUnification ? "tls and plain" : settings.sslQuorum ? "tls" : "plain",
      hostnameVerification: settings.hostnameVerification,
    },
    "quorum links",
  );
  const material =
    settings.keyStore === undefined
      ? undefined
      : keyMaterial("ssl.quorum", settings.keyStore, settings.trustStore);
  return new TlsSockets(settings, material, log);
}

const plainSockets: QuorumSockets = {
  listen: (host, port, onPeer) => listenOn(net.createServer(onPeer), host, port),
  connect(host, port, onReady) {
    const socket = net.connect({ host, port });
    socket.once("connect", onReady);
    return socket;
  },
};

class TlsSockets implements QuorumSockets {
  private readonly settings: QuorumTlsSettings;
  /** Key, certificate and CAs; undefined with portUnification and no keystore. */
  private readonly material: tls.SecureContextOptions | undefined;
  private readonly context: tls.SecureContext | undefined;
  /** A peer with the wrong certificate retries every few hundred ms: one line per 10 s. */
  private readonly warn: (fields: object, message: string) => void;

  constructor(
    settings: QuorumTlsSettings,
    material: tls.SecureContextOptions | undefined,
    log: Logger,
  ) {
    this.settings = settings;
    this.material = material;
    this.context = material === undefined ? undefined : tls.createSecureContext(material);
    this.warn = rateLimited(log, "warn", 10_000);
  }

  listen(host: string, port: number, onPeer: (socket: net.Socket) => void): Promise<net.Server> {
    const handshake = this.handshaker(onPeer);
    const server = net.createServer((socket) => this.detect(socket, handshake, onPeer));
    return listenOn(server, host, port);
  }

  connect(host: string, port: number, onReady: () => void): net.Socket {
    if (!this.settings.sslQuorum) return plainSockets.connect(host, port, onReady);
    const socket = tls.connect({
      host,
      port,
      ...(this.context !== undefined && { secureContext: this.context }),
      rejectUnauthorized: true,
      ...(!this.settings.hostnameVerification && { checkServerIdentity: () => undefined }),
    });
    socket.once("secureConnect", onReady);
    socket.once("error", (error) => {
      if (isTlsRefusal(error)) {
        this.warn({ peer: `${host}:${port}`, reason: error.message }, "quorum TLS refused");
      }
    });
    return socket;
  }

  /**
   * TLS or plain, by the first byte (within the detection timeout). Plain is a peer only under
   * portUnification; otherwise it is refused here, with a line of its own.
   */
  private detect(
    socket: net.Socket,
    handshake: (socket: net.Socket) => void,
    onPeer: (socket: net.Socket) => void,
  ): void {
    socket.setTimeout(this.settings.handshakeDetectionTimeoutMs, () => socket.destroy());
    socket.on("error", () => {});
    socket.once("data", (chunk: Buffer) => {
      socket.setTimeout(0);
      socket.pause();
      socket.unshift(chunk);
      if (chunk[0] === TLS_HANDSHAKE) {
        handshake(socket);
      } else if (this.settings.portUnification) {
        onPeer(socket);
        socket.resume(); // paused above, and a 'data' listener does not undo an explicit pause
      } else {
        this.warn({ remote: socket.remoteAddress }, "plain quorum connection refused (sslQuorum)");
        socket.destroy();
      }
    });
  }

  /**
   * The server side of the handshake for one listener, then the checks; then it is a peer.
   * An unlistening tls.Server does the handshake for accepted TCP sockets handed to it: that
   * is what sets `authorized` on them (a bare TLSSocket leaves it false).
   */
  private handshaker(onPeer: (socket: net.Socket) => void): (socket: net.Socket) => void {
    const material = this.material;
    if (material === undefined) {
      return (socket) => {
        this.warn(
          { remote: socket.remoteAddress, reason: "ssl.quorum.keyStore.location is not set" },
          "quorum TLS refused",
        );
        socket.destroy();
      };
    }
    const { clientAuth, hostnameVerification } = this.settings;
    const refuse = (socket: net.Socket, reason: string) => {
      this.warn({ remote: socket.remoteAddress, reason }, "quorum TLS refused");
      socket.destroy();
    };
    // tls.Server builds its context from the key options; it ignores `secureContext`.
    const server = tls.createServer({
      ...material,
      requestCert: clientAuth !== "none",
      rejectUnauthorized: false,
    });
    server.on("tlsClientError", (error, socket) => refuse(socket, error.message));
    server.on("secureConnection", (secure: tls.TLSSocket) => {
      const certificate = secure.getPeerCertificate();
      const given = certificate !== null && certificate.raw !== undefined;
      // A certificate that does not verify is refused even under "want", as Java's trust
      // manager throws for it; "need" also refuses a peer that gives none.
      if (given && !secure.authorized) {
        return refuse(secure, `untrusted certificate: ${String(secure.authorizationError)}`);
      }
      if (!given && clientAuth === "need") return refuse(secure, "no certificate");
      if (!given || !hostnameVerification) return onPeer(secure);
      // An IPv4 peer on a dual-stack listener shows as ::ffff:a.b.c.d; certificates name a.b.c.d.
      const address = (secure.remoteAddress ?? "").replace(/^::ffff:/, "");
      void verifyAddress(address, certificate).then((error) => {
        if (secure.destroyed) return;
        if (error === undefined) onPeer(secure);
        else refuse(secure, error);
      });
    });
    return (socket) => server.emit("connection", socket);
  }
}

/**
 * ZKTrustManager's client check: the certificate must name the peer's IP address or, failing
 * that, one of the names its address resolves back to. An error message, or undefined.
 */
async function verifyAddress(
  address: string,
  certificate: tls.PeerCertificate,
): Promise<string | undefined> {
  const byAddress = tls.checkServerIdentity(address, certificate);
  if (byAddress === undefined) return undefined;
  const names = await dns.reverse(address).catch(() => [] as string[]);
  for (const name of names) {
    if (tls.checkServerIdentity(name, certificate) === undefined) return undefined;
  }
  return `hostname verification: ${byAddress.message}`;
}

function isTlsRefusal(error: Error): boolean {
  const code = (error as NodeJS.ErrnoException).code ?? "";
  return (
    code.startsWith("ERR_TLS") ||
    code.startsWith("ERR_SSL") ||
    /certificate|altnames/i.test(error.message)
  );
}

function listenOn(server: net.Server, host: string, port: number): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host, port }, () => {
      server.off("error", reject);
      resolve(server);
    });
  });
}
