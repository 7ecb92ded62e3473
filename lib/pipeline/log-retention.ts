import type { Logger } from '@nestjs/common';
import type { PruneCounts, RetentionPolicy } from '../storage/records.js';
import type { WebhookStore } from '../storage/webhook-store.js';

/** The retention policy and how often it is applied. */
export interface RetentionSettings extends RetentionPolicy {
  intervalMs: number;
}

/**
 * Applies the retention policy to a durable store every intervalMs: one run at a time, outside the pipeline's writes
 * (each batch is a statement of its own), on an unref'd timer that never keeps the process alive; close() stops it
 * between two batches.
 */
export class LogRetention {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<PruneCounts | undefined> | undefined;
  private readonly stopping = new AbortController();

  constructor(
    private readonly store: WebhookStore,
    private readonly settings: RetentionSettings,
    private readonly logger: Logger,
  ) {}

  start(): void {
    if (this.timer || !this.store.prune || this.stopping.signal.aborted) return;
    this.timer = setInterval(() => void this.prune(), this.settings.intervalMs);
    this.timer.unref();
  }

  /** One run now (undefined when one is under way, after close(), or when it failed: logged, tried again next tick). */
  prune(): Promise<PruneCounts | undefined> {
    if (this.running || !this.store.prune || this.stopping.signal.aborted) return Promise.resolve(undefined);
    const run = this.store
      .prune(this.settings, Date.now(), this.stopping.signal)
      .then((counts) => {
        if (counts.deliveries + counts.attempts + counts.events > 0)
          this.logger.debug(
            `Pruned the delivery log: ${counts.deliveries} deliveries, ${counts.attempts} attempts, ${counts.events} events`,
          );
        return counts;
      })
      .catch((error: unknown) => {
        this.logger.warn(`Could not prune the delivery log (trying again later): ${(error as Error).message}`);
        return undefined;
      })
      .finally(() => (this.running = undefined));
    this.running = run;
    return run;
  }

  /** Stops the timer and a run under way (after its current batch). */
  async close(): Promise<void> {
    clearInterval(this.timer);
    this.stopping.abort();
    await this.running;
  }
}
