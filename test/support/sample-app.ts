import { Logger, type INestApplication } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { Test } from '@nestjs/testing';
import { CONVOY_MODULE_OPTIONS } from '../../lib/convoy.module-definition.js';
import type { LookupAll } from '../../lib/network/destination.js';
import { AppModule } from '../../sample/app.module.js';
import { convoyOptionsFromEnv } from '../../sample/convoy.config.js';
import { recordingLogger, type LogLine } from './recording-logger.js';

const VARIABLES = [
  'CONVOY_API_KEY',
  'CONVOY_PROJECT_ID',
  'CONVOY_URL',
  'CONVOY_USERNAME',
  'CONVOY_PASSWORD',
  'RECEIVER_SECRET',
  'CONVOY_STORAGE',
  'CONVOY_DATA_DIR',
  'PORTAL_SIGNING_KEY',
  'PUBLIC_URL',
];

export interface StartedSample {
  app: INestApplication;
  url: string;
  /** Every line the app logged from the start (nothing is printed). */
  logs: LogLine[];
}

/**
 * Starts the sample app as sample/main.ts does (raw bodies kept), on 127.0.0.1:<random port>, with exactly these
 * variables set. Storage is in memory unless `env` says otherwise (CONVOY_STORAGE, CONVOY_DATA_DIR); DATABASE_URL,
 * which CI sets for the store tests, is hidden from the sample meanwhile. `lookup` replaces the embedded engine's
 * resolver, so that no test depends on (or sends anything to) real DNS.
 */
export async function startSample(
  env: Record<string, string>,
  options: { lookup?: LookupAll } = {},
): Promise<StartedSample> {
  for (const name of VARIABLES) delete process.env[name];
  Object.assign(process.env, { CONVOY_STORAGE: 'memory' }, env);
  const databaseUrl = process.env.DATABASE_URL;
  if (!('DATABASE_URL' in env)) delete process.env.DATABASE_URL;
  try {
    return await start(options.lookup);
  } finally {
    if (databaseUrl !== undefined) process.env.DATABASE_URL = databaseUrl;
  }
}

async function start(lookup: LookupAll | undefined): Promise<StartedSample> {
  let builder = Test.createTestingModule({ imports: [AppModule] });
  if (lookup) {
    builder = builder.overrideProvider(CONVOY_MODULE_OPTIONS).useFactory({
      factory: async (config: ConfigService) => {
        const options = await convoyOptionsFromEnv(config);
        return { ...options, embedded: { ...options.embedded, lookup } };
      },
      inject: [ConfigService],
    });
  }
  const moduleRef = await builder.compile();
  // compile() installs Nest's TestingLogger; keep every line instead.
  const logs: LogLine[] = [];
  Logger.overrideLogger(recordingLogger(logs));
  const app = moduleRef.createNestApplication({ rawBody: true });
  await app.listen(0, '127.0.0.1');
  return { app, url: await app.getUrl(), logs };
}

export function clearSampleEnv(): void {
  for (const name of VARIABLES) delete process.env[name];
  Logger.overrideLogger(false);
}
