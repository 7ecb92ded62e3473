import type { INestApplication } from '@nestjs/common';
import { request } from 'undici';
import { Validator } from '@seriousme/openapi-schema-validator';
import { CONVOY_OPTIONS } from '../../lib/convoy.constants.js';
import { InvalidEndpointError, WebhookPublisher, WebhookValidationError } from '../../lib/index.js';
import type { ResolvedConvoyOptions } from '../../lib/options/convoy-module-options.js';
import { signConvoyPayload } from '../../lib/receiver/index.js';
import type { LookupAll } from '../../lib/network/destination.js';
import { RECEIVER_WAIT_MS } from '../../sample/receiver/receiver.controller.js';
import { todoEvents } from '../../sample/todos/todo.events.js';
import { FakeConvoy, type RecordedRequest } from '../support/fake-convoy.js';
import type { LogLine } from '../support/recording-logger.js';
import { clearSampleEnv, startSample } from '../support/sample-app.js';
import { waitUntil } from '../support/wait.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

async function call(url: string, method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown) {
  const response = await request(url + path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.body.text();
  return { status: response.statusCode, body: text ? JSON.parse(text) : undefined };
}

/** The body Convoy's FastAPI and Flask tutorials create their todo with. */
const TUTORIAL_TODO = { id: 1, item: 'Create a Convoy outgoing project today' };

/** The lines logged at error level (a publishing error would be one). */
const errorLines = (logs: LogLine[]) => logs.filter((l) => l.level === 'error' || l.level === 'fatal');

/** The pipeline's shutdown report: one line. */
const shutdownLines = (logs: LogLine[]) => logs.filter((l) => l.message.startsWith('Shut down'));

/** The Todo sample against the Convoy-compatible test server: each route's webhook, as Convoy receives it. */
describe('sample app with Convoy', () => {
  let fake: FakeConvoy;
  let app: INestApplication;
  let url: string;
  let logs: LogLine[];
  let closed: boolean;

  beforeEach(async () => {
    fake = await FakeConvoy.start();
    closed = false;
    ({ app, url, logs } = await startSample({
      CONVOY_API_KEY: fake.apiKey,
      CONVOY_PROJECT_ID: fake.projectId,
      CONVOY_URL: fake.url,
    }));
  });
  afterEach(async () => {
    if (!closed) await app.close();
    await fake.close();
    clearSampleEnv();
  });

  /** Waits for the next event-creation request and checks it is exactly what Convoy expects. */
  async function nextEvent(route: string, expected: Record<string, unknown>): Promise<RecordedRequest> {
    await app.get(WebhookPublisher).flush();
    const r = fake.eventRequests().at(-1)!;
    expect(r.route).toBe(route);
    expect(r.headers.authorization).toBe(`Bearer ${fake.apiKey}`);
    expect(r.headers['x-convoy-version']).toBe('2025-11-24');
    expect(r.headers['content-type']).toBe('application/json');
    expect(r.body).toEqual({ ...expected, idempotency_key: expect.stringMatching(UUID) });
    expect(r.rawBody).toBe(JSON.stringify(r.body)); // compact, nothing pretty-printed
    return r;
  }

  it('GET / publishes ping', async () => {
    expect(await call(url, 'GET', '/')).toEqual({ status: 200, body: { message: 'pong' } });
    await nextEvent('/events/broadcast', { event_type: 'ping', data: { message: 'pong' } });
  });

  it('each todo route publishes its event, broadcast by default, to ?endpoint= when given', async () => {
    const created = await call(url, 'POST', '/todos', TUTORIAL_TODO);
    expect(created.status).toBe(201);
    const todo = created.body;
    expect(todo).toEqual({
      ...TUTORIAL_TODO,
      completed: false,
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });
    await nextEvent('/events/broadcast', { event_type: 'todo.created', data: todo });

    const list = await call(url, 'GET', '/todos');
    expect(list).toEqual({ status: 200, body: [todo] });
    await nextEvent('/events/broadcast', { event_type: 'todo.retrieved', data: { todos: [todo] } });

    expect((await call(url, 'GET', '/todos/1')).body).toEqual(todo);
    await nextEvent('/events/broadcast', { event_type: 'todo.retrieved', data: todo });

    const updated = await call(url, 'PUT', '/todos/1', { item: 'Create a Convoy incoming project too' });
    expect(updated.body).toMatchObject({ id: 1, item: 'Create a Convoy incoming project too', completed: false });
    await nextEvent('/events/broadcast', { event_type: 'todo.updated', data: updated.body });

    const { uid } = fake.seedEndpoint({ name: 'receiver', url: 'https://receiver.example/hook' });
    const deleted = await call(url, 'DELETE', `/todos/1?endpoint=${uid}`);
    expect(deleted.body).toEqual(updated.body);
    await nextEvent('/events', { event_type: 'todo.deleted', data: updated.body, endpoint_id: uid });

    // One request per publish, each with its own idempotency key.
    const keys = fake.eventRequests().map((r) => r.body.idempotency_key);
    expect(keys).toHaveLength(5);
    expect(new Set(keys).size).toBe(5);
  });

  it('serves the OpenAPI 3.1 document of its webhooks at GET /openapi/webhooks.json, valid', async () => {
    const { status, body } = await call(url, 'GET', '/openapi/webhooks.json');
    expect(status).toBe(200);
    expect(await new Validator().validate(body)).toEqual({ valid: true });
    expect(body.info).toMatchObject({ title: 'Todo webhooks', version: '1.0.0' });
    expect(Object.keys(body.webhooks)).toEqual(Object.keys(todoEvents.events));
    expect(body.webhooks['todo.created'].post.parameters[0]).toMatchObject({
      name: 'X-Convoy-Signature',
      in: 'header',
    });
    expect(fake.eventRequests()).toHaveLength(0); // the route publishes nothing
  });

  it('checks payloads against its catalog: a wrong one is refused with the path, and nothing reaches Convoy', async () => {
    const publisher: WebhookPublisher = app.get(WebhookPublisher);
    const todo = (await call(url, 'POST', '/todos', TUTORIAL_TODO)).body;
    await publisher.flush();
    const error = await publisher.publish('todo.updated', { ...todo, completed: 'yes' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WebhookValidationError);
    expect(error).toMatchObject({ field: 'data.completed' });
    await expect(publisher.publish('todo.archived', todo)).rejects.toThrow(
      /"todo\.archived" is not in the event catalog/,
    );
    await publisher.flush();
    expect(fake.eventRequests().map((r) => r.body.event_type)).toEqual(['todo.created']);
  });

  it('POST /todos without an id takes the next free one; an id already taken answers 409', async () => {
    expect((await call(url, 'POST', '/todos', { id: 5, item: 'five' })).body).toMatchObject({ id: 5, item: 'five' });
    expect((await call(url, 'POST', '/todos', { item: 'next' })).body).toMatchObject({ id: 6, item: 'next' });
    expect((await call(url, 'POST', '/todos', { item: 'done', completed: true })).body).toMatchObject({
      id: 7,
      completed: true,
    });
    expect(await call(url, 'POST', '/todos', { id: 5, item: 'again' })).toEqual({
      status: 409,
      body: { statusCode: 409, message: 'Todo 5 already exists', error: 'Conflict' },
    });
    expect((await call(url, 'POST', '/todos', { id: 0, item: 'zero' })).status).toBe(400);
    expect((await call(url, 'POST', '/todos', { id: '1', item: 'a string id' })).status).toBe(400);
    expect((await call(url, 'PUT', '/todos/5', {})).body.message).toBe('Expected item and/or completed');
    expect((await call(url, 'PUT', '/todos/5', { completed: true })).body).toMatchObject({
      item: 'five',
      completed: true,
    });
  });

  it('GET /todos/abc answers 400 and publishes todo.failure without an id, logging no error', async () => {
    expect(await call(url, 'GET', '/todos/abc')).toEqual({
      status: 400,
      body: { statusCode: 400, message: 'Validation failed (numeric string is expected)', error: 'Bad Request' },
    });
    await nextEvent('/events/broadcast', {
      event_type: 'todo.failure',
      data: { operation: 'retrieve', status: 400, error: 'Validation failed (numeric string is expected)' },
    });
    expect((await call(url, 'DELETE', '/todos/1e3')).status).toBe(400);
    await nextEvent('/events/broadcast', {
      event_type: 'todo.failure',
      data: { operation: 'delete', status: 400, error: 'Validation failed (numeric string is expected)' },
    });
    expect(errorLines(logs)).toEqual([]);
  });

  it('a missing todo gives the client 404 and publishes todo.failure', async () => {
    const response = await call(url, 'GET', '/todos/42');
    expect(response).toEqual({
      status: 404,
      body: { statusCode: 404, message: 'Todo 42 not found', error: 'Not Found' },
    });
    await nextEvent('/events/broadcast', {
      event_type: 'todo.failure',
      data: { operation: 'retrieve', id: 42, status: 404, error: 'Todo 42 not found' },
    });
    expect(fake.eventRequests().map((r) => r.body.event_type)).toEqual(['todo.failure']);

    expect((await call(url, 'PUT', '/todos/7', { item: 'x' })).status).toBe(404);
    await nextEvent('/events/broadcast', {
      event_type: 'todo.failure',
      data: { operation: 'update', id: 7, status: 404, error: 'Todo 7 not found' },
    });
    // The body of the sample's first version: the tutorials' todo has an item, not a title.
    expect((await call(url, 'POST', '/todos', { title: 'Buy milk' })).status).toBe(400);
    await nextEvent('/events/broadcast', {
      event_type: 'todo.failure',
      data: { operation: 'create', status: 400, error: 'item must be a non-empty string' },
    });
  });

  it('Convoy answering 503 for a while does not fail the request; the event arrives once Convoy recovers', async () => {
    fake.setRule((r) => (r.method === 'POST' && r.route.startsWith('/events') ? { status: 503 } : undefined));
    const created = await call(url, 'POST', '/todos', { item: 'During the outage' });
    expect(created.status).toBe(201);
    // The request did not wait for Convoy's retries.
    await waitUntil('two attempts reached Convoy', () => fake.eventRequests().length >= 2);
    expect(fake.events.size).toBe(0);
    fake.setRule(undefined);
    const [event] = await fake.waitForEvents(1);
    expect(event).toMatchObject({ event_type: 'todo.created', data: created.body });
    const attempts = fake.eventRequests();
    expect(attempts.length).toBeGreaterThanOrEqual(3);
    // Every attempt carried the same idempotency key, so Convoy could drop a duplicate.
    expect(new Set(attempts.map((r) => r.body.idempotency_key)).size).toBe(1);
  });

  it('shutdown sends what was still buffered, and says so in one line', async () => {
    fake.setRule((r) => (r.route.startsWith('/events') ? { status: 503 } : undefined));
    const items = ['one', 'two', 'three'];
    for (const item of items) expect((await call(url, 'POST', '/todos', { item })).status).toBe(201);
    await waitUntil('every event was tried once', () => fake.eventRequests().length >= items.length);
    expect(fake.events.size).toBe(0);
    // Convoy recovers while the app is shutting down; close() resolves only after everything was sent.
    setTimeout(() => fake.setRule(undefined), 200);
    await app.close();
    closed = true;
    expect(
      fake
        .acceptedEvents()
        .map((e) => (e.data as { item: string }).item)
        .sort(),
    ).toEqual([...items].sort());
    expect(shutdownLines(logs)).toEqual([
      { level: 'log', message: 'Shut down: 3 delivered, nothing left in memory', context: expect.any(String) },
    ]);
  });

  it('manages Convoy endpoints: create (with a catch-all subscription), list, get, update, delete', async () => {
    const created = await call(url, 'POST', '/endpoints', {
      name: 'receiver',
      url: 'https://receiver.example/hook',
      owner_id: 'acme',
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name: 'receiver',
      url: 'https://receiver.example/hook',
      owner_id: 'acme',
      status: 'active',
    });
    const id = created.body.uid;
    expect([...fake.subscriptions.values()].map((s) => s.endpoint_id)).toEqual([id]);

    expect((await call(url, 'GET', '/endpoints')).body.map((e: { uid: string }) => e.uid)).toEqual([id]);
    expect((await call(url, 'GET', `/endpoints/${id}`)).body.uid).toBe(id);
    const updated = await call(url, 'PUT', `/endpoints/${id}`, { description: 'updated' });
    expect(updated.body).toMatchObject({ uid: id, name: 'receiver', description: 'updated' });
    const put = fake.requests.filter((r) => r.method === 'PUT').at(-1)!;
    expect(put.body).toMatchObject({ name: 'receiver', url: 'https://receiver.example/hook', description: 'updated' });
    expect(await call(url, 'DELETE', `/endpoints/${id}`)).toEqual({ status: 200, body: { deleted: id } });
    expect(fake.endpoints.size).toBe(0);
  });

  it("passes Convoy's 4xx through and reports Convoy being down as 502", async () => {
    expect(await call(url, 'GET', '/endpoints/nope')).toEqual({
      status: 404,
      body: { statusCode: 404, message: 'No endpoint with id "nope"' },
    });
    // Convoy answers 400 (not 404) to a write on an unknown endpoint; the API still says 404.
    expect((await call(url, 'DELETE', '/endpoints/nope')).status).toBe(404);
    const invalid = await call(url, 'POST', '/endpoints', { url: 'not-a-url' });
    expect(invalid.status).toBe(400);
    expect(invalid.body.message).toMatch(/^Invalid endpoint: url /);
    expect(fake.requests.filter((r) => r.method === 'POST' && r.route === '/endpoints')).toHaveLength(0);
    fake.setRule(() => ({ status: 500 }));
    expect(await call(url, 'GET', '/endpoints')).toEqual({
      status: 502,
      body: { statusCode: 502, message: 'Convoy is unavailable, try again later' },
    });
  });
});

/** A resolver standing in for DNS: only these names resolve; anything else fails as getaddrinfo does. */
const fakeDns: LookupAll = async (hostname) => {
  const answers: Record<string, string> = { 'public.example': '93.184.215.14', 'intranet.example': '10.1.2.3' };
  const address = answers[hostname];
  if (address) return [{ address, family: 4 }];
  throw Object.assign(new Error(`getaddrinfo EAI_AGAIN ${hostname}`), {
    code: 'EAI_AGAIN',
    syscall: 'getaddrinfo',
    hostname,
  });
};

describe('sample app without Convoy credentials (the embedded engine)', () => {
  let app: INestApplication;
  let url: string;
  let logs: LogLine[];
  let closed: boolean;
  beforeEach(async () => {
    closed = false;
    ({ app, url, logs } = await startSample({}, { lookup: fakeDns }));
  });
  afterEach(async () => {
    if (!closed) await app.close();
    clearSampleEnv();
  });

  /** Polls the demo receiver until `count` verified webhooks arrived. */
  async function received(count: number): Promise<Array<{ idempotency_key: string; payload: unknown }>> {
    let list: Array<{ idempotency_key: string; payload: unknown }> = [];
    await waitUntil(
      `${count} verified webhooks at the demo receiver`,
      async () => (list = (await call(url, 'GET', '/receiver')).body).length >= count,
    );
    return list;
  }

  it("the README's steps: an endpoint at the demo receiver, the tutorials' todo, the verified webhook, shutdown", async () => {
    const endpoint = await call(url, 'POST', '/endpoints', {
      name: 'demo',
      url: `${url}/receiver`,
      secret: 'demo-receiver-secret',
    });
    expect(endpoint.status).toBe(201);
    expect(endpoint.body).toMatchObject({
      name: 'demo',
      status: 'active',
      event_types: ['*'],
      advanced_signatures: true,
    });
    // The sample registers its catalog: an endpoint subscribing to a type it never publishes is refused.
    const typo = await call(url, 'POST', '/endpoints', {
      name: 'typo',
      url: `${url}/receiver`,
      event_types: ['todo.cretaed'],
    });
    expect(typo.status).toBe(400);
    expect(typo.body.message).toContain(
      'event_types names event types that are not in the event catalog: "todo.cretaed"',
    );
    const todo = await call(url, 'POST', '/todos', TUTORIAL_TODO);
    expect(todo.status).toBe(201);
    expect(todo.body).toMatchObject(TUTORIAL_TODO);
    const [webhook] = await received(1);
    expect(webhook!.payload).toEqual(todo.body);

    // The log shows the delivery and its one successful attempt.
    const deliveries = (await call(url, 'GET', `/deliveries?endpoint=${endpoint.body.uid}`)).body;
    expect(deliveries).toHaveLength(1);
    expect(deliveries[0]).toMatchObject({
      event_type: 'todo.created',
      status: 'Success',
      idempotency_key: webhook!.idempotency_key,
    });
    const attempts = (await call(url, 'GET', `/deliveries/${deliveries[0].uid}/attempts`)).body;
    expect(attempts).toMatchObject([{ http_status: '200 OK', status: true }]);

    // Ctrl-C: one line says what was delivered and that nothing is left.
    await app.close();
    closed = true;
    expect(shutdownLines(logs)).toEqual([
      { level: 'log', message: 'Shut down: 1 delivered, nothing left in memory', context: 'DeliveryPipeline:embedded' },
    ]);
    expect(errorLines(logs)).toEqual([]);
  });

  it('GET /receiver?wait=1 answers as soon as the first webhook arrives', async () => {
    const body = JSON.stringify({ hello: 'receiver' });
    const started = Date.now();
    const waiting = call(url, 'GET', '/receiver?wait=1');
    // Posted while the GET waits (had it not reached the app yet, it would find the webhook there at once).
    await new Promise((resolve) => setTimeout(resolve, 200));
    const signature = signConvoyPayload(body, { secrets: ['demo-receiver-secret'], advanced: true });
    const posted = await request(`${url}/receiver`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-convoy-signature': signature },
      body,
    });
    expect(posted.statusCode).toBe(200);
    await posted.body.dump();
    expect((await waiting).body).toMatchObject([{ payload: { hello: 'receiver' } }]);
    expect(Date.now() - started).toBeLessThan(RECEIVER_WAIT_MS);
  });

  it('GET /receiver?wait=1 waits at most 2 s when nothing arrives; without wait it answers at once', async () => {
    const started = Date.now();
    expect(await call(url, 'GET', '/receiver?wait=1')).toEqual({ status: 200, body: [] });
    const waited = Date.now() - started;
    expect(waited).toBeGreaterThanOrEqual(RECEIVER_WAIT_MS - 50);
    expect(waited).toBeLessThan(RECEIVER_WAIT_MS + 5_000);
    expect(RECEIVER_WAIT_MS).toBe(2_000);
    const again = Date.now();
    expect(await call(url, 'GET', '/receiver')).toEqual({ status: 200, body: [] });
    expect(Date.now() - again).toBeLessThan(RECEIVER_WAIT_MS - 50);
  });

  it('the demo receiver refuses a simple signature, even with the right secret', async () => {
    const body = JSON.stringify({ simple: true });
    const answer = await request(`${url}/receiver`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-convoy-signature': signConvoyPayload(body, { secrets: ['demo-receiver-secret'], advanced: false }),
      },
      body,
    });
    expect(answer.statusCode).toBe(401);
    await answer.body.dump();
    expect((await call(url, 'GET', '/receiver')).body).toEqual([]);
    expect(logs.filter((l) => l.level === 'warn').map((l) => l.message)).toEqual([
      expect.stringMatching(/^Rejected a webhook for ReceiverController\.receive: simple_signature_refused \(/),
    ]);
  });

  it('the demo receiver refuses a webhook signed with another secret, and the log shows the 401', async () => {
    const endpoint = (
      await call(url, 'POST', '/endpoints', { url: `${url}/receiver`, secret: 'not-the-receiver-secret' })
    ).body;
    await call(url, 'GET', '/');
    let attempts: Array<{ http_status: string }> = [];
    await waitUntil('a first attempt in the log', async () => {
      const [delivery] = (await call(url, 'GET', `/deliveries?endpoint=${endpoint.uid}`)).body;
      if (delivery) attempts = (await call(url, 'GET', `/deliveries/${delivery.uid}/attempts`)).body;
      return attempts.length > 0;
    });
    expect(attempts[0]!.http_status).toBe('401 Unauthorized');
    expect((await call(url, 'GET', '/receiver')).body).toEqual([]);
  });

  it("the SSRF guard as the README says: loopback and public addresses pass, private ones don't", async () => {
    const blocked = await call(url, 'POST', '/endpoints', { url: 'http://10.0.0.1/hook' });
    expect(blocked.status).toBe(400);
    expect(blocked.body.message).toMatch(/^Invalid endpoint: url .*10\.0\.0\.1.*private/);
    const resolvedPrivate = await call(url, 'POST', '/endpoints', { url: 'http://intranet.example/hook' });
    expect(resolvedPrivate.status).toBe(400);
    expect(resolvedPrivate.body.message).toMatch(/^Invalid endpoint: url .*resolves to 10\.1\.2\.3.*private/);
    // Created and deleted at once: nothing is published meanwhile, so nothing is sent to it.
    const loopback = await call(url, 'POST', '/endpoints', { url: 'http://localhost:9/hook' });
    const publicHost = await call(url, 'POST', '/endpoints', { url: 'http://public.example/hook' });
    expect([loopback.status, publicHost.status]).toEqual([201, 201]);
    for (const { uid } of [loopback.body, publicHost.body]) {
      expect((await call(url, 'DELETE', `/endpoints/${uid}`)).status).toBe(200);
    }
    expect((await call(url, 'GET', '/endpoints/nope')).status).toBe(404);
    expect((await call(url, 'GET', '/deliveries/nope')).status).toBe(404);
  });

  it('a host that does not resolve answers 400 with InvalidEndpointError, on create and on update', async () => {
    const created = await call(url, 'POST', '/endpoints', { url: 'http://example.com/hook' });
    expect(created).toEqual({
      status: 400,
      body: {
        statusCode: 400,
        message: new InvalidEndpointError(
          'url',
          `host "example.com" could not be resolved (EAI_AGAIN); check the name and this machine's DNS`,
        ).message,
      },
    });
    const endpoint = (await call(url, 'POST', '/endpoints', { url: `${url}/receiver` })).body;
    const updated = await call(url, 'PUT', `/endpoints/${endpoint.uid}`, { url: 'https://Nowhere.Example:8443/x?t=1' });
    expect(updated.status).toBe(400);
    expect(updated.body.message).toBe(
      `Invalid endpoint: url host "nowhere.example" could not be resolved (EAI_AGAIN); check the name and this machine's DNS`,
    );
    expect((await call(url, 'GET', `/endpoints/${endpoint.uid}`)).body.url).toBe(`${url}/receiver`);
    expect(errorLines(logs)).toEqual([]);
  });
});

describe('sample app on its default storage (PGlite on disk)', () => {
  it('keeps endpoints, the delivery log and undelivered events across a restart', async () => {
    const { mkdtemp, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const dataDir = await mkdtemp(`${tmpdir()}/nc-sample-`);
    const env = { CONVOY_STORAGE: '', CONVOY_DATA_DIR: dataDir };
    try {
      const first = await startSample(env);
      let { app, url } = first;
      const endpoint = (
        await call(url, 'POST', '/endpoints', { name: 'demo', url: `${url}/receiver`, secret: 'demo-receiver-secret' })
      ).body;
      expect((await call(url, 'POST', '/todos', { item: 'before the restart' })).status).toBe(201);
      await app.get(WebhookPublisher).flush();
      await app.close();
      // One line: delivered, handed back unsent, or pending in storage (the one delivery is one of them).
      const [line, ...more] = shutdownLines(first.logs);
      expect(more).toEqual([]);
      const counts =
        /^Shut down: (\d+) delivered here, (\d+) claimed and handed back unsent, (\d+) pending stay stored for the next start$/.exec(
          line?.message ?? '',
        );
      expect(counts).not.toBeNull();
      expect(Number(counts![1]) + Number(counts![3])).toBe(1);

      ({ app, url } = await startSample(env));
      try {
        expect((await call(url, 'GET', `/endpoints/${endpoint.uid}`)).body).toMatchObject({
          uid: endpoint.uid,
          name: 'demo',
        });
        const log = (await call(url, 'GET', `/deliveries?endpoint=${endpoint.uid}`)).body;
        expect(log).toHaveLength(1);
        expect(log[0]).toMatchObject({
          event_type: 'todo.created',
          status: expect.stringMatching(/^(Success|Retry|Failure)$/),
        });
        expect((await app.get(WebhookPublisher).stats()).durable).toBe(true);

        // The database gone (its PGlite closed): the management routes answer 503 with our error, not a 500.
        await (app.get(CONVOY_OPTIONS) as ResolvedConvoyOptions).storage!.close();
        for (const path of ['/endpoints', '/deliveries'])
          expect(await call(url, 'GET', path)).toEqual({
            status: 503,
            body: { statusCode: 503, message: expect.stringMatching(/^The webhook storage is unavailable \(/) },
          });
      } finally {
        await app.close();
      }
    } finally {
      clearSampleEnv();
      await rm(dataDir, { recursive: true, force: true });
      await rm(`${dataDir}.lock`, { recursive: true, force: true });
    }
  });
});
