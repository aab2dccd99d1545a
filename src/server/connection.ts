/**
 * What the request processors need of a client connection. The TCP shell (net/) implements it;
 * tests can implement it without sockets.
 */
import type { Id } from "../jute/records.js";
import type { Writer } from "../jute/writer.js";
import type { Watcher } from "./watch-manager.js";

export interface ClientConnection extends Watcher {
  /** 0 until the handshake gave the connection a session. */
  sessionId: bigint;
  /** The ids the connection authenticated as: ip:<address> first, then addAuth's. */
  readonly authIds: Id[];
  /** The ids a verified TLS client certificate gave (x509, and super for its superUser). */
  readonly certificateIds?: readonly Id[];
  readonly clientIp: string;
  /** "host:port" of the client, for logs and four-letter words. */
  readonly remote: string;
  /** Queues one frame (the length prefix is added); frames go out in the order queued. */
  send(encode: (w: Writer) => void): void;
  /** Sends what is queued, then closes. */
  close(reason: string): void;
  /** Statistics the four-letter words show. */
  readonly stats: ConnectionStats;
}

export interface ConnectionStats {
  packetsReceived: number;
  packetsSent: number;
  lastOperation: string;
  lastCxid: number;
  lastZxid: bigint;
  lastResponseTime: number;
  lastLatencyMs: number;
  minLatencyMs: number;
  maxLatencyMs: number;
  totalLatencyMs: number;
  requests: number;
  readonly establishedAt: number;
  sessionTimeoutMs: number;
}

export function newConnectionStats(now: number): ConnectionStats {
  return {
    packetsReceived: 0,
    packetsSent: 0,
    lastOperation: "NA",
    lastCxid: -1,
    lastZxid: -1n,
    lastResponseTime: 0,
    lastLatencyMs: 0,
    minLatencyMs: Number.MAX_SAFE_INTEGER,
    maxLatencyMs: 0,
    totalLatencyMs: 0,
    requests: 0,
    establishedAt: now,
    sessionTimeoutMs: 0,
  };
}
