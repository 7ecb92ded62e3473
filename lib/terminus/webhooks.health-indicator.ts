import { Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { WebhookPublisher } from '../publishing/webhook-publisher.js';

/** Limits of WebhooksHealthIndicator.isHealthy(): when the pipeline counts as down. */
export interface WebhooksHealthOptions {
  /** Down when the oldest event not yet handed to the transport is older than this, ms. Default 60000. */
  maxLagMs?: number;
  /** Down when more dead letters than this are stored. Default: no limit. */
  maxDeadLetters?: number;
}

/**
 * A `@nestjs/terminus` health indicator for the webhook pipeline: down when events pile up (lag) or dead letters
 * exceed a limit, with the publisher's stats as details.
 *
 *   `@Get('health')` `@HealthCheck()`
 *   `check() { return this.health.check([() => this.webhooks.isHealthy('webhooks', { maxLagMs: 30_000 })]); }`
 */
@Injectable()
export class WebhooksHealthIndicator {
  constructor(
    private readonly publisher: WebhookPublisher,
    private readonly health: HealthIndicatorService,
  ) {}

  async isHealthy<const Key extends string>(
    key: Key,
    options: WebhooksHealthOptions = {},
  ): Promise<HealthIndicatorResult<Key>> {
    const indicator = this.health.check(key);
    const { maxLagMs = 60_000, maxDeadLetters } = options;
    let stats;
    try {
      stats = await this.publisher.stats();
    } catch (error) {
      return indicator.down({ message: `could not read the outbox: ${(error as Error).message}` });
    }
    const details = {
      durable: stats.durable,
      pending: stats.pending,
      inFlight: stats.inFlight,
      lagMs: stats.lagMs,
      deadLetters: stats.deadLetters,
      sent: stats.sent,
      failed: stats.failed,
    };
    if (stats.lagMs > maxLagMs)
      return indicator.down({
        ...details,
        message: `the oldest pending event is ${stats.lagMs} ms old (limit ${maxLagMs} ms)`,
      });
    if (maxDeadLetters !== undefined && stats.deadLetters > maxDeadLetters) {
      return indicator.down({ ...details, message: `${stats.deadLetters} dead letters (limit ${maxDeadLetters})` });
    }
    return indicator.up(details);
  }
}
