export * from './convoy.module.js';
export { CONVOY_MODULE_OPTIONS } from './convoy.module-definition.js';
export * from './convoy.constants.js';
export type * from './options/convoy-module-options.interface.js';
export * from './client/index.js';
export * from './errors/index.js';
export * from './publisher/webhook-publisher.js';
export { WebhookDispatcher, DISPATCH_CHANNELS, type DispatcherSettings, type DispatcherStats } from './publisher/webhook-dispatcher.js';
export type * from './publisher/webhook.types.js';
export * from './transports/webhook-transport.interface.js';
export * from './transports/convoy.transport.js';
export * from './transports/logging.transport.js';
export * from './decorators/emits-webhook.decorator.js';
export * from './interceptors/webhook.interceptor.js';
export * from './event-emitter/webhook-event-forwarder.js';
export * from './embedded/index.js';
export * from './management/index.js';
export * from './receiver/index.js'; // with the signing functions
export * from './network/index.js';
