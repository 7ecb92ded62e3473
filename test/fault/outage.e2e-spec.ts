import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ConvoyModule, WebhookPublisher } from '../../lib/index.js';
import { PostgresStorage } from '../../lib/storage/postgres/index.js';
import { FakeConvoy } from '../support/fake-convoy.js';
import { databaseUrl, describeWithPostgres, dropSchema, uniqueSchema, waitUntil } from './support/postgres.js';

/**
 * Outage: for tens of seconds Convoy refuses connections, then answers 503, then 429 with Retry-After, then stops
 * answering, while events keep being published. Afterwards every one of them arrives, each idempotency key once.
 */
describeWithPostgres('a long Convoy outage with the PostgreSQL outbox', () => {
  let fake: FakeConvoy;
  let schema: string;
  let app: INestApplicationContext;

  beforeEach(async () => {
    fake = await FakeConvoy.start();
    schema = uniqueSchema('nc_outage');
    const storage = await PostgresStorage.create({ connectionString: databaseUrl, schema });
    app = await NestFactory.createApplicationContext(
      ConvoyModule.forRoot({
        convoy: { ...fake.clientOptions, timeoutMs: 1_000 }, // a Convoy that stops answering costs a second per attempt, not ten
        storage,
        // Retries every few seconds at most, and never give up during the test: the point is that nothing is lost.
        delivery: {
          pollIntervalMs: 100,
          leaseMs: 10_000,
          retry: { delayMs: 200, maxDelayMs: 2_000, attempts: 10_000 },
        },
      }),
      { logger: false },
    );
  });
  afterEach(async () => {
    await app.close();
    await fake.close();
    await dropSchema(schema);
  });

  it('refused, 503, 429 with Retry-After, no answer: every event published meanwhile arrives afterwards, each key once', async () => {
    const publisher = app.get(WebhookPublisher);
    const keys: string[] = [];
    let publishing = true;
    const producer = (async () => {
      for (let i = 0; publishing; i++) {
        keys.push((await publisher.publish('outage.test', { i })).idempotencyKey);
        await new Promise((r) => setTimeout(r, 25));
      }
    })();
    const phase = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const isEvent = (r: { method: string; route: string }) => r.method === 'POST' && r.route.startsWith('/events');
    const attemptsSoFar = () => fake.eventRequests().length;

    await phase(1_000); // healthy: events flow
    const healthy = fake.events.size;
    expect(healthy).toBeGreaterThan(0);

    const publishedBeforeOutage = keys.length;
    await fake.refuseConnections();
    await phase(10_000);
    await fake.acceptConnections();

    fake.setRule((r) => (isEvent(r) ? { status: 503 } : undefined));
    const before503 = attemptsSoFar();
    await phase(8_000);
    expect(attemptsSoFar()).toBeGreaterThan(before503); // the relay kept trying, and was refused

    fake.setRule((r) => (isEvent(r) ? { status: 429, headers: { 'Retry-After': '2' } } : undefined));
    await phase(8_000);

    fake.setRule((r) => (isEvent(r) ? { hang: true } : undefined));
    await phase(8_000);
    expect(fake.events.size).toBe(healthy); // nothing got through during the outage

    fake.setRule(undefined);
    publishing = false;
    await producer;
    // publish() kept working through every phase of the outage (how many depends on the machine's load)
    expect(keys.length).toBeGreaterThan(publishedBeforeOutage + 4 * 10);

    const accepted = () =>
      new Set([...fake.events.values()].filter((e) => !e.is_duplicate_event).map((e) => e.idempotency_key));
    await waitUntil('every published event reached Convoy', () => keys.every((key) => accepted().has(key)), 90_000);
    const perKey = new Map<string, number>();
    for (const event of fake.events.values())
      if (!event.is_duplicate_event) perKey.set(event.idempotency_key, (perKey.get(event.idempotency_key) ?? 0) + 1);
    expect([...perKey.values()].filter((n) => n !== 1)).toEqual([]);
    expect(perKey.size).toBe(keys.length);
    expect(await publisher.stats()).toMatchObject({ durable: true, pending: 0, deadLetters: 0 });
  });
});
