import diagnostics from 'node:diagnostics_channel';
import { ConvoyHttpError } from '../../../lib/errors/index.js';
import { InMemoryOutboxStore } from '../../../lib/outbox/in-memory-outbox.store.js';
import { OUTBOX_CHANNELS, OutboxRelay, type RelaySettings } from '../../../lib/outbox/outbox-relay.js';
import { WebhookOutbox } from '../../../lib/outbox/webhook-outbox.js';
import { WebhookDispatcher } from '../../../lib/publisher/webhook-dispatcher.js';
import { WebhookPublisher } from '../../../lib/publisher/webhook-publisher.js';
import type { OutgoingWebhook } from '../../../lib/publisher/webhook.types.js';
import type { TransportSendContext, WebhookTransport } from '../../../lib/transports/webhook-transport.interface.js';
import { waitUntil } from '../../support/wait.js';

/** A transport whose sends the test settles: each call waits until the test resolves or rejects it (or a rule does). */
class ScriptedTransport implements WebhookTransport {
  readonly name = 'scripted';
  readonly calls: Array<{ message: OutgoingWebhook; attempt: number; resolve: () => void; reject: (e: unknown) => void; settled: boolean }> = [];
  active = 0;
  maxActive = 0;
  rule: (message: OutgoingWebhook, attempt: number) => 'ok' | Error | 'hold' = () => 'ok';

  send(message: OutgoingWebhook, { attempt }: TransportSendContext): Promise<void> {
    return new Promise((resolve, reject) => {
      this.active++;
      this.maxActive = Math.max(this.maxActive, this.active);
      const done = (fn: () => void) => () => {
        if (call.settled) return;
        call.settled = true;
        this.active--;
        fn();
      };
      const call = { message, attempt, settled: false, resolve: (): void => undefined, reject: (_e: unknown): void => undefined };
      call.resolve = done(() => resolve());
      call.reject = (e: unknown) => done(() => reject(e))();
      this.calls.push(call);
      const outcome = this.rule(message, attempt);
      if (outcome === 'ok') call.resolve();
      else if (outcome instanceof Error) call.reject(outcome);
    });
  }

  keys(): string[] {
    return this.calls.filter((c) => c.settled).map((c) => c.message.idempotencyKey);
  }
}

const fast: RelaySettings = { pollIntervalMs: 20, batchSize: 50, concurrency: 8, leaseMs: 10_000, maxAttempts: 4, baseDelayMs: 5, maxDelayMs: 20, maxRetryAfterMs: 2_000, drainTimeout: 2_000 };

const until = (check: () => boolean | Promise<boolean>): Promise<void> => waitUntil('the condition holds', check);

describe('OutboxRelay (on the in-memory outbox store)', () => {
  const relays: OutboxRelay[] = [];
  function setup(settings: Partial<RelaySettings> = {}, store = new InMemoryOutboxStore(), transport = new ScriptedTransport()) {
    const relay = new OutboxRelay(store, transport, { ...fast, ...settings });
    relays.push(relay);
    relay.start();
    return { relay, store, transport, publisher: new WebhookPublisher(relay, { broadcast: true }) };
  }
  afterEach(async () => {
    for (const relay of relays.splice(0)) await relay.close();
  });

  it('stores on publish, hands over with the message id as idempotency key, then deletes', async () => {
    const { store, transport, publisher } = setup();
    const receipt = await publisher.publish('todo.created', { id: 1 });
    await publisher.flush();
    expect(transport.calls).toHaveLength(1);
    expect(transport.calls[0]!.message).toMatchObject({ id: receipt.id, idempotencyKey: receipt.id, eventType: 'todo.created', payload: '{"id":1}' });
    expect(await store.stats(Date.now())).toEqual({ pending: 0, inFlight: 0, lagMs: 0, deadLetters: 0 });
    expect(await publisher.stats()).toMatchObject({ durable: false, sent: 1, failed: 0, pending: 0 });
  });

  it('retries a retryable failure with the same idempotency key, honouring Retry-After', async () => {
    const { transport, publisher } = setup();
    const busy = new ConvoyHttpError({ method: 'POST', path: '/events' }, 429, 'exceeded rate limit', 'r1', 300);
    transport.rule = (_m, attempt) => (attempt === 1 ? busy : 'ok');
    await publisher.publish('todo.created', { id: 1 }, { idempotencyKey: 'key-1' });
    await publisher.flush();
    expect(transport.calls.map((c) => [c.attempt, c.message.idempotencyKey])).toEqual([[1, 'key-1'], [2, 'key-1']]);
  });

  it('dead-letters a message when retries run out, or at once when the error is not retryable; requeue keeps the id', async () => {
    const { store, transport, publisher, relay } = setup({ maxAttempts: 3 });
    const dead: Array<{ reason: string }> = [];
    const listener = (m: unknown) => dead.push(m as { reason: string });
    diagnostics.subscribe(OUTBOX_CHANNELS.deadLettered, listener);
    try {
      transport.rule = (m) => (m.eventType === 'flaky' ? new Error('socket hang up') : new ConvoyHttpError({ method: 'POST', path: '/events' }, 400, 'endpoint not found', undefined));
      const flaky = await publisher.publish('flaky', {});
      const rejected = await publisher.publish('rejected', {});
      await publisher.flush();
      expect(transport.calls.filter((c) => c.message.eventType === 'flaky')).toHaveLength(3);
      expect(transport.calls.filter((c) => c.message.eventType === 'rejected')).toHaveLength(1);
      const letters = (await store.listDeadLetters({ limit: 10 })).items;
      expect(letters.map((l) => [l.id, l.reason.split(':')[0]]).sort()).toEqual([[flaky.id, 'exhausted'], [rejected.id, 'rejected']].sort());
      expect(dead.map((d) => d.reason.split(':')[0]).sort()).toEqual(['exhausted', 'rejected']);
      expect(await publisher.stats()).toMatchObject({ failed: 2, deadLetters: 2 });

      transport.rule = () => 'ok';
      expect(await store.requeue([flaky.id], Date.now())).toBe(1);
      relay.start();
      await publisher.flush();
      const last = transport.calls.at(-1)!;
      expect(last.message.id).toBe(flaky.id);
      expect(last.message.idempotencyKey).toBe(flaky.idempotencyKey);
      expect((await store.listDeadLetters({ limit: 10 })).items.map((l) => l.id)).toEqual([rejected.id]);
    } finally {
      diagnostics.unsubscribe(OUTBOX_CHANNELS.deadLettered, listener);
    }
  });

  it('hands over one message of an ordering key at a time, in order; other keys go in parallel', async () => {
    const { transport, publisher } = setup();
    transport.rule = () => 'hold';
    for (let i = 1; i <= 3; i++) await publisher.publish('order.updated', { i }, { orderingKey: 'order-1' });
    await publisher.publish('order.updated', { other: true }, { orderingKey: 'order-2' });
    await until(() => transport.calls.length === 2);
    await new Promise((r) => setTimeout(r, 60)); // a few polls: still only the heads of the two keys
    expect(transport.calls.map((c) => JSON.parse(c.message.payload))).toEqual([{ i: 1 }, { other: true }]);
    for (let n = 2; n <= 3; n++) {
      transport.calls.find((c) => !c.settled && c.message.orderingKey === 'order-1')!.resolve();
      await until(() => transport.calls.filter((c) => c.message.orderingKey === 'order-1').length === n);
    }
    transport.rule = () => 'ok';
    for (const call of transport.calls.filter((c) => !c.settled)) call.resolve();
    await publisher.flush();
    expect(transport.calls.filter((c) => c.message.orderingKey === 'order-1').map((c) => JSON.parse(c.message.payload).i)).toEqual([1, 2, 3]);
  });

  it('a failing head holds back its key until it succeeds', async () => {
    const { transport, publisher } = setup();
    transport.rule = (m, attempt) => (JSON.parse(m.payload).i === 1 && attempt < 3 ? new Error('503') : 'ok');
    for (let i = 1; i <= 3; i++) await publisher.publish('order.updated', { i }, { orderingKey: 'k' });
    await publisher.flush();
    expect(transport.calls.map((c) => [JSON.parse(c.message.payload).i, c.attempt])).toEqual([[1, 1], [1, 2], [1, 3], [2, 1], [3, 1]]);
  });

  it('never hands over more than `concurrency` at once', async () => {
    const { transport, publisher } = setup({ concurrency: 3 });
    transport.rule = () => 'hold';
    for (let i = 0; i < 10; i++) await publisher.publish('t', { i });
    await until(() => transport.calls.length === 3);
    await new Promise((r) => setTimeout(r, 60));
    expect(transport.calls).toHaveLength(3);
    transport.rule = () => 'ok';
    for (const call of transport.calls.filter((c) => !c.settled)) call.resolve();
    await publisher.flush();
    expect(transport.calls).toHaveLength(10);
    expect(transport.maxActive).toBe(3);
  });

  it('two relays on one store never hand over the same message', async () => {
    const store = new InMemoryOutboxStore();
    const transport = new ScriptedTransport();
    const a = setup({}, store, transport);
    setup({}, store, transport);
    for (let i = 0; i < 200; i++) await a.publisher.publish('t', { i });
    await a.publisher.flush();
    const keys = transport.keys();
    expect(keys).toHaveLength(200);
    expect(new Set(keys).size).toBe(200);
  });

  it('abandons a send that outlives half its lease and retries it with the same key', async () => {
    const { transport, publisher } = setup({ leaseMs: 1_000 });
    transport.rule = (_m, attempt) => (attempt === 1 ? 'hold' : 'ok');
    await publisher.publish('slow', {}, { idempotencyKey: 'slow-1' });
    await publisher.flush();
    expect(transport.calls.map((c) => [c.attempt, c.message.idempotencyKey])).toEqual([[1, 'slow-1'], [2, 'slow-1']]);
  });

  it('close() waits for sends in flight and leaves pending messages stored', async () => {
    const { store, transport, publisher, relay } = setup({ concurrency: 1 });
    transport.rule = () => 'hold';
    await publisher.publish('t', { n: 1 });
    await publisher.publish('t', { n: 2 });
    await until(() => transport.calls.length === 1);
    const closing = relay.close();
    setTimeout(() => transport.calls[0]!.resolve(), 50);
    await closing;
    expect(transport.calls).toHaveLength(1);
    expect(await store.stats(Date.now())).toMatchObject({ pending: 1, inFlight: 0 });
  });

  it('WebhookOutbox lists dead letters (newest first, paged) and requeues them with the same id', async () => {
    const { transport, publisher, relay } = setup({ maxAttempts: 1 });
    const outbox = new WebhookOutbox(relay);
    transport.rule = () => new Error('down');
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await publisher.publish('t', { i })).id);
    await publisher.flush();
    const first = await outbox.deadLetters({ limit: 2 });
    expect(first.items.map((l) => l.id)).toEqual([ids[2], ids[1]]);
    const second = await outbox.deadLetters({ limit: 2, cursor: first.next_cursor });
    expect(second.items.map((l) => l.id)).toEqual([ids[0]]);
    expect(second.next_cursor).toBeUndefined();
    transport.rule = () => 'ok';
    expect(await outbox.requeue([ids[0]!, 'unknown-id'])).toBe(1);
    await publisher.flush();
    expect(transport.calls.filter((c) => c.settled && c.message.id === ids[0]).length).toBe(2);
    expect((await outbox.deadLetters()).items.map((l) => l.id)).toEqual([ids[2], ids[1]]);
    // Without storage (the in-memory dispatcher) there are no dead letters, and requeue says why.
    const none = new WebhookOutbox(new WebhookDispatcher(transport, { concurrency: 1, bufferSize: 1, whenFull: 'reject', maxAttempts: 1, baseDelayMs: 0, maxDelayMs: 0, maxRetryAfterMs: 0, drainTimeout: 0 }));
    expect(await none.deadLetters()).toEqual({ items: [], next_cursor: undefined });
    await expect(none.requeue(['x'])).rejects.toThrow(/storage/);
  });

  it('an idle relay looks at the store once per poll interval, not in a busy loop', async () => {
    const store = new InMemoryOutboxStore();
    let claims = 0;
    const claim = store.claim.bind(store);
    store.claim = (...args) => (claims++, claim(...args));
    const { publisher } = setup({ pollIntervalMs: 100 }, store);
    await publisher.publish('t', {}); // some work first, then idle
    await publisher.flush();
    claims = 0;
    await new Promise((r) => setTimeout(r, 600));
    expect(claims).toBeGreaterThanOrEqual(3);
    expect(claims).toBeLessThanOrEqual(10);
  });

  it('publishInTransaction needs a store that can join transactions', async () => {
    const { publisher } = setup();
    await expect(publisher.publishInTransaction({ query: async () => ({ rows: [] }) }, 't', {})).rejects.toThrow(/cannot join a database transaction/);
  });
});
