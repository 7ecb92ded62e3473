export * from './webhook-endpoints.js';
export * from './webhook-deliveries.js';
export { ConvoyWebhookDeliveries, ConvoyWebhookEndpoints } from '../transports/convoy/convoy-management.js';
export { EmbeddedWebhookDeliveries, EmbeddedWebhookEndpoints } from '../transports/embedded/embedded-management.js';
export type { WebhookDeliveryAttempt, WebhookEndpoint } from './webhook-management.types.js';
