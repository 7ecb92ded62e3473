import type { WebhookStore } from './webhook-store.js';

/**
 * Durable storage for ConvoyModule: the pipeline's store (the deliveries between publish() and the wire, their log,
 * the embedded engine's endpoints), with its migrations. `nestjs-convoy/postgres` and `nestjs-convoy/pglite` provide it.
 */
export interface ConvoyStorage {
  readonly store: WebhookStore;
  /** Applies the shipped migrations that are missing, under a lock (instances starting together do not race). */
  migrate(): Promise<void>;
  /** Throws SchemaOutdatedError naming the missing migrations when the schema is behind this version. */
  checkSchema(): Promise<void>;
  close(): Promise<void>;
}
