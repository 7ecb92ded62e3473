import type { DeliveryRecord, PageRequest, RecordPage } from '../storage/records.js';
import type { WebhookStore } from '../storage/webhook-store.js';

/**
 * The dead letters: events the transport refused, or that failed until their attempts ran out, when handed over
 * (to Convoy, or your own transport). List them, fix the cause, requeue them: they go out again with the same id and
 * idempotency key. Injectable where ConvoyModule is imported. (The embedded engine's failed deliveries are in
 * WebhookDeliveries, which resends them.)
 */
export class WebhookOutbox {
  constructor(private readonly store: WebhookStore) {}

  /** Newest first; pass the returned `next_cursor` as `cursor` for the next page. `description` says why each failed. */
  deadLetters(page: Partial<PageRequest> = {}): Promise<RecordPage<DeliveryRecord>> {
    return this.store.listDeliveries(
      { handOver: true, statuses: ['Failure'] },
      { limit: page.limit ?? 50, ...(page.cursor ? { cursor: page.cursor } : {}) },
    );
  }

  /** Makes dead letters due now, with no attempts made. Returns how many were requeued. */
  async requeue(ids: string[]): Promise<number> {
    if (!Array.isArray(ids) || !ids.every((id) => typeof id === 'string'))
      throw new TypeError('requeue() takes an array of dead-letter ids');
    return (await this.store.reschedule({ uids: ids, handOver: true }, ['Failure'], Date.now())).length;
  }
}
