// Global symbols (Symbol.for), so that the package's ESM and CommonJS builds share them (see utils/both-builds.ts).
/** Injection token of the validated module options (ResolvedConvoyOptions). */
export const CONVOY_OPTIONS = Symbol.for('nestjs-convoy:options');
/** Injection token of the active WebhookTransport. */
export const WEBHOOK_TRANSPORT = Symbol.for('nestjs-convoy:transport');
/** Metadata key under which @EmitsWebhook stores its specs on a handler. */
export const EMITS_WEBHOOK_METADATA = 'nestjs-convoy:emits-webhook';
/** Injection token of the pipeline's WebhookStore: the storage's, or the in-memory one. */
export const WEBHOOK_STORE = Symbol.for('nestjs-convoy:store');
