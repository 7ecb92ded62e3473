import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { ConvoyConfigurationError } from '../../lib/errors/configuration.error.js';
import { PAGE_SECURITY_HEADERS } from '../../lib/ui/security.js';
import { FakeConvoy } from '../support/fake-convoy.js';
import { LOOPBACK } from '../support/embedded-app.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';
import { waitForStatus, eventually } from '../support/embedded-app.js';
import { DashboardClient, decode, startDashboard, type DashboardApp } from './dashboard.support.js';

/** Admits requests carrying `x-operator: yes`: a stand-in for an app's own authentication guard. */
@Injectable()
class OperatorGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<{ headers: Record<string, string>; user?: unknown }>();
    if (req.headers['x-operator'] !== 'yes') return false;
    req.user = { id: req.headers['x-operator-id'] ?? 'op-1' };
    return true;
  }
}

const embedded = {
  embedded: { allowedAddresses: LOOPBACK },
  delivery: { retry: { strategy: 'linear' as const, delayMs: 0, attempts: 1 } },
};

/** Every route of the dashboard, pages, forms and assets: [method, path]. */
function routes(endpointId: string, deliveryId: string): Array<[string, string]> {
  return [
    ['GET', ''],
    ['GET', '/endpoints'],
    ['GET', '/endpoints/new'],
    ['POST', '/endpoints'],
    ['GET', `/endpoints/${endpointId}`],
    ['POST', `/endpoints/${endpointId}`],
    ['POST', `/endpoints/${endpointId}/pause`],
    ['POST', `/endpoints/${endpointId}/activate`],
    ['POST', `/endpoints/${endpointId}/test`],
    ['POST', `/endpoints/${endpointId}/rotate`],
    ['GET', `/endpoints/${endpointId}/delete`],
    ['POST', `/endpoints/${endpointId}/delete`],
    ['GET', '/deliveries'],
    ['POST', '/deliveries/batch-retry'],
    ['GET', `/deliveries/${deliveryId}`],
    ['POST', `/deliveries/${deliveryId}/resend`],
    ['GET', '/health'],
    ['POST', '/health/requeue'],
    ['GET', '/assets/ui.css'],
    ['GET', '/assets/ui.js'],
  ];
}

function expectStrictHeaders(headers: Record<string, string | string[] | undefined>): void {
  for (const [name, value] of Object.entries(PAGE_SECURITY_HEADERS)) expect(headers[name]).toBe(value);
  const csp = String(headers['content-security-policy']);
  expect(csp).toContain("default-src 'none'");
  expect(csp).toContain("script-src 'self'");
  expect(csp).not.toContain('unsafe-inline');
  expect(csp).not.toContain('unsafe-eval');
}

describe('dashboard security', () => {
  const previousEnv = process.env.NODE_ENV;
  let app: DashboardApp | undefined;
  let receiver: WebhookReceiver | undefined;
  afterEach(async () => {
    process.env.NODE_ENV = previousEnv;
    await app?.close();
    app = undefined;
    await receiver?.close();
    receiver = undefined;
  });

  describe('mounting without a guard', () => {
    let fake: FakeConvoy;
    beforeEach(async () => (fake = await FakeConvoy.start()));
    afterEach(() => fake.close());

    it.each([['production'], ['staging'], [undefined]])('is refused with NODE_ENV=%s', async (env) => {
      if (env === undefined) delete process.env.NODE_ENV;
      else process.env.NODE_ENV = env;
      const started = startDashboard({ convoy: fake.clientOptions });
      await expect(started).rejects.toThrow(ConvoyConfigurationError);
      await expect(started).rejects.toThrow(/dashboard\.guard.*is missing.*Fix: pass guard/s);
    });

    it('is allowed in development, and with a guard in production', async () => {
      process.env.NODE_ENV = 'development';
      app = await startDashboard({ convoy: fake.clientOptions });
      expect((await new DashboardClient(app.base).get('/endpoints')).status).toBe(200);
      await app.close();
      process.env.NODE_ENV = 'production';
      app = await startDashboard({ convoy: fake.clientOptions }, { guard: OperatorGuard });
      expect((await new DashboardClient(app.base).get('/endpoints', { 'x-operator': 'yes' })).status).toBe(200);
    });
  });

  describe('behind a guard', () => {
    let endpointId: string;
    let deliveryId: string;
    let secret: string;
    const operator = { 'x-operator': 'yes' };

    beforeEach(async () => {
      receiver = await WebhookReceiver.start();
      app = await startDashboard(embedded, { guard: OperatorGuard });
      const endpoint = await app.endpoints.create({ url: `${receiver.url}/in`, name: 'shop' });
      endpointId = endpoint.uid;
      secret = endpoint.secrets[0]!.value;
      receiver.status = 500;
      await app.publisher.publish('order.paid', { n: 1 }, { endpointId });
      const [d] = await eventually(
        async () => (await app!.deliveries.list()).content,
        (l) => l.length === 1,
        'the delivery',
      );
      deliveryId = d!.uid;
      await waitForStatus(app.deliveries, deliveryId, 'Failure');
    });

    it('answers 403, with the security headers, on every route when the guard refuses; nothing changes', async () => {
      const client = new DashboardClient(app!.base);
      // A session and token obtained legitimately first: even they do not get past a refusing guard.
      await client.get('/endpoints/new', operator);
      expect(client.csrf).not.toBe('');
      for (const [method, path] of routes(endpointId, deliveryId)) {
        const reply =
          method === 'GET'
            ? await client.get(path)
            : await client.post(path, {
                url: `${receiver!.url}/x`,
                confirm: 'yes',
                expiration: '3600',
                id: deliveryId,
              });
        expect([method, path, reply.status]).toEqual([method, path, 403]);
        expectStrictHeaders(reply.headers);
        expect(reply.text).not.toContain(secret);
      }
      const endpoint = await app!.endpoints.get(endpointId);
      expect(endpoint.status).toBe('active');
      expect(endpoint.secrets).toHaveLength(1);
      expect((await app!.endpoints.list()).content).toHaveLength(1);
    });

    it('sends the strict headers on every page and asset, and a session cookie that is HttpOnly, SameSite=Strict, on the path', async () => {
      const client = new DashboardClient(app!.base);
      const first = await client.get('/endpoints', operator);
      expect(String(first.headers['set-cookie'])).toMatch(
        /^convoy_dashboard=[A-Za-z0-9_-]{43}; Path=\/webhooks\/admin; HttpOnly; SameSite=Strict$/,
      );
      for (const [method, path] of routes(endpointId, deliveryId)) {
        if (method !== 'GET') continue;
        const reply = await client.get(path, operator);
        expect([path, reply.status]).toEqual([path, path === '' ? 303 : 200]);
        expectStrictHeaders(reply.headers);
      }
      const missing = await client.get('/deliveries/no-such-delivery', operator);
      expect(missing.status).toBe(404);
      expectStrictHeaders(missing.headers);
      // No inline script or style anywhere: the CSP would block them, and the pages must not need them.
      const page = await client.get(`/deliveries/${deliveryId}`, operator);
      expect(page.text).not.toMatch(/<script>|<script(?![^>]*\bsrc=)|\sstyle=|<style/);
    });

    it('refuses a state change without the CSRF token, with a wrong one, or with another session’s', async () => {
      const client = new DashboardClient(app!.base);
      await client.get('/endpoints/new', operator);
      const other = new DashboardClient(app!.base);
      await other.get('/endpoints/new', operator);
      expect(client.csrf).not.toBe('');
      expect(other.csrf).not.toBe(client.csrf);

      const pause = `/endpoints/${endpointId}/pause`;
      for (const [why, form, headers] of [
        ['no token', { _csrf: '' }, operator],
        ['a wrong token', { _csrf: 'x'.repeat(43) }, operator],
        ['another session’s token', { _csrf: other.csrf }, operator],
      ] as const) {
        const reply = await client.post(pause, form, headers);
        expect([why, reply.status]).toEqual([why, 403]);
        expect(decode(reply.text)).toContain('CSRF');
      }
      // Without the session cookie, the right token is refused too.
      const cookieless = new DashboardClient(app!.base);
      cookieless.csrf = client.csrf;
      expect((await cookieless.post(pause, {}, operator)).status).toBe(403);
      // Another operator (the guard's user) with this browser's cookie and token: refused.
      expect((await client.post(pause, {}, { ...operator, 'x-operator-id': 'op-2' })).status).toBe(403);
      expect((await app!.endpoints.get(endpointId)).status).toBe('active');

      expect((await client.post(pause, {}, operator)).status).toBe(303);
      expect((await app!.endpoints.get(endpointId)).status).toBe('paused');
    });

    it('refuses a cross-site request even with a valid token', async () => {
      const client = new DashboardClient(app!.base);
      await client.get(`/deliveries/${deliveryId}`, operator);
      const resend = `/deliveries/${deliveryId}/resend`;
      const crossOrigin = await client.post(resend, {}, { ...operator, origin: 'http://evil.example' });
      expect(crossOrigin.status).toBe(403);
      expect(decode(crossOrigin.text)).toContain('Cross-site request refused');
      const crossSite = await client.post(resend, {}, { ...operator, 'sec-fetch-site': 'cross-site' });
      expect(crossSite.status).toBe(403);
      expect((await app!.deliveries.get(deliveryId)).status).toBe('Failure');
      receiver!.status = 200;
      expect((await client.post(resend, {}, { ...operator, 'sec-fetch-site': 'same-origin' })).status).toBe(303);
      await waitForStatus(app!.deliveries, deliveryId, 'Success');
    });

    it('shows outsider text as text: endpoint names, URLs, payloads, response bodies and headers', async () => {
      const client = new DashboardClient(app!.base);
      const hostile = `<script>x()</script><img src=x onerror=y()>"'`;
      await app!.endpoints.update(endpointId, { name: hostile, description: hostile });
      receiver!.respond = () => ({ status: 500, body: hostile, headers: { 'x-evil': '<b>h</b>' } });
      receiver!.status = 500;
      await app!.publisher.publish('order.<i>odd</i>', { html: hostile }, { endpointId });
      const [d] = await eventually(
        async () => (await app!.deliveries.list({ eventType: 'order.<i>odd</i>' })).content,
        (l) => l.length === 1,
        'the hostile delivery',
      );
      await waitForStatus(app!.deliveries, d!.uid, 'Failure');
      for (const path of [
        '/endpoints',
        `/endpoints/${endpointId}`,
        '/deliveries',
        `/deliveries/${d!.uid}`,
        '/health',
      ]) {
        const page = await client.get(path, operator);
        expect([path, page.text.includes('<script>x()')]).toEqual([path, false]);
        expect(page.text).not.toContain('<img src=x');
        expect(page.text).not.toContain('<i>odd</i>');
        expect(page.text).not.toContain('<b>h</b>');
      }
      const detail = await client.get(`/deliveries/${d!.uid}`, operator);
      expect(detail.text).toContain('&lt;script&gt;x()&lt;/script&gt;&lt;img src=x onerror=y()&gt;&quot;&#39;');
      expect(detail.text).toContain('&lt;b&gt;h&lt;/b&gt;');
    });

    it('shows a secret only once: on creation and rotation, never on any other page', async () => {
      const client = new DashboardClient(app!.base);
      await client.get('/endpoints/new', operator);
      const typed = 'typed-secret-0123456789';
      const refused = await client.post('/endpoints', { url: 'ftp://127.0.0.1/', secret: typed }, operator);
      expect(refused.status).toBe(400);
      expect(refused.text).not.toContain(typed); // not written back into the form
      const created = await client.post('/endpoints', { url: `${receiver!.url}/two`, secret: typed }, operator);
      expect(created.status).toBe(201);
      expect(created.text).toContain(typed);
      const id = (await app!.endpoints.list()).content.find((e) => e.url.endsWith('/two'))!.uid;
      const rotated = await client.post(`/endpoints/${id}/rotate`, { expiration: '3600' }, operator);
      const fresh = /id="secret-once"[^>]*value="([^"]+)"/.exec(rotated.text)![1]!;
      receiver!.status = 200;
      await app!.publisher.publish('order.paid', { n: 2 }, { endpointId: id });
      await app!.publisher.flush();
      const deliveries = (await app!.deliveries.list({ endpointId: [id] })).content;
      const pages = [
        '/endpoints',
        `/endpoints/${id}`,
        `/endpoints/${id}/delete`,
        `/endpoints/${endpointId}`,
        '/deliveries',
        '/health',
      ];
      for (const d of deliveries) pages.push(`/deliveries/${d.uid}`);
      for (const path of pages) {
        const page = await client.get(path, operator);
        for (const value of [typed, fresh, secret]) expect([path, page.text.includes(value)]).toEqual([path, false]);
      }
    });
  });
});
