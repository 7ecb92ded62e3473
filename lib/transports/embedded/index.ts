// `nestjs-convoy/embedded`: the embedded engine's SSRF guard (address policy, destination checks, a guarded undici
// agent) for code that sends to customer URLs itself, and the engine's option types.
export type { EmbeddedOptions, RetrySchedule } from './embedded-options.js';
export * from './network/index.js';
