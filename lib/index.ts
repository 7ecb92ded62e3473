// The root entry point: what an application imports. Engine parts are private; the Convoy API's types and
// resources, the stores, the SSRF guard, the receiver, testing and health have their own subpaths (see package.json
// "exports" and api-report.md, which CI keeps in step with this file: at most 70 names, each documented).

// The module and its options.
export { ConvoyModule } from './convoy.module.js';
export type {
  ConvoyModuleExtras,
  ConvoyModuleOptions,
  ConvoyOptions,
  DeliveryOptions,
  EmbeddedOptions,
  ForwardRule,
  LimitsOptions,
  RetentionOptions,
  RetryOptions,
  TelemetryOptions,
} from './options/convoy-module-options.js';
export type { ConvoyClientOptions, ConvoyRequestOptions } from './client/convoy-client.options.js';
export { WEBHOOK_TRANSPORT } from './convoy.constants.js';

// Publishing.
export {
  EmitsWebhook,
  emitsWebhookFor,
  targetFromQuery,
  type EmitsWebhookOptions,
} from './publishing/emits-webhook.decorator.js';
export { WebhookPublisher } from './publishing/webhook-publisher.js';
export type { OutgoingWebhook, PublishOptions, PublishReceipt, WebhookTarget } from './publishing/webhook.types.js';
export type { PublisherStats } from './pipeline/pipeline.js';
export { DIAGNOSTICS_CHANNELS } from './diagnostics-channels.js';

// Typed events: the catalog, its validation and its OpenAPI document.
export {
  defineWebhookEvents,
  type WebhookEventCatalog,
  type WebhookEventDefinition,
} from './catalog/webhook-events.js';
export { webhooksOpenApi, type WebhooksOpenApiOptions } from './catalog/webhooks-openapi.js';

// Transports and storage: the interfaces to plug in your own (a store's records: `nestjs-convoy/storage`).
export type { TransportSendContext, WebhookTransport } from './transports/webhook-transport.interface.js';
export type { ConvoyStorage } from './storage/convoy-storage.interface.js';
export type { WebhookStore } from './storage/webhook-store.js';

// Management: endpoints, the delivery log, dead letters.
export { WebhookEndpoints } from './management/webhook-endpoints.js';
export { WebhookDeliveries } from './management/webhook-deliveries.js';
export { WebhookOutbox } from './management/webhook-outbox.js';
export type {
  WebhookDeliveryAttempt,
  WebhookEndpoint,
  WebhookEndpointInput,
} from './management/webhook-management.types.js';
export type {
  ConvoyEventDelivery,
  EndpointListQuery,
  EventDeliveryFilterQuery,
  EventDeliveryListQuery,
  EventDeliveryStatus,
  Page,
} from './client/convoy.types.js';
export type { DeliveryRecord, PageRequest, RecordPage } from './storage/records.js';

// The Convoy API client (its request and response types and resources: `nestjs-convoy/client`).
export { ConvoyClient } from './client/convoy.client.js';

// Errors: every one extends ConvoyError.
export { ConvoyError } from './errors/convoy.error.js';
export { ConvoyConfigurationError } from './errors/configuration.error.js';
export {
  ConvoyFeatureUnavailableError,
  ConvoyHttpError,
  ConvoyNetworkError,
  ConvoyTimeoutError,
} from './errors/client.errors.js';
export { PublishBufferFullError, PublisherClosedError, WebhookValidationError } from './errors/publish.errors.js';
export { SecretDecryptionError, StorageUnavailableError, TransactionRequiredError } from './errors/outbox.errors.js';
export { InvalidEndpointError, WebhookNotFoundError, WebhookStateError } from './errors/endpoint.errors.js';
export { DestinationBlockedError } from './errors/destination.errors.js';
export { EventTypeSyncError } from './errors/event-type-sync.error.js';
export { ManagementUnavailableError } from './errors/endpoint.errors.js';
