import assert from 'node:assert/strict';
import { setImmediate as yieldToOthers, setTimeout as sleep } from 'node:timers/promises';
import { TransactionRequiredError } from '../../lib/errors/outbox.errors.js';
import type { ClaimedMessage, OutboxStore } from '../../lib/outbox/outbox-store.interface.js';
import type { OutboxMessage } from '../../lib/outbox/outbox.types.js';
import type { SqlQueryable } from '../../lib/storage/sql.js';
import type { ContractCase, StoreContext } from './contract.types.js';

/**
 * The OutboxStore contract: every rule in outbox-store.interface.ts, as runner-agnostic cases (node:assert). Times
 * are explicit (`now` is a parameter of every store method), so nothing depends on the clock or the machine's speed.
 */
export type OutboxContext = StoreContext<OutboxStore>;
export type OutboxCase = ContractCase<OutboxStore>;

const T0 = 1_700_000_000_000;
const LEASE = 30_000;

/** Sortable ids, like the UUIDv7 ids publish() makes. */
export const mid = (n: number): string => `msg_${String(n).padStart(4, '0')}`;

export function message(id: string, over: Partial<OutboxMessage> = {}): OutboxMessage {
  return {
    id,
    event_type: 'todo.created',
    payload: `{"id":"${id}"}`,
    target: { endpointId: 'ep_1' },
    idempotency_key: `idem-${id}`,
    headers: { 'x-trace': id },
    ordering_key: null,
    attempts: 0,
    available_at: T0,
    created_at: T0,
    last_error: null,
    ...over,
  };
}

const ids = (messages: Array<{ id: string }>): string[] => messages.map((m) => m.id);
const sorted = (list: string[]): string[] => [...list].sort();
const claimAt = (store: OutboxStore, now: number, token: string, limit = 100, lease = LEASE): Promise<ClaimedMessage[]> => store.claim(now, limit, token, now + lease);

/** Claims and completes until nothing is left to claim at `now`; returns the ids in hand-over order. */
async function drain(store: OutboxStore, now: number): Promise<string[]> {
  const order: string[] = [];
  for (let round = 0; round < 500; round++) {
    const batch = await claimAt(store, now, `drain-${round}`);
    if (batch.length === 0) return order;
    for (const m of batch) {
      order.push(m.id);
      assert.equal(await store.complete(m.id, m.lease_token), true);
    }
  }
  throw new Error('drain did not finish');
}

/** A placeholder connection for stores that cannot join transactions: it must never be used. */
const foreignTx: SqlQueryable = {
  query: () => Promise.reject(new Error('the in-memory store must not use a caller connection')),
};

export const outboxContract: OutboxCase[] = [
  {
    name: 'add stores messages exactly: a claim returns every field as added, the payload byte for byte',
    async run({ store }) {
      const odd = message(mid(1), {
        // Whitespace, 1.0, 2e3 and key order that a JSON column would rewrite; the receiver verifies these bytes.
        payload: '{"b":1,  "a":[1.0,2e3],"s":"é\\u2028😀 \\"q\\"","n":null}',
        target: { url: 'https://example.com/hook?x=1', secret: 'whsec_abc' },
        headers: { 'x-b': '2', 'x-a': 'ü' },
        ordering_key: 'order-7',
        idempotency_key: 'caller-key',
        attempts: 2,
        created_at: T0 - 5,
        available_at: T0 - 1,
        last_error: 'earlier failure',
      });
      const owner = message(mid(2), { target: { ownerId: 'tenant-9' }, headers: {} });
      const broadcast = message(mid(3), { target: { broadcast: true } });
      await store.add([odd, owner, broadcast]);
      const claimed = await store.claim(T0, 10, 'tok', T0 + LEASE);
      assert.deepEqual(ids(claimed), [mid(1), mid(2), mid(3)]);
      assert.equal(claimed[0]!.payload, odd.payload);
      assert.deepEqual(claimed[0], { ...odd, attempts: 3, lease_token: 'tok', lease_until: T0 + LEASE });
      assert.deepEqual(claimed[1], { ...owner, attempts: 1, lease_token: 'tok', lease_until: T0 + LEASE });
      assert.deepEqual(claimed[2], { ...broadcast, attempts: 1, lease_token: 'tok', lease_until: T0 + LEASE });
    },
  },
  {
    name: 'add is idempotent: an id that exists is left as it is (also twice in one batch, also while leased)',
    async run({ store }) {
      await store.add([message(mid(1)), message(mid(1), { payload: '{"dup":true}' })]);
      const [first] = await claimAt(store, T0, 'a');
      assert.equal(first?.payload, `{"id":"${mid(1)}"}`);
      // Re-adding (a publish retried after a lost reply) must not reset the lease, the attempts or the payload.
      await store.add([message(mid(1), { payload: '{"again":true}' }), message(mid(2))]);
      const second = await claimAt(store, T0 + 1, 'b');
      assert.deepEqual(ids(second), [mid(2)]);
      assert.deepEqual(await store.stats(T0 + 2), { pending: 0, inFlight: 2, lagMs: 2, deadLetters: 0 });
      assert.equal(await store.complete(mid(1), 'a'), true);
      assert.equal(await store.complete(mid(2), 'b'), true);
      assert.deepEqual(await claimAt(store, T0 + 10 * LEASE, 'c'), [], 'nothing is left after both were completed');
    },
  },
  {
    name: 'add skips an id that is already dead-lettered',
    async run({ store }) {
      await store.add([message(mid(1))]);
      await claimAt(store, T0, 'a');
      assert.equal(await store.deadLetter(mid(1), 'a', 'rejected: HTTP 422', T0 + 1), true);
      await store.add([message(mid(1))]);
      assert.deepEqual(await claimAt(store, T0 + 2, 'b'), []);
      assert.deepEqual(await store.stats(T0 + 2), { pending: 0, inFlight: 0, lagMs: 0, deadLetters: 1 });
    },
  },
  {
    name: "add in a caller's transaction that commits: the messages exist from the commit on (a store that cannot join transactions throws)",
    async run({ store, sql }) {
      if (!sql) {
        await assert.rejects(store.add([message(mid(1))], foreignTx));
        assert.deepEqual(await claimAt(store, T0, 'a'), [], 'a refused add stores nothing');
        return;
      }
      const t = await sql.begin();
      await store.add([message(mid(1)), message(mid(2), { ordering_key: 'k' })], t.tx);
      await store.add([message(mid(3), { ordering_key: 'k' })], t.tx);
      // PGlite is one connection: a query outside the open transaction would wait for it, so look only on PostgreSQL.
      if (sql.parallelTransactions) assert.deepEqual(await claimAt(store, T0, 'early'), [], 'not visible before the commit');
      await t.commit();
      assert.deepEqual(await drain(store, T0), [mid(1), mid(2), mid(3)]);
    },
  },
  {
    name: "add in a caller's transaction that rolls back: nothing is stored",
    async run({ store, sql }) {
      if (!sql) return; // covered above: the in-memory store refuses a transaction
      const t = await sql.begin();
      await store.add([message(mid(1)), message(mid(2), { ordering_key: 'k' })], t.tx);
      await t.rollback();
      assert.deepEqual(await claimAt(store, T0, 'a'), []);
      assert.deepEqual(await store.stats(T0), { pending: 0, inFlight: 0, lagMs: 0, deadLetters: 0 });
      // The key is free again: a later add to it is handed over normally.
      await store.add([message(mid(3), { ordering_key: 'k' })]);
      assert.deepEqual(ids(await claimAt(store, T0, 'b')), [mid(3)]);
    },
  },
  {
    name: 'add with a connection outside a transaction throws TransactionRequiredError and stores nothing',
    async run({ store, sql }) {
      if (!sql) return;
      await assert.rejects(store.add([message(mid(1)), message(mid(2), { ordering_key: 'k' })], sql.autocommit), TransactionRequiredError);
      assert.deepEqual(await store.stats(T0), { pending: 0, inFlight: 0, lagMs: 0, deadLetters: 0 });
      assert.deepEqual(await claimAt(store, T0, 'a'), []);
    },
  },
  {
    name: 'claim hands over due messages oldest first (available_at, then insertion order), at most `limit`',
    async run({ store }) {
      await store.add([
        message(mid(1), { available_at: T0 + 20 }),
        message(mid(2), { available_at: T0 }),
        message(mid(3), { available_at: T0 + 10 }),
        message(mid(4), { available_at: T0 }),
        message(mid(5), { available_at: T0 + 30 }),
      ]);
      assert.deepEqual(ids(await store.claim(T0 + 25, 3, 'a', T0 + LEASE)), [mid(2), mid(4), mid(3)]);
      assert.deepEqual(ids(await store.claim(T0 + 25, 3, 'b', T0 + LEASE)), [mid(1)], 'mid(5) is not due yet');
      assert.deepEqual(ids(await store.claim(T0 + 30, 3, 'c', T0 + LEASE)), [mid(5)]);
      assert.deepEqual(await store.claim(T0 + 30, 3, 'd', T0 + LEASE), []);
    },
  },
  {
    name: 'claim does not hand over a message before its available_at (due at exactly that time)',
    async run({ store }) {
      await store.add([message(mid(1), { available_at: T0 + 1000 })]);
      assert.deepEqual(await claimAt(store, T0 + 999, 'a'), []);
      assert.deepEqual(ids(await claimAt(store, T0 + 1000, 'b')), [mid(1)]);
    },
  },
  {
    name: 'claim counts an attempt every time and sets the lease (token, until)',
    async run({ store }) {
      await store.add([message(mid(1))]);
      const [first] = await store.claim(T0, 10, 'a', T0 + 100);
      assert.deepEqual([first?.attempts, first?.lease_token, first?.lease_until], [1, 'a', T0 + 100]);
      assert.equal(await store.retryLater(mid(1), 'a', T0 + 200, 'HTTP 500'), true);
      const [second] = await store.claim(T0 + 200, 10, 'b', T0 + 300);
      assert.deepEqual([second?.attempts, second?.lease_token, second?.lease_until], [2, 'b', T0 + 300]);
      const [third] = await store.claim(T0 + 300, 10, 'c', T0 + 400);
      assert.deepEqual([third?.attempts, third?.lease_token, third?.lease_until], [3, 'c', T0 + 400], 'a takeover after the lease expired counts too');
    },
  },
  {
    name: 'a claimed message is not handed over again while its lease lasts; once it expires, another relay takes it over',
    async run({ store }) {
      await store.add([message(mid(1))]);
      assert.deepEqual(ids(await store.claim(T0, 10, 'A', T0 + 100)), [mid(1)]);
      assert.deepEqual(await store.claim(T0 + 99, 10, 'B', T0 + 1000), []);
      const [taken] = await store.claim(T0 + 100, 10, 'B', T0 + 1000);
      assert.deepEqual([taken?.id, taken?.lease_token, taken?.attempts], [mid(1), 'B', 2]);
      assert.deepEqual(await store.claim(T0 + 500, 10, 'C', T0 + 1000), [], 'the new lease holds');
    },
  },
  {
    name: 'fencing: a relay that lost its lease can neither complete, retry nor dead-letter, and changes nothing',
    async run({ store }) {
      await store.add([message(mid(1)), message(mid(2))]);
      await store.claim(T0, 10, 'A', T0 + 100);
      assert.deepEqual(ids(await store.claim(T0 + 100, 10, 'B', T0 + 1000)), [mid(1), mid(2)]);
      assert.equal(await store.complete(mid(1), 'A'), false);
      assert.equal(await store.retryLater(mid(1), 'A', T0 + 5000, 'stale'), false);
      assert.equal(await store.deadLetter(mid(2), 'A', 'exhausted', T0 + 200), false);
      assert.equal(await store.complete('msg_unknown', 'B'), false);
      assert.deepEqual(await store.stats(T0 + 200), { pending: 0, inFlight: 2, lagMs: 200, deadLetters: 0 });
      assert.deepEqual((await store.listDeadLetters({ limit: 10 })).items, []);
      assert.deepEqual(await store.claim(T0 + 200, 10, 'C', T0 + 1000), [], 'B still holds both');
      // The holder finishes them normally.
      assert.equal(await store.complete(mid(1), 'B'), true);
      assert.equal(await store.retryLater(mid(2), 'B', T0 + 300, 'boom'), true);
      const [again] = await store.claim(T0 + 300, 10, 'C', T0 + 1000);
      assert.deepEqual([again?.id, again?.attempts, again?.last_error, again?.available_at], [mid(2), 3, 'boom', T0 + 300]);
    },
  },
  {
    name: 'complete deletes the message: it is never handed over again, and a second complete is false',
    async run({ store }) {
      await store.add([message(mid(1))]);
      await store.claim(T0, 10, 'A', T0 + 100);
      assert.equal(await store.complete(mid(1), 'A'), true);
      assert.equal(await store.complete(mid(1), 'A'), false);
      assert.deepEqual(await store.claim(T0 + 10 * LEASE, 10, 'B', T0 + 20 * LEASE), []);
      assert.deepEqual(await store.stats(T0 + 1), { pending: 0, inFlight: 0, lagMs: 0, deadLetters: 0 });
    },
  },
  {
    name: 'completeAll deletes in one call only the messages whose own token still holds them',
    async run({ store }) {
      await store.add([message(mid(1)), message(mid(2)), message(mid(3))]);
      await store.claim(T0, 2, 'A', T0 + 100); // 1 and 2 under A
      await store.claim(T0 + 100, 10, 'B', T0 + 1000); // A's lease expired: B holds 1, 2 and 3
      const done = await store.completeAll([
        { id: mid(1), leaseToken: 'A' }, // stale: must stay
        { id: mid(2), leaseToken: 'B' },
        { id: mid(3), leaseToken: 'B' },
        { id: 'msg_unknown', leaseToken: 'B' },
      ]);
      assert.deepEqual([...done].sort(), [mid(2), mid(3)]);
      assert.deepEqual(await store.completeAll([]), []);
      assert.deepEqual(await store.stats(T0 + 200), { pending: 0, inFlight: 1, lagMs: 200, deadLetters: 0 });
      assert.equal(await store.complete(mid(1), 'B'), true, 'B still holds 1');
    },
  },
  {
    name: 'retryLater releases the lease and makes the message due at availableAt, with its error',
    async run({ store }) {
      const m = message(mid(1));
      await store.add([m]);
      await store.claim(T0, 10, 'A', T0 + LEASE);
      assert.equal(await store.retryLater(mid(1), 'A', T0 + 500, 'HTTP 503'), true);
      assert.deepEqual(await store.stats(T0 + 1), { pending: 1, inFlight: 0, lagMs: 1, deadLetters: 0 });
      assert.equal(await store.complete(mid(1), 'A'), false, 'the lease was given back');
      assert.deepEqual(await store.claim(T0 + 499, 10, 'B', T0 + LEASE), []);
      const [again] = await store.claim(T0 + 500, 10, 'B', T0 + 600);
      assert.deepEqual(again, { ...m, attempts: 2, available_at: T0 + 500, last_error: 'HTTP 503', lease_token: 'B', lease_until: T0 + 600 });
    },
  },
  {
    name: 'deadLetter moves the message (same id, with reason and time) out of the outbox',
    async run({ store }) {
      const m = message(mid(1), { ordering_key: 'k' });
      await store.add([m]);
      await store.claim(T0, 10, 'A', T0 + LEASE);
      assert.equal(await store.deadLetter(mid(1), 'A', 'exhausted: HTTP 500', T0 + 7), true);
      assert.deepEqual(await store.listDeadLetters({ limit: 10 }), {
        items: [{ ...m, attempts: 1, dead_at: T0 + 7, reason: 'exhausted: HTTP 500' }],
        next_cursor: undefined,
      });
      assert.equal(await store.complete(mid(1), 'A'), false);
      assert.equal(await store.deadLetter(mid(1), 'A', 'again', T0 + 8), false);
      assert.deepEqual(await store.claim(T0 + 10 * LEASE, 10, 'B', T0 + 20 * LEASE), []);
      assert.deepEqual(await store.stats(T0 + 8), { pending: 0, inFlight: 0, lagMs: 0, deadLetters: 1 });
    },
  },
  {
    name: 'ordering keys: never two messages of one key in a claim or in flight at once',
    async run({ store }) {
      await store.add([
        message(mid(1), { ordering_key: 'k1' }),
        message(mid(2), { ordering_key: 'k1' }),
        message(mid(3), { ordering_key: 'k1' }),
        message(mid(4), { ordering_key: 'k2' }),
        message(mid(5)),
        message(mid(6)),
      ]);
      assert.deepEqual(ids(await claimAt(store, T0, 'A')), [mid(1), mid(4), mid(5), mid(6)]);
      assert.deepEqual(await claimAt(store, T0, 'B'), [], 'the next of k1 and k2 wait while their heads are leased');
    },
  },
  {
    name: "ordering keys: the next message waits while the key's head waits for a retry or is leased again after expiry",
    async run({ store }) {
      await store.add([message(mid(1), { ordering_key: 'k' }), message(mid(2), { ordering_key: 'k' })]);
      await store.claim(T0, 10, 'A', T0 + 100);
      assert.equal(await store.retryLater(mid(1), 'A', T0 + 1000, 'HTTP 500'), true);
      assert.deepEqual(await claimAt(store, T0 + 10, 'B'), [], 'mid(2) must not overtake its head waiting for a retry');
      assert.deepEqual(ids(await store.claim(T0 + 1000, 10, 'C', T0 + 1100)), [mid(1)]);
      // The head's lease expires: the head is taken over, the next still waits.
      assert.deepEqual(ids(await store.claim(T0 + 1100, 10, 'D', T0 + 2000)), [mid(1)]);
    },
  },
  {
    name: "ordering keys: once the key's head is completed or dead-lettered, the next message goes",
    async run({ store }) {
      await store.add([message(mid(1), { ordering_key: 'k' }), message(mid(2), { ordering_key: 'k' }), message(mid(3), { ordering_key: 'k' })]);
      assert.deepEqual(ids(await claimAt(store, T0, 'A')), [mid(1)]);
      assert.equal(await store.complete(mid(1), 'A'), true);
      assert.deepEqual(ids(await claimAt(store, T0, 'B')), [mid(2)]);
      assert.equal(await store.deadLetter(mid(2), 'B', 'rejected: HTTP 400', T0), true);
      assert.deepEqual(ids(await claimAt(store, T0, 'C')), [mid(3)]);
    },
  },
  {
    name: "ordering keys: a key's order is insertion order, even when a later message is due earlier",
    async run({ store }) {
      await store.add([message(mid(1), { ordering_key: 'k', available_at: T0 + 100 }), message(mid(2), { ordering_key: 'k', available_at: T0 }), message(mid(3))]);
      assert.deepEqual(ids(await claimAt(store, T0, 'A')), [mid(3)], 'mid(2) waits behind mid(1), which is not due');
      assert.deepEqual(ids(await claimAt(store, T0 + 100, 'B')), [mid(1)]);
    },
  },
  {
    name: 'dead letters: listDeadLetters pages newest first by id',
    async run({ store }) {
      const order = [3, 1, 5, 2, 4]; // insertion order differs from id order
      await store.add(order.map((n) => message(mid(n))));
      for (const m of await claimAt(store, T0, 'A')) assert.equal(await store.deadLetter(m.id, 'A', 'exhausted', T0 + 1), true);
      const first = await store.listDeadLetters({ limit: 2 });
      assert.deepEqual(ids(first.items), [mid(5), mid(4)]);
      assert.equal(first.next_cursor, mid(4));
      const second = await store.listDeadLetters({ limit: 2, cursor: first.next_cursor });
      assert.deepEqual(ids(second.items), [mid(3), mid(2)]);
      const third = await store.listDeadLetters({ limit: 2, cursor: second.next_cursor });
      assert.deepEqual(ids(third.items), [mid(1)]);
      assert.equal(third.next_cursor, undefined);
      const exact = await store.listDeadLetters({ limit: 5 });
      assert.deepEqual([exact.items.length, exact.next_cursor], [5, undefined]);
    },
  },
  {
    name: 'dead letters: requeue moves them back with the same id, zero attempts, due now and no error; they can be claimed',
    async run({ store }) {
      const a = message(mid(1));
      await store.add([a, message(mid(2))]);
      await claimAt(store, T0, 'A');
      assert.equal(await store.retryLater(mid(1), 'A', T0 + 10, 'HTTP 500'), true);
      await claimAt(store, T0 + 10, 'B');
      assert.equal(await store.deadLetter(mid(1), 'B', 'exhausted', T0 + 20), true);
      assert.equal(await store.deadLetter(mid(2), 'A', 'rejected', T0 + 20), true);
      assert.equal(await store.requeue([mid(1), 'msg_unknown'], T0 + 50), 1);
      assert.deepEqual(ids((await store.listDeadLetters({ limit: 10 })).items), [mid(2)]);
      assert.deepEqual(await store.claim(T0 + 49, 10, 'C', T0 + 100), []);
      const [back] = await store.claim(T0 + 50, 10, 'C', T0 + 100);
      assert.deepEqual(back, { ...a, attempts: 1, available_at: T0 + 50, last_error: null, lease_token: 'C', lease_until: T0 + 100 });
      assert.equal(await store.requeue([mid(1)], T0 + 60), 0, 'it is not a dead letter any more');
      assert.deepEqual(await store.stats(T0 + 60), { pending: 0, inFlight: 1, lagMs: 60, deadLetters: 1 });
    },
  },
  {
    name: "dead letters: a requeued message goes behind its key's messages added meanwhile",
    async run({ store }) {
      await store.add([message(mid(1), { ordering_key: 'k' })]);
      await claimAt(store, T0, 'A');
      assert.equal(await store.deadLetter(mid(1), 'A', 'exhausted', T0), true);
      await store.add([message(mid(2), { ordering_key: 'k' })]);
      assert.equal(await store.requeue([mid(1)], T0), 1);
      assert.deepEqual(await drain(store, T0), [mid(2), mid(1)]);
    },
  },
  {
    name: 'stats: pending (including expired leases), in flight, lag of the oldest message, dead letters',
    async run({ store }) {
      assert.deepEqual(await store.stats(T0), { pending: 0, inFlight: 0, lagMs: 0, deadLetters: 0 });
      await store.add([0, 10, 20, 30].map((age, i) => message(mid(i + 1), { created_at: T0 + age })));
      assert.deepEqual(ids(await store.claim(T0 + 40, 1, 'A', T0 + 1000)), [mid(1)]);
      assert.deepEqual(ids(await store.claim(T0 + 40, 1, 'B', T0 + 1000)), [mid(2)]);
      assert.equal(await store.deadLetter(mid(2), 'B', 'rejected', T0 + 50), true);
      assert.deepEqual(await store.stats(T0 + 100), { pending: 2, inFlight: 1, lagMs: 100, deadLetters: 1 });
      assert.deepEqual(await store.stats(T0 + 1000), { pending: 3, inFlight: 0, lagMs: 1000, deadLetters: 1 }, 'an expired lease is pending again');
      assert.equal(await store.complete(mid(1), 'A'), true);
      assert.deepEqual(await store.stats(T0 + 1000), { pending: 2, inFlight: 0, lagMs: 980, deadLetters: 1 });
    },
  },

  // ---------------------------------------------------------------- races between connections

  {
    name: 'race: 8 relays claiming over 200 messages get each exactly once, and a key one message at a time in order',
    concurrent: true,
    async run({ stores }) {
      const relays = await stores(8);
      const all = Array.from({ length: 200 }, (_, i) => message(mid(i), { ordering_key: i % 4 === 0 ? `k${i % 3}` : null }));
      // Added one batch after the other (each through another connection): a key's order is then the id order.
      for (const c of [0, 1, 2, 3]) await relays[c]!.add(all.slice(c * 50, c * 50 + 50));
      const claimedBy = new Map<string, number>();
      const heldKeys = new Map<string, string>();
      const keyOrder = new Map<string, string[]>();
      const violations: string[] = [];
      let finished = 0;
      await Promise.all(
        relays.map(async (relay, r) => {
          for (let round = 0; round < 1000 && finished < all.length; round++) {
            const batch = await relay.claim(T0, 7, `relay-${r}-${round}`, T0 + LEASE);
            for (const m of batch) {
              if (claimedBy.has(m.id)) violations.push(`${m.id} claimed by ${claimedBy.get(m.id)} and ${r}`);
              claimedBy.set(m.id, r);
              if (m.attempts !== 1) violations.push(`${m.id} has ${m.attempts} attempts`);
              if (m.ordering_key !== null) {
                const other = heldKeys.get(m.ordering_key);
                if (other) violations.push(`${m.id} claimed while ${other} of ${m.ordering_key} was in flight`);
                heldKeys.set(m.ordering_key, m.id);
                keyOrder.set(m.ordering_key, [...(keyOrder.get(m.ordering_key) ?? []), m.id]);
              }
            }
            await yieldToOthers();
            for (const m of batch) {
              // Released before complete(): the key's next message can only be claimed after complete() commits.
              if (m.ordering_key !== null && heldKeys.get(m.ordering_key) === m.id) heldKeys.delete(m.ordering_key);
              if (!(await relay.complete(m.id, m.lease_token))) violations.push(`${m.id}: complete lost the lease`);
              finished++;
            }
            if (batch.length === 0) await sleep(2);
          }
        }),
      );
      assert.deepEqual(violations, []);
      assert.equal(claimedBy.size, all.length, 'every message was claimed');
      assert.equal(finished, all.length, 'no message was claimed twice');
      for (const [key, order] of keyOrder) {
        const expected = all.filter((m) => m.ordering_key === key).map((m) => m.id);
        assert.deepEqual(order, expected, `key ${key} in insertion order`);
      }
      assert.deepEqual(await relays[0]!.stats(T0), { pending: 0, inFlight: 0, lagMs: 0, deadLetters: 0 });
    },
  },
  {
    name: "race: two producers adding to one key while a relay hands over: each producer's messages in its order, one at a time",
    concurrent: true,
    async run({ stores }) {
      const [p1, p2, relay] = await stores(3);
      const produce = async (store: OutboxStore, name: string): Promise<void> => {
        for (let i = 0; i < 25; i++) {
          await store.add([message(`${name}_${String(i).padStart(2, '0')}`, { ordering_key: 'shared' })]);
          if (i % 5 === 0) await yieldToOthers();
        }
      };
      const handedOver: string[] = [];
      let producing = true;
      const relayLoop = (async () => {
        for (let round = 0; round < 2000; round++) {
          const batch = await relay!.claim(T0, 10, `r-${round}`, T0 + LEASE);
          assert.ok(batch.length <= 1, `one key, so at most one message per claim (got ${batch.length})`);
          for (const m of batch) {
            handedOver.push(m.id);
            assert.equal(await relay!.complete(m.id, m.lease_token), true);
          }
          if (batch.length === 0) {
            if (!producing) return;
            await sleep(1);
          }
        }
      })();
      relayLoop.catch(() => undefined); // awaited below; this only keeps an early failure from being reported as unhandled
      await Promise.all([produce(p1!, 'p1'), produce(p2!, 'p2')]);
      producing = false;
      await relayLoop;
      handedOver.push(...(await drain(relay!, T0)));
      assert.equal(handedOver.length, 50);
      assert.equal(new Set(handedOver).size, 50);
      for (const p of ['p1', 'p2']) {
        const mine = handedOver.filter((id) => id.startsWith(p));
        assert.deepEqual(mine, sorted(mine), `${p}'s messages in the order it added them`);
      }
    },
  },
  {
    name: 'race: of two transactions adding to one key, the one that commits first is handed over first, never interleaved',
    concurrent: true,
    async run({ store, sql }) {
      if (!sql) return;
      if (sql.parallelTransactions) {
        const t1 = await sql.begin();
        const t2 = await sql.begin();
        await store.add([message('a_1', { ordering_key: 'k' })], t1.tx);
        let secondAdded = false;
        const addB = store.add([message('b_1', { ordering_key: 'k' })], t2.tx).then(() => (secondAdded = true));
        await sleep(200);
        // Without the key's lock, b_1 would get a seq now, commit first, and be handed over before a_1 exists.
        assert.equal(secondAdded, false, 'a second transaction adding to the key waits until the first ends');
        await store.add([message('a_2', { ordering_key: 'k' })], t1.tx);
        await t1.commit();
        await addB;
        await store.add([message('b_2', { ordering_key: 'k' })], t2.tx);
        await t2.commit();
        assert.deepEqual(await drain(store, T0), ['a_1', 'a_2', 'b_1', 'b_2']);
        return;
      }
      // One connection (PGlite): the transactions run one after the other; each one's messages stay together.
      const producer = async (name: string): Promise<void> => {
        const t = await sql.begin();
        await store.add([message(`${name}_1`, { ordering_key: 'k' })], t.tx);
        await store.add([message(`${name}_2`, { ordering_key: 'k' })], t.tx);
        await t.commit();
      };
      await Promise.all([producer('a'), producer('b')]);
      const order = await drain(store, T0);
      assert.ok(
        JSON.stringify(order) === JSON.stringify(['a_1', 'a_2', 'b_1', 'b_2']) || JSON.stringify(order) === JSON.stringify(['b_1', 'b_2', 'a_1', 'a_2']),
        `commit order, not interleaved: ${order.join(', ')}`,
      );
    },
  },
  {
    name: 'race: a stale relay finishing its batch while another takes it over: each message is finished by exactly one of them',
    concurrent: true,
    async run({ stores }) {
      const [a, b] = await stores(2);
      await a!.add(Array.from({ length: 60 }, (_, i) => message(mid(i))));
      const batch = await a!.claim(T0, 60, 'A', T0 + 100);
      assert.equal(batch.length, 60);
      // A's lease ended at T0 + 100; at T0 + 150, A (unaware) finishes its batch while B claims.
      const stale = (m: ClaimedMessage, i: number): Promise<boolean> =>
        i % 3 === 0 ? a!.complete(m.id, 'A') : i % 3 === 1 ? a!.retryLater(m.id, 'A', T0 + 5000, 'HTTP 500') : a!.deadLetter(m.id, 'A', 'exhausted', T0 + 150);
      const before = batch.slice(0, 30).map(stale);
      const takeover = b!.claim(T0 + 150, 100, 'B', T0 + 10_000);
      const after = batch.slice(30).map((m, i) => stale(m, i + 30));
      const [staleResults, taken] = await Promise.all([Promise.all([...before, ...after]), takeover]);
      const takenIds = new Set(ids(taken));
      batch.forEach((m, i) => assert.notEqual(staleResults[i], takenIds.has(m.id), `${m.id}: finished by the stale relay xor taken over`));
      for (const m of taken) assert.equal(await b!.complete(m.id, 'B'), true);
      const retried = batch.filter((_, i) => staleResults[i] && i % 3 === 1).length;
      const dead = batch.filter((_, i) => staleResults[i] && i % 3 === 2).length;
      assert.deepEqual(await a!.stats(T0 + 200), { pending: retried, inFlight: 0, lagMs: retried > 0 ? 200 : 0, deadLetters: dead });
    },
  },
  {
    name: 'race: concurrent adds of the same messages store each once',
    concurrent: true,
    async run({ stores }) {
      const producers = await stores(4);
      const batch = Array.from({ length: 20 }, (_, i) => message(mid(i), { ordering_key: i % 2 === 0 ? 'k' : null }));
      await Promise.all(producers.map((p) => p.add(batch)));
      assert.deepEqual(await producers[0]!.stats(T0), { pending: 20, inFlight: 0, lagMs: 0, deadLetters: 0 });
      assert.deepEqual(sorted(await drain(producers[1]!, T0)), ids(batch));
    },
  },
];
