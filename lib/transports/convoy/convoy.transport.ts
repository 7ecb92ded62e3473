import type { ConvoyClient } from '../../client/convoy.client.js';
import { StartupProjectCheck } from '../../client/project-check.js';
import { RawJson } from '../../client/raw-json.js';
import type { OutgoingWebhook } from '../../publishing/webhook.types.js';
import { DEFAULT_LIMITS, type Limits } from '../../options/option-tables.js';
import type { TransportSendContext, WebhookTransport } from '../webhook-transport.interface.js';
import { ConvoyWebhookDeliveries, ConvoyWebhookEndpoints } from './convoy-management.js';

/**
 * Sends each event to Convoy through the matching event-creation route. The request carries the
 * event's idempotency key, so a retry after a lost answer is dropped by Convoy as a duplicate.
 * Retries belong to the pipeline (its schedule is longer than a request's), so the client does not retry here.
 * Convoy keeps the endpoints and the delivery log: they are managed through its API.
 */
export class ConvoyTransport implements WebhookTransport {
  readonly name = 'convoy';
  readonly endpoints: ConvoyWebhookEndpoints;
  readonly deliveries: ConvoyWebhookDeliveries;
  private projectCheck: StartupProjectCheck | undefined;

  /** `verifyProject`: confirm at start that the credentials reach the client's project (see StartupProjectCheck). */
  constructor(
    private readonly client: ConvoyClient,
    private readonly startup: { verifyProject: boolean; timeoutMs: number } = {
      verifyProject: false,
      timeoutMs: 5_000,
    },
    limits: Readonly<Limits> = DEFAULT_LIMITS,
  ) {
    this.endpoints = new ConvoyWebhookEndpoints(client, limits.maxUrlLength);
    this.deliveries = new ConvoyWebhookDeliveries(client);
  }

  /**
   * Convoy quietly uses the API key's own project whatever projectId says: wrong settings stop startup here; an
   * unreachable Convoy does not (the check goes on in the background).
   */
  async start(): Promise<void> {
    if (!this.startup.verifyProject || !this.client.configured) return;
    this.projectCheck = new StartupProjectCheck(this.client, this.startup.timeoutMs);
    await this.projectCheck.run();
  }

  async close(): Promise<void> {
    this.projectCheck?.stop();
  }

  async send(message: OutgoingWebhook, { signal }: TransportSendContext): Promise<void> {
    const { target, headers } = message;
    // The payload goes in as the exact bytes published (RawJson), not parsed and serialized again.
    const event = {
      event_type: message.eventType,
      data: new RawJson(message.payload),
      idempotency_key: message.idempotencyKey,
      custom_headers: hasAny(headers) ? headers : undefined,
    };
    const options = { retry: false as const, signal };
    const events = this.client.events;
    if ('endpointId' in target) await events.create({ ...event, endpoint_id: target.endpointId }, options);
    else if ('ownerId' in target) await events.fanout({ ...event, owner_id: target.ownerId }, options);
    else if ('url' in target) await events.dynamic({ ...event, url: target.url, secret: target.secret }, options);
    else await events.broadcast(event, options);
  }
}

function hasAny(record: object): boolean {
  for (const _ in record) return true;
  return false;
}
