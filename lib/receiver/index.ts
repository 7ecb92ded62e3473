export {
  VerifyConvoyWebhook,
  type VerifyConvoyWebhookOptions,
  type WebhookSecretResolver,
  type SigningEndpoint,
} from './verify-convoy-webhook.decorator.js';
export {
  ConvoyWebhookGuard,
  VERIFY_CONVOY_WEBHOOK_METADATA,
  getVerifiedWebhook,
  type VerifiedWebhook,
} from './convoy-webhook.guard.js';
export { WebhookPayload } from './webhook-payload.decorator.js';
// Receiving apps need the verify functions too; `nestjs-convoy/receiver` loads neither the client nor the engine.
export * from '../signing/index.js';
