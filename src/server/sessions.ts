/**
 * Sessions and their expiry, as ZooKeeper's SessionTrackerImpl keeps them: each session expires
 * at the first tick boundary after `now + timeout`, and every packet from its client pushes that
 * forward. Ids are made as ZooKeeper makes them: the server id in the top byte, then the start
 * time shifted left, then a counter. The clock is passed in, so tests can drive time.
 */
export interface Session {
  readonly id: bigint;
  timeoutMs: number;
  /** The tick boundary at which it expires unless touched. */
  expiresAt: number;
  /** Set once a closeSession is under way: the session takes no more requests. */
  closing: boolean;
}

const LONG_MASK = 0xffffffffffffffffn;

export class SessionTracker {
  private readonly sessions = new Map<bigint, Session>();
  private readonly tickMs: number;
  private readonly now: () => number;
  private nextId: bigint;

  constructor(tickMs: number, now: () => number, serverId = 1n) {
    this.tickMs = tickMs;
    this.now = now;
    // SessionTrackerImpl.initializeNextSessionId: ((time << 24) >>> 8) | (serverId << 56).
    const shifted = ((BigInt(Math.floor(now())) << 24n) & LONG_MASK) >> 8n;
    this.nextId = BigInt.asIntN(64, shifted | (serverId << 56n));
  }

  /** A new session id, never 0 and never the container marker. */
  nextSessionId(): bigint {
    return this.nextId++;
  }

  private expiry(timeoutMs: number): number {
    return (Math.floor((this.now() + timeoutMs) / this.tickMs) + 1) * this.tickMs;
  }

  add(id: bigint, timeoutMs: number): Session {
    const session: Session = { id, timeoutMs, expiresAt: this.expiry(timeoutMs), closing: false };
    this.sessions.set(id, session);
    return session;
  }

  get(id: bigint): Session | undefined {
    return this.sessions.get(id);
  }

  /** Pushes the expiry forward; false if the session is gone or closing (touchSession). */
  touch(id: bigint, timeoutMs?: number): boolean {
    const session = this.sessions.get(id);
    if (session === undefined || session.closing) return false;
    if (timeoutMs !== undefined) session.timeoutMs = timeoutMs;
    session.expiresAt = this.expiry(session.timeoutMs);
    return true;
  }

  remove(id: bigint): void {
    this.sessions.delete(id);
  }

  /** Sessions past their expiry that are not already closing, marked closing now. */
  takeExpired(): Session[] {
    const now = this.now();
    const expired: Session[] = [];
    for (const session of this.sessions.values()) {
      if (!session.closing && session.expiresAt <= now) {
        session.closing = true;
        expired.push(session);
      }
    }
    return expired;
  }

  all(): IterableIterator<Session> {
    return this.sessions.values();
  }

  get size(): number {
    return this.sessions.size;
  }
}
