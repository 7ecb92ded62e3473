export * from './webhook-endpoints.js';
export * from './webhook-deliveries.js';
export { ManagementUnavailableError } from './convoy-errors.js';
export type { WebhookDeliveryAttempt, WebhookEndpoint } from './webhook-management.types.js';
