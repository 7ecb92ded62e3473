import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { html } from '../../lib/ui/html.js';
import { describeInBrowser, launchChromium } from './support/browser.js';

// What the dashboard and portal rely on: a hostile body rendered through `html` is text in a real browser.
describeInBrowser('html tag in Chromium', () => {
  let browser: Browser;
  let server: Server;
  let url: string;
  const hostile = `<script>window.pwned = 1</script><img src=x onerror="window.pwned = 2">`;

  beforeAll(async () => {
    browser = await launchChromium();
    server = createServer((_req, res) => {
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.end(
        html`<!doctype html><title>t</title>
          <pre id="body">${hostile}</pre>`.toString(),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => server?.close(resolve));
  });

  it('shows a body holding <script> and an onerror handler as text, and runs neither', async () => {
    const page = await browser.newPage();
    await page.goto(url);
    expect(await page.textContent('#body')).toBe(hostile);
    expect(await page.evaluate(() => (globalThis as { pwned?: number }).pwned)).toBeUndefined();
    expect(await page.locator('script, img').count()).toBe(0);
  });
});
