// npm run screenshots: the dashboard's main pages as PNGs for the README (docs/screenshots/dashboard-*.png,
// 1280×800). Starts an app like the sample (embedded engine on an in-memory PGlite, the dashboard at /admin) on a
// random loopback port with three receivers, publishes some events, then photographs the pages with the system
// Chromium through playwright-core. Run after `npm run build` (the script loads dist/esm).
import 'reflect-metadata';
import { createServer } from 'node:http';
import { statSync } from 'node:fs';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { PGlite } from '@electric-sql/pglite';
import { chromium } from 'playwright-core';
import { ConvoyModule, WebhookDeliveries, WebhookEndpoints, WebhookPublisher } from '../dist/esm/index.js';
import { ConvoyDashboardModule } from '../dist/esm/dashboard/index.js';
import { PGliteStorage } from '../dist/esm/storage/pglite/index.js';

process.env.NODE_ENV ??= 'development';
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const OUT = 'docs/screenshots';
const MAX_BYTES = 250 * 1024;

/** A receiver on 127.0.0.1: `answer(n)` gives the status and body of its n-th request. */
async function receiver(answer) {
  let n = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const [status, body] = answer(n++);
      res.writeHead(status, { 'content-type': 'application/json', 'x-request-id': `req-${n}` });
      res.end(body);
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((r) => server.close(r)) };
}

const db = await PGlite.create();
const storage = await PGliteStorage.create({ pglite: db });
class AppModule {}
Module({
  imports: [
    ConvoyModule.forRoot({
      storage,
      embedded: { allowedAddresses: ['127.0.0.0/8', '::1/128'] },
      delivery: { retry: { strategy: 'linear', delayMs: 0, attempts: 3 } },
    }),
    ConvoyDashboardModule.register({ path: '/admin', title: 'Acme webhooks' }),
  ],
})(AppModule);

const app = await NestFactory.create(AppModule, { logger: false });
await app.listen(0, '127.0.0.1');
const base = `${(await app.getUrl()).replace('[::1]', '127.0.0.1')}/admin`;
const endpoints = app.get(WebhookEndpoints);
const publisher = app.get(WebhookPublisher);
const deliveries = app.get(WebhookDeliveries);

const healthy = await receiver(() => [200, '{"received":true}']);
const flaky = await receiver((n) => (n % 3 === 0 ? [503, '{"error":"upstream timeout"}'] : [200, '{"ok":true}']));
const broken = await receiver(() => [
  500,
  '{"error":"TypeError: Cannot read properties of undefined (reading \'total\')"}',
]);

const orders = await endpoints.create({
  url: `${healthy.url}/webhooks`,
  name: 'orders-service',
  owner_id: 'acme',
  event_types: ['order.*'],
});
const billing = await endpoints.create({
  url: `${broken.url}/hooks/billing`,
  name: 'billing',
  owner_id: 'globex',
  event_types: ['invoice.*'],
});
const crm = await endpoints.create({ url: `${flaky.url}/crm/events`, name: 'crm-sync', owner_id: 'initech' });
const archive = await endpoints.create({
  url: `${healthy.url}/archive`,
  name: 'archive',
  owner_id: 'acme',
  description: 'Paused during the migration',
});
await endpoints.pause(archive.uid);

for (let i = 1; i <= 24; i++) {
  await publisher.publish(
    'order.created',
    { id: 1000 + i, total: 12.5 * i, currency: 'EUR' },
    { endpointId: orders.uid },
  );
  if (i % 2 === 0)
    await publisher.publish('customer.updated', { id: `cus_${i}`, plan: 'pro' }, { endpointId: crm.uid });
  if (i % 4 === 0)
    await publisher.publish('invoice.paid', { invoice: `in_${i}`, amount: 49 }, { endpointId: billing.uid });
}
await publisher.flush();
for (let tries = 0; tries < 200; tries++) {
  const open = await deliveries.list({ status: ['Scheduled', 'Retry', 'Processing'], perPage: 1 });
  if (open.content.length === 0) break;
  await new Promise((r) => setTimeout(r, 100));
}
// Spread the log over the last hour, so that the chart shows minutes rather than one bar.
await db.query(`UPDATE nestjs_convoy.deliveries SET created_at = created_at - (floor(random() * 55) * 60000)::bigint`);
const failed = (await deliveries.list({ status: ['Failure'], perPage: 1 })).content[0];

const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
const page = await browser.newPage({ viewport: { width: 1280, height: 800 }, colorScheme: 'light' });
const shots = [
  ['endpoints', '/endpoints'],
  ['deliveries', '/deliveries'],
  ['delivery', `/deliveries/${failed.uid}`],
  ['health', '/health'],
];
for (const [name, path] of shots) {
  await page.goto(`${base}${path}`);
  const file = `${OUT}/dashboard-${name}.png`;
  await page.screenshot({ path: file });
  const size = statSync(file).size;
  console.log(`${file}: ${Math.round(size / 1024)} KB`);
  if (size > MAX_BYTES) throw new Error(`${file} is over ${MAX_BYTES / 1024} KB`);
}
await browser.close();
await app.close();
await Promise.all([healthy.close(), flaky.close(), broken.close()]);
await db.close();
