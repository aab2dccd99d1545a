/**
 * The standalone server's settings, by ZooKeeper's own names and with its defaults. Units are
 * ZooKeeper's (tickTime and session timeouts in ms). `resolveOptions` (config.ts) fills the
 * defaults and refuses nonsense with InvalidArgumentError.
 */
export interface ServerOptions {
  /** clientPort: default 2181; 0 picks a free port (read it back from RunningServer.port). */
  readonly clientPort?: number;
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
  /** dataDir: kept for zoo.cfg compatibility; the in-memory server does not write it yet. */
  readonly dataDir?: string;
}
