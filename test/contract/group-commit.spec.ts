import { StorageUnavailableError } from '../../lib/errors/index.js';
import { DeliveryPipeline, type DeliveryRoute } from '../../lib/pipeline/pipeline.js';
import { newDelivery } from '../../lib/pipeline/hand-over.route.js';
import type { OutgoingWebhook } from '../../lib/publishing/webhook.types.js';
import type { WebhookStore, Enqueued } from '../../lib/storage/webhook-store.js';
import { sqlBackends, type Backend } from './backends.js';
import { pipelineSettings } from '../support/pipeline-settings.js';
import { waitUntil } from '../support/wait.js';

/**
 * Group commit through the real SQL stores: concurrent publishes share one write (one statement, one commit), each
 * resolving once its own rows are committed; a write that fails rejects each of its publishes with
 * StorageUnavailableError and stores none of them; idempotency keys dedupe within one write as across writes.
 */
const backends = sqlBackends('group commit');

const settings = pipelineSettings({
  concurrency: 1,
  endpointConcurrency: 1,
  batchSize: 10,
  pollIntervalMs: 60_000,
  drainTimeoutMs: 100,
});

/**
 * Fans each event out to one endpoint, as the embedded engine does (so the store keeps the event and dedupes its
 * idempotency key). Its attempts last until shutdown: these tests are about storing, and nothing is sent meanwhile.
 */
const fanOutRoute: DeliveryRoute = {
  name: 'fan-out',
  plan: (message: OutgoingWebhook, retryLimit: number): Enqueued => ({
    event: {
      uid: message.id,
      event_type: message.eventType,
      idempotency_key: message.idempotencyKey,
      payload: message.payload,
      custom_headers: message.headers,
      endpoints: ['ep_1'],
      is_duplicate_event: false,
      created_at: message.createdAt,
    },
    deliveries: [newDelivery(message, `d_${message.id}`, 'ep_1', retryLimit)],
  }),
  attempt: (_delivery, signal) =>
    new Promise((resolve) =>
      signal.addEventListener('abort', () => resolve({ outcome: 'retry', error: 'shut down' }), { once: true }),
    ),
};

/** The real store, with its writes counted and the first one held until `release()`, so that others gather behind it. */
function observed(store: WebhookStore, concurrentWrites?: number) {
  const writes: number[] = [];
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const wrapped: WebhookStore = Object.create(store, {
    concurrentWrites: { value: concurrentWrites ?? store.concurrentWrites },
    enqueue: {
      value: async (items: Enqueued[], tx?: unknown) => {
        writes.push(items.length);
        if (writes.length === 1) await gate;
        return store.enqueue(items, tx as never);
      },
    },
  });
  return { store: wrapped, writes, release };
}

let seq = 0;
function message(over: Partial<OutgoingWebhook> = {}): OutgoingWebhook {
  const id = `gc_${process.pid}_${++seq}`;
  return {
    id,
    eventType: 'todo.created',
    payload: `{"n":${seq}}`,
    target: { broadcast: true },
    idempotencyKey: id,
    headers: {},
    orderingKey: undefined,
    createdAt: Date.now(),
    ...over,
  };
}

for (const { name, open, skip } of backends) {
  const suite = skip ? describe.skip : describe;
  if (skip) console.info(`[group commit] ${name}: ${skip}`);

  suite(`group commit on ${name}`, () => {
    let backend: Backend;
    let store: WebhookStore;
    let pipeline: DeliveryPipeline | undefined;
    beforeAll(async () => {
      backend = await open();
    });
    beforeEach(async () => {
      store = (await backend.context()).store;
    });
    afterEach(async () => {
      await pipeline?.close();
      pipeline = undefined;
      await backend.reset();
    });
    afterAll(() => backend?.close());

    it('16 concurrent publishes share a few writes, and each resolves only once its rows are committed', async () => {
      const seen = observed(store);
      pipeline = new DeliveryPipeline(seen.store, fanOutRoute, settings);
      const messages = Array.from({ length: 16 }, () => message());
      const committedOnResolve: boolean[] = [];
      const publishes = messages.map((m, i) =>
        pipeline!.enqueue(m).then(async () => {
          // Read on the store's own connections (another connection than the write's, on PostgreSQL): only
          // committed rows are visible there.
          committedOnResolve[i] = (await store.getDelivery(`d_${m.id}`)) !== undefined;
        }),
      );
      await new Promise((resolve) => setTimeout(resolve, 50)); // every publish queued behind the held first write
      seen.release();
      await Promise.all(publishes);

      expect(committedOnResolve).toEqual(messages.map(() => true));
      expect(seen.writes.reduce((a, b) => a + b, 0)).toBe(16);
      // One write per writer while the first was held, then the rest in one group.
      expect(seen.writes.length).toBeLessThanOrEqual((store.concurrentWrites ?? 1) + 1);
      expect(Math.max(...seen.writes)).toBeGreaterThanOrEqual(16 - (store.concurrentWrites ?? 1));
      for (const m of messages) expect((await store.getEvent(m.id))?.is_duplicate_event).toBe(false);
    });

    it('events published one at a time cost one claim each and no other look: an attempt that ends looks again only if its claim may have left some', async () => {
      let claims = 0;
      let nextDueLooks = 0;
      let attempts = 0;
      const counted: WebhookStore = Object.create(store, {
        claim: { value: (...args: Parameters<WebhookStore['claim']>) => (claims++, store.claim(...args)) },
        nextDueAt: { value: () => (nextDueLooks++, store.nextDueAt()) },
      });
      const route: DeliveryRoute = { ...fanOutRoute, attempt: async () => (attempts++, { outcome: 'success' }) };
      pipeline = new DeliveryPipeline(counted, route, settings);
      pipeline.start();
      for (let i = 1; i <= 10; i++) {
        await pipeline.enqueue(message());
        await waitUntil(`attempt ${i} ended`, () => attempts === i);
        await new Promise((resolve) => setTimeout(resolve, 20)); // room for a look the attempt's end would ask for
      }
      expect(claims).toBeGreaterThanOrEqual(10);
      expect(claims).toBeLessThanOrEqual(12); // start() looks once more
      // A claim that took something took all that was due: no need to ask when the next one is.
      expect(nextDueLooks).toBeLessThanOrEqual(2);
    });

    it('publishes queued in one turn of the event loop beside a write in flight share one write, though write slots are free', async () => {
      const seen = observed(store, 4);
      pipeline = new DeliveryPipeline(seen.store, fanOutRoute, settings);
      const first = pipeline.enqueue(message());
      const group = Array.from({ length: 6 }, () => pipeline!.enqueue(message()));
      await Promise.all(group); // the held first write does not hold them up: a free writer took them
      expect(seen.writes).toEqual([1, 6]);
      seen.release();
      await first;
    });

    it('idempotency keys dedupe within one write: one original, the others kept as duplicates without deliveries', async () => {
      const seen = observed(store, 1);
      pipeline = new DeliveryPipeline(seen.store, fanOutRoute, settings);
      const first = message();
      const sameKey = Array.from({ length: 4 }, () => message({ idempotencyKey: `key_${first.id}` }));
      const others = Array.from({ length: 3 }, () => message());
      const publishes = [first, ...sameKey, ...others].map((m) => pipeline!.enqueue(m));
      await new Promise((resolve) => setTimeout(resolve, 50));
      seen.release();
      await Promise.all(publishes);

      expect(seen.writes).toEqual([1, 7]); // the held write, then everything else in one
      const events = await Promise.all(sameKey.map((m) => store.getEvent(m.id)));
      expect(events.map((e) => e?.is_duplicate_event)).toEqual([false, true, true, true]);
      const delivered = await Promise.all(sameKey.map((m) => store.getDelivery(`d_${m.id}`)));
      expect(delivered.map((d) => d !== undefined)).toEqual([true, false, false, false]);
      for (const m of others) expect(await store.getDelivery(`d_${m.id}`)).toBeDefined();

      // And across writes: the key is taken for good.
      await pipeline.enqueue(message({ idempotencyKey: `key_${first.id}`, id: `late_${first.id}` }));
      expect((await store.getEvent(`late_${first.id}`))?.is_duplicate_event).toBe(true);
    });

    it('a write that fails rejects each of its publishes with StorageUnavailableError, stores none of them, and the next write works', async () => {
      const seen = observed(store, 1);
      pipeline = new DeliveryPipeline(seen.store, fanOutRoute, settings);
      const held = message();
      // PostgreSQL text cannot hold U+0000: the database refuses the whole statement.
      const group = [message(), message({ eventType: 'todo.\u0000created' }), message(), message()];
      const first = pipeline.enqueue(held);
      const outcomes = group.map((m) =>
        pipeline!.enqueue(m).then(
          () => 'stored',
          (error: unknown) => error,
        ),
      );
      await new Promise((resolve) => setTimeout(resolve, 50));
      seen.release();
      await first;

      const errors = await Promise.all(outcomes);
      expect(seen.writes).toEqual([1, 4]);
      for (const error of errors) {
        expect(error).toBeInstanceOf(StorageUnavailableError);
        expect(error).toMatchObject({ retryable: true });
        expect((error as Error).cause).toBeInstanceOf(Error);
        expect((error as Error).message).toMatch(/storage is unavailable \(enqueue failed: /);
      }
      for (const m of group) {
        expect(await store.getDelivery(`d_${m.id}`)).toBeUndefined();
        expect(await store.getEvent(m.id)).toBeUndefined();
      }
      expect(await store.getDelivery(`d_${held.id}`)).toBeDefined();

      const retried = message({ idempotencyKey: group[0]!.idempotencyKey, id: `again_${group[0]!.id}` });
      await pipeline.enqueue(retried);
      expect((await store.getEvent(retried.id))?.is_duplicate_event).toBe(false);
    });
  });
}
