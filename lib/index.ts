export * from './convoy.module.js';
export { CONVOY_MODULE_OPTIONS } from './convoy.module-definition.js';
export * from './convoy.constants.js';
export type {
  ConvoyModuleExtras,
  ConvoyModuleOptions,
  ConvoyOptions,
  DeliveryOptions,
  EmbeddedOptions,
  ForwardRule,
  ResolvedConvoyOptions,
  RetryOptions,
} from './options/convoy-module-options.js';
export * from './client/index.js';
export * from './errors/index.js';
export * from './publishing/webhook-publisher.js';
export {
  PIPELINE_CHANNELS,
  type PublisherStats,
  type DeliveryRoute,
  type AttemptResult,
  type PipelineSettings,
} from './pipeline/pipeline.js';
export type {
  AttemptRecord,
  DeliveryFilter,
  DeliveryRecord,
  DeliveryStatus,
  EndpointFilter,
  EndpointRecord,
  EventRecord,
  PageRequest,
  QueueStats,
  RecordPage,
  SecretRecord,
  Settlement,
  SignatureFormat,
} from './storage/records.js';
export type * from './storage/webhook-store.js';
export * from './storage/in-memory.store.js';
export * from './pipeline/retry-policy.js';
export type * from './publishing/webhook.types.js';
export * from './transports/webhook-transport.interface.js';
export * from './transports/convoy/convoy.transport.js';
export * from './transports/logging.transport.js';
export * from './publishing/emits-webhook.decorator.js';
export * from './publishing/webhook.interceptor.js';
export * from './publishing/webhook-event-forwarder.js';
export * from './transports/embedded/index.js';
export * from './management/index.js';
export * from './receiver/index.js'; // with the signing functions
export * from './transports/embedded/network/index.js';
export * from './management/webhook-outbox.js';
export type * from './storage/sql/sql.js';
export type * from './storage/convoy-storage.interface.js';
