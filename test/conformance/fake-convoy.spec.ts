/**
 * The fake Convoy answers as the recorded real one: each answer it gives must (1) validate against the schema of the
 * route's declared type and (2) have the very fields, at every level, of an answer the real Convoy gave on that
 * route (lists compared item by item). Its refusals use the recorded statuses and words. So the rest of the suite,
 * which runs against the fake, tests against what Convoy really sends.
 */
import { request } from 'undici';
import { FakeConvoy } from '../support/fake-convoy.js';
import { envelope, exchangesOf } from './corpus.js';
import { describeErrors, validatorFor } from './schemas.js';

/** Maps whose keys are data, not fields: compared as present, not descended into. */
const FREE_FORM = new Set([
  'data',
  'headers',
  'json_schema',
  'request_http_header',
  'response_http_header',
  'body',
  'query',
  'path',
  'config',
]);

/** The field paths of a value, e.g. "secrets[].uid"; arrays merge their items. */
function fieldPaths(value: unknown, prefix = '', out = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const item of value) fieldPaths(item, `${prefix}[]`, out);
  else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      const path = prefix ? `${prefix}.${key}` : key;
      out.add(path);
      if (!FREE_FORM.has(key)) fieldPaths(item, path, out);
    }
  }
  return out;
}

/** What to compare: each item of a page or an array, the pagination, or the object itself. */
function units(data: unknown): unknown[] {
  if (Array.isArray(data)) return data;
  if (data && typeof data === 'object' && 'content' in data && 'pagination' in data) {
    const page = data as { content: unknown[]; pagination: unknown };
    return [...page.content, { pagination: page.pagination }];
  }
  return [data];
}

const key = (paths: Set<string>): string => [...paths].sort().join(' ');

describe('the fake Convoy answers with the recorded shapes', () => {
  let fake: FakeConvoy;
  const answers: Array<{ route: string; status: number; body: { status: boolean; message: string; data?: unknown } }> =
    [];

  async function call(
    route: string,
    params: Record<string, string> = {},
    options: { query?: string; body?: unknown } = {},
  ): Promise<any> {
    const [method, template] = route.split(' ') as [string, string];
    const path = template === '/' ? '' : template.replace(/\{(\w+)\}/g, (_, k: string) => params[k]!);
    const response = await request(`${fake.url}/v1/projects/${fake.projectId}${path}${options.query ?? ''}`, {
      method: method as 'GET',
      headers: {
        authorization: `Bearer ${fake.apiKey}`,
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    const body = (await response.body.json()) as { status: boolean; message: string; data?: unknown };
    answers.push({ route, status: response.statusCode, body });
    return body.data;
  }

  beforeAll(async () => {
    fake = await FakeConvoy.start();
    const hook = 'http://127.0.0.1:9/hook';
    await call('GET /');
    const a = await call(
      'POST /endpoints',
      {},
      { body: { name: 'a', url: hook, owner_id: 'x', description: 'd', rate_limit: 10, rate_limit_duration: 60 } },
    );
    const b = await call(
      'POST /endpoints',
      {},
      {
        body: {
          name: 'b',
          url: `${hook}/b`,
          owner_id: 'y',
          authentication: { type: 'api_key', api_key: { header_name: 'X-Key', header_value: 'v' } },
        },
      },
    );
    const d = await call('POST /endpoints', {}, { body: { name: 'd', url: `${hook}/d` } });
    await call('GET /endpoints/{endpointID}', { endpointID: a.uid });
    await call('GET /endpoints/{endpointID}', { endpointID: b.uid });
    await call('GET /endpoints', {}, { query: '?perPage=2&ownerId=x' });
    await call('PUT /endpoints/{endpointID}', { endpointID: a.uid }, { body: { name: 'a', url: hook } });
    await call('PUT /endpoints/{endpointID}/pause', { endpointID: d.uid });
    await call('POST /endpoints/{endpointID}/activate', { endpointID: d.uid });
    await call('PUT /endpoints/{endpointID}/expire_secret', { endpointID: d.uid }, { body: { expiration: 60 } });
    const sub = await call(
      'POST /subscriptions',
      {},
      { body: { name: 'a', endpoint_id: a.uid, filter_config: { event_types: ['x.y'] } } },
    );
    await call('POST /subscriptions', {}, { body: { name: 'b', endpoint_id: b.uid } });
    await call('GET /subscriptions/{subscriptionID}', { subscriptionID: sub.uid });
    await call('GET /subscriptions', {}, { query: `?endpointId=${a.uid}` });
    await call(
      'PUT /subscriptions/{subscriptionID}',
      { subscriptionID: sub.uid },
      { body: { filter_config: { event_types: ['x.z'] } } },
    );
    await call('POST /subscriptions/test_filter', {}, { body: { schema: { body: {} }, request: { body: {} } } });
    await call(
      'POST /events',
      {},
      {
        body: {
          endpoint_id: a.uid,
          event_type: 'x.y',
          data: { n: 1 },
          idempotency_key: 'k1',
          custom_headers: { 'X-A': '1' },
        },
      },
    );
    await call('POST /events', {}, { body: { endpoint_id: b.uid, event_type: 'x.z', data: { n: 2 } } });
    await call('POST /events/fanout', {}, { body: { owner_id: 'x', event_type: 'x.f', data: { n: 3 } } });
    await call('POST /events/fanout', {}, { body: { owner_id: 'nobody', event_type: 'x.f', data: { n: 4 } } });
    await call('POST /events/broadcast', {}, { body: { event_type: 'x.b', data: { n: 5 } } });
    await call('POST /events/dynamic', {}, { body: { url: `${hook}/dyn`, event_type: 'x.d', data: { n: 6 } } });
    const events = (await call('GET /events', {}, { query: '?perPage=100' })).content;
    await call('GET /events', {}, { query: '?query=x' });
    await call('GET /events/{eventID}', { eventID: events[0].uid });
    await call('PUT /events/{eventID}/replay', { eventID: events[0].uid });
    await call('GET /events/countbatchreplayevents', {}, { query: `?endpointId=${a.uid}` });
    await call('GET /events/countbatchreplayevents', {}, { query: '?query=x' });
    await call('POST /events/batchreplay', {}, { query: '?idempotencyKey=k1' });
    await call('POST /events/batchreplay', {}, { query: '?body=%7B%7D' });
    const deliveries = (await call('GET /eventdeliveries', {}, { query: '?perPage=100' })).content;
    // Endpoint a's deliveries, as the recorder's were to endpoints with an owner.
    const [ok, failed] = (deliveries as Array<{ uid: string; endpoint_id: string }>).filter(
      (x) => x.endpoint_id === a.uid,
    );
    fake.failDelivery(failed!.uid);
    await call('GET /eventdeliveries', {}, { query: '?status=Failure' });
    await call('GET /eventdeliveries/{eventDeliveryID}', { eventDeliveryID: ok!.uid });
    await call('GET /eventdeliveries/{eventDeliveryID}', { eventDeliveryID: failed!.uid });
    const okAttempts = await call('GET /eventdeliveries/{eventDeliveryID}/deliveryattempts', {
      eventDeliveryID: ok!.uid,
    });
    const failedAttempts = await call('GET /eventdeliveries/{eventDeliveryID}/deliveryattempts', {
      eventDeliveryID: failed!.uid,
    });
    await call('GET /eventdeliveries/{eventDeliveryID}/deliveryattempts/{deliveryAttemptID}', {
      eventDeliveryID: ok!.uid,
      deliveryAttemptID: okAttempts[0].uid,
    });
    await call('GET /eventdeliveries/{eventDeliveryID}/deliveryattempts/{deliveryAttemptID}', {
      eventDeliveryID: failed!.uid,
      deliveryAttemptID: failedAttempts[0].uid,
    });
    await call('PUT /eventdeliveries/{eventDeliveryID}/resend', { eventDeliveryID: ok!.uid });
    await call('PUT /eventdeliveries/{eventDeliveryID}/resend', { eventDeliveryID: failed!.uid });
    await call('POST /eventdeliveries/forceresend', {}, { body: { ids: [ok!.uid] } });
    await call('POST /eventdeliveries/batchretry', {}, { query: '?eventType=x.y' });
    await call('POST /portal-links', {}, { body: { name: 'p', owner_id: 'x' } });
    await call('GET /portal-links');
    const type = await call(
      'POST /event-types',
      {},
      { body: { name: 'x.y', category: 'c', description: 'd', json_schema: { type: 'object' } } },
    );
    await call('GET /event-types');
    await call('PUT /event-types/{eventTypeId}', { eventTypeId: type.uid }, { body: { description: 'e' } });
    await call('POST /event-types/{eventTypeId}/deprecate', { eventTypeId: type.uid });
    await call(
      'POST /event-types/import',
      {},
      { body: { spec: JSON.stringify({ openapi: '3.1.0', webhooks: { 'x.imported': {} } }) } },
    );
    await call('GET /meta-events');
    await call('DELETE /subscriptions/{subscriptionID}', { subscriptionID: sub.uid });
    await call('DELETE /endpoints/{endpointID}', { endpointID: d.uid });
  });
  afterAll(() => fake.close());

  it('every 2xx answer validates against the declared type and has the fields of a recorded answer of its route', () => {
    const problems: string[] = [];
    for (const answer of answers.filter((a) => a.status < 300)) {
      const validate = validatorFor(answer.route);
      if (!validate(answer.body.data ?? null)) problems.push(`${answer.route}: ${describeErrors(validate).join(', ')}`);
      const recorded = exchangesOf(answer.route, (s) => s < 300)
        .flatMap((x) => units(envelope(x).data ?? null))
        .map((u) => fieldPaths(u));
      if (recorded.length === 0) continue; // a licensed route (portal links) has no recorded data
      for (const unit of units(answer.body.data ?? null)) {
        const paths = fieldPaths(unit);
        if (recorded.some((r) => key(r) === key(paths))) continue;
        // Name the difference to the closest recorded answer.
        const diff = (r: Set<string>) => ({
          missing: [...r].filter((p) => !paths.has(p)),
          extra: [...paths].filter((p) => !r.has(p)),
        });
        const closest = recorded
          .map(diff)
          .sort((x, y) => x.missing.length + x.extra.length - y.missing.length - y.extra.length)[0]!;
        problems.push(
          `${answer.route}: unlike any recorded answer; closest lacks ${JSON.stringify(closest.extra)} and has ${JSON.stringify(closest.missing)}`,
        );
      }
    }
    expect(problems).toEqual([]);
  });

  it('says what the recorded Convoy said, route by route and status by status (counts aside)', () => {
    const words = (m: string) => m.replace(/\d+/g, 'N');
    const problems: string[] = [];
    for (const answer of answers) {
      const recorded = new Set(exchangesOf(answer.route, answer.status).map((x) => words(envelope(x).message)));
      if (recorded.size > 0 && !recorded.has(words(answer.body.message)))
        problems.push(
          `${answer.route} ${answer.status}: "${answer.body.message}", Convoy said ${[...recorded].map((m) => `"${m}"`).join(' or ')}`,
        );
    }
    expect(problems).toEqual([]);
  });

  it('refuses as the recorded Convoy does: same status, same words', () => {
    const refusals = answers.filter((a) => a.status >= 300);
    for (const answer of refusals) expect(validatorFor('error')(answer.body)).toBe(true);
    const said = (route: string, status: number) => exchangesOf(route, status).map((x) => envelope(x).message);
    const of = (route: string) => refusals.filter((a) => a.route === route).map((a) => [a.status, a.body.message]);
    expect(of('POST /portal-links')).toEqual([[401, said('POST /portal-links', 401)[0]]]);
    expect(of('POST /subscriptions/test_filter')).toEqual([[400, said('POST /subscriptions/test_filter', 400)[0]]]);
    expect(of('GET /events')).toEqual([[403, said('GET /events', 403)[0]]]);
    expect(of('GET /events/countbatchreplayevents')).toEqual([
      [400, said('GET /events/countbatchreplayevents', 400)[0]],
    ]);
    expect(of('POST /events/batchreplay')).toEqual([[400, said('POST /events/batchreplay', 400)[0]]]);
  });

  it('stores ["*"] for a subscription filter, and resets on PUT what Convoy resets, as the recorded Convoy did', () => {
    const [created] = answers
      .filter((a) => a.route === 'POST /subscriptions')
      .map((a) => a.body.data as { filter_config: { event_types: string[] } });
    const recorded = envelope(
      exchangesOf('POST /subscriptions', 201).find((x) => x.name === 'subscriptions.create with event_types')!,
    ).data as typeof created;
    expect(created!.filter_config.event_types).toEqual(recorded!.filter_config.event_types);
    const put = answers.find((a) => a.route === 'PUT /endpoints/{endpointID}')!.body.data as Record<string, unknown>;
    const recordedPut = envelope(
      exchangesOf('PUT /endpoints/{endpointID}', 202).find((x) =>
        x.name.startsWith('endpoints.update name and url only'),
      )!,
    ).data as Record<string, unknown>;
    const resettable = ['description', 'rate_limit', 'rate_limit_duration', 'authentication'];
    expect(Object.fromEntries(resettable.map((k) => [k, put[k]]))).toEqual(
      Object.fromEntries(resettable.map((k) => [k, recordedPut[k]])),
    );
  });
});
