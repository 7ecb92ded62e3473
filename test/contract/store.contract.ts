import assert from 'node:assert/strict';
import { setImmediate as yieldToOthers, setTimeout as sleep } from 'node:timers/promises';
import { TransactionRequiredError } from '../../lib/errors/index.js';
import type {
  AttemptRecord,
  DeliveryRecord,
  EndpointRecord,
  EventRecord,
  Settlement,
} from '../../lib/storage/records.js';
import type { WebhookStore } from '../../lib/storage/webhook-store.js';
import type { ContractCase } from './contract.types.js';

/**
 * The WebhookStore contract: every rule in lib/pipeline/webhook-store.ts, as runner-agnostic cases asserting with
 * node:assert. Times are explicit wherever the interface takes them; only settle() stamps updated_at with the clock,
 * and no case asserts its value. The in-memory store keeps and hands out its own records: a case never relies on a
 * record it read earlier staying as it was.
 */
export type StoreCase = ContractCase<WebhookStore>;

const T0 = 1_700_000_000_000;
const LEASE = 30_000;
const id = (prefix: string, n: number): string => `${prefix}_${String(n).padStart(4, '0')}`;

export function endpoint(uid: string, over: Partial<EndpointRecord> = {}): EndpointRecord {
  return {
    uid,
    name: `endpoint ${uid}`,
    url: `https://example.com/hooks/${uid}`,
    owner_id: 'owner-1',
    description: '',
    secrets: [{ uid: `sec-${uid}`, value: 'whsec_c2VjcmV0', expires_at: null, created_at: T0 }],
    advanced_signatures: true,
    signature_format: 'convoy',
    event_types: ['*'],
    http_timeout: 10,
    rate_limit: 0,
    rate_limit_duration: 0,
    support_email: '',
    api_key_header: null,
    status: 'active',
    created_at: T0,
    updated_at: T0,
    ...over,
  };
}

export function event(uid: string, endpointIds: string[], over: Partial<EventRecord> = {}): EventRecord {
  return {
    uid,
    event_type: 'invoice.paid',
    idempotency_key: `idem-${uid}`,
    payload: `{"event":"${uid}"}`,
    custom_headers: { 'x-source': 'contract' },
    endpoints: endpointIds,
    is_duplicate_event: false,
    created_at: T0,
    ...over,
  };
}

/** A delivery to an endpoint (of event `eventId`), or a hand-over (`endpointId` null). */
export function delivery(
  uid: string,
  eventId: string,
  endpointId: string | null,
  over: Partial<DeliveryRecord> = {},
): DeliveryRecord {
  return {
    uid,
    event_id: eventId,
    endpoint_id: endpointId,
    event_type: 'invoice.paid',
    idempotency_key: `idem-${eventId}`,
    payload: `{"event":"${eventId}","amount":1.50,"note":"ünïcode \\u00e9 <b>"}`,
    custom_headers: { 'x-source': 'contract' },
    target: endpointId === null ? { ownerId: 'owner-1' } : { endpointId },
    ordering_key: null,
    status: 'Scheduled',
    description: '',
    num_trials: 0,
    retry_limit: 5,
    next_send_at: T0,
    lease_token: null,
    latency_ms: null,
    created_at: T0,
    updated_at: T0,
    // The publish span's W3C context (OpenTelemetry) travels with the event; a hand-over here was published untraced.
    traceparent: endpointId === null ? null : '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    tracestate: endpointId === null ? null : 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE',
    ...over,
  };
}

/** A hand-over: its own event, one delivery, no event record. */
const handOver = (n: number, over: Partial<DeliveryRecord> = {}): DeliveryRecord =>
  delivery(id('ho', n), id('ho', n), null, over);

export function attempt(uid: string, d: DeliveryRecord, over: Partial<AttemptRecord> = {}): AttemptRecord {
  return {
    uid,
    delivery_id: d.uid,
    endpoint_id: d.endpoint_id ?? '',
    url: 'https://example.com/hooks',
    method: 'POST',
    request_headers: { 'Content-Type': 'application/json', 'X-Convoy-Signature': 't=1,v1=abc' },
    http_status: 200,
    response_headers: { 'content-type': 'text/plain' },
    response_body: 'ok \u0000 ünï',
    error: '',
    success: true,
    latency_ms: 12,
    requested_at: T0 + 1,
    responded_at: T0 + 13,
    ...over,
  };
}

/** A settlement of a claimed delivery: success unless `over` says otherwise. */
function outcome(d: DeliveryRecord, token: string, over: Partial<Settlement> = {}): Settlement {
  return {
    uid: d.uid,
    lease_token: token,
    status: 'Success',
    description: '',
    num_trials: d.num_trials + 1,
    next_send_at: T0,
    latency_ms: 12,
    ...over,
  };
}

/** Stores hand-overs one per item (no event records). */
async function enqueueHandOvers(store: WebhookStore, deliveries: DeliveryRecord[]): Promise<void> {
  assert.deepEqual(
    await store.enqueue(deliveries.map((d) => ({ deliveries: [d] }))),
    deliveries.map(() => true),
  );
}

const uids = (list: Array<{ uid: string }>): string[] => list.map((d) => d.uid);
/** A deep copy in this realm (structuredClone's objects have another realm's prototypes under Jest, which assert's deep equality tells apart). */
const copy = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

export const storeContract: StoreCase[] = [
  // ------------------------------------------------------------ enqueue
  {
    name: 'enqueue stores deliveries exactly: a claim returns every field as stored, the payload byte for byte, with the lease',
    async run({ store }) {
      const ev = event('ev_1', ['ep_1', 'ep_2']);
      const a = delivery('dl_1', ev.uid, 'ep_1', {
        ordering_key: 'order-7',
        custom_headers: { 'x-a': '1', 'X-Mixed-Case': 'ü' },
      });
      const h = handOver(1, { target: { url: 'https://example.com/dynamic?x=1', secret: 's3cret' }, retry_limit: 20 });
      const expected = [copy(a), copy(h)];
      assert.deepEqual(await store.enqueue([{ event: ev, deliveries: [a] }, { deliveries: [h] }]), [true, true]);
      const claimed = await store.claim(T0, 10, 'token-1', T0 + LEASE);
      assert.deepEqual(
        claimed.map((d) => ({ ...d, updated_at: 0 })),
        expected.map((d) => ({
          ...d,
          status: 'Processing',
          lease_token: 'token-1',
          next_send_at: T0 + LEASE,
          updated_at: 0,
        })),
      );
      assert.equal(claimed[0]!.payload, a.payload);
      assert.deepEqual(await store.getEvent('ev_1'), ev);
    },
  },
  {
    name: 'enqueue skips a delivery whose uid exists (also twice in one batch, also while leased): a retried publish stores once',
    async run({ store }) {
      await enqueueHandOvers(store, [handOver(1)]);
      await store.enqueue([{ deliveries: [handOver(2), handOver(2, { payload: '{"second":true}' })] }]);
      const [held] = await store.claim(T0, 1, 'token-1', T0 + LEASE);
      assert.equal(held!.uid, id('ho', 1));
      await store.enqueue([{ deliveries: [handOver(1, { payload: '{"again":true}' })] }]);
      assert.equal((await store.getDelivery(id('ho', 1)))!.status, 'Processing');
      assert.equal((await store.getDelivery(id('ho', 2)))!.payload, handOver(2).payload);
      assert.equal((await store.listDeliveries({}, { limit: 10 })).items.length, 2);
      assert.equal((await store.stats(T0)).pendingHandOvers, 2);
    },
  },
  {
    name: 'an event whose idempotency key an earlier event has is stored as a duplicate, without its deliveries (also within one batch)',
    async run({ store }) {
      const first = event('ev_1', ['ep_1'], { idempotency_key: 'same' });
      const second = event('ev_2', ['ep_1'], { idempotency_key: 'same' });
      const third = event('ev_3', ['ep_1'], { idempotency_key: 'same' });
      const stored = await store.enqueue([
        { event: first, deliveries: [delivery('dl_1', 'ev_1', 'ep_1', { idempotency_key: 'same' })] },
        { event: second, deliveries: [delivery('dl_2', 'ev_2', 'ep_1', { idempotency_key: 'same' })] },
      ]);
      assert.deepEqual(stored, [true, false]);
      assert.deepEqual(
        await store.enqueue([
          { event: third, deliveries: [delivery('dl_3', 'ev_3', 'ep_1', { idempotency_key: 'same' })] },
        ]),
        [false],
      );
      assert.deepEqual(uids((await store.listDeliveries({}, { limit: 10 })).items), ['dl_1']);
      assert.deepEqual(await store.getEvent('ev_1'), event('ev_1', ['ep_1'], { idempotency_key: 'same' }));
      assert.deepEqual(
        await store.getEvent('ev_2'),
        event('ev_2', [], { idempotency_key: 'same', is_duplicate_event: true }),
      );
      assert.equal((await store.getEvent('ev_3'))?.is_duplicate_event, true);
    },
  },
  {
    name: 'a store that cannot join transactions (in memory) refuses one',
    requires: 'memory',
    async run({ store }) {
      await assert.rejects(
        store.enqueue([{ deliveries: [handOver(1)] }], { query: async () => ({ rows: [] }) }),
        TypeError,
      );
      assert.equal((await store.listDeliveries({}, { limit: 10 })).items.length, 0);
    },
  },
  {
    name: 'enqueue in a transaction: stored if and only if it commits; outside a transaction it is refused and stores nothing',
    requires: 'sql',
    async run({ store, sql }) {
      if (!sql) throw new Error('needs SQL');
      await assert.rejects(store.enqueue([{ deliveries: [handOver(1)] }], sql.autocommit), TransactionRequiredError);
      const rolledBack = await sql.begin();
      await store.enqueue([{ deliveries: [handOver(2)] }], rolledBack.tx);
      await rolledBack.rollback();
      const committed = await sql.begin();
      assert.deepEqual(
        await store.enqueue(
          [{ event: event('ev_3', ['ep_1']), deliveries: [delivery('dl_3', 'ev_3', 'ep_1')] }],
          committed.tx,
        ),
        [true],
      );
      if (!sql.parallelTransactions) await committed.commit();
      else {
        assert.deepEqual(await store.claim(T0, 10, 'token-1', T0 + LEASE), [], 'not visible before the commit');
        await committed.commit();
      }
      assert.deepEqual(uids(await store.claim(T0, 10, 'token-1', T0 + LEASE)), ['dl_3']);
    },
  },
  // ------------------------------------------------------------ claim, renew, settle
  {
    name: 'claim takes due deliveries earliest first (then in stored order), at most `limit`, never before next_send_at, never finished ones',
    async run({ store }) {
      await enqueueHandOvers(store, [
        handOver(1, { next_send_at: T0 + 5 }),
        handOver(2, { next_send_at: T0 - 10 }),
        handOver(3, { next_send_at: T0 }),
        handOver(4, { next_send_at: T0 }),
        handOver(5, { next_send_at: T0 + 1 }),
      ]);
      assert.deepEqual(uids(await store.claim(T0, 2, 'a', T0 + LEASE)), [id('ho', 2), id('ho', 3)]);
      assert.deepEqual(uids(await store.claim(T0, 10, 'b', T0 + LEASE)), [id('ho', 4)]);
      assert.deepEqual(uids(await store.claim(T0 + 1, 10, 'c', T0 + LEASE)), [id('ho', 5)]);
      const [last] = await store.claim(T0 + 5, 10, 'd', T0 + LEASE);
      assert.equal(last!.uid, id('ho', 1));
      assert.deepEqual(await store.settle([outcome(last!, 'd', { status: 'Failure', description: 'no' })]), [
        last!.uid,
      ]);
      assert.deepEqual(
        await store
          .claim(T0 + 10 * LEASE, 10, 'e', T0 + 11 * LEASE)
          .then((l) => l.filter((d) => d.uid === id('ho', 1))),
        [],
      );
    },
  },
  {
    name: 'a claimed delivery is not claimed again while its lease lasts; once it ends, another worker takes it over; renew extends only held leases',
    async run({ store }) {
      await enqueueHandOvers(store, [handOver(1), handOver(2)]);
      assert.equal((await store.claim(T0, 2, 'a', T0 + LEASE)).length, 2);
      assert.deepEqual(await store.claim(T0 + LEASE - 1, 10, 'b', T0 + 2 * LEASE), []);
      assert.deepEqual(await store.renew([id('ho', 1), id('ho', 2), 'unknown'], 'a', T0 + 3 * LEASE), [
        id('ho', 1),
        id('ho', 2),
      ]);
      assert.deepEqual(await store.claim(T0 + LEASE, 10, 'b', T0 + 2 * LEASE), [], 'renewed: not taken over');
      const takenOver = await store.claim(T0 + 3 * LEASE, 1, 'b', T0 + 4 * LEASE);
      assert.equal(takenOver.length, 1);
      assert.deepEqual(await store.renew(uids(takenOver), 'a', T0 + 9 * LEASE), [], 'the old holder renews nothing');
      assert.equal((await store.getDelivery(takenOver[0]!.uid))!.lease_token, 'b');
    },
  },
  {
    name: 'settle writes the state and the attempt under the lease, once; a worker whose lease was taken over writes nothing',
    async run({ store }) {
      const ev = event('ev_1', ['ep_1', 'ep_2']);
      await store.enqueue([
        { event: ev, deliveries: [delivery('dl_1', 'ev_1', 'ep_1'), delivery('dl_2', 'ev_1', 'ep_2')] },
      ]);
      const [d1, d2] = await store.claim(T0, 2, 'a', T0 + LEASE);
      const retried = outcome(d1!, 'a', {
        status: 'Retry',
        description: 'HTTP 503',
        next_send_at: T0 + 10 * LEASE,
        attempt: attempt('at_1', d1!, { http_status: 503, success: false }),
      });
      assert.deepEqual(await store.settle([retried, outcome(d1!, 'a', { attempt: attempt('at_x', d1!) })]), ['dl_1']);
      assert.deepEqual(await store.settle([outcome(d1!, 'a')]), [], 'a second settle is dropped');
      const stored = (await store.getDelivery('dl_1'))!;
      assert.deepEqual(
        {
          status: stored.status,
          description: stored.description,
          num_trials: stored.num_trials,
          next_send_at: stored.next_send_at,
          lease_token: stored.lease_token,
          latency_ms: stored.latency_ms,
        },
        {
          status: 'Retry',
          description: 'HTTP 503',
          num_trials: 1,
          next_send_at: T0 + 10 * LEASE,
          lease_token: null,
          latency_ms: 12,
        },
      );
      const [logged, ...more] = await store.listAttempts('dl_1');
      assert.deepEqual(
        [{ ...logged!, response_body: '' }, more],
        [{ ...attempt('at_1', d1!, { http_status: 503, success: false }), response_body: '' }, []],
      );
      // PostgreSQL text cannot hold U+0000: the SQL stores keep U+FFFD in its place.
      assert.match(logged!.response_body, /^ok [\u0000\uFFFD] ünï$/);

      // dl_2's lease runs out; another worker takes it over and settles; the stale one's outcome is dropped.
      const [taken] = await store.claim(T0 + LEASE, 1, 'b', T0 + 2 * LEASE);
      assert.equal(taken!.uid, 'dl_2');
      assert.deepEqual(
        await store.settle([outcome(d2!, 'a', { status: 'Failure', attempt: attempt('at_stale', d2!) })]),
        [],
      );
      assert.deepEqual(await store.settle([outcome(taken!, 'b', { attempt: attempt('at_2', taken!) })]), ['dl_2']);
      assert.equal((await store.getDelivery('dl_2'))!.status, 'Success');
      assert.deepEqual(uids(await store.listAttempts('dl_2')), ['at_2']);
    },
  },
  {
    name: 'settle: a forgotten delivery is removed (a hand-over Convoy accepted); a postponed one keeps its attempts',
    async run({ store }) {
      await enqueueHandOvers(store, [handOver(1), handOver(2, { num_trials: 2, status: 'Retry' })]);
      const [h1, h2] = await store.claim(T0, 2, 'a', T0 + LEASE);
      assert.deepEqual(
        (
          await store.settle([
            outcome(h1!, 'a', { forget: true }),
            outcome(h2!, 'a', { status: 'Retry', num_trials: 2, description: 'busy', next_send_at: T0 + 7 }),
          ])
        ).sort(),
        [id('ho', 1), id('ho', 2)],
      );
      assert.equal(await store.getDelivery(id('ho', 1)), undefined);
      assert.deepEqual(await store.claim(T0 + 6, 10, 'b', T0 + LEASE), []);
      const [again] = await store.claim(T0 + 7, 10, 'b', T0 + LEASE);
      assert.equal(again!.num_trials, 2);
    },
  },
  {
    name: 'ordering keys: one delivery of a key (and endpoint) at a time, in stored order; a finished head lets the next go',
    async run({ store }) {
      const keyed = (
        n: number,
        endpointId: string | null,
        key: string,
        over: Partial<DeliveryRecord> = {},
      ): DeliveryRecord => delivery(id('dl', n), id('ev', n), endpointId, { ordering_key: key, ...over });
      await store.enqueue([
        { deliveries: [keyed(1, null, 'order-1', { next_send_at: T0 + 5 })] },
        { deliveries: [keyed(2, null, 'order-1')] },
        { deliveries: [keyed(3, null, 'order-2')] },
        { deliveries: [keyed(4, 'ep_1', 'order-1')] },
        { deliveries: [keyed(5, 'ep_2', 'order-1')] },
        { deliveries: [keyed(6, 'ep_1', 'order-1')] },
      ]);
      // dl_1 heads order-1 (hand-overs) but is not due: dl_2 waits behind it. Endpoints have chains of their own.
      assert.deepEqual(uids(await store.claim(T0, 10, 'a', T0 + LEASE)).sort(), [
        id('dl', 3),
        id('dl', 4),
        id('dl', 5),
      ]);
      const [head] = await store.claim(T0 + 5, 10, 'a', T0 + LEASE);
      assert.equal(head!.uid, id('dl', 1));
      assert.deepEqual(await store.claim(T0 + 5, 10, 'a', T0 + LEASE), [], 'the heads are in flight');
      await store.settle([outcome(head!, 'a', { status: 'Retry', next_send_at: T0 + 6 })]);
      assert.deepEqual(
        uids(await store.claim(T0 + 5, 10, 'a', T0 + LEASE)),
        [],
        'a retrying head still blocks its key',
      );
      const [retried] = await store.claim(T0 + 6, 10, 'a', T0 + LEASE);
      assert.equal(retried!.uid, id('dl', 1));
      await store.settle([outcome(retried!, 'a', { status: 'Failure', description: 'gave up' })]);
      assert.deepEqual(
        uids(await store.claim(T0 + 6, 10, 'a', T0 + LEASE)),
        [id('dl', 2)],
        'a failed head lets the next go',
      );
      const ep1 = (await store.getDelivery(id('dl', 4)))!;
      await store.settle([outcome(ep1, 'a')]);
      assert.deepEqual(uids(await store.claim(T0 + 6, 10, 'a', T0 + LEASE)), [id('dl', 6)]);
    },
  },
  {
    name: 'nextDueAt is the earliest due time of the unfinished deliveries (a lease\u2019s end for claimed ones); undefined when none',
    async run({ store }) {
      assert.equal(await store.nextDueAt(), undefined);
      await enqueueHandOvers(store, [handOver(1, { next_send_at: T0 + 50 }), handOver(2, { next_send_at: T0 + 20 })]);
      assert.equal(await store.nextDueAt(), T0 + 20);
      const [claimed] = await store.claim(T0 + 20, 1, 'a', T0 + 40);
      assert.equal(await store.nextDueAt(), T0 + 40);
      await store.settle([outcome(claimed!, 'a')]);
      assert.equal(await store.nextDueAt(), T0 + 50);
    },
  },
  {
    name: 'stats: pending (expired leases included), in flight, lag of the oldest unfinished, unfinished and failed hand-overs',
    async run({ store }) {
      const ev = event('ev_1', ['ep_1']);
      // Stored in publish order, as the pipeline stores them (the in-memory store takes the first unfinished as the oldest).
      await store.enqueue([
        { deliveries: [handOver(1, { created_at: T0 - 500 })] },
        { event: ev, deliveries: [delivery('dl_1', 'ev_1', 'ep_1', { created_at: T0 - 200 })] },
        { deliveries: [handOver(2, { created_at: T0 - 100 })] },
      ]);
      const [first, second] = await store.claim(T0, 2, 'a', T0 + LEASE);
      await store.settle([outcome(first!, 'a', { status: 'Failure', description: 'rejected' })]);
      assert.deepEqual(await store.stats(T0), {
        pending: 1,
        inFlight: 1,
        lagMs: 200,
        pendingHandOvers: 1,
        failedHandOvers: 1,
      });
      assert.deepEqual(await store.stats(T0 + LEASE), {
        pending: 2,
        inFlight: 0,
        lagMs: LEASE + 200,
        pendingHandOvers: 1,
        failedHandOvers: 1,
      });
      assert.equal(second!.uid, 'dl_1');
    },
  },
  {
    name: 'reschedule: only deliveries in the given statuses and not leased; due now, no attempts; uid, payload and key kept',
    async run({ store }) {
      await enqueueHandOvers(store, [handOver(1), handOver(2), handOver(3), handOver(4)]);
      const [a, b, c] = await store.claim(T0, 3, 'a', T0 + LEASE);
      await store.settle([
        outcome(a!, 'a', { status: 'Failure', description: 'rejected', num_trials: 3 }),
        outcome(b!, 'a', { status: 'Success' }),
      ]);
      assert.deepEqual(await store.reschedule({}, ['Failure'], T0 + 9), [id('ho', 1)]);
      assert.deepEqual(await store.reschedule({ uids: [] }, ['Failure', 'Success'], T0 + 9), []);
      assert.deepEqual(
        await store.reschedule({ uids: [id('ho', 3), id('ho', 2)] }, ['Success', 'Processing'], T0 + 9),
        [id('ho', 2)],
        'a leased delivery is left alone',
      );
      const requeued = (await store.getDelivery(id('ho', 1)))!;
      assert.deepEqual(
        {
          status: requeued.status,
          num_trials: requeued.num_trials,
          next_send_at: requeued.next_send_at,
          description: requeued.description,
          payload: requeued.payload,
        },
        { status: 'Scheduled', num_trials: 0, next_send_at: T0 + 9, description: '', payload: handOver(1).payload },
      );
      assert.equal(c!.uid, id('ho', 3));
      assert.deepEqual(uids(await store.claim(T0 + 9, 10, 'b', T0 + LEASE)).sort(), [
        id('ho', 1),
        id('ho', 2),
        id('ho', 4),
      ]);
      assert.equal((await store.stats(T0 + 9)).failedHandOvers, 0);
    },
  },
  {
    name: 'reschedule puts a keyed delivery behind the unfinished deliveries of its key',
    async run({ store }) {
      await store.enqueue([
        { deliveries: [handOver(1, { ordering_key: 'k' })] },
        { deliveries: [handOver(2, { ordering_key: 'k' })] },
      ]);
      const [head] = await store.claim(T0, 10, 'a', T0 + LEASE);
      await store.settle([outcome(head!, 'a', { status: 'Failure' })]);
      await store.reschedule({ uids: [head!.uid] }, ['Failure'], T0);
      assert.deepEqual(uids(await store.claim(T0, 10, 'b', T0 + LEASE)), [id('ho', 2)]);
    },
  },
  // ------------------------------------------------------------ the log
  {
    name: 'listDeliveries: newest first by uid, paged with a cursor, narrowed by every filter (empty lists do not narrow)',
    async run({ store }) {
      const ev1 = event('ev_1', ['ep_1', 'ep_2'], { idempotency_key: 'k1' });
      const ev2 = event('ev_2', ['ep_1'], { idempotency_key: 'k2', event_type: 'invoice.void' });
      await store.enqueue([
        {
          event: ev1,
          deliveries: [
            delivery('dl_1', 'ev_1', 'ep_1', { idempotency_key: 'k1', created_at: T0 }),
            delivery('dl_2', 'ev_1', 'ep_2', { idempotency_key: 'k1', created_at: T0 + 10 }),
          ],
        },
        {
          event: ev2,
          deliveries: [
            delivery('dl_3', 'ev_2', 'ep_1', {
              idempotency_key: 'k2',
              event_type: 'invoice.void',
              created_at: T0 + 20,
            }),
          ],
        },
        { deliveries: [handOver(1, { created_at: T0 + 30 })] },
      ]);
      const page1 = await store.listDeliveries({}, { limit: 2 });
      assert.deepEqual(uids(page1.items), ['ho_0001', 'dl_3']);
      const page2 = await store.listDeliveries({}, { limit: 2, cursor: page1.next_cursor });
      assert.deepEqual([uids(page2.items), page2.next_cursor], [['dl_2', 'dl_1'], undefined]);
      const list = async (filter: Parameters<WebhookStore['listDeliveries']>[0]): Promise<string[]> =>
        uids((await store.listDeliveries(filter, { limit: 10 })).items);
      assert.deepEqual(await list({ endpointIds: ['ep_1'] }), ['dl_3', 'dl_1']);
      assert.deepEqual(await list({ endpointIds: [], statuses: [] }), ['ho_0001', 'dl_3', 'dl_2', 'dl_1']);
      assert.deepEqual(await list({ handOver: true }), ['ho_0001']);
      assert.deepEqual(await list({ handOver: false }), ['dl_3', 'dl_2', 'dl_1']);
      assert.deepEqual(await list({ eventId: 'ev_1' }), ['dl_2', 'dl_1']);
      assert.deepEqual(await list({ eventType: 'invoice.void' }), ['dl_3']);
      assert.deepEqual(await list({ idempotencyKey: 'k1' }), ['dl_2', 'dl_1']);
      assert.deepEqual(await list({ statuses: ['Success'] }), []);
      assert.deepEqual(await list({ createdFrom: T0 + 10, createdTo: T0 + 20 }), ['dl_3', 'dl_2']);
    },
  },
  {
    name: 'listAttempts returns a delivery\u2019s attempts in the order they were recorded, not by uid',
    async run({ store }) {
      await store.enqueue([{ deliveries: [handOver(1, { retry_limit: 3 })] }]);
      for (const [n, at] of ['at_z', 'at_a', 'at_m'].entries()) {
        const [d] = await store.claim(T0 + n, 1, `t${n}`, T0 + n + LEASE);
        await store.settle([
          outcome(d!, `t${n}`, {
            status: n < 2 ? 'Retry' : 'Success',
            next_send_at: T0 + n + 1,
            attempt: attempt(at, d!),
          }),
        ]);
      }
      assert.deepEqual(uids(await store.listAttempts(id('ho', 1))), ['at_z', 'at_a', 'at_m']);
    },
  },
  {
    name: 'the log outlives its endpoint: deliveries and attempts stay after deleteEndpoint',
    async run({ store }) {
      await store.insertEndpoint(endpoint('ep_1'));
      await store.enqueue([{ event: event('ev_1', ['ep_1']), deliveries: [delivery('dl_1', 'ev_1', 'ep_1')] }]);
      const [d] = await store.claim(T0, 1, 'a', T0 + LEASE);
      await store.settle([outcome(d!, 'a', { attempt: attempt('at_1', d!) })]);
      assert.equal(await store.deleteEndpoint('ep_1'), true);
      assert.equal((await store.getDelivery('dl_1'))?.status, 'Success');
      assert.deepEqual(uids(await store.listAttempts('dl_1')), ['at_1']);
    },
  },
  // ------------------------------------------------------------ endpoints
  {
    name: 'endpoints: insert, get and update keep every field exactly; inserting a uid that exists throws',
    async run({ store }) {
      const full = endpoint('ep_1', {
        name: 'Billing "prod" ✓',
        description: 'line 1\nline 2',
        secrets: [
          { uid: 's1', value: 'old', expires_at: T0 + 3_600_000, created_at: T0 - 1 },
          { uid: 's2', value: 'new', expires_at: null, created_at: T0 },
        ],
        event_types: ['invoice.*', 'todo.created'],
        http_timeout: 30,
        rate_limit: 10,
        rate_limit_duration: 60,
        support_email: 'ops@example.com',
        api_key_header: { name: 'x-api-key', value: 'k-123' },
        status: 'paused',
        signature_format: 'standard',
        advanced_signatures: false,
      });
      await store.insertEndpoint(copy(full));
      assert.deepEqual(await store.getEndpoint('ep_1'), full);
      await assert.rejects(store.insertEndpoint(endpoint('ep_1', { name: 'other' })));
      const updated = {
        ...full,
        name: 'renamed',
        api_key_header: null,
        status: 'active' as const,
        event_types: ['*'],
        updated_at: T0 + 9,
      };
      assert.equal(await store.updateEndpoint(copy(updated)), true);
      assert.deepEqual(await store.getEndpoint('ep_1'), updated);
    },
  },
  {
    name: 'endpoints: update and delete report whether it existed; findEndpointByUrlAndName is exact; allEndpoints has them all',
    async run({ store }) {
      assert.equal(await store.updateEndpoint(endpoint('ep_x')), false);
      assert.equal(await store.deleteEndpoint('ep_x'), false);
      assert.equal(await store.getEndpoint('ep_x'), undefined);
      await store.insertEndpoint(endpoint('ep_1', { url: 'https://a.example/hook', name: 'one' }));
      await store.insertEndpoint(endpoint('ep_2', { url: 'https://a.example/hook/', name: 'one' }));
      await store.insertEndpoint(endpoint('ep_3', { url: 'https://a.example/hook', name: 'three' }));
      await store.insertEndpoint(endpoint('ep_4', { url: 'https://a.example/hook', name: 'one' }));
      assert.equal((await store.findEndpointByUrlAndName('https://a.example/hook', 'one'))?.uid, 'ep_1');
      assert.equal((await store.findEndpointByUrlAndName('https://a.example/hook', 'three'))?.uid, 'ep_3');
      assert.equal((await store.findEndpointByUrlAndName('https://a.example/hook/', 'one'))?.uid, 'ep_2');
      assert.equal(await store.findEndpointByUrlAndName('https://a.example/HOOK', 'one'), undefined);
      assert.equal(await store.findEndpointByUrlAndName('https://a.example/hook', 'ONE'), undefined);
      assert.deepEqual(uids(await store.allEndpoints()).sort(), ['ep_1', 'ep_2', 'ep_3', 'ep_4']);
      assert.equal(await store.deleteEndpoint('ep_1'), true);
      assert.deepEqual(uids(await store.allEndpoints()).sort(), ['ep_2', 'ep_3', 'ep_4']);
      assert.equal((await store.findEndpointByUrlAndName('https://a.example/hook', 'one'))?.uid, 'ep_4');
    },
  },
  {
    name: 'endpoints: listEndpoints is newest first by uid, pages with a cursor, filters by owner and by a literal substring of the name',
    async run({ store }) {
      for (const [uid, owner, name] of [
        ['ep_1', 'acme', 'prod 100%'],
        ['ep_2', 'acme', 'prod_2'],
        ['ep_3', 'globex', 'prod 100% b'],
      ] as const) {
        await store.insertEndpoint(endpoint(uid, { owner_id: owner, name }));
      }
      const page1 = await store.listEndpoints({}, { limit: 2 });
      assert.deepEqual(uids(page1.items), ['ep_3', 'ep_2']);
      assert.deepEqual(uids((await store.listEndpoints({}, { limit: 2, cursor: page1.next_cursor })).items), ['ep_1']);
      assert.deepEqual(uids((await store.listEndpoints({ ownerId: 'acme' }, { limit: 10 })).items), ['ep_2', 'ep_1']);
      assert.deepEqual(uids((await store.listEndpoints({ q: '100%' }, { limit: 10 })).items), ['ep_3', 'ep_1']);
      assert.deepEqual(uids((await store.listEndpoints({ q: 'prod_' }, { limit: 10 })).items), ['ep_2']);
    },
  },
  // ------------------------------------------------------------ races
  {
    name: 'race: 8 workers claiming over 200 deliveries get each exactly once, and settle each once with its attempt',
    concurrent: true,
    async run({ stores }) {
      const workers = await stores(8);
      const all: DeliveryRecord[] = [];
      for (let e = 0; e < 20; e++) {
        const endpointIds = Array.from({ length: 10 }, (_, i) => id('ep', i));
        const ds = endpointIds.map((ep, i) =>
          delivery(id('dl', e * 10 + i), id('ev', e), ep, { next_send_at: T0 - e }),
        );
        assert.deepEqual(await workers[e % 8]!.enqueue([{ event: event(id('ev', e), endpointIds), deliveries: ds }]), [
          true,
        ]);
        all.push(...ds);
      }
      const claimedBy = new Map<string, number>();
      const violations: string[] = [];
      let finished = 0;
      await Promise.all(
        workers.map(async (worker, w) => {
          for (let round = 0; round < 1000 && finished < all.length; round++) {
            const batch = await worker.claim(T0, 5, `worker-${w}`, T0 + LEASE);
            for (const d of batch) {
              if (claimedBy.has(d.uid)) violations.push(`${d.uid} claimed by ${claimedBy.get(d.uid)} and ${w}`);
              claimedBy.set(d.uid, w);
            }
            await yieldToOthers();
            const settled = await worker.settle(
              batch.map((d) => outcome(d, `worker-${w}`, { attempt: attempt(`at_${d.uid}_${w}`, d) })),
            );
            if (settled.length !== batch.length)
              violations.push(`worker ${w}: ${batch.length - settled.length} leases lost`);
            finished += batch.length;
            if (batch.length === 0) await sleep(2);
          }
        }),
      );
      assert.deepEqual(violations, []);
      assert.equal(claimedBy.size, all.length);
      for (const d of all.filter((_, i) => i % 17 === 0))
        assert.equal((await workers[0]!.listAttempts(d.uid)).length, 1, `${d.uid} has one attempt`);
      assert.equal(
        (await workers[0]!.listDeliveries({ statuses: ['Success'] }, { limit: 500 })).items.length,
        all.length,
      );
      assert.equal(await workers[0]!.nextDueAt(), undefined);
    },
  },
  {
    name: 'race: keyed hand-overs claimed by 4 workers go one at a time per key, in stored order',
    concurrent: true,
    async run({ stores }) {
      const workers = await stores(4);
      const keys = ['a', 'b', 'c'];
      const items = Array.from({ length: 60 }, (_, n) => ({
        deliveries: [handOver(n, { ordering_key: keys[n % 3]!, next_send_at: T0 - 1 })],
      }));
      await workers[0]!.enqueue(items);
      const order = new Map<string, number[]>(keys.map((k) => [k, []]));
      const inFlight = new Set<string>();
      const violations: string[] = [];
      let finished = 0;
      await Promise.all(
        workers.map(async (worker, w) => {
          for (let round = 0; round < 2000 && finished < items.length; round++) {
            const batch = await worker.claim(T0, 3, `w${w}`, T0 + LEASE);
            for (const d of batch) {
              if (inFlight.has(d.ordering_key!)) violations.push(`key ${d.ordering_key} twice in flight`);
              inFlight.add(d.ordering_key!);
              order.get(d.ordering_key!)!.push(Number(d.uid.slice(3)));
            }
            await yieldToOthers();
            for (const d of batch) inFlight.delete(d.ordering_key!);
            await worker.settle(batch.map((d) => outcome(d, `w${w}`, { forget: true })));
            finished += batch.length;
            if (batch.length === 0) await sleep(1);
          }
        }),
      );
      assert.deepEqual(violations, []);
      for (const [k, seen] of order)
        assert.deepEqual(
          seen,
          [...seen].sort((x, y) => x - y),
          `key ${k} in order`,
        );
      assert.equal(finished, items.length);
    },
  },
  {
    name: 'race: a stale worker settling while the worker that took its deliveries over settles them: each outcome is written by the new holder only',
    concurrent: true,
    async run({ stores }) {
      const [a, b] = await stores(2);
      const all = Array.from({ length: 40 }, (_, n) => handOver(n));
      await enqueueHandOvers(a!, all);
      const held = await a!.claim(T0, 40, 'stale', T0 + LEASE);
      assert.equal(held.length, 40);
      const taken = await b!.claim(T0 + LEASE, 40, 'fresh', T0 + 2 * LEASE);
      assert.equal(taken.length, 40, 'every lease ran out: all taken over');
      const [byStale, byFresh] = await Promise.all([
        a!.settle(held.map((d) => outcome(d, 'stale', { status: 'Failure', description: 'stale' }))),
        b!.settle(taken.map((d) => outcome(d, 'fresh', { forget: true }))),
      ]);
      assert.deepEqual(byStale, []);
      assert.equal(byFresh.length, 40);
      assert.deepEqual((await a!.listDeliveries({}, { limit: 100 })).items, []);
    },
  },
  {
    name: 'race: concurrent enqueues of events with one idempotency key make one original; the rest are duplicates without deliveries',
    concurrent: true,
    async run({ stores }) {
      const workers = await stores(4);
      const results = await Promise.all(
        workers.map((w, n) =>
          w.enqueue([
            {
              event: event(id('ev', n), ['ep_1'], { idempotency_key: 'one' }),
              deliveries: [delivery(id('dl', n), id('ev', n), 'ep_1')],
            },
          ]),
        ),
      );
      assert.equal(results.flat().filter(Boolean).length, 1);
      assert.equal((await workers[0]!.listDeliveries({}, { limit: 10 })).items.length, 1);
    },
  },
  {
    name: 'race: concurrent enqueues of the same deliveries store each once',
    concurrent: true,
    async run({ stores }) {
      const workers = await stores(4);
      await Promise.all(
        workers.map((w) => w.enqueue(Array.from({ length: 20 }, (_, n) => ({ deliveries: [handOver(n)] })))),
      );
      assert.equal((await workers[0]!.listDeliveries({}, { limit: 100 })).items.length, 20);
      assert.equal((await workers[0]!.stats(T0)).pendingHandOvers, 20);
    },
  },
  {
    name: 'race: reschedule racing claim never resets a delivery a worker holds',
    concurrent: true,
    async run({ stores }) {
      const [a, b] = await stores(2);
      await enqueueHandOvers(
        a!,
        Array.from({ length: 30 }, (_, n) => handOver(n)),
      );
      const first = await a!.claim(T0, 30, 'a', T0 + LEASE);
      await a!.settle(first.map((d) => outcome(d, 'a', { status: 'Failure', description: 'x' })));
      const [rescheduled, claimed] = await Promise.all([
        a!.reschedule({}, ['Failure'], T0),
        (async () => (await yieldToOthers(), b!.claim(T0, 30, 'b', T0 + LEASE)))(),
      ]);
      for (const d of claimed) {
        const now = (await b!.getDelivery(d.uid))!;
        assert.equal(now.lease_token, 'b', `${d.uid} is still b's`);
        assert.equal(now.status, 'Processing');
      }
      assert.equal(rescheduled.length, 30);
    },
  },
  {
    name: 'race: of two transactions enqueueing to one key, the second waits for the first to end, so commit order is claim order',
    concurrent: true,
    requires: 'parallelTransactions',
    async run({ store, sql }) {
      if (!sql) throw new Error('needs SQL');
      const first = await sql.begin();
      await store.enqueue([{ deliveries: [handOver(1, { ordering_key: 'k' })] }], first.tx);
      const second = await sql.begin();
      const secondDone = store
        .enqueue([{ deliveries: [handOver(2, { ordering_key: 'k' })] }], second.tx)
        .then(() => second.commit());
      await sleep(100);
      // Without the key's lock the second would have committed by now, and be claimed before the first exists.
      assert.deepEqual(await store.claim(T0, 10, 'early', T0 + LEASE), []);
      await first.commit();
      await secondDone;
      const [head] = await store.claim(T0, 10, 'a', T0 + LEASE);
      assert.equal(head!.uid, id('ho', 1));
      await store.settle([outcome(head!, 'a', { forget: true })]);
      assert.deepEqual(uids(await store.claim(T0, 10, 'a', T0 + LEASE)), [id('ho', 2)]);
    },
  },
];
