import { Test } from '@nestjs/testing';
import {
  ConvoyModule,
  DestinationBlockedError,
  InvalidEndpointError,
  WebhookEndpoints,
  WebhookPublisher,
  type ConvoyStorage,
} from '../../lib/index.js';
import { verifyConvoySignature } from '../../lib/receiver/index.js';
import { signConvoyPayloadSha256 } from '../../lib/signing/convoy-signature.js';
import { PGliteStorage } from '../../lib/storage/pglite/index.js';
import { PostgresStorage } from '../../lib/storage/postgres/index.js';
import { databaseUrl, dropSchema, uniqueSchema } from '../fault/support/postgres.js';
import { Harness, deliveriesOf, eventually, waitForStatus } from '../support/embedded-app.js';
import { DeliveryPipeline } from '../../lib/pipeline/pipeline.js';
import { FakeConvoy } from '../support/fake-convoy.js';

/**
 * Tenant-safe dynamic targets (issue 12, item 4): a `{ url, secret? }` target is identified by its URL and its
 * secret. Two callers who give the same URL with different secrets each get their own endpoint, so each payload is
 * signed with its caller's secret and never with the other's; a target without a secret, and an endpoint registered
 * for the URL through the API, are separate again.
 */

const SECRET_A = 'tenant-a-secret-0001';
const SECRET_B = 'tenant-b-secret-0002';
const REGISTERED = 'registered-secret-03';
const ALL = [SECRET_A, SECRET_B, REGISTERED];

/** Which of the known secrets a signature verifies with. */
function signedWith(raw: Buffer, signature: string): string[] {
  return ALL.filter((secret) => verifyConvoySignature(raw, signature, { secret }).valid);
}

const storages: Array<[string, () => Promise<{ storage: ConvoyStorage; drop: () => Promise<void> }>]> = [
  ['PGlite', async () => ({ storage: await PGliteStorage.create(), drop: async () => {} })],
];
if (databaseUrl) {
  storages.push([
    'PostgreSQL',
    async () => {
      const schema = uniqueSchema('nc_dyn');
      const storage = await PostgresStorage.create({ connectionString: databaseUrl, schema });
      return { storage, drop: () => dropSchema(schema) };
    },
  ]);
} else console.info('dynamic targets on PostgreSQL skipped: set DATABASE_URL to run them');

describe.each(storages)('dynamic targets on the embedded engine (%s)', (_name, makeStorage) => {
  const h = new Harness();
  let drop: () => Promise<void> = async () => {};
  afterEach(async () => {
    await h.cleanup();
    await drop();
  });

  it('two callers, one URL, two secrets: each delivery verifies with its caller secret only', async () => {
    const { storage, drop: dropStorage } = await makeStorage();
    drop = dropStorage;
    const receiver = await h.receiver();
    const app = await h.embedded({}, { storage });
    const url = `${receiver.url}/shared`;
    const registered = await app.endpoints.create({ name: 'registered', url, secret: REGISTERED });

    const receipts = {
      a: await app.publisher.publish('tenant.event', { tenant: 'a' }, { url, secret: SECRET_A }),
      b: await app.publisher.publish('tenant.event', { tenant: 'b' }, { url, secret: SECRET_B }),
      none: await app.publisher.publish('tenant.event', { tenant: 'none' }, { url }),
      a2: await app.publisher.publish('tenant.event', { tenant: 'a2' }, { url, secret: SECRET_A }),
    };
    const endpointOf: Record<string, string> = {};
    for (const [who, receipt] of Object.entries(receipts)) {
      const [delivery, ...more] = await deliveriesOf(app, receipt);
      expect(more).toEqual([]);
      await waitForStatus(app.deliveries, delivery!.uid, 'Success');
      endpointOf[who] = delivery!.endpoint_id;
    }

    const got = Object.fromEntries(
      receiver.received.map((r) => [
        (r.json as { tenant: string }).tenant,
        signedWith(r.raw, r.headers['x-convoy-signature'] as string),
      ]),
    );
    expect(got).toEqual({ a: [SECRET_A], b: [SECRET_B], none: [], a2: [SECRET_A] });
    // One endpoint per URL and secret: A's two events share one; none of them uses the registered endpoint.
    expect(endpointOf.a2).toBe(endpointOf.a);
    expect(new Set(Object.values(endpointOf)).size).toBe(3);
    expect(Object.values(endpointOf)).not.toContain(registered.uid);
    // The endpoints' names carry a fingerprint, never a secret.
    const endpoints = (await app.endpoints.list()).content;
    expect(endpoints).toHaveLength(4);
    for (const endpoint of endpoints) for (const secret of ALL) expect(endpoint.name).not.toContain(secret);
  });

  it('a { url } target the SSRF guard refuses without DNS fails publish() at once, and nothing is queued', async () => {
    const { storage, drop: dropStorage } = await makeStorage();
    drop = dropStorage;
    const app = await h.embedded({ allowedAddresses: [] }, { storage });
    for (const url of [
      'http://169.254.169.254/',
      'http://10.0.0.1/hook',
      'http://[::1]:9/hook',
      'http://localhost:9/',
    ]) {
      const error = await app.publisher.publish('tenant.event', { n: 1 }, { url }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DestinationBlockedError);
      expect((error as Error).message).not.toContain('/hook');
    }
    expect((await app.publisher.stats()).pending).toBe(0);
    expect((await app.deliveries.list()).content).toEqual([]);
  });

  it('many targets, once delivered, leave no per-endpoint state in the pipeline (it stays bounded)', async () => {
    const { storage, drop: dropStorage } = await makeStorage();
    drop = dropStorage;
    const receiver = await h.receiver();
    const app = await h.embedded({}, { storage });
    const receipts = [];
    for (let n = 0; n < 20; n++)
      receipts.push(await app.publisher.publish('tenant.event', { n }, { url: `${receiver.url}/t${n}` }));
    for (const receipt of receipts) {
      const [delivery] = await deliveriesOf(app, receipt);
      await waitForStatus(app.deliveries, delivery!.uid, 'Success');
    }
    expect(receiver.received).toHaveLength(20);
    const pipeline = app.app.get(DeliveryPipeline) as unknown as { perEndpoint: Map<string, unknown> };
    await eventually(
      async () => pipeline.perEndpoint.size,
      (size) => size === 0,
      'the per-endpoint slots to be dropped',
    );
  });
});

describe('dynamic targets on the Convoy transport (fake Convoy)', () => {
  let fake: FakeConvoy;
  beforeEach(async () => (fake = await FakeConvoy.start()));
  afterEach(() => fake.close());

  /** Runs `use` with the publisher of a Nest app on the fake Convoy, then closes the app. */
  async function withPublisher(use: (publisher: WebhookPublisher) => Promise<void>): Promise<void> {
    const moduleRef = await Test.createTestingModule({
      imports: [ConvoyModule.forRoot({ convoy: fake.clientOptions })],
    }).compile();
    const app = await moduleRef.createNestApplication({ logger: false }).init();
    try {
      await use(app.get(WebhookPublisher));
    } finally {
      await app.close();
    }
  }

  it('two callers, one URL, two secrets: each event goes to an endpoint that signs with its caller secret only', async () => {
    const url = 'https://hooks.example/shared';
    // Convoy's own dynamic events would pick this endpoint (the URL's) for every event, whatever the secret.
    const registered = fake.seedEndpoint({ name: 'registered', url, secret: REGISTERED });
    await withPublisher(async (publisher) => {
      await publisher.publish('tenant.event', { tenant: 'a' }, { url, secret: SECRET_A });
      await publisher.publish('tenant.event', { tenant: 'b' }, { url, secret: SECRET_B });
      await publisher.publish('tenant.event', { tenant: 'none' }, { url });
      await publisher.publish('tenant.event', { tenant: 'a2' }, { url, secret: SECRET_A });
      await publisher.flush();
    });

    const events = fake.acceptedEvents();
    expect(events).toHaveLength(4);
    const got: Record<string, string[]> = {};
    const endpointOf: Record<string, string> = {};
    for (const event of events) {
      const [endpointId, ...more] = event.endpoints as string[];
      expect(more).toEqual([]);
      const endpoint = fake.endpoints.get(endpointId!)!;
      expect(endpoint.url).toBe(url);
      // What Convoy signs a delivery with: the endpoint's secrets.
      const raw = Buffer.from(JSON.stringify(event.data));
      const secrets = (endpoint.secrets as Array<{ value: string }>).map((s) => s.value);
      const signature = signConvoyPayloadSha256(raw.toString('utf8'), secrets, true);
      got[event.data.tenant] = signedWith(raw, signature);
      endpointOf[event.data.tenant] = endpointId!;
    }
    expect(got).toEqual({ a: [SECRET_A], b: [SECRET_B], none: [], a2: [SECRET_A] });
    expect(endpointOf.a2).toBe(endpointOf.a);
    expect(new Set(Object.values(endpointOf)).size).toBe(3);
    expect(Object.values(endpointOf)).not.toContain(registered.uid);
    // Found again by name, not created twice; no name carries a secret.
    expect(fake.endpoints.size).toBe(4);
    for (const endpoint of fake.endpoints.values())
      for (const secret of ALL) expect(endpoint.name).not.toContain(secret);
    // Nothing went through Convoy's dynamic route, which ignores the secret of a URL it knows.
    expect(fake.requests.filter((r) => r.route === '/events/dynamic')).toEqual([]);
  });

  it('a metadata or link-local { url } target, or endpoint, is refused before anything reaches Convoy', async () => {
    await withPublisher(async (publisher) => {
      for (const url of [
        'http://169.254.169.254/latest/meta-data',
        'http://[::ffff:169.254.169.254]/',
        'http://0xa9fea9fe/',
        'http://[fe80::1]/hook',
        'http://0.0.0.0:8080/hook',
      ]) {
        await expect(publisher.publish('tenant.event', { n: 1 }, { url })).rejects.toBeInstanceOf(
          DestinationBlockedError,
        );
      }
      await publisher.flush();
    });
    const moduleRef = await Test.createTestingModule({
      imports: [ConvoyModule.forRoot({ convoy: fake.clientOptions })],
    }).compile();
    const app = await moduleRef.createNestApplication({ logger: false }).init();
    try {
      const error = await app
        .get(WebhookEndpoints)
        .create({ url: 'http://169.254.170.2/v2/credentials' })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidEndpointError);
      expect((error as InvalidEndpointError).field).toBe('url');
      expect((error as Error).message).toContain('metadata');
    } finally {
      await app.close();
    }
    // A private address is Convoy's own decision (its network may allow it): not refused here.
    expect(fake.requests.filter((r) => r.method !== 'GET')).toEqual([]);
  });

  it('an endpoint deleted in Convoy since is created again, and concurrent publishes to a new target share one', async () => {
    const url = 'https://hooks.example/again';
    await withPublisher(async (publisher) => {
      await Promise.all([1, 2, 3].map((n) => publisher.publish('tenant.event', { n }, { url, secret: SECRET_A })));
      await publisher.flush();
      expect(fake.endpoints.size).toBe(1);
      const [first] = fake.endpoints.keys();
      fake.endpoints.delete(first!);
      await publisher.publish('tenant.event', { n: 4 }, { url, secret: SECRET_A });
      await publisher.flush();
    });
    const [again, ...more] = [...fake.endpoints.values()];
    expect(more).toEqual([]);
    expect(again!.secrets.map((s: { value: string }) => s.value)).toEqual([SECRET_A]);
    const events = fake.acceptedEvents().map((e) => [e.data.n, e.endpoints]);
    expect(events.sort((x, y) => x[0] - y[0])).toEqual([
      [1, expect.any(Array)],
      [2, expect.any(Array)],
      [3, expect.any(Array)],
      [4, [again!.uid]],
    ]);
  });
});
