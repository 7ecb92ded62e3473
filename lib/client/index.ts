// `nestjs-convoy/client`: the Convoy API client with every request and response type, its resources and the errors
// its calls throw.
export * from './convoy.client.js';
export type * from './convoy-client.options.js';
export type { ConvoyRequest, ConvoyResult, QueryValue } from './convoy-http.js';
export type * from './convoy.types.js';
export * from './resources/events.resource.js';
export * from './resources/endpoints.resource.js';
export * from './resources/subscriptions.resource.js';
export * from './resources/event-deliveries.resource.js';
export * from './resources/portal-links.resource.js';
export * from './resources/event-types.resource.js';
export * from './resources/meta-events.resource.js';
export {
  ConvoyFeatureUnavailableError,
  ConvoyHttpError,
  ConvoyNetworkError,
  ConvoyNotConfiguredError,
  ConvoyResponseError,
  ConvoyTimeoutError,
  InvalidRequestError,
  type ConvoyFeature,
  type ConvoyRequestInfo,
} from '../errors/client.errors.js';
export { verifyProject } from './project-check.js';
export {
  syncEventTypes,
  type EventTypeField,
  type EventTypeSyncOptions,
  type EventTypeSyncReport,
} from '../catalog/event-type-sync.js';
export { EventTypeSyncError, type EventTypeSyncOperation } from '../errors/event-type-sync.error.js';
