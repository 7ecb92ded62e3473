import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import pg from 'pg';
import { ConvoyModule, WebhookPublisher } from '../../lib/index.js';
import { PostgresStorage } from '../../lib/storage/postgres/index.js';
import { FakeConvoy } from '../support/fake-convoy.js';
import { databaseUrl, describeWithPostgres, dropSchema, uniqueSchema, waitUntil } from './support/postgres.js';

async function instance(
  fake: FakeConvoy,
  schema: string,
  delivery: Record<string, number> = {},
): Promise<INestApplicationContext> {
  const storage = await PostgresStorage.create({ connectionString: databaseUrl, schema });
  return NestFactory.createApplicationContext(
    ConvoyModule.forRoot({ convoy: fake.clientOptions, storage, delivery: { pollIntervalMs: 50, ...delivery } }),
    { logger: false },
  );
}

/** How many deliveries are claimed (under a lease) right now. */
async function leased(schema: string): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM "${schema}".deliveries WHERE lease_token IS NOT NULL`,
    );
    return rows[0]!.n;
  } finally {
    await client.end();
  }
}

/** Several application instances on one database, and shutdown with work pending. */
describeWithPostgres('instances sharing one PostgreSQL outbox', () => {
  let fake: FakeConvoy;
  let schema: string;
  const apps: INestApplicationContext[] = [];

  beforeEach(async () => {
    fake = await FakeConvoy.start();
    schema = uniqueSchema('nc_inst');
  });
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
    await fake.close();
    await dropSchema(schema);
  });

  it('three instances publishing and relaying together send every event exactly once', async () => {
    // Instances start together: their migrations queue on the advisory lock instead of racing.
    apps.push(...(await Promise.all([instance(fake, schema), instance(fake, schema), instance(fake, schema)])));
    fake.setRule(() => ({ delayMs: 5 })); // keep sends in flight so the relays really overlap
    const keys = (
      await Promise.all(
        apps.map(async (app, n) => {
          const publisher = app.get(WebhookPublisher);
          const mine: string[] = [];
          for (let i = 0; i < 150; i++) mine.push((await publisher.publish('multi.test', { n, i })).idempotencyKey);
          return mine;
        }),
      )
    ).flat();
    await waitUntil('all 450 events arrived', () => fake.events.size >= keys.length);
    await new Promise((r) => setTimeout(r, 300)); // a few more polls: a double send would show up now
    // Not one duplicate request: no message was handed over twice.
    const requests = fake.eventRequests().map((r) => r.body.idempotency_key as string);
    expect(requests).toHaveLength(keys.length);
    expect(new Set(requests)).toEqual(new Set(keys));
  });

  it('shutdown with work pending returns promptly, loses nothing, and the next start sends it', async () => {
    // The default lease: shutdown hands back what it claimed (a claim under way included), so the next start sends
    // it at once rather than after a lease.
    const first = await instance(fake, schema, { drainTimeoutMs: 2_000 });
    apps.push(first);
    await fake.refuseConnections(); // Convoy is down: everything stays pending
    const publisher = first.get(WebhookPublisher);
    const keys: string[] = [];
    for (let i = 0; i < 100; i++) keys.push((await publisher.publish('shutdown.test', { i })).idempotencyKey);
    await waitUntil(
      'the relay has tried',
      async () => (await publisher.stats()).pending + (await publisher.stats()).inFlight === 100,
    );
    const started = Date.now();
    await first.close();
    apps.pop();
    const closeMs = Date.now() - started;
    expect(closeMs).toBeLessThan(10_000); // promptly: it does not wait for Convoy to come back
    expect(await leased(schema)).toBe(0); // everything handed back: nothing waits for a lease to run out

    await fake.acceptConnections();
    apps.push(await instance(fake, schema));
    const accepted = () =>
      new Set([...fake.events.values()].filter((e) => !e.is_duplicate_event).map((e) => e.idempotency_key));
    await waitUntil('every event published before the shutdown arrived', () =>
      keys.every((key) => accepted().has(key)),
    );
    expect(accepted().size).toBe(100);
  });
});
