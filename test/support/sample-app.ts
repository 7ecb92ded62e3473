import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { AppModule } from '../../sample/app.module.js';

const VARIABLES = [
  'CONVOY_API_KEY',
  'CONVOY_PROJECT_ID',
  'CONVOY_URL',
  'CONVOY_USERNAME',
  'CONVOY_PASSWORD',
  'RECEIVER_SECRET',
  'CONVOY_STORAGE',
  'CONVOY_DATA_DIR',
];

/**
 * Starts the sample app as sample/main.ts does (raw bodies kept), on 127.0.0.1:<random port>, with exactly these
 * variables set. Storage is in memory unless `env` says otherwise (CONVOY_STORAGE, CONVOY_DATA_DIR); DATABASE_URL,
 * which CI sets for the store tests, is hidden from the sample meanwhile.
 */
export async function startSample(env: Record<string, string>): Promise<{ app: INestApplication; url: string }> {
  for (const name of VARIABLES) delete process.env[name];
  Object.assign(process.env, { CONVOY_STORAGE: 'memory' }, env);
  const databaseUrl = process.env.DATABASE_URL;
  if (!('DATABASE_URL' in env)) delete process.env.DATABASE_URL;
  try {
    return await start();
  } finally {
    if (databaseUrl !== undefined) process.env.DATABASE_URL = databaseUrl;
  }
}

async function start(): Promise<{ app: INestApplication; url: string }> {
  const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
  const app = moduleRef.createNestApplication({ rawBody: true });
  await app.listen(0, '127.0.0.1');
  return { app, url: await app.getUrl() };
}

export function clearSampleEnv(): void {
  for (const name of VARIABLES) delete process.env[name];
}
