import { ConvoyConfigurationError } from '../errors/configuration.error.js';
import type { PageRequest, RecordPage } from '../embedded/embedded.types.js';
import type { PublishSink } from '../publisher/publish-sink.js';
import { OutboxRelay } from './outbox-relay.js';
import type { OutboxStore } from './outbox-store.interface.js';
import type { DeadLetter } from './outbox.types.js';

/**
 * The outbox's dead letters: events the relay gave up on (retries spent, or refused by the transport).
 * List them, fix the cause, requeue them: they go out again with the same id and idempotency key.
 * Injectable where ConvoyModule is imported; needs `storage` (without it nothing is dead-lettered, only logged).
 */
export class WebhookOutbox {
  private readonly store: OutboxStore | undefined;

  constructor(sink: PublishSink) {
    this.store = sink instanceof OutboxRelay ? sink.outboxStore : undefined;
  }

  /** Newest first; pass the returned `next_cursor` as `cursor` for the next page. */
  async deadLetters(page: Partial<PageRequest> = {}): Promise<RecordPage<DeadLetter>> {
    if (!this.store) return { items: [], next_cursor: undefined };
    return this.store.listDeadLetters({ limit: page.limit ?? 50, ...(page.cursor ? { cursor: page.cursor } : {}) });
  }

  /** Puts dead letters back in the outbox, due now, with zero attempts. Returns how many were requeued. */
  async requeue(ids: string[]): Promise<number> {
    if (!this.store) throw new ConvoyConfigurationError('storage', 'is not configured, so there are no dead letters to requeue', 'pass storage from nestjs-convoy/postgres or nestjs-convoy/pglite');
    if (!Array.isArray(ids) || !ids.every((id) => typeof id === 'string')) throw new TypeError('requeue() takes an array of dead-letter ids');
    return this.store.requeue(ids, Date.now());
  }
}
