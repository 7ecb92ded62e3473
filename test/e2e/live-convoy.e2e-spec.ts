/**
 * The e2e scenarios against a live Convoy. Opt-in: runs only when CONVOY_E2E_URL, CONVOY_E2E_API_KEY and
 * CONVOY_E2E_PROJECT_ID are set (the instance must be able to deliver to http://127.0.0.1, as a self-hosted
 * community instance does). Optional: CONVOY_E2E_BASIC_USER / CONVOY_E2E_BASIC_PASSWORD for a file-realm user.
 * Convoy delivers asynchronously (seconds), so these tests wait generously.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { jest } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { request } from 'undici';
import { NestFactory } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { ConvoyClient, ConvoyHttpError, ConvoyModule, verifyConvoySignature, WebhookEndpoints, WebhookPublisher, type ConvoyEndpoint } from '../../lib/index.js';
import { clearSampleEnv, startSample } from '../support/sample-app.js';
import { WebhookReceiver, type ReceivedWebhook } from '../support/webhook-receiver.js';

const { CONVOY_E2E_URL: baseUrl, CONVOY_E2E_API_KEY: apiKey, CONVOY_E2E_PROJECT_ID: projectId } = process.env;
const live = baseUrl && apiKey && projectId;
const describeLive = live ? describe : describe.skip;
if (!live) {
  // Visible in the run, so a skipped live suite is never mistaken for a passing one.
  console.info('live-convoy.e2e-spec: skipped (set CONVOY_E2E_URL, CONVOY_E2E_API_KEY and CONVOY_E2E_PROJECT_ID to run against a real Convoy)');
}

/** Checks Convoy's advanced signature `t=…,v1=…` over the raw body with one of the endpoint's secrets. */
function signedBy(webhook: ReceivedWebhook, secrets: string[]): boolean {
  const header = String(webhook.headers['x-convoy-signature'] ?? '');
  const parts = header.split(',').map((p) => p.split('='));
  const t = parts.find(([k]) => k === 't')?.[1];
  const signatures = parts.filter(([k]) => k?.startsWith('v')).map(([, v]) => v);
  return secrets.some((secret) => signatures.includes(createHmac('sha256', secret).update(`${t},${webhook.raw.toString('utf8')}`).digest('hex')));
}

/** Polls until `check` stops throwing: Convoy writes event rows asynchronously, a second or so after intake. */
async function eventually<T>(check: () => Promise<T>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

async function call(url: string, method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown) {
  const response = await request(url + path, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.body.text();
  return { status: response.statusCode, body: text ? JSON.parse(text) : undefined };
}

describeLive('live Convoy (CONVOY_E2E_URL)', () => {
  // Convoy's queue adds seconds per delivery; the whole suite takes about a minute.
  jest.setTimeout(120_000);
  let receiver: WebhookReceiver;
  let client: ConvoyClient;
  let endpoint: ConvoyEndpoint;
  const run = randomUUID().slice(0, 8);
  const owner = `e2e-owner-${run}`;

  beforeAll(async () => {
    receiver = await WebhookReceiver.start();
    client = new ConvoyClient({ baseUrl, apiKey, projectId });
    endpoint = await client.endpoints.create({ name: `e2e-${run}`, url: `${receiver.url}/hook`, owner_id: owner });
    await client.subscriptions.create({ name: `e2e-${run}-all`, endpoint_id: endpoint.uid });
    // Convoy's agent matches broadcasts against an in-memory copy of the subscriptions, refreshed every 10 s
    // (`convoy agent --interval`); a broadcast sent sooner misses a new subscription.
    await new Promise((r) => setTimeout(r, 11_000));
  });
  afterAll(async () => {
    if (endpoint) await client.endpoints.delete(endpoint.uid).catch(() => undefined);
    await client?.close();
    await receiver?.close();
  });

  const secrets = () => endpoint.secrets.map((s) => s.value);

  it('ConvoyClient: endpoint read, update, list, iterate and typed errors', async () => {
    expect(endpoint).toMatchObject({ name: `e2e-${run}`, owner_id: owner, status: 'active', advanced_signatures: true });
    expect((await client.endpoints.get(endpoint.uid)).uid).toBe(endpoint.uid);
    const updated = await client.endpoints.update(endpoint.uid, { name: `e2e-${run}`, url: `${receiver.url}/hook`, description: 'updated' });
    expect(updated.description).toBe('updated');
    const page = await client.endpoints.list({ ownerId: owner, perPage: 1 });
    expect(page.content.map((e) => e.uid)).toEqual([endpoint.uid]);
    let found = false;
    for await (const e of client.endpoints.iterate({ perPage: 2 })) if (e.uid === endpoint.uid) found = true;
    expect(found).toBe(true);
    const missing = await client.endpoints.get('01NOTANENDPOINT0000000000X').catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ConvoyHttpError);
    expect((missing as ConvoyHttpError).status).toBe(404);
    expect((missing as ConvoyHttpError).requestId).toEqual(expect.any(String));
  });

  it('ConvoyClient: events to an endpoint, an owner and everyone arrive signed, byte for byte', async () => {
    const data = { run, text: 'héllo </script>', n: 1 };
    await client.events.create({ endpoint_id: endpoint.uid, event_type: 'e2e.direct', data, idempotency_key: `${run}-direct` });
    await client.events.fanout({ owner_id: owner, event_type: 'e2e.fanout', data: { ...data, n: 2 }, idempotency_key: `${run}-fanout` });
    await client.events.broadcast({ event_type: 'e2e.broadcast', data: { ...data, n: 3 }, idempotency_key: `${run}-broadcast` });
    for (const n of [1, 2, 3]) {
      const hook = await receiver.waitFor((w) => (w.json as { run?: string; n?: number })?.run === run && (w.json as { n: number }).n === n);
      expect(hook.raw.toString('utf8')).toBe(JSON.stringify({ ...data, n }));
      expect(signedBy(hook, secrets())).toBe(true);
      expect(hook.headers['x-convoy-idempotency-key']).toBe(`${run}-${['direct', 'fanout', 'broadcast'][n - 1]}`);
    }
    const events = await eventually(async () => {
      const page = await client.events.list({ idempotencyKey: `${run}-direct` });
      expect(page.content.map((e) => e.event_type)).toEqual(['e2e.direct']);
      return page;
    });
    const deliveries = await client.eventDeliveries.list({ endpointId: [endpoint.uid], eventId: events.content[0]!.uid });
    expect(deliveries.content[0]).toMatchObject({ endpoint_id: endpoint.uid });
    const attempts = await client.deliveryAttempts.list(deliveries.content[0]!.uid);
    expect(attempts.length).toBeGreaterThan(0);
  });

  it('ConvoyClient: a repeated idempotency key is delivered once', async () => {
    const key = `${run}-dup`;
    await client.events.create({ endpoint_id: endpoint.uid, event_type: 'e2e.dup', data: { run, dup: 1 }, idempotency_key: key });
    await client.events.create({ endpoint_id: endpoint.uid, event_type: 'e2e.dup', data: { run, dup: 2 }, idempotency_key: key });
    await receiver.waitFor((w) => w.headers['x-convoy-idempotency-key'] === key);
    await new Promise((r) => setTimeout(r, 8_000)); // long enough for a second delivery to show up, if Convoy made one
    expect(receiver.received.filter((w) => w.headers['x-convoy-idempotency-key'] === key)).toHaveLength(1);
  });

  it('ConvoyClient: basic auth of a file-realm user, when configured', async () => {
    const { CONVOY_E2E_BASIC_USER: username, CONVOY_E2E_BASIC_PASSWORD: password } = process.env;
    if (!username || !password) return console.info('basic-auth check skipped: CONVOY_E2E_BASIC_USER/PASSWORD not set');
    const basic = new ConvoyClient({ baseUrl, username, password, projectId });
    expect((await basic.endpoints.get(endpoint.uid)).uid).toBe(endpoint.uid);
    await basic.close();
  });

  it('the embedded engine delivers what Convoy delivers: same body bytes, same headers, both signatures verify', async () => {
    const secret = `parity-secret-${run}`;
    const viaConvoy = await client.endpoints.create({ name: `parity-${run}`, url: `${receiver.url}/parity-convoy`, secret });
    await client.subscriptions.create({ name: `parity-${run}-all`, endpoint_id: viaConvoy.uid });
    const moduleRef = await Test.createTestingModule({ imports: [ConvoyModule.forRoot({ embedded: { allowedAddresses: ['127.0.0.0/8'] } })] }).compile();
    const embedded = moduleRef.createNestApplication();
    await embedded.init();
    try {
      const local = await embedded.get(WebhookEndpoints).create({ name: 'parity', url: `${receiver.url}/parity-embedded`, secret });
      const data = { run, parity: true, text: 'héllo </script>' };
      await client.events.create({ endpoint_id: viaConvoy.uid, event_type: 'e2e.parity', data, idempotency_key: `${run}-parity` });
      await embedded.get(WebhookPublisher).publish('e2e.parity', data, { endpointId: local.uid, idempotencyKey: `${run}-parity` });
      const fromConvoy = await receiver.waitFor((w) => w.path === '/parity-convoy');
      const fromEmbedded = await receiver.waitFor((w) => w.path === '/parity-embedded');
      expect(fromEmbedded.raw.equals(fromConvoy.raw)).toBe(true);
      const names = (w: ReceivedWebhook) => Object.keys(w.headers).filter((h) => !['host', 'connection', 'content-length'].includes(h)).sort();
      expect(names(fromEmbedded)).toEqual(names(fromConvoy));
      for (const header of ['content-type', 'accept-encoding', 'x-convoy-idempotency-key']) expect(fromEmbedded.headers[header]).toBe(fromConvoy.headers[header]);
      expect(String(fromConvoy.headers['user-agent'])).toMatch(/^Convoy\//);
      expect(String(fromEmbedded.headers['user-agent'])).toMatch(/^Convoy\//);
      for (const w of [fromConvoy, fromEmbedded]) expect(verifyConvoySignature(w.raw, String(w.headers['x-convoy-signature']), { secret })).toEqual({ valid: true, timestamp: expect.any(Number) });
    } finally {
      await embedded.close();
      await client.endpoints.delete(viaConvoy.uid).catch(() => undefined);
    }
  });

  it('through the durable outbox (PGlite, with an ordering key): every event reaches the endpoint exactly once', async () => {
    const { PGliteStorage } = await import('../../lib/pglite/index.js');
    const storage = await PGliteStorage.create({});
    const outboxApp = await NestFactory.createApplicationContext(ConvoyModule.forRoot({ baseUrl, apiKey, projectId, storage, outbox: { pollIntervalMs: 100 } }), { logger: false });
    try {
      const publisher = outboxApp.get(WebhookPublisher);
      const keys: string[] = [];
      for (let i = 0; i < 20; i++) keys.push((await publisher.publish('e2e.outbox', { run, i }, { endpointId: endpoint.uid, orderingKey: `${run}-order` })).idempotencyKey);
      await eventually(async () => expect(receiver.received.filter((w) => keys.includes(String(w.headers['x-convoy-idempotency-key'])))).toHaveLength(20), 60_000);
      await new Promise((r) => setTimeout(r, 3_000)); // time for a duplicate delivery to show up, if there were one
      const got = receiver.received.filter((w) => keys.includes(String(w.headers['x-convoy-idempotency-key'])));
      expect(new Set(got.map((w) => w.headers['x-convoy-idempotency-key'])).size).toBe(20);
      expect(got).toHaveLength(20);
      expect((await publisher.stats()).pending).toBe(0);
    } finally {
      await outboxApp.close();
    }
  });

  describe('the sample app', () => {
    let app: INestApplication;
    let url: string;
    beforeAll(async () => ({ app, url } = await startSample({ CONVOY_API_KEY: apiKey!, CONVOY_PROJECT_ID: projectId!, CONVOY_URL: baseUrl! })));
    afterAll(async () => {
      await app?.close();
      clearSampleEnv();
    });

    it('POST /todos?endpoint= delivers todo.created, signed, to the endpoint', async () => {
      const created = await call(url, 'POST', `/todos?endpoint=${endpoint.uid}`, { title: `live ${run}` });
      expect(created.status).toBe(201);
      const hook = await receiver.waitFor((w) => (w.json as { title?: string })?.title === `live ${run}`);
      expect(hook.raw.toString('utf8')).toBe(JSON.stringify(created.body));
      expect(signedBy(hook, secrets())).toBe(true);
      expect(hook.headers['x-convoy-idempotency-key']).toMatch(/^[0-9a-f-]{36}$/);
    });

    it('a missing todo answers 404 and delivers todo.failure; broadcast reaches the subscribed endpoint', async () => {
      const missing = await call(url, 'GET', '/todos/424242');
      expect(missing.status).toBe(404);
      const failure = await receiver.waitFor((w) => (w.json as { id?: number })?.id === 424242);
      expect(failure.json).toEqual({ operation: 'retrieve', id: 424242, status: 404, error: 'Todo 424242 not found' });
    });

    it('manages endpoints through the sample routes', async () => {
      const created = await call(url, 'POST', '/endpoints', { name: `sample-${run}`, url: `${receiver.url}/sample` });
      expect(created.status).toBe(201);
      const id = created.body.uid;
      expect((await call(url, 'GET', `/endpoints/${id}`)).body.uid).toBe(id);
      expect((await call(url, 'PUT', `/endpoints/${id}`, { description: 'x' })).body.description).toBe('x');
      expect((await call(url, 'DELETE', `/endpoints/${id}`)).status).toBe(200);
      expect((await call(url, 'GET', `/endpoints/${id}`)).status).toBe(404);
    });

    it('shutdown sends what was buffered', async () => {
      const publisher = app.get(WebhookPublisher);
      const keys = await Promise.all([1, 2, 3, 4, 5].map(async (i) => (await publisher.publish('e2e.shutdown', { run, i }, { endpointId: endpoint.uid })).idempotencyKey));
      await app.close();
      app = undefined as unknown as INestApplication;
      for (const key of keys) {
        await eventually(async () => expect((await client.events.list({ idempotencyKey: key })).content).toHaveLength(1));
      }
    });
  });
});
