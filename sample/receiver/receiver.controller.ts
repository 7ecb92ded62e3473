import { Controller, Get, Headers, HttpCode, Logger, Post } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { VerifyConvoyWebhook, WebhookPayload } from '../../lib/receiver/index.js'; // in your app: from 'nestjs-convoy/receiver'

export const DEFAULT_RECEIVER_SECRET = 'demo-receiver-secret';

interface ReceivedWebhook {
  received_at: string;
  idempotency_key: string | undefined;
  payload: unknown;
}

/**
 * A webhook receiver, as your customers would write one with this package: it accepts a request only when its
 * X-Convoy-Signature verifies (over the raw body, with the secret the endpoint was created with; env
 * RECEIVER_SECRET, default "demo-receiver-secret"), and answers 401 otherwise. Point an endpoint at it to watch
 * the todo webhooks arrive.
 */
@Controller('receiver')
export class ReceiverController {
  private readonly logger = new Logger('DemoReceiver');
  private readonly received: ReceivedWebhook[] = [];

  @Post()
  @HttpCode(200)
  @VerifyConvoyWebhook({
    secret: (_, refs) =>
      refs.get(ConfigService, { strict: false }).get<string>('RECEIVER_SECRET') || DEFAULT_RECEIVER_SECRET,
  })
  receive(
    @WebhookPayload() payload: unknown,
    @Headers('x-convoy-idempotency-key') idempotencyKey?: string,
  ): { ok: true } {
    this.received.unshift({ received_at: new Date().toISOString(), idempotency_key: idempotencyKey, payload });
    this.received.length = Math.min(this.received.length, 100);
    this.logger.log(`Verified webhook ${idempotencyKey ?? ''}: ${JSON.stringify(payload)}`);
    return { ok: true };
  }

  /** What arrived and verified, newest first. */
  @Get()
  list(): ReceivedWebhook[] {
    return this.received;
  }
}
