import { Body, Controller, Logger, Post, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { request } from 'undici';
import {
  ConvoyModule,
  EmitsWebhook,
  WebhookEndpoints,
  WebhookPublisher,
  type ConvoyModuleOptions,
} from '../../lib/index.js';
import { PGlite } from '@electric-sql/pglite';
import { PGliteStorage } from '../../lib/storage/pglite/index.js';
import { FakeConvoy } from '../support/fake-convoy.js';
import { LOOPBACK } from '../support/embedded-app.js';
import { InMemoryOtel, linkedTo, parentOf, serverSpans, spanId, traceId } from '../support/otel.js';
import { waitUntil } from '../support/wait.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';

/**
 * OpenTelemetry from the HTTP request to the receiver, with the SDK's in-memory exporters: one real request to a Nest
 * app makes a trace whose spans cover publish, store, claim and the attempt, with the right parents and links, on the
 * embedded engine and on the Convoy transport (the fake Convoy); the receiver (or Convoy's custom headers) gets the
 * attempt's `traceparent`, unless propagation is off; the metrics count what happened.
 */

@Controller('todos')
class TodosController {
  @Post()
  @EmitsWebhook('todo.created')
  create(@Body() body: { item: string }) {
    return { id: 1, item: body.item };
  }
}

const W3C = /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/;

describe('OpenTelemetry', () => {
  let otel: InMemoryOtel;
  let app: INestApplication | undefined;
  let receiver: WebhookReceiver | undefined;
  let fake: FakeConvoy | undefined;

  beforeAll(() => {
    Logger.overrideLogger(false);
    otel = InMemoryOtel.register();
  });
  afterAll(async () => {
    await otel.unregister();
    Logger.overrideLogger(['log', 'error', 'warn']);
  });
  beforeEach(() => otel.spans.reset());
  afterEach(async () => {
    await app?.close();
    await receiver?.close();
    await fake?.close();
    app = receiver = fake = undefined;
  });

  async function startApp(options: ConvoyModuleOptions): Promise<string> {
    const moduleRef = await Test.createTestingModule({
      imports: [ConvoyModule.forRoot(options)],
      controllers: [TodosController],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    app.use(serverSpans); // what the HTTP instrumentation does: the request runs in a SERVER span
    await app.listen(0, '127.0.0.1');
    return (await app.getUrl()).replace('[::1]', '127.0.0.1');
  }

  async function postTodo(url: string): Promise<void> {
    const response = await request(`${url}/todos`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ item: 'trace me' }),
    });
    expect(response.statusCode).toBe(201);
    await response.body.dump();
  }

  /** The request's server span, its publish and store spans, checked; returns the publish span. */
  function requestTrace() {
    const server = otel.one('POST /todos');
    const publish = otel.one('publish todo.created');
    const store = otel.one('store todo.created');
    expect(parentOf(server)).toBeUndefined();
    expect(parentOf(publish)).toBe(spanId(server));
    expect(traceId(publish)).toBe(traceId(server));
    expect(publish.kind).toBe(3); // PRODUCER
    expect(publish.attributes).toMatchObject({
      'messaging.system': 'nestjs-convoy',
      'messaging.operation.name': 'publish',
      'messaging.destination.name': 'todo.created',
      'webhook.target': 'broadcast',
    });
    expect(publish.attributes['webhook.idempotency_key']).toEqual(publish.attributes['messaging.message.id']);
    expect(parentOf(store)).toBe(spanId(publish));
    expect(store.attributes).toMatchObject({ 'messaging.operation.name': 'store', 'webhook.durable': false });
    return publish;
  }

  describe('embedded engine', () => {
    async function embeddedApp(extra: Partial<ConvoyModuleOptions> = {}): Promise<string> {
      receiver = await WebhookReceiver.start();
      const url = await startApp({
        embedded: { allowedAddresses: LOOPBACK },
        delivery: { retry: { strategy: 'linear', delayMs: 0, attempts: 3 } },
        ...extra,
      });
      await app!
        .get(WebhookEndpoints)
        .create({ name: 'r', url: `${receiver.url}/hook?token=s3cret`, secret: 'x'.repeat(16) });
      return url;
    }

    it('one request: publish (child of the request span), store, claim (parent and link: the publish span) and the POST, whose traceparent the receiver gets', async () => {
      const url = await embeddedApp();
      await postTodo(url);
      await waitUntil('the receiver got the webhook', () => receiver!.received.length === 1);
      await waitUntil('the claim span ended', () => otel.finished().some((s) => s.name === 'claim todo.created'));

      const publish = requestTrace();
      const claim = otel.one('claim todo.created');
      const deliver = otel.one('deliver todo.created');
      expect(traceId(claim)).toBe(traceId(publish)); // one trace, from the request to the receiver
      expect(parentOf(claim)).toBe(spanId(publish));
      expect(linkedTo(claim)).toEqual([spanId(publish)]);
      expect(claim.kind).toBe(4); // CONSUMER
      expect(claim.attributes).toMatchObject({
        'webhook.attempt': 1,
        'webhook.outcome': 'success',
        'webhook.route': 'embedded',
      });

      expect(parentOf(deliver)).toBe(spanId(claim));
      expect(linkedTo(deliver)).toEqual([spanId(publish)]);
      expect(deliver.kind).toBe(2); // CLIENT
      const endpointId = (await app!.get(WebhookEndpoints).list()).content[0]!.uid;
      expect(deliver.attributes).toMatchObject({
        'http.request.method': 'POST',
        'http.response.status_code': 200,
        'server.address': '127.0.0.1',
        'server.port': Number(new URL(receiver!.url).port),
        'messaging.destination.name': 'todo.created',
        'webhook.endpoint_id': endpointId,
        'webhook.idempotency_key': publish.attributes['webhook.idempotency_key'],
      });
      // The query (a token) never reaches the span.
      expect(deliver.attributes['url.full']).toBe(`${receiver!.url}/hook?***`);
      expect(deliver.status.code).not.toBe(2);

      // The receiver's spans would be children of the attempt.
      const sent = receiver!.received[0]!.headers.traceparent;
      expect(sent).toMatch(W3C);
      expect(sent).toBe(`00-${traceId(deliver)}-${spanId(deliver)}-01`);

      expect(await otel.total('webhooks.published')).toBeGreaterThanOrEqual(1);
      expect(await otel.unit('webhooks.delivery.duration')).toBe('s');
      expect(await otel.unit('webhooks.published')).toBe('{event}');
    });

    it('a failed attempt is an error span and a retry; the next attempt links to the same publish span', async () => {
      const url = await embeddedApp();
      const before = {
        retries: await otel.total('webhooks.retries'),
        delivered: await otel.total('webhooks.delivered'),
        lag: await otel.total('webhooks.queue.lag'),
        duration: await otel.total('webhooks.delivery.duration'),
      };
      receiver!.respond = (r) => (r.index === 0 ? { status: 503 } : undefined);
      await postTodo(url);
      await waitUntil('two attempts arrived', () => receiver!.received.length === 2);
      await waitUntil(
        'both claims ended',
        () => otel.finished().filter((s) => s.name === 'claim todo.created').length === 2,
      );

      const publish = otel.one('publish todo.created');
      const [first, second] = otel
        .finished()
        .filter((s) => s.name === 'deliver todo.created')
        .sort((a, b) => Number(a.attributes['webhook.attempt']) - Number(b.attributes['webhook.attempt']));
      expect(first!.status.code).toBe(2); // ERROR
      expect(first!.attributes).toMatchObject({
        'http.response.status_code': 503,
        'error.type': '503',
        'webhook.attempt': 1,
      });
      expect(second!.attributes).toMatchObject({ 'http.response.status_code': 200, 'webhook.attempt': 2 });
      for (const attempt of [first!, second!]) expect(linkedTo(attempt)).toEqual([spanId(publish)]);
      const failedClaim = otel.one('claim todo.created', (s) => s.attributes['webhook.attempt'] === 1);
      expect(failedClaim.status.code).toBe(2);
      expect(failedClaim.attributes['webhook.outcome']).toBe('retry');
      // Each attempt sent its own span's context.
      expect(receiver!.received.map((r) => r.headers.traceparent)).toEqual([
        `00-${traceId(first!)}-${spanId(first!)}-01`,
        `00-${traceId(second!)}-${spanId(second!)}-01`,
      ]);

      expect((await otel.total('webhooks.retries')) - before.retries).toBe(1);
      expect((await otel.total('webhooks.delivered')) - before.delivered).toBe(1);
      expect((await otel.total('webhooks.queue.lag')) - before.lag).toBe(1); // first attempts only
      expect((await otel.total('webhooks.delivery.duration')) - before.duration).toBe(2);
    });

    it('a delivery that fails for good counts as failed', async () => {
      const url = await embeddedApp({ delivery: { retry: { strategy: 'linear', delayMs: 0, attempts: 1 } } });
      const before = await otel.total('webhooks.failed');
      receiver!.status = 500;
      await postTodo(url);
      await waitUntil('the claim span ended', () => otel.finished().some((s) => s.name === 'claim todo.created'));
      await waitUntil('failed was counted', async () => (await otel.total('webhooks.failed')) - before === 1);
      expect(otel.one('claim todo.created').status.code).toBe(2);
    });

    it('telemetry.propagate: false sends no traceparent, and spans are still made', async () => {
      const url = await embeddedApp({ telemetry: { propagate: false } });
      await postTodo(url);
      await waitUntil('the receiver got the webhook', () => receiver!.received.length === 1);
      await waitUntil('the claim span ended', () => otel.finished().some((s) => s.name === 'claim todo.created'));
      expect(receiver!.received[0]!.headers.traceparent).toBeUndefined();
      expect(receiver!.received[0]!.headers.tracestate).toBeUndefined();
      expect(otel.one('deliver todo.created').attributes['http.response.status_code']).toBe(200);
    });

    it("a traceparent the publisher set as a header is the receiver's, not replaced", async () => {
      await embeddedApp();
      const own = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
      await app!.get(WebhookPublisher).publish('todo.created', { id: 2 }, { headers: { TraceParent: own } });
      await waitUntil('the receiver got the webhook', () => receiver!.received.length === 1);
      expect(receiver!.received[0]!.headers.traceparent).toBe(own);
    });

    it('telemetry: false makes no span and sends no traceparent', async () => {
      const url = await embeddedApp({ telemetry: false });
      await postTodo(url);
      await waitUntil('the receiver got the webhook', () => receiver!.received.length === 1);
      await app!.get(WebhookPublisher).flush();
      expect(otel.finished().map((s) => s.name)).toEqual(['POST /todos']);
      expect(receiver!.received[0]!.headers.traceparent).toBeUndefined();
    });
  });

  describe('Convoy transport (the fake Convoy)', () => {
    async function convoyApp(extra: Partial<ConvoyModuleOptions> = {}): Promise<string> {
      fake = await FakeConvoy.start();
      return startApp({ convoy: fake.clientOptions, ...extra });
    }

    const broadcasts = () => fake!.requests.filter((r) => r.method === 'POST' && r.route === '/events/broadcast');

    it('one request: publish, store, claim and the send to Convoy, whose custom headers carry its traceparent', async () => {
      const url = await convoyApp();
      await postTodo(url);
      await app!.get(WebhookPublisher).flush();
      await waitUntil('the claim span ended', () => otel.finished().some((s) => s.name === 'claim todo.created'));

      const publish = requestTrace();
      const claim = otel.one('claim todo.created');
      const send = otel.one('send todo.created');
      expect(parentOf(claim)).toBe(spanId(publish));
      expect(linkedTo(claim)).toEqual([spanId(publish)]);
      expect(claim.attributes).toMatchObject({ 'webhook.route': 'convoy', 'webhook.outcome': 'success' });
      expect(parentOf(send)).toBe(spanId(claim));
      expect(linkedTo(send)).toEqual([spanId(publish)]);
      expect(traceId(send)).toBe(traceId(publish));
      expect(send.kind).toBe(2);
      expect(send.attributes).toMatchObject({
        'messaging.system': 'convoy',
        'messaging.destination.name': 'todo.created',
        'http.request.method': 'POST',
        'url.full': `${fake!.url}/v1/projects/${fake!.projectId}/events/broadcast`,
        'server.address': '127.0.0.1',
        'http.response.status_code': 201,
      });

      const [sent] = broadcasts();
      const body = JSON.parse(sent!.rawBody) as { custom_headers?: Record<string, string> };
      expect(body.custom_headers?.traceparent).toBe(`00-${traceId(send)}-${spanId(send)}-01`);
    });

    it('a refused send is an error span with Convoy’s status', async () => {
      const url = await convoyApp({ delivery: { retry: { attempts: 1 } } });
      fake!.failNextWhen((r) => r.route === '/events/broadcast', {
        status: 400,
        body: { status: false, message: 'bad' },
      });
      await postTodo(url);
      await waitUntil('the send span ended', () => otel.finished().some((s) => s.name === 'send todo.created'));
      const send = otel.one('send todo.created');
      expect(send.status.code).toBe(2);
      expect(send.attributes).toMatchObject({ 'http.response.status_code': 400, 'error.type': '400' });
    });

    it('publishInTransaction on PGlite: the store span says so, and the claim after the commit links to the publish span', async () => {
      const db = await PGlite.create();
      try {
        await convoyApp({ storage: await PGliteStorage.create({ pglite: db }) });
        const publisher = app!.get(WebhookPublisher);
        await db.transaction((tx) => publisher.publishInTransaction(tx, 'todo.created', { id: 3 }));
        await publisher.flush();
        await waitUntil('the claim span ended', () => otel.finished().some((s) => s.name === 'claim todo.created'));
        const publish = otel.one('publish todo.created');
        expect(otel.one('store todo.created').attributes).toMatchObject({
          'webhook.durable': true,
          'webhook.in_transaction': true,
        });
        const claim = otel.one('claim todo.created');
        expect(parentOf(claim)).toBe(spanId(publish));
        expect(linkedTo(claim)).toEqual([spanId(publish)]);
        const body = JSON.parse(broadcasts()[0]!.rawBody) as { custom_headers?: Record<string, string> };
        expect(body.custom_headers?.traceparent).toMatch(new RegExp(`^00-${traceId(publish)}-`));
      } finally {
        await app?.close();
        app = undefined;
        await db.close();
      }
    });

    it('propagate: false leaves the custom headers alone', async () => {
      const url = await convoyApp({ telemetry: { propagate: false } });
      await postTodo(url);
      await app!.get(WebhookPublisher).flush();
      const body = JSON.parse(broadcasts()[0]!.rawBody) as { custom_headers?: Record<string, string> };
      expect(body.custom_headers).toBeUndefined();
    });
  });
});
