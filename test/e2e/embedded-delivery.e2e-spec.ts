import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Webhook } from 'standardwebhooks';
import { WebhookNotFoundError } from '../../lib/index.js';
import { verifyConvoySignature } from '../../lib/signing/index.js';
import { PACKAGE_VERSION } from '../../lib/version.js';
import { Harness, deliveriesOf, eventually, onlyDeliveryOf, waitForStatus } from '../support/embedded-app.js';
import type { ReceivedWebhook } from '../support/webhook-receiver.js';

/**
 * The embedded engine end to end, part 1: what goes over the wire (bytes, headers, signatures), where it goes
 * (fan-out), secret rotation and idempotency. Real Nest apps without Convoy credentials, real HTTP receivers.
 */

const h = new Harness();
afterEach(() => h.cleanup());

const hmacHex = (secret: string, text: string | Buffer): string =>
  createHmac('sha256', secret).update(text).digest('hex');
const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** Splits an advanced X-Convoy-Signature into its timestamp and v1 values, insisting on Convoy's exact layout. */
function parseAdvanced(header: string | string[] | undefined): { t: string; v1: string[] } {
  expect(typeof header).toBe('string');
  expect(header).toMatch(/^t=\d+(,v1=[0-9a-f]{64})+$/);
  const parts = (header as string).split(',');
  return { t: parts[0]!.slice(2), v1: parts.slice(1).map((p) => p.slice(3)) };
}

describe('embedded engine: the wire', () => {
  const data = {
    id: 42,
    title: 'Käse & Brötchen — 日本語 😀',
    html: '</script><script>alert(1)</script>',
    escapes: 'quote " backslash \\ newline \n tab \t',
    nested: { list: [1, 2.5, null, true, { deep: 'ü' }], empty: {} },
  };

  it('sends the data as compact JSON byte for byte, with Convoy headers, auth header, custom headers and a verifiable advanced signature', async () => {
    const receiver = await h.receiver();
    const app = await h.embedded();
    const secret = 'wire-secret-0123456789';
    const endpoint = await app.endpoints.create({
      name: 'wire',
      url: `${receiver.url}/hook`,
      secret,
      authentication: { type: 'api_key', api_key: { header_name: 'X-Api-Key', header_value: 'api-key-value-77' } },
    });

    const receipt = await app.publisher.publish('todo.created', data, {
      endpointId: endpoint.uid,
      headers: { 'X-Tenant': 'acme', 'X-Trace': 'abc-123' },
    });
    const got = await receiver.waitFor(() => true);
    const sentAt = nowSeconds();

    // The body: exactly JSON.stringify(data), so unicode stays raw UTF-8 and "</script>" is not HTML-escaped.
    const expected = JSON.stringify(data);
    expect(got.raw.equals(Buffer.from(expected, 'utf8'))).toBe(true);
    expect(got.raw.toString('utf8')).toContain('</script>');
    expect(got.raw.toString('utf8')).toContain('日本語 😀');
    expect(got.method).toBe('POST');
    expect(got.path).toBe('/hook');

    expect(got.headers['content-type']).toBe('application/json');
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(PACKAGE_VERSION).toBe(pkg.version);
    expect(got.headers['user-agent']).toBe(`Convoy/nestjs-convoy-${pkg.version}`);
    expect(got.headers['x-convoy-idempotency-key']).toBe(receipt.idempotencyKey);
    expect(got.headers['x-tenant']).toBe('acme');
    expect(got.headers['x-trace']).toBe('abc-123');
    expect(got.headers['x-api-key']).toBe('api-key-value-77');

    // Advanced signature: one v1 for the one secret, over "<t>,<body as sent>", t close to now.
    const { t, v1 } = parseAdvanced(got.headers['x-convoy-signature']);
    expect(Math.abs(Number(t) - sentAt)).toBeLessThanOrEqual(5);
    expect(v1).toEqual([hmacHex(secret, `${t},${got.raw.toString('utf8')}`)]);
    expect(verifyConvoySignature(got.raw, got.headers['x-convoy-signature'] as string, { secret })).toEqual({
      valid: true,
      timestamp: Number(t),
    });
    // And it is bound to the secret and the bytes.
    expect(
      verifyConvoySignature(got.raw, got.headers['x-convoy-signature'] as string, { secret: 'another-secret-000' })
        .valid,
    ).toBe(false);
    expect(
      verifyConvoySignature(Buffer.concat([got.raw, Buffer.from(' ')]), got.headers['x-convoy-signature'] as string, {
        secret,
      }).valid,
    ).toBe(false);

    await waitForStatus(app.deliveries, (await onlyDeliveryOf(app, receipt)).uid, 'Success');
  });

  it('simple signatures (advanced_signatures: false) are the bare hex HMAC of the body', async () => {
    const receiver = await h.receiver();
    const app = await h.embedded();
    const secret = 'simple-secret-0123456789';
    const endpoint = await app.endpoints.create({
      name: 'simple',
      url: `${receiver.url}/simple`,
      secret,
      advanced_signatures: false,
    });
    expect(endpoint.advanced_signatures).toBe(false);

    await app.publisher.publish('todo.created', data, { endpointId: endpoint.uid });
    const got = await receiver.waitFor(() => true);
    const header = got.headers['x-convoy-signature'] as string;
    expect(header).toMatch(/^[0-9a-f]{64}$/);
    expect(header).toBe(hmacHex(secret, got.raw));
    expect(verifyConvoySignature(got.raw, header, { secret })).toEqual({ valid: true });
  });

  it("signature_format 'standard' sends webhook-id/-timestamp/-signature that the standardwebhooks package verifies", async () => {
    const receiver = await h.receiver();
    const app = await h.embedded();
    const endpoint = await app.endpoints.create({
      name: 'standard',
      url: `${receiver.url}/std`,
      signature_format: 'standard',
    });
    expect(endpoint.signature_format).toBe('standard');
    const secret = endpoint.secrets[0]!.value;
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+={0,2}$/); // generated in the Standard Webhooks format

    const receipt = await app.publisher.publish('todo.created', data, { endpointId: endpoint.uid });
    const got = await receiver.waitFor(() => true);
    expect(got.headers['x-convoy-signature']).toBeUndefined();
    expect(got.headers['webhook-id']).toBe(receipt.idempotencyKey);
    expect(Math.abs(Number(got.headers['webhook-timestamp']) - nowSeconds())).toBeLessThanOrEqual(5);
    const headers = {
      'webhook-id': got.headers['webhook-id'] as string,
      'webhook-timestamp': got.headers['webhook-timestamp'] as string,
      'webhook-signature': got.headers['webhook-signature'] as string,
    };
    expect(new Webhook(secret).verify(got.raw.toString('utf8'), headers)).toEqual(data);
    // The reference implementation refuses the same headers with another secret.
    expect(() =>
      new Webhook(`whsec_${Buffer.from('x'.repeat(32)).toString('base64')}`).verify(got.raw.toString('utf8'), headers),
    ).toThrow();
  });
});

describe('embedded engine: fan-out', () => {
  /** Paths requested so far (each endpoint of these tests has its own path on one receiver). */
  const paths = (received: ReceivedWebhook[]): string[] => received.map((r) => r.path).sort();

  it('{ endpointId } reaches only that endpoint', async () => {
    const receiver = await h.receiver();
    const app = await h.embedded();
    const a = await app.endpoints.create({ name: 'a', url: `${receiver.url}/a` });
    const b = await app.endpoints.create({ name: 'b', url: `${receiver.url}/b` });
    const receipt = await app.publisher.publish('todo.created', { n: 1 }, { endpointId: a.uid });

    // Fan-out is decided when the event is accepted: its deliveries are the complete list of targets.
    const list = await deliveriesOf(app, receipt);
    expect(list.map((d) => d.endpoint_id)).toEqual([a.uid]);
    await waitForStatus(app.deliveries, list[0]!.uid, 'Success');
    expect(paths(receiver.received)).toEqual(['/a']);
    expect(b.uid).not.toBe(a.uid);
  });

  it("{ ownerId } reaches every endpoint of the owner and no one else's", async () => {
    const receiver = await h.receiver();
    const app = await h.embedded();
    const a = await app.endpoints.create({ name: 'a', url: `${receiver.url}/a`, owner_id: 'acme' });
    const b = await app.endpoints.create({ name: 'b', url: `${receiver.url}/b`, owner_id: 'acme' });
    await app.endpoints.create({ name: 'c', url: `${receiver.url}/c`, owner_id: 'globex' });
    await app.endpoints.create({ name: 'd', url: `${receiver.url}/d` });

    const receipt = await app.publisher.publish('invoice.paid', { n: 2 }, { ownerId: 'acme' });
    const list = await deliveriesOf(app, receipt);
    expect(list.map((d) => d.endpoint_id).sort()).toEqual([a.uid, b.uid].sort());
    for (const d of list) await waitForStatus(app.deliveries, d.uid, 'Success');
    expect(paths(receiver.received)).toEqual(['/a', '/b']);
  });

  it('broadcast reaches every endpoint whose event_types match (*, exact, todo.*) and not the others', async () => {
    const receiver = await h.receiver();
    const app = await h.embedded();
    const all = await app.endpoints.create({ name: 'all', url: `${receiver.url}/all`, event_types: ['*'] });
    const exact = await app.endpoints.create({
      name: 'exact',
      url: `${receiver.url}/exact`,
      event_types: ['invoice.paid', 'todo.created'],
    });
    const glob = await app.endpoints.create({ name: 'glob', url: `${receiver.url}/glob`, event_types: ['todo.*'] });
    await app.endpoints.create({ name: 'other', url: `${receiver.url}/other`, event_types: ['invoice.paid'] });
    await app.endpoints.create({ name: 'sibling', url: `${receiver.url}/sibling`, event_types: ['todo.updated'] });
    await app.endpoints.create({ name: 'deeper', url: `${receiver.url}/deeper`, event_types: ['todo.created.*'] });

    const receipt = await app.publisher.publish('todo.created', { n: 3 }, { broadcast: true });
    const list = await deliveriesOf(app, receipt);
    expect(list.map((d) => d.endpoint_id).sort()).toEqual([all.uid, exact.uid, glob.uid].sort());
    for (const d of list) await waitForStatus(app.deliveries, d.uid, 'Success');
    expect(paths(receiver.received)).toEqual(['/all', '/exact', '/glob']);
  });

  it('each broadcast sees the endpoints as they are now: one created, changed or deleted since the last publish', async () => {
    const receiver = await h.receiver();
    const app = await h.embedded();
    const endpointsOf = async (n: number): Promise<string[]> => {
      const list = await deliveriesOf(app, await app.publisher.publish('todo.created', { n }, { broadcast: true }));
      return list.map((d) => d.endpoint_id!).sort();
    };
    const a = await app.endpoints.create({ name: 'a', url: `${receiver.url}/a` });
    expect(await endpointsOf(1)).toEqual([a.uid]);
    const b = await app.endpoints.create({ name: 'b', url: `${receiver.url}/b` });
    expect(await endpointsOf(2)).toEqual([a.uid, b.uid].sort());
    await app.endpoints.update(a.uid, { event_types: ['invoice.paid'] });
    expect(await endpointsOf(3)).toEqual([b.uid]);
    await app.endpoints.delete(b.uid);
    expect(await endpointsOf(4)).toEqual([]);
  });

  it('{ url } creates one endpoint for the URL (signed with the given secret) and reuses it, even for concurrent publishes', async () => {
    const receiver = await h.receiver();
    const app = await h.embedded();
    const url = `${receiver.url}/dynamic`;
    const secret = 'dynamic-secret-0123';
    // Published back to back: the dispatcher hands them to the engine concurrently.
    const receipts = await Promise.all(
      [1, 2, 3].map((n) => app.publisher.publish('todo.created', { n }, { url, secret })),
    );
    const later = await app.publisher.publish('todo.created', { n: 4 }, { url, secret });
    await app.publisher.flush();

    const endpoints = (await app.endpoints.list()).content;
    expect(endpoints.map((e) => e.url)).toEqual([url]);
    expect(endpoints[0]!.secrets.map((s) => s.value)).toEqual([secret]);
    const lists = await Promise.all([...receipts, later].map((r) => deliveriesOf(app, r)));
    expect(lists.map((l) => l.map((d) => d.endpoint_id))).toEqual([
      [endpoints[0]!.uid],
      [endpoints[0]!.uid],
      [endpoints[0]!.uid],
      [endpoints[0]!.uid],
    ]);
    for (const [d] of lists) await waitForStatus(app.deliveries, d!.uid, 'Success');
    expect(receiver.received).toHaveLength(4);
    for (const got of receiver.received) {
      expect(verifyConvoySignature(got.raw, got.headers['x-convoy-signature'] as string, { secret }).valid).toBe(true);
    }
  });

  it('an unknown endpointId fails the publish at once (the fan-out happens when the event is stored): nothing is stored', async () => {
    const app = await h.embedded();
    const error = await app.publisher
      .publish('todo.created', { n: 1 }, { endpointId: '0190c0de-0000-7000-8000-000000000000' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WebhookNotFoundError);
    expect(error).toMatchObject({ resource: 'endpoint', id: '0190c0de-0000-7000-8000-000000000000' });
    expect(await app.publisher.stats()).toMatchObject({ sent: 0, failed: 0, pending: 0 });
    expect((await app.deliveries.list()).content).toHaveLength(0);
  });

  it("an inactive endpoint's delivery is Discarded and nothing is sent", async () => {
    const receiver = await h.receiver();
    const app = await h.embedded();
    const endpoint = await app.endpoints.create({ name: 'off', url: `${receiver.url}/off`, is_disabled: true });
    expect(endpoint.status).toBe('inactive');
    const receipt = await app.publisher.publish('todo.created', { n: 1 }, { endpointId: endpoint.uid });
    const delivery = await onlyDeliveryOf(app, receipt);
    expect(delivery).toMatchObject({ status: 'Discarded', endpoint_id: endpoint.uid });
    expect(delivery.description).toMatch(/inactive/);
    // A live endpoint published to afterwards is delivered; the discarded one still never arrived.
    const live = await app.endpoints.create({ name: 'on', url: `${receiver.url}/on` });
    await waitForStatus(
      app.deliveries,
      (await onlyDeliveryOf(app, await app.publisher.publish('todo.created', { n: 2 }, { endpointId: live.uid }))).uid,
      'Success',
    );
    expect(paths(receiver.received)).toEqual(['/on']);
    expect((await app.deliveries.get(delivery.uid)).status).toBe('Discarded');
  });

  it("a paused endpoint's delivery waits, and goes out after activate()", async () => {
    const receiver = await h.receiver();
    const app = await h.embedded();
    const endpoint = await app.endpoints.create({ name: 'paused', url: `${receiver.url}/paused` });
    expect((await app.endpoints.pause(endpoint.uid)).status).toBe('paused');
    const receipt = await app.publisher.publish('todo.created', { n: 1 }, { endpointId: endpoint.uid });
    const delivery = await onlyDeliveryOf(app, receipt);
    expect(delivery.status).toBe('Scheduled');

    // A second endpoint proves the worker is running meanwhile: it delivers, the paused one does not.
    const control = await app.endpoints.create({ name: 'control', url: `${receiver.url}/control` });
    await waitForStatus(
      app.deliveries,
      (await onlyDeliveryOf(app, await app.publisher.publish('todo.created', { n: 2 }, { endpointId: control.uid })))
        .uid,
      'Success',
    );
    expect(paths(receiver.received)).toEqual(['/control']);
    expect(['Scheduled', 'Processing']).toContain((await app.deliveries.get(delivery.uid)).status);
    expect((await app.deliveries.get(delivery.uid)).metadata.num_trials).toBe(0);

    const activatedAt = Date.now();
    expect((await app.endpoints.activate(endpoint.uid)).status).toBe('active');
    // Held deliveries become due at once on activation, not at the paused endpoint's next re-check.
    const afterActivate = await app.deliveries.get(delivery.uid);
    if (afterActivate.status === 'Scheduled')
      expect(Date.parse(afterActivate.metadata.next_send_time)).toBeLessThanOrEqual(Date.now());
    expect(Date.parse(afterActivate.updated_at)).toBeGreaterThanOrEqual(activatedAt - 1);
    const done = await waitForStatus(app.deliveries, delivery.uid, 'Success');
    expect(done.metadata.num_trials).toBe(1);
    expect(paths(receiver.received)).toEqual(['/control', '/paused']);
  });
});

describe('embedded engine: secret rotation', () => {
  it('expireSecret with an overlap: advanced signatures carry one v1 per secret (old first), each verifying with its secret', async () => {
    const receiver = await h.receiver();
    const app = await h.embedded();
    const endpoint = await app.endpoints.create({
      name: 'roll',
      url: `${receiver.url}/roll`,
      secret: 'old-secret-xxxx',
    });
    const rolled = await app.endpoints.expireSecret(endpoint.uid, { secret: 'new-secret-xxxx', expiration: 3600 });
    expect(rolled.secrets.map((s) => s.value)).toEqual(['old-secret-xxxx', 'new-secret-xxxx']);
    expect(Date.parse(rolled.secrets[0]!.expires_at!)).toBeGreaterThan(Date.now() + 3500_000);
    expect(rolled.secrets[1]!.expires_at).toBeNull();

    await app.publisher.publish('todo.created', { n: 1 }, { endpointId: endpoint.uid });
    const got = await receiver.waitFor(() => true);
    const header = got.headers['x-convoy-signature'] as string;
    const { t, v1 } = parseAdvanced(header);
    const signed = `${t},${got.raw.toString('utf8')}`;
    expect(v1).toEqual([hmacHex('old-secret-xxxx', signed), hmacHex('new-secret-xxxx', signed)]);
    expect(verifyConvoySignature(got.raw, header, { secret: 'old-secret-xxxx' }).valid).toBe(true);
    expect(verifyConvoySignature(got.raw, header, { secret: 'new-secret-xxxx' }).valid).toBe(true);
    expect(verifyConvoySignature(got.raw, header, { secret: 'unrelated-secret' }).valid).toBe(false);
  });

  it('simple signatures switch to the newest secret at once', async () => {
    const receiver = await h.receiver();
    const app = await h.embedded();
    const endpoint = await app.endpoints.create({
      name: 'roll',
      url: `${receiver.url}/roll`,
      secret: 'old-secret-xxxx',
      advanced_signatures: false,
    });
    await app.endpoints.expireSecret(endpoint.uid, { secret: 'new-secret-xxxx', expiration: 3600 });

    await app.publisher.publish('todo.created', { n: 1 }, { endpointId: endpoint.uid });
    const got = await receiver.waitFor(() => true);
    expect(got.headers['x-convoy-signature']).toBe(hmacHex('new-secret-xxxx', got.raw));
    expect(
      verifyConvoySignature(got.raw, got.headers['x-convoy-signature'] as string, { secret: 'old-secret-xxxx' }).valid,
    ).toBe(false);
  });

  it('expiration: 0 retires the old secret at once: only the new one signs', async () => {
    const receiver = await h.receiver();
    const app = await h.embedded();
    const endpoint = await app.endpoints.create({
      name: 'roll',
      url: `${receiver.url}/roll`,
      secret: 'old-secret-xxxx',
    });
    await app.endpoints.expireSecret(endpoint.uid, { secret: 'new-secret-xxxx', expiration: 0 });

    await app.publisher.publish('todo.created', { n: 1 }, { endpointId: endpoint.uid });
    const got = await receiver.waitFor(() => true);
    const header = got.headers['x-convoy-signature'] as string;
    const { t, v1 } = parseAdvanced(header);
    expect(v1).toEqual([hmacHex('new-secret-xxxx', `${t},${got.raw.toString('utf8')}`)]);
    expect(verifyConvoySignature(got.raw, header, { secret: 'old-secret-xxxx' }).valid).toBe(false);
  });
});

describe('embedded engine: idempotency', () => {
  it('publishing twice with the same idempotencyKey delivers once', async () => {
    const receiver = await h.receiver();
    const app = await h.embedded();
    const endpoint = await app.endpoints.create({ name: 'once', url: `${receiver.url}/once` });
    const first = await app.publisher.publish(
      'order.placed',
      { order: 42 },
      { endpointId: endpoint.uid, idempotencyKey: 'order-42' },
    );
    const second = await app.publisher.publish(
      'order.placed',
      { order: 42, again: true },
      { endpointId: endpoint.uid, idempotencyKey: 'order-42' },
    );
    expect(first.id).not.toBe(second.id);
    expect(second.idempotencyKey).toBe('order-42');

    // Both were accepted, but only one delivery exists, so only one request can ever be made.
    const list = await deliveriesOf(app, second);
    expect(list).toHaveLength(1);
    // The two were handed to the engine concurrently; whichever was stored first is the one delivered.
    expect([JSON.stringify({ order: 42 }), JSON.stringify({ order: 42, again: true })]).toContain(
      list[0]!.metadata.raw,
    );
    await waitForStatus(app.deliveries, list[0]!.uid, 'Success');
    expect(await app.publisher.stats()).toMatchObject({ sent: 1, failed: 0 });
    expect((await app.deliveries.list()).content).toHaveLength(1);
    expect(receiver.received).toHaveLength(1);
    expect(receiver.received[0]!.raw.toString('utf8')).toBe(list[0]!.metadata.raw);
    expect(receiver.received[0]!.headers['x-convoy-idempotency-key']).toBe('order-42');
    // Another key is a new event again.
    const third = await app.publisher.publish(
      'order.placed',
      { order: 43 },
      { endpointId: endpoint.uid, idempotencyKey: 'order-43' },
    );
    await waitForStatus(app.deliveries, (await onlyDeliveryOf(app, third)).uid, 'Success');
    await eventually(
      async () => receiver.received.length,
      (n) => n === 2,
      'the second key to arrive',
    );
  });
});
