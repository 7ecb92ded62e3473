import type { ConfigService } from '@nestjs/config';
import type { ConvoyModuleOptions } from 'nestjs-convoy';
import { PGliteStorage } from 'nestjs-convoy/pglite';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * ConvoyModule options from the environment. With CONVOY_API_KEY and CONVOY_PROJECT_ID, Convoy delivers; without
 * them (as in CI) the embedded engine does. The outbox and the engine's log live in PGlite (PostgreSQL in process)
 * under CONVOY_DATA_DIR.
 */
export async function convoyOptions(config: ConfigService): Promise<ConvoyModuleOptions> {
  const read = (name: string): string | undefined => config.get<string>(name) || undefined;
  return {
    convoy: { apiKey: read('CONVOY_API_KEY'), projectId: read('CONVOY_PROJECT_ID'), baseUrl: read('CONVOY_URL') },
    storage: await PGliteStorage.create({
      dataDir: read('CONVOY_DATA_DIR') ?? join(tmpdir(), 'consumer-nest12-esm', 'convoy'),
    }),
    embedded: {
      // Development only: lets endpoints on this machine (the app's own /receiver) through the SSRF guard.
      allowedAddresses: ['127.0.0.0/8', '::1/128'],
    },
    delivery: { retry: { strategy: 'exponential', delayMs: 1_000, attempts: 5 } },
  };
}
