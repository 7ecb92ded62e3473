import type { ConvoyClient } from '../client/convoy.client.js';
import { RawJson } from '../client/raw-json.js';
import type { OutgoingWebhook } from '../publisher/webhook.types.js';
import type { TransportSendContext, WebhookTransport } from './webhook-transport.interface.js';

/**
 * Sends each event to Convoy through the matching event-creation route. The request carries the
 * event's idempotency key, so a retry after a lost answer is dropped by Convoy as a duplicate.
 * Retries belong to the dispatcher (its schedule is longer than a request's), so the client does not retry here.
 */
export class ConvoyTransport implements WebhookTransport {
  readonly name = 'convoy';

  constructor(private readonly client: ConvoyClient) {}

  async send(message: OutgoingWebhook, { signal }: TransportSendContext): Promise<void> {
    const common = {
      event_type: message.eventType,
      data: new RawJson(message.payload),
      idempotency_key: message.idempotencyKey,
      ...(Object.keys(message.headers).length > 0 ? { custom_headers: message.headers } : {}),
    };
    const options = { retry: false as const, signal };
    const { target } = message;
    if ('endpointId' in target) await this.client.events.create({ endpoint_id: target.endpointId, ...common }, options);
    else if ('ownerId' in target) await this.client.events.fanout({ owner_id: target.ownerId, ...common }, options);
    else if ('url' in target) await this.client.events.dynamic({ url: target.url, ...(target.secret ? { secret: target.secret } : {}), ...common }, options);
    else await this.client.events.broadcast(common, options);
  }
}
