/**
 * Spreads a watch storm over turns of the event loop. One setData on a znode 10,000
 * connections watch meant 10,000 socket writes in one turn: ~200 ms in which no other client
 * was answered, the write's own reply included. Past `perTurn` notifications in a turn, the
 * rest wait, connection by connection, and go `perTurn` at a time from setImmediate, so reads
 * and writes of other clients are served between slices.
 *
 * Order per connection is kept by the connection (server-connection.ts): once it has a
 * notification waiting, its later notifications wait behind it, and anything else it sends
 * (a reply) first sends what waits. So a client still sees a watch event before any reply that
 * reflects the change, as ZooKeeper promises.
 */

/** A connection holding notifications back; `release` sends them and says how many. */
export interface Deferring {
  release(): number;
}

export class NotificationPacer {
  /** Notifications per turn before the rest wait (tests lower it to see many turns). */
  perTurn: number;
  private sentThisTurn = 0;
  private readonly waiting: Deferring[] = [];
  private next = 0;
  private scheduled = false;
  /** Connections that have had to hold notifications back, ever (for tests and figures). */
  deferrals = 0;

  constructor(perTurn: number) {
    this.perTurn = perTurn;
  }

  /** True if a notification may go now; else the caller holds it and calls defer(). */
  admit(): boolean {
    this.schedule(); // the budget is per turn: the next setImmediate starts a new one
    return this.sentThisTurn++ < this.perTurn;
  }

  /** `connection` holds notifications back until its turn (or until it sends anything else). */
  defer(connection: Deferring): void {
    this.deferrals++;
    this.waiting.push(connection);
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.turn());
  }

  private turn(): void {
    this.scheduled = false;
    let sent = 0;
    while (this.next < this.waiting.length && sent < this.perTurn) {
      sent += (this.waiting[this.next++] as Deferring).release();
    }
    // Drop what was released, so a storm that never ends does not grow the array forever.
    this.waiting.splice(0, this.next);
    this.next = 0;
    if (this.waiting.length > 0) this.schedule();
    this.sentThisTurn = sent;
  }
}

/** Notifications a process sends in one turn before the rest are spread out. */
export const NOTIFICATIONS_PER_TURN = 500;

/** One per process: the event loop being protected is the process's. */
export const notificationPacer = new NotificationPacer(NOTIFICATIONS_PER_TURN);
