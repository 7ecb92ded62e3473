import { Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { WebhookDeliveries, type ConvoyEventDelivery, type EventDeliveryStatus } from '../../lib/index.js';
import type { ConvoyDeliveryAttempt } from '../../lib/client/index.js'; // in your app: from 'nestjs-convoy/client'

/** The delivery log: what was sent where, every attempt, and resend, through WebhookDeliveries. */
@Controller('deliveries')
export class DeliveriesController {
  constructor(private readonly deliveries: WebhookDeliveries) {}

  /** `?endpoint=<id>&status=Failure` filter; newest first. */
  @Get()
  async list(
    @Query('endpoint') endpointId?: string,
    @Query('status') status?: EventDeliveryStatus,
  ): Promise<ConvoyEventDelivery[]> {
    const page = await this.deliveries.list({
      perPage: 50,
      ...(endpointId ? { endpointId: [endpointId] } : {}),
      ...(status ? { status: [status] } : {}),
    });
    return page.content;
  }

  @Get(':id')
  get(@Param('id') id: string): Promise<ConvoyEventDelivery> {
    return this.deliveries.get(id);
  }

  @Get(':id/attempts')
  attempts(@Param('id') id: string): Promise<ConvoyDeliveryAttempt[]> {
    return this.deliveries.attempts(id);
  }

  @Post(':id/resend')
  @HttpCode(200)
  resend(@Param('id') id: string): Promise<ConvoyEventDelivery> {
    return this.deliveries.resend(id);
  }

  /** Retries every failed delivery (optionally of one endpoint). */
  @Post('retry-failed')
  @HttpCode(200)
  retryFailed(@Query('endpoint') endpointId?: string): Promise<{ message: string }> {
    return this.deliveries.batchRetry({ status: ['Failure'], ...(endpointId ? { endpointId: [endpointId] } : {}) });
  }
}
