/**
 * A summary of whole milliseconds, as ZooKeeper's metrics keep them: count, sum, min and max
 * since start (AvgMinMaxCounter: mntr's zk_{avg,min,max,cnt,sum}_<name>, Prometheus's
 * <name>_count and <name>_sum), and quantiles over the most recent samples (mntr's p50..p999 of
 * an advanced summary, Prometheus's <name>{quantile="0.5"}). ZooKeeper takes its quantiles from
 * a reservoir of about a thousand samples (DefaultMetricsProvider) or a sliding time window
 * (Prometheus); here they come from the last WINDOW samples, which costs one array store per
 * sample and a sort per scrape.
 */

/** How many recent samples the quantiles are taken from. */
const WINDOW = 1024;

export class Summary {
  count = 0;
  sum = 0;
  /** 0 while count is 0. */
  min = 0;
  max = 0;
  private readonly recent: number[] = [];
  private next = 0;

  add(ms: number): void {
    const whole = Math.max(0, Math.floor(ms));
    this.min = this.count === 0 ? whole : Math.min(this.min, whole);
    this.max = Math.max(this.max, whole);
    this.count++;
    this.sum += whole;
    if (this.recent.length < WINDOW) this.recent.push(whole);
    else this.recent[this.next] = whole;
    this.next = (this.next + 1) % WINDOW;
  }

  /**
   * Quantiles (each 0..1) of the recent samples by the nearest-rank method, with one sort; NaN
   * when there are none (as Prometheus's Java client says for an empty summary).
   */
  quantiles(qs: readonly number[]): number[] {
    const samples = [...this.recent].sort((a, b) => a - b);
    return qs.map((q) => {
      if (samples.length === 0) return Number.NaN;
      const rank = Math.min(samples.length - 1, Math.max(0, Math.ceil(q * samples.length) - 1));
      return samples[rank] as number;
    });
  }
}
