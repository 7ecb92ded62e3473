import type { INestApplication } from '@nestjs/common';
import { request } from 'undici';
import { WebhookPublisher } from '../../lib/index.js';
import { FakeConvoy, type RecordedRequest } from '../support/fake-convoy.js';
import { clearSampleEnv, startSample } from '../support/sample-app.js';

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

/** The Todo sample against the Convoy-compatible test server: each route's webhook, as Convoy receives it. */
describe('sample app with Convoy', () => {
  let fake: FakeConvoy;
  let app: INestApplication;
  let url: string;
  let closed: boolean;

  beforeEach(async () => {
    fake = await FakeConvoy.start();
    closed = false;
    ({ app, url } = await startSample({ CONVOY_API_KEY: fake.apiKey, CONVOY_PROJECT_ID: fake.projectId, CONVOY_URL: fake.url }));
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
    const created = await call(url, 'POST', '/todos', { title: 'Buy milk' });
    expect(created.status).toBe(201);
    const todo = created.body;
    expect(todo).toMatchObject({ id: 1, title: 'Buy milk', completed: false });
    await nextEvent('/events/broadcast', { event_type: 'todo.created', data: todo });

    const list = await call(url, 'GET', '/todos');
    expect(list).toEqual({ status: 200, body: [todo] });
    await nextEvent('/events/broadcast', { event_type: 'todo.retrieved', data: { todos: [todo] } });

    expect((await call(url, 'GET', '/todos/1')).body).toEqual(todo);
    await nextEvent('/events/broadcast', { event_type: 'todo.retrieved', data: todo });

    const updated = await call(url, 'PUT', '/todos/1', { completed: true });
    expect(updated.body).toMatchObject({ id: 1, completed: true });
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

  it('a missing todo gives the client 404 and publishes todo.failure', async () => {
    const response = await call(url, 'GET', '/todos/42');
    expect(response).toEqual({ status: 404, body: { statusCode: 404, message: 'Todo 42 not found', error: 'Not Found' } });
    await nextEvent('/events/broadcast', { event_type: 'todo.failure', data: { operation: 'retrieve', id: 42, status: 404, error: 'Todo 42 not found' } });
    expect(fake.eventRequests().map((r) => r.body.event_type)).toEqual(['todo.failure']);

    expect((await call(url, 'PUT', '/todos/7', { title: 'x' })).status).toBe(404);
    await nextEvent('/events/broadcast', { event_type: 'todo.failure', data: { operation: 'update', id: 7, status: 404, error: 'Todo 7 not found' } });
    expect((await call(url, 'POST', '/todos', { title: '' })).status).toBe(400);
    await nextEvent('/events/broadcast', { event_type: 'todo.failure', data: { operation: 'create', status: 400, error: 'title must be a non-empty string' } });
  });

  it('Convoy answering 503 for a while does not fail the request; the event arrives once Convoy recovers', async () => {
    fake.setRule((r) => (r.method === 'POST' && r.route.startsWith('/events') ? { status: 503 } : undefined));
    const created = await call(url, 'POST', '/todos', { title: 'During the outage' });
    expect(created.status).toBe(201);
    // The request did not wait for Convoy's retries.
    while (fake.eventRequests().length < 2) await new Promise((r) => setTimeout(r, 20));
    expect(fake.events.size).toBe(0);
    fake.setRule(undefined);
    const [event] = await fake.waitForEvents(1);
    expect(event).toMatchObject({ event_type: 'todo.created', data: created.body });
    const attempts = fake.eventRequests();
    expect(attempts.length).toBeGreaterThanOrEqual(3);
    // Every attempt carried the same idempotency key, so Convoy could drop a duplicate.
    expect(new Set(attempts.map((r) => r.body.idempotency_key)).size).toBe(1);
  });

  it('shutdown sends what was still buffered', async () => {
    fake.setRule((r) => (r.route.startsWith('/events') ? { status: 503 } : undefined));
    const titles = ['one', 'two', 'three'];
    for (const title of titles) expect((await call(url, 'POST', '/todos', { title })).status).toBe(201);
    while (fake.eventRequests().length < titles.length) await new Promise((r) => setTimeout(r, 20));
    expect(fake.events.size).toBe(0);
    // Convoy recovers while the app is shutting down; close() resolves only after everything was sent.
    setTimeout(() => fake.setRule(undefined), 200);
    await app.close();
    closed = true;
    expect(fake.acceptedEvents().map((e) => (e.data as { title: string }).title).sort()).toEqual([...titles].sort());
  });

  it('manages Convoy endpoints: create (with a catch-all subscription), list, get, update, delete', async () => {
    const created = await call(url, 'POST', '/endpoints', { name: 'receiver', url: 'https://receiver.example/hook', owner_id: 'acme' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'receiver', url: 'https://receiver.example/hook', owner_id: 'acme', status: 'active' });
    const id = created.body.uid;
    expect([...fake.subscriptions.values()].map((s) => s.endpoint_metadata?.uid)).toEqual([id]);

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
    expect(await call(url, 'GET', '/endpoints/nope')).toEqual({ status: 404, body: { statusCode: 404, message: 'Resource not found' } });
    expect((await call(url, 'POST', '/endpoints', { url: 'not-a-url' })).status).toBe(400);
    fake.setRule(() => ({ status: 500 }));
    expect(await call(url, 'GET', '/endpoints')).toEqual({ status: 502, body: { statusCode: 502, message: 'Convoy is unavailable, try again later' } });
  });
});

describe('sample app without Convoy credentials', () => {
  afterEach(() => clearSampleEnv());

  it('serves the todo routes, logs the webhooks, and answers 503 for endpoint management', async () => {
    const { app, url } = await startSample({});
    try {
      expect((await call(url, 'POST', '/todos', { title: 'offline' })).status).toBe(201);
      await app.get(WebhookPublisher).flush();
      expect(app.get(WebhookPublisher).stats()).toMatchObject({ sent: 1, failed: 0 });
      const endpoints = await call(url, 'GET', '/endpoints');
      expect(endpoints.status).toBe(503);
      expect(endpoints.body.message).toMatch(/CONVOY_API_KEY/);
    } finally {
      await app.close();
    }
  });
});
