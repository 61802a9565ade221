/**
 * Runs an async task "soon" whenever kicked, never twice at once, and never busy-loops:
 * any number of kicks in one tick coalesce into one run (setImmediate); a kick during a
 * run schedules exactly one more run after it; a failed run is retried after a back-off.
 */
export class CoalescedRunner {
  private scheduled = false;
  private running = false;
  private again = false;
  private enabled = false;
  private retry: NodeJS.Timeout | undefined;
  private waiters: (() => void)[] = [];

  constructor(
    private readonly task: () => Promise<void>,
    private readonly onError: (err: unknown) => void,
    private readonly retryAfterMs = 1000,
  ) {}

  start(): void {
    this.enabled = true;
  }

  /** Stop accepting kicks; resolves once the current run (if any) ended. */
  async stop(): Promise<void> {
    this.enabled = false;
    clearTimeout(this.retry);
    await this.idle();
  }

  kick(): void {
    if (!this.enabled) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => void this.loop());
  }

  /** Resolves once no run is in progress or scheduled. */
  idle(): Promise<void> {
    if (!this.running && !this.scheduled) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private async loop(): Promise<void> {
    this.scheduled = false;
    if (this.running || !this.enabled) return this.settle();
    this.running = true;
    try {
      do {
        this.again = false;
        await this.task();
      } while (this.again && this.enabled);
    } catch (err) {
      this.onError(err);
      clearTimeout(this.retry);
      this.retry = setTimeout(() => this.kick(), this.retryAfterMs);
      this.retry.unref();
    } finally {
      this.running = false;
      this.settle();
    }
  }

  private settle(): void {
    if (this.running || this.scheduled) return;
    const w = this.waiters;
    this.waiters = [];
    for (const resolve of w) resolve();
  }
}
