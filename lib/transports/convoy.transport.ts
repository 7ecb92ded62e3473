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
    const options = { retry: false as const, signal };
    const { target } = message;
    // Built field by field (no spreads): this runs once per event.
    if ('endpointId' in target) await this.client.events.create(withEvent({ endpoint_id: target.endpointId }, message), options);
    else if ('ownerId' in target) await this.client.events.fanout(withEvent({ owner_id: target.ownerId }, message), options);
    else if ('url' in target) await this.client.events.dynamic(withEvent(target.secret ? { url: target.url, secret: target.secret } : { url: target.url }, message), options);
    else await this.client.events.broadcast(withEvent({}, message), options);
  }
}

/** The fields every event-creation body carries. */
interface EventFields {
  event_type: string;
  data: RawJson;
  idempotency_key: string;
  custom_headers?: Record<string, string>;
}

function withEvent<T extends object>(body: T, message: OutgoingWebhook): T & EventFields {
  const full = body as T & EventFields;
  full.event_type = message.eventType;
  full.data = new RawJson(message.payload);
  full.idempotency_key = message.idempotencyKey;
  for (const _ in message.headers) {
    full.custom_headers = message.headers;
    break;
  }
  return full;
}
