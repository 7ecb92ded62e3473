import { Controller, Get, Headers, HttpCode, Post } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { VerifyConvoyWebhook, WebhookPayload } from 'nestjs-convoy/receiver';

export const DEFAULT_RECEIVER_SECRET = 'consumer-receiver-secret';

export interface ReceivedWebhook {
  idempotencyKey: string | undefined;
  payload: unknown;
}

/**
 * A customer's receiver, in the same app so that the embedded engine has somewhere to deliver: only requests whose
 * X-Convoy-Signature verifies over the raw body (RECEIVER_SECRET) reach the handler, anything else gets a 401.
 */
@Controller('receiver')
export class ReceiverController {
  private readonly received: ReceivedWebhook[] = [];

  @Post()
  @HttpCode(200)
  // A function, not a string: the decorator runs when the class loads, before ConfigModule has read anything.
  @VerifyConvoyWebhook({
    secret: (_, refs) =>
      refs.get(ConfigService, { strict: false }).get<string>('RECEIVER_SECRET') || DEFAULT_RECEIVER_SECRET,
  })
  receive(
    @WebhookPayload() payload: unknown,
    @Headers('x-convoy-idempotency-key') idempotencyKey?: string,
  ): { ok: true } {
    this.received.push({ idempotencyKey, payload });
    return { ok: true };
  }

  /** What arrived and verified, oldest first. */
  @Get()
  list(): ReceivedWebhook[] {
    return this.received;
  }
}
