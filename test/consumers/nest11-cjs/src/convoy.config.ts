import type { ConfigService } from '@nestjs/config';
import type { ConvoyModuleOptions } from 'nestjs-convoy';
import { PostgresStorage } from 'nestjs-convoy/postgres';

/**
 * ConvoyModule options from the environment. With CONVOY_API_KEY and CONVOY_PROJECT_ID, Convoy delivers; without
 * them (as in CI) the embedded engine does, from the same PostgreSQL outbox (DATABASE_URL, schema CONVOY_SCHEMA).
 */
export async function convoyOptions(config: ConfigService): Promise<ConvoyModuleOptions> {
  const read = (name: string): string | undefined => config.get<string>(name) || undefined;
  return {
    convoy: { apiKey: read('CONVOY_API_KEY'), projectId: read('CONVOY_PROJECT_ID'), baseUrl: read('CONVOY_URL') },
    storage: await PostgresStorage.create({
      connectionString: config.getOrThrow<string>('DATABASE_URL'),
      schema: read('CONVOY_SCHEMA'),
    }),
    embedded: {
      // Development only: lets endpoints on this machine (the app's own /receiver) through the SSRF guard.
      allowedAddresses: ['127.0.0.0/8', '::1/128'],
    },
    delivery: { retry: { strategy: 'exponential', delayMs: 1_000, attempts: 5 } },
  };
}
