import { Controller, Get, Headers, HttpCode, Logger, Post, Query, type OnModuleDestroy } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { VerifyConvoyWebhook, WebhookPayload } from '../../lib/receiver/index.js'; // in your app: from 'nestjs-convoy/receiver'

export const DEFAULT_RECEIVER_SECRET = 'demo-receiver-secret';

/** How long `GET /receiver?wait=1` waits for a first webhook. */
export const RECEIVER_WAIT_MS = 2_000;

interface ReceivedWebhook {
  received_at: string;
  idempotency_key: string | undefined;
  /** The W3C trace context the delivery carried (OpenTelemetry): the publishing request's trace. */
  traceparent: string | null;
  payload: unknown;
}

/**
 * A webhook receiver, as your customers would write one with this package: it accepts a request only when its
 * X-Convoy-Signature verifies (over the raw body, with the secret the endpoint was created with; env
 * RECEIVER_SECRET, default "demo-receiver-secret") and is an advanced one, whose signed timestamp bounds replays;
 * it answers 401 otherwise. Point an endpoint at it to watch the todo webhooks arrive.
 */
@Controller('receiver')
export class ReceiverController implements OnModuleDestroy {
  private readonly logger = new Logger('DemoReceiver');
  private readonly received: ReceivedWebhook[] = [];
  /** `GET ?wait=1` requests waiting for the first webhook. */
  private readonly waiting = new Set<() => void>();

  @Post()
  @HttpCode(200)
  @VerifyConvoyWebhook({
    secret: (_, refs) =>
      refs.get(ConfigService, { strict: false }).get<string>('RECEIVER_SECRET') || DEFAULT_RECEIVER_SECRET,
    // The sample's endpoints sign with timestamps (advanced_signatures defaults to true): refuse simple signatures.
    requireTimestamp: true,
  })
  receive(
    @WebhookPayload() payload: unknown,
    @Headers('x-convoy-idempotency-key') idempotencyKey?: string,
    @Headers('traceparent') traceparent?: string,
  ): { ok: true } {
    this.received.unshift({
      received_at: new Date().toISOString(),
      idempotency_key: idempotencyKey,
      traceparent: traceparent ?? null,
      payload,
    });
    this.received.length = Math.min(this.received.length, 100);
    const trace = traceparent ? ` (traceparent ${traceparent})` : '';
    this.logger.log(`Verified webhook ${idempotencyKey ?? ''}${trace}: ${JSON.stringify(payload)}`);
    for (const wake of this.waiting) wake();
    return { ok: true };
  }

  /**
   * What arrived and verified, newest first. `?wait=1`: when nothing has arrived yet, waits up to 2 s for the first
   * webhook, since a todo's webhook is delivered a moment after the todo is created.
   */
  @Get()
  async list(@Query('wait') wait?: string): Promise<ReceivedWebhook[]> {
    if (wait === '1' && this.received.length === 0) await this.firstWebhook();
    return this.received;
  }

  /** Answers the waiting requests at shutdown rather than keep the server open. */
  onModuleDestroy(): void {
    for (const wake of this.waiting) wake();
  }

  private firstWebhook(): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.waiting.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, RECEIVER_WAIT_MS);
      this.waiting.add(wake);
    });
  }
}
