import type { ConvoyClient } from '../../client/convoy.client.js';
import { StartupProjectCheck } from '../../client/project-check.js';
import { RawJson } from '../../client/raw-json.js';
import { ConvoyWebhookDeliveries, ConvoyWebhookEndpoints } from './convoy-management.js';
import type { OutgoingWebhook, WebhookTarget } from '../../publishing/webhook.types.js';
import type { TransportSendContext, WebhookTransport } from '../webhook-transport.interface.js';

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
  ) {
    this.endpoints = new ConvoyWebhookEndpoints(client);
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
    const { path, fields } = route(message.target);
    // The body is written out by hand (this runs once per event), the payload spliced in as the exact bytes published.
    let body = `{${fields}"event_type":${JSON.stringify(message.eventType)},"data":${message.payload},"idempotency_key":${JSON.stringify(message.idempotencyKey)}`;
    for (const _ in message.headers) {
      body += `,"custom_headers":${JSON.stringify(message.headers)}`;
      break;
    }
    await this.client.request({ method: 'POST', path, body: new RawJson(`${body}}`), retry: false, signal });
  }
}

/** The event-creation route of a target, and the target's own body fields (each followed by a comma). */
function route(target: WebhookTarget): { path: string; fields: string } {
  if ('endpointId' in target) return { path: '/events', fields: `"endpoint_id":${JSON.stringify(target.endpointId)},` };
  if ('ownerId' in target) return { path: '/events/fanout', fields: `"owner_id":${JSON.stringify(target.ownerId)},` };
  if ('url' in target) {
    const secret = target.secret ? `"secret":${JSON.stringify(target.secret)},` : '';
    return { path: '/events/dynamic', fields: `"url":${JSON.stringify(target.url)},${secret}` };
  }
  return { path: '/events/broadcast', fields: '' };
}
