import type { INestApplication } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { Test } from '@nestjs/testing';
import { PAGE_SECURITY_HEADERS } from '../../lib/ui/security.js';
import {
  ConvoyConfigurationError,
  ConvoyModule,
  defineWebhookEvents,
  type ConvoyModuleOptions,
} from '../../lib/index.js';
import { ConvoyPortalModule, InvalidPortalLinkError, WebhookPortal } from '../../lib/portal/index.js';
import { PGliteStorage } from '../../lib/storage/pglite/index.js';
import { PostgresStorage } from '../../lib/storage/postgres/index.js';
import { databaseUrl, dropSchema, uniqueSchema } from '../fault/support/postgres.js';
import { eventually, LOOPBACK } from '../support/embedded-app.js';
import { FakeConvoy } from '../support/fake-convoy.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';
import { PortalVisitor, startPortalApp, type PortalApp } from './portal-app.js';

/**
 * The customer portal (issue 13, item 2 and 3) through HTTP, on a real Nest app on listen(0): a customer opens a
 * signed link and manages only their own endpoints and deliveries, on the embedded engine (PGlite, PostgreSQL) and on
 * the Convoy transport (the fake Convoy). Each protection has a test that fails without it.
 */

const BASE = '/webhooks/portal';
const retry = { strategy: 'linear' as const, delayMs: 0, attempts: 1 };

interface Backend {
  name: string;
  /** Whether deliveries reach the receiver (the fake Convoy records events but delivers nothing). */
  delivers: boolean;
  start(): Promise<{ options: ConvoyModuleOptions; fake?: FakeConvoy; close(): Promise<void> }>;
}

const backends: Backend[] = [
  {
    name: 'embedded engine on PGlite',
    delivers: true,
    async start() {
      const storage = await PGliteStorage.create();
      return {
        options: { storage, embedded: { allowedAddresses: LOOPBACK }, delivery: { retry } },
        close: async () => {},
      };
    },
  },
];
if (databaseUrl)
  backends.push({
    name: 'embedded engine on PostgreSQL',
    delivers: true,
    async start() {
      const schema = uniqueSchema('nc_portal');
      const storage = await PostgresStorage.create({ connectionString: databaseUrl, schema });
      return {
        options: { storage, embedded: { allowedAddresses: LOOPBACK }, delivery: { retry } },
        close: () => dropSchema(schema),
      };
    },
  });
else console.info('portal on PostgreSQL skipped: set DATABASE_URL to run it');
backends.push({
  name: 'Convoy transport (fake Convoy, community edition)',
  delivers: false,
  async start() {
    const fake = await FakeConvoy.start();
    return {
      options: { convoy: fake.clientOptions, delivery: { retry: { attempts: 1 } } },
      fake,
      close: () => fake.close(),
    };
  },
});

/** The id in a `…/endpoints/<id>` link of a page. */
const endpointIdOn = (text: string): string => text.match(/\/endpoints\/([A-Za-z0-9_.:-]+)"/)![1]!;

describe.each(backends)('the customer portal: $name', (backend) => {
  let app: PortalApp;
  let receiver: WebhookReceiver;
  let fake: FakeConvoy | undefined;
  let closeBackend: () => Promise<void>;

  beforeAll(async () => {
    const started = await backend.start();
    fake = started.fake;
    closeBackend = () => started.close();
    app = await startPortalApp(started.options);
    receiver = await WebhookReceiver.start();
  });
  afterAll(async () => {
    await receiver?.close();
    await app?.close();
    await closeBackend?.();
  });

  /** A customer with a session. */
  async function customer(owner: string): Promise<PortalVisitor> {
    const visitor = new PortalVisitor(app.origin);
    const link = await app.portal.link(owner, { expiresInMs: 600_000 });
    expect(link.provider).toBe('app');
    const landing = await visitor.open(link.url);
    expect(landing.status).toBe(200);
    expect(visitor.cookie).toBeDefined();
    return visitor;
  }

  it('a customer opens a link, creates an endpoint (its secret shown once), sends a test event and reads the delivery', async () => {
    const alice = await customer('alice');
    const created = await alice.submit(`${BASE}/endpoints/new`, `${BASE}/endpoints`, {
      name: 'Alice hooks',
      url: `${receiver.url}/alice`,
      description: 'orders',
      event_types: '*',
    });
    expect(created.status).toBe(200);
    const secret = created.text.match(/<pre id="secret" class="mono">([^<]+)<\/pre>/)![1]!;
    expect(secret.length).toBeGreaterThanOrEqual(32);
    const id = endpointIdOn(created.text);
    const stored = await app.endpoints.get(id);
    expect(stored).toMatchObject({ name: 'Alice hooks', owner_id: 'alice', url: `${receiver.url}/alice` });
    expect(stored.secrets.map((s) => s.value)).toContain(secret);

    // Shown once: no page of the portal carries it afterwards.
    for (const path of [BASE, `${BASE}/endpoints/${id}`, `${BASE}/deliveries`, `${BASE}/events`]) {
      const page = await alice.get(path);
      expect(page.status).toBe(200);
      expect(page.text).not.toContain(secret);
    }

    const tested = await alice.submit(`${BASE}/endpoints/${id}`, `${BASE}/endpoints/${id}/test`, {});
    expect(tested.status).toBe(303);
    expect(tested.headers.get('location')).toBe(`${BASE}/endpoints/${id}?done=tested`);

    if (backend.delivers) {
      const got = await receiver.waitFor((r) => r.path === '/alice');
      expect(got.json).toEqual({ message: 'A test event sent from the webhook portal' });
      const list = await eventually(
        () => alice.get(`${BASE}/deliveries`),
        (p) => p.text.includes('pill ok">Success'),
        'the delivery to succeed in the list',
      );
      const deliveryId = list.text.match(/\/deliveries\/([A-Za-z0-9_.:-]+)"/)![1]!;
      const detail = await alice.get(`${BASE}/deliveries/${deliveryId}`);
      expect(detail.status).toBe(200);
      expect(detail.text).toContain('webhook.test');
      expect(detail.text).toContain('Attempt 1');
      expect(detail.text).toContain('200 OK');
      expect(detail.text).not.toContain(secret);
    } else {
      await eventually(
        async () => fake!.eventRequests().filter((r) => r.body?.endpoint_id === id),
        (found) => found.length === 1,
        'the test event to reach Convoy',
      );
    }
  });

  it('a customer cannot read or change another customer’s endpoint or delivery, whatever ids they send (404)', async () => {
    const bob = await app.endpoints.create({ name: 'Bob hooks', url: `${receiver.url}/bob`, owner_id: 'bob' });
    const bobBefore = await app.endpoints.get(bob.uid);
    const receipt = await app.publisher.publish('order.paid', { n: 1 }, { endpointId: bob.uid });
    const bobDelivery = await eventually(
      async () => (await app.deliveries.list({ endpointId: [bob.uid], perPage: 10 })).content,
      (list) => list.length > 0,
      `a delivery of ${receipt.idempotencyKey} to Bob`,
    );
    const deliveryId = bobDelivery[0]!.uid;

    const carol = await customer('carol');
    const csrf = PortalVisitor.csrfOf(await carol.get(BASE));
    for (const path of [
      `${BASE}/endpoints/${bob.uid}`,
      `${BASE}/deliveries/${deliveryId}`,
      `${BASE}/deliveries?endpoint=${bob.uid}`,
    ]) {
      const page = await carol.get(path);
      expect({ path, status: page.status }).toEqual({ path, status: 404 });
      expect(page.text).not.toContain('Bob hooks');
    }
    for (const action of ['pause', 'delete', 'rotate', 'test', 'activate']) {
      const answer = await carol.post(`${BASE}/endpoints/${bob.uid}/${action}`, { keep: '0' }, { csrf });
      expect({ action, status: answer.status }).toEqual({ action, status: 404 });
    }
    const update = await carol.post(
      `${BASE}/endpoints/${bob.uid}`,
      { name: 'taken', url: `${receiver.url}/carol` },
      { csrf },
    );
    expect(update.status).toBe(404);
    const resend = await carol.post(`${BASE}/deliveries/${deliveryId}/resend`, {}, { csrf });
    expect(resend.status).toBe(404);

    // Carol's lists show nothing of Bob's, and Bob's endpoint is as it was.
    expect((await carol.get(BASE)).text).not.toContain('Bob hooks');
    expect((await carol.get(`${BASE}/deliveries`)).text).not.toContain(deliveryId);
    const bobAfter = await app.endpoints.get(bob.uid);
    expect({ ...bobAfter, updated_at: '' }).toEqual({ ...bobBefore, updated_at: '' });
  });

  it('creating an endpoint takes the owner from the link, never from the form', async () => {
    const dave = await customer('dave');
    const created = await dave.submit(`${BASE}/endpoints/new`, `${BASE}/endpoints`, {
      name: 'Dave hooks',
      url: `${receiver.url}/dave`,
      owner_id: 'mallory',
      event_types: '*',
    });
    expect(created.status).toBe(200);
    expect((await app.endpoints.get(endpointIdOn(created.text))).owner_id).toBe('dave');
    expect((await app.endpoints.list({ ownerId: 'mallory' })).content).toEqual([]);
  });

  it('edits, pauses, activates, rotates (new secret shown once) and deletes an own endpoint', async () => {
    const erin = await customer('erin');
    const created = await erin.submit(`${BASE}/endpoints/new`, `${BASE}/endpoints`, {
      name: 'Erin',
      url: `${receiver.url}/erin`,
    });
    const id = endpointIdOn(created.text);
    const page = `${BASE}/endpoints/${id}`;
    expect(
      (await erin.submit(page, page, { name: 'Erin 2', url: `${receiver.url}/erin2`, description: 'd' })).status,
    ).toBe(303);
    expect(await app.endpoints.get(id)).toMatchObject({
      name: 'Erin 2',
      url: `${receiver.url}/erin2`,
      owner_id: 'erin',
    });
    expect((await erin.submit(page, `${page}/pause`, {})).status).toBe(303);
    expect((await app.endpoints.get(id)).status).toBe('paused');
    expect((await erin.submit(page, `${page}/activate`, {})).status).toBe(303);
    expect((await app.endpoints.get(id)).status).toBe('active');
    const rotated = await erin.submit(page, `${page}/rotate`, { keep: '3600' });
    expect(rotated.status).toBe(200);
    const secret = rotated.text.match(/<pre id="secret" class="mono">([^<]+)<\/pre>/)![1]!;
    expect((await app.endpoints.get(id)).secrets.map((s) => s.value)).toContain(secret);
    expect((await erin.get(page)).text).not.toContain(secret);
    expect((await erin.submit(page, `${page}/delete`, {})).status).toBe(303);
    expect((await erin.get(page)).status).toBe(404);
  });
});

describe('the customer portal: links, tokens, CSRF and headers (embedded engine, PGlite)', () => {
  let app: PortalApp;
  let receiver: WebhookReceiver;
  const catalog = defineWebhookEvents({
    'order.paid': {
      schema: { type: 'object', properties: { id: { type: 'string' } } },
      description: 'An order was <b>paid</b>.',
      category: 'orders',
    },
  });

  beforeAll(async () => {
    const storage = await PGliteStorage.create();
    app = await startPortalApp(
      { storage, embedded: { allowedAddresses: LOOPBACK }, delivery: { retry }, events: catalog },
      { baseUrl: 'http://127.0.0.1:1' },
    );
    receiver = await WebhookReceiver.start((r) =>
      r.path === '/xss'
        ? { status: 500, body: '<script>window.pwned=1</script>', headers: { 'x-evil': '<b>' } }
        : undefined,
    );
  });
  afterAll(async () => {
    await receiver?.close();
    await app?.close();
  });

  /** A path under the app of a link (the app's baseUrl here is a placeholder). */
  const pathOf = (url: string): string => new URL(url).pathname + new URL(url).search;

  async function session(owner: string): Promise<PortalVisitor> {
    const visitor = new PortalVisitor(app.origin);
    await visitor.open(pathOf((await app.portal.link(owner)).url));
    return visitor;
  }

  it('link() signs an expiring URL under baseUrl; the first visit trades the token for a Strict HttpOnly cookie', async () => {
    const before = Date.now();
    const link = await app.portal.link('acme', { expiresInMs: 120_000 });
    expect(link.url).toMatch(/^http:\/\/127\.0\.0\.1:1\/webhooks\/portal\?token=[\w-]+\.[\w-]+$/);
    expect(link.expiresAt!.getTime()).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + 120_000);
    const visitor = new PortalVisitor(app.origin);
    const landing = await visitor.open(pathOf(link.url));
    const cookie = landing.headers.get('set-cookie')!;
    expect(cookie).toMatch(
      /^convoy_portal=[\w-]+\.[\w-]+; Path=\/webhooks\/portal; Max-Age=1[12]\d; HttpOnly; SameSite=Strict$/,
    );
    // The landing page leaves for the portal without the token.
    expect(landing.text).toContain('<meta http-equiv="refresh" content="0;url=/webhooks/portal">');
    expect((await visitor.get(BASE)).status).toBe(200);
  });

  it('link() refuses an owner id or expiry it cannot sign', async () => {
    for (const owner of ['', '   ', 'a'.repeat(256), 'x\ny', ' padded']) {
      await expect(app.portal.link(owner)).rejects.toThrow(InvalidPortalLinkError);
    }
    for (const expiresInMs of [0, -1000, 999, 1_500, 7 * 24 * 3_600_000 + 1000, Number.NaN]) {
      await expect(app.portal.link('acme', { expiresInMs })).rejects.toThrow(InvalidPortalLinkError);
    }
    await expect(app.portal.link('acme', { expiresInMs: 7 * 24 * 3_600_000 })).resolves.toMatchObject({
      provider: 'app',
    });
    // The old option in seconds is refused by name, not read as absent (a 1-hour link for a 10-minute one).
    await expect(app.portal.link('acme', { expiresIn: 600 } as never)).rejects.toThrow(
      /expiresIn, in seconds, was renamed/,
    );
  });

  it('a signing key under 32 bytes stops startup', async () => {
    await expect(startPortalApp({}, { signingKey: 'short-key' })).rejects.toThrow(ConvoyConfigurationError);
    await expect(startPortalApp({}, { signingKey: 'short-key' })).rejects.toThrow(/portal\.signingKey/);
  });

  it('an expired link, and an expired session cookie, are refused on every route', async () => {
    const old = app.portal.appLink('acme', 60_000, Date.now() - 120_000);
    const visitor = new PortalVisitor(app.origin);
    const landing = await visitor.open(pathOf(old.url));
    expect(landing.status).toBe(401);
    expect(landing.text).toContain('This link has expired');
    expect(visitor.cookie).toBeUndefined();
    visitor.cookie = new URL(old.url).searchParams.get('token')!;
    for (const path of [BASE, `${BASE}/deliveries`, `${BASE}/events`, `${BASE}/endpoints/new`]) {
      const page = await visitor.get(path);
      expect({ path, status: page.status }).toEqual({ path, status: 401 });
      expect(page.text).toContain('This link has expired');
    }
    expect((await visitor.post(`${BASE}/endpoints`, { name: 'x', url: `${receiver.url}/x` })).status).toBe(401);
  });

  it('a tampered token (another owner, another signature, another key) is refused', async () => {
    const token = new URL((await app.portal.link('acme')).url).searchParams.get('token')!;
    const [body, mac] = token.split('.') as [string, string];
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString());
    const otherOwner = `${Buffer.from(JSON.stringify({ ...claims, owner: 'victim' })).toString('base64url')}.${mac}`;
    const otherMac = `${body}.${mac.slice(0, -2)}${mac.endsWith('AA') ? 'BB' : 'AA'}`;
    const { WebhookPortal } = await import('../../lib/portal/webhook-portal.js');
    const foreign = new WebhookPortal(
      { ...app.portal.options, signingKey: 'another-signing-key-0123456789abcdef' },
      { client: undefined as never, active: false },
    );
    const foreignToken = new URL(foreign.appLink('acme').url).searchParams.get('token')!;
    for (const [what, bad] of [
      ['owner changed', otherOwner],
      ['signature changed', otherMac],
      ['another key', foreignToken],
      ['no signature', body],
    ] as const) {
      const visitor = new PortalVisitor(app.origin);
      const landing = await visitor.open(`${BASE}?token=${bad}`);
      expect({ what, status: landing.status }).toEqual({ what, status: 401 });
      expect(landing.text).toContain('This link is not valid');
      visitor.cookie = bad;
      expect({ what, status: (await visitor.get(BASE)).status }).toEqual({ what, status: 401 });
    }
    // A page without any session asks for the link.
    const none = await new PortalVisitor(app.origin).get(`${BASE}/deliveries`);
    expect(none.status).toBe(401);
  });

  it('a form without its CSRF token, or with another session’s, is refused (403) and changes nothing', async () => {
    const acme = await session('acme-csrf');
    const other = await session('other-csrf');
    const otherCsrf = PortalVisitor.csrfOf(await other.get(BASE));
    const form = { name: 'csrf', url: `${receiver.url}/csrf` };
    expect((await acme.post(`${BASE}/endpoints`, form)).status).toBe(403);
    expect((await acme.post(`${BASE}/endpoints`, form, { csrf: otherCsrf })).status).toBe(403);
    expect((await acme.post(`${BASE}/endpoints`, form, { csrf: 'x'.repeat(43) })).status).toBe(403);
    expect((await app.endpoints.list({ ownerId: 'acme-csrf' })).content).toEqual([]);
    // The same form with its own token works.
    const ok = await acme.submit(`${BASE}/endpoints/new`, `${BASE}/endpoints`, form);
    expect(ok.status).toBe(200);
  });

  it('a cross-site form post is refused (403) even with a valid CSRF token', async () => {
    const acme = await session('acme-origin');
    const csrf = PortalVisitor.csrfOf(await acme.get(BASE));
    const form = { name: 'xs', url: `${receiver.url}/xs` };
    const evil = await acme.post(`${BASE}/endpoints`, form, { csrf, headers: { origin: 'http://evil.example' } });
    expect(evil.status).toBe(403);
    const site = await acme.post(`${BASE}/endpoints`, form, { csrf, headers: { 'sec-fetch-site': 'cross-site' } });
    expect(site.status).toBe(403);
    const opaque = await acme.post(`${BASE}/endpoints`, form, { csrf, headers: { origin: 'null' } });
    expect(opaque.status).toBe(403);
    expect((await app.endpoints.list({ ownerId: 'acme-origin' })).content).toEqual([]);
    // Chromium's same-origin form post under Referrer-Policy: no-referrer: Origin null, Sec-Fetch-Site same-origin.
    const chromium = await acme.post(`${BASE}/endpoints`, form, {
      csrf,
      headers: { origin: 'null', 'sec-fetch-site': 'same-origin' },
    });
    expect(chromium.status).toBe(200);
    const same = await acme.post(`${BASE}/endpoints`, form, { csrf, headers: { origin: app.origin } });
    expect(same.status).toBe(200);
  });

  it('every answer carries the security headers and the strict CSP: pages, landing, refusals, 404s, redirects', async () => {
    const acme = await session('acme-headers');
    const created = await acme.submit(`${BASE}/endpoints/new`, `${BASE}/endpoints`, {
      name: 'h',
      url: `${receiver.url}/h`,
    });
    const id = endpointIdOn(created.text);
    const answers = {
      landing: await new PortalVisitor(app.origin).open(pathOf((await app.portal.link('acme-headers')).url)),
      refusal: await new PortalVisitor(app.origin).get(BASE),
      list: await acme.get(BASE),
      created,
      missing: await acme.get(`${BASE}/endpoints/nope`),
      unknownRoute: await acme.get(`${BASE}/no/such/page`),
      redirect: await acme.submit(`${BASE}/endpoints/${id}`, `${BASE}/endpoints/${id}/pause`, {}),
      forbidden: await acme.post(`${BASE}/endpoints`, {}),
      css: await acme.get(`${BASE}/assets/ui.css`),
    };
    expect(answers.unknownRoute.status).toBe(404);
    expect(answers.redirect.status).toBe(303);
    for (const [what, answer] of Object.entries(answers)) {
      for (const [name, value] of Object.entries(PAGE_SECURITY_HEADERS)) {
        if (what === 'css' && name === 'cache-control') continue;
        expect({ what, name, value: answer.headers.get(name) }).toEqual({ what, name, value });
      }
    }
    const csp = answers.list.headers.get('content-security-policy')!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(answers.list.text).not.toMatch(/<script|style=/);
  });

  it('SSRF: an endpoint at a metadata or private address is refused before any connection, and not created', async () => {
    const acme = await session('acme-ssrf');
    for (const url of ['http://169.254.169.254/latest/meta-data', 'http://10.0.0.1/hook']) {
      const answer = await acme.submit(`${BASE}/endpoints/new`, `${BASE}/endpoints`, { name: 'ssrf', url });
      expect({ url, status: answer.status }).toEqual({ url, status: 400 });
      expect(answer.text).toMatch(/SSRF guard|refus/);
    }
    expect((await app.endpoints.list({ ownerId: 'acme-ssrf' })).content).toEqual([]);
  });

  it('a receiver’s hostile response is escaped on the delivery page; the event types come from the catalog', async () => {
    const acme = await session('acme-xss');
    const created = await acme.submit(`${BASE}/endpoints/new`, `${BASE}/endpoints`, {
      name: '<img src=x onerror=alert(1)>',
      url: `${receiver.url}/xss`,
    });
    const id = endpointIdOn(created.text);
    await app.publisher.publish('order.paid', { id: '</pre><script>x()</script>' }, { endpointId: id });
    const list = await eventually(
      () => acme.get(`${BASE}/deliveries`),
      (p) => p.text.includes('pill bad">Failure'),
      'the delivery to fail',
    );
    expect(list.text).toContain('&lt;img src=x onerror=alert(1)&gt;');
    const deliveryId = list.text.match(/\/deliveries\/([A-Za-z0-9_.:-]+)"/)![1]!;
    const detail = await acme.get(`${BASE}/deliveries/${deliveryId}`);
    expect(detail.text).toContain('&lt;script&gt;window.pwned=1&lt;/script&gt;');
    expect(detail.text).toContain('&lt;/pre&gt;&lt;script&gt;x()&lt;/script&gt;');
    expect(detail.text).not.toMatch(/<script|<img|<b>/);
    // Resend is offered for the failure, and works.
    expect(
      (await acme.submit(`${BASE}/deliveries/${deliveryId}`, `${BASE}/deliveries/${deliveryId}/resend`, {})).status,
    ).toBe(303);

    const events = await acme.get(`${BASE}/events`);
    expect(events.text).toContain('order.paid');
    expect(events.text).toContain('An order was &lt;b&gt;paid&lt;/b&gt;.');
    expect(events.text).toContain('orders');
  });
});

describe('the customer portal on the Convoy transport: link()', () => {
  let fake: FakeConvoy;
  let app: PortalApp;
  afterEach(async () => {
    await app?.close();
    await fake?.close();
  });

  it("returns Convoy's portal link when the licence allows it, reusing the owner's link", async () => {
    fake = await FakeConvoy.start({ licensed: true });
    app = await startPortalApp({ convoy: fake.clientOptions });
    const first = await app.portal.link('acme');
    expect(first).toEqual({ url: expect.stringContaining(`/portal?token=`), expiresAt: null, provider: 'convoy' });
    const second = await app.portal.link('acme');
    expect(second.url).toBe(first.url);
    expect([...fake.portalLinks.values()].map((l) => [l.owner_id, l.can_manage_endpoint])).toEqual([['acme', true]]);
  });

  it("falls back to this module's portal on a community Convoy (portal links refused: 401 Access denied)", async () => {
    fake = await FakeConvoy.start();
    app = await startPortalApp({ convoy: fake.clientOptions });
    const link = await app.portal.link('acme');
    expect(link.provider).toBe('app');
    const refused = fake.requests.filter((r) => r.route === '/portal-links');
    expect(refused.length).toBe(1);
    // The refusal is remembered: the next link does not ask Convoy again.
    await app.portal.link('acme');
    expect(fake.requests.filter((r) => r.route === '/portal-links').length).toBe(1);
    const visitor = new PortalVisitor(app.origin);
    expect((await visitor.open(link.url)).status).toBe(200);
    expect((await visitor.get(BASE)).status).toBe(200);
  });

  it('convoyPortalLinks: false keeps the app portal on a licensed Convoy', async () => {
    fake = await FakeConvoy.start({ licensed: true });
    app = await startPortalApp({ convoy: fake.clientOptions }, { convoyPortalLinks: false });
    expect((await app.portal.link('acme')).provider).toBe('app');
    expect(fake.portalLinks.size).toBe(0);
  });
});

describe('ConvoyPortalModule.registerAsync, under a global prefix', () => {
  let app: INestApplication | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  async function start(key: string): Promise<INestApplication> {
    const moduleRef = await Test.createTestingModule({
      imports: [
        ConfigModule.forRoot({ ignoreEnvFile: true, load: [() => ({ PORTAL_KEY: key })] }),
        ConvoyModule.forRoot({}),
        ConvoyPortalModule.registerAsync({
          path: '/webhooks/portal',
          imports: [ConfigModule],
          inject: [ConfigService],
          useFactory: (config: ConfigService) => ({
            signingKey: config.getOrThrow<string>('PORTAL_KEY'),
            title: 'From config',
          }),
        }),
      ],
    }).compile();
    const nest = moduleRef.createNestApplication({ logger: false });
    nest.setGlobalPrefix('api');
    await nest.listen(0, '127.0.0.1');
    return nest;
  }

  it('takes the key from ConfigService; pages, links and the cookie path follow the prefix', async () => {
    app = await start('config-signing-key-0123456789abcdef-xyz');
    const origin = (await app.getUrl()).replace('[::1]', '127.0.0.1');
    const link = await app.get(WebhookPortal).link('acme');
    const visitor = new PortalVisitor(origin);
    const landing = await visitor.open(`/api${link.url}`);
    expect(landing.status).toBe(200);
    expect(landing.headers.get('set-cookie')).toContain('; Path=/api/webhooks/portal;');
    expect(landing.text).toContain('content="0;url=/api/webhooks/portal"');
    const home = await visitor.get('/api/webhooks/portal');
    expect(home.status).toBe(200);
    expect(home.text).toContain('From config');
    expect(home.text).toContain('href="/api/webhooks/portal/endpoints/new"');
    expect(home.text).toContain('href="/api/webhooks/portal/assets/ui.css"');
    expect((await visitor.get('/api/webhooks/portal/assets/ui.css')).status).toBe(200);
  });

  it('a short key from the factory stops startup', async () => {
    await expect(start('too-short')).rejects.toThrow(/portal\.signingKey/);
  });
});

describe('the customer portal: form posts per customer per minute (actionsPerMinute)', () => {
  let app: PortalApp;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    app = await startPortalApp(
      { embedded: { allowedAddresses: LOOPBACK }, delivery: { retry } },
      { actionsPerMinute: 3 },
    );
    receiver = await WebhookReceiver.start();
  });
  afterAll(async () => {
    await receiver?.close();
    await app?.close();
  });

  async function customer(owner: string): Promise<PortalVisitor> {
    const visitor = new PortalVisitor(app.origin);
    await visitor.open((await app.portal.link(owner)).url);
    return visitor;
  }

  it('past the limit a post answers 429 with Retry-After and changes nothing; pages still open; other customers keep theirs', async () => {
    const { uid } = await app.endpoints.create({ name: 'a', url: `${receiver.url}/a`, owner_id: 'busy' });
    const busy = await customer('busy');
    const csrf = PortalVisitor.csrfOf(await busy.get(`${BASE}/endpoints/${uid}`));
    for (const action of ['pause', 'activate', 'pause'])
      expect((await busy.post(`${BASE}/endpoints/${uid}/${action}`, {}, { csrf })).status).toBe(303);
    expect((await app.endpoints.get(uid)).status).toBe('paused');

    const refused = await busy.post(`${BASE}/endpoints/${uid}/activate`, {}, { csrf });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(Number(refused.headers.get('retry-after'))).toBeLessThanOrEqual(20);
    expect(refused.text).toContain('Too many changes');
    expect(refused.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect((await app.endpoints.get(uid)).status).toBe('paused');
    expect((await busy.get(`${BASE}/endpoints/${uid}`)).status).toBe(200);

    const other = await customer('calm');
    const created = await other.submit(`${BASE}/endpoints/new`, `${BASE}/endpoints`, {
      name: 'calm',
      url: `${receiver.url}/calm`,
    });
    expect(created.status).toBe(200);
  });
});
