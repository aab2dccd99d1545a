/**
 * TLS between the servers of an ensemble, configured as Apache ZooKeeper 3.8 configures it
 * (QuorumPeerConfig's sslQuorum and portUnification, QuorumX509Util's ssl.quorum.* settings):
 *
 *     sslQuorum=true                                   # election and quorum links over TLS
 *     ssl.quorum.keyStore.location=/etc/zk/peer.pem    # key + certificate (PEM or PKCS12)
 *     ssl.quorum.trustStore.location=/etc/zk/ca.pem    # who may be a peer (PEM)
 *     ssl.quorum.hostnameVerification=true             # default: both ends check the address
 *     portUnification=true                             # accept TLS and plain (rolling upgrade)
 *
 * Each ssl.quorum.* key is read under its `zookeeper.`-prefixed name too, since ZooKeeper reads
 * them as system properties and turns unknown zoo.cfg keys into `zookeeper.<key>`.
 */
import { InvalidArgumentError } from "../../protocol/errors.js";
import { type ClientAuth, parseClientAuth, type StoreLocation, store } from "../tls.js";

const PREFIX = "ssl.quorum";

export interface QuorumTlsSettings {
  /** Open links with TLS (sslQuorum). Accepted links are TLS too, unless portUnification. */
  readonly sslQuorum: boolean;
  /** Accept both TLS and plain links on the quorum and election ports. */
  readonly portUnification: boolean;
  /** Undefined only with portUnification alone: TLS hellos are then refused. */
  readonly keyStore: StoreLocation | undefined;
  readonly trustStore: StoreLocation | undefined;
  /** Check the peer's certificate against its address, on both ends (default true). */
  readonly hostnameVerification: boolean;
  readonly clientAuth: ClientAuth;
  /** Ms an accepted link may stay silent before its first byte says TLS or plain. */
  readonly handshakeDetectionTimeoutMs: number;
  /** Settings ZooKeeper has that zkts does not apply (logged at start). */
  readonly unsupported: readonly string[];
}

/** X509Util.DEFAULT_HANDSHAKE_DETECTION_TIMEOUT_MILLIS. */
const HANDSHAKE_DETECTION_TIMEOUT_MS = 5000;

/**
 * Java names for protocols and cipher suites, and Java's revocation checks, have no faithful
 * mapping onto Node's OpenSSL options; they are named in a warning rather than half applied.
 */
const UNSUPPORTED = [
  "protocol",
  "enabledProtocols",
  "ciphersuites",
  "crl",
  "ocsp",
  "context.supplier.class",
];

/** The quorum's TLS settings, or undefined when links are plain only. */
export function resolveQuorumTls(
  props: ReadonlyMap<string, string>,
): QuorumTlsSettings | undefined {
  const sslQuorum = javaBoolean(props.get("sslQuorum"), false);
  const portUnification = javaBoolean(props.get("portUnification"), false);
  if (!sslQuorum && !portUnification) return undefined;
  const get = (name: string) =>
    props.get(`${PREFIX}.${name}`) ?? props.get(`zookeeper.${PREFIX}.${name}`);
  const keyLocation = get("keyStore.location");
  if (keyLocation === undefined && sslQuorum) {
    throw new InvalidArgumentError(
      `${PREFIX}.keyStore.location must be set for sslQuorum (this server's key and certificate)`,
    );
  }
  const trustLocation = get("trustStore.location");
  const timeout = get("handshakeDetectionTimeoutMillis");
  const handshakeDetectionTimeoutMs =
    timeout === undefined ? HANDSHAKE_DETECTION_TIMEOUT_MS : Number(timeout);
  if (!Number.isInteger(handshakeDetectionTimeoutMs) || handshakeDetectionTimeoutMs <= 0) {
    throw new InvalidArgumentError(
      `${PREFIX}.handshakeDetectionTimeoutMillis must be a positive integer, got "${timeout}"`,
    );
  }
  return {
    sslQuorum,
    portUnification,
    keyStore:
      keyLocation === undefined
        ? undefined
        : store(`${PREFIX}.keyStore`, keyLocation, get("keyStore.password"), get("keyStore.type")),
    trustStore:
      trustLocation === undefined
        ? undefined
        : store(
            `${PREFIX}.trustStore`,
            trustLocation,
            get("trustStore.password"),
            get("trustStore.type"),
          ),
    hostnameVerification: javaBoolean(get("hostnameVerification"), true),
    clientAuth: parseClientAuth(`${PREFIX}.clientAuth`, get("clientAuth")),
    handshakeDetectionTimeoutMs,
    unsupported: UNSUPPORTED.filter((name) => get(name) !== undefined).map(
      (name) => `${PREFIX}.${name}`,
    ),
  };
}

/** Boolean.parseBoolean of a trimmed value ("true" in any case is true, anything else false). */
function javaBoolean(value: string | undefined, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  return value.trim().toLowerCase() === "true";
}
