// `nestjs-convoy/storage`: the pipeline's store interface and records, for writing or inspecting a store: the
// in-memory store, the SQL storage over any SqlDatabase, and the schema's migrations.
export type { ConvoyStorage } from './convoy-storage.interface.js';
export type { Enqueued, WebhookStore } from './webhook-store.js';
export type {
  AttemptRecord,
  DeliveryFilter,
  DeliveryRecord,
  DeliveryStatus,
  EndpointFilter,
  EndpointRecord,
  EndpointStatus,
  EventRecord,
  PageRequest,
  QueueStats,
  PruneCounts,
  RecordPage,
  RetentionPolicy,
  SecretRecord,
  Settlement,
  SignatureFormat,
} from './records.js';
export { InMemoryWebhookStore, type InMemoryWebhookStoreOptions } from './in-memory.store.js';
export { SqlConvoyStorage, type SqlStorageOptions } from './sql/sql-storage.js';
export { SqlWebhookStore } from './sql/sql-webhook.store.js';
export type { SqlDatabase, SqlQueryable } from './sql/sql.js';
export type { SecretKey } from './sql/secret-cipher.js';
export { DEFAULT_SCHEMA, migrations, migrationSql, type Migration } from './sql/migrations.js';
export { SchemaOutdatedError, SecretDecryptionError } from '../errors/outbox.errors.js';
