import assert from 'node:assert/strict';
import { setImmediate as yieldToOthers, setTimeout as sleep } from 'node:timers/promises';
import type { AttemptRecord, DeliveryRecord, EndpointRecord, EventRecord } from '../../lib/embedded/embedded.types.js';
import type { DeliveryUpdate, WebhookStore } from '../../lib/embedded/webhook-store.interface.js';
import type { ContractCase, StoreContext } from './contract.types.js';

/**
 * The WebhookStore contract: every rule in webhook-store.interface.ts (and the in-memory store's behaviour the
 * engine relies on), as runner-agnostic cases asserting with node:assert. Times are explicit wherever the
 * interface takes them; only completeAttempt stamps updated_at with the clock, and no case asserts its value.
 */
export type WebhookContext = StoreContext<WebhookStore>;
export type WebhookCase = ContractCase<WebhookStore>;

const T0 = 1_700_000_000_000;
const LEASE = 30_000;
const iso = (ms: number): string => new Date(ms).toISOString();
const uid = (prefix: string, n: number): string => `${prefix}_${String(n).padStart(4, '0')}`;

export function endpoint(id: string, over: Partial<EndpointRecord> = {}): EndpointRecord {
  return {
    uid: id,
    name: `endpoint ${id}`,
    url: `https://example.com/hooks/${id}`,
    owner_id: 'owner-1',
    description: '',
    secrets: [{ uid: `sec-${id}`, value: 'whsec_c2VjcmV0', expires_at: null, created_at: iso(T0) }],
    advanced_signatures: true,
    signature_format: 'convoy',
    event_types: ['*'],
    http_timeout: 10,
    rate_limit: 0,
    rate_limit_duration: 0,
    support_email: '',
    api_key_header: null,
    status: 'active',
    created_at: iso(T0),
    updated_at: iso(T0),
    ...over,
  };
}

export function event(id: string, endpointIds: string[], over: Partial<EventRecord> = {}): EventRecord {
  return {
    uid: id,
    event_type: 'invoice.paid',
    idempotency_key: `idem-${id}`,
    payload: `{"event":"${id}"}`,
    custom_headers: { 'x-source': 'contract' },
    endpoints: endpointIds,
    is_duplicate_event: false,
    created_at: iso(T0),
    ...over,
  };
}

export function delivery(id: string, ev: EventRecord, endpointId: string, over: Partial<DeliveryRecord> = {}): DeliveryRecord {
  return {
    uid: id,
    event_id: ev.uid,
    endpoint_id: endpointId,
    event_type: ev.event_type,
    idempotency_key: ev.idempotency_key,
    payload: ev.payload,
    custom_headers: ev.custom_headers,
    status: 'Scheduled',
    description: '',
    num_trials: 0,
    retry_limit: 5,
    next_send_at: T0,
    lease_owner: null,
    latency_ms: null,
    created_at: ev.created_at,
    updated_at: ev.created_at,
    ...over,
  };
}

export function attempt(id: string, d: DeliveryRecord, over: Partial<AttemptRecord> = {}): AttemptRecord {
  return {
    uid: id,
    delivery_id: d.uid,
    endpoint_id: d.endpoint_id,
    url: `https://example.com/hooks/${d.endpoint_id}`,
    method: 'POST',
    request_headers: { 'content-type': 'application/json', 'x-convoy-signature': 't=1,v1=abc' },
    http_status: 200,
    response_headers: { 'content-type': 'text/plain' },
    response_body: 'ok',
    error: '',
    success: true,
    latency_ms: 12,
    requested_at: iso(T0 + 1),
    responded_at: iso(T0 + 13),
    ...over,
  };
}

const success = (trials = 1): DeliveryUpdate => ({ status: 'Success', description: '', num_trials: trials, next_send_at: T0 + 5, latency_ms: 12 });
const uids = (records: Array<{ uid: string }>): string[] => records.map((r) => r.uid);
const sorted = (list: string[]): string[] => [...list].sort();

/** One event per delivery spec, stored with insertEvent; returns the deliveries. */
async function seed(store: WebhookStore, specs: Array<Partial<DeliveryRecord> & { endpoint?: string }>): Promise<DeliveryRecord[]> {
  const out: DeliveryRecord[] = [];
  for (const [i, spec] of specs.entries()) {
    const { endpoint: endpointId = 'ep_0001', ...over } = spec;
    const ev = event(uid('ev', i + 1), [endpointId]);
    const d = delivery(uid('dl', i + 1), ev, endpointId, over);
    assert.equal(await store.insertEvent(ev, [d]), true);
    out.push(d);
  }
  return out;
}

export const webhookStoreContract: WebhookCase[] = [
  // ---------------------------------------------------------------- endpoints
  {
    name: 'endpoints: insert, get and update keep every field exactly; inserting a uid that exists throws',
    async run({ store }) {
      const plain = endpoint(uid('ep', 1));
      const full = endpoint(uid('ep', 2), {
        name: 'Billing "prod" ✓',
        description: 'multi\nline',
        secrets: [
          { uid: 's1', value: 'old-secret', expires_at: iso(T0 + 3_600_000), created_at: iso(T0 - 1000) },
          { uid: 's2', value: 'new-secret', expires_at: null, created_at: iso(T0) },
        ],
        advanced_signatures: false,
        signature_format: 'standard',
        event_types: ['invoice.*', 'user.created'],
        http_timeout: 300,
        rate_limit: 50,
        rate_limit_duration: 60,
        support_email: 'ops@example.com',
        api_key_header: { name: 'x-api-key', value: 'k-123' },
        status: 'paused',
        created_at: iso(T0 + 1),
        updated_at: iso(T0 + 2),
      });
      await store.insertEndpoint(plain);
      await store.insertEndpoint(full);
      assert.deepEqual(await store.getEndpoint(plain.uid), plain);
      assert.deepEqual(await store.getEndpoint(full.uid), full);
      await assert.rejects(store.insertEndpoint(endpoint(plain.uid, { name: 'other' })));
      assert.deepEqual(await store.getEndpoint(plain.uid), plain, 'the refused insert changed nothing');
      const updated = { ...full, name: 'renamed', api_key_header: null, status: 'active' as const, event_types: ['*'], updated_at: iso(T0 + 9) };
      assert.equal(await store.updateEndpoint(updated), true);
      assert.deepEqual(await store.getEndpoint(full.uid), updated);
    },
  },
  {
    name: 'endpoints: update and delete report whether the endpoint existed; unknown uids read as undefined',
    async run({ store }) {
      assert.equal(await store.updateEndpoint(endpoint('ep_missing')), false);
      assert.equal(await store.getEndpoint('ep_missing'), undefined, 'update does not create');
      await store.insertEndpoint(endpoint(uid('ep', 1)));
      assert.equal(await store.deleteEndpoint(uid('ep', 1)), true);
      assert.equal(await store.deleteEndpoint(uid('ep', 1)), false);
      assert.equal(await store.getEndpoint(uid('ep', 1)), undefined);
      assert.equal(await store.updateEndpoint(endpoint(uid('ep', 1))), false);
      assert.equal(await store.getEvent('ev_missing'), undefined);
      assert.equal(await store.getDelivery('dl_missing'), undefined);
      assert.deepEqual(await store.listAttempts('dl_missing'), []);
    },
  },
  {
    name: 'endpoints: findEndpointByUrl matches the exact URL; allEndpoints returns every endpoint',
    async run({ store }) {
      const a = endpoint(uid('ep', 1), { url: 'https://example.com/a' });
      const b = endpoint(uid('ep', 2), { url: 'https://example.com/a/' });
      await store.insertEndpoint(a);
      await store.insertEndpoint(b);
      assert.deepEqual(await store.findEndpointByUrl('https://example.com/a'), a);
      assert.deepEqual(await store.findEndpointByUrl('https://example.com/a/'), b);
      assert.equal(await store.findEndpointByUrl('https://example.com/A'), undefined);
      assert.deepEqual(sorted(uids(await store.allEndpoints())), [a.uid, b.uid]);
      assert.deepEqual((await store.allEndpoints()).find((e) => e.uid === b.uid), b);
    },
  },
  {
    name: 'endpoints: listEndpoints is newest first by uid, pages with a cursor, filters by owner and by a literal substring of the name',
    async run({ store }) {
      const names = ['at 50% off', '500 users', 'a_b', 'axb', 'plain'];
      for (const [i, name] of names.entries()) await store.insertEndpoint(endpoint(uid('ep', [3, 1, 5, 2, 4][i]!), { name, owner_id: i % 2 === 0 ? 'o1' : 'o2' }));
      const first = await store.listEndpoints({}, { limit: 2 });
      assert.deepEqual(uids(first.items), [uid('ep', 5), uid('ep', 4)]);
      const second = await store.listEndpoints({}, { limit: 2, cursor: first.next_cursor });
      assert.deepEqual(uids(second.items), [uid('ep', 3), uid('ep', 2)]);
      const third = await store.listEndpoints({}, { limit: 2, cursor: second.next_cursor });
      assert.deepEqual([uids(third.items), third.next_cursor], [[uid('ep', 1)], undefined]);
      assert.deepEqual(uids((await store.listEndpoints({ ownerId: 'o1' }, { limit: 10 })).items), [uid('ep', 5), uid('ep', 4), uid('ep', 3)]);
      // `%` and `_` are characters of the name, not patterns.
      assert.deepEqual(uids((await store.listEndpoints({ q: '50%' }, { limit: 10 })).items), [uid('ep', 3)]);
      assert.deepEqual(uids((await store.listEndpoints({ q: 'a_b' }, { limit: 10 })).items), [uid('ep', 5)]);
      assert.deepEqual(uids((await store.listEndpoints({ q: 'users', ownerId: 'o1' }, { limit: 10 })).items), []);
      assert.deepEqual(uids((await store.listEndpoints({ q: 'users', ownerId: 'o2' }, { limit: 10 })).items), [uid('ep', 1)]);
    },
  },

  // ---------------------------------------------------------------- events and deliveries
  {
    name: 'insertEvent stores the event and its deliveries exactly, the payload byte for byte',
    async run({ store }) {
      const ev = event(uid('ev', 1), ['ep_a', 'ep_b'], { payload: '{"z": 1.0,"a":[2e3]  ,"s":"é😀"}', custom_headers: { 'x-a': '1', 'x-b': 'ü' }, created_at: iso(T0 + 123) });
      const d1 = delivery(uid('dl', 1), ev, 'ep_a', { retry_limit: 9, next_send_at: T0 + 7 });
      const d2 = delivery(uid('dl', 2), ev, 'ep_b', { status: 'Discarded', description: 'the endpoint is inactive' });
      assert.equal(await store.insertEvent(ev, [d1, d2]), true);
      assert.deepEqual(await store.getEvent(ev.uid), ev);
      assert.deepEqual(await store.getDelivery(d1.uid), d1);
      assert.deepEqual(await store.getDelivery(d2.uid), d2);
      assert.equal((await store.getDelivery(d1.uid))?.payload, ev.payload);
    },
  },
  {
    name: 'insertEvent with an idempotency key that exists stores a duplicate without deliveries and returns false',
    async run({ store }) {
      const original = event(uid('ev', 1), ['ep_a'], { idempotency_key: 'order-1' });
      assert.equal(await store.insertEvent(original, [delivery(uid('dl', 1), original, 'ep_a')]), true);
      for (const n of [2, 3]) {
        const dup = event(uid('ev', n), ['ep_a'], { idempotency_key: 'order-1' });
        assert.equal(await store.insertEvent(dup, [delivery(uid('dl', n), dup, 'ep_a')]), false);
        assert.deepEqual(await store.getEvent(dup.uid), { ...dup, is_duplicate_event: true, endpoints: [] });
        assert.equal(await store.getDelivery(uid('dl', n)), undefined, 'a duplicate has no deliveries');
      }
      assert.deepEqual(await store.getEvent(original.uid), original, 'the original is untouched');
      assert.deepEqual(uids((await store.listDeliveries({ idempotencyKey: 'order-1' }, { limit: 10 })).items), [uid('dl', 1)]);
      const other = event(uid('ev', 4), ['ep_a'], { idempotency_key: 'order-2' });
      assert.equal(await store.insertEvent(other, [delivery(uid('dl', 4), other, 'ep_a')]), true, 'another key is a new event');
    },
  },
  {
    name: 'claimDue takes due Scheduled and Retry deliveries, oldest due first, at most `limit`, and leases them to the owner',
    async run({ store }) {
      const [d1, d2, d3] = await seed(store, [{ next_send_at: T0 - 10 }, { status: 'Retry', num_trials: 2, next_send_at: T0 - 30 }, { next_send_at: T0 - 20 }]);
      const claimed = await store.claimDue(T0, 2, 'worker-1', T0 + LEASE);
      assert.deepEqual(uids(claimed), [d2!.uid, d3!.uid]);
      assert.deepEqual(claimed[0], { ...d2!, status: 'Processing', lease_owner: 'worker-1', next_send_at: T0 + LEASE, updated_at: iso(T0) });
      assert.deepEqual(await store.getDelivery(d2!.uid), claimed[0]);
      assert.deepEqual(uids(await store.claimDue(T0, 2, 'worker-2', T0 + LEASE)), [d1!.uid]);
      assert.deepEqual(await store.claimDue(T0, 2, 'worker-3', T0 + LEASE), []);
    },
  },
  {
    name: 'claimDue leaves deliveries that are not due, final or leased; an expired lease is taken over by another owner',
    async run({ store }) {
      const [, , , , d5, d6] = await seed(store, [
        { next_send_at: T0 + 1000 },
        { status: 'Success', next_send_at: T0 - 1 },
        { status: 'Failure', next_send_at: T0 - 1 },
        { status: 'Discarded', next_send_at: T0 - 1 },
        { status: 'Retry', num_trials: 1, next_send_at: T0 - 5 },
        { next_send_at: T0 },
      ]);
      assert.deepEqual(uids(await store.claimDue(T0, 10, 'w1', T0 + 100)), [d5!.uid, d6!.uid]);
      assert.deepEqual(await store.claimDue(T0 + 99, 10, 'w2', T0 + 1000), [], 'leased until T0 + 100');
      const taken = await store.claimDue(T0 + 100, 10, 'w2', T0 + 1000);
      assert.deepEqual(sorted(uids(taken)), [d5!.uid, d6!.uid]);
      for (const d of taken) assert.deepEqual([d.status, d.lease_owner, d.next_send_at], ['Processing', 'w2', T0 + 1000]);
    },
  },
  {
    name: 'nextDueAt is the earliest due time of the deliveries still to send',
    async run({ store }) {
      assert.equal(await store.nextDueAt(), undefined);
      const [, d2] = await seed(store, [{ next_send_at: T0 + 500 }, { status: 'Retry', num_trials: 1, next_send_at: T0 + 300 }, { status: 'Success', next_send_at: T0 + 1 }, { status: 'Failure', next_send_at: T0 + 2 }]);
      assert.equal(await store.nextDueAt(), T0 + 300);
      assert.deepEqual(uids(await store.claimDue(T0 + 300, 10, 'w', T0 + 10_000)), [d2!.uid]);
      assert.equal(await store.nextDueAt(), T0 + 500);
    },
  },
  {
    name: 'completeAttempt records the new state and the attempt only under the lease, once',
    async run({ store }) {
      const [d] = await seed(store, [{}]);
      const a = attempt(uid('at', 1), d!, { response_headers: { 'x-b': '1', 'x-a': '2' }, response_body: '{"ok": true}' });
      assert.equal(await store.completeAttempt(d!.uid, 'w1', success(), a), false, 'not claimed: nobody holds it');
      await store.claimDue(T0, 10, 'w1', T0 + LEASE);
      assert.equal(await store.completeAttempt(d!.uid, 'w2', success(), a), false, 'another owner');
      assert.deepEqual(await store.listAttempts(d!.uid), []);
      assert.equal((await store.getDelivery(d!.uid))?.status, 'Processing');
      assert.equal(await store.completeAttempt(d!.uid, 'w1', { status: 'Success', description: 'done', num_trials: 1, next_send_at: T0 + 5, latency_ms: 42 }, a), true);
      const after = await store.getDelivery(d!.uid);
      assert.deepEqual(
        { ...after!, updated_at: 'checked below' },
        { ...d!, status: 'Success', description: 'done', num_trials: 1, next_send_at: T0 + 5, latency_ms: 42, lease_owner: null, updated_at: 'checked below' },
      );
      assert.ok(!Number.isNaN(Date.parse(after!.updated_at)));
      assert.deepEqual(await store.listAttempts(d!.uid), [a]);
      assert.equal(await store.completeAttempt(d!.uid, 'w1', success(2), attempt(uid('at', 2), d!)), false, 'finished: the lease is gone');
      assert.deepEqual(uids(await store.listAttempts(d!.uid)), [a.uid]);
    },
  },
  {
    name: 'completeAttempt by a worker whose lease was taken over is dropped; the new holder records',
    async run({ store }) {
      const [d] = await seed(store, [{}]);
      await store.claimDue(T0, 10, 'w1', T0 + 100);
      assert.deepEqual(uids(await store.claimDue(T0 + 100, 10, 'w2', T0 + 1000)), [d!.uid]);
      assert.equal(await store.completeAttempt(d!.uid, 'w1', success(), attempt(uid('at', 1), d!)), false);
      assert.deepEqual(await store.listAttempts(d!.uid), []);
      const held = await store.getDelivery(d!.uid);
      assert.deepEqual([held?.status, held?.lease_owner, held?.num_trials], ['Processing', 'w2', 0]);
      assert.equal(await store.completeAttempt(d!.uid, 'w2', success(), attempt(uid('at', 2), d!)), true);
      assert.deepEqual(uids(await store.listAttempts(d!.uid)), [uid('at', 2)]);
    },
  },
  {
    name: 'completeAttempt without an attempt (put back without sending) changes the state and records no attempt',
    async run({ store }) {
      const [d] = await seed(store, [{}]);
      await store.claimDue(T0, 10, 'w1', T0 + LEASE);
      assert.equal(await store.completeAttempt(d!.uid, 'w1', { status: 'Scheduled', description: '', num_trials: 0, next_send_at: T0 + 5000, latency_ms: null }, undefined), true);
      assert.deepEqual(await store.listAttempts(d!.uid), []);
      const back = await store.getDelivery(d!.uid);
      assert.deepEqual([back?.status, back?.lease_owner, back?.next_send_at], ['Scheduled', null, T0 + 5000]);
      assert.deepEqual(await store.claimDue(T0 + 4999, 10, 'w2', T0 + LEASE), []);
      assert.deepEqual(uids(await store.claimDue(T0 + 5000, 10, 'w2', T0 + LEASE)), [d!.uid]);
    },
  },
  {
    name: 'reschedule: only deliveries in the given statuses and not leased; resets trials, keeps uid, payload and key',
    async run({ store }) {
      const [f, x, s, p] = await seed(store, [
        { status: 'Failure', num_trials: 5, description: 'no success after 5 attempts', next_send_at: T0 - 100 },
        { status: 'Discarded', description: 'the endpoint is inactive' },
        { status: 'Success', num_trials: 1 },
        { next_send_at: T0 },
      ]);
      await store.claimDue(T0, 10, 'w1', T0 + LEASE); // p is now Processing under w1
      assert.deepEqual(await store.reschedule({}, ['Processing'], T0 + 50), [], 'a leased delivery is never reset');
      assert.deepEqual(sorted(await store.reschedule({}, ['Failure', 'Discarded'], T0 + 50)), [f!.uid, x!.uid]);
      assert.deepEqual(await store.getDelivery(f!.uid), { ...f!, status: 'Scheduled', num_trials: 0, next_send_at: T0 + 50, description: '', updated_at: iso(T0 + 50) });
      assert.equal((await store.getDelivery(s!.uid))?.status, 'Success');
      const held = await store.getDelivery(p!.uid);
      assert.deepEqual([held?.status, held?.lease_owner], ['Processing', 'w1']);
      assert.deepEqual(await store.reschedule({}, [], T0 + 60), [], 'no statuses, nothing');
      assert.deepEqual(sorted(uids(await store.claimDue(T0 + 50, 10, 'w2', T0 + LEASE))), [f!.uid, x!.uid], 'rescheduled deliveries are due');
    },
  },
  {
    name: 'reschedule narrows by uids (an empty list matches none), endpoints, event and other filters',
    async run({ store }) {
      const e1 = event(uid('ev', 1), ['ep_a', 'ep_b'], { event_type: 'a.happened' });
      const e2 = event(uid('ev', 2), ['ep_a'], { event_type: 'b.happened' });
      const [d1, d2, d3] = [
        delivery(uid('dl', 1), e1, 'ep_a', { status: 'Failure' }),
        delivery(uid('dl', 2), e1, 'ep_b', { status: 'Failure' }),
        delivery(uid('dl', 3), e2, 'ep_a', { status: 'Failure' }),
      ];
      await store.insertEvent(e1, [d1!, d2!]);
      await store.insertEvent(e2, [d3!]);
      assert.deepEqual(await store.reschedule({ uids: [] }, ['Failure'], T0), []);
      assert.deepEqual(await store.reschedule({ uids: [d1!.uid], endpointIds: ['ep_b'] }, ['Failure'], T0), [], 'every filter must match');
      assert.deepEqual(await store.reschedule({ eventType: 'b.happened' }, ['Failure'], T0), [d3!.uid]);
      assert.deepEqual(await store.reschedule({ endpointIds: ['ep_b'] }, ['Failure'], T0), [d2!.uid]);
      assert.deepEqual(await store.reschedule({ uids: [d1!.uid, 'dl_missing'] }, ['Failure'], T0), [d1!.uid]);
      assert.deepEqual(await store.reschedule({ eventId: e1.uid }, ['Failure'], T0), [], 'already rescheduled');
    },
  },
  {
    name: 'listDeliveries: newest first by uid, paged with a cursor, narrowed by every filter (empty lists do not narrow)',
    async run({ store }) {
      const e1 = event(uid('ev', 1), ['ep_a', 'ep_b'], { event_type: 'a.happened', idempotency_key: 'k1', created_at: iso(T0) });
      const e2 = event(uid('ev', 2), ['ep_a'], { event_type: 'b.happened', idempotency_key: 'k2', created_at: iso(T0 + 10) });
      const e3 = event(uid('ev', 3), ['ep_b', 'ep_c'], { event_type: 'a.happened', idempotency_key: 'k3', created_at: iso(T0 + 20) });
      await store.insertEvent(e1, [delivery(uid('dl', 1), e1, 'ep_a', { status: 'Success' }), delivery(uid('dl', 2), e1, 'ep_b', { status: 'Failure' })]);
      await store.insertEvent(e2, [delivery(uid('dl', 3), e2, 'ep_a', { status: 'Retry' })]);
      await store.insertEvent(e3, [delivery(uid('dl', 5), e3, 'ep_b'), delivery(uid('dl', 4), e3, 'ep_c', { status: 'Discarded' })]);
      const list = async (filter: Parameters<WebhookStore['listDeliveries']>[0]): Promise<string[]> => uids((await store.listDeliveries(filter, { limit: 10 })).items);
      const page1 = await store.listDeliveries({}, { limit: 2 });
      assert.deepEqual(uids(page1.items), [uid('dl', 5), uid('dl', 4)]);
      const page2 = await store.listDeliveries({}, { limit: 2, cursor: page1.next_cursor });
      assert.deepEqual(uids(page2.items), [uid('dl', 3), uid('dl', 2)]);
      const page3 = await store.listDeliveries({}, { limit: 2, cursor: page2.next_cursor });
      assert.deepEqual([uids(page3.items), page3.next_cursor], [[uid('dl', 1)], undefined]);
      assert.deepEqual(await list({ endpointIds: [], statuses: [] }), [5, 4, 3, 2, 1].map((n) => uid('dl', n)));
      assert.deepEqual(await list({ endpointIds: ['ep_a', 'ep_c'] }), [uid('dl', 4), uid('dl', 3), uid('dl', 1)]);
      assert.deepEqual(await list({ eventId: e1.uid }), [uid('dl', 2), uid('dl', 1)]);
      assert.deepEqual(await list({ eventType: 'a.happened' }), [uid('dl', 5), uid('dl', 4), uid('dl', 2), uid('dl', 1)]);
      assert.deepEqual(await list({ idempotencyKey: 'k2' }), [uid('dl', 3)]);
      assert.deepEqual(await list({ statuses: ['Failure', 'Discarded'] }), [uid('dl', 4), uid('dl', 2)]);
      assert.deepEqual(await list({ createdFrom: T0 + 10 }), [uid('dl', 5), uid('dl', 4), uid('dl', 3)], 'createdFrom is inclusive');
      assert.deepEqual(await list({ createdTo: T0 + 10 }), [uid('dl', 3), uid('dl', 2), uid('dl', 1)], 'createdTo is inclusive');
      assert.deepEqual(await list({ createdFrom: T0 + 1, createdTo: T0 + 19 }), [uid('dl', 3)]);
      assert.deepEqual(await list({ endpointIds: ['ep_b'], statuses: ['Scheduled'], eventType: 'a.happened' }), [uid('dl', 5)]);
      const filtered = await store.listDeliveries({ endpointIds: ['ep_b'] }, { limit: 1 });
      assert.deepEqual([uids(filtered.items), filtered.next_cursor], [[uid('dl', 5)], uid('dl', 5)]);
      assert.deepEqual(uids((await store.listDeliveries({ endpointIds: ['ep_b'] }, { limit: 1, cursor: filtered.next_cursor })).items), [uid('dl', 2)]);
    },
  },
  {
    name: "listAttempts returns a delivery's attempts oldest first (the order they were recorded, not by uid)",
    async run({ store }) {
      const [other, d] = await seed(store, [{ next_send_at: T0 - 2 }, { next_send_at: T0 - 1 }]);
      // Another delivery's attempt must not show up in d's list.
      assert.deepEqual(uids(await store.claimDue(T0, 1, 'wo', T0 + LEASE)), [other!.uid]);
      assert.equal(await store.completeAttempt(other!.uid, 'wo', success(), attempt('at_other', other!)), true);
      const recorded: string[] = [];
      for (const [i, id] of ['at_c', 'at_a', 'at_b'].entries()) {
        const now = T0 + i * 100;
        assert.deepEqual(uids(await store.claimDue(now, 1, `w${i}`, now + 50)), [d!.uid]);
        const last = i === 2;
        const ok = await store.completeAttempt(
          d!.uid,
          `w${i}`,
          last ? success(i + 1) : { status: 'Retry', description: 'HTTP 500', num_trials: i + 1, next_send_at: now + 100, latency_ms: 5 },
          attempt(id, d!, { http_status: last ? 200 : 500, success: last, requested_at: iso(now + 1) }),
        );
        assert.equal(ok, true);
        recorded.push(id);
      }
      assert.deepEqual(uids(await store.listAttempts(d!.uid)), recorded);
      assert.deepEqual(uids(await store.listAttempts(other!.uid)), ['at_other']);
    },
  },
  {
    name: 'the log outlives its endpoint: deliveries and attempts stay after deleteEndpoint',
    async run({ store }) {
      const ep = endpoint(uid('ep', 1));
      await store.insertEndpoint(ep);
      const [d] = await seed(store, [{ endpoint: ep.uid }]);
      await store.claimDue(T0, 10, 'w', T0 + LEASE);
      const a = attempt(uid('at', 1), d!);
      assert.equal(await store.completeAttempt(d!.uid, 'w', success(), a), true);
      assert.equal(await store.deleteEndpoint(ep.uid), true);
      assert.equal((await store.getDelivery(d!.uid))?.status, 'Success');
      assert.deepEqual(await store.listAttempts(d!.uid), [a]);
      assert.deepEqual(uids((await store.listDeliveries({ endpointIds: [ep.uid] }, { limit: 10 })).items), [d!.uid]);
      assert.ok(await store.getEvent(d!.event_id));
    },
  },

  // ---------------------------------------------------------------- races between connections
  {
    name: 'race: 8 workers claiming over 200 deliveries get each exactly once, and record one attempt each',
    concurrent: true,
    async run({ stores }) {
      const workers = await stores(8);
      const all: DeliveryRecord[] = [];
      for (let e = 0; e < 20; e++) {
        const endpointIds = Array.from({ length: 10 }, (_, i) => uid('ep', i));
        const ev = event(uid('ev', e), endpointIds);
        const ds = endpointIds.map((ep, i) => delivery(uid('dl', e * 10 + i), ev, ep, { next_send_at: T0 - e }));
        assert.equal(await workers[e % 8]!.insertEvent(ev, ds), true);
        all.push(...ds);
      }
      const claimedBy = new Map<string, number>();
      const violations: string[] = [];
      let finished = 0;
      await Promise.all(
        workers.map(async (worker, w) => {
          for (let round = 0; round < 1000 && finished < all.length; round++) {
            const batch = await worker.claimDue(T0, 5, `worker-${w}`, T0 + LEASE);
            for (const d of batch) {
              if (claimedBy.has(d.uid)) violations.push(`${d.uid} claimed by ${claimedBy.get(d.uid)} and ${w}`);
              claimedBy.set(d.uid, w);
            }
            await yieldToOthers();
            for (const d of batch) {
              if (!(await worker.completeAttempt(d.uid, `worker-${w}`, success(), attempt(`at_${d.uid}_${w}`, d)))) violations.push(`${d.uid}: lease lost`);
              finished++;
            }
            if (batch.length === 0) await sleep(2);
          }
        }),
      );
      assert.deepEqual(violations, []);
      assert.equal(claimedBy.size, all.length);
      assert.equal(finished, all.length);
      for (const d of all.filter((_, i) => i % 17 === 0)) assert.equal((await workers[0]!.listAttempts(d.uid)).length, 1, `${d.uid} has one attempt`);
      assert.equal((await workers[0]!.listDeliveries({ statuses: ['Success'] }, { limit: 500 })).items.length, all.length);
      assert.equal(await workers[0]!.nextDueAt(), undefined);
    },
  },
  {
    name: 'race: a stale worker recording outcomes while another takes its deliveries over: each outcome is recorded by exactly one',
    concurrent: true,
    async run({ stores }) {
      const [a, b] = await stores(2);
      const all = await seed(a!, Array.from({ length: 40 }, () => ({})));
      assert.equal((await a!.claimDue(T0, 100, 'A', T0 + 100)).length, all.length);
      const stale = (d: DeliveryRecord): Promise<boolean> => a!.completeAttempt(d.uid, 'A', success(), attempt(`at_A_${d.uid}`, d));
      const before = all.slice(0, 20).map(stale);
      const takeover = b!.claimDue(T0 + 150, 100, 'B', T0 + 10_000);
      const after = all.slice(20).map(stale);
      const [staleResults, taken] = await Promise.all([Promise.all([...before, ...after]), takeover]);
      const takenIds = new Set(uids(taken));
      all.forEach((d, i) => assert.notEqual(staleResults[i], takenIds.has(d.uid), `${d.uid}: recorded by the stale worker xor taken over`));
      for (const d of taken) assert.equal(await b!.completeAttempt(d.uid, 'B', success(), attempt(`at_B_${d.uid}`, d)), true);
      for (const d of all) {
        const attempts = await a!.listAttempts(d.uid);
        assert.equal(attempts.length, 1, `${d.uid}: one attempt recorded`);
        assert.equal(attempts[0]!.uid, takenIds.has(d.uid) ? `at_B_${d.uid}` : `at_A_${d.uid}`);
      }
    },
  },
  {
    name: 'race: concurrent inserts of events with one idempotency key make one original; the rest are duplicates without deliveries',
    concurrent: true,
    async run({ stores }) {
      const producers = await stores(8);
      const events = producers.map((_, i) => event(uid('ev', i), ['ep_a'], { idempotency_key: 'same-key' }));
      const results = await Promise.all(producers.map((p, i) => p.insertEvent(events[i]!, [delivery(uid('dl', i), events[i]!, 'ep_a')])));
      assert.equal(results.filter(Boolean).length, 1, 'exactly one original');
      const original = events[results.indexOf(true)]!;
      assert.deepEqual(uids((await producers[0]!.listDeliveries({}, { limit: 20 })).items), [uid('dl', results.indexOf(true))]);
      for (const ev of events) {
        const stored = await producers[0]!.getEvent(ev.uid);
        assert.equal(stored?.is_duplicate_event, ev !== original);
      }
    },
  },
  {
    name: 'race: reschedule racing claimDue never resets a delivery a worker holds',
    concurrent: true,
    async run({ stores }) {
      const [worker, admin] = await stores(2);
      await seed(worker!, Array.from({ length: 50 }, (_, i) => ({ next_send_at: T0 - i })));
      const [, claimed] = await Promise.all([
        admin!.reschedule({}, ['Scheduled'], T0),
        worker!.claimDue(T0, 100, 'w', T0 + LEASE),
        admin!.reschedule({}, ['Scheduled', 'Processing'], T0),
      ]);
      // However the three interleave, what the worker claimed stays its own (the statements may also run one by one).
      for (const d of claimed) {
        const now = await admin!.getDelivery(d.uid);
        assert.deepEqual([now?.status, now?.lease_owner], ['Processing', 'w'], `${d.uid} is still held by its worker`);
        assert.equal(await worker!.completeAttempt(d.uid, 'w', success(), undefined), true);
      }
      const rest = await worker!.claimDue(T0, 100, 'w2', T0 + LEASE);
      assert.equal(claimed.length + rest.length, 50, 'every delivery was claimed once');
      assert.deepEqual(await admin!.reschedule({}, ['Processing'], T0), [], 'held deliveries are not reset');
    },
  },
];
