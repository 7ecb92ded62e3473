import type { ConvoyClient } from '../client/convoy.client.js';
import type {
  ConvoyDeliveryAttempt,
  ConvoyEventDelivery,
  EventDeliveryFilterQuery,
  EventDeliveryListQuery,
  Page,
} from '../client/convoy.types.js';
import { iterateAll } from '../client/paging.js';
import { refusedParameter, type QueryRoute } from '../client/query-parameters.js';
import type { EmbeddedTransport } from '../transports/embedded/embedded.transport.js';
import type { DeliveryFilter, DeliveryRecord } from '../storage/records.js';
import type { RetryPolicy } from '../pipeline/retry-policy.js';
import { InvalidRequestError } from '../errors/convoy-api.errors.js';
import { WebhookNotFoundError, WebhookStateError } from '../errors/endpoint.errors.js';
import { mapConvoyError, unavailable } from '../transports/convoy/convoy-management-errors.js';
import { attemptShape, deliveryShape, pageShape } from '../transports/embedded/to-convoy-shape.js';
import type { WebhookDeliveryAttempt } from './webhook-management.types.js';

/**
 * The delivery log, whichever transport is active: every delivery (one per event and endpoint) and every attempt,
 * in Convoy's shapes, with resend of one delivery and batch retry of failed ones.
 */
export abstract class WebhookDeliveries {
  /** One page, newest first. */
  abstract list(query?: EventDeliveryListQuery): Promise<Page<ConvoyEventDelivery>>;
  abstract get(id: string): Promise<ConvoyEventDelivery>;
  /** Every attempt of a delivery, oldest first; `succeeded` tells a failed attempt (Convoy's `status` is absent then). */
  abstract attempts(id: string): Promise<WebhookDeliveryAttempt[]>;
  /** Sends a failed or discarded delivery again (not while its endpoint is paused or inactive). */
  abstract resend(id: string): Promise<ConvoyEventDelivery>;
  /**
   * Retries every failed delivery matching the filter (`eventType`, `status`, `endpointId`, dates…). The embedded
   * engine answers how many it scheduled ("N successful, 0 failed"); Convoy queues a background job and answers
   * "Batch retry processing" (one batch at a time per project: another answers 400 until it is done).
   */
  abstract batchRetry(filter?: EventDeliveryFilterQuery): Promise<{ message: string }>;

  iterate(query: EventDeliveryListQuery = {}): AsyncGenerator<ConvoyEventDelivery, void, undefined> {
    return iterateAll((q) => this.list(q), query);
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

export class ConvoyWebhookDeliveries extends WebhookDeliveries {
  constructor(private readonly client: ConvoyClient) {
    super();
  }

  list(query?: EventDeliveryListQuery): Promise<Page<ConvoyEventDelivery>> {
    return this.client.eventDeliveries.list(query);
  }

  get(id: string): Promise<ConvoyEventDelivery> {
    return mapConvoyError('delivery', id, () => this.client.eventDeliveries.get(id));
  }

  async attempts(id: string): Promise<WebhookDeliveryAttempt[]> {
    const attempts = await mapConvoyError('delivery', id, () => this.client.deliveryAttempts.list(id));
    return attempts.map(withSucceeded);
  }

  resend(id: string): Promise<ConvoyEventDelivery> {
    return mapConvoyError('delivery', id, () => this.client.eventDeliveries.resend(id));
  }

  async batchRetry(filter?: EventDeliveryFilterQuery): Promise<{ message: string }> {
    const { message } = await mapConvoyError('delivery', undefined, () =>
      this.client.eventDeliveries.batchRetry(filter),
    );
    return { message };
  }
}

export class UnavailableWebhookDeliveries extends WebhookDeliveries {
  list = unavailable;
  get = unavailable;
  attempts = unavailable;
  resend = unavailable;
  batchRetry = unavailable;
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

/** The same query parameters as on Convoy, refused the same way (InvalidRequestError), so both transports agree. */
function checkQuery(route: QueryRoute, query: object): void {
  const refused = refusedParameter(route, query);
  if (refused) throw new InvalidRequestError(refused.parameter, route, refused.reason);
}

/** Convoy marks success with `status: true` and leaves `status` out on failure; `succeeded` says it either way. */
function withSucceeded(attempt: ConvoyDeliveryAttempt): WebhookDeliveryAttempt {
  return { ...attempt, succeeded: attempt.status === true };
}
