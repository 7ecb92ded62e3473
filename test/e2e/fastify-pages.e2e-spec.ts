import { Logger } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { ConvoyDashboardModule } from '../../lib/dashboard/index.js';
import { ConvoyModule, WebhookEndpoints } from '../../lib/index.js';
import { ConvoyPortalModule, WebhookPortal } from '../../lib/portal/index.js';
import { LOOPBACK, eventually } from '../support/embedded-app.js';
import { recordingLogger, type LogLine } from '../support/recording-logger.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';
import { DashboardClient } from './dashboard.support.js';
import { PortalVisitor, SIGNING_KEY } from './portal-app.js';

const DASHBOARD = '/webhooks/admin';
const PORTAL = '/webhooks/portal';

/**
 * The dashboard and the portal on Nest's Fastify adapter, driven as a browser would (cookie, CSRF token, forms):
 * the pages only use what Express and Fastify share. Nest's Fastify adapter parses forms itself; an app that turns
 * its parsers off (`bodyParser: false`) and adds none is told at startup (every form would be refused with 415).
 */
describe('dashboard and portal on Fastify', () => {
  let logs: LogLine[];
  let receiver: WebhookReceiver;

  beforeEach(async () => {
    logs = [];
    receiver = await WebhookReceiver.start();
  });
  afterEach(async () => {
    Logger.overrideLogger(['log', 'error', 'warn']);
    await receiver.close();
  });

  async function start(bodyParser: boolean) {
    const moduleRef = await Test.createTestingModule({
      imports: [
        ConvoyModule.forRoot({
          embedded: { allowedAddresses: LOOPBACK },
          delivery: { retry: { strategy: 'linear', delayMs: 0, attempts: 2 } },
        }),
        ConvoyDashboardModule.register({ path: DASHBOARD }),
        ConvoyPortalModule.register({ path: PORTAL, signingKey: SIGNING_KEY }),
      ],
    }).compile();
    Logger.overrideLogger(recordingLogger(logs)); // after compile(), which sets the testing module's own logger
    const app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { bodyParser });
    await app.listen(0, '127.0.0.1');
    const origin = (await app.getUrl()).replace('[::1]', '127.0.0.1');
    return { app, origin, endpoints: app.get(WebhookEndpoints), portal: app.get(WebhookPortal) };
  }

  const formWarnings = () =>
    logs.filter((l) => l.level === 'warn' && l.message.includes('application/x-www-form-urlencoded'));

  it('dashboard: create an endpoint (secret shown once), edit, pause, activate, send a test event; CSRF and Origin are checked', async () => {
    const { app, origin, endpoints } = await start(true);
    try {
      expect(formWarnings()).toEqual([]);
      const client = new DashboardClient(`${origin}${DASHBOARD}`);
      const form = await client.get('/endpoints/new');
      expect(form.status).toBe(200);
      expect(form.headers['content-security-policy']).toContain("default-src 'none'");
      expect(client.cookie).not.toBe('');

      const created = await client.post('/endpoints', {
        url: `${receiver.url}/hooks`,
        name: 'orders',
        owner_id: 'acme',
      });
      expect(created.status).toBe(201);
      const secret = /id="secret-once"[^>]*value="([^"]+)"/.exec(created.text)?.[1];
      const id = decodeURIComponent(/href="\/webhooks\/admin\/endpoints\/([^"?/]+)"/.exec(created.text)![1]!);
      const stored = await endpoints.get(id);
      expect(stored).toMatchObject({ name: 'orders', owner_id: 'acme', url: `${receiver.url}/hooks` });
      expect(stored.secrets.map((s) => s.value)).toContain(secret);
      expect((await client.get(`/endpoints/${id}`)).text).not.toContain(secret);

      const saved = await client.post(`/endpoints/${id}`, { url: `${receiver.url}/hooks`, name: 'orders-v2' });
      expect(saved.status).toBe(303);
      expect(saved.headers.location).toBe(`${DASHBOARD}/endpoints/${id}?done=saved`);
      expect((await endpoints.get(id)).name).toBe('orders-v2');
      expect((await client.post(`/endpoints/${id}/pause`, {})).status).toBe(303);
      expect((await endpoints.get(id)).status).toBe('paused');
      expect((await client.post(`/endpoints/${id}/activate`, {})).status).toBe(303);
      expect((await endpoints.get(id)).status).toBe('active');
      expect((await client.post(`/endpoints/${id}/test`, {})).status).toBe(303);
      const got = await receiver.waitFor((w) => w.path === '/hooks');
      expect((got.json as { endpoint_id?: string }).endpoint_id).toBe(id);

      const noToken = await client.post(`/endpoints/${id}/pause`, { _csrf: 'forged' });
      expect(noToken.status).toBe(403);
      const crossSite = await client.post(`/endpoints/${id}/pause`, {}, { origin: 'http://evil.example' });
      expect(crossSite.status).toBe(403);
      expect((await endpoints.get(id)).status).toBe('active');
    } finally {
      await app.close();
    }
  });

  it('portal: a customer opens a link, creates an endpoint, sends a test event and reads the delivery; a form without the token is refused', async () => {
    const { app, origin, endpoints, portal } = await start(true);
    try {
      const alice = new PortalVisitor(origin);
      const landing = await alice.open((await portal.link('alice', { expiresInMs: 600_000 })).url);
      expect(landing.status).toBe(200);
      expect(alice.cookie).toBeDefined();

      const created = await alice.submit(`${PORTAL}/endpoints/new`, `${PORTAL}/endpoints`, {
        name: 'Alice hooks',
        url: `${receiver.url}/alice`,
        event_types: '*',
      });
      expect(created.status).toBe(200);
      const id = created.text.match(/\/endpoints\/([A-Za-z0-9_.:-]+)"/)![1]!;
      expect(await endpoints.get(id)).toMatchObject({ owner_id: 'alice', url: `${receiver.url}/alice` });

      const tested = await alice.submit(`${PORTAL}/endpoints/${id}`, `${PORTAL}/endpoints/${id}/test`, {});
      expect(tested.status).toBe(303);
      expect(tested.headers.get('location')).toBe(`${PORTAL}/endpoints/${id}?done=tested`);
      await receiver.waitFor((r) => r.path === '/alice');
      await eventually(
        () => alice.get(`${PORTAL}/deliveries`),
        (page) => page.text.includes('pill ok">Success'),
        'the delivery to succeed in the list',
      );

      // The catch-all 404 page, routed in Fastify's wildcard syntax, with the security headers.
      const missing = await alice.get(`${PORTAL}/no/such/page`);
      expect(missing.status).toBe(404);
      expect(missing.text).toContain('There is no such page here.');
      expect(missing.headers.get('content-security-policy')).toContain("default-src 'none'");

      const refused = await alice.post(`${PORTAL}/endpoints/${id}/pause`, {});
      expect(refused.status).toBe(403);
      expect((await endpoints.get(id)).status).toBe('active');
    } finally {
      await app.close();
    }
  });

  it('with bodyParser: false and no form parser both modules warn at startup; Fastify then refuses forms (415)', async () => {
    const { app, origin } = await start(false);
    try {
      const warnings = formWarnings().map((l) => l.message);
      expect(warnings).toHaveLength(2);
      expect(warnings.find((m) => m.includes(`the dashboard at ${DASHBOARD}`))).toContain('@fastify/formbody');
      expect(warnings.find((m) => m.includes(`the portal at ${PORTAL}`))).toContain('@fastify/formbody');
      const client = new DashboardClient(`${origin}${DASHBOARD}`);
      await client.get('/endpoints/new');
      expect((await client.post('/endpoints', { url: `${receiver.url}/hooks`, name: 'x' })).status).toBe(415);
    } finally {
      await app.close();
    }
  });
});
