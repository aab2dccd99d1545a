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

  recordLatency(ms: number): void {
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
