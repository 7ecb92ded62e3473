export { EndpointRegistry, activeSecrets, type WebhookEndpointInput } from './endpoint-registry.js';
export { EmbeddedTransport, acceptsEventType, ENDPOINT_DISABLED_CHANNEL } from './embedded.transport.js';
export { HttpDelivery, type AttemptOutcome } from './http-delivery.js';
