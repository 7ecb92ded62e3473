import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { WebhooksHealthIndicator } from 'nestjs-convoy/terminus';

@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly webhooks: WebhooksHealthIndicator,
  ) {}

  /** Down (503) when events wait in the outbox for more than a minute, or any is dead-lettered. */
  @Get()
  @HealthCheck()
  check() {
    return this.health.check([() => this.webhooks.isHealthy('webhooks', { maxLagMs: 60_000, maxDeadLetters: 0 })]);
  }
}
