/**
 * Issue 10's numbered disagreements between the client and a real Convoy, each checked on what that Convoy answered
 * (the recorded corpus), through the library's own code: the HTTP layer, the client and WebhookEndpoints /
 * WebhookDeliveries. (3 and 4 are also covered name by name in query-params.spec.ts, 5 answer by answer in
 * corpus.spec.ts, 6 at startup in test/unit/module/project-check.spec.ts.)
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Logger } from '@nestjs/common';
import { ConvoyClient } from '../../lib/client/convoy.client.js';
import type { EventCountFilter, EventDeliveryListQuery } from '../../lib/client/convoy.types.js';
import { verifyProject } from '../../lib/client/project-check.js';
import { ConvoyConfigurationError } from '../../lib/errors/configuration.error.js';
import { ConvoyFeatureUnavailableError, ConvoyHttpError, InvalidRequestError } from '../../lib/errors/client.errors.js';
import { ConvoyWebhookDeliveries, ConvoyWebhookEndpoints } from '../../lib/transports/convoy/convoy-management.js';
import { recordingLogger, type LogLine } from '../support/recording-logger.js';
import { clientOver, envelope, exchange, exchangesOf, ReplayRequester } from './corpus.js';

describe('issue 10: the client agrees with the recorded Convoy', () => {
  const lines: LogLine[] = [];
  beforeEach(() => {
    lines.length = 0;
    Logger.overrideLogger(recordingLogger(lines));
  });
  afterEach(() => Logger.overrideLogger(false));

  it('1. event_types: reported as Convoy stored them (["*"] on a community Convoy), with a warning; get and list answer with the shape of create', async () => {
    const requester = new ReplayRequester({
      'POST /endpoints': 'endpoints.create',
      'POST /subscriptions': 'subscriptions.create with event_types',
      'GET /subscriptions': 'subscriptions.list endpointId',
      'GET /endpoints/{endpointID}': 'endpoints.get',
      'GET /endpoints': 'endpoints.list ownerId',
    });
    const endpoints = new ConvoyWebhookEndpoints(clientOver(requester));
    const asked = (
      exchange('subscriptions.create with event_types').request.body as { filter_config: { event_types: string[] } }
    ).filter_config.event_types;
    const created = await endpoints.create({ name: 'a', url: 'http://127.0.0.1:9/a', event_types: asked });
    expect(asked).toEqual(['conf.a']);
    expect(created.event_types).toEqual(['*']); // what Convoy stored, not what was asked
    expect(lines.filter((l) => l.level === 'warn').map((l) => l.message)).toEqual([
      expect.stringMatching(/\["conf\.a"\] were asked, but Convoy stored \["\*"\].*advanced_subscriptions/),
    ]);
    const got = await endpoints.get(created.uid);
    const [listed] = (await endpoints.list({ ownerId: created.owner_id })).content.filter((e) => e.uid === created.uid);
    for (const answer of [got, listed!]) {
      expect(Object.keys(answer).sort()).toEqual(Object.keys(created).sort());
      expect(answer).toMatchObject({ event_types: ['*'], signature_format: 'convoy' });
    }
  });

  it("2. update() keeps the fields it is not given (Convoy's PUT resets description and the rate limit), and replace() resets them", async () => {
    // What Convoy did with a PUT of name and url only: description "" and the 10/60 rate limit 0/0.
    const before = envelope(exchange('endpoints.get')).data as Record<string, unknown>;
    const after = envelope(exchange('endpoints.update name and url only (Convoy resets what is left out)'))
      .data as Record<string, unknown>;
    expect([before.description, before.rate_limit, before.rate_limit_duration]).toEqual(['endpoint a', 10, 60]);
    expect([after.description, after.rate_limit, after.rate_limit_duration]).toEqual(['', 0, 0]);

    const requester = new ReplayRequester({
      'GET /endpoints/{endpointID}': 'endpoints.get',
      'PUT /endpoints/{endpointID}': 'endpoints.update every field',
      'GET /subscriptions': 'subscriptions.list endpointId',
      'PUT /subscriptions/{subscriptionID}': 'subscriptions.update event_types',
    });
    const endpoints = new ConvoyWebhookEndpoints(clientOver(requester));
    await endpoints.update(String(before.uid), { name: 'renamed' });
    const put = requester.sent.find((r) => r.method === 'PUT')!;
    expect(put.body).toMatchObject({
      name: 'renamed',
      url: before.url,
      description: 'endpoint a',
      rate_limit: 10,
      rate_limit_duration: 60,
      owner_id: before.owner_id,
    });

    requester.sent.length = 0;
    await endpoints.replace(String(before.uid), { url: String(before.url), name: 'replaced' });
    const replaced = requester.sent.find((r) => r.method === 'PUT')!;
    expect(replaced.body).toMatchObject({ name: 'replaced', description: '', rate_limit: 0, rate_limit_duration: 0 });
  });

  it('3. the deliveries event-type filter is sent as eventType, which Convoy applies; event_type, which it ignores, is refused', async () => {
    expect(exchange('eventDeliveries.list eventType').honoured).toEqual(['eventType']);
    expect(exchange('eventDeliveries.list event_type').ignored).toEqual(['event_type']);
    const requester = new ReplayRequester({
      'GET /eventdeliveries': 'eventDeliveries.list eventType',
      'POST /eventdeliveries/batchretry': 'eventDeliveries.batchRetry eventType',
    });
    const deliveries = new ConvoyWebhookDeliveries(clientOver(requester));
    const page = await deliveries.list({ eventType: 'conf.a' });
    expect(new Set(page.content.map((d) => d.event_type))).toEqual(new Set(['conf.a']));
    await deliveries.batchRetry({ eventType: 'conf.fail2', status: ['Failure'] });
    expect(requester.sent.map((r) => Object.keys(r.query ?? {}))).toEqual([['eventType'], ['eventType', 'status']]);
    await expect(deliveries.list({ event_type: 'conf.a' } as EventDeliveryListQuery)).rejects.toBeInstanceOf(
      InvalidRequestError,
    );
    await expect(deliveries.batchRetry({ event_type: 'conf.a' } as EventDeliveryListQuery)).rejects.toMatchObject({
      parameter: 'event_type',
    });
    expect(requester.sent).toHaveLength(2);
  });

  it('4. countBatchReplay refuses idempotencyKey (Convoy counts without it) and query/body (Convoy answers 400)', async () => {
    const ignoredKey = exchange('events.countBatchReplay idempotencyKey');
    expect(ignoredKey.ignored).toEqual(['idempotencyKey']);
    expect(envelope(ignoredKey).data).toEqual(envelope(exchange('events.countBatchReplay')).data); // the same count as without it
    expect(
      exchangesOf('GET /events/countbatchreplayevents', 400).map((x) => x.request.query.map(([k]) => k).at(-1)),
    ).toEqual(['query', 'body']);
    expect(exchangesOf('POST /events/batchreplay', 400).map((x) => x.request.query.map(([k]) => k).at(-1))).toEqual([
      'query',
      'body',
    ]);
    const requester = new ReplayRequester({
      'GET /events/countbatchreplayevents': 'events.countBatchReplay endpointId',
    });
    const client = clientOver(requester);
    for (const filter of [{ idempotencyKey: 'k' }, { query: 'q' }, { body: '{}' }, { sourceId: ['s'] }]) {
      await expect(client.events.countBatchReplay(filter as EventCountFilter)).rejects.toMatchObject({
        parameter: Object.keys(filter)[0],
      });
    }
    expect(requester.sent).toEqual([]);
    expect(await client.events.countBatchReplay({ endpointId: ['x'] })).toBe(
      (envelope(exchange('events.countBatchReplay endpointId')).data as { num: number }).num,
    );
  });

  it('5. a failed attempt is recognisable: Convoy leaves `status` out, and `succeeded` is false', async () => {
    const failed = envelope(exchange('deliveryAttempts.list failed')).data as Array<Record<string, unknown>>;
    expect(failed.every((a) => !('status' in a))).toBe(true);
    const requester = new ReplayRequester({
      'GET /eventdeliveries/{eventDeliveryID}/deliveryattempts': 'deliveryAttempts.list failed',
    });
    const attempts = await new ConvoyWebhookDeliveries(clientOver(requester)).attempts('d1');
    expect(attempts.map((a) => [a.http_status, a.succeeded])).toEqual(failed.map((a) => [a.http_status, false]));
    const okRequester = new ReplayRequester({
      'GET /eventdeliveries/{eventDeliveryID}/deliveryattempts': 'deliveryAttempts.list',
    });
    expect((await new ConvoyWebhookDeliveries(clientOver(okRequester)).attempts('d1')).map((a) => a.succeeded)).toEqual(
      [true],
    );
  });

  it("6. a projectId that is not the key's project is caught: Convoy answers with the key's project", async () => {
    const answer = exchange('project.get another project id in the path (the key decides)');
    expect(answer.response.status).toBe(200);
    const keys = (envelope(answer).data as { uid: string }).uid;
    const bogus = clientOver(new ReplayRequester({ 'GET /': answer.name }), '01CONFORMANCEOTHERPROJECT0');
    const error = await verifyProject(bogus, 1000).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConvoyConfigurationError);
    expect(error).toMatchObject({ option: 'projectId' });
    expect((error as Error).message).toContain(`the API key belongs to project "${keys}"`);
    const right = clientOver(new ReplayRequester({ 'GET /': 'project.get' }), keys);
    await expect(verifyProject(right, 1000)).resolves.toMatchObject({ uid: keys, type: 'outgoing' });
  });

  describe('7. licence refusals become ConvoyFeatureUnavailableError; a wrong key stays ConvoyHttpError 401', () => {
    // Convoy's recorded answers, served over HTTP as they were, so the client's own HTTP layer reads them.
    let server: Server;
    let serving: string;
    beforeAll(async () => {
      server = createServer((req, res) => {
        const x = exchange(serving);
        res.writeHead(x.response.status, { 'content-type': 'application/json' }).end(JSON.stringify(x.response.body));
        req.resume();
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    const client = () =>
      new ConvoyClient({
        apiKey: 'CO.test',
        projectId: 'p1',
        baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`,
        retry: false,
      });
    const cases: Array<[string, (c: ConvoyClient) => Promise<unknown>, string | number]> = [
      ['portalLinks.create', (c) => c.portalLinks.create({ name: 'n', owner_id: 'o' }), 'portal_links'],
      ['portalLinks.list', (c) => c.portalLinks.list(), 'portal_links'],
      ['portalLinks.refreshToken', (c) => c.portalLinks.refreshToken('l1'), 'portal_links'],
      ['events.list query (search)', (c) => c.events.list({ query: 'conf' }), 'event_search'],
      ['events.list body (search)', (c) => c.events.list({ body: '{}' }), 'event_search'],
      [
        'subscriptions.testFilter',
        (c) => c.subscriptions.testFilter({ schema: {}, request: {} }),
        'advanced_subscriptions',
      ],
      ['endpoints.list wrong key', (c) => c.endpoints.list(), 401],
      ['project.get wrong key', (c) => c.project(), 401],
    ];
    for (const [name, call, expected] of cases) {
      it(`${name} → ${typeof expected === 'number' ? `ConvoyHttpError ${expected}` : `ConvoyFeatureUnavailableError ${expected}`}`, async () => {
        serving = name;
        const c = client();
        const error = await call(c).catch((e: unknown) => e);
        await c.close();
        if (typeof expected === 'number') {
          expect(error).toBeInstanceOf(ConvoyHttpError);
          expect(error).toMatchObject({ status: expected, convoyMessage: 'authorization failed' });
        } else {
          expect(error).toBeInstanceOf(ConvoyFeatureUnavailableError);
          expect(error).not.toBeInstanceOf(ConvoyHttpError);
          expect(error).toMatchObject({ feature: expected, status: exchange(name).response.status });
          expect((error as Error).message).toMatch(/needs a licensed Convoy.*Fix: /);
        }
      });
    }
  });
});
