import { InMemoryWebhookStore } from '../embedded/in-memory-webhook.store.js';
import { InMemoryOutboxStore } from '../outbox/in-memory-outbox.store.js';
import type { ConvoyStorage } from './convoy-storage.interface.js';

/**
 * The outbox and the engine's store in process memory, for tests and experiments: the relay path (leases, retries,
 * dead letters) without a database. Not durable, and cannot join database transactions.
 */
export class InMemoryStorage implements ConvoyStorage {
  readonly outbox = new InMemoryOutboxStore();
  readonly webhooks = new InMemoryWebhookStore();

  async migrate(): Promise<void> {}
  async checkSchema(): Promise<void> {}
  async close(): Promise<void> {}
}
