import diagnostics from 'node:diagnostics_channel';
import { DIAGNOSTICS_CHANNELS, type ConvoyEventDelivery } from '../../lib/index.js';
import { PGliteStorage } from '../../lib/storage/pglite/index.js';
import { Harness, deliveriesOf, onlyDeliveryOf, type RunningApp } from '../support/embedded-app.js';
import { waitUntil } from '../support/wait.js';
import type { WebhookReceiver } from '../support/webhook-receiver.js';

/**
 * Isolation between endpoints: endpoints that never answer, at the longest http_timeout, cannot keep a healthy
 * endpoint from its deliveries. Structural, not timed: the healthy endpoint gets everything while every hanging
 * attempt is still outstanding (its socket held, nothing settled).
 */

const h = new Harness();
afterEach(() => h.cleanup());

/** The defaults under test: `delivery.concurrency` and `delivery.endpointConcurrency` of the embedded engine. */
const CONCURRENCY = 16;
const ENDPOINT_CONCURRENCY = 4;

const activeIn = (receivers: WebhookReceiver[]): number => receivers.reduce((sum, r) => sum + r.active, 0);

/** 8 endpoints that never answer and a healthy one on `app`; checks the healthy one gets all while they all hang. */
async function hangingBesideHealthy(app: RunningApp): Promise<void> {
  const hanging = await Promise.all(Array.from({ length: 8 }, () => h.receiver(() => ({ hang: true }))));
  const healthy = await h.receiver();
  const hangingIds: string[] = [];
  for (const [i, receiver] of hanging.entries())
    hangingIds.push(
      (await app.endpoints.create({ name: `hanging-${i}`, url: `${receiver.url}/hook`, http_timeout: 300 })).uid,
    );
  const healthyId = (await app.endpoints.create({ name: 'healthy', url: `${healthy.url}/hook` })).uid;

  // More than each hanging endpoint may have in flight, so every one of them always has work waiting.
  const hangingReceipts = [];
  for (const endpointId of hangingIds)
    for (let n = 0; n < ENDPOINT_CONCURRENCY * 2; n++)
      hangingReceipts.push(await app.publisher.publish('todo.created', { n }, { endpointId }));
  // The hanging attempts first take every overall slot (what used to block everyone else for the whole timeout).
  await waitUntil(`hanging attempts fill the ${CONCURRENCY} overall slots`, () => activeIn(hanging) >= CONCURRENCY);

  const N = 20;
  for (let n = 0; n < N; n++) await app.publisher.publish('todo.created', { n }, { endpointId: healthyId });
  await healthy.waitForCount(N);
  // Every hanging endpoint is served too, each within its own share: its concurrency, one socket per attempt.
  await waitUntil('every hanging endpoint has its share in flight', () =>
    hanging.every((r) => r.active === ENDPOINT_CONCURRENCY),
  );

  // No hanging attempt settled: each request received is still open, and no delivery has an outcome.
  for (const receiver of hanging) {
    expect(receiver.received).toHaveLength(ENDPOINT_CONCURRENCY);
    expect(receiver.maxActive).toBe(ENDPOINT_CONCURRENCY);
    expect(receiver.connections).toBeLessThanOrEqual(ENDPOINT_CONCURRENCY);
    expect(receiver.received.every((r) => r.answeredAt === undefined)).toBe(true);
  }
  for (const receipt of hangingReceipts)
    for (const delivery of await deliveriesOf(app, receipt)) {
      expect(delivery.metadata.num_trials).toBe(0);
      expect(['Scheduled', 'Processing']).toContain(delivery.status);
    }
  expect(healthy.received).toHaveLength(N);
  expect(activeIn(hanging)).toBe(8 * ENDPOINT_CONCURRENCY);
}

describe('embedded engine: isolation between endpoints', () => {
  it.each(['in memory', 'with PGlite storage'])(
    '%s: 8 endpoints that never answer (http_timeout 300 s) do not hold up a healthy endpoint',
    async (setup) => {
      const storage = setup === 'in memory' ? undefined : await PGliteStorage.create({});
      try {
        await hangingBesideHealthy(await h.embedded({}, storage ? { storage } : {})); // the default limits
      } finally {
        await h.cleanup();
        await storage?.close();
      }
    },
  );

  it('past maxSlowAttempts, the attempts of further slow endpoints are cut short and retried later', async () => {
    const hanging = await Promise.all(Array.from({ length: 3 }, () => h.receiver(() => ({ hang: true }))));
    const healthy = await h.receiver();
    const app = await h.embedded({
      concurrency: 2,
      endpointConcurrency: 1,
      maxSlowAttempts: 1,
      retry: { strategy: 'linear', delayMs: 600_000, attempts: 3 },
    });
    const deliveries: ConvoyEventDelivery[] = [];
    for (const [i, receiver] of hanging.entries()) {
      const { uid } = await app.endpoints.create({
        name: `hanging-${i}`,
        url: `${receiver.url}/hook`,
        http_timeout: 300,
      });
      deliveries.push(
        await onlyDeliveryOf(app, await app.publisher.publish('todo.created', { i }, { endpointId: uid })),
      );
    }
    const cutShort = async () => {
      const cut = [];
      for (const d of deliveries)
        if ((await app.deliveries.attempts(d.uid)).some((a) => /delivery\.maxSlowAttempts/.test(a.error ?? '')))
          cut.push(d.uid);
      return cut;
    };
    await waitUntil('two of the three hanging attempts are cut short', async () => (await cutShort()).length === 2);

    const healthyId = (await app.endpoints.create({ name: 'healthy', url: `${healthy.url}/hook` })).uid;
    for (let n = 0; n < 10; n++) await app.publisher.publish('todo.created', { n }, { endpointId: healthyId });
    await healthy.waitForCount(10);
    // One slow attempt holds its socket; the two cut short wait for their retry, not failed for good.
    expect(activeIn(hanging)).toBe(1);
    for (const uid of await cutShort()) {
      const delivery = await app.deliveries.get(uid);
      expect(delivery.status).toBe('Retry');
      expect(delivery.metadata.num_trials).toBe(1);
    }
  });
});

describe('embedded engine: per-endpoint circuit breaker', () => {
  const opened: string[] = [];
  const closed: string[] = [];
  const onOpened = (m: unknown) => opened.push((m as { endpoint: { uid: string } }).endpoint.uid);
  const onClosed = (m: unknown) => closed.push((m as { endpoint: { uid: string } }).endpoint.uid);
  beforeAll(() => {
    diagnostics.subscribe(DIAGNOSTICS_CHANNELS.circuitOpened, onOpened);
    diagnostics.subscribe(DIAGNOSTICS_CHANNELS.circuitClosed, onClosed);
  });
  afterAll(() => {
    diagnostics.unsubscribe(DIAGNOSTICS_CHANNELS.circuitOpened, onOpened);
    diagnostics.unsubscribe(DIAGNOSTICS_CHANNELS.circuitClosed, onClosed);
  });

  it('after N failures in a row only probes go, one at a time; a success closes it and nothing is lost or counted', async () => {
    const PROBE_MS = 300;
    let failing = true;
    let probeDelayMs = 0;
    const receiver = await h.receiver(() => ({ status: failing ? 500 : 200, delayMs: probeDelayMs }));
    const app = await h.embedded({
      endpointConcurrency: 2,
      circuitBreaker: { failureThreshold: 3, probeIntervalMs: PROBE_MS },
      retry: { strategy: 'linear', delayMs: 0, attempts: 1_000 }, // without the breaker: a storm of immediate retries
    });
    const endpoint = await app.endpoints.create({ name: 'down', url: `${receiver.url}/hook` });
    const receipts = [];
    for (let n = 0; n < 10; n++)
      receipts.push(await app.publisher.publish('todo.created', { n }, { endpointId: endpoint.uid }));
    await waitUntil('the circuit opens', () => opened.includes(endpoint.uid));

    // Requests over a window: at most one attempt that started before the circuit opened, then probes only.
    const atOpen = receiver.received.length;
    const start = Date.now();
    await receiver.waitForCount(atOpen + 4);
    const probesAllowed = 1 + Math.floor((Date.now() - start) / PROBE_MS) + 1;
    expect(receiver.received.length - atOpen).toBeLessThanOrEqual(probesAllowed);

    // One probe at a time: probes that take longer than the interval never overlap.
    probeDelayMs = PROBE_MS * 2;
    const from = receiver.received.length + 1;
    await receiver.waitForCount(from + 3);
    const late = receiver.received.slice(from, from + 3);
    await waitUntil('the probes are answered', () => late.every((r) => r.answeredAt !== undefined));
    for (let i = 1; i < late.length; i++) expect(late[i]!.at).toBeGreaterThanOrEqual(late[i - 1]!.answeredAt!);

    // Recovered: the next probe succeeds, the circuit closes and every delivery goes out.
    probeDelayMs = 0;
    failing = false;
    await waitUntil('the circuit closes', () => closed.includes(endpoint.uid));
    const all: ConvoyEventDelivery[] = [];
    for (const receipt of receipts) all.push(...(await deliveriesOf(app, receipt)));
    await waitUntil('every delivery succeeds', async () => {
      const statuses = await Promise.all(all.map(async (d) => (await app.deliveries.get(d.uid)).status));
      return statuses.every((s) => s === 'Success');
    });
    // Held by the open circuit is not an attempt: every attempt counted is one the receiver got.
    let trials = 0;
    for (const d of all) trials += (await app.deliveries.get(d.uid)).metadata.num_trials;
    expect(trials).toBe(receiver.received.length);
    // And new deliveries go straight out again.
    const before = receiver.received.length;
    for (let n = 0; n < 5; n++) await app.publisher.publish('todo.created', { n }, { endpointId: endpoint.uid });
    await receiver.waitForCount(before + 5);
  });
});
