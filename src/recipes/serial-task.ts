/**
 * A background task that runs one at a time: asking while it runs asks for one more run after
 * it, so a burst of asks costs at most two runs. What a cache's refresh and a node's repair
 * need: each run reads the current state, so the last one settles everything asked before it.
 */
export class SerialTask {
  private readonly task: () => Promise<void>;
  private readonly stopped: () => boolean;
  private current: Promise<void> | undefined;
  private again = false;

  /** `task` reports its own failures (a rejection is dropped); `stopped` ends the asking. */
  constructor(task: () => Promise<void>, stopped: () => boolean) {
    this.task = task;
    this.stopped = stopped;
  }

  /** Runs the task now, or once more after the run under way. */
  request(): void {
    if (this.stopped()) return;
    if (this.current !== undefined) {
      this.again = true;
      return;
    }
    this.current = (async () => {
      try {
        do {
          this.again = false;
          await this.task().catch(() => {});
        } while (this.again && !this.stopped());
      } finally {
        this.current = undefined;
      }
    })();
  }

  /** Settles when no run is under way or asked for. */
  async idle(): Promise<void> {
    await this.current;
  }
}
