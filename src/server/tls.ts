/**
 * TLS on secureClientPort, configured by ZooKeeper's own ssl.* settings (X509Util,
 * ClientX509Util): key material in the formats Node reads (PEM, PKCS#12), ssl.clientAuth
 * (need, want, none; need by default, as ZooKeeper's), and the x509 ids a verified client
 * certificate gives (X509AuthenticationProvider: its subject in RFC 2253 form).
 *
 * Java KeyStores (JKS, BCFKS) are Java's own format; Node has no reader for them, so they are
 * refused with a message that says how to convert them with keytool. A PKCS#12 file holding
 * certificates only (a truststore) cannot be handed to Node's TLS either, so truststores are PEM.
 */
import { readFileSync } from "node:fs";
import type tls from "node:tls";
import type { Id } from "../jute/records.js";
import { InvalidArgumentError } from "../protocol/errors.js";
import type { ServerOptions } from "./options.js";
import { subjectName } from "./x509-name.js";

export type ClientAuth = "none" | "want" | "need";

/** Where the key material is and what it is. */
export interface StoreLocation {
  readonly location: string;
  readonly password: string | undefined;
  readonly type: "PEM" | "PKCS12";
}

export interface SecureClientOptions {
  readonly port: number;
  readonly address: string;
  readonly keyStore: StoreLocation;
  readonly trustStore: StoreLocation | undefined;
  readonly clientAuth: ClientAuth;
  readonly superUser: string | undefined;
}

const CLIENT_AUTH: readonly ClientAuth[] = ["none", "want", "need"];
/** The first bytes of a Java KeyStore (JKS); JCEKS starts with 0xCECECECE. */
const JKS_MAGIC = [0xfeedfeed, 0xcececece];

/** The secure port's settings, checked, or undefined when secureClientPort is not set. */
export function resolveSecureOptions(options: ServerOptions): SecureClientOptions | undefined {
  if (options.secureClientPort === undefined) return undefined;
  const port = options.secureClientPort;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new InvalidArgumentError(
      `secureClientPort must be an integer in 0..65535, got ${String(port)}`,
    );
  }
  const address = options.secureClientPortAddress ?? "0.0.0.0";
  if (typeof address !== "string" || address === "" || /\s/.test(address)) {
    throw new InvalidArgumentError(`secureClientPortAddress "${address}" is not an address`);
  }
  if (options.sslKeyStoreLocation === undefined) {
    throw new InvalidArgumentError(
      "ssl.keyStore.location must be set for secureClientPort (the server's key and certificate)",
    );
  }
  const clientAuth = parseClientAuth("ssl.clientAuth", options.sslClientAuth);
  return {
    port,
    address,
    keyStore: store(
      "ssl.keyStore",
      options.sslKeyStoreLocation,
      options.sslKeyStorePassword,
      options.sslKeyStoreType,
    ),
    trustStore:
      options.sslTrustStoreLocation === undefined
        ? undefined
        : store(
            "ssl.trustStore",
            options.sslTrustStoreLocation,
            options.sslTrustStorePassword,
            options.sslTrustStoreType,
          ),
    clientAuth,
    superUser: options.x509SuperUser,
  };
}

/** X509Util.ClientAuth.fromPropertyValue: none, want or need in any case; need when unset. */
export function parseClientAuth(key: string, value: string | undefined): ClientAuth {
  const clientAuth = (
    value === undefined || value === "" ? "need" : value.toLowerCase()
  ) as ClientAuth;
  if (!CLIENT_AUTH.includes(clientAuth)) {
    throw new InvalidArgumentError(`${key} must be none, want or need, got "${value}"`);
  }
  return clientAuth;
}

/**
 * KeyStoreFileType.fromPropertyValueOrFileName: the type given, else the file's extension.
 * `prefix` is the settings' prefix (ssl.keyStore, ssl.quorum.trustStore, ...), for errors.
 */
export function store(
  prefix: string,
  location: string,
  password: string | undefined,
  typeText: string | undefined,
): StoreLocation {
  const type = (typeText ?? typeFromExtension(prefix, location)).toUpperCase();
  if (type === "JKS" || type === "BCFKS") throw javaKeyStore(prefix, location, type);
  if (type !== "PEM" && type !== "PKCS12") {
    throw new InvalidArgumentError(`${prefix}.type must be PEM or PKCS12, got "${typeText}"`);
  }
  if (prefix.endsWith(".trustStore") && type === "PKCS12") {
    throw new InvalidArgumentError(
      `${prefix}.location ${location}: Node cannot use a PKCS12 truststore (certificates ` +
        "without a key); give the CA certificates as PEM: " +
        `openssl pkcs12 -in ${location} -nokeys -out truststore.pem`,
    );
  }
  return { location, password, type };
}

function typeFromExtension(prefix: string, location: string): string {
  const extension = /\.([^./]+)$/.exec(location)?.[1]?.toLowerCase();
  if (extension === "pem" || extension === "crt") return "PEM";
  if (extension === "p12" || extension === "pfx") return "PKCS12";
  if (extension === "jks") return "JKS";
  if (extension === "bcfks") return "BCFKS";
  throw new InvalidArgumentError(
    `${prefix}.type is not set and ${location} has no extension that says its type ` +
      "(.pem, .p12, .pfx); set it to PEM or PKCS12",
  );
}

function javaKeyStore(prefix: string, location: string, type: string): InvalidArgumentError {
  const command = prefix.endsWith(".keyStore")
    ? `keytool -importkeystore -srckeystore ${location} -destkeystore keystore.p12 ` +
      "-deststoretype PKCS12 (then ssl.keyStore.type=PKCS12)"
    : `keytool -exportcert -rfc -keystore ${location} -alias <ca> -file truststore.pem ` +
      "(then ssl.trustStore.type=PEM)";
  return new InvalidArgumentError(
    `${prefix}.location ${location}: a Java KeyStore (${type}), which Node cannot read; ` +
      `convert it: ${command}`,
  );
}

/** The options of tls.createServer for these settings; reads the files (errors name the key). */
export function secureContextOptions(secure: SecureClientOptions): tls.TlsOptions {
  return {
    ...keyMaterial("ssl", secure.keyStore, secure.trustStore),
    requestCert: secure.clientAuth !== "none",
    rejectUnauthorized: secure.clientAuth === "need",
  };
}

/**
 * A keystore and truststore as TLS options (key, cert or pfx; ca), read from their files.
 * Without a truststore, Node's own CA list stands in for Java's default one.
 */
export function keyMaterial(
  prefix: string,
  keyStore: StoreLocation,
  trustStore: StoreLocation | undefined,
): tls.SecureContextOptions {
  const keyBytes = readStore(`${prefix}.keyStore`, keyStore);
  const key: tls.SecureContextOptions =
    keyStore.type === "PKCS12"
      ? { pfx: keyBytes, passphrase: keyStore.password ?? "" }
      : {
          key: keyBytes,
          cert: keyBytes,
          ...(keyStore.password !== undefined && { passphrase: keyStore.password }),
        };
  if (trustStore === undefined) return key;
  return { ...key, ca: readStore(`${prefix}.trustStore`, trustStore) };
}

function readStore(prefix: string, store: StoreLocation): Buffer {
  let bytes: Buffer;
  try {
    bytes = readFileSync(store.location);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new InvalidArgumentError(`${prefix}.location ${store.location}: ${reason}`);
  }
  if (bytes.length >= 4 && JKS_MAGIC.includes(bytes.readUInt32BE(0))) {
    throw javaKeyStore(prefix, store.location, "JKS");
  }
  return bytes;
}

/**
 * The ids a TLS connection's client certificate gives, as NettyServerCnxnFactory's
 * CertificateVerifier and X509AuthenticationProvider do: none when no certificate was asked for
 * or given (want); x509:<subject> (and super:<subject> for the superUser) for a verified one;
 * null when one was given but does not verify (ZooKeeper closes that connection).
 */
export function certificateIds(socket: tls.TLSSocket, secure: SecureClientOptions): Id[] | null {
  if (secure.clientAuth === "none") return [];
  const certificate = socket.getPeerCertificate(false);
  if (certificate === null || certificate.raw === undefined) return [];
  if (!socket.authorized) return null;
  const subject = subjectName(certificate.raw);
  const ids: Id[] = [];
  if (secure.superUser !== undefined && subject === secure.superUser) {
    ids.push({ scheme: "super", id: subject });
  }
  ids.push({ scheme: "x509", id: subject });
  return ids;
}
