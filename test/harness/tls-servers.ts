/**
 * zkts and Apache ZooKeeper serving TLS on their client port, with the key material of
 * tls-certs.ts: zkts in this process, TLS only (no clientPort), PEM for `need` and PKCS#12 for
 * `want`; Apache ZooKeeper with the Netty server factory, a PKCS#12 keystore, a keytool JKS
 * truststore and the x509 auth provider. Used by test/interop/tls.test.ts and the x509 part of
 * test/differential/acl.test.ts.
 */
import assert from "node:assert/strict";
import { createLogger, type ServerOptions, startServer } from "../../src/server/index.js";
import { startZooKeeper, type ZooKeeperProcess } from "./apache-zookeeper.js";
import { freePorts } from "./free-ports.js";
import { findInstallation } from "./installation.js";
import { type Certificates, makeCertificates, STORE_PASSWORD } from "./tls-certs.js";

/** Netty's SslHandler needs netty-codec, which zookeeper.jar's manifest leaves out. */
export const NETTY_CODEC_JAR = "/usr/share/java/netty-codec.jar";

export interface SecureTarget {
  /** host:port of the TLS port. */
  readonly address: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Key material made with the installation's keytool (for the JKS truststore) when there is one. */
export function makeTestCertificates(): Promise<Certificates> {
  const installation = findInstallation();
  const keytool =
    "installation" in installation
      ? installation.installation.java.replace(/java$/, "keytool")
      : undefined;
  return makeCertificates(keytool === undefined ? {} : { keytool });
}

/** zkts on a TLS-only port; `options` adds server settings (superDigest, extendedTypesEnabled). */
export async function startZktsTls(
  certs: Certificates,
  clientAuth: "need" | "want",
  options: Partial<ServerOptions> = {},
): Promise<SecureTarget> {
  const keyStore =
    clientAuth === "need"
      ? { sslKeyStoreLocation: certs.server.pemFile }
      : { sslKeyStoreLocation: certs.server.p12File, sslKeyStorePassword: STORE_PASSWORD };
  const server = await startServer(
    {
      clientPort: null,
      secureClientPort: 0,
      secureClientPortAddress: "127.0.0.1",
      ...keyStore,
      sslTrustStoreLocation: certs.caFile,
      sslClientAuth: clientAuth,
      fourLetterWordsWhitelist: "*",
      ...options,
    },
    createLogger("silent"),
  );
  assert.equal(server.address, server.secureAddress, "TLS only: the address is the TLS port's");
  return {
    address: server.secureAddress as string,
    port: server.securePort as number,
    close: () => server.close(),
  };
}

/** Apache ZooKeeper (Netty) with a secureClientPort; `systemProperties` add to the harness's. */
export async function startApacheTls(
  certs: Certificates,
  clientAuth: "need" | "want",
  systemProperties: Readonly<Record<string, string>> = {},
): Promise<SecureTarget> {
  const [securePort] = await freePorts(1);
  const zk: ZooKeeperProcess = await startZooKeeper({
    classpath: [NETTY_CODEC_JAR],
    systemProperties: {
      "zookeeper.serverCnxnFactory": "org.apache.zookeeper.server.NettyServerCnxnFactory",
      ...systemProperties,
    },
    extraConfig: {
      secureClientPort: String(securePort),
      "ssl.keyStore.location": certs.server.p12File,
      "ssl.keyStore.password": STORE_PASSWORD,
      "ssl.keyStore.type": "PKCS12",
      "ssl.trustStore.location": certs.caJksFile as string,
      "ssl.trustStore.password": STORE_PASSWORD,
      "ssl.trustStore.type": "JKS",
      "ssl.clientAuth": clientAuth,
      "authProvider.x509": "org.apache.zookeeper.server.auth.X509AuthenticationProvider",
    },
  });
  return {
    address: `127.0.0.1:${securePort}`,
    port: securePort as number,
    close: () => zk.stop(),
  };
}
