/**
 * Records the conformance corpus from a real Convoy: `npm run record:convoy` (needs CONVOY_E2E_URL, CONVOY_E2E_API_KEY,
 * CONVOY_E2E_PROJECT_ID; CONVOY_E2E_BASIC_USER/PASSWORD optional). It drives every route the client has (each
 * resource, each query parameter it offers, success and error answers, paging forward and back) with plain HTTP,
 * not with our client: the server is the reference. For each filter it checks whether Convoy applied it (the answer
 * changed as the filter says) and records that as `honoured` or `ignored`.
 *
 * Network: every endpoint, subscription and dynamic event it creates points at its own receiver on 127.0.0.1.
 * It deletes the endpoints it made at the end (event types cannot be deleted: each run adds two).
 * Output: test/conformance/fixtures/exchanges.json and meta.json, sanitized (no key, password, secret, token or
 * signature; ids stay).
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { WebhookReceiver } from '../support/webhook-receiver.js';
import type { CorpusMeta, Exchange } from './corpus.js';

/** Run from the repository's root (npm run record:convoy): the recorder itself runs compiled, from node_modules/.cache. */
const FIXTURES_DIR = join(process.cwd(), 'test', 'conformance', 'fixtures');

const env = process.env;
const baseUrl = env.CONVOY_E2E_URL?.replace(/\/+$/, '');
const apiKey = env.CONVOY_E2E_API_KEY;
const projectId = env.CONVOY_E2E_PROJECT_ID;
if (!baseUrl || !apiKey || !projectId) {
  console.error(
    'record: set CONVOY_E2E_URL, CONVOY_E2E_API_KEY and CONVOY_E2E_PROJECT_ID (a Convoy that can deliver to 127.0.0.1)',
  );
  process.exit(2);
}
const basic =
  env.CONVOY_E2E_BASIC_USER && env.CONVOY_E2E_BASIC_PASSWORD
    ? `Basic ${Buffer.from(`${env.CONVOY_E2E_BASIC_USER}:${env.CONVOY_E2E_BASIC_PASSWORD}`).toString('base64')}`
    : undefined;

const run = randomUUID().slice(0, 8);
const exchanges: Exchange[] = [];
/** Values that must never reach a fixture; checked at the end. */
const credentials = [apiKey, env.CONVOY_E2E_BASIC_PASSWORD, env.CONVOY_E2E_PAT].filter((v): v is string => !!v);
const endpointSecrets: string[] = [];
let apiVersion = '';

type Query = Array<[string, string]>;
interface CallOptions {
  params?: Record<string, string>;
  query?: Query;
  body?: unknown;
  auth?: Exchange['auth'];
  /** Put another project id in the path. */
  pathProject?: string;
  /** Poll, do not record. */
  quiet?: boolean;
}
interface Answer {
  status: number;
  body: { status: boolean; message: string; data?: any };
  exchange?: Exchange;
}

/** One request to Convoy, recorded (unless quiet) under `name` with its route template. */
async function call(name: string, route: string, options: CallOptions = {}): Promise<Answer> {
  const [method, template] = route.split(' ') as [string, string];
  const path =
    template === '/'
      ? ''
      : template.replace(/\{([^}]+)\}/g, (_, key: string) => encodeURIComponent(options.params?.[key] ?? `<${key}>`));
  const query = options.query ?? [];
  const search = query.length ? `?${new URLSearchParams(query).toString()}` : '';
  const auth = options.auth ?? 'key';
  const headers: Record<string, string> = { accept: 'application/json', 'x-convoy-version': '2025-11-24' };
  if (auth === 'key') headers.authorization = `Bearer ${apiKey}`;
  if (auth === 'wrong-key')
    headers.authorization =
      'Bearer CO.wrongwrongwrong0.wrongkeywrongkeywrongkeywrongkeywrongkeywrongkeywrongkeywrongkey';
  if (auth === 'basic') headers.authorization = basic!;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const url = `${baseUrl}/v1/projects/${encodeURIComponent(options.pathProject ?? projectId!)}${path}${search}`;
  const response = await request(url, {
    method: method as 'GET',
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await response.body.text();
  apiVersion ||= String(response.headers['x-convoy-version'] ?? '');
  const body = text ? JSON.parse(text) : { status: false, message: '' };
  const answer: Answer = { status: response.statusCode, body };
  if (!options.quiet) {
    const x: Exchange = {
      name,
      route,
      ...(auth === 'key' ? {} : { auth }),
      ...(options.pathProject ? { otherProjectInPath: true } : {}),
      request: { path, query, ...(options.body === undefined ? {} : { body: options.body }) },
      response: { status: response.statusCode, body },
    };
    exchanges.push(x);
    answer.exchange = x;
  }
  if (!options.quiet)
    console.log(`${String(response.statusCode).padEnd(4)}${route}${search ? ` ${search}` : ''}  ${name}`);
  return answer;
}

function must(answer: Answer, status: number): any {
  if (answer.status !== status) throw new Error(`expected ${status}, got ${answer.status}: ${answer.body.message}`);
  return answer.body.data;
}

const items = (a: Answer): any[] => (Array.isArray(a.body.data) ? a.body.data : (a.body.data?.content ?? []));

function mark(answer: Answer, param: string, honoured: boolean, why: string): void {
  const x = answer.exchange!;
  const list = honoured ? (x.honoured ??= []) : (x.ignored ??= []);
  list.push(param);
  console.log(`      ${param}: ${honoured ? 'honoured' : 'IGNORED'} (${why})`);
}

/**
 * Lists with and without `param`: honoured when the baseline holds items the filter should drop, and the filtered
 * answer is non-empty and holds only items it should keep.
 */
async function probe(
  name: string,
  route: string,
  base: Query,
  param: string,
  value: string | string[],
  keeps: (item: any) => boolean,
  options: CallOptions = {},
): Promise<Answer> {
  const baseline = await call(`${name} (without ${param})`, route, { ...options, query: base, quiet: true });
  const values = Array.isArray(value) ? value : [value];
  const filtered = await call(`${name} ${param}`, route, {
    ...options,
    query: [...base, ...values.map((v): [string, string] => [param, v])],
  });
  const all = items(baseline);
  const got = items(filtered);
  if (filtered.status !== 200) return filtered;
  if (!all.some((i) => !keeps(i)))
    throw new Error(`probe ${name} ${param}: the baseline has nothing the filter should drop`);
  mark(
    filtered,
    param,
    got.length > 0 && got.every(keeps),
    `${got.length} of ${all.length} items, ${got.filter(keeps).length} matching`,
  );
  return filtered;
}

async function waitFor<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Convoy's date format: UTC, no zone. */
const convoyDate = (ms: number): string => new Date(ms).toISOString().slice(0, 19);

async function main(): Promise<void> {
  const receiver = await WebhookReceiver.start((w) =>
    w.path.startsWith('/fail') ? { status: 500, body: '{"error":"scripted failure"}' } : undefined,
  );
  const hook = (path: string) => `${receiver.url}${path}`;
  const started = Date.now() - 5_000;
  const since: Query = [['startDate', convoyDate(started)]];
  const created: string[] = [];
  const health = await request(`${new URL(baseUrl!).origin}/health`);
  const healthMessage = String(((await health.body.json()) as { message?: string }).message ?? '');

  try {
    // ------------------------------------------------------------ the project
    must(await call('project.get', 'GET /'), 200);
    await call('project.get another project id in the path (the key decides)', 'GET /', {
      pathProject: '01CONFORMANCEOTHERPROJECT0',
    });
    await call('project.get wrong key', 'GET /', { auth: 'wrong-key' });
    await call('endpoints.list wrong key', 'GET /endpoints', { auth: 'wrong-key' });
    await call('endpoints.list no credentials', 'GET /endpoints', { auth: 'none' });
    if (basic) {
      await call('project.get basic auth', 'GET /', { auth: 'basic' });
      await call('project.get basic auth, unknown project', 'GET /', {
        auth: 'basic',
        pathProject: '01CONFORMANCEOTHERPROJECT0',
      });
    }

    // ------------------------------------------------------------ endpoints
    const secretA = `conformance-secret-a-${run}`;
    endpointSecrets.push(secretA, `conformance-header-${run}`, `conformance-secret-new-${run}`);
    const ownerX = `conformance-x-${run}`;
    const ownerY = `conformance-y-${run}`;
    const a = must(
      await call('endpoints.create', 'POST /endpoints', {
        body: {
          name: `conf-a-${run}`,
          url: hook('/a'),
          owner_id: ownerX,
          description: 'endpoint a',
          secret: secretA,
          rate_limit: 10,
          rate_limit_duration: 60,
          advanced_signatures: true,
          http_timeout: 10,
          content_type: 'application/json',
        },
      }),
      201,
    );
    created.push(a.uid);
    const b = must(
      await call('endpoints.create with api_key authentication', 'POST /endpoints', {
        body: {
          name: `conf-b-${run}`,
          url: hook('/b'),
          owner_id: ownerY,
          authentication: {
            type: 'api_key',
            api_key: { header_name: 'X-Conformance-Auth', header_value: `conformance-header-${run}` },
          },
        },
      }),
      201,
    );
    created.push(b.uid);
    const f = must(
      await call('endpoints.create (a receiver that fails)', 'POST /endpoints', {
        body: { name: `conf-fail-${run}`, url: hook('/fail'), owner_id: ownerX },
      }),
      201,
    );
    created.push(f.uid);
    const f2 = must(
      await call('endpoints.create (a second receiver that fails)', 'POST /endpoints', {
        body: { name: `conf-fail2-${run}`, url: hook('/fail2'), owner_id: ownerX },
      }),
      201,
    );
    created.push(f2.uid);
    const d = must(
      await call('endpoints.create (to be left without a subscription)', 'POST /endpoints', {
        body: { name: `conf-d-${run}`, url: hook('/d') },
      }),
      201,
    );
    created.push(d.uid);
    await call('endpoints.create without url', 'POST /endpoints', { body: { name: `conf-bad-${run}` } });

    // ------------------------------------------------------------ subscriptions
    const subA = must(
      await call('subscriptions.create with event_types', 'POST /subscriptions', {
        body: { name: `conf-a-${run}`, endpoint_id: a.uid, filter_config: { event_types: ['conf.a'] } },
      }),
      201,
    );
    must(
      await call('subscriptions.create', 'POST /subscriptions', {
        body: { name: `conf-b-${run}`, endpoint_id: b.uid },
      }),
      201,
    );
    must(
      await call('subscriptions.create at_most_once', 'POST /subscriptions', {
        body: { name: `conf-fail-${run}`, endpoint_id: f.uid, delivery_mode: 'at_most_once' },
      }),
      201,
    );
    must(
      await call('subscriptions.create at_most_once (second)', 'POST /subscriptions', {
        body: { name: `conf-fail2-${run}`, endpoint_id: f2.uid, delivery_mode: 'at_most_once' },
      }),
      201,
    );
    const subD = must(
      await call('subscriptions.create (to delete)', 'POST /subscriptions', {
        body: { name: `conf-d-${run}`, endpoint_id: d.uid },
      }),
      201,
    );
    const subscribedAt = Date.now();
    await call('subscriptions.create unknown endpoint', 'POST /subscriptions', {
      body: { name: `conf-x-${run}`, endpoint_id: '01CONFORMANCEUNKNOWNENDPT0' },
    });
    await call('subscriptions.get', 'GET /subscriptions/{subscriptionID}', { params: { subscriptionID: subA.uid } });
    await call('subscriptions.get unknown', 'GET /subscriptions/{subscriptionID}', {
      params: { subscriptionID: '01CONFORMANCEUNKNOWNSUB000' },
    });
    await call('subscriptions.update event_types', 'PUT /subscriptions/{subscriptionID}', {
      params: { subscriptionID: subA.uid },
      body: { filter_config: { event_types: ['conf.a', 'conf.b'] } },
    });
    await call('subscriptions.testFilter', 'POST /subscriptions/test_filter', {
      body: { schema: { body: { n: 1 } }, request: { body: { n: 1 } } },
    });
    const subsBase: Query = [['perPage', '100']];
    await probe('subscriptions.list', 'GET /subscriptions', subsBase, 'endpointId', [a.uid, b.uid], (s) =>
      [a.uid, b.uid].includes(s.endpoint_metadata?.uid),
    );
    await probe(
      'subscriptions.list',
      'GET /subscriptions',
      subsBase,
      'name',
      `conf-b-${run}`,
      (s) => s.name === `conf-b-${run}`,
    );
    await pages(
      'subscriptions.list',
      'GET /subscriptions',
      [a.uid, b.uid, f.uid, f2.uid].map((id): [string, string] => ['endpointId', id]),
    );
    await call('subscriptions.delete', 'DELETE /subscriptions/{subscriptionID}', {
      params: { subscriptionID: subD.uid },
    });
    await call('subscriptions.delete unknown', 'DELETE /subscriptions/{subscriptionID}', {
      params: { subscriptionID: '01CONFORMANCEUNKNOWNSUB000' },
    });

    // ------------------------------------------------------------ endpoint reads and writes
    await call('endpoints.get', 'GET /endpoints/{endpointID}', { params: { endpointID: a.uid } });
    await call('endpoints.get with api_key authentication', 'GET /endpoints/{endpointID}', {
      params: { endpointID: b.uid },
    });
    await call('endpoints.get unknown', 'GET /endpoints/{endpointID}', {
      params: { endpointID: '01CONFORMANCEUNKNOWNENDPT0' },
    });
    const endpointsBase: Query = [['perPage', '100']];
    await probe('endpoints.list', 'GET /endpoints', endpointsBase, 'ownerId', ownerX, (e) => e.owner_id === ownerX);
    await probe(
      'endpoints.list',
      'GET /endpoints',
      endpointsBase,
      'q',
      `conf-b-${run}`,
      (e) => e.name === `conf-b-${run}`,
    );
    await pages('endpoints.list', 'GET /endpoints', [['ownerId', ownerX]]);
    await call('endpoints.update name and url only (Convoy resets what is left out)', 'PUT /endpoints/{endpointID}', {
      params: { endpointID: a.uid },
      body: { name: `conf-a-${run}`, url: hook('/a') },
    });
    await call('endpoints.update every field', 'PUT /endpoints/{endpointID}', {
      params: { endpointID: a.uid },
      body: {
        name: `conf-a-${run}`,
        url: hook('/a'),
        owner_id: ownerX,
        description: 'endpoint a',
        rate_limit: 10,
        rate_limit_duration: 60,
        advanced_signatures: true,
        http_timeout: 10,
        content_type: 'application/json',
      },
    });
    await call('endpoints.update unknown', 'PUT /endpoints/{endpointID}', {
      params: { endpointID: '01CONFORMANCEUNKNOWNENDPT0' },
      body: { name: 'x', url: hook('/x') },
    });
    await call('endpoints.update without url', 'PUT /endpoints/{endpointID}', {
      params: { endpointID: a.uid },
      body: { name: `conf-a-${run}` },
    });
    await call('endpoints.pause', 'PUT /endpoints/{endpointID}/pause', { params: { endpointID: d.uid } });
    await call('endpoints.pause again (toggles back)', 'PUT /endpoints/{endpointID}/pause', {
      params: { endpointID: d.uid },
    });
    await call('endpoints.pause', 'PUT /endpoints/{endpointID}/pause', { params: { endpointID: d.uid }, quiet: true });
    await call('endpoints.activate', 'POST /endpoints/{endpointID}/activate', { params: { endpointID: d.uid } });
    await call('endpoints.activate unknown', 'POST /endpoints/{endpointID}/activate', {
      params: { endpointID: '01CONFORMANCEUNKNOWNENDPT0' },
    });
    await call('endpoints.expireSecret', 'PUT /endpoints/{endpointID}/expire_secret', {
      params: { endpointID: d.uid },
      body: { secret: `conformance-secret-new-${run}`, expiration: 3600 },
    });

    // ------------------------------------------------------------ events
    // Broadcasts see subscriptions after the agent's next refresh (10 s by default).
    await new Promise((r) => setTimeout(r, Math.max(0, subscribedAt + 11_000 - Date.now())));
    const key = (name: string) => `conf-${run}-${name}`;
    const eventsStart = Date.now();
    await call('events.create', 'POST /events', {
      body: {
        endpoint_id: a.uid,
        event_type: 'conf.a',
        data: { run, n: 1 },
        idempotency_key: key('a1'),
        custom_headers: { 'X-Conformance': run },
      },
    });
    await call('events.create (another type)', 'POST /events', {
      body: { endpoint_id: a.uid, event_type: 'conf.b', data: { run, n: 2 }, idempotency_key: key('b1') },
    });
    await call('events.create (to a failing receiver)', 'POST /events', {
      body: { endpoint_id: f.uid, event_type: 'conf.fail', data: { run, n: 3 }, idempotency_key: key('fail') },
    });
    await call('events.create (to the second failing receiver)', 'POST /events', {
      body: { endpoint_id: f2.uid, event_type: 'conf.fail2', data: { run, n: 4 }, idempotency_key: key('fail2') },
    });
    await call('events.create without an idempotency key', 'POST /events', {
      body: { endpoint_id: b.uid, event_type: 'conf.b', data: { run, n: 5 } },
    });
    await call('events.create unknown endpoint', 'POST /events', {
      body: { endpoint_id: '01CONFORMANCEUNKNOWNENDPT0', event_type: 'conf.a', data: { run } },
    });
    await call('events.create without event_type', 'POST /events', { body: { endpoint_id: a.uid, data: { run } } });
    await call('events.fanout', 'POST /events/fanout', {
      body: { owner_id: ownerY, event_type: 'conf.fanout', data: { run, n: 6 }, idempotency_key: key('fanout') },
    });
    await call('events.fanout again (duplicate key)', 'POST /events/fanout', {
      body: { owner_id: ownerY, event_type: 'conf.fanout', data: { run, n: 6 }, idempotency_key: key('fanout') },
    });
    await call('events.fanout to an owner without endpoints', 'POST /events/fanout', {
      body: { owner_id: `conformance-nobody-${run}`, event_type: 'conf.fanout', data: { run, n: 7 } },
    });
    await call('events.broadcast', 'POST /events/broadcast', {
      body: { event_type: 'conf.broadcast', data: { run, n: 8 }, idempotency_key: key('broadcast') },
    });
    await call('events.dynamic', 'POST /events/dynamic', {
      body: {
        url: hook('/dynamic'),
        event_type: 'conf.dynamic',
        data: { run, n: 9 },
        secret: `conformance-dynamic-${run}`,
        idempotency_key: key('dynamic'),
      },
    });
    endpointSecrets.push(`conformance-dynamic-${run}`);

    // Deliveries settle: a (2 direct) + b (direct, fanout, broadcast) + f + f2 + the broadcast to a, f, f2, and dynamic.
    const settled = await waitFor('deliveries to settle', async () => {
      const page = await call('poll', 'GET /eventdeliveries', { query: [...since, ['perPage', '100']], quiet: true });
      const all = items(page);
      // A broadcast to a failing receiver is retried (Retry) on the project's schedule: settled enough.
      const open = all.filter((x) => !['Success', 'Failure', 'Retry'].includes(x.status));
      return all.length >= 9 && open.length === 0 && all.some((x) => x.event_type === 'conf.dynamic') ? all : undefined;
    });
    console.log(`      ${settled.length} deliveries settled`);

    const eventsBase: Query = [...since, ['perPage', '100']];
    const eventList = await call('events.list', 'GET /events', { query: eventsBase });
    const eventA = items(eventList).find((e) => e.idempotency_key === key('a1'));
    await probe('events.list', 'GET /events', eventsBase, 'endpointId', a.uid, (e) =>
      (e.endpoints ?? []).includes(a.uid),
    );
    await probe(
      'events.list',
      'GET /events',
      eventsBase,
      'idempotencyKey',
      key('a1'),
      (e) => e.idempotency_key === key('a1'),
    );
    await dateProbes('events.list', 'GET /events', [['perPage', '100']], eventsStart);
    const noSource = await call('events.list sourceId', 'GET /events', {
      query: [...eventsBase, ['sourceId', '01CONFORMANCEUNKNOWNSOURCE']],
    });
    // An outgoing project has no sources: an unknown source must leave nothing.
    mark(noSource, 'sourceId', items(noSource).length === 0, `${items(noSource).length} items for an unknown source`);
    await call('events.list query (search)', 'GET /events', { query: [...eventsBase, ['query', 'conf']] });
    await call('events.list body (search)', 'GET /events', {
      query: [...eventsBase, ['body', JSON.stringify({ run })]],
    });
    await call('events.list event_type (not a filter of this route)', 'GET /events', {
      query: [...eventsBase, ['event_type', 'conf.a']],
      quiet: true,
    });
    await pages('events.list', 'GET /events', since);
    await call('events.get', 'GET /events/{eventID}', { params: { eventID: eventA.uid } });
    await call('events.get unknown', 'GET /events/{eventID}', { params: { eventID: '01CONFORMANCEUNKNOWNEVENT0' } });

    // Counting for a batch replay.
    const count = async (name: string, q: Query) =>
      (await call(name, 'GET /events/countbatchreplayevents', { query: q })).body.data?.num as number;
    const total = await count('events.countBatchReplay', since);
    for (const [param, value, expected] of [
      [
        'endpointId',
        a.uid,
        items(await call('x', 'GET /events', { query: [...eventsBase, ['endpointId', a.uid]], quiet: true })).length,
      ],
      ['idempotencyKey', key('a1'), 1],
      ['sourceId', '01CONFORMANCEUNKNOWNSOURCE', 0],
    ] as const) {
      const answer = await call(`events.countBatchReplay ${param}`, 'GET /events/countbatchreplayevents', {
        query: [...since, [param, value]],
      });
      const num = answer.body.data?.num as number;
      mark(
        answer,
        param,
        num === expected && num !== total,
        `counted ${num}, the list has ${expected}, ${total} without the filter`,
      );
    }
    const future = await call('events.countBatchReplay startDate', 'GET /events/countbatchreplayevents', {
      query: ahead(),
    });
    mark(
      future,
      'startDate',
      future.body.data?.num === 0 && total > 0,
      `${future.body.data?.num} from an hour ahead, ${total} since the run started`,
    );
    const early = await call('events.countBatchReplay endDate', 'GET /events/countbatchreplayevents', {
      query: beforeEvents(eventsStart),
    });
    mark(
      early,
      'endDate',
      early.body.data?.num === 0 && total > 0,
      `${early.body.data?.num} before the first event, ${total} since the run started`,
    );
    await call('events.countBatchReplay query (search)', 'GET /events/countbatchreplayevents', {
      query: [...since, ['query', 'conf']],
    });
    await call('events.countBatchReplay body (search)', 'GET /events/countbatchreplayevents', {
      query: [...since, ['body', JSON.stringify({ run })]],
    });

    // ------------------------------------------------------------ deliveries
    const deliveriesBase: Query = [...since, ['perPage', '100']];
    const deliveryList = await call('eventDeliveries.list', 'GET /eventdeliveries', { query: deliveriesBase });
    const all = items(deliveryList);
    const ok = all.find((x) => x.event_type === 'conf.a' && x.status === 'Success');
    const failed = all.find((x) => x.event_type === 'conf.fail' && x.status === 'Failure');
    const failed2 = all.find((x) => x.event_type === 'conf.fail2' && x.status === 'Failure');
    if (!ok || !failed || !failed2)
      throw new Error('expected a successful conf.a delivery and failed conf.fail/conf.fail2 deliveries');
    await probe(
      'eventDeliveries.list',
      'GET /eventdeliveries',
      deliveriesBase,
      'eventType',
      'conf.a',
      (x) => x.event_type === 'conf.a',
    );
    await probe(
      'eventDeliveries.list',
      'GET /eventdeliveries',
      deliveriesBase,
      'event_type',
      'conf.a',
      (x) => x.event_type === 'conf.a',
    );
    await probe('eventDeliveries.list', 'GET /eventdeliveries', deliveriesBase, 'endpointId', [a.uid, b.uid], (x) =>
      [a.uid, b.uid].includes(x.endpoint_id),
    );
    await probe(
      'eventDeliveries.list',
      'GET /eventdeliveries',
      deliveriesBase,
      'eventId',
      ok.event_id,
      (x) => x.event_id === ok.event_id,
    );
    await probe(
      'eventDeliveries.list',
      'GET /eventdeliveries',
      deliveriesBase,
      'idempotencyKey',
      key('fanout'),
      (x) => x.idempotency_key === key('fanout'),
    );
    await probe(
      'eventDeliveries.list',
      'GET /eventdeliveries',
      deliveriesBase,
      'status',
      ['Failure'],
      (x) => x.status === 'Failure',
    );
    await probe(
      'eventDeliveries.list',
      'GET /eventdeliveries',
      deliveriesBase,
      'subscriptionId',
      ok.subscription_id,
      (x) => x.subscription_id === ok.subscription_id,
    );
    await dateProbes('eventDeliveries.list', 'GET /eventdeliveries', [['perPage', '100']], eventsStart);
    await pages('eventDeliveries.list', 'GET /eventdeliveries', since);
    await call('eventDeliveries.get', 'GET /eventdeliveries/{eventDeliveryID}', {
      params: { eventDeliveryID: ok.uid },
    });
    await call('eventDeliveries.get failed', 'GET /eventdeliveries/{eventDeliveryID}', {
      params: { eventDeliveryID: failed.uid },
    });
    await call('eventDeliveries.get unknown', 'GET /eventdeliveries/{eventDeliveryID}', {
      params: { eventDeliveryID: '01CONFORMANCEUNKNOWNDELIV0' },
    });
    const okAttempts = must(
      await call('deliveryAttempts.list', 'GET /eventdeliveries/{eventDeliveryID}/deliveryattempts', {
        params: { eventDeliveryID: ok.uid },
      }),
      200,
    );
    const failedAttempts = must(
      await call('deliveryAttempts.list failed', 'GET /eventdeliveries/{eventDeliveryID}/deliveryattempts', {
        params: { eventDeliveryID: failed.uid },
      }),
      200,
    );
    await call('deliveryAttempts.list unknown delivery', 'GET /eventdeliveries/{eventDeliveryID}/deliveryattempts', {
      params: { eventDeliveryID: '01CONFORMANCEUNKNOWNDELIV0' },
    });
    await call('deliveryAttempts.get', 'GET /eventdeliveries/{eventDeliveryID}/deliveryattempts/{deliveryAttemptID}', {
      params: { eventDeliveryID: ok.uid, deliveryAttemptID: okAttempts[0].uid },
    });
    await call(
      'deliveryAttempts.get failed',
      'GET /eventdeliveries/{eventDeliveryID}/deliveryattempts/{deliveryAttemptID}',
      { params: { eventDeliveryID: failed.uid, deliveryAttemptID: failedAttempts[0].uid } },
    );
    await call(
      'deliveryAttempts.get unknown',
      'GET /eventdeliveries/{eventDeliveryID}/deliveryattempts/{deliveryAttemptID}',
      { params: { eventDeliveryID: ok.uid, deliveryAttemptID: '01CONFORMANCEUNKNOWNATTMP0' } },
    );
    await call('eventDeliveries.resend a success', 'PUT /eventdeliveries/{eventDeliveryID}/resend', {
      params: { eventDeliveryID: ok.uid },
    });
    await call('eventDeliveries.resend', 'PUT /eventdeliveries/{eventDeliveryID}/resend', {
      params: { eventDeliveryID: failed.uid },
    });
    await call('eventDeliveries.resend unknown', 'PUT /eventdeliveries/{eventDeliveryID}/resend', {
      params: { eventDeliveryID: '01CONFORMANCEUNKNOWNDELIV0' },
    });
    await call('eventDeliveries.forceResend', 'POST /eventdeliveries/forceresend', { body: { ids: [ok.uid] } });
    await call('eventDeliveries.forceResend a failure', 'POST /eventdeliveries/forceresend', {
      body: { ids: [failed2.uid] },
    });
    // The resend of `failed` settles first, so that only the batch retry below adds attempts.
    const attemptsOf = async (id: string) =>
      (
        await call('poll', 'GET /eventdeliveries/{eventDeliveryID}/deliveryattempts', {
          params: { eventDeliveryID: id },
          quiet: true,
        })
      ).body.data.length as number;
    await waitFor(
      'the resend to be attempted',
      async () =>
        (await attemptsOf(failed.uid)) >= 2 &&
        (
          await call('poll', 'GET /eventdeliveries/{eventDeliveryID}', {
            params: { eventDeliveryID: failed.uid },
            quiet: true,
          })
        ).body.data.status === 'Failure',
    );
    const [n1, n2] = [await attemptsOf(failed.uid), await attemptsOf(failed2.uid)];
    const batch = await call('eventDeliveries.batchRetry eventType', 'POST /eventdeliveries/batchretry', {
      query: [...since, ['status', 'Failure'], ['eventType', 'conf.fail2']],
    });
    if (batch.status === 200) {
      await waitFor('the batch retry to attempt conf.fail2', async () => (await attemptsOf(failed2.uid)) > n2);
      await waitFor(
        'the batch job to finish',
        async () =>
          (
            await call('poll', 'GET /eventdeliveries/{eventDeliveryID}', {
              params: { eventDeliveryID: failed2.uid },
              quiet: true,
            })
          ).body.data.status === 'Failure',
      );
      const untouched = (await attemptsOf(failed.uid)) === n1;
      mark(batch, 'eventType', untouched, `conf.fail2 retried, conf.fail ${untouched ? 'not' : 'also'} retried`);
    }

    // ------------------------------------------------------------ replays (after the delivery probes: they add deliveries)
    await call('events.replay', 'PUT /events/{eventID}/replay', { params: { eventID: eventA.uid } });
    await call('events.replay unknown', 'PUT /events/{eventID}/replay', {
      params: { eventID: '01CONFORMANCEUNKNOWNEVENT0' },
    });
    const replayed = await call('events.batchReplay idempotencyKey', 'POST /events/batchreplay', {
      query: [...since, ['idempotencyKey', key('b1')]],
    });
    mark(replayed, 'idempotencyKey', /^1 successful/.test(replayed.body.message), replayed.body.message);
    const replayedByEndpoint = await call('events.batchReplay endpointId', 'POST /events/batchreplay', {
      query: [...since, ['endpointId', b.uid]],
    });
    const expectedForB = items(
      await call('x', 'GET /events', { query: [...eventsBase, ['endpointId', b.uid]], quiet: true }),
    ).length;
    mark(
      replayedByEndpoint,
      'endpointId',
      replayedByEndpoint.body.message.startsWith(`${expectedForB} successful`) && expectedForB < total,
      `${replayedByEndpoint.body.message}; the list has ${expectedForB}`,
    );
    const noSourceReplay = await call('events.batchReplay sourceId', 'POST /events/batchreplay', {
      query: [...since, ['sourceId', '01CONFORMANCEUNKNOWNSOURCE']],
    });
    mark(
      noSourceReplay,
      'sourceId',
      noSourceReplay.body.message.startsWith('0 successful'),
      noSourceReplay.body.message,
    );
    const futureReplay = await call('events.batchReplay startDate', 'POST /events/batchreplay', { query: ahead() });
    mark(futureReplay, 'startDate', futureReplay.body.message.startsWith('0 successful'), futureReplay.body.message);
    const earlyReplay = await call('events.batchReplay endDate', 'POST /events/batchreplay', {
      query: beforeEvents(eventsStart),
    });
    mark(earlyReplay, 'endDate', earlyReplay.body.message.startsWith('0 successful'), earlyReplay.body.message);
    await call('events.batchReplay query (search)', 'POST /events/batchreplay', {
      query: [...since, ['query', 'conf']],
    });
    await call('events.batchReplay body (search)', 'POST /events/batchreplay', {
      query: [...since, ['body', JSON.stringify({ run })]],
    });

    // ------------------------------------------------------------ portal links (licensed)
    await call('portalLinks.create', 'POST /portal-links', { body: { name: `conf-${run}`, owner_id: ownerX } });
    await call('portalLinks.list', 'GET /portal-links', { query: [['ownerId', ownerX]] });
    await call('portalLinks.get', 'GET /portal-links/{portalLinkID}', {
      params: { portalLinkID: '01CONFORMANCEUNKNOWNLINK00' },
    });
    await call('portalLinks.update', 'PUT /portal-links/{portalLinkID}', {
      params: { portalLinkID: '01CONFORMANCEUNKNOWNLINK00' },
      body: { name: `conf-${run}`, owner_id: ownerX },
    });
    await call('portalLinks.revoke', 'PUT /portal-links/{portalLinkID}/revoke', {
      params: { portalLinkID: '01CONFORMANCEUNKNOWNLINK00' },
    });
    await call('portalLinks.refreshToken', 'GET /portal-links/{portalLinkID}/refresh_token', {
      params: { portalLinkID: '01CONFORMANCEUNKNOWNLINK00' },
    });

    // ------------------------------------------------------------ event types
    await call('eventTypes.list', 'GET /event-types');
    const type = must(
      await call('eventTypes.create', 'POST /event-types', {
        body: {
          name: `conf.type.${run}`,
          category: 'conformance',
          description: 'recorded',
          json_schema: { type: 'object' },
        },
      }),
      201,
    );
    await call('eventTypes.create without a name', 'POST /event-types', { body: { category: 'conformance' } });
    await call('eventTypes.update', 'PUT /event-types/{eventTypeId}', {
      params: { eventTypeId: type.uid },
      body: { description: 'updated', category: 'conformance' },
    });
    await call('eventTypes.deprecate', 'POST /event-types/{eventTypeId}/deprecate', {
      params: { eventTypeId: type.uid },
    });
    await call('eventTypes.update unknown', 'PUT /event-types/{eventTypeId}', {
      params: { eventTypeId: '01CONFORMANCEUNKNOWNTYPE00' },
      body: { description: 'x' },
    });
    await call('eventTypes.import', 'POST /event-types/import', {
      body: {
        spec: JSON.stringify({
          openapi: '3.1.0',
          info: { title: 'conformance', version: '1' },
          webhooks: {
            [`conf.imported.${run}`]: {
              post: {
                requestBody: { content: { 'application/json': { schema: { type: 'object' } } } },
                responses: { '200': { description: 'ok' } },
              },
            },
          },
        }),
      },
    });

    // ------------------------------------------------------------ meta events
    // Convoy refuses a loopback meta-event URL, and this recorder sends nothing elsewhere: so no meta events exist.
    await call('metaEvents.list', 'GET /meta-events', { query: [...since, ['perPage', '100']] });
    await call('metaEvents.get unknown', 'GET /meta-events/{metaEventID}', {
      params: { metaEventID: '01CONFORMANCEUNKNOWNMETA00' },
    });
    await call('metaEvents.resend unknown', 'PUT /meta-events/{metaEventID}/resend', {
      params: { metaEventID: '01CONFORMANCEUNKNOWNMETA00' },
    });

    // ------------------------------------------------------------ deletes
    const dynamic = items(await call('x', 'GET /endpoints', { query: [['perPage', '100']], quiet: true })).find(
      (e) => e.url === hook('/dynamic'),
    );
    if (dynamic) created.push(dynamic.uid);
    await call('endpoints.delete', 'DELETE /endpoints/{endpointID}', { params: { endpointID: d.uid } });
    created.splice(created.indexOf(d.uid), 1);
    await call('endpoints.delete unknown', 'DELETE /endpoints/{endpointID}', {
      params: { endpointID: '01CONFORMANCEUNKNOWNENDPT0' },
    });
  } finally {
    for (const id of created)
      await call('cleanup', 'DELETE /endpoints/{endpointID}', { params: { endpointID: id }, quiet: true });
    await receiver.close();
  }

  const meta: CorpusMeta = {
    convoyVersion: healthMessage.replace(/^Convoy\s+/, ''),
    edition: 'community (no licence key)',
    apiVersion,
    recordedAt: new Date().toISOString().slice(0, 10),
    command: 'npm run record:convoy',
  };
  const text = JSON.stringify(sanitize(exchanges), null, 1);
  for (const value of [...credentials, ...endpointSecrets])
    if (text.includes(value)) throw new Error('a credential or secret survived sanitizing; nothing written');
  writeFileSync(join(FIXTURES_DIR, 'exchanges.json'), `${text}\n`);
  writeFileSync(join(FIXTURES_DIR, 'meta.json'), `${JSON.stringify(meta, null, 2)}\n`);
  console.log(
    `record: ${exchanges.length} exchanges over ${new Set(exchanges.map((x) => x.route)).size} routes from Convoy ${meta.convoyVersion} written to ${FIXTURES_DIR}`,
  );

  /** Paging forward and back: perPage, direction, next_page_cursor, prev_page_cursor and sort. */
  async function pages(name: string, route: string, base: Query): Promise<void> {
    const first = await call(`${name} page 1`, route, { query: [...base, ['perPage', '1']] });
    const all = items(await call('x', route, { query: [...base, ['perPage', '100']], quiet: true }));
    if (all.length < 3) throw new Error(`${name}: paging needs 3 items, have ${all.length}`);
    mark(first, 'perPage', items(first).length === 1, `1 of ${all.length}`);
    const cursor = first.body.data.pagination.next_page_cursor;
    const second = await call(`${name} page 2`, route, {
      query: [...base, ['perPage', '1'], ['direction', 'next'], ['next_page_cursor', cursor]],
    });
    const secondOk = items(second)[0]?.uid === all[1].uid;
    mark(second, 'direction', secondOk, 'page 2 holds the second item');
    mark(second, 'next_page_cursor', secondOk, 'page 2 holds the second item');
    const back = await call(`${name} back to page 1`, route, {
      query: [
        ...base,
        ['perPage', '1'],
        ['direction', 'prev'],
        ['prev_page_cursor', second.body.data.pagination.prev_page_cursor],
      ],
    });
    mark(back, 'prev_page_cursor', items(back)[0]?.uid === all[0].uid, 'back on the first item');
    const asc = await call(`${name} sort ASC`, route, { query: [...base, ['perPage', '100'], ['sort', 'ASC']] });
    mark(asc, 'sort', items(asc)[0]?.uid === all[all.length - 1].uid, 'oldest first');
  }

  /** A window an hour ahead leaves nothing; a window ending before the run's first event leaves nothing either. */
  async function dateProbes(name: string, route: string, base: Query, firstEvent: number): Promise<void> {
    const baseline = items(await call('x', route, { query: [...base, ...since], quiet: true }));
    const future = await call(`${name} startDate`, route, { query: [...base, ...ahead()] });
    mark(
      future,
      'startDate',
      items(future).length === 0 && baseline.length > 0,
      `${items(future).length} items from an hour ahead, ${baseline.length} since the run started`,
    );
    const early = await call(`${name} endDate`, route, { query: [...base, ...beforeEvents(firstEvent)] });
    mark(
      early,
      'endDate',
      items(early).length === 0 && baseline.length > 0,
      `${items(early).length} items before the first event, ${baseline.length} since the run started`,
    );
  }

  /** startDate and endDate an hour ahead (startDate alone must not pass endDate, which defaults to now). */
  function ahead(): Query {
    return [
      ['startDate', convoyDate(Date.now() + 3_600_000)],
      ['endDate', convoyDate(Date.now() + 7_200_000)],
    ];
  }

  /** From the run's start to just before its first event: no event of this run falls in it. */
  function beforeEvents(firstEvent: number): Query {
    return [
      ['startDate', convoyDate(started)],
      ['endDate', convoyDate(firstEvent - 2_000)],
    ];
  }
}

/** Removes every secret value: endpoint secrets, auth headers and values, tokens, signatures, meta-event secrets. */
function sanitize<T>(value: T): T {
  const walk = (v: any, key?: string): any => {
    if (Array.isArray(v)) return v.map((item) => walk(item, key));
    if (v === null || typeof v !== 'object') {
      if (typeof v !== 'string' || v === '') return v;
      if (
        ['secret', 'header_value', 'password', 'token', 'auth_key', 'client_secret', 'client_key'].includes(key ?? '')
      )
        return `<${key}>`;
      if (/^(x-convoy-signature|authorization|x-conformance-auth)$/i.test(key ?? '')) return `<${key!.toLowerCase()}>`;
      return v;
    }
    const out: Record<string, unknown> = {};
    for (const [k, item] of Object.entries(v)) out[k] = walk(item, k);
    return out;
  };
  // `value` is a secret only inside `secrets` entries; elsewhere (e.g. a header list) it stays.
  const inSecrets = (v: any): any => {
    if (Array.isArray(v)) return v.map(inSecrets);
    if (v === null || typeof v !== 'object') return v;
    const out: Record<string, unknown> = {};
    for (const [k, item] of Object.entries(v)) {
      out[k] =
        k === 'secrets' && Array.isArray(item)
          ? item.map((s) => (s && typeof s === 'object' ? { ...s, value: '<secret>' } : s))
          : inSecrets(item);
    }
    return out;
  };
  return walk(inSecrets(value));
}

main().catch((error) => {
  console.error(`record: ${(error as Error).stack ?? error}`);
  process.exitCode = 1;
});
