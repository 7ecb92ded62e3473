export * from './outbox.types.js';
export * from './outbox-store.interface.js';
export * from './in-memory-outbox.store.js';
export { OutboxRelay, OUTBOX_CHANNELS, type RelaySettings } from './outbox-relay.js';
export * from './webhook-outbox.js';
