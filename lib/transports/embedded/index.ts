// `nestjs-convoy/embedded`: the embedded engine's SSRF guard (address policy, destination checks, a guarded undici
// agent) for code that sends to customer URLs itself.
export * from '../../network/index.js';
