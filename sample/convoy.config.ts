import type { ConfigService } from '@nestjs/config';
import type { ConvoyModuleOptions } from '../lib/index.js';

/**
 * ConvoyModule options from the environment:
 *   CONVOY_API_KEY + CONVOY_PROJECT_ID (+ CONVOY_URL, the API base, e.g. http://localhost:5005/api)
 *   or CONVOY_USERNAME + CONVOY_PASSWORD for a self-hosted instance's basic auth.
 * With none of them, the embedded engine delivers the webhooks itself. The SSRF guard then allows loopback only,
 * so that the demo receiver on this very app (and anything else on localhost) can be an endpoint.
 */
export function convoyOptionsFromEnv(config: ConfigService): ConvoyModuleOptions {
  const read = (name: string): string | undefined => config.get<string>(name) || undefined;
  return {
    apiKey: read('CONVOY_API_KEY'),
    username: read('CONVOY_USERNAME'),
    password: read('CONVOY_PASSWORD'),
    projectId: read('CONVOY_PROJECT_ID'),
    baseUrl: read('CONVOY_URL'),
    embedded: {
      allowedAddresses: ['127.0.0.0/8', '::1/128'],
      // Quicker than Convoy's 100 s, so a failing receiver shows its retries while you watch.
      retry: { type: 'exponential', duration: 2, retry_count: 8, max_retry_seconds: 300 },
    },
  };
}
