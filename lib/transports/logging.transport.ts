import { Logger } from '@nestjs/common';
import { describeTarget, type OutgoingWebhook } from '../publishing/webhook.types.js';
import type { WebhookTransport } from './webhook-transport.interface.js';

const MAX_LOGGED_PAYLOAD = 500;

/** Delivers nothing: logs each event. The fallback when no Convoy credentials are configured. */
export class LoggingTransport implements WebhookTransport {
  readonly name = 'log';
  private readonly logger = new Logger('Webhooks');

  async send(message: OutgoingWebhook): Promise<void> {
    const payload =
      message.payload.length > MAX_LOGGED_PAYLOAD
        ? `${message.payload.slice(0, MAX_LOGGED_PAYLOAD)}… (${message.payload.length} bytes)`
        : message.payload;
    this.logger.log(`${message.eventType} -> ${describeTarget(message.target)} [id ${message.id}]: ${payload}`);
  }
}
