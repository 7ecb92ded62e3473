import { ConvoyClient } from '../../../lib/index.js';
import { PACKAGE_VERSION } from '../../../lib/version.js';
import { FakeConvoy, type RecordedRequest } from '../../support/fake-convoy.js';

/** Every resource method: the HTTP method, path, query, headers and exact body it sends, and what it returns. */
describe('ConvoyClient resources', () => {
  let fake: FakeConvoy;
  let client: ConvoyClient;

  beforeAll(async () => {
    fake = await FakeConvoy.start({ licensed: true }); // portal links, filters and search answer as on a licensed Convoy
    client = new ConvoyClient(fake.clientOptions);
  });
  afterAll(async () => {
    await client.close();
    await fake.close();
  });

  function last(): RecordedRequest {
    return fake.requests[fake.requests.length - 1]!;
  }

  function expectRequest(
    method: string,
    route: string,
    opts: { query?: Record<string, string | string[]>; body?: unknown } = {},
  ): void {
    const r = last();
    expect(r.method).toBe(method);
    expect(r.path).toBe(`/api/v1/projects/${fake.projectId}${route}`);
    const query: Record<string, string | string[]> = {};
    for (const key of new Set(r.query.keys())) {
      const all = r.query.getAll(key);
      query[key] = all.length > 1 ? all : all[0]!;
    }
    expect(query).toEqual(opts.query ?? {});
    expect(r.headers.authorization).toBe(`Bearer ${fake.apiKey}`);
    expect(r.headers['x-convoy-version']).toBe('2025-11-24');
    expect(r.headers['user-agent']).toBe(`nestjs-convoy/${PACKAGE_VERSION}`);
    expect(r.headers.accept).toBe('application/json');
    if (opts.body === undefined) {
      expect(r.headers['content-type']).toBeUndefined();
      expect(r.rawBody).toBe('');
    } else {
      expect(r.headers['content-type']).toBe('application/json');
      // Compact JSON, exactly: Convoy signs the compacted bytes.
      expect(r.rawBody).toBe(JSON.stringify(opts.body));
    }
  }

  let endpointId: string;
  let ownerEndpointId: string;

  it('endpoints: create, list, iterate, get, update, pause, activate, expireSecret, delete', async () => {
    const created = await client.endpoints.create({
      name: 'receiver',
      url: 'https://example.com/hook',
      owner_id: 'acme',
      http_timeout: 10,
    });
    expectRequest('POST', '/endpoints', {
      body: { name: 'receiver', url: 'https://example.com/hook', owner_id: 'acme', http_timeout: 10 },
    });
    expect(created).toMatchObject({
      name: 'receiver',
      url: 'https://example.com/hook',
      owner_id: 'acme',
      status: 'active',
      advanced_signatures: true,
    });
    expect(created.uid).toEqual(expect.any(String));
    expect(created.secrets).toHaveLength(1);
    endpointId = created.uid;
    ownerEndpointId = (
      await client.endpoints.create({ name: 'second', url: 'https://example.com/2', owner_id: 'acme' })
    ).uid;

    const page = await client.endpoints.list({ perPage: 1, ownerId: 'acme', q: 'e' });
    expectRequest('GET', '/endpoints', { query: { perPage: '1', ownerId: 'acme', q: 'e' } });
    expect(page.content.map((e) => e.uid)).toEqual([ownerEndpointId]);
    expect(page.pagination).toMatchObject({ per_page: 1, has_next_page: true, next_page_cursor: endpointId });

    const all: string[] = [];
    for await (const endpoint of client.endpoints.iterate({ perPage: 1 })) all.push(endpoint.uid);
    expect(all).toEqual([ownerEndpointId, endpointId]);

    expect((await client.endpoints.get(endpointId)).uid).toBe(endpointId);
    expectRequest('GET', `/endpoints/${endpointId}`);

    const updated = await client.endpoints.update(endpointId, {
      name: 'renamed',
      url: 'https://example.com/hook',
      description: 'd',
    });
    expectRequest('PUT', `/endpoints/${endpointId}`, {
      body: { name: 'renamed', url: 'https://example.com/hook', description: 'd' },
    });
    expect(updated).toMatchObject({ name: 'renamed', description: 'd' });

    expect((await client.endpoints.pause(endpointId)).status).toBe('paused');
    expectRequest('PUT', `/endpoints/${endpointId}/pause`);
    expect((await client.endpoints.activate(endpointId)).status).toBe('active');
    expectRequest('POST', `/endpoints/${endpointId}/activate`);

    const rotated = await client.endpoints.expireSecret(endpointId, { secret: 'new-secret-value', expiration: 3600 });
    expectRequest('PUT', `/endpoints/${endpointId}/expire_secret`, {
      body: { secret: 'new-secret-value', expiration: 3600 },
    });
    expect(rotated.secrets.map((s) => s.value)).toContain('new-secret-value');
    expect(rotated.secrets[0]!.expires_at).toEqual(expect.any(String));

    const gone = await client.endpoints.create({ name: 'tmp', url: 'https://example.com/tmp' });
    const ack = await client.endpoints.delete(gone.uid);
    expectRequest('DELETE', `/endpoints/${gone.uid}`);
    expect(ack).toEqual({ message: 'Endpoint deleted successfully', requestId: expect.any(String), status: 200 });
  });

  it('events: create, fanout, broadcast, dynamic carry the idempotency key and custom headers', async () => {
    const common = {
      event_type: 'todo.created',
      data: { id: 1, title: 'a "quoted" title' },
      custom_headers: { 'X-Tenant': 't1' },
      idempotency_key: 'key-1',
    };
    const ack = await client.events.create({ endpoint_id: endpointId, ...common });
    expectRequest('POST', '/events', { body: { endpoint_id: endpointId, ...common } });
    expect(ack.message).toBe('Event queued successfully');

    await client.events.fanout({ owner_id: 'acme', ...common, idempotency_key: 'key-2' });
    expectRequest('POST', '/events/fanout', { body: { owner_id: 'acme', ...common, idempotency_key: 'key-2' } });

    await client.events.broadcast({ ...common, idempotency_key: 'key-3' });
    expectRequest('POST', '/events/broadcast', { body: { ...common, idempotency_key: 'key-3' } });

    await client.events.dynamic({
      url: 'https://dyn.example.com/h',
      secret: 's3cret',
      event_types: ['todo.*'],
      ...common,
      idempotency_key: 'key-4',
    });
    expectRequest('POST', '/events/dynamic', {
      body: {
        url: 'https://dyn.example.com/h',
        secret: 's3cret',
        event_types: ['todo.*'],
        ...common,
        idempotency_key: 'key-4',
      },
    });
    expect(fake.events.size).toBe(4);
  });

  it('events: list with filters, iterate, get, replay, batchReplay, countBatchReplay', async () => {
    const page = await client.events.list({
      perPage: 2,
      endpointId: [endpointId, ownerEndpointId],
      idempotencyKey: 'key-1',
      startDate: new Date('2026-01-02T03:04:05.678Z'),
      sort: 'DESC',
    });
    expectRequest('GET', '/events', {
      query: {
        perPage: '2',
        endpointId: [endpointId, ownerEndpointId],
        idempotencyKey: 'key-1',
        startDate: '2026-01-02T03:04:05',
        sort: 'DESC',
      },
    });
    expect(page.content).toHaveLength(1);
    const event = page.content[0]!;
    expect(event).toMatchObject({
      event_type: 'todo.created',
      idempotency_key: 'key-1',
      data: { id: 1, title: 'a "quoted" title' },
    });

    const types: string[] = [];
    for await (const e of client.events.iterate({ perPage: 3 })) types.push(e.idempotency_key!);
    expect(types).toEqual(['key-4', 'key-3', 'key-2', 'key-1']);
    // 4 events at 3 a page: two pages, the second asked for with the cursor Convoy returned.
    const pageRequests = fake.requests.filter((r) => r.method === 'GET' && r.route === '/events').slice(-2);
    expect(pageRequests[1]!.query.get('direction')).toBe('next');
    expect(pageRequests[1]!.query.get('next_page_cursor')).toEqual(expect.any(String));

    expect((await client.events.get(event.uid)).uid).toBe(event.uid);
    expectRequest('GET', `/events/${event.uid}`);
    expect((await client.events.replay(event.uid)).uid).toBe(event.uid);
    expectRequest('PUT', `/events/${event.uid}/replay`);

    const replayed = await client.events.batchReplay({ endpointId: [endpointId], startDate: '2026-01-01T00:00:00' });
    expectRequest('POST', '/events/batchreplay', {
      query: { endpointId: endpointId, startDate: '2026-01-01T00:00:00' },
    });
    expect(replayed.message).toMatch(/^\d+ successful, 0 failed$/);
    expect(await client.events.countBatchReplay({ endpointId: [endpointId] })).toBe(
      fake.acceptedEvents().filter((e) => e.endpoints.includes(endpointId)).length,
    );
    expectRequest('GET', '/events/countbatchreplayevents', { query: { endpointId } });
  });

  it('subscriptions: create, list, iterate, get, update, delete, testFilter', async () => {
    const body = { name: 'all', endpoint_id: endpointId, filter_config: { event_types: ['todo.*'] } };
    const sub = await client.subscriptions.create(body);
    expectRequest('POST', '/subscriptions', { body });
    expect(sub).toMatchObject({ name: 'all', filter_config: { event_types: ['todo.*'] } });

    const page = await client.subscriptions.list({ endpointId: [endpointId], name: 'all' });
    expectRequest('GET', '/subscriptions', { query: { endpointId, name: 'all' } });
    expect(page.content.map((s) => s.uid)).toEqual([sub.uid]);
    const iterated = [];
    for await (const s of client.subscriptions.iterate()) iterated.push(s.uid);
    expect(iterated).toEqual([sub.uid]);

    expect((await client.subscriptions.get(sub.uid)).uid).toBe(sub.uid);
    expectRequest('GET', `/subscriptions/${sub.uid}`);
    expect((await client.subscriptions.update(sub.uid, { name: 'renamed' })).name).toBe('renamed');
    expectRequest('PUT', `/subscriptions/${sub.uid}`, { body: { name: 'renamed' } });

    expect(
      await client.subscriptions.testFilter({ schema: { body: { kind: 'a' } }, request: { body: { kind: 'a' } } }),
    ).toBe(true);
    expectRequest('POST', '/subscriptions/test_filter', {
      body: { schema: { body: { kind: 'a' } }, request: { body: { kind: 'a' } } },
    });
    expect(
      await client.subscriptions.testFilter({ schema: { body: { kind: 'a' } }, request: { body: { kind: 'b' } } }),
    ).toBe(false);

    await client.subscriptions.delete(sub.uid);
    expectRequest('DELETE', `/subscriptions/${sub.uid}`);
    expect(fake.subscriptions.size).toBe(0);
  });

  it('event deliveries and delivery attempts', async () => {
    const page = await client.eventDeliveries.list({
      endpointId: [endpointId],
      status: ['Success', 'Failure'],
      eventType: 'todo.created',
      perPage: 50,
    });
    expectRequest('GET', '/eventdeliveries', {
      query: { endpointId, status: ['Success', 'Failure'], eventType: 'todo.created', perPage: '50' },
    });
    expect(page.content.length).toBeGreaterThan(0);
    const delivery = page.content[0]!;
    expect(delivery).toMatchObject({ endpoint_id: endpointId, status: 'Success', metadata: { num_trials: 1 } });
    const iterated = [];
    for await (const d of client.eventDeliveries.iterate({ endpointId: [endpointId] })) iterated.push(d.uid);
    expect(iterated).toContain(delivery.uid);

    expect((await client.eventDeliveries.get(delivery.uid)).uid).toBe(delivery.uid);
    expectRequest('GET', `/eventdeliveries/${delivery.uid}`);

    fake.deliveries.get(delivery.uid)!.status = 'Failure';
    expect((await client.eventDeliveries.resend(delivery.uid)).status).toBe('Scheduled');
    expectRequest('PUT', `/eventdeliveries/${delivery.uid}/resend`);

    fake.deliveries.get(delivery.uid)!.status = 'Success';
    expect((await client.eventDeliveries.forceResend([delivery.uid])).message).toBe('1 successful, 0 failed');
    expectRequest('POST', '/eventdeliveries/forceresend', { body: { ids: [delivery.uid] } });

    await client.eventDeliveries.batchRetry({ endpointId: [endpointId], status: ['Failure'] });
    expectRequest('POST', '/eventdeliveries/batchretry', { query: { endpointId, status: 'Failure' } });

    const attempts = await client.deliveryAttempts.list(delivery.uid);
    expectRequest('GET', `/eventdeliveries/${delivery.uid}/deliveryattempts`);
    expect(attempts).toHaveLength(1);
    expect(attempts[0]).toMatchObject({ http_status: '200 OK', status: true });
    expect((await client.deliveryAttempts.get(delivery.uid, attempts[0]!.uid)).uid).toBe(attempts[0]!.uid);
    expectRequest('GET', `/eventdeliveries/${delivery.uid}/deliveryattempts/${attempts[0]!.uid}`);
  });

  it('portal links', async () => {
    const link = await client.portalLinks.create({ name: 'acme portal', owner_id: 'acme', can_manage_endpoint: true });
    expectRequest('POST', '/portal-links', {
      body: { name: 'acme portal', owner_id: 'acme', can_manage_endpoint: true },
    });
    expect(link).toMatchObject({ name: 'acme portal', owner_id: 'acme', can_manage_endpoint: true });

    expect((await client.portalLinks.list({ ownerId: 'acme' })).content.map((l) => l.uid)).toEqual([link.uid]);
    expectRequest('GET', '/portal-links', { query: { ownerId: 'acme' } });
    const iterated = [];
    for await (const l of client.portalLinks.iterate({ ownerId: 'acme' })) iterated.push(l.uid);
    expect(iterated).toEqual([link.uid]);
    expect((await client.portalLinks.get(link.uid)).uid).toBe(link.uid);
    expectRequest('GET', `/portal-links/${link.uid}`);
    expect((await client.portalLinks.update(link.uid, { name: 'renamed', owner_id: 'acme' })).name).toBe('renamed');
    expectRequest('PUT', `/portal-links/${link.uid}`, { body: { name: 'renamed', owner_id: 'acme' } });
    const token = await client.portalLinks.refreshToken(link.uid);
    expectRequest('GET', `/portal-links/${link.uid}/refresh_token`);
    expect(token).toBe(fake.portalLinks.get(link.uid)!.token);
    await client.portalLinks.revoke(link.uid);
    expectRequest('PUT', `/portal-links/${link.uid}/revoke`);
    expect(fake.portalLinks.size).toBe(0);
  });

  it('event types', async () => {
    const created = await client.eventTypes.create({
      name: 'todo.created',
      category: 'todos',
      json_schema: { type: 'object' },
    });
    expectRequest('POST', '/event-types', {
      body: { name: 'todo.created', category: 'todos', json_schema: { type: 'object' } },
    });
    expect(created).toMatchObject({ name: 'todo.created', category: 'todos' });
    // Newest first, as Convoy orders them; every project has its "*" type.
    expect((await client.eventTypes.list()).map((t) => t.name)).toEqual(['todo.created', '*']);
    expectRequest('GET', '/event-types');
    expect((await client.eventTypes.update(created.uid, { description: 'A todo was created' })).description).toBe(
      'A todo was created',
    );
    expectRequest('PUT', `/event-types/${created.uid}`, { body: { description: 'A todo was created' } });
    expect((await client.eventTypes.deprecate(created.uid)).deprecated_at).toEqual(expect.any(String));
    expectRequest('POST', `/event-types/${created.uid}/deprecate`);
    const spec = 'webhooks:\n  todo.deleted:\n    post: {}\n';
    const imported = await client.eventTypes.import(spec);
    expectRequest('POST', '/event-types/import', { body: { spec } });
    expect(imported.map((t) => t.name)).toEqual(['todo.deleted']);
  });

  it('meta events', async () => {
    const seeded = fake.seedMetaEvent('endpoint.created');
    const page = await client.metaEvents.list({ perPage: 5, startDate: '2026-01-01T00:00:00' });
    expectRequest('GET', '/meta-events', { query: { perPage: '5', startDate: '2026-01-01T00:00:00' } });
    expect(page.content.map((m) => m.uid)).toEqual([seeded.uid]);
    const iterated = [];
    for await (const m of client.metaEvents.iterate()) iterated.push(m.uid);
    expect(iterated).toEqual([seeded.uid]);
    expect((await client.metaEvents.get(seeded.uid)).event_type).toBe('endpoint.created');
    expectRequest('GET', `/meta-events/${seeded.uid}`);
    expect((await client.metaEvents.resend(seeded.uid)).status).toBe('Scheduled');
    expectRequest('PUT', `/meta-events/${seeded.uid}/resend`);
  });

  it('request() reaches routes without a resource method, with the same envelope handling', async () => {
    const result = await client.request<unknown[]>({ method: 'GET', path: '/event-types' });
    expectRequest('GET', '/event-types');
    expect(result).toMatchObject({
      status: 200,
      message: 'Event types fetched successfully',
      requestId: expect.any(String),
    });
    expect(Array.isArray(result.data)).toBe(true);
  });

  it('escapes ids in paths', async () => {
    await expect(client.endpoints.get('a/b?c')).rejects.toMatchObject({ status: 404 });
    expect(last().path).toBe(`/api/v1/projects/${fake.projectId}/endpoints/a%2Fb%3Fc`);
  });
});
