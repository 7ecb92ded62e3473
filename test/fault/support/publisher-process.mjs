// A child process for the crash test: an application context with ConvoyModule on durable storage (PostgreSQL, or
// PGlite in PGLITE_DIR) and the Convoy transport, publishing a stream of events and printing each idempotency key
// once publish() resolved (stdout to a pipe is synchronous on Linux, so a printed key was durably stored). The test
// kills it with SIGKILL. The delivery options are the defaults (the lease above all), but for a quick poll.
// It loads the built package by its name (dist/esm, which `npm test` builds first).
import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ConvoyModule, WebhookPublisher } from 'nestjs-convoy';

const { DATABASE_URL, PGLITE_DIR, CRASH_SCHEMA, CONVOY_URL, CONVOY_API_KEY, CONVOY_PROJECT_ID } = process.env;
Logger.overrideLogger(false);
const storage = PGLITE_DIR
  ? await (await import('nestjs-convoy/pglite')).PGliteStorage.create({ dataDir: PGLITE_DIR })
  : await (
      await import('nestjs-convoy/postgres')
    ).PostgresStorage.create({
      connectionString: DATABASE_URL,
      schema: CRASH_SCHEMA,
    });
const app = await NestFactory.createApplicationContext(
  ConvoyModule.forRoot({
    convoy: { apiKey: CONVOY_API_KEY, projectId: CONVOY_PROJECT_ID, baseUrl: CONVOY_URL },
    storage,
    delivery: { pollIntervalMs: 50, concurrency: 4 },
  }),
  { logger: false },
);
// SIGTERM: stop publishing, then Nest closes the module (the relay gives back what it claimed) and exits.
let stopping = false;
process.once('SIGTERM', () => (stopping = true));
app.enableShutdownHooks();
const publisher = app.get(WebhookPublisher);
process.stdout.write('ready\n');
for (let i = 0; !stopping; i++) {
  const receipt = await publisher.publish('crash.test', { i }, { orderingKey: `stream-${i % 3}` });
  process.stdout.write(`${receipt.idempotencyKey}\n`);
  // A breath between publishes: back to back, they keep PGlite's one connection so busy that the relay never claims.
  if (PGLITE_DIR) await new Promise((resolve) => setTimeout(resolve, 1));
}
