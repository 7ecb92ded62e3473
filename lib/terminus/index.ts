export * from './webhooks.health-indicator.js';
