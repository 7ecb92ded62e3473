import type { ConfigService } from '@nestjs/config';
import type { ConvoyModuleOptions } from '../lib/index.js';

/**
 * ConvoyModule options from the environment:
 *   CONVOY_API_KEY + CONVOY_PROJECT_ID (+ CONVOY_URL, the API base, e.g. http://localhost:5005/api)
 *   or CONVOY_USERNAME + CONVOY_PASSWORD for a self-hosted instance's basic auth.
 * With none of them, the module logs each webhook instead of sending it (and warns at startup).
 */
export function convoyOptionsFromEnv(config: ConfigService): ConvoyModuleOptions {
  const read = (name: string): string | undefined => config.get<string>(name) || undefined;
  return {
    apiKey: read('CONVOY_API_KEY'),
    username: read('CONVOY_USERNAME'),
    password: read('CONVOY_PASSWORD'),
    projectId: read('CONVOY_PROJECT_ID'),
    baseUrl: read('CONVOY_URL'),
  };
}
