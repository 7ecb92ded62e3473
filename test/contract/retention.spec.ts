import { randomUUID } from 'node:crypto';
import { InMemoryWebhookStore } from '../../lib/storage/in-memory.store.js';
import type { DeliveryRecord, RetentionPolicy } from '../../lib/storage/records.js';
import { quoteSchema } from '../../lib/storage/sql/migrations.js';
import type { SqlConvoyStorage } from '../../lib/storage/sql/sql-storage.js';
import { sqlBackends, type Backend } from './backends.js';
import { attempt, delivery, event } from './store.contract.js';

/**
 * Retention on the SQL stores (PGlite, PostgreSQL): prune() deletes finished deliveries (the log and the dead
 * letters) past the age or beyond the count, their attempts with them, attempts beyond the count and events no
 * delivery refers to; never an unfinished delivery, claimed or not, nor its attempts or event. Under a steady stream
 * with pruning running beside it, the tables stay bounded and no unfinished work is lost.
 */
const backends = sqlBackends('retention');

const DAY = 86_400_000;
const LEASE = 60_000;

for (const { name, open, skip } of backends) {
  const suite = skip ? describe.skip : describe;
  if (skip) console.info(`[retention] ${name}: ${skip}`);

  suite(`retention on ${name}`, () => {
    let backend: Backend;
    let storage: SqlConvoyStorage;
    beforeAll(async () => {
      backend = await open();
      storage = (await backend.contextWith!((s) => s)).store;
    });
    afterEach(() => backend.reset());
    afterAll(() => backend?.close());

    const count = async (table: string, where = 'true'): Promise<number> => {
      const { rows } = await storage.db.query<{ n: string | number }>(
        `SELECT count(*) AS n FROM ${quoteSchema(storage.schema)}.${table} WHERE ${where}`,
      );
      return Number(rows[0]!.n);
    };
    const setUpdatedAt = (uid: string, at: number) =>
      storage.db.query(`UPDATE ${quoteSchema(storage.schema)}.deliveries SET updated_at = $2 WHERE uid = $1`, [
        uid,
        at,
      ]);

    /** A fan-out event with one delivery, stored as given (status and times included). */
    const fanOut = (n: number, over: Partial<DeliveryRecord>, createdAt: number) => {
      const eventId = `ev_${String(n).padStart(4, '0')}`;
      return {
        event: event(eventId, ['ep_1'], { created_at: createdAt, idempotency_key: `idem-${eventId}-${randomUUID()}` }),
        deliveries: [delivery(`d_${String(n).padStart(4, '0')}`, eventId, 'ep_1', { created_at: createdAt, ...over })],
      };
    };

    /** Claims `d` and settles it with an attempt (success unless `status` says otherwise). */
    const attemptOnce = async (d: DeliveryRecord, status: 'Success' | 'Retry' | 'Failure' = 'Success') => {
      const token = randomUUID();
      const claimed = await storage.store.claim(d.next_send_at, 1, token, Date.now() + LEASE);
      expect(claimed.map((c) => c.uid)).toEqual([d.uid]);
      const written = await storage.store.settle([
        {
          uid: d.uid,
          lease_token: token,
          status,
          description: '',
          num_trials: claimed[0]!.num_trials + 1,
          next_send_at: status === 'Retry' ? Date.now() + DAY : Date.now(),
          latency_ms: 5,
          attempt: attempt(`a_${d.uid}_${claimed[0]!.num_trials}`, d, { success: status === 'Success' }),
        },
      ]);
      expect(written).toEqual([d.uid]);
    };

    it('deletes finished deliveries older than maxAgeMs (dead letters too) with their attempts and events; keeps recent and unfinished ones', async () => {
      const now = Date.now();
      const old = now - 40 * DAY;
      const store = storage.store;
      const items = [
        fanOut(1, { status: 'Scheduled', next_send_at: old }, old), // finished below, then made old
        fanOut(2, { status: 'Scheduled', next_send_at: old + 1 }, old), // finished, recent
        fanOut(3, { status: 'Retry', num_trials: 2, next_send_at: now + DAY }, old), // waiting for a retry
        fanOut(4, { status: 'Scheduled', next_send_at: old + 2 }, old), // claimed, in flight
        fanOut(5, { status: 'Discarded', updated_at: old }, old),
        fanOut(6, { status: 'Scheduled', next_send_at: old + 3 }, old), // retried once, still unfinished, old attempt
      ];
      await store.enqueue(items);
      const deadLetter = delivery('ho_0001', 'ho_0001', null, { status: 'Failure', created_at: old, updated_at: old });
      const recentDeadLetter = delivery('ho_0002', 'ho_0002', null, {
        status: 'Failure',
        created_at: now,
        updated_at: now,
      });
      await store.enqueue([{ deliveries: [deadLetter] }, { deliveries: [recentDeadLetter] }]);
      await attemptOnce(items[0]!.deliveries[0]!);
      await setUpdatedAt('d_0001', old);
      await attemptOnce(items[1]!.deliveries[0]!);
      const inFlight = await store.claim(old + 2, 1, randomUUID(), now + LEASE);
      expect(inFlight.map((d) => d.uid)).toEqual(['d_0004']);
      await attemptOnce(items[5]!.deliveries[0]!, 'Retry');

      const policy: RetentionPolicy = { maxAgeMs: 30 * DAY, maxRows: 1_000, batchSize: 1 };
      const counts = await store.prune!(policy, now);

      expect(counts).toEqual({ deliveries: 3, attempts: 0, events: 2 });
      for (const gone of ['d_0001', 'd_0005', 'ho_0001']) expect(await store.getDelivery(gone)).toBeUndefined();
      expect(await store.listAttempts('d_0001')).toEqual([]);
      expect(await store.getEvent('ev_0001')).toBeUndefined();
      expect(await store.getEvent('ev_0005')).toBeUndefined();
      for (const kept of ['d_0002', 'd_0003', 'd_0004', 'd_0006', 'ho_0002'])
        expect((await store.getDelivery(kept))?.uid).toBe(kept);
      expect(await store.listAttempts('d_0002')).toHaveLength(1);
      expect(await store.listAttempts('d_0006')).toHaveLength(1);
      for (const kept of ['ev_0002', 'ev_0003', 'ev_0004', 'ev_0006'])
        expect((await store.getEvent(kept))?.uid).toBe(kept);
      expect((await store.getDelivery('d_0004'))?.status).toBe('Processing');

      // Nothing left to delete: a second run deletes nothing.
      expect(await store.prune!(policy, now)).toEqual({ deliveries: 0, attempts: 0, events: 0 });
    });

    it('keeps at most maxRows finished deliveries, attempts and unreferenced events, the newest; never unfinished ones', async () => {
      const now = Date.now();
      const store = storage.store;
      // 20 deliveries finished one after the other (each with one attempt), and 3 that stay unfinished.
      const items = Array.from({ length: 23 }, (_, i) =>
        fanOut(i + 1, { status: 'Scheduled', next_send_at: now - 1_000 + i }, now),
      );
      await store.enqueue(items);
      for (let i = 0; i < 20; i++) {
        await attemptOnce(items[i]!.deliveries[0]!);
        await setUpdatedAt(items[i]!.deliveries[0]!.uid, now - 1_000 + i);
      }
      for (let i = 20; i < 23; i++) await attemptOnce(items[i]!.deliveries[0]!, 'Retry');

      const counts = await store.prune!({ maxAgeMs: 30 * DAY, maxRows: 8, batchSize: 3 }, now);

      expect(counts.deliveries).toBe(12);
      const left = (await store.listDeliveries({}, { limit: 100 })).items.map((d) => d.uid).sort();
      const newest8 = items.slice(12, 20).map((i) => i.deliveries[0]!.uid);
      const unfinished = items.slice(20).map((i) => i.deliveries[0]!.uid);
      expect(left).toEqual([...newest8, ...unfinished].sort());
      // Attempts: those of the 12 deleted deliveries went with them; of the 11 left (8 + 3), the 3 oldest of finished
      // deliveries go beyond the count, the unfinished deliveries' ones stay.
      expect(counts.attempts).toBe(3);
      expect(await count('delivery_attempts')).toBe(8);
      for (const uid of unfinished) expect(await store.listAttempts(uid)).toHaveLength(1);
      // Events: the 11 still referred to stay, the 12 others are beyond the count.
      expect(counts.events).toBe(12);
      expect(await count('events')).toBe(11);
    });

    it('under a steady stream with pruning beside it, the tables stay bounded and no unfinished delivery is lost', async () => {
      const store = storage.store;
      const policy: RetentionPolicy = { maxAgeMs: 30 * DAY, maxRows: 40, batchSize: 7 };
      const stillUnfinished = new Set<string>();
      let pruning = Promise.resolve();
      let highest = { deliveries: 0, attempts: 0, events: 0 };
      let n = 0;
      for (let round = 0; round < 25; round++) {
        const now = Date.now();
        const batch = Array.from({ length: 10 }, () => {
          n++;
          return fanOut(n, { status: 'Scheduled', next_send_at: now - 1 }, now);
        });
        await store.enqueue(batch);
        // Prune while the round's deliveries are claimed and settled.
        pruning = pruning.then(async () => void (await store.prune!(policy, Date.now())));
        for (const [i, item] of batch.entries()) {
          const d = item.deliveries[0]!;
          // Every tenth delivery waits for a retry (unfinished), the others succeed.
          const status = i === 0 ? 'Retry' : 'Success';
          await attemptOnce(d, status);
          if (status === 'Retry') stillUnfinished.add(d.uid);
        }
        await pruning;
        await store.prune!(policy, Date.now());
        const sizes = {
          deliveries: await count('deliveries', `status IN ('Success', 'Failure', 'Discarded')`),
          attempts: await count('delivery_attempts'),
          events: await count('events'),
        };
        highest = {
          deliveries: Math.max(highest.deliveries, sizes.deliveries),
          attempts: Math.max(highest.attempts, sizes.attempts),
          events: Math.max(highest.events, sizes.events),
        };
      }
      // 250 deliveries went through; after each prune the finished log held at most maxRows, the attempts maxRows plus
      // those of unfinished deliveries, the events those still referred to (finished or not) plus maxRows.
      expect(n).toBe(250);
      expect(highest.deliveries).toBeLessThanOrEqual(40);
      expect(highest.attempts).toBeLessThanOrEqual(40 + stillUnfinished.size);
      expect(highest.events).toBeLessThanOrEqual(40 + 40 + stillUnfinished.size);
      for (const uid of stillUnfinished) {
        expect((await store.getDelivery(uid))?.status).toBe('Retry');
        expect(await store.listAttempts(uid)).toHaveLength(1);
      }
    });
  });
}

describe('retention in memory', () => {
  it('the in-memory store stays bounded by maxEvents under a steady stream, unfinished deliveries kept', async () => {
    const store = new InMemoryWebhookStore({ capacity: 100_000, maxEvents: 100 });
    const unfinished: string[] = [];
    for (let n = 1; n <= 3_000; n++) {
      const d = delivery(`d_${n}`, `ev_${n}`, 'ep_1', { next_send_at: 0 });
      await store.enqueue([{ event: event(`ev_${n}`, ['ep_1']), deliveries: [d] }]);
      const token = randomUUID();
      await store.claim(1, 1, token, 2);
      const status = n % 100 === 0 ? 'Retry' : 'Success';
      if (status === 'Retry') unfinished.push(d.uid);
      await store.settle([
        {
          uid: d.uid,
          lease_token: token,
          status,
          description: '',
          num_trials: 1,
          next_send_at: 10 ** 15,
          latency_ms: 1,
        },
      ]);
    }
    const { items } = await store.listDeliveries({}, { limit: 100_000 });
    // Eviction looks every 256 new events: at most that many over maxEvents, plus the unfinished ones it keeps.
    expect(items.length).toBeLessThanOrEqual(100 + 256 + unfinished.length);
    for (const uid of unfinished) expect((await store.getDelivery(uid))?.status).toBe('Retry');
  });
});

describe('retention in memory: which events are forgotten', () => {
  const LEASE_END = 10 ** 15;
  /** Claims every due delivery and settles each as a success. */
  const deliverAll = async (store: InMemoryWebhookStore): Promise<void> => {
    const token = randomUUID();
    const claimed = await store.claim(Date.now(), 100, token, LEASE_END);
    await store.settle(
      claimed.map((d) => ({
        uid: d.uid,
        lease_token: token,
        status: 'Success' as const,
        description: '',
        num_trials: d.num_trials + 1,
        next_send_at: Date.now(),
        latency_ms: 1,
        forget: d.endpoint_id === null,
      })),
    );
  };

  it('forgets the event that finished longest ago: a resent event counts from when it finished again', async () => {
    const store = new InMemoryWebhookStore({ maxEvents: 3 });
    for (const id of ['ev_1', 'ev_2', 'ev_3']) {
      await store.enqueue([{ event: event(id, ['ep_1']), deliveries: [delivery(`d_${id}`, id, 'ep_1')] }]);
      await deliverAll(store);
    }
    // ev_1 is resent and finishes again: it is now the newest finished event.
    expect(await store.reschedule({ uids: ['d_ev_1'] }, ['Success'], Date.now())).toEqual(['d_ev_1']);
    await deliverAll(store);
    await store.enqueue([{ event: event('ev_4', ['ep_1']), deliveries: [delivery('d_ev_4', 'ev_4', 'ep_1')] }]);
    expect(await store.getEvent('ev_2')).toBeUndefined();
    expect(await store.getEvent('ev_1')).toBeDefined();
    expect(await store.getEvent('ev_3')).toBeDefined();
    expect(await store.getEvent('ev_4')).toBeDefined();
  });

  it('hand-overs delivered and forgotten leave nothing queued for retention', async () => {
    const store = new InMemoryWebhookStore({ maxEvents: 10 });
    for (let n = 0; n < 2_000; n++) {
      await store.enqueue([{ deliveries: [delivery(`h_${n}`, `h_${n}`, null)] }]);
      await deliverAll(store);
    }
    expect((await store.listDeliveries({}, { limit: 100 })).items).toHaveLength(0);
    // White-box: the retention queue is private; a hand-over forgotten on success must not be left in it (it would
    // grow with every event, as eviction never runs while the log stays under maxEvents).
    expect((store as unknown as { finishedQueue: unknown[] }).finishedQueue).toHaveLength(0);
  });
});
