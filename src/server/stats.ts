/** Server-wide counters for the four-letter words (ServerStats). */
export class ServerStats {
  packetsReceived = 0;
  packetsSent = 0;
  minLatencyMs = Number.MAX_SAFE_INTEGER;
  maxLatencyMs = 0;
  totalLatencyMs = 0;
  count = 0;
  readonly startedAt = Date.now();

  recordLatency(ms: number): void {
    this.count++;
    this.totalLatencyMs += ms;
    if (ms < this.minLatencyMs) this.minLatencyMs = ms;
    if (ms > this.maxLatencyMs) this.maxLatencyMs = ms;
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
  }
}
