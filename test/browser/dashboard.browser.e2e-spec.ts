import type { Browser, Page } from 'playwright-core';
import { eventually, waitForStatus } from '../support/embedded-app.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';
import { BACKENDS, startDashboard, type DashboardApp } from '../e2e/dashboard.support.js';
import { describeInBrowser, launchChromium } from './support/browser.js';

const HOSTILE = '<script>window.pwned = 1</script><img src=x onerror="window.pwned = 2">failed';

/** Collects what would show a broken page: CSP violations, script errors, failed requests (the browser's own /favicon.ico aside). */
function watch(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(e.message));
  page.on('response', (r) => {
    if (r.status() >= 400 && new URL(r.url()).pathname !== '/favicon.ico') problems.push(`${r.status()} ${r.url()}`);
  });
  return problems;
}

describeInBrowser.each(BACKENDS.filter((b) => b.transport === 'embedded'))(
  'dashboard in Chromium: $name',
  ({ skip, open }) => {
    const run = skip ? it.skip : it;
    let browser: Browser;
    let app: DashboardApp;
    let receiver: WebhookReceiver;
    let closeBackend: () => Promise<void>;

    beforeAll(async () => {
      if (skip) return;
      browser = await launchChromium();
    });
    afterAll(async () => {
      await browser?.close();
    });
    beforeEach(async () => {
      if (skip) return;
      const backend = await open();
      closeBackend = backend.close;
      receiver = await WebhookReceiver.start(() => ({ status: 500, body: HOSTILE }));
      app = await startDashboard(backend.options);
    });
    afterEach(async () => {
      if (skip) return;
      await receiver.close();
      await app.close();
      await closeBackend();
    });

    async function failingDelivery(): Promise<string> {
      const endpoint = await app.endpoints.create({ url: `${receiver.url}/orders`, name: 'orders', owner_id: 'acme' });
      await app.publisher.publish('order.paid', { order: 42 }, { endpointId: endpoint.uid });
      const [d] = await eventually(
        async () => (await app.deliveries.list({ eventType: 'order.paid' })).content,
        (l) => l.length === 1,
        'the delivery',
      );
      await waitForStatus(app.deliveries, d!.uid, 'Failure');
      return d!.uid;
    }

    run(
      'an operator finds a failing delivery with the keyboard, reads its attempts, fixes the receiver, resends it, and the receiver gets it',
      async () => {
        const id = await failingDelivery();
        const page = await browser.newPage();
        const problems = watch(page);
        await page.goto(`${app.base}/deliveries`);

        // Filter by status with the keyboard: the labelled select, then the Filter button.
        await page.getByLabel('Status').focus();
        await page.getByLabel('Status').selectOption('Failure');
        await page.getByRole('button', { name: 'Filter' }).focus();
        await page.keyboard.press('Enter');
        await page.waitForURL(/status=Failure/);

        // Tab to the delivery's link and open it with Enter.
        const href = `/webhooks/admin/deliveries/${id}`;
        let reached = false;
        for (let i = 0; i < 60 && !reached; i++) {
          await page.keyboard.press('Tab');
          reached =
            (await page.evaluate('document.activeElement && document.activeElement.getAttribute("href")')) === href;
        }
        expect(reached).toBe(true);
        await page.keyboard.press('Enter');
        await page.waitForURL(`**${href}`);

        // Its attempts: status, response body as text, nothing of it run.
        await expect(page.locator('h3', { hasText: 'Attempt 1' }).textContent()).resolves.toContain(
          '500 Internal Server Error',
        );
        await expect(page.locator('h3', { hasText: 'Attempt 2' }).count()).resolves.toBe(1);
        const bodies = await page.locator('pre.response').allTextContents();
        expect(bodies).toContain(HOSTILE);
        expect(await page.evaluate(() => (globalThis as { pwned?: number }).pwned)).toBeUndefined();
        expect(await page.locator('main img, main script').count()).toBe(0);
        expect(await page.locator('pre.payload').textContent()).toContain('"order": 42');

        // The receiver is fixed; the operator resends; the receiver gets it.
        receiver.respond = undefined;
        const before = receiver.received.length;
        await page.getByRole('button', { name: 'Resend' }).click();
        await page.waitForURL(/done=resent/);
        await expect(page.getByRole('status').textContent()).resolves.toContain('Delivery resent.');
        await receiver.waitForCount(before + 1);
        expect(receiver.received.at(-1)!.json).toEqual({ order: 42 });
        await waitForStatus(app.deliveries, id, 'Success');
        // The page updates itself (polling) without a reload: the status turns to Success.
        await page.locator('#live dd .pill.ok', { hasText: 'Success' }).waitFor({ timeout: 30_000 });
        expect(problems).toEqual([]);
        await page.close();
      },
    );

    run(
      'at 375 px wide no page scrolls sideways, and the secret shown on creation is gone once one moves on',
      async () => {
        const id = await failingDelivery();
        const context = await browser.newContext({ viewport: { width: 375, height: 800 } });
        const page = await context.newPage();
        const problems = watch(page);
        const endpointId = (await app.endpoints.list()).content[0]!.uid;
        for (const path of [
          '/endpoints',
          `/endpoints/${endpointId}`,
          '/endpoints/new',
          '/deliveries',
          `/deliveries/${id}`,
          '/health',
        ]) {
          await page.goto(`${app.base}${path}`);
          const [scrollWidth, innerWidth] = (await page.evaluate(
            '[document.documentElement.scrollWidth, window.innerWidth]',
          )) as [number, number];
          expect([path, scrollWidth <= innerWidth]).toEqual([path, true]);
        }
        // Create an endpoint through the form: the secret is shown once.
        await page.goto(`${app.base}/endpoints/new`);
        await page.getByLabel('URL (required)').fill(`${receiver.url}/second`);
        await page.getByLabel('Name').fill('second');
        await page.getByRole('button', { name: 'Create endpoint' }).click();
        const secret = await page.locator('#secret-once').inputValue();
        expect(secret.length).toBeGreaterThanOrEqual(8);
        await page.getByRole('link', { name: 'Go to the endpoint' }).click();
        expect(await page.content()).not.toContain(secret);
        expect(problems).toEqual([]);
        await context.close();
      },
    );
  },
);
