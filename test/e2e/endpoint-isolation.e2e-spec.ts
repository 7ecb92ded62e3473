import { Harness, deliveriesOf, type RunningApp } from '../support/embedded-app.js';
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

describe('embedded engine: isolation between endpoints', () => {
  it('8 endpoints that never answer (http_timeout 300 s) do not hold up a healthy endpoint', async () => {
    const hanging = await Promise.all(Array.from({ length: 8 }, () => h.receiver(() => ({ hang: true }))));
    const healthy = await h.receiver();
    const app: RunningApp = await h.embedded(); // the default concurrency limits
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
  });
});
