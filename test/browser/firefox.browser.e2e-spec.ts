import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { PGliteStorage } from '../../lib/storage/pglite/index.js';
import { eventually, LOOPBACK } from '../support/embedded-app.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';
import { startPortalApp, type PortalApp } from '../e2e/portal-app.js';
import { startDashboard, type DashboardApp } from '../e2e/dashboard.support.js';
import { describeInFirefox, FIREFOX_PATH } from './support/browser.js';

const HOSTILE = '<script>window.pwned = 1</script><img src=x onerror="window.pwned = 2">';

/**
 * The portal and the dashboard in Firefox (issue 13, item 4): the same forms, cookies, CSRF and origin checks as in
 * Chromium, under Firefox's own `Origin` and `Sec-Fetch-*` behaviour, and a hostile body stays text.
 */
describeInFirefox('the portal and the dashboard in Firefox', () => {
  let browser: Browser;
  let page: Page;
  let receiver: WebhookReceiver;
  let portal: PortalApp;
  let dashboard: DashboardApp;

  beforeAll(async () => {
    browser = await puppeteer.launch({ browser: 'firefox', executablePath: FIREFOX_PATH, headless: true });
    receiver = await WebhookReceiver.start((r) => (r.path === '/xss' ? { status: 500, body: HOSTILE } : undefined));
    const options = {
      embedded: { allowedAddresses: LOOPBACK },
      delivery: { retry: { strategy: 'linear' as const, delayMs: 0, attempts: 1 } },
    };
    portal = await startPortalApp({ ...options, storage: await PGliteStorage.create() });
    dashboard = await startDashboard({ ...options, storage: await PGliteStorage.create() });
  });
  afterAll(async () => {
    await browser?.close();
    await receiver?.close();
    await portal?.close();
    await dashboard?.close();
  });
  beforeEach(async () => {
    page = await browser.newPage();
    await page.setViewport({ width: 1200, height: 900 });
  });
  afterEach(() => page.close());

  const text = (selector: string): Promise<string> => page.$eval(selector, (e) => e.textContent ?? '');

  it('a customer opens a portal link, creates an endpoint (secret shown once) and sends it a test event', async () => {
    await page.goto(`${portal.origin}${(await portal.portal.link('acme', { expiresInMs: 900_000 })).url}`);
    await page.waitForFunction("location.search === '' && document.querySelector('h1') !== null");
    expect(await text('h1')).toBe('Your endpoints');
    expect(await page.evaluate('document.cookie')).toBe(''); // the session cookie is HttpOnly

    await page.goto(`${portal.origin}/webhooks/portal/endpoints/new`);
    await page.type('#name', 'Orders receiver');
    await page.type('#url', `${receiver.url}/orders`);
    await Promise.all([page.waitForNavigation(), page.click('button[type="submit"]')]);
    const secret = await text('#secret');
    expect(secret.length).toBeGreaterThanOrEqual(32);

    const [endpoint] = (await portal.endpoints.list({ ownerId: 'acme' })).content;
    await page.goto(`${portal.origin}/webhooks/portal/endpoints/${endpoint!.uid}`);
    expect(await page.content()).not.toContain(secret);
    const test = await page.$$eval('button', (buttons) =>
      buttons.findIndex((b) => b.textContent?.includes('Send a test event')),
    );
    expect(test).toBeGreaterThanOrEqual(0);
    await Promise.all([page.waitForNavigation(), page.$$('button').then((b) => b[test]!.click())]);
    expect(await text('.notice')).toContain('A test event is on its way');
    const got = await receiver.waitFor((r) => r.path === '/orders');
    expect(got.headers['x-convoy-signature']).toBeDefined();
  });

  it('an operator reads a failed delivery whose body holds <script> as text, and resends it', async () => {
    const endpoint = await dashboard.endpoints.create({ name: 'xss', url: `${receiver.url}/xss` });
    await dashboard.publisher.publish('order.paid', { id: 'o1' }, { endpointId: endpoint.uid });
    const [delivery] = await eventually(
      async () => (await dashboard.deliveries.list({ endpointId: [endpoint.uid] })).content,
      (list) => list.length > 0 && list[0]!.status === 'Failure',
      'the delivery to fail',
    );
    await page.goto(`${dashboard.base}/deliveries/${delivery!.uid}`);
    expect(await page.evaluate('document.body.textContent')).toContain(HOSTILE);
    expect(await page.evaluate('window.pwned')).toBeUndefined();

    const sent = receiver.received.filter((r) => r.path === '/xss').length;
    const resend = await page.$$eval('button', (buttons) =>
      buttons.findIndex((b) => /resend/i.test(b.textContent ?? '')),
    );
    expect(resend).toBeGreaterThanOrEqual(0);
    await Promise.all([page.waitForNavigation(), page.$$('button').then((b) => b[resend]!.click())]);
    expect(await page.$('.notice')).not.toBeNull();
    await receiver.waitForCount(sent + 1, (r) => r.path === '/xss');
  });
});
