import { randomBytes } from 'node:crypto';
import type { ConvoyEventDelivery, EventDeliveryStatus, Page } from '../client/convoy.types.js';
import { WebhookNotFoundError } from '../errors/endpoint.errors.js';
import type { WebhookDeliveries } from '../management/webhook-deliveries.js';
import type { WebhookEndpoints } from '../management/webhook-endpoints.js';
import type {
  WebhookDeliveryAttempt,
  WebhookEndpoint,
  WebhookEndpointInput,
} from '../management/webhook-management.types.js';
import type { WebhookPublisher } from '../publishing/webhook-publisher.js';

/** The most endpoints one owner's portal lists (and filters deliveries by). */
export const MAX_OWNER_ENDPOINTS = 100;
/** Ids are opaque, but bounded: anything longer or odder is not one of ours and answers 404 without a lookup. */
const ID = /^[A-Za-z0-9_.:-]{1,128}$/;

export const DELIVERY_STATUSES: readonly EventDeliveryStatus[] = [
  'Scheduled',
  'Processing',
  'Retry',
  'Success',
  'Failure',
  'Discarded',
];

/**
 * Everything the portal does, for one owner, through the management API: every id is checked to belong to the
 * owner (an endpoint whose owner_id is theirs; a delivery to such an endpoint) and answers WebhookNotFoundError
 * otherwise, exactly as an id that does not exist. Created endpoints take the owner from the session, never from
 * the request.
 */
export class OwnerScope {
  private ownEndpoints?: Promise<WebhookEndpoint[]>;

  constructor(
    readonly owner: string,
    private readonly endpointsApi: WebhookEndpoints,
    private readonly deliveriesApi: WebhookDeliveries,
    private readonly publisher: WebhookPublisher,
  ) {}

  /** The owner's endpoints (at most MAX_OWNER_ENDPOINTS), newest first. */
  endpoints(): Promise<WebhookEndpoint[]> {
    return (this.ownEndpoints ??= (async () => {
      const page = await this.endpointsApi.list({ ownerId: this.owner, perPage: MAX_OWNER_ENDPOINTS });
      // The list is filtered by owner already; checking again costs nothing and does not trust the filter.
      return page.content.filter((e) => e.owner_id === this.owner);
    })());
  }

  async endpoint(id: string): Promise<WebhookEndpoint> {
    if (typeof id !== 'string' || !ID.test(id)) throw new WebhookNotFoundError('endpoint', String(id).slice(0, 128));
    let endpoint: WebhookEndpoint;
    try {
      endpoint = await this.endpointsApi.get(id);
    } catch (error) {
      if (error instanceof WebhookNotFoundError) throw new WebhookNotFoundError('endpoint', id);
      throw error;
    }
    if (endpoint.owner_id !== this.owner) throw new WebhookNotFoundError('endpoint', id);
    return endpoint;
  }

  /** Creates an endpoint of this owner, with a secret generated here: the only time it is returned. */
  async create(input: EndpointForm): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
    const secret = newSecret('convoy');
    const endpoint = await this.endpointsApi.create({
      ...input,
      owner_id: this.owner,
      secret,
      advanced_signatures: true,
    } satisfies WebhookEndpointInput);
    return { endpoint, secret };
  }

  async update(id: string, input: EndpointForm): Promise<WebhookEndpoint> {
    await this.endpoint(id);
    return this.endpointsApi.update(id, input);
  }

  async pause(id: string): Promise<WebhookEndpoint> {
    const endpoint = await this.endpoint(id);
    // pause() toggles: only call it on an active endpoint, so a repeated form post never reactivates it.
    return endpoint.status === 'active' ? this.endpointsApi.pause(id) : endpoint;
  }

  async activate(id: string): Promise<WebhookEndpoint> {
    await this.endpoint(id);
    return this.endpointsApi.activate(id);
  }

  async delete(id: string): Promise<void> {
    await this.endpoint(id);
    await this.endpointsApi.delete(id);
  }

  /** A new secret, returned this once; the current ones keep signing for `keepSeconds`. */
  async rotate(id: string, keepSeconds: number): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
    const current = await this.endpoint(id);
    const secret = newSecret(current.signature_format);
    const endpoint = await this.endpointsApi.expireSecret(id, { secret, expiration: keepSeconds });
    return { endpoint, secret };
  }

  async sendTest(id: string, event: { eventType: string; data: unknown }): Promise<void> {
    await this.endpoint(id);
    await this.publisher.publish(event.eventType, event.data, { endpointId: id });
  }

  /** Deliveries to the owner's endpoints (or to one of them), newest first; empty when the owner has none. */
  async deliveries(query: {
    endpointId?: string;
    status?: EventDeliveryStatus;
    cursor?: string;
    perPage?: number;
  }): Promise<Page<ConvoyEventDelivery>> {
    const ids = query.endpointId
      ? [(await this.endpoint(query.endpointId)).uid]
      : (await this.endpoints()).map((e) => e.uid);
    // No endpoint: nothing to list. (An empty endpointId filter would mean "every endpoint" to the API.)
    if (ids.length === 0) return { content: [], pagination: emptyPagination(query.perPage ?? 25) };
    const page = await this.deliveriesApi.list({
      endpointId: ids,
      status: query.status ? [query.status] : undefined,
      next_page_cursor: query.cursor,
      perPage: query.perPage ?? 25,
    });
    return { ...page, content: page.content.filter((d) => ids.includes(d.endpoint_id)) };
  }

  /** A delivery to one of the owner's endpoints, with that endpoint. */
  async delivery(id: string): Promise<{ delivery: ConvoyEventDelivery; endpoint: WebhookEndpoint }> {
    if (typeof id !== 'string' || !ID.test(id)) throw new WebhookNotFoundError('delivery', String(id).slice(0, 128));
    let delivery: ConvoyEventDelivery;
    try {
      delivery = await this.deliveriesApi.get(id);
    } catch (error) {
      if (error instanceof WebhookNotFoundError) throw new WebhookNotFoundError('delivery', id);
      throw error;
    }
    try {
      return { delivery, endpoint: await this.endpoint(delivery.endpoint_id) };
    } catch (error) {
      if (error instanceof WebhookNotFoundError) throw new WebhookNotFoundError('delivery', id);
      throw error;
    }
  }

  async attempts(id: string): Promise<WebhookDeliveryAttempt[]> {
    await this.delivery(id);
    return this.deliveriesApi.attempts(id);
  }

  async resend(id: string): Promise<ConvoyEventDelivery> {
    await this.delivery(id);
    return this.deliveriesApi.resend(id);
  }

  /** Resends every failed delivery of the owner's endpoints. */
  async retryFailures(): Promise<string> {
    const ids = (await this.endpoints()).map((e) => e.uid);
    if (ids.length === 0) return 'Nothing to resend';
    return (await this.deliveriesApi.batchRetry({ endpointId: ids, status: ['Failure'] })).message;
  }
}

/** What the portal's endpoint form may set: nothing else (owner, secrets, timeouts, authentication) comes from it. */
export interface EndpointForm {
  name: string;
  url: string;
  description: string;
  event_types: string[];
}

function newSecret(format: string): string {
  return format === 'standard' ? `whsec_${randomBytes(24).toString('base64')}` : randomBytes(24).toString('base64url');
}

function emptyPagination(perPage: number): Page<never>['pagination'] {
  return { per_page: perPage, has_next_page: false, has_prev_page: false, next_page_cursor: '', prev_page_cursor: '' };
}
