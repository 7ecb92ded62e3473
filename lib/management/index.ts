export * from './webhook-endpoints.js';
export * from './webhook-deliveries.js';
export { ManagementUnavailableError } from '../transports/convoy/convoy-management-errors.js';
export type { WebhookDeliveryAttempt, WebhookEndpoint } from './webhook-management.types.js';
