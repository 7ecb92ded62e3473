import type {
  ConvoyEventDelivery,
  EventDeliveryFilterQuery,
  EventDeliveryListQuery,
  Page,
} from '../client/convoy.types.js';
import { iterateAll } from '../client/paging.js';
import { unavailable } from '../errors/endpoint.errors.js';
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

export class UnavailableWebhookDeliveries extends WebhookDeliveries {
  list = unavailable;
  get = unavailable;
  attempts = unavailable;
  resend = unavailable;
  batchRetry = unavailable;
}
