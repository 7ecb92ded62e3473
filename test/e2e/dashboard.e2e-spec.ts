import { waitForStatus, eventually } from '../support/embedded-app.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';
import { waitUntil } from '../support/wait.js';
import type { FakeConvoy } from '../support/fake-convoy.js';
import { BACKENDS, DashboardClient, decode, startDashboard, type DashboardApp } from './dashboard.support.js';

/**
 * The operator dashboard's pages, driven as a browser would (cookie, CSRF token from the page, forms), on the
 * embedded engine with PGlite and PostgreSQL and on the Convoy transport (the fake Convoy).
 */
describe.each(BACKENDS)('dashboard pages: $name', ({ transport, skip, open }) => {
  const run = skip ? it.skip : it;
  let app: DashboardApp;
  let fake: FakeConvoy | undefined;
  let closeBackend: () => Promise<void>;
  let receiver: WebhookReceiver;
  let client: DashboardClient;

  beforeEach(async () => {
    if (skip) return;
    const backend = await open();
    fake = backend.fake;
    closeBackend = backend.close;
    receiver = await WebhookReceiver.start();
    app = await startDashboard(backend.options);
    client = new DashboardClient(app.base);
  });

  afterEach(async () => {
    if (skip) return;
    await receiver.close();
    await app.close();
    await closeBackend();
  });

  /** Creates an endpoint through the form; returns its id and the secret the page showed once. */
  async function createThroughForm(fields: Record<string, string>): Promise<{ id: string; secret: string }> {
    expect((await client.get('/endpoints/new')).status).toBe(200);
    const created = await client.post('/endpoints', fields);
    expect(created.status).toBe(201);
    const secret = /id="secret-once"[^>]*value="([^"]+)"/.exec(created.text)?.[1];
    const id = /href="\/webhooks\/admin\/endpoints\/([^"?/]+)"/.exec(created.text)?.[1];
    expect(secret).toBeTruthy();
    expect(id).toBeTruthy();
    return { id: decodeURIComponent(id!), secret: secret! };
  }

  run('endpoints: create (secret shown once), list, edit, pause, activate, test event, rotate, delete', async () => {
    const { id, secret } = await createThroughForm({
      url: `${receiver.url}/hooks`,
      name: 'orders',
      owner_id: 'acme',
      event_types: '',
    });
    const stored = await app.endpoints.get(id);
    expect(stored.url).toBe(`${receiver.url}/hooks`);
    expect(stored.owner_id).toBe('acme');
    expect(stored.secrets.map((s) => s.value)).toContain(secret);

    const list = await client.get('/endpoints');
    expect(list.status).toBe(200);
    expect(list.text).toContain('orders');
    expect(list.text).not.toContain(secret);
    const page = await client.get(`/endpoints/${id}`);
    expect(page.text).toContain(`${receiver.url}/hooks`);
    expect(page.text).not.toContain(secret);

    const saved = await client.post(`/endpoints/${id}`, {
      url: `${receiver.url}/hooks`,
      name: 'orders-v2',
      owner_id: 'acme',
    });
    expect(saved.status).toBe(303);
    expect(saved.headers.location).toBe(`/webhooks/admin/endpoints/${id}?done=saved`);
    expect((await app.endpoints.get(id)).name).toBe('orders-v2');
    expect((await client.get(`/endpoints/${id}?done=saved`)).text).toContain('Endpoint saved.');

    expect((await client.post(`/endpoints/${id}/pause`, {})).status).toBe(303);
    expect((await app.endpoints.get(id)).status).toBe('paused');
    expect((await client.get(`/endpoints/${id}`)).text).toContain('>Activate</button>');
    expect((await client.post(`/endpoints/${id}/activate`, {})).status).toBe(303);
    expect((await app.endpoints.get(id)).status).toBe('active');

    const test = await client.post(`/endpoints/${id}/test`, {});
    expect(test.status).toBe(303);
    expect(test.headers.location).toBe(`/webhooks/admin/deliveries?endpointId=${id}&done=test`);
    if (transport === 'embedded') {
      // The embedded engine sends the event's data as the body, as Convoy does.
      const got = await receiver.waitFor((w) => (w.json as { endpoint_id?: string } | undefined)?.endpoint_id === id);
      expect(got.path).toBe('/hooks');
    } else {
      await waitUntil('Convoy got the test event', () =>
        fake!.eventRequests().some((r) => r.body?.event_type === 'webhook.test' && r.body?.endpoint_id === id),
      );
    }
    await eventually(
      () => client.get(`/deliveries?endpointId=${id}`),
      (r) => r.text.includes('webhook.test'),
      'the test delivery in the log',
    );

    const rotated = await client.post(`/endpoints/${id}/rotate`, { expiration: '3600' });
    expect(rotated.status).toBe(200);
    const next = /id="secret-once"[^>]*value="([^"]+)"/.exec(rotated.text)?.[1];
    expect(next).toBeTruthy();
    expect(next).not.toBe(secret);
    const after = await app.endpoints.get(id);
    expect(after.secrets.find((s) => s.expires_at === null)?.value).toBe(next);
    for (const path of ['/endpoints', `/endpoints/${id}`, '/deliveries', '/health']) {
      const shown = await client.get(path);
      expect(shown.text).not.toContain(secret);
      expect(shown.text).not.toContain(next!);
    }

    expect((await client.get(`/endpoints/${id}/delete`)).text).toContain('Delete the endpoint');
    const unconfirmed = await client.post(`/endpoints/${id}/delete`, {});
    expect(unconfirmed.status).toBe(303);
    expect((await app.endpoints.get(id)).uid).toBe(id);
    const deleted = await client.post(`/endpoints/${id}/delete`, { confirm: 'yes' });
    expect(deleted.status).toBe(303);
    expect(deleted.headers.location).toBe('/webhooks/admin/endpoints?done=deleted');
    expect((await client.get(`/endpoints/${id}`)).status).toBe(404);
  });

  run(
    'an action on an endpoint or delivery that does not exist (any more) answers the 404 page, not a 500',
    async () => {
      await client.get('/endpoints/new');
      const fields = { url: `${receiver.url}/hooks`, name: 'gone' };
      for (const [path, form] of [
        ['/endpoints/no-such-endpoint', fields],
        ['/endpoints/no-such-endpoint/rotate', { expiration: '3600' }],
        ['/endpoints/no-such-endpoint/pause', {}],
        ['/endpoints/no-such-endpoint/test', {}],
        ['/deliveries/no-such-delivery/resend', {}],
      ] as const) {
        const reply = await client.post(path, form);
        expect([path, reply.status]).toEqual([path, 404]);
        expect(decode(reply.text)).toMatch(/No (endpoint|delivery|such)/);
      }
    },
  );

  run('a refused form shows the management API error as a notice, not a 500', async () => {
    await client.get('/endpoints/new');
    const refused = await client.post('/endpoints', { url: 'ftp://127.0.0.1/hooks', name: 'bad' });
    expect(refused.status).toBe(400);
    expect(decode(refused.text)).toMatch(/Invalid endpoint: url/);
    expect(refused.text).toContain('value="bad"'); // the form keeps what was typed
    const tooMany = await client.get('/deliveries?perPage=1000');
    expect(tooMany.status).toBe(400);
    expect(decode(tooMany.text)).toContain('Page size must be between 1 and 100');
    const long = await client.post('/endpoints', { url: `${receiver.url}/x`, name: 'n'.repeat(201) });
    expect(long.status).toBe(400);
    expect(decode(long.text)).toContain('Name is longer than 200 characters');
    expect((await app.endpoints.list()).content).toHaveLength(0);
  });

  run(
    'deliveries: a failing delivery is found by filters, its attempts read, resent and delivered; batch retry',
    async () => {
      const hostile = '<script>window.pwned=1</script><img src=x onerror="window.pwned=2">';
      receiver.respond = () => ({ status: 500, body: hostile });
      const { id: endpointId } = await createThroughForm({
        url: `${receiver.url}/in`,
        name: 'billing',
        owner_id: 'acme',
      });
      await app.publisher.publish('invoice.paid', { invoice: 7, note: '<b>bold</b>' }, { endpointId });
      let deliveryId: string;
      if (transport === 'embedded') {
        const [d] = await eventually(
          async () => (await app.deliveries.list({ eventType: 'invoice.paid' })).content,
          (l) => l.length === 1,
          'the delivery',
        );
        deliveryId = d!.uid;
        await waitForStatus(app.deliveries, deliveryId, 'Failure');
      } else {
        await app.publisher.flush();
        const [d] = await eventually(
          async () => (await app.deliveries.list({ eventType: 'invoice.paid' })).content,
          (l) => l.length === 1,
          'the delivery',
        );
        deliveryId = d!.uid;
        fake!.failDelivery(deliveryId);
      }
      const link = `href="/webhooks/admin/deliveries/${deliveryId}"`;
      expect((await client.get('/deliveries?status=Failure')).text).toContain(link);
      expect((await client.get('/deliveries?status=Success')).text).not.toContain(link);
      expect((await client.get('/deliveries?owner=acme')).text).toContain(link);
      expect((await client.get('/deliveries?owner=nobody')).text).not.toContain(link);
      expect((await client.get('/deliveries?eventType=invoice.paid')).text).toContain(link);
      expect((await client.get('/deliveries?eventType=other.type')).text).not.toContain(link);
      expect((await client.get(`/deliveries?endpointId=${endpointId}&status=Failure`)).text).toContain(link);
      // (The fake Convoy ignores dates; a real one and the embedded engine apply them.)
      if (transport === 'embedded')
        expect((await client.get('/deliveries?from=2000-01-01T00:00&to=2000-01-02T00:00')).text).not.toContain(link);

      const detail = await client.get(`/deliveries/${deliveryId}`);
      expect(detail.status).toBe(200);
      expect(detail.text).toContain('Attempt 1');
      expect(detail.text).toContain('500 Internal Server Error');
      expect(detail.text).toContain('&lt;b&gt;bold&lt;/b&gt;'); // the payload, as text
      if (transport === 'embedded') {
        expect(detail.text).toContain('Attempt 2');
        expect(detail.text).toContain(
          hostile.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;'),
        );
        expect(detail.text).not.toContain('<script>window.pwned');
        expect(detail.text).not.toContain('<img src=x');
      }
      expect(detail.text).toContain('>Resend</button>');

      receiver.respond = undefined;
      const before = receiver.received.length;
      const resent = await client.post(`/deliveries/${deliveryId}/resend`, {});
      expect(resent.status).toBe(303);
      expect(resent.headers.location).toBe(`/webhooks/admin/deliveries/${deliveryId}?done=resent`);
      // The fake Convoy schedules a resent delivery and sends nothing; the embedded engine delivers it.
      await waitForStatus(app.deliveries, deliveryId, transport === 'embedded' ? 'Success' : 'Scheduled');
      if (transport === 'embedded') expect(receiver.received.length).toBeGreaterThan(before);
      expect(decode((await client.get(`/deliveries/${deliveryId}?done=resent`)).text)).toContain('Delivery resent.');

      // Resending a delivery that succeeded: the API's WebhookStateError, shown on the page (409), not a 500.
      if (transport === 'embedded') {
        const again = await client.post(`/deliveries/${deliveryId}/resend`, {});
        expect(again.status).toBe(409);
        expect(decode(again.text)).toMatch(/only Failure or Discarded deliveries can be resent/);
      }

      // Batch retry of the filtered failures.
      receiver.respond = () => ({ status: 500 });
      await app.publisher.publish('invoice.voided', { invoice: 8 }, { endpointId });
      const [second] = await eventually(
        async () => (await app.deliveries.list({ eventType: 'invoice.voided' })).content,
        (l) => l.length === 1,
        'the second delivery',
      );
      if (transport === 'embedded') await waitForStatus(app.deliveries, second!.uid, 'Failure');
      else fake!.failDelivery(second!.uid);
      receiver.respond = undefined;
      await client.get('/deliveries');
      const retried = await client.post('/deliveries/batch-retry', { eventType: 'invoice.voided', status: 'Failure' });
      expect(retried.status).toBe(303);
      expect(retried.headers.location).toBe(
        '/webhooks/admin/deliveries?eventType=invoice.voided&status=Failure&done=retried',
      );
      if (transport === 'embedded') await waitForStatus(app.deliveries, second!.uid, 'Success');
      else {
        const [batch] = fake!.requests.filter((r) => r.route === '/eventdeliveries/batchretry');
        expect(batch?.query.get('eventType')).toBe('invoice.voided');
        expect(batch?.query.getAll('status')).toEqual(['Failure']);
      }
    },
  );

  run('health: outbox figures, the last hour per endpoint and per minute', async () => {
    receiver.respond = () => ({ status: 500 });
    const { id } = await createThroughForm({ url: `${receiver.url}/h`, name: 'flaky' });
    await app.publisher.publish('thing.happened', { n: 1 }, { endpointId: id });
    await app.publisher.flush();
    const [d] = await eventually(
      async () => (await app.deliveries.list({ eventType: 'thing.happened' })).content,
      (l) => l.length === 1,
      'the delivery',
    );
    if (transport === 'embedded') await waitForStatus(app.deliveries, d!.uid, 'Failure');
    else fake!.failDelivery(d!.uid);
    const health = await client.get('/health');
    expect(health.status).toBe(200);
    const text = decode(health.text);
    expect(text).toContain('Outbox lag');
    expect(text).toMatch(/flaky\s*1\s*0\s*1\s*100 %/);
    expect(health.text).toMatch(/<span class="bad h20"><\/span>/);
    expect(health.text).toContain('data-live');
  });
});
