export * from './convoy.error.js';
export * from './client.errors.js';
export * from './configuration.error.js';
export * from './publish.errors.js';
export * from './endpoint.errors.js';
export * from './outbox.errors.js';
export * from './pglite.errors.js';
export * from './event-type-sync.error.js';
