export * from './webhook-outbox.js';
