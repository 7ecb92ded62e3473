export { EndpointRegistry, activeSecrets } from './endpoint-registry.js';
export type { WebhookEndpointInput } from '../../management/webhook-management.types.js';
export { EmbeddedTransport, acceptsEventType, ENDPOINT_DISABLED_CHANNEL } from './embedded.transport.js';
export { HttpDelivery, type AttemptOutcome } from './http-delivery.js';
