import { isIP } from 'node:net';
import {
  InvalidEndpointError,
  WebhookValidationError,
  WebhookNotFoundError,
  WebhookStateError,
  type ConvoyEventDelivery,
  type WebhookEndpoint,
  type WebhookEndpoints,
} from '../../lib/index.js';
import type { LookupAll } from '../../lib/network/destination.js';
import { DestinationBlockedError } from '../../lib/transports/embedded/index.js';
import { Harness, onlyDeliveryOf, waitForStatus, type RunningApp } from '../support/embedded-app.js';
import { FakeConvoy } from '../support/fake-convoy.js';

/**
 * The embedded engine end to end, part 3: the SSRF guard as the engine applies it (at creation, update and send),
 * the delivery log (filters, paging, attempts, resend, batch retry), and parity of the endpoint API with Convoy.
 */

const h = new Harness();
const fakes: FakeConvoy[] = [];
afterEach(async () => {
  await h.cleanup();
  await Promise.all(fakes.splice(0).map((f) => f.close()));
});

/** A public address that is never connected to (endpoints are only created with it). */
const PUBLIC_IP = '93.184.215.14';

/** A resolver with fixed answers for names under the reserved .test TLD. */
function fakeDns(table: Record<string, () => string[]>): LookupAll {
  return async (hostname) => {
    const entry = table[hostname];
    if (!entry) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return entry().map((address) => ({ address, family: isIP(address) === 6 ? 6 : 4 }));
  };
}

/** What creating an endpoint came to: 'created', or the error's class, field and whether its reason matches. */
async function tryCreate(endpoints: WebhookEndpoints, url: string, reason: RegExp): Promise<string> {
  try {
    await endpoints.create({ name: 'target', url });
    return 'created';
  } catch (error) {
    const e = error as InvalidEndpointError;
    return `${e.constructor.name} ${e.field} ${reason.test(e.reason) ? 'as expected' : `unexpected reason: ${e.reason}`}`;
  }
}

const REFUSED = 'InvalidEndpointError url as expected';

describe('embedded engine: SSRF guard', () => {
  it('refuses non-public destinations at creation with the default options, in all their spellings, and stores nothing', async () => {
    const receiver = await h.receiver();
    const app = await h.start({}); // default embedded options: nothing but public addresses
    const loopback = /loopback address.*SSRF guard/;
    const cases: Array<[string, RegExp]> = [
      [`${receiver.url}/hook`, loopback],
      ['http://localhost/hook', loopback],
      ['http://[::1]/hook', loopback],
      ['http://0x7f.1/hook', loopback],
      ['http://2130706433/hook', loopback],
      ['http://[::ffff:127.0.0.1]/hook', loopback],
      ['http://[::ffff:7f00:1]/hook', loopback],
      ['http://10.0.0.1/hook', /private address/],
      ['http://192.168.1.1/hook', /private address/],
      ['http://100.64.0.1/hook', /carrier-grade NAT/],
      ['http://[fd00::1]/hook', /unique-local/],
      ['http://0.0.0.0/hook', /unspecified/],
      ['http://169.254.169.254/latest/meta-data/', /cloud metadata/],
    ];
    const results: Record<string, string> = {};
    for (const [url, reason] of cases) results[url] = await tryCreate(app.endpoints, url, reason);
    expect(results).toEqual(Object.fromEntries(cases.map(([url]) => [url, REFUSED])));
    expect((await app.endpoints.list()).content).toEqual([]);
    expect(receiver.connections).toBe(0);
  });

  it('refuses an update to a blocked URL and keeps the endpoint as it was', async () => {
    const app = await h.start({ embedded: { lookup: fakeDns({ 'public.test': () => [PUBLIC_IP] }) } });
    const endpoint = await app.endpoints.create({ name: 'public', url: 'http://public.test/hook' });
    expect(endpoint.url).toBe('http://public.test/hook');

    const error = await app.endpoints
      .update(endpoint.uid, { url: 'http://127.0.0.1:8080/admin', description: 'changed' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidEndpointError);
    expect(error).toMatchObject({ field: 'url', reason: expect.stringMatching(/loopback address.*SSRF guard/) });
    expect(await app.endpoints.get(endpoint.uid)).toMatchObject({ url: 'http://public.test/hook', description: '' });
  });

  it('never allows link-local / metadata addresses, even with allowPrivateNetworks: true', async () => {
    const app = await h.start({ embedded: { allowPrivateNetworks: true } });
    expect(await tryCreate(app.endpoints, 'http://169.254.169.254/latest/meta-data/', /cloud metadata/)).toBe(REFUSED);
    expect(await tryCreate(app.endpoints, 'http://[fd00:ec2::254]/', /cloud metadata/)).toBe(REFUSED);
    expect(await tryCreate(app.endpoints, 'http://169.254.10.10/', /link-local/)).toBe(REFUSED);
    // The control: the option is in effect for private networks.
    expect(await tryCreate(app.endpoints, 'http://10.0.0.1/hook', /./)).toBe('created');
    expect((await app.endpoints.list()).content.map((e) => e.url)).toEqual(['http://10.0.0.1/hook']);
  });

  it('refuses a name that resolves to a public and a private address at once', async () => {
    const app = await h.start({ embedded: { lookup: fakeDns({ 'mixed.test': () => [PUBLIC_IP, '10.1.2.3'] }) } });
    expect(
      await tryCreate(app.endpoints, 'http://mixed.test/hook', /resolves to 10\.1\.2\.3, which is a private address/),
    ).toBe(REFUSED);
    expect((await app.endpoints.list()).content).toEqual([]);
  });

  it('DNS rebinding: a name public at creation but loopback at send time is blocked at send, not retried, and nothing arrives', async () => {
    let answer = PUBLIC_IP;
    const receiver = await h.receiver();
    const app = await h.start({
      embedded: { lookup: fakeDns({ 'rebind.test': () => [answer] }) },
      delivery: { retry: { strategy: 'linear', delayMs: 0, attempts: 3 } },
    });
    const endpoint = await app.endpoints.create({ name: 'rebind', url: `http://rebind.test:${receiver.port}/hook` });
    answer = '127.0.0.1'; // the receiver's address: reachable, but not allowed

    const receipt = await app.publisher.publish('todo.created', { n: 1 }, { endpointId: endpoint.uid });
    const failed = await waitForStatus(app.deliveries, (await onlyDeliveryOf(app, receipt)).uid, 'Failure');
    expect(failed.metadata.num_trials).toBe(1);
    expect(failed.description).toMatch(/^destination blocked: .*resolves to 127\.0\.0\.1, which is a loopback address/);
    const attempts = await app.deliveries.attempts(failed.uid);
    expect(attempts).toHaveLength(1);
    expect(attempts[0]).toMatchObject({
      http_status: '',
      succeeded: false,
      error: expect.stringMatching(/SSRF guard/),
    });
    expect(receiver.connections).toBe(0);
    expect(receiver.received).toEqual([]);
  });
});

describe('embedded engine: refusals at publish() and DNS failures', () => {
  /** What publish() to `url` came to: 'published', or the error's class with the fields that say why. */
  async function tryPublish(app: RunningApp, url: string): Promise<string> {
    try {
      await app.publisher.publish('todo.created', { n: 1 }, { url });
      return 'published';
    } catch (error) {
      if (error instanceof DestinationBlockedError) return `DestinationBlockedError ${error.address} ${error.category}`;
      if (error instanceof WebhookValidationError) return `WebhookValidationError ${error.field}: ${error.reason}`;
      return `${(error as Error).constructor.name}: ${(error as Error).message}`;
    }
  }

  it("publish() to a blocked { url } rejects at once with the SSRF guard's error (using the delivery lookup), stores and sends nothing", async () => {
    const receiver = await h.receiver();
    const app = await h.start({ embedded: { lookup: fakeDns({ 'intranet.test': () => ['10.1.2.3'] }) } });
    const results = {
      metadata: await tryPublish(app, 'http://169.254.169.254/latest/meta-data/'),
      private: await tryPublish(app, 'http://10.0.0.1/hook'),
      resolvesPrivate: await tryPublish(app, 'http://intranet.test/hook'),
      loopback: await tryPublish(app, `${receiver.url}/hook`),
      fragment: await tryPublish(app, 'http://intranet.test/hook#x'),
      scheme: await tryPublish(app, 'ftp://intranet.test/hook'),
      userinfo: await tryPublish(app, 'admin:pw@intranet.test/hook'),
    };
    expect(results).toEqual({
      metadata: 'DestinationBlockedError 169.254.169.254 metadata',
      private: 'DestinationBlockedError 10.0.0.1 private',
      resolvesPrivate: 'DestinationBlockedError 10.1.2.3 private',
      loopback: 'DestinationBlockedError 127.0.0.1 loopback',
      fragment: 'WebhookValidationError options.url: the URL must not contain a fragment (#…)',
      scheme: 'WebhookValidationError options.url: uses ftp:; only http: and https: URLs can receive webhooks',
      userinfo: 'WebhookValidationError options.url: contains credentials; pass them as headers instead',
    });
    expect((await app.endpoints.list()).content).toEqual([]);
    expect((await app.deliveries.list()).content).toEqual([]);
    expect(receiver.connections).toBe(0);
  });

  it("a host that does not resolve: InvalidEndpointError naming the host (the resolver's error as cause) at create, update and publish", async () => {
    const dnsDown = Object.assign(new Error('getaddrinfo EAI_AGAIN down.test'), { code: 'EAI_AGAIN' });
    const app = await h.start({
      embedded: {
        lookup: async (hostname) => {
          if (hostname === 'public.test') return [{ address: PUBLIC_IP, family: 4 }];
          throw dnsDown;
        },
      },
    });
    const reason = `host "down.test" could not be resolved (EAI_AGAIN); check the name and this machine's DNS`;
    const created = await app.endpoints.create({ name: 'n', url: 'http://down.test/hook' }).catch((e: unknown) => e);
    expect(created).toBeInstanceOf(InvalidEndpointError);
    expect(created).toMatchObject({ field: 'url', reason, cause: dnsDown });

    const endpoint = await app.endpoints.create({ name: 'n', url: 'http://public.test/hook' });
    const updated = await app.endpoints
      .update(endpoint.uid, { url: 'https://Down.Test:8443/x?t=1' })
      .catch((e: unknown) => e);
    expect(updated).toMatchObject({ field: 'url', reason, cause: dnsDown });
    expect((await app.endpoints.get(endpoint.uid)).url).toBe('http://public.test/hook');

    const published = await app.publisher.publish('a.b', {}, { url: 'http://down.test/hook' }).catch((e: unknown) => e);
    expect(published).toBeInstanceOf(InvalidEndpointError);
    expect((published as Error).message).toBe(`Invalid endpoint: url ${reason}`);
  });
});

describe('embedded engine: the delivery log', () => {
  /** Publishes and waits until every delivery of the event is final; returns them. */
  async function publishAndSettle(
    app: RunningApp,
    eventType: string,
    endpointId: string,
    idempotencyKey?: string,
  ): Promise<ConvoyEventDelivery> {
    const receipt = await app.publisher.publish(
      eventType,
      { eventType },
      { endpointId, ...(idempotencyKey ? { idempotencyKey } : {}) },
    );
    return waitForStatus(app.deliveries, (await onlyDeliveryOf(app, receipt)).uid, ['Success', 'Failure']);
  }

  it('lists with filters (endpoint, status, event type, idempotency key) and pages with perPage and iterate()', async () => {
    const receiver = await h.receiver((r) => (r.path === '/bad' ? { status: 500 } : undefined));
    const app = await h.embedded({ retry: { strategy: 'linear', delayMs: 0, attempts: 1 } });
    const a = await app.endpoints.create({ name: 'a', url: `${receiver.url}/a` });
    const b = await app.endpoints.create({ name: 'b', url: `${receiver.url}/b` });
    const bad = await app.endpoints.create({ name: 'bad', url: `${receiver.url}/bad` });
    for (let i = 0; i < 3; i++) await publishAndSettle(app, 'todo.created', a.uid);
    for (let i = 0; i < 2; i++) await publishAndSettle(app, 'todo.deleted', b.uid);
    const keyed = await publishAndSettle(app, 'todo.created', a.uid, 'key-1');
    const failed = await publishAndSettle(app, 'todo.created', bad.uid);
    expect(failed.status).toBe('Failure');

    const uids = async (query: Parameters<typeof app.deliveries.list>[0]) =>
      (await app.deliveries.list({ perPage: 100, ...query })).content.map((d) => d.uid);
    const all = (await app.deliveries.list({ perPage: 100 })).content;
    expect(all).toHaveLength(7);
    const of = (pick: (d: ConvoyEventDelivery) => boolean) => all.filter(pick).map((d) => d.uid);
    expect(await uids({ endpointId: [a.uid] })).toEqual(of((d) => d.endpoint_id === a.uid));
    expect(await uids({ endpointId: [a.uid] })).toHaveLength(4);
    expect(await uids({ endpointId: [a.uid, b.uid] })).toHaveLength(6);
    expect(await uids({ status: ['Failure'] })).toEqual([failed.uid]);
    expect(await uids({ status: ['Success'], eventType: 'todo.created' })).toHaveLength(4);
    expect(await uids({ eventType: 'todo.deleted' })).toEqual(of((d) => d.endpoint_id === b.uid));
    expect(await uids({ idempotencyKey: 'key-1' })).toEqual([keyed.uid]);
    // Dates: Convoy's zone-less UTC form, an ISO string with a zone, or a Date; a bad one is refused, not ignored.
    const hourAgo = new Date(Date.now() - 3_600_000);
    expect(await uids({ startDate: hourAgo.toISOString().slice(0, 19) })).toHaveLength(7);
    expect(await uids({ startDate: hourAgo.toISOString() })).toHaveLength(7);
    expect(await uids({ startDate: hourAgo, endDate: new Date(hourAgo.getTime() + 1000) })).toHaveLength(0);
    await expect(app.deliveries.list({ startDate: 'yesterday' })).rejects.toThrow(/not a date/);

    // Newest first; three pages of 3, 3 and 1, with no item twice.
    expect(all.map((d) => d.uid)).toEqual([...all.map((d) => d.uid)].sort().reverse());
    const first = await app.deliveries.list({ perPage: 3 });
    expect(first.content).toHaveLength(3);
    expect(first.pagination).toMatchObject({ per_page: 3, has_next_page: true });
    const second = await app.deliveries.list({
      perPage: 3,
      direction: 'next',
      next_page_cursor: first.pagination.next_page_cursor,
    });
    const third = await app.deliveries.list({
      perPage: 3,
      direction: 'next',
      next_page_cursor: second.pagination.next_page_cursor,
    });
    expect(third.pagination.has_next_page).toBe(false);
    expect([...first.content, ...second.content, ...third.content].map((d) => d.uid)).toEqual(all.map((d) => d.uid));

    const iterated: string[] = [];
    for await (const d of app.deliveries.iterate({ perPage: 2 })) iterated.push(d.uid);
    expect(iterated).toEqual(all.map((d) => d.uid));
    const iteratedA: string[] = [];
    for await (const d of app.deliveries.iterate({ perPage: 3, endpointId: [a.uid] })) iteratedA.push(d.uid);
    expect(iteratedA).toEqual(of((d) => d.endpoint_id === a.uid));
  });

  it('get and attempts: oldest first, with latency, response status/body/headers, and the API key redacted', async () => {
    const receiver = await h.receiver((r) =>
      r.index === 0
        ? { status: 500, body: 'try again', headers: { 'x-reason': 'maintenance' } }
        : { delayMs: 150, body: '{"received":true}' },
    );
    const app = await h.embedded({ retry: { strategy: 'linear', delayMs: 0, attempts: 3 } });
    const endpoint = await app.endpoints.create({
      name: 'logged',
      url: `${receiver.url}/hook`,
      authentication: { type: 'api_key', api_key: { header_name: 'X-Api-Key', header_value: 'super-secret-api-key' } },
    });
    const receipt = await app.publisher.publish(
      'todo.created',
      { title: 'log me' },
      { endpointId: endpoint.uid, headers: { 'X-Tenant': 'acme' } },
    );
    const delivery = await waitForStatus(app.deliveries, (await onlyDeliveryOf(app, receipt)).uid, 'Success');

    expect(delivery).toMatchObject({
      endpoint_id: endpoint.uid,
      event_type: 'todo.created',
      idempotency_key: receipt.idempotencyKey,
      target_url: `${receiver.url}/hook`,
      headers: { 'X-Tenant': ['acme'] },
      metadata: { raw: '{"title":"log me"}', num_trials: 2, retry_limit: 3 },
    });
    expect(delivery.latency_seconds).toBeGreaterThanOrEqual(0.14);

    const attempts = await app.deliveries.attempts(delivery.uid);
    expect(attempts.map((a) => [a.http_status, a.succeeded, a.response_data])).toEqual([
      ['500 Internal Server Error', false, 'try again'],
      ['200 OK', true, '{"received":true}'],
    ]);
    expect(Date.parse(attempts[0]!.requested_at!)).toBeLessThanOrEqual(Date.parse(attempts[1]!.requested_at!));
    expect(attempts[0]!.response_http_header).toMatchObject({ 'x-reason': 'maintenance' });
    // Latency of the delayed attempt, from its request and response times.
    expect(Date.parse(attempts[1]!.responded_at!) - Date.parse(attempts[1]!.requested_at!)).toBeGreaterThanOrEqual(140);
    for (const attempt of attempts) {
      expect(attempt).toMatchObject({
        msg_id: delivery.uid,
        endpoint_id: endpoint.uid,
        url: `${receiver.url}/hook`,
        method: 'POST',
      });
      expect(attempt.request_http_header).toMatchObject({
        'X-Api-Key': '[redacted]',
        'X-Tenant': 'acme',
        'X-Convoy-Idempotency-Key': receipt.idempotencyKey,
        'X-Convoy-Signature': expect.stringMatching(/^t=\d+,v1=[0-9a-f]{64}$/),
      });
    }
    // The receiver got the real key; the log never shows it.
    expect(receiver.received[0]!.headers['x-api-key']).toBe('super-secret-api-key');
    expect(JSON.stringify([attempts, delivery, await app.deliveries.list()])).not.toContain('super-secret-api-key');
  });

  it('resend of a Failure delivery (after the receiver is fixed) succeeds with the same idempotency key; resending a Success is refused', async () => {
    const receiver = await h.receiver();
    receiver.status = 500;
    const app = await h.embedded({ retry: { strategy: 'linear', delayMs: 0, attempts: 2 } });
    const endpoint = await app.endpoints.create({ name: 'fixed-later', url: `${receiver.url}/hook` });
    const receipt = await app.publisher.publish('todo.created', { n: 1 }, { endpointId: endpoint.uid });
    const failed = await waitForStatus(app.deliveries, (await onlyDeliveryOf(app, receipt)).uid, 'Failure');
    expect(receiver.received).toHaveLength(2);

    receiver.status = 200;
    const resent = await app.deliveries.resend(failed.uid);
    expect(resent.uid).toBe(failed.uid);
    expect(['Scheduled', 'Processing', 'Success']).toContain(resent.status);
    const done = await waitForStatus(app.deliveries, failed.uid, 'Success');
    expect(done.idempotency_key).toBe(receipt.idempotencyKey);
    expect(done.metadata.num_trials).toBe(1); // counted afresh
    expect((await app.deliveries.attempts(failed.uid)).map((a) => a.http_status)).toEqual([
      '500 Internal Server Error',
      '500 Internal Server Error',
      '200 OK',
    ]);
    expect(receiver.received).toHaveLength(3);
    expect(receiver.received[2]!.headers['x-convoy-idempotency-key']).toBe(receipt.idempotencyKey);
    expect(receiver.received[2]!.raw.equals(receiver.received[0]!.raw)).toBe(true);

    await expect(app.deliveries.resend(failed.uid)).rejects.toBeInstanceOf(WebhookStateError);
  });

  it('batchRetry({ status: [Failure] }) reschedules every failed delivery (count in the message) and they succeed; successes are left alone', async () => {
    let failing = true;
    const receiver = await h.receiver((r) => (failing && r.path !== '/ok' ? { status: 500 } : undefined));
    const app = await h.embedded({ retry: { strategy: 'linear', delayMs: 0, attempts: 1 } });
    const a = await app.endpoints.create({ name: 'a', url: `${receiver.url}/a` });
    const b = await app.endpoints.create({ name: 'b', url: `${receiver.url}/b` });
    const ok = await app.endpoints.create({ name: 'ok', url: `${receiver.url}/ok` });
    const receipts = await Promise.all(
      [a, a, b, ok].map((e, n) => app.publisher.publish('todo.created', { n }, { endpointId: e.uid })),
    );
    const settled = await Promise.all(
      receipts.map(async (r) =>
        waitForStatus(app.deliveries, (await onlyDeliveryOf(app, r)).uid, ['Success', 'Failure']),
      ),
    );
    expect(settled.map((d) => d.status)).toEqual(['Failure', 'Failure', 'Failure', 'Success']);

    failing = false;
    expect(await app.deliveries.batchRetry({ status: ['Failure'] })).toEqual({ message: '3 successful, 0 failed' });
    for (const d of settled) await waitForStatus(app.deliveries, d.uid, 'Success');
    expect(receiver.received.filter((r) => r.path === '/ok')).toHaveLength(1);
    expect(receiver.received).toHaveLength(7);
    expect(await app.deliveries.batchRetry({ status: ['Failure'] })).toEqual({ message: '0 successful, 0 failed' });
  });

  it('unknown delivery ids are WebhookNotFoundError', async () => {
    const app = await h.embedded();
    const unknown = '0190c0de-0000-7000-8000-000000000000';
    await expect(app.deliveries.get(unknown)).rejects.toBeInstanceOf(WebhookNotFoundError);
    await expect(app.deliveries.attempts(unknown)).rejects.toBeInstanceOf(WebhookNotFoundError);
    await expect(app.deliveries.resend(unknown)).rejects.toBeInstanceOf(WebhookNotFoundError);
    await expect(app.deliveries.get(unknown)).rejects.toMatchObject({ resource: 'delivery', id: unknown });
  });
});

describe('WebhookEndpoints parity: embedded engine and Convoy', () => {
  interface Outcome {
    steps: Record<string, WebhookEndpoint>;
    listed: WebhookEndpoint[];
    errors: Record<string, string>;
  }

  const errorName = (promise: Promise<unknown>): Promise<string> =>
    promise.then(
      () => 'no error',
      (e: unknown) => (e as Error).constructor.name,
    );

  /** The same sequence of calls, whichever transport is behind WebhookEndpoints. */
  async function script(endpoints: WebhookEndpoints, url: string): Promise<Outcome> {
    const created = await endpoints.create({
      name: 'parity',
      url,
      owner_id: 'acme',
      event_types: ['todo.*'],
      secret: 'parity-secret-1234',
      description: 'first',
      rate_limit: 10,
      rate_limit_duration: 60,
    });
    const id = created.uid;
    const steps: Record<string, WebhookEndpoint> = { created };
    steps.got = await endpoints.get(id);
    const listed = (await endpoints.list()).content;
    // update() changes the given fields only: the description and the 10/60 rate limit stay (Convoy's PUT alone would reset them).
    steps.renamed = await endpoints.update(id, { name: 'parity-renamed' });
    steps.updated = await endpoints.update(id, {
      name: 'parity',
      description: 'changed',
      event_types: ['todo.created'],
    });
    steps.paused = await endpoints.pause(id);
    steps.activated = await endpoints.activate(id);
    steps.rolled = await endpoints.expireSecret(id, { secret: 'parity-secret-5678', expiration: 3600 });
    // replace() sets what it is given and resets the rest, as at creation.
    steps.replaced = await endpoints.replace(id, {
      name: 'parity',
      url,
      owner_id: 'acme',
      event_types: ['todo.created'],
    });
    const disabled = await endpoints.create({ name: 'disabled', url: `${url}/off`, is_disabled: true });
    const errors: Record<string, string> = {
      pauseInactive: await errorName(endpoints.pause(disabled.uid)),
      createWithoutUrl: await errorName(endpoints.create({ name: 'no-url' })),
    };
    await endpoints.delete(id);
    errors.getDeleted = await errorName(endpoints.get(id));
    errors.getUnknown = await errorName(endpoints.get('01UNKNOWN0000000000000000X'));
    errors.updateUnknown = await errorName(endpoints.update('01UNKNOWN0000000000000000X', { description: 'x' }));
    errors.pauseUnknown = await errorName(endpoints.pause('01UNKNOWN0000000000000000X'));
    errors.deleteUnknown = await errorName(endpoints.delete('01UNKNOWN0000000000000000X'));
    return { steps, listed, errors };
  }

  /** The values a caller relies on, independent of ids, times and the project. */
  const essentials = (e: WebhookEndpoint) => ({
    name: e.name,
    url: e.url,
    owner_id: e.owner_id,
    description: e.description,
    status: e.status,
    advanced_signatures: e.advanced_signatures,
    http_timeout: e.http_timeout,
    rate_limit: e.rate_limit,
    rate_limit_duration: e.rate_limit_duration,
    content_type: e.content_type,
    // Convoy shows "no authentication" as null after writes and {} on reads.
    authentication: e.authentication && 'type' in e.authentication ? e.authentication : null,
    event_types: e.event_types,
    signature_format: e.signature_format,
    secrets: e.secrets.map((s) => ({ value: s.value, expiring: s.expires_at !== null })),
  });

  it('the same calls give the same shapes and the same errors; with Convoy, create also subscribes with the event types', async () => {
    const receiver = await h.receiver();
    // A licensed Convoy applies subscription filters, as the embedded engine does (community: see the next test).
    const fake = await FakeConvoy.start({ licensed: true });
    fakes.push(fake);
    const embedded = await h.embedded();
    const convoy = await h.start({ convoy: fake.clientOptions });
    const url = `${receiver.url}/parity`;

    const mine = await script(embedded.endpoints, url);
    const theirs = await script(convoy.endpoints, url);

    expect(mine.errors).toEqual(theirs.errors);
    expect(mine.errors).toEqual({
      pauseInactive: 'WebhookStateError',
      createWithoutUrl: 'InvalidEndpointError',
      getDeleted: 'WebhookNotFoundError',
      getUnknown: 'WebhookNotFoundError',
      updateUnknown: 'WebhookNotFoundError',
      pauseUnknown: 'WebhookNotFoundError',
      deleteUnknown: 'WebhookNotFoundError',
    });

    for (const step of Object.keys(theirs.steps)) {
      const [m, t] = [mine.steps[step]!, theirs.steps[step]!];
      // Every field Convoy returns, the embedded engine returns too, with the same meaning.
      expect({ step, missing: Object.keys(t).filter((k) => !(k in m)) }).toEqual({ step, missing: [] });
      expect({ step, ...essentials(m) }).toEqual({ step, ...essentials(t) });
      expect(Object.keys(m.secrets[0]!).sort()).toEqual(Object.keys(t.secrets[0]!).sort());
    }
    expect(mine.steps.rolled!.secrets.map((s) => s.value)).toEqual(['parity-secret-1234', 'parity-secret-5678']);
    expect(mine.steps.paused!.status).toBe('paused');
    for (const outcome of [mine, theirs]) {
      expect(outcome.steps.renamed).toMatchObject({
        name: 'parity-renamed',
        description: 'first',
        rate_limit: 10,
        rate_limit_duration: 60,
        event_types: ['todo.*'],
      });
      expect(outcome.steps.replaced).toMatchObject({
        description: '',
        rate_limit: 0,
        rate_limit_duration: 0,
        secrets: outcome.steps.rolled!.secrets,
      });
      // create, get and list answer with the same shape (event_types and signature_format included).
      expect(Object.keys(outcome.steps.got!).sort()).toEqual(Object.keys(outcome.steps.created!).sort());
      expect(Object.keys(outcome.listed[0]!).sort()).toEqual(Object.keys(outcome.steps.created!).sort());
      expect(outcome.steps.got!.event_types).toEqual(['todo.*']);
    }
    expect([mine.steps.created!.event_types, theirs.steps.created!.event_types]).toEqual([['todo.*'], ['todo.*']]);
    expect([mine.steps.updated!.event_types, theirs.steps.updated!.event_types]).toEqual([
      ['todo.created'],
      ['todo.created'],
    ]);
    expect([mine.steps.created!.signature_format, theirs.steps.created!.signature_format]).toEqual([
      'convoy',
      'convoy',
    ]);
    expect(mine.listed.map(essentials)).toEqual(theirs.listed.map(essentials));
    expect(Object.keys(theirs.listed[0]!).filter((k) => !(k in mine.listed[0]!))).toEqual([]);

    // Convoy delivers nothing to an endpoint without a subscription: create made one, filtered on the event types.
    const filterUpdates = fake.requests.filter((r) => r.method === 'PUT' && r.route.startsWith('/subscriptions/'));
    expect(filterUpdates.map((r) => r.body)).toEqual([
      { filter_config: { event_types: ['todo.created'] } },
      { filter_config: { event_types: ['todo.created'] } },
    ]); // update, replace
    const createdSubscription = fake.requests.find((r) => r.method === 'POST' && r.route === '/subscriptions');
    expect(createdSubscription?.body).toMatchObject({
      endpoint_id: theirs.steps.created!.uid,
      filter_config: { event_types: ['todo.*'] },
    });
  });
});
