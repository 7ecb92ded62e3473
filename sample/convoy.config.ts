import { Logger } from '@nestjs/common';
import type { ConfigService } from '@nestjs/config';
import type { ConvoyModuleOptions, ConvoyStorage } from '../lib/index.js';
import { todoEvents } from './todos/todo.events.js';

/**
 * ConvoyModule options from the environment:
 *   CONVOY_API_KEY + CONVOY_PROJECT_ID (+ CONVOY_URL, the API base, e.g. http://localhost:5005/api)
 *   or CONVOY_USERNAME + CONVOY_PASSWORD for a self-hosted instance's basic auth.
 * With none of them, the embedded engine delivers the webhooks itself. Its SSRF guard lets public addresses through,
 * as always, and here loopback too (`allowedAddresses`), so that the demo receiver on this very app (and anything
 * else on localhost) can be an endpoint; private networks, link-local and cloud metadata addresses stay refused.
 *
 * Storage (the outbox, and the embedded engine's endpoints and log): PostgreSQL when DATABASE_URL is set,
 * otherwise PGlite in CONVOY_DATA_DIR (default .data/convoy); CONVOY_STORAGE=memory keeps everything in memory.
 */
export async function convoyOptionsFromEnv(config: ConfigService): Promise<ConvoyModuleOptions> {
  const read = (name: string): string | undefined => config.get<string>(name) || undefined;
  const convoy = {
    apiKey: read('CONVOY_API_KEY'),
    username: read('CONVOY_USERNAME'),
    password: read('CONVOY_PASSWORD'),
    projectId: read('CONVOY_PROJECT_ID'),
    baseUrl: read('CONVOY_URL'),
  };
  const storage = await storageFromEnv(read);
  // The catalog: each todo webhook's payload is checked against its schema before it is accepted.
  if (convoy.apiKey || convoy.username || convoy.password) return { convoy, storage, events: todoEvents };
  return {
    convoy,
    storage,
    events: todoEvents,
    embedded: { allowedAddresses: ['127.0.0.0/8', '::1/128'] },
    // Quicker than Convoy's 100 s, so a failing receiver shows its retries while you watch.
    delivery: { retry: { strategy: 'exponential', delayMs: 2_000, attempts: 8, maxDelayMs: 300_000 } },
  };
}

async function storageFromEnv(read: (name: string) => string | undefined): Promise<ConvoyStorage | undefined> {
  const logger = new Logger('SampleStorage');
  if (read('CONVOY_STORAGE') === 'memory') return undefined;
  const databaseUrl = read('DATABASE_URL');
  if (databaseUrl) {
    const { PostgresStorage } = await import('../lib/storage/postgres/index.js'); // in your app: 'nestjs-convoy/postgres'
    logger.log('Outbox and webhook log in PostgreSQL (DATABASE_URL)');
    return PostgresStorage.create({ connectionString: databaseUrl });
  }
  const dataDir = read('CONVOY_DATA_DIR') ?? '.data/convoy';
  const { PGliteStorage } = await import('../lib/storage/pglite/index.js'); // in your app: 'nestjs-convoy/pglite'
  logger.log(`Outbox and webhook log in PGlite at ${dataDir} (set DATABASE_URL for PostgreSQL)`);
  return PGliteStorage.create({ dataDir });
}
