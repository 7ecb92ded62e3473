import { inspect } from 'node:util';
import {
  ConvoyClient,
  ConvoyError,
  ConvoyHttpError,
  ConvoyNetworkError,
  ConvoyTimeoutError,
} from '../../../lib/index.js';
import { ConvoyResponseError } from '../../../lib/client/index.js';
import { FakeConvoy } from '../../support/fake-convoy.js';

/** Errors, retries and timeouts of the HTTP layer, against the Convoy-compatible test server. */
describe('ConvoyClient over HTTP', () => {
  let fake: FakeConvoy;
  let client: ConvoyClient;
  const fastRetry = { attempts: 3, delayMs: 5, maxDelayMs: 20, maxRetryAfterMs: 2_000 };

  beforeEach(async () => {
    fake = await FakeConvoy.start();
    client = new ConvoyClient({ ...fake.clientOptions, retry: fastRetry, timeoutMs: 30_000 }); // tests of the timeout itself set a short one
  });
  afterEach(async () => {
    await client.close();
    await fake.close();
  });

  const gets = () => fake.requests.filter((r) => r.method === 'GET');
  const posts = () => fake.requests.filter((r) => r.method === 'POST');

  it('unwraps the envelope and reports a 2xx with a non-JSON body as ConvoyResponseError', async () => {
    // A new project has Convoy's default event type "*".
    expect((await client.eventTypes.list()).map((t) => t.name)).toEqual(['*']);
    fake.failNext({ status: 200, body: '<html>proxy</html>' });
    const error = await client.eventTypes.list().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConvoyResponseError);
    expect(error).toBeInstanceOf(ConvoyError);
    expect((error as Error).message).toMatch(/not JSON/);
  });

  it('does not read a response body beyond maxResponseBytes: ConvoyResponseError naming the option', async () => {
    const small = new ConvoyClient({ ...fake.clientOptions, retry: false, maxResponseBytes: 2_048 });
    try {
      const name = 'x'.repeat(1_000);
      for (let n = 0; n < 3; n++) await small.eventTypes.create({ name: `${name}.${n}` });
      const error = await small.eventTypes.list().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConvoyResponseError);
      expect((error as Error).message).toMatch(/longer than maxResponseBytes \(2048 bytes\)/);
      // The same answer within the bound is read as usual.
      expect(await client.eventTypes.list()).toHaveLength(4);
    } finally {
      await small.close();
    }
  });

  it.each([0, 1_023, 1.5])('refuses maxResponseBytes %p at construction', (maxResponseBytes) => {
    expect(() => new ConvoyClient({ ...fake.clientOptions, maxResponseBytes })).toThrow(/maxResponseBytes/);
  });

  it('turns an error envelope into ConvoyHttpError with status, Convoy message and X-Request-ID, without retrying a 400', async () => {
    const error = (await client.events
      .create({ endpoint_id: 'nope', event_type: 't', data: {}, idempotency_key: 'k' })
      .catch((e: unknown) => e)) as ConvoyHttpError;
    expect(error).toBeInstanceOf(ConvoyHttpError);
    expect(error.status).toBe(400);
    expect(error.convoyMessage).toBe('endpoint not found');
    expect(error.requestId).toMatch(/^fake\//);
    expect(error.retryable).toBe(false);
    expect(error.message).toContain(`POST /api/v1/projects/${fake.projectId}/events`);
    expect(posts()).toHaveLength(1);
  });

  it('retries a read on 429, waiting what Retry-After asks (capped by maxRetryAfterMs)', async () => {
    fake.failNext({ status: 429, headers: { 'Retry-After': '1' } });
    await client.endpoints.list();
    const [first, second] = gets();
    expect(gets()).toHaveLength(2);
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(950);

    // Retry-After of an hour is capped to maxRetryAfterMs (300 ms here).
    const capped = new ConvoyClient({ ...fake.clientOptions, retry: { ...fastRetry, maxRetryAfterMs: 300 } });
    fake.failNext({ status: 429, headers: { 'Retry-After': '3600' } });
    const started = Date.now();
    await capped.endpoints.list();
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(gets()).toHaveLength(4);
    await capped.close();
  });

  it('retries on 503 and on a reset connection, then succeeds', async () => {
    fake.failNext({ status: 503 }, { reset: true });
    const page = await client.endpoints.list();
    expect(page.content).toEqual([]);
    expect(gets()).toHaveLength(3);
  });

  it('gives up after `attempts` and throws the last error', async () => {
    fake.failNext({ status: 502 }, { status: 503 }, { status: 504 }, { status: 500 });
    const error = (await client.endpoints.list().catch((e: unknown) => e)) as ConvoyHttpError;
    expect(error).toBeInstanceOf(ConvoyHttpError);
    expect(error.status).toBe(504);
    expect(error.retryable).toBe(true);
    expect(gets()).toHaveLength(3);
  });

  it('retries event creation only when it carries an idempotency key', async () => {
    fake.failNext({ status: 503 });
    const endpoint = await client.endpoints.create({ name: 'e', url: 'https://example.com' }).catch((e: unknown) => e);
    expect(endpoint).toBeInstanceOf(ConvoyHttpError); // a POST without a key is never repeated
    expect(posts()).toHaveLength(1);

    const { uid } = await client.endpoints.create({ name: 'e', url: 'https://example.com' });
    fake.failNext({ status: 503 });
    await expect(client.events.create({ endpoint_id: uid, event_type: 't', data: { a: 1 } })).rejects.toMatchObject({
      status: 503,
    });
    expect(fake.eventRequests()).toHaveLength(1);

    fake.failNext({ status: 503 }, { reset: true });
    await client.events.create({ endpoint_id: uid, event_type: 't', data: { a: 1 }, idempotency_key: 'k1' });
    expect(fake.eventRequests()).toHaveLength(4);
    // All attempts carried the same key; Convoy stored it once.
    expect(
      new Set(
        fake
          .eventRequests()
          .slice(1)
          .map((r) => r.body.idempotency_key),
      ),
    ).toEqual(new Set(['k1']));
    expect(fake.events.size).toBe(1);
  });

  it('never retries a 4xx other than 429', async () => {
    for (const status of [401, 403, 404, 409, 422]) {
      fake.requests.length = 0;
      fake.failNext({ status });
      await expect(client.endpoints.list()).rejects.toMatchObject({ status, retryable: false });
      expect(gets()).toHaveLength(1);
    }
  });

  it('times out a request that gets no answer, retrying reads until attempts run out', async () => {
    fake.failNext({ hang: true }, { hang: true }, { hang: true });
    const short = new ConvoyClient({ ...fake.clientOptions, retry: fastRetry, timeoutMs: 150 });
    const error = (await short.endpoints.list().catch((e: unknown) => e)) as ConvoyTimeoutError;
    expect(error).toBeInstanceOf(ConvoyTimeoutError);
    expect(error.timeoutMs).toBe(150);
    expect(error.message).toMatch(/within 150 ms/);
    expect(gets()).toHaveLength(3);

    fake.failNext({ hang: true });
    await expect(short.endpoints.create({ name: 'x', url: 'https://x.example' })).rejects.toBeInstanceOf(
      ConvoyTimeoutError,
    );
    expect(posts()).toHaveLength(1);
    await short.close();
  });

  it('a per-call timeout and retry override the client defaults', async () => {
    fake.failNext({ status: 503 });
    await expect(client.endpoints.list(undefined, { retry: false })).rejects.toMatchObject({ status: 503 });
    expect(gets()).toHaveLength(1);
    fake.failNext({ hang: true });
    await expect(client.endpoints.list(undefined, { timeoutMs: 100, retry: false })).rejects.toMatchObject({
      timeoutMs: 100,
    });
  });

  it('reports refused connections as ConvoyNetworkError with the system code', async () => {
    await fake.refuseConnections();
    const error = (await client.endpoints.list().catch((e: unknown) => e)) as ConvoyNetworkError;
    expect(error).toBeInstanceOf(ConvoyNetworkError);
    expect(error.code).toBe('ECONNREFUSED');
    expect(error.retryable).toBe(true);
    await fake.acceptConnections();
    expect((await client.endpoints.list()).content).toEqual([]);
  });

  it('stops when the caller aborts, without retrying', async () => {
    fake.failNext({ hang: true });
    const controller = new AbortController();
    const pending = client.endpoints.list(undefined, { signal: controller.signal });
    setTimeout(() => controller.abort(new Error('caller gave up')), 50);
    await expect(pending).rejects.toThrow('caller gave up');
    expect(gets()).toHaveLength(1);
  });

  it('quotes a non-envelope error body briefly (e.g. the empty 415, a proxy page)', async () => {
    fake.failNext({ status: 502, body: '<html>Bad gateway from the proxy</html>' });
    await expect(client.endpoints.list(undefined, { retry: false })).rejects.toMatchObject({
      status: 502,
      convoyMessage: '<html>Bad gateway from the proxy</html>',
    });
    fake.failNext({ status: 415, body: '' });
    const unsupported = (await client.endpoints
      .list(undefined, { retry: false })
      .catch((e: unknown) => e)) as ConvoyHttpError;
    expect(unsupported).toMatchObject({ status: 415, convoyMessage: '', retryable: false });
    expect(unsupported.message).toContain('(no message)');
    const raw = await client.request({
      method: 'POST',
      path: '/endpoints',
      body: { name: 'a', url: 'https://a.example' },
    });
    expect(raw.status).toBe(201);
  });

  it('authenticates with basic auth for self-hosted file realms', async () => {
    const basicFake = await FakeConvoy.start({ basic: { username: 'admin', password: 'pa55word' } });
    const basic = new ConvoyClient({
      baseUrl: basicFake.url,
      projectId: basicFake.projectId,
      username: 'admin',
      password: 'pa55word',
    });
    await basic.endpoints.list();
    expect(basicFake.requests[0]!.headers.authorization).toBe(
      `Basic ${Buffer.from('admin:pa55word').toString('base64')}`,
    );
    await basic.close();
    await basicFake.close();
  });

  it('never shows the credential in errors, their serialization, or the inspected client', async () => {
    const wrong = new ConvoyClient({ ...fake.clientOptions, apiKey: 'CO.wrongmask000000.super-secret-key-value' });
    const error = (await wrong.endpoints.list().catch((e: unknown) => e)) as ConvoyHttpError;
    expect(error.status).toBe(401);
    expect(error.convoyMessage).toBe('authorization failed');
    for (const text of [
      String(error),
      error.stack ?? '',
      JSON.stringify(error),
      inspect(error, { depth: 5 }),
      inspect(wrong, { depth: 5, showHidden: true }),
    ]) {
      expect(text).not.toContain('super-secret-key-value');
    }
    await wrong.close();
  });
});
