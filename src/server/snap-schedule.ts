/**
 * When the next snapshot is due (SyncRequestProcessor.shouldSnapshot): after snapCount/2 plus a
 * random share of snapCount/2 txns, or the same for snapSizeLimitInKb of log, counted from the
 * last one. The random share keeps the servers of an ensemble from snapshotting all at once.
 */
import { randomInt } from "node:crypto";

export class SnapSchedule {
  private readonly snapCount: number;
  private readonly snapBytes: number;
  private randomCount = 0;
  private randomBytes = 0;
  private txns = 0;
  private bytes = 0;

  /** `snapBytes` 0 or less: only the txn count matters. */
  constructor(snapCount: number, snapBytes: number) {
    this.snapCount = snapCount;
    this.snapBytes = snapBytes;
    this.reset();
  }

  /** One more txn of `bytes` logged. */
  count(bytes: number): void {
    this.txns++;
    this.bytes += bytes;
  }

  /** Due by what `count` was told since the last reset. */
  due(): boolean {
    return this.dueAt(this.txns, this.bytes);
  }

  /** Due after `txns` txns and `bytes` bytes of log since the last snapshot (counted elsewhere). */
  dueAt(txns: number, bytes: number): boolean {
    return (
      txns > this.snapCount / 2 + this.randomCount ||
      (this.snapBytes > 0 && bytes > this.snapBytes / 2 + this.randomBytes)
    );
  }

  /** A snapshot was started (or skipped): count again, with a new random share. */
  reset(): void {
    this.txns = 0;
    this.bytes = 0;
    this.randomCount = randomInt(Math.max(1, Math.floor(this.snapCount / 2)));
    this.randomBytes = this.snapBytes > 2 ? randomInt(Math.min(2 ** 47, this.snapBytes / 2)) : 0;
  }
}
