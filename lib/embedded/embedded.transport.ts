import type { OutgoingWebhook } from '../publisher/webhook.types.js';
import type { WebhookTransport } from '../transports/webhook-transport.interface.js';
import type { EmbeddedEngine } from './embedded-engine.js';

/** Hands published events to the embedded engine, which fans them out and delivers them itself. */
export class EmbeddedTransport implements WebhookTransport {
  readonly name = 'embedded';

  constructor(readonly engine: EmbeddedEngine) {}

  async send(message: OutgoingWebhook): Promise<void> {
    await this.engine.accept(message);
  }

  close(): Promise<void> {
    return this.engine.close();
  }
}
