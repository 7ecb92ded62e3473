import { PostgresStorage } from '../../lib/storage/postgres/index.js';
import { databaseUrl, describeWithPostgres, dropSchema, uniqueSchema } from '../fault/support/postgres.js';
import { Harness, eventually } from '../support/embedded-app.js';

// Web instances that only publish, and a worker that delivers, sharing one PostgreSQL schema.
describeWithPostgres('delivery.worker: false (publish-only instances, PostgreSQL)', () => {
  const h = new Harness();
  let schema: string;
  beforeEach(() => (schema = uniqueSchema('nc_split')));
  afterEach(async () => {
    await h.cleanup();
    await dropSchema(schema);
  });

  it('an instance with worker: false stores what it publishes and sends nothing; a worker on the same storage sends it once', async () => {
    const receiver = await h.receiver();
    const storage = () => PostgresStorage.create({ connectionString: databaseUrl!, schema });
    const web = await h.embedded({}, { storage: await storage(), delivery: { worker: false, pollIntervalMs: 50 } });
    const endpoint = await web.endpoints.create({ name: 'split', url: `${receiver.url}/hook` });
    const receipts = [];
    for (let i = 0; i < 5; i++) receipts.push(await web.publisher.publish('split.test', { i }));
    await web.publisher.flush(); // resolves once stored: this instance never delivers

    // Ten poll intervals later, still nothing sent: the instance claims nothing.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(receiver.received).toHaveLength(0);
    expect(await web.publisher.stats()).toMatchObject({ pending: 5, inFlight: 0, sent: 0 });
    const listed = await web.deliveries.list({ endpointId: [endpoint.uid] });
    expect(listed.content.map((d) => d.status)).toEqual(Array(5).fill('Scheduled'));

    const worker = await h.embedded({}, { storage: await storage(), delivery: { pollIntervalMs: 50 } });
    await eventually(
      async () => receiver.received.length,
      (n) => n >= 5,
      'the worker delivered the five events',
    );
    await worker.publisher.flush();
    const keys = receiver.received.map((r) => r.headers['x-convoy-idempotency-key']).sort();
    expect(keys).toEqual(receipts.map((r) => r.idempotencyKey).sort());
    expect(await worker.publisher.stats()).toMatchObject({ pending: 0, sent: 5 });
    expect(await web.publisher.stats()).toMatchObject({ pending: 0, sent: 0 });
  });
});
