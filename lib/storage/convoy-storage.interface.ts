import type { WebhookStore } from '../embedded/webhook-store.interface.js';
import type { OutboxStore } from '../outbox/outbox-store.interface.js';

/**
 * Durable storage for ConvoyModule: the outbox between publish() and the transport, and the embedded engine's
 * endpoints, deliveries and attempts. `nestjs-convoy/postgres` and `nestjs-convoy/pglite` provide it.
 */
export interface ConvoyStorage {
  readonly outbox: OutboxStore;
  readonly webhooks: WebhookStore;
  /** Applies the shipped migrations that are missing, under a lock (instances starting together do not race). */
  migrate(): Promise<void>;
  /** Throws SchemaOutdatedError naming the missing migrations when the schema is behind this version. */
  checkSchema(): Promise<void>;
  close(): Promise<void>;
}
