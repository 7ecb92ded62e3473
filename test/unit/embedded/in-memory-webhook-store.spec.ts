import { InMemoryWebhookStore } from '../../../lib/index.js';
import { attempt, delivery, endpoint, event } from '../../contract/webhook-store.contract.js';

const T0 = 1_700_000_000_000;
const uid = (prefix: string, n: number): string => `${prefix}_${String(n).padStart(5, '0')}`;

/** Stores `count` events of one delivery each to endpoint e1; the first `delivered` are delivered (Success, one attempt) as they come. */
async function fill(store: InMemoryWebhookStore, count: number, delivered: number): Promise<void> {
  await store.insertEndpoint(endpoint('e1'));
  for (let i = 0; i < count; i++) {
    const ev = event(uid('ev', i), ['e1']);
    await store.insertEvent(ev, [delivery(uid('dl', i), ev, 'e1', { next_send_at: T0 + i })]);
    if (i >= delivered) continue;
    const [claimed] = await store.claimDue(T0 + i, 1, 'w1', T0 + 60_000);
    await store.completeAttempt(claimed!.uid, 'w1', { status: 'Success', description: '', num_trials: 1, next_send_at: T0, latency_ms: 3 }, attempt(`at-${claimed!.uid}`, claimed!));
  }
}

describe('InMemoryWebhookStore retention (maxEvents)', () => {
  it('forgets the oldest finished events, with their deliveries, attempts and idempotency keys, beyond maxEvents', async () => {
    const store = new InMemoryWebhookStore({ maxEvents: 100 });
    await fill(store, 600, 600); // eviction looks every 256 inserts: after the 512th, 100 are left, then 88 more come
    expect(await store.getEvent(uid('ev', 0))).toBeUndefined();
    expect(await store.getDelivery(uid('dl', 0))).toBeUndefined();
    expect(await store.listAttempts(uid('dl', 0))).toEqual([]);
    // Its idempotency key is forgotten too: the same key is a new event again, not a duplicate.
    expect(await store.insertEvent(event('again', [], { idempotency_key: `idem-${uid('ev', 0)}` }), [])).toBe(true);
    // The newest are kept, with their attempts.
    expect(await store.getEvent(uid('ev', 599))).toBeDefined();
    expect(await store.listAttempts(uid('dl', 599))).toHaveLength(1);
    expect((await store.listDeliveries({}, { limit: 1000 })).items).toHaveLength(188);
  });

  it('never forgets an event whose delivery is still pending, however old', async () => {
    const store = new InMemoryWebhookStore({ maxEvents: 10 });
    await fill(store, 300, 290); // the last 10 stay Scheduled
    for (let i = 300; i < 600; i++) await store.insertEvent(event(uid('ev', i), []), []);
    for (let i = 290; i < 300; i++) {
      expect(await store.getDelivery(uid('dl', i))).toMatchObject({ status: 'Scheduled' });
    }
    expect(uids(await store.claimDue(T0 + 1_000, 100, 'w2', T0 + 60_000))).toEqual(Array.from({ length: 10 }, (_, k) => uid('dl', 290 + k)));
    expect(await store.getDelivery(uid('dl', 0))).toBeUndefined();
  });

  it.each([0, -1, 1.5, Number.NaN])('refuses maxEvents %p', (maxEvents) => {
    expect(() => new InMemoryWebhookStore({ maxEvents })).toThrow(/maxEvents must be a whole number >= 1/);
  });
});

function uids(records: Array<{ uid: string }>): string[] {
  return records.map((r) => r.uid);
}
