/**
 * The e2e scenarios against a live Convoy. Opt-in: runs only when CONVOY_E2E_URL, CONVOY_E2E_API_KEY and
 * CONVOY_E2E_PROJECT_ID are set (the instance must be able to deliver to http://127.0.0.1, as a self-hosted
 * community instance does); otherwise every test is skipped (test.skip) and the reason printed. Optional:
 * CONVOY_E2E_BASIC_USER / CONVOY_E2E_BASIC_PASSWORD for a file-realm user, CONVOY_E2E_PAT / CONVOY_E2E_ORG_ID to
 * find another project of the organisation for the wrong-project check.
 * Every URL given to Convoy is on the suite's own receiver, on 127.0.0.1. Convoy delivers asynchronously (seconds),
 * so these tests wait for conditions, generously.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { jest } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { request } from 'undici';
import { NestFactory } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { Logger } from '@nestjs/common';
import { doctor } from '../../lib/cli/doctor.js';
import {
  ConvoyClient,
  ConvoyConfigurationError,
  ConvoyFeatureUnavailableError,
  ConvoyHttpError,
  ConvoyModule,
  defineWebhookEvents,
  WebhookDeliveries,
  WebhookEndpoints,
  WebhookPublisher,
  type EventDeliveryListQuery,
} from '../../lib/index.js';
import {
  InvalidRequestError,
  syncEventTypes,
  type ConvoyEndpoint,
  type EventCountFilter,
} from '../../lib/client/index.js';
import { todoEvents } from '../../sample/todos/todo.events.js';
import { verifyConvoySignature } from '../../lib/receiver/index.js';
import { describeErrors, validatorFor } from '../conformance/schemas.js';
import { recordingLogger, type LogLine } from '../support/recording-logger.js';
import { clearSampleEnv, startSample } from '../support/sample-app.js';
import { WebhookReceiver, type ReceivedWebhook } from '../support/webhook-receiver.js';
import { PortalVisitor, startPortalApp } from './portal-app.js';
import { DashboardClient, startDashboard } from './dashboard.support.js';

const { CONVOY_E2E_URL: baseUrl, CONVOY_E2E_API_KEY: apiKey, CONVOY_E2E_PROJECT_ID: projectId } = process.env;
const live = baseUrl && apiKey && projectId;
const describeLive = live ? describe : describe.skip;
if (!live) {
  // Visible in the run, so a skipped live suite is never mistaken for a passing one.
  console.info(
    'live-convoy.e2e-spec: skipped (set CONVOY_E2E_URL, CONVOY_E2E_API_KEY and CONVOY_E2E_PROJECT_ID to run against a real Convoy)',
  );
}

/** Checks Convoy's advanced signature `t=…,v1=…` over the raw body with one of the endpoint's secrets. */
function signedBy(webhook: ReceivedWebhook, secrets: string[]): boolean {
  const header = String(webhook.headers['x-convoy-signature'] ?? '');
  const parts = header.split(',').map((p) => p.split('='));
  const t = parts.find(([k]) => k === 't')?.[1];
  const signatures = parts.filter(([k]) => k?.startsWith('v')).map(([, v]) => v);
  return secrets.some((secret) =>
    signatures.includes(
      createHmac('sha256', secret)
        .update(`${t},${webhook.raw.toString('utf8')}`)
        .digest('hex'),
    ),
  );
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
  const response = await request(url + path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
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
    expect(endpoint).toMatchObject({
      name: `e2e-${run}`,
      owner_id: owner,
      status: 'active',
      advanced_signatures: true,
    });
    expect((await client.endpoints.get(endpoint.uid)).uid).toBe(endpoint.uid);
    const updated = await client.endpoints.update(endpoint.uid, {
      name: `e2e-${run}`,
      url: `${receiver.url}/hook`,
      description: 'updated',
    });
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
    await client.events.create({
      endpoint_id: endpoint.uid,
      event_type: 'e2e.direct',
      data,
      idempotency_key: `${run}-direct`,
    });
    await client.events.fanout({
      owner_id: owner,
      event_type: 'e2e.fanout',
      data: { ...data, n: 2 },
      idempotency_key: `${run}-fanout`,
    });
    await client.events.broadcast({
      event_type: 'e2e.broadcast',
      data: { ...data, n: 3 },
      idempotency_key: `${run}-broadcast`,
    });
    for (const n of [1, 2, 3]) {
      const hook = await receiver.waitFor(
        (w) => (w.json as { run?: string; n?: number })?.run === run && (w.json as { n: number }).n === n,
      );
      expect(hook.raw.toString('utf8')).toBe(JSON.stringify({ ...data, n }));
      expect(signedBy(hook, secrets())).toBe(true);
      expect(hook.headers['x-convoy-idempotency-key']).toBe(`${run}-${['direct', 'fanout', 'broadcast'][n - 1]}`);
    }
    const events = await eventually(async () => {
      const page = await client.events.list({ idempotencyKey: `${run}-direct` });
      expect(page.content.map((e) => e.event_type)).toEqual(['e2e.direct']);
      return page;
    });
    const deliveries = await client.eventDeliveries.list({
      endpointId: [endpoint.uid],
      eventId: events.content[0]!.uid,
    });
    expect(deliveries.content[0]).toMatchObject({ endpoint_id: endpoint.uid });
    const attempts = await client.deliveryAttempts.list(deliveries.content[0]!.uid);
    expect(attempts.length).toBeGreaterThan(0);
  });

  it('ConvoyClient: a repeated idempotency key is delivered once', async () => {
    const key = `${run}-dup`;
    await client.events.create({
      endpoint_id: endpoint.uid,
      event_type: 'e2e.dup',
      data: { run, dup: 1 },
      idempotency_key: key,
    });
    await client.events.create({
      endpoint_id: endpoint.uid,
      event_type: 'e2e.dup',
      data: { run, dup: 2 },
      idempotency_key: key,
    });
    await receiver.waitFor((w) => w.headers['x-convoy-idempotency-key'] === key);
    await new Promise((r) => setTimeout(r, 8_000)); // long enough for a second delivery to show up, if Convoy made one
    expect(receiver.received.filter((w) => w.headers['x-convoy-idempotency-key'] === key)).toHaveLength(1);
  });

  const { CONVOY_E2E_BASIC_USER: username, CONVOY_E2E_BASIC_PASSWORD: password } = process.env;
  if (!username || !password)
    console.info(
      'live-convoy.e2e-spec: the basic-auth test is skipped (set CONVOY_E2E_BASIC_USER and CONVOY_E2E_BASIC_PASSWORD to run it)',
    );
  (username && password ? it : it.skip)('ConvoyClient: basic auth of a file-realm user', async () => {
    const basic = new ConvoyClient({ baseUrl, username, password, projectId });
    expect((await basic.endpoints.get(endpoint.uid)).uid).toBe(endpoint.uid);
    await basic.close();
  });

  it('the embedded engine delivers what Convoy delivers: same body bytes, same headers, both signatures verify', async () => {
    const secret = `parity-secret-${run}`;
    const viaConvoy = await client.endpoints.create({
      name: `parity-${run}`,
      url: `${receiver.url}/parity-convoy`,
      secret,
    });
    await client.subscriptions.create({ name: `parity-${run}-all`, endpoint_id: viaConvoy.uid });
    const moduleRef = await Test.createTestingModule({
      imports: [ConvoyModule.forRoot({ embedded: { allowedAddresses: ['127.0.0.0/8'] } })],
    }).compile();
    const embedded = moduleRef.createNestApplication();
    await embedded.init();
    try {
      const local = await embedded
        .get(WebhookEndpoints)
        .create({ name: 'parity', url: `${receiver.url}/parity-embedded`, secret });
      const data = { run, parity: true, text: 'héllo </script>' };
      await client.events.create({
        endpoint_id: viaConvoy.uid,
        event_type: 'e2e.parity',
        data,
        idempotency_key: `${run}-parity`,
      });
      await embedded
        .get(WebhookPublisher)
        .publish('e2e.parity', data, { endpointId: local.uid, idempotencyKey: `${run}-parity` });
      const fromConvoy = await receiver.waitFor((w) => w.path === '/parity-convoy');
      const fromEmbedded = await receiver.waitFor((w) => w.path === '/parity-embedded');
      expect(fromEmbedded.raw.equals(fromConvoy.raw)).toBe(true);
      const names = (w: ReceivedWebhook) =>
        Object.keys(w.headers)
          .filter((h) => !['host', 'connection', 'content-length'].includes(h))
          .sort();
      expect(names(fromEmbedded)).toEqual(names(fromConvoy));
      for (const header of ['content-type', 'accept-encoding', 'x-convoy-idempotency-key'])
        expect(fromEmbedded.headers[header]).toBe(fromConvoy.headers[header]);
      expect(String(fromConvoy.headers['user-agent'])).toMatch(/^Convoy\//);
      expect(String(fromEmbedded.headers['user-agent'])).toMatch(/^Convoy\//);
      for (const w of [fromConvoy, fromEmbedded])
        expect(verifyConvoySignature(w.raw, String(w.headers['x-convoy-signature']), { secret })).toEqual({
          valid: true,
          timestamp: expect.any(Number),
        });
    } finally {
      await embedded.close();
      await client.endpoints.delete(viaConvoy.uid).catch(() => undefined);
    }
  });

  it('through the durable outbox (PGlite, with an ordering key): every event reaches the endpoint exactly once', async () => {
    const { PGliteStorage } = await import('../../lib/storage/pglite/index.js');
    const storage = await PGliteStorage.create({});
    const outboxApp = await NestFactory.createApplicationContext(
      ConvoyModule.forRoot({ convoy: { baseUrl, apiKey, projectId }, storage, delivery: { pollIntervalMs: 100 } }),
      { logger: false },
    );
    try {
      const publisher = outboxApp.get(WebhookPublisher);
      const keys: string[] = [];
      for (let i = 0; i < 20; i++)
        keys.push(
          (await publisher.publish('e2e.outbox', { run, i }, { endpointId: endpoint.uid, orderingKey: `${run}-order` }))
            .idempotencyKey,
        );
      await eventually(
        async () =>
          expect(
            receiver.received.filter((w) => keys.includes(String(w.headers['x-convoy-idempotency-key']))),
          ).toHaveLength(20),
        60_000,
      );
      await new Promise((r) => setTimeout(r, 3_000)); // time for a duplicate delivery to show up, if there were one
      const got = receiver.received.filter((w) => keys.includes(String(w.headers['x-convoy-idempotency-key'])));
      expect(new Set(got.map((w) => w.headers['x-convoy-idempotency-key'])).size).toBe(20);
      expect(got).toHaveLength(20);
      expect((await publisher.stats()).pending).toBe(0);
    } finally {
      await outboxApp.close();
    }
  });

  describe('issue 10: every route family agrees with the real Convoy', () => {
    const lines: LogLine[] = [];
    afterEach(() => Logger.overrideLogger(false)); // the tests' default: quiet

    /** Answers validate against the schemas derived from the client's declared types, as the recorded corpus does. */
    function expectDeclared(route: string, data: unknown): void {
      const validate = validatorFor(route);
      expect({ route, errors: validate(data ?? null) ? [] : describeErrors(validate) }).toEqual({ route, errors: [] });
    }

    it('1, 2: WebhookEndpoints on Convoy: event_types as Convoy stored them (with a warning), one shape for create/get/list, update keeps what it is not given, replace resets it', async () => {
      lines.length = 0;
      const app = await NestFactory.createApplicationContext(
        ConvoyModule.forRoot({ convoy: { baseUrl, apiKey, projectId } }),
        {
          logger: recordingLogger(lines),
        },
      );
      const endpoints = app.get(WebhookEndpoints);
      try {
        const created = await endpoints.create({
          name: `i10-${run}`,
          url: `${receiver.url}/i10`,
          owner_id: `${owner}-i10`,
          description: 'kept',
          rate_limit: 10,
          rate_limit_duration: 60,
          event_types: ['todo.created'],
        });
        try {
          // A community Convoy stores ["*"]: reported as stored, and said in a warning.
          const stored = (await client.subscriptions.list({ endpointId: [created.uid] })).content[0]!.filter_config
            .event_types;
          expect(created.event_types).toEqual(stored);
          if (stored.join() !== 'todo.created')
            expect(lines.some((l) => l.level === 'warn' && l.message.includes('were asked, but Convoy stored'))).toBe(
              true,
            );
          const got = await endpoints.get(created.uid);
          const [listed] = (await endpoints.list({ ownerId: `${owner}-i10` })).content;
          for (const answer of [got, listed!]) expect(Object.keys(answer).sort()).toEqual(Object.keys(created).sort());
          expect(got).toMatchObject({ event_types: stored, signature_format: 'convoy' });

          const renamed = await endpoints.update(created.uid, { name: `i10-${run}-renamed` });
          expect(renamed).toMatchObject({
            name: `i10-${run}-renamed`,
            description: 'kept',
            rate_limit: 10,
            rate_limit_duration: 60,
            owner_id: `${owner}-i10`,
          });
          expect(await client.endpoints.get(created.uid)).toMatchObject({
            description: 'kept',
            rate_limit: 10,
            rate_limit_duration: 60,
          });
          const replaced = await endpoints.replace(created.uid, { url: `${receiver.url}/i10`, name: `i10-${run}` });
          expect(replaced).toMatchObject({
            description: '',
            rate_limit: 0,
            rate_limit_duration: 0,
            event_types: ['*'],
          });
        } finally {
          await endpoints.delete(created.uid);
        }
      } finally {
        await app.close();
      }
    });

    it('3, 4, 5: deliveries filtered by eventType, counts and replays by what Convoy applies, failed attempts recognisable, answers as declared', async () => {
      // A receiver path that fails, with at_most_once so that the first failure is final (no retry schedule to wait for).
      const failing = await client.endpoints.create({ name: `i10-fail-${run}`, url: `${receiver.url}/fail-${run}` });
      await client.subscriptions.create({
        name: `i10-fail-${run}`,
        endpoint_id: failing.uid,
        delivery_mode: 'at_most_once',
      });
      const previous = receiver.respond;
      receiver.respond = (w) =>
        w.path === `/fail-${run}` ? { status: 500, body: '{"error":"scripted"}' } : previous?.(w);
      try {
        const keys = { a: `${run}-i10-a`, b: `${run}-i10-b`, fail: `${run}-i10-fail` };
        await client.events.create({
          endpoint_id: endpoint.uid,
          event_type: 'i10.a',
          data: { run, i10: 'a' },
          idempotency_key: keys.a,
        });
        await client.events.create({
          endpoint_id: endpoint.uid,
          event_type: 'i10.b',
          data: { run, i10: 'b' },
          idempotency_key: keys.b,
        });
        await client.events.create({
          endpoint_id: failing.uid,
          event_type: 'i10.fail',
          data: { run, i10: 'fail' },
          idempotency_key: keys.fail,
        });
        const since = new Date(Date.now() - 120_000);
        const settled = await eventually(async () => {
          const page = await client.eventDeliveries.list({
            endpointId: [endpoint.uid, failing.uid],
            startDate: since,
            perPage: 100,
          });
          const mine = page.content.filter((d) => Object.values(keys).includes(d.idempotency_key));
          expect(mine.map((d) => d.status).sort()).toEqual(['Failure', 'Success', 'Success']);
          return page;
        }, 60_000);
        expectDeclared('GET /eventdeliveries', settled);

        // 3: eventType is applied; event_type would be ignored by Convoy, so it is refused.
        const deliveries = await NestFactory.createApplicationContext(
          ConvoyModule.forRoot({ convoy: { baseUrl, apiKey, projectId } }),
          { logger: false },
        );
        try {
          const log = deliveries.get(WebhookDeliveries);
          const onlyA = await log.list({ eventType: 'i10.a', startDate: since, perPage: 100 });
          expect(onlyA.content.length).toBeGreaterThan(0);
          expect(new Set(onlyA.content.map((d) => d.event_type))).toEqual(new Set(['i10.a']));
          await expect(log.list({ event_type: 'i10.a' } as EventDeliveryListQuery)).rejects.toBeInstanceOf(
            InvalidRequestError,
          );

          // 5: the failed attempt has no `status`; `succeeded` says it.
          const failed = settled.content.find((d) => d.idempotency_key === keys.fail)!;
          const raw = await client.deliveryAttempts.list(failed.uid);
          expectDeclared('GET /eventdeliveries/{eventDeliveryID}/deliveryattempts', raw);
          expect(raw[0]).not.toHaveProperty('status');
          expect((await log.attempts(failed.uid)).map((a) => [a.http_status, a.succeeded])).toEqual([
            ['500 Internal Server Error', false],
          ]);
          const ok = settled.content.find((d) => d.idempotency_key === keys.a)!;
          expect((await log.attempts(ok.uid)).map((a) => a.succeeded)).toEqual([true]);
          const [okAttempt] = await client.deliveryAttempts.list(ok.uid);
          expectDeclared(
            'GET /eventdeliveries/{eventDeliveryID}/deliveryattempts/{deliveryAttemptID}',
            await client.deliveryAttempts.get(ok.uid, okAttempt!.uid),
          );
          expectDeclared('GET /eventdeliveries/{eventDeliveryID}', await client.eventDeliveries.get(failed.uid));

          // Resend (a Failure), force resend (a Success), batch retry by eventType.
          expectDeclared('PUT /eventdeliveries/{eventDeliveryID}/resend', await log.resend(failed.uid));
          expect((await client.eventDeliveries.forceResend([ok.uid])).message).toMatch(/^1 successful/);
          const batch = await log
            .batchRetry({ eventType: 'i10.fail', status: ['Failure'], startDate: since })
            .catch((e: unknown) => e);
          // One batch retry at a time per project: a 400 "active batch retry already exists" is Convoy's, not ours.
          if (batch instanceof Error) expect(String(batch.message)).toMatch(/active batch retry/);
          else expect(batch).toMatchObject({ message: expect.any(String) });
        } finally {
          await deliveries.close();
        }

        // 4: counts by endpoint and dates; idempotencyKey only where Convoy applies it (list, replay).
        const listed = await client.events.list({ endpointId: [failing.uid], startDate: since });
        expectDeclared('GET /events', listed);
        expect(await client.events.countBatchReplay({ endpointId: [failing.uid], startDate: since })).toBe(
          listed.content.length,
        );
        await expect(
          client.events.countBatchReplay({ idempotencyKey: keys.a } as EventCountFilter),
        ).rejects.toMatchObject({ parameter: 'idempotencyKey' });
        expect((await client.events.batchReplay({ idempotencyKey: keys.b, startDate: since })).message).toBe(
          '1 successful, 0 failed',
        );
        const event = (await client.events.list({ idempotencyKey: keys.a, startDate: since })).content[0]!;
        expectDeclared('GET /events/{eventID}', await client.events.get(event.uid));
        expectDeclared('PUT /events/{eventID}/replay', await client.events.replay(event.uid));
      } finally {
        receiver.respond = previous;
        await client.endpoints.delete(failing.uid).catch(() => undefined);
      }
    });

    it('the other route families: subscriptions, event types, meta events, dynamic events, pause/activate/expire_secret, the project', async () => {
      const extra = await client.endpoints.create({
        name: `i10-extra-${run}`,
        url: `${receiver.url}/extra`,
        owner_id: `${owner}-extra`,
      });
      try {
        expectDeclared('POST /endpoints', extra);
        const subscription = await client.subscriptions.create({ name: `i10-extra-${run}`, endpoint_id: extra.uid });
        expectDeclared('POST /subscriptions', subscription);
        expectDeclared('GET /subscriptions/{subscriptionID}', await client.subscriptions.get(subscription.uid));
        expectDeclared(
          'PUT /subscriptions/{subscriptionID}',
          await client.subscriptions.update(subscription.uid, { name: `i10-extra-${run}-2` }),
        );
        expectDeclared('GET /subscriptions', await client.subscriptions.list({ endpointId: [extra.uid] }));
        expectDeclared('PUT /endpoints/{endpointID}/pause', await client.endpoints.pause(extra.uid));
        expectDeclared('POST /endpoints/{endpointID}/activate', await client.endpoints.activate(extra.uid));
        expectDeclared(
          'PUT /endpoints/{endpointID}/expire_secret',
          await client.endpoints.expireSecret(extra.uid, { expiration: 60 }),
        );
        await client.subscriptions.delete(subscription.uid);
        const type = await client.eventTypes.create({
          name: `i10.type.${run}`,
          category: 'live',
          description: 'live suite',
        });
        expectDeclared('POST /event-types', type);
        expectDeclared(
          'PUT /event-types/{eventTypeId}',
          await client.eventTypes.update(type.uid, { description: 'updated', category: 'live' }),
        );
        expectDeclared('POST /event-types/{eventTypeId}/deprecate', await client.eventTypes.deprecate(type.uid));
        expectDeclared('GET /event-types', await client.eventTypes.list());
        expectDeclared('GET /meta-events', await client.metaEvents.list());
        expectDeclared('GET /', await client.project());
        await client.events.dynamic({
          url: `${receiver.url}/dynamic-${run}`,
          event_type: 'i10.dynamic',
          data: { run, dynamic: true },
        });
        await receiver.waitFor((w) => w.path === `/dynamic-${run}`);
      } finally {
        await client.endpoints.delete(extra.uid).catch(() => undefined);
        for await (const e of client.endpoints.iterate({ perPage: 100 }))
          if (e.url === `${receiver.url}/dynamic-${run}`) await client.endpoints.delete(e.uid);
      }
    });

    it("6: the startup check refuses a projectId that is not the key's project (a bogus one, and another real one)", async () => {
      const others = ['01BOGUSPROJECTID000000000X'];
      const { CONVOY_E2E_PAT: pat, CONVOY_E2E_ORG_ID: org } = process.env;
      if (pat && org) {
        // Another project of the organisation, if there is one (a user-level call: the PAT).
        const response = await request(`${baseUrl}/v1/projects?orgID=${org}`, {
          headers: { authorization: `Bearer ${pat}` },
        });
        const projects = ((await response.body.json()) as { data?: Array<{ uid: string }> }).data ?? [];
        others.push(...projects.map((p) => p.uid).filter((id) => id !== projectId));
      }
      for (const other of others) {
        const unchecked = new ConvoyClient({ baseUrl, apiKey, projectId: other });
        expect((await unchecked.project()).uid).toBe(projectId); // Convoy answers with the key's project
        await unchecked.close();
        const error = await NestFactory.createApplicationContext(
          ConvoyModule.forRoot({ convoy: { baseUrl, apiKey, projectId: other } }),
          { logger: false, abortOnError: false },
        ).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(ConvoyConfigurationError);
        expect((error as Error).message).toContain(`the API key belongs to project "${projectId}"`);
      }
      console.info(
        `live-convoy.e2e-spec: wrong-project check against ${others.length} ids (${others.length > 1 ? 'a bogus one and another real project' : 'a bogus one; no other project found'})`,
      );
      const app = await NestFactory.createApplicationContext(
        ConvoyModule.forRoot({ convoy: { baseUrl, apiKey, projectId } }),
        {
          logger: false,
        },
      );
      await app.close();
    });

    it('7: licensed features are ConvoyFeatureUnavailableError (or work, on a licensed Convoy); a wrong key is ConvoyHttpError 401', async () => {
      const feature = async (call: Promise<unknown>, name: string) => {
        const outcome = await call.then(
          () => 'available',
          (e: unknown) => e,
        );
        if (outcome !== 'available')
          expect(outcome).toMatchObject({ constructor: ConvoyFeatureUnavailableError, feature: name });
        return outcome === 'available';
      };
      const available = {
        portalLinks: await feature(client.portalLinks.list(), 'portal_links'),
        search: await feature(client.events.list({ query: run }), 'event_search'),
        filters: await feature(
          client.subscriptions.testFilter({ schema: { body: {} }, request: { body: {} } }),
          'advanced_subscriptions',
        ),
      };
      console.info(`live-convoy.e2e-spec: licensed features available: ${JSON.stringify(available)}`);
      const wrong = new ConvoyClient({ baseUrl, apiKey: 'CO.wrongwrongwrong0.wrongkey', projectId, retry: false });
      const error = await wrong.endpoints.list().catch((e: unknown) => e);
      await wrong.close();
      expect(error).toBeInstanceOf(ConvoyHttpError);
      expect(error).toMatchObject({ status: 401, convoyMessage: 'authorization failed' });
    });

    it('doctor: a correct report against this Convoy, exit 0; a wrong key and a wrong project exit 1', async () => {
      const env = { CONVOY_URL: baseUrl, CONVOY_API_KEY: apiKey, CONVOY_PROJECT_ID: projectId };
      const report: string[] = [];
      expect(await doctor(env, (line) => report.push(line))).toBe(0);
      console.info(`live-convoy.e2e-spec: doctor said\n${report.join('\n')}`);
      expect(report).toEqual(
        expect.arrayContaining([
          expect.stringMatching(
            /^✓ Convoy answers: Convoy v\d+\.\d+\.\d+ \(API version 2025-11-24, as the client pins\)$/,
          ),
          `✓ credentials accepted; they belong to project ${projectId} (${JSON.stringify((await client.project()).name)}), as configured`,
          expect.stringMatching(/^✓ project type: outgoing/),
          '✓ Publishing will work.',
        ]),
      );
      expect(await doctor({ ...env, CONVOY_API_KEY: 'CO.wrongwrongwrong0.wrongkey' }, () => undefined)).toBe(1);
      expect(await doctor({ ...env, CONVOY_PROJECT_ID: '01BOGUSPROJECTID000000000X' }, () => undefined)).toBe(1);
    });
  });

  it("portal.link() on a community Convoy (portal links refused) gives this module's portal, scoped to the owner", async () => {
    const portalApp = await startPortalApp({ convoy: { baseUrl, apiKey, projectId } });
    try {
      const link = await portalApp.portal.link(owner, { expiresInMs: 300_000 });
      expect(link.provider).toBe('app');
      const visitor = new PortalVisitor(portalApp.origin);
      expect((await visitor.open(link.url)).status).toBe(200);
      const mine = await visitor.get('/webhooks/portal');
      expect(mine.status).toBe(200);
      expect(mine.text).toContain(endpoint.uid);
      // Another owner's portal lists nothing of this owner, and answers 404 for its endpoint.
      const other = new PortalVisitor(portalApp.origin);
      await other.open((await portalApp.portal.link(`${owner}-other`, { expiresInMs: 300_000 })).url);
      expect((await other.get('/webhooks/portal')).text).not.toContain(endpoint.uid);
      expect((await other.get(`/webhooks/portal/endpoints/${endpoint.uid}`)).status).toBe(404);
    } finally {
      await portalApp.close();
    }
  });

  it("the operator dashboard's pages read the real Convoy: the endpoint, its deliveries and attempts, health", async () => {
    const dashboard = await startDashboard({ convoy: { baseUrl, apiKey, projectId } });
    try {
      const browser = new DashboardClient(dashboard.base);
      const list = await browser.get(`/endpoints?owner=${owner}`);
      expect(list.status).toBe(200);
      expect(list.text).toContain(endpoint.uid);
      const page = await browser.get(`/endpoints/${endpoint.uid}`);
      expect(page.status).toBe(200);
      for (const { value } of endpoint.secrets) expect(page.text).not.toContain(value);
      const deliveries = await browser.get(`/deliveries?endpoint=${endpoint.uid}`);
      expect(deliveries.status).toBe(200);
      const [delivery] = (await client.eventDeliveries.list({ endpointId: [endpoint.uid], perPage: 1 })).content;
      expect(delivery).toBeDefined();
      expect(deliveries.text).toContain(delivery!.uid);
      expect((await browser.get(`/deliveries/${delivery!.uid}`)).status).toBe(200);
      expect((await browser.get('/health')).status).toBe(200);
    } finally {
      await dashboard.close();
    }
  });

  it("syncEventTypes: the sample's zod schemas are accepted, changes are applied, a dropped type is deprecated, a second run changes nothing", async () => {
    // The project's other event types are kept in the catalog as Convoy has them, so that only this run's change.
    const existing = (await client.eventTypes.list()).filter((t) => t.name !== '*' && !t.deprecated_at);
    const theirs = Object.fromEntries(
      existing.map((t) => [
        t.name,
        {
          schema: t.json_schema ?? {},
          ...(t.description ? { description: t.description } : {}),
          ...(t.category ? { category: t.category } : {}),
        },
      ]),
    );
    const ours = Object.fromEntries(
      Object.entries(todoEvents.events).map(([name, definition]) => [`live.${run}.${name}`, definition]),
    );
    const first = await syncEventTypes(client, defineWebhookEvents({ ...theirs, ...ours }));
    // A type created without a schema has null in Convoy; the catalog above gives it {}: the one update allowed.
    const schemaless = existing.filter((t) => t.json_schema === null).map((t) => t.name);
    expect(first).toMatchObject({ created: Object.keys(ours), deprecated: [] });
    expect(first.updated.sort()).toEqual(schemaless.sort());
    expect(first.unchanged.sort()).toEqual(
      Object.keys(theirs)
        .filter((n) => !schemaless.includes(n))
        .sort(),
    );
    const again = await syncEventTypes(client, defineWebhookEvents({ ...theirs, ...ours }));
    expect(again).toMatchObject({ created: [], updated: [], deprecated: [] });

    const [dropped, changed, ...kept] = Object.keys(ours);
    const second = defineWebhookEvents({
      ...theirs,
      [changed!]: { ...ours[changed!]!, description: 'Changed by the live suite.' },
      ...Object.fromEntries(kept.map((name) => [name, ours[name]!])),
    });
    expect(await syncEventTypes(client, second)).toMatchObject({
      created: [],
      updated: [changed],
      deprecated: [dropped],
      changes: { [changed!]: ['description'] },
    });
    expect((await client.eventTypes.list()).find((t) => t.name === dropped)?.deprecated_at).toEqual(expect.any(String));
    expect(await syncEventTypes(client, second)).toMatchObject({ created: [], updated: [], deprecated: [] });
    // Clean up: this run's types are deprecated (Convoy cannot delete them).
    for (const t of await client.eventTypes.list())
      if (t.name.startsWith(`live.${run}.`) && !t.deprecated_at) await client.eventTypes.deprecate(t.uid);
  });

  describe('the sample app', () => {
    let app: INestApplication;
    let url: string;
    beforeAll(
      async () =>
        ({ app, url } = await startSample({
          CONVOY_API_KEY: apiKey!,
          CONVOY_PROJECT_ID: projectId!,
          CONVOY_URL: baseUrl!,
        })),
    );
    afterAll(async () => {
      await app?.close();
      clearSampleEnv();
    });

    it('POST /todos?endpoint= delivers todo.created, signed, to the endpoint', async () => {
      const created = await call(url, 'POST', `/todos?endpoint=${endpoint.uid}`, { item: `live ${run}` });
      expect(created.status).toBe(201);
      const hook = await receiver.waitFor((w) => (w.json as { item?: string })?.item === `live ${run}`);
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
      const keys = await Promise.all(
        [1, 2, 3, 4, 5].map(
          async (i) =>
            // `ping`: the sample registers its catalog, so the event type and payload must be one of it.
            (await publisher.publish('ping', { message: `${run}-${i}` }, { endpointId: endpoint.uid })).idempotencyKey,
        ),
      );
      await app.close();
      app = undefined as unknown as INestApplication;
      for (const key of keys) {
        await eventually(async () =>
          expect((await client.events.list({ idempotencyKey: key })).content).toHaveLength(1),
        );
      }
    });
  });
});
