/**
 * The standalone server's settings, by ZooKeeper's own names and with its defaults. Units are
 * ZooKeeper's (tickTime and session timeouts in ms). `resolveOptions` (config.ts) fills the
 * defaults and refuses nonsense with InvalidArgumentError.
 */
export interface ServerOptions {
  /**
   * clientPort: default 2181; 0 picks a free port (read it back from RunningServer.port); null
   * for no plain port (serve TLS on secureClientPort only, as a zoo.cfg without clientPort does).
   */
  readonly clientPort?: number | null;
  /** clientPortAddress: default "0.0.0.0" (every interface), as ZooKeeper. */
  readonly clientPortAddress?: string;
  /**
   * tickTime in ms: default 3000, ZooKeeperServer.DEFAULT_TICK_TIME (what ZooKeeper 3.8 uses when
   * zoo.cfg omits it; its sample zoo.cfg sets 2000).
   */
  readonly tickTime?: number;
  /** minSessionTimeout in ms: default 2 × tickTime. */
  readonly minSessionTimeout?: number;
  /** maxSessionTimeout in ms: default 20 × tickTime. */
  readonly maxSessionTimeout?: number;
  /** maxClientCnxns: connections per client IP; default 60, 0 for no limit. */
  readonly maxClientCnxns?: number;
  /** jute.maxbuffer: the largest request packet accepted; default 0xfffff. */
  readonly juteMaxBuffer?: number;
  /** globalOutstandingLimit: requests in flight before connections stop being read; default 1000. */
  readonly globalOutstandingLimit?: number;
  /** 4lw.commands.whitelist: default ["srvr"]; "*" for all. ZooKeeper always adds "srvr". */
  readonly fourLetterWordsWhitelist?: readonly string[] | "*";
  /** zookeeper.extendedTypesEnabled: TTL nodes; default false. */
  readonly extendedTypesEnabled?: boolean;
  /** zookeeper.enforceQuota: hard quota limits refuse writes (QuotaExceeded); default false. */
  readonly enforceQuota?: boolean;
  /** zookeeper.DigestAuthenticationProvider.superDigest: "super:<base64 sha1>". */
  readonly superDigest?: string;
  /** znode.container.checkIntervalMs: default 60000. */
  readonly containerCheckIntervalMs?: number;
  /** znode.container.maxPerMinute: default 10000. */
  readonly containerMaxPerMinute?: number;
  /**
   * zookeeper.nio.sessionlessCnxnTimeout: how long a connection may stay without a handshake
   * before it is closed, in ms; default 10000.
   */
  readonly sessionlessConnectionTimeoutMs?: number;
  /**
   * dataDir: where snapshots (and, without dataLogDir, the txn log) go, under `version-2/` as
   * ZooKeeper lays them out. Without it the server keeps its tree in memory only (ZooKeeper
   * requires it; an embedded zkts for tests need not).
   */
  readonly dataDir?: string;
  /** dataLogDir: the txn log's directory (a dedicated disk helps latency); default dataDir. */
  readonly dataLogDir?: string;
  /** zookeeper.forceSync: fsync the txn log before acknowledging a write; default true ("yes"). */
  readonly forceSync?: boolean;
  /** zookeeper.snapCount: txns between snapshots, randomized in snapCount/2..snapCount; 100000. */
  readonly snapCount?: number;
  /** zookeeper.snapSizeLimitInKb: log bytes between snapshots, likewise; default 4 GiB. */
  readonly snapSizeLimitInKb?: number;
  /** zookeeper.preAllocSize: the txn log grows in blocks of this many KiB; default 65536. */
  readonly preAllocSizeKb?: number;
  /** autopurge.snapRetainCount: snapshots (and the logs they need) kept; default 3, at least 3. */
  readonly autopurgeSnapRetainCount?: number;
  /** autopurge.purgeInterval: hours between purges; 0 (the default) turns purging off. */
  readonly autopurgePurgeIntervalHours?: number;
  /**
   * admin.enableServer: serve the AdminServer's JSON commands over HTTP. ZooKeeper's default is
   * on, and `zkts server` (a zoo.cfg) keeps it; a server started from code opens no port it was
   * not asked for, so here the default is false.
   */
  readonly adminEnableServer?: boolean;
  /** admin.serverAddress: the AdminServer's address; default "0.0.0.0". */
  readonly adminServerAddress?: string;
  /** admin.serverPort: the AdminServer's port; default 8080, 0 picks a free one. */
  readonly adminServerPort?: number;
  /** admin.commandURL: where the commands are; default "/commands". */
  readonly adminCommandUrl?: string;
  /**
   * metricsProvider.className: ZooKeeper's metrics providers by their Java names. Only
   * "org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider" serves anything (GET
   * /metrics on metricsProvider.httpHost:httpPort); the default,
   * "org.apache.zookeeper.metrics.impl.DefaultMetricsProvider", and NullMetricsProvider serve
   * nothing (mntr and the AdminServer's monitor work either way).
   */
  readonly metricsProviderClassName?: string;
  /** metricsProvider.httpHost: default "0.0.0.0". */
  readonly metricsProviderHttpHost?: string;
  /** metricsProvider.httpPort: default 7000, 0 picks a free one. */
  readonly metricsProviderHttpPort?: number;
  /** metricsProvider.exportJvmInfo: also export the process_* figures; default true. */
  readonly metricsProviderExportJvmInfo?: boolean;
  /**
   * secureClientPort: serve TLS here too (0 picks a free port; RunningServer.securePort). Needs
   * ssl.keyStore.location. Four-letter words work on it as on the plain port.
   */
  readonly secureClientPort?: number;
  /** secureClientPortAddress: default "0.0.0.0". */
  readonly secureClientPortAddress?: string;
  /**
   * ssl.keyStore.location: the server's key and certificate chain, PEM (key and certificates in
   * one file, as ZooKeeper's PEM keystore) or PKCS#12. Java KeyStores (JKS) cannot be read by
   * Node: convert them (README, "TLS").
   */
  readonly sslKeyStoreLocation?: string;
  /** ssl.keyStore.password: the PKCS#12 password, or an encrypted PEM key's passphrase. */
  readonly sslKeyStorePassword?: string;
  /** ssl.keyStore.type: PEM, PKCS12 (JKS is refused); default from the file's extension. */
  readonly sslKeyStoreType?: string;
  /**
   * ssl.trustStore.location: the CA certificates client certificates must chain to, PEM. Without
   * it, Node's bundled root CAs (as ZooKeeper falls back to the JDK's).
   */
  readonly sslTrustStoreLocation?: string;
  /** ssl.trustStore.password: unused for PEM (accepted for ZooKeeper's zoo.cfg). */
  readonly sslTrustStorePassword?: string;
  /** ssl.trustStore.type: PEM (PKCS12 and JKS are refused); default from the extension. */
  readonly sslTrustStoreType?: string;
  /**
   * ssl.clientAuth: "need" (the default, as ZooKeeper's: a client without a trusted certificate
   * is refused), "want" (a certificate is asked for, and checked if given), or "none".
   */
  readonly sslClientAuth?: string;
  /**
   * zookeeper.X509AuthenticationProvider.superUser: a certificate subject (RFC 2253) that is
   * the super user.
   */
  readonly x509SuperUser?: string;
  /**
   * authProvider.N: authentication provider class names. SASLAuthenticationProvider enables the
   * sasl ACL scheme (the others ZooKeeper always has: ip, digest; x509 with TLS).
   */
  readonly authProviders?: readonly string[];
  /**
   * java.security.auth.login.config: a JAAS file whose "Server" section's DigestLoginModule
   * options `user_<name>="<password>"` are the SASL DIGEST-MD5 users.
   */
  readonly jaasConfigFile?: string;
  /** zookeeper.sessionRequireClientSASLAuth: every connection must authenticate with SASL. */
  readonly sessionRequireClientSASLAuth?: boolean;
  /** zookeeper.enforce.auth.enabled: every connection must authenticate by a listed scheme. */
  readonly enforceAuthEnabled?: boolean;
  /** zookeeper.enforce.auth.schemes: the schemes enforce.auth.enabled accepts. */
  readonly enforceAuthSchemes?: readonly string[];
  /** zookeeper.superUser and zookeeper.superUser.N: sasl ids that are the super user too. */
  readonly saslSuperUsers?: readonly string[];
  /** zookeeper.SASLAuthenticationProvider.superPassword: the password of the user "super". */
  readonly saslSuperPassword?: string;
  /** zookeeper.letAnySaslUserDoX: a sasl ACL naming this value admits every sasl id. */
  readonly letAnySaslUserDoX?: string;
  /** zookeeper.allowSaslFailedClients: a failed SASL exchange keeps its connection. */
  readonly allowSaslFailedClients?: boolean;
  /** zookeeper.kerberos.removeHostFromPrincipal: drop "/host" from a mapped sasl id. */
  readonly kerberosRemoveHostFromPrincipal?: boolean;
  /** zookeeper.kerberos.removeRealmFromPrincipal: drop "@REALM" from a mapped sasl id. */
  readonly kerberosRemoveRealmFromPrincipal?: boolean;
  /** java.security.krb5.realm: with java.security.krb5.kdc, the default Kerberos realm. */
  readonly krb5Realm?: string;
  /** java.security.krb5.kdc: Java takes krb5.realm only when this is set too. */
  readonly krb5Kdc?: string;
  /** The zoo.cfg text the server started from, for the initial_configuration command. */
  readonly initialConfig?: string;
}
