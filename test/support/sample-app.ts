import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { AppModule } from '../../sample/app.module.js';

const VARIABLES = ['CONVOY_API_KEY', 'CONVOY_PROJECT_ID', 'CONVOY_URL', 'CONVOY_USERNAME', 'CONVOY_PASSWORD', 'RECEIVER_SECRET'];

/** Starts the sample app as sample/main.ts does (raw bodies kept), on 127.0.0.1:<random port>, with exactly these variables set. */
export async function startSample(env: Record<string, string>): Promise<{ app: INestApplication; url: string }> {
  for (const name of VARIABLES) delete process.env[name];
  Object.assign(process.env, env);
  const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
  const app = moduleRef.createNestApplication({ rawBody: true });
  await app.listen(0, '127.0.0.1');
  return { app, url: await app.getUrl() };
}

export function clearSampleEnv(): void {
  for (const name of VARIABLES) delete process.env[name];
}
