/**
 * Runs `work` over and over, never twice at once: at once when woken with no delay (setImmediate, not a timer's
 * ≥ 1 ms), otherwise at the earliest time anyone asked for, including the delay `work` itself returns. A wake-up
 * that arrives while `work` runs is kept and honoured right after it.
 */
export class WorkLoop {
  private running = false;
  private busy = false;
  /** Earliest time a run was asked for while one was under way. */
  private wantedAt = Infinity;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private immediate: NodeJS.Immediate | undefined;
  /** Called when the round under way ends, for stop(). */
  private roundEnded: (() => void) | undefined;

  constructor(
    /** Does one round; resolves with how long to wait before the next one, in ms. */
    private readonly work: () => Promise<number>,
    /** When a round throws: report it and say how long to wait. */
    private readonly onError: (error: unknown) => number,
  ) {}

  get active(): boolean {
    return this.running;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.wake(0);
  }

  /** No more rounds; resolves when the round under way (if any) has ended. */
  stop(): Promise<void> {
    this.running = false;
    this.clear();
    return this.busy ? new Promise((resolve) => (this.roundEnded = resolve)) : Promise.resolve();
  }

  /** Run again after `delayMs` (0: at once), unless a run is already due sooner. */
  wake(delayMs = 0): void {
    if (!this.running) return;
    const at = Date.now() + Math.max(0, delayMs);
    if (this.busy) this.wantedAt = Math.min(this.wantedAt, delayMs <= 0 ? 0 : at);
    else this.schedule(delayMs <= 0 ? 0 : at);
  }

  /**
   * An immediate run leaves a later timer armed (it is usually the poll that the next round asks for again), so
   * that a busy loop does not clear and re-arm a timer on every round.
   */
  private schedule(at: number): void {
    if (!this.running || this.immediate) return;
    if (at <= Date.now()) {
      this.immediate = setImmediate(this.runNow);
      return;
    }
    if (this.timer && this.timerAt <= at) return;
    clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(this.runOnTimer, at - Date.now());
  }

  private readonly runNow = (): void => {
    this.immediate = undefined;
    void this.round();
  };

  private readonly runOnTimer = (): void => {
    this.timer = undefined;
    this.timerAt = Infinity;
    void this.round();
  };

  private clear(): void {
    clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = undefined;
    this.timerAt = Infinity;
    this.immediate = undefined;
  }

  private async round(): Promise<void> {
    if (!this.running) return;
    // A timer left armed fired during a round: run again right after it instead of twice at once.
    if (this.busy) return void (this.wantedAt = 0);
    this.busy = true;
    let delay: number;
    try {
      delay = await this.work();
    } catch (error) {
      delay = this.onError(error);
    }
    this.busy = false;
    this.roundEnded?.();
    this.roundEnded = undefined;
    const wanted = this.wantedAt;
    this.wantedAt = Infinity;
    this.schedule(Math.min(wanted, Date.now() + Math.max(0, delay)));
  }
}
