import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { defineWebhookEvents } from '../../lib/index.js';
import { PGliteStorage } from '../../lib/storage/pglite/index.js';
import { eventually, LOOPBACK } from '../support/embedded-app.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';
import { startPortalApp, type PortalApp } from '../e2e/portal-app.js';
import { describeInBrowser, launchChromium } from './support/browser.js';

/**
 * The customer portal in Chromium (issue 13, item 5): a customer follows a portal link from another site, creates an
 * endpoint, receives a test event and reads the delivery; editing ids or the token gets them nothing of another
 * customer's; expired and tampered links show a refusal; a receiver's `<script>` is text; a 375 px phone can read it.
 * PORTAL_SCREENSHOTS=1 also writes docs/screenshots/portal-*.png.
 */
const SCREENSHOTS = process.env.PORTAL_SCREENSHOTS === '1';
const catalog = defineWebhookEvents({
  'order.paid': {
    schema: { type: 'object', properties: { id: { type: 'string' }, total: { type: 'number' } }, required: ['id'] },
    description: 'An order was paid.',
    category: 'orders',
    example: { id: 'ord_1', total: 42 },
  },
  'order.refunded': {
    schema: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] },
    description: 'An order was refunded.',
    category: 'orders',
  },
});

describeInBrowser('the customer portal in Chromium', () => {
  let browser: Browser;
  let app: PortalApp;
  let receiver: WebhookReceiver;
  let elsewhere: Server;
  let elsewhereLink = '';
  let context: BrowserContext;
  let page: Page;
  const cspErrors: string[] = [];

  beforeAll(async () => {
    browser = await launchChromium();
    const storage = await PGliteStorage.create();
    app = await startPortalApp(
      {
        storage,
        embedded: { allowedAddresses: LOOPBACK },
        delivery: { retry: { strategy: 'linear', delayMs: 0, attempts: 1 } },
        events: catalog,
        eventValidation: 'off',
      },
      { title: 'Acme webhooks' },
    );
    receiver = await WebhookReceiver.start((r) =>
      r.path === '/xss'
        ? { status: 500, body: '<script>window.pwned = 1</script><img src=x onerror="window.pwned = 2">' }
        : undefined,
    );
    // Another site (localhost, not 127.0.0.1) whose page links to the portal: how a customer arrives from an app.
    elsewhere = createServer((_req, res) => {
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.end(`<!doctype html><title>Acme app</title><a id="open" href="${elsewhereLink}">Manage your webhooks</a>`);
    });
    await new Promise<void>((resolve) => elsewhere.listen(0, '127.0.0.1', resolve));
  });

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await receiver?.close();
    await app?.close();
    await new Promise((resolve) => elsewhere?.close(resolve));
  });

  beforeEach(async () => {
    context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
    page = await context.newPage();
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) cspErrors.push(message.text());
    });
  });
  afterEach(async () => {
    await context.close();
  });

  const shot = async (name: string, target: Page = page): Promise<void> => {
    if (!SCREENSHOTS) return;
    mkdirSync('docs/screenshots', { recursive: true });
    await target.screenshot({ path: `docs/screenshots/portal-${name}.png`, fullPage: false });
  };

  /** Follows a link to the portal from the other site, as a customer would. */
  async function arriveFromElsewhere(owner: string): Promise<void> {
    // Without baseUrl, link() gives a path: the app puts its own origin in front.
    elsewhereLink = `${app.origin}${(await app.portal.link(owner, { expiresInMs: 900_000 })).url}`;
    const port = (elsewhere.address() as AddressInfo).port;
    await page.goto(`http://localhost:${port}/`);
    await page.click('#open');
    await page.waitForURL(`${app.origin}/webhooks/portal`, { timeout: 10_000 });
  }

  it('a customer arrives by link, creates an endpoint, receives a test event and reads its delivery', async () => {
    await arriveFromElsewhere('acme');
    // The token has left the address bar: the session is an HttpOnly cookie the page cannot read.
    expect(page.url()).toBe(`${app.origin}/webhooks/portal`);
    expect(await page.evaluate('document.cookie')).toBe('');
    await expect(page.locator('h1').textContent()).resolves.toBe('Your endpoints');

    await page.click('text=Add an endpoint');
    await page.fill('#name', 'Orders receiver');
    await page.fill('#url', `${receiver.url}/orders`);
    await page.fill('#description', 'Production orders');
    await page.click('button:has-text("Create endpoint")');
    const secret = (await page.textContent('#secret'))!;
    expect(secret.length).toBeGreaterThanOrEqual(32);
    await shot('secret');
    await page.click('text=Continue');
    await expect(page.locator('h1').textContent()).resolves.toBe('Endpoint Orders receiver');
    expect(await page.content()).not.toContain(secret);

    await page.click('button:has-text("Send a test event")');
    await expect(page.locator('.notice').textContent()).resolves.toContain('A test event is on its way');
    const got = await receiver.waitFor((r) => r.path === '/orders');
    expect(got.json).toEqual({ message: 'A test event sent from the webhook portal' });

    await eventually(
      async () => (await page.goto(`${app.origin}/webhooks/portal/deliveries`), page.locator('text=Success').count()),
      (n) => n > 0,
      'the delivery to show as a success',
    );
    await shot('deliveries');
    await page.click('a:has-text("webhook.test")');
    await expect(page.locator('h3').first().textContent()).resolves.toContain('Attempt 1');
    expect(await page.textContent('main')).toContain('200 OK');
    await page.goto(`${app.origin}/webhooks/portal/events`);
    expect(await page.textContent('main')).toContain('An order was paid.');
    await shot('events');
    expect(cspErrors).toEqual([]);
  });

  it("editing ids in the address bar or the token reaches nothing of another customer's", async () => {
    const other = await app.endpoints.create({
      name: 'Globex secret hooks',
      url: `${receiver.url}/globex`,
      owner_id: 'globex',
    });
    await app.publisher.publish('order.paid', { id: 'g1' }, { endpointId: other.uid });
    const [otherDelivery] = await eventually(
      async () => (await app.deliveries.list({ endpointId: [other.uid] })).content,
      (list) => list.length > 0,
      "globex's delivery",
    );
    await arriveFromElsewhere('initech');
    for (const path of [
      `endpoints/${other.uid}`,
      `deliveries/${otherDelivery!.uid}`,
      `deliveries?endpoint=${other.uid}`,
    ]) {
      const response = await page.goto(`${app.origin}/webhooks/portal/${path}`);
      expect({ path, status: response!.status() }).toEqual({ path, status: 404 });
      expect(await page.textContent('h1')).toBe('Not found');
      expect(await page.content()).not.toContain('Globex secret hooks');
    }

    // The token of initech's link with the owner changed to globex: refused, and the session is gone with it.
    const token = new URL(elsewhereLink).searchParams.get('token')!;
    const [body, mac] = token.split('.') as [string, string];
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString()) as Record<string, unknown>;
    const forged = `${Buffer.from(JSON.stringify({ ...claims, owner: 'globex' })).toString('base64url')}.${mac}`;
    const refused = await page.goto(`${app.origin}/webhooks/portal?token=${forged}`);
    expect(refused!.status()).toBe(401);
    expect(await page.textContent('h1')).toBe('This link is not valid');
    await shot('refused');
    expect(await page.content()).not.toContain('Globex');
    const after = await page.goto(`${app.origin}/webhooks/portal/endpoints/${other.uid}`);
    expect(after!.status()).toBe(401);
  });

  it('an expired link shows a clear refusal page', async () => {
    const expired = app.portal.appLink('acme', 60_000, Date.now() - 3_600_000);
    const response = await page.goto(`${app.origin}${expired.url}`);
    expect(response!.status()).toBe(401);
    expect(await page.textContent('h1')).toBe('This link has expired');
    expect(await page.textContent('main')).toContain('Ask for a new link');
  });

  it("a receiver's <script> body is shown as text and never runs; the pages read on a 375 px phone", async () => {
    await arriveFromElsewhere('hooli');
    await page.click('text=Add an endpoint');
    await page.fill('#name', 'Hostile receiver');
    await page.fill('#url', `${receiver.url}/xss`);
    await page.click('button:has-text("Create endpoint")');
    await page.click('text=Continue');
    const endpointUrl = page.url();
    const id = endpointUrl.split('/').pop()!;
    await app.publisher.publish(
      'order.paid',
      { id: '<script>window.pwned = 3</script>', total: 9 },
      { endpointId: id },
    );
    await eventually(
      async () => (await page.goto(`${app.origin}/webhooks/portal/deliveries`), page.locator('text=Failure').count()),
      (n) => n > 0,
      'the delivery to fail',
    );
    await page.click('a:has-text("order.paid")');
    expect(await page.textContent('.response-body')).toBe(
      '<script>window.pwned = 1</script><img src=x onerror="window.pwned = 2">',
    );
    expect(await page.textContent('#payload')).toContain('<script>window.pwned = 3</script>');
    expect(await page.evaluate(() => (globalThis as { pwned?: number }).pwned)).toBeUndefined();
    expect(await page.locator('main script, main img').count()).toBe(0);
    await shot('delivery');

    // A phone: nothing wider than the screen, the actions on it.
    await page.setViewportSize({ width: 375, height: 800 });
    for (const path of ['', '/deliveries', `/endpoints/${id}`, '/events']) {
      await page.goto(`${app.origin}/webhooks/portal${path}`);
      const width = await page.evaluate<number>('document.documentElement.scrollWidth');
      expect({ path, width }).toEqual({ path, width: 375 });
      const h1 = (await page.locator('h1').boundingBox())!;
      expect(h1.x + h1.width).toBeLessThanOrEqual(375);
      const fontSize = await page.evaluate<number>('parseFloat(getComputedStyle(document.body).fontSize)');
      expect(fontSize).toBeGreaterThanOrEqual(14);
      if (path === `/endpoints/${id}`) {
        const button = (await page.locator('button:has-text("Pause")').boundingBox())!;
        expect(button.x + button.width).toBeLessThanOrEqual(375);
        await shot('phone');
      }
    }
    expect(cspErrors).toEqual([]);
  });
});
