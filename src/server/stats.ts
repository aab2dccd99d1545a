import { Summary } from "./summary.js";

/**
 * The operations whose requests are txns (ZooKeeper records their latency as updatelatency,
 * every other request's as readlatency), by the names the four-letter words show.
 */
const UPDATE_OPERATIONS: ReadonlySet<string> = new Set([
  "CREA",
  "DELE",
  "SETD",
  "SETA",
  "CHEC",
  "MULT",
  "RECO",
  "CLOS",
]);

/**
 * The ServerMetrics summaries zkts measures beyond the data dir's (ZooKeeper's names); `srst`
 * does not reset them, as it does not reset ZooKeeper's.
 */
export class ServerMetrics {
  /** READ_LATENCY: each read's (and ping's) time from arrival to reply. */
  readonly readLatency = new Summary();
  /** UPDATE_LATENCY: each write's time from arrival to reply (after it is durable). */
  readonly updateLatency = new Summary();
  /** ELECTION_TIME: from LOOKING to following or leading. */
  readonly electionTime = new Summary();
  /** PROPOSAL_LATENCY: a leader's time from proposing a txn to applying it once committed. */
  readonly proposalLatency = new Summary();
  /** The ServerMetrics counters zkts counts, by ZooKeeper's names. */
  readonly counters = {
    /** LOOKING_COUNT: times this server started to look for a leader. */
    looking_count: 0,
    /** CONNECTION_REQUEST_COUNT: client connections accepted. */
    connection_request_count: 0,
    /** CONNECTION_REJECTED: client connections refused (maxClientCnxns). */
    connection_rejected: 0,
  };
  private lookingSince: number | undefined;

  /** An ensemble server's Zab state changed at `nowMs`: election_time and looking_count. */
  roleChanged(state: "LOOKING" | "FOLLOWING" | "LEADING" | "OBSERVING", nowMs: number): void {
    if (state === "LOOKING") {
      if (this.lookingSince === undefined) this.counters.looking_count++;
      this.lookingSince ??= nowMs;
      return;
    }
    if (this.lookingSince === undefined) return;
    this.electionTime.add(nowMs - this.lookingSince);
    this.lookingSince = undefined;
  }
}

/** Server-wide counters for the four-letter words (ServerStats). */
export class ServerStats {
  packetsReceived = 0;
  packetsSent = 0;
  minLatencyMs = Number.MAX_SAFE_INTEGER;
  maxLatencyMs = 0;
  totalLatencyMs = 0;
  count = 0;
  /**
   * Sizes in bytes (without the length prefix) of the last, smallest and largest frame sent to a
   * client other than a handshake answer; -1 until there is one (ZooKeeper's BufferStats).
   */
  lastResponseBytes = -1;
  minResponseBytes = -1;
  maxResponseBytes = -1;
  readonly startedAt = Date.now();
  readonly metrics = new ServerMetrics();

  /** A reply went out `ms` after its request arrived; `operation` is its name (replies.ts). */
  recordLatency(ms: number, operation = "NA"): void {
    if (UPDATE_OPERATIONS.has(operation)) this.metrics.updateLatency.add(ms);
    else this.metrics.readLatency.add(ms);
    this.count++;
    this.totalLatencyMs += ms;
    if (ms < this.minLatencyMs) this.minLatencyMs = ms;
    if (ms > this.maxLatencyMs) this.maxLatencyMs = ms;
  }

  recordResponseSize(bytes: number): void {
    this.lastResponseBytes = bytes;
    if (this.minResponseBytes === -1 || bytes < this.minResponseBytes)
      this.minResponseBytes = bytes;
    if (bytes > this.maxResponseBytes) this.maxResponseBytes = bytes;
  }

  get avgLatencyMs(): number {
    return this.count === 0 ? 0 : this.totalLatencyMs / this.count;
  }

  reset(): void {
    this.packetsReceived = 0;
    this.packetsSent = 0;
    this.minLatencyMs = Number.MAX_SAFE_INTEGER;
    this.maxLatencyMs = 0;
    this.totalLatencyMs = 0;
    this.count = 0;
    this.lastResponseBytes = -1;
    this.minResponseBytes = -1;
    this.maxResponseBytes = -1;
  }
}
