import type {
  ConvoyAck,
  ConvoyDeliveryAttempt,
  ConvoyEventDelivery,
  EventDeliveryFilterQuery,
  EventDeliveryListQuery,
  Page,
} from '../convoy.types.js';
import { id, PagedResource, Resource, type Options } from './resource.js';

/** Event deliveries: one per event and endpoint, with its status and retry metadata. */
export class EventDeliveriesResource extends PagedResource<ConvoyEventDelivery, EventDeliveryListQuery> {
  /** GET /eventdeliveries: one page (the last 7 days unless startDate is given). */
  list(query?: EventDeliveryListQuery, options?: Options): Promise<Page<ConvoyEventDelivery>> {
    return this.data(...this.routed('GET /eventdeliveries', query, options));
  }

  /** GET /eventdeliveries/{id} */
  get(deliveryId: string, options?: Options): Promise<ConvoyEventDelivery> {
    return this.data({ method: 'GET', path: `/eventdeliveries/${id(deliveryId)}`, ...options });
  }

  /** PUT /eventdeliveries/{id}/resend: only from Failure or Discarded, and not while the endpoint is paused or inactive. */
  resend(deliveryId: string, options?: Options): Promise<ConvoyEventDelivery> {
    return this.data({ method: 'PUT', path: `/eventdeliveries/${id(deliveryId)}/resend`, ...options });
  }

  /** POST /eventdeliveries/forceresend: sends Success deliveries again. */
  forceResend(ids: string[], options?: Options): Promise<ConvoyAck> {
    return this.ack({ method: 'POST', path: '/eventdeliveries/forceresend', body: { ids }, ...options });
  }

  /** POST /eventdeliveries/batchretry: retries every delivery matching the filter (no body; one batch per project at a time). */
  batchRetry(filter: EventDeliveryFilterQuery = {}, options?: Options): Promise<ConvoyAck> {
    return this.ack(...this.routed('POST /eventdeliveries/batchretry', filter, options));
  }
}

/** Delivery attempts: one per HTTP request Convoy made for a delivery. */
export class DeliveryAttemptsResource extends Resource {
  /** GET /eventdeliveries/{id}/deliveryattempts: all of them (Convoy does not page this list). */
  list(deliveryId: string, options?: Options): Promise<ConvoyDeliveryAttempt[]> {
    return this.data({ method: 'GET', path: `/eventdeliveries/${id(deliveryId)}/deliveryattempts`, ...options });
  }

  /** GET /eventdeliveries/{id}/deliveryattempts/{attemptId} */
  get(deliveryId: string, attemptId: string, options?: Options): Promise<ConvoyDeliveryAttempt> {
    return this.data({
      method: 'GET',
      path: `/eventdeliveries/${id(deliveryId)}/deliveryattempts/${id(attemptId)}`,
      ...options,
    });
  }
}
