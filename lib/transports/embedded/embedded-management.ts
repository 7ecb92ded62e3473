import type {
  EndpointListQuery,
  EventDeliveryFilterQuery,
  EventDeliveryListQuery,
  Page,
  ConvoyEventDelivery,
} from '../../client/convoy.types.js';
import { checkQuery } from '../../client/query-parameters.js';
import { WebhookNotFoundError, WebhookStateError } from '../../errors/endpoint.errors.js';
import { WebhookDeliveries } from '../../management/webhook-deliveries.js';
import { parseEndpointUrl, REPLACED_DEFAULTS, WebhookEndpoints } from '../../management/webhook-endpoints.js';
import type {
  WebhookDeliveryAttempt,
  WebhookEndpoint,
  WebhookEndpointInput,
} from '../../management/webhook-management.types.js';
import type { RetryPolicy } from '../../options/option-tables.js';
import type { DeliveryFilter, DeliveryRecord } from '../../storage/records.js';
import type { EmbeddedTransport } from './embedded.transport.js';

import { attemptShape, deliveryShape, endpointShape, pageShape } from './to-convoy-shape.js';

/** The management API over the embedded engine's registry and store, in Convoy's shapes. */
export class EmbeddedWebhookEndpoints extends WebhookEndpoints {
  constructor(private readonly engine: EmbeddedTransport) {
    super();
  }

  async create(input: WebhookEndpointInput): Promise<WebhookEndpoint> {
    return endpointShape(await this.engine.registry.create(input));
  }

  async list(query: EndpointListQuery = {}): Promise<Page<WebhookEndpoint>> {
    const perPage = query.perPage ?? 20;
    const page = await this.engine.registry.list(
      { ownerId: query.ownerId, q: query.q },
      { limit: perPage, cursor: query.next_page_cursor || undefined },
    );
    return pageShape(page.items.map(endpointShape), page, query, perPage);
  }

  async get(id: string): Promise<WebhookEndpoint> {
    return endpointShape(await this.engine.registry.get(id));
  }

  async update(id: string, input: WebhookEndpointInput): Promise<WebhookEndpoint> {
    return endpointShape(await this.engine.registry.update(id, input));
  }

  async replace(id: string, input: WebhookEndpointInput): Promise<WebhookEndpoint> {
    const url = parseEndpointUrl(input?.url, this.engine.registry.limits.maxUrlLength);
    return endpointShape(await this.engine.registry.update(id, { ...REPLACED_DEFAULTS, name: url.host, ...input }));
  }

  async delete(id: string): Promise<void> {
    await this.engine.registry.delete(id);
  }

  async pause(id: string): Promise<WebhookEndpoint> {
    return endpointShape(await this.engine.registry.pause(id));
  }

  async activate(id: string): Promise<WebhookEndpoint> {
    const endpoint = endpointShape(await this.engine.registry.activate(id));
    // Deliveries held back while the endpoint was paused go out now, not at their next re-check.
    await this.engine.store.reschedule({ endpointIds: [id] }, ['Scheduled'], Date.now());
    this.engine.notify();
    return endpoint;
  }

  async expireSecret(id: string, input: { secret?: string; expiration: number }): Promise<WebhookEndpoint> {
    return endpointShape(await this.engine.registry.expireSecret(id, input));
  }
}

export class EmbeddedWebhookDeliveries extends WebhookDeliveries {
  constructor(
    private readonly engine: EmbeddedTransport,
    private readonly retry: RetryPolicy,
  ) {
    super();
  }

  async list(query: EventDeliveryListQuery = {}): Promise<Page<ConvoyEventDelivery>> {
    checkQuery('GET /eventdeliveries', query);
    const perPage = query.perPage ?? 20;
    const page = await this.engine.store.listDeliveries(
      { ...toFilter(query), handOver: false },
      { limit: perPage, cursor: query.next_page_cursor || undefined },
    );
    return pageShape(await this.shapes(page.items), page, query, perPage);
  }

  async get(id: string): Promise<ConvoyEventDelivery> {
    const [shape] = await this.shapes([await this.find(id)]);
    return shape!;
  }

  async attempts(id: string): Promise<WebhookDeliveryAttempt[]> {
    await this.find(id);
    return (await this.engine.store.listAttempts(id)).map(attemptShape);
  }

  async resend(id: string): Promise<ConvoyEventDelivery> {
    const delivery = await this.find(id);
    if (delivery.status !== 'Failure' && delivery.status !== 'Discarded') {
      throw new WebhookStateError(
        `Delivery ${id} is ${delivery.status}; only Failure or Discarded deliveries can be resent`,
      );
    }
    const endpoint = await this.engine.store.getEndpoint(delivery.endpoint_id!);
    if (!endpoint) throw new WebhookStateError(`Delivery ${id} cannot be resent: its endpoint was deleted`);
    if (endpoint.status !== 'active')
      throw new WebhookStateError(
        `Delivery ${id} cannot be resent while its endpoint is ${endpoint.status}; activate it first`,
      );
    const done = await this.engine.store.reschedule({ uids: [id] }, ['Failure', 'Discarded'], Date.now());
    if (done.length === 0) throw new WebhookStateError(`Delivery ${id} changed meanwhile; try again`);
    this.engine.notify();
    return this.get(id);
  }

  async batchRetry(filter: EventDeliveryFilterQuery = {}): Promise<{ message: string }> {
    checkQuery('POST /eventdeliveries/batchretry', filter);
    const statuses = (filter.status?.length ? filter.status : ['Failure']) as DeliveryRecord['status'][];
    const done = await this.engine.store.reschedule(
      { ...toFilter(filter), handOver: false },
      statuses.filter((s) => s === 'Failure' || s === 'Discarded'),
      Date.now(),
    );
    this.engine.notify();
    return { message: `${done.length} successful, 0 failed` };
  }

  private async find(id: string): Promise<DeliveryRecord> {
    const delivery = await this.engine.store.getDelivery(id);
    if (!delivery || delivery.endpoint_id === null) throw new WebhookNotFoundError('delivery', id);
    return delivery;
  }

  private async shapes(deliveries: DeliveryRecord[]): Promise<ConvoyEventDelivery[]> {
    const urls = new Map<string, string | undefined>();
    for (const { endpoint_id: id } of deliveries)
      if (id !== null && !urls.has(id)) urls.set(id, (await this.engine.store.getEndpoint(id))?.url);
    return deliveries.map((d) => deliveryShape(d, this.retry, urls.get(d.endpoint_id!)));
  }
}

function toFilter(q: EventDeliveryFilterQuery): DeliveryFilter {
  // Convoy's dates are `YYYY-MM-DDTHH:MM:SS` in UTC without a zone; an ISO string with a zone is read as given.
  const date = (value: Date | string | undefined): number | undefined => {
    if (value === undefined) return undefined;
    const ms =
      value instanceof Date ? value.getTime() : Date.parse(/(Z|[+-]\d\d:?\d\d)$/i.test(value) ? value : `${value}Z`);
    if (Number.isNaN(ms))
      throw new WebhookStateError(`"${String(value)}" is not a date; use YYYY-MM-DDTHH:MM:SS (UTC) or a Date`);
    return ms;
  };
  return {
    endpointIds: q.endpointId,
    eventId: q.eventId,
    eventType: q.eventType,
    idempotencyKey: q.idempotencyKey,
    statuses: q.status?.filter((s): s is DeliveryRecord['status'] => s !== ''),
    createdFrom: date(q.startDate),
    createdTo: date(q.endDate),
  };
}
