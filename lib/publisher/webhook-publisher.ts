import { uuidv7 } from '../utils/uuid.js';
import { serializeData, validateEventType, validatePublishOptions } from './validate-webhook.js';
import type { DispatcherStats, WebhookDispatcher } from './webhook-dispatcher.js';
import type { PublishOptions, PublishReceipt, WebhookTarget } from './webhook.types.js';

/**
 * Publishes domain events as webhooks. Injectable anywhere ConvoyModule is imported.
 *
 *   await publisher.publish('invoice.paid', invoice, { ownerId: invoice.customerId });
 *
 * publish() validates and serializes at once (bad input throws WebhookValidationError and queues nothing),
 * then resolves as soon as the event is accepted: sending happens in the background, with retries.
 */
export class WebhookPublisher {
  constructor(
    private readonly dispatcher: WebhookDispatcher,
    private readonly defaultTarget: WebhookTarget,
  ) {}

  async publish(eventType: string, data: unknown, options?: PublishOptions): Promise<PublishReceipt> {
    const type = validateEventType(eventType);
    const payload = serializeData(data);
    const { target, idempotencyKey, headers } = validatePublishOptions(options);
    const id = uuidv7();
    const message = {
      id,
      eventType: type,
      payload,
      target: target ?? this.defaultTarget,
      idempotencyKey: idempotencyKey ?? id,
      headers,
      createdAt: Date.now(),
    };
    await this.dispatcher.enqueue(message);
    return { id, idempotencyKey: message.idempotencyKey, eventType: type, target: message.target };
  }

  /** Resolves when every event published so far has been sent (or given up after its retries). */
  flush(): Promise<void> {
    return this.dispatcher.flush();
  }

  /** Counts of queued, in-flight, retrying, sent and failed events, e.g. for a health check. */
  stats(): DispatcherStats {
    return this.dispatcher.stats();
  }
}
