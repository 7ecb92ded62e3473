import diagnostics from 'node:diagnostics_channel';
import v8 from 'node:v8';
import vm from 'node:vm';
import { jest } from '@jest/globals';
import { performance } from 'node:perf_hooks';
import { ConvoyHttpError, PublishBufferFullError, PublisherClosedError } from '../../../lib/errors/index.js';
import { WebhookOutbox } from '../../../lib/management/webhook-outbox.js';
import { handOverRoute, newDelivery } from '../../../lib/pipeline/hand-over.route.js';
import { InMemoryWebhookStore } from '../../../lib/storage/in-memory.store.js';
import {
  DeliveryPipeline,
  PIPELINE_CHANNELS,
  SLOW_AFTER_MS,
  SLOW_IDLE_FORGET_MS,
  SLOW_SWEEP_MS,
  type DeliveryRoute,
  type PipelineSettings,
} from '../../../lib/pipeline/pipeline.js';
import type { DeliveryRecord } from '../../../lib/storage/records.js';
import type { OutgoingWebhook } from '../../../lib/publishing/webhook.types.js';
import type { TransportSendContext, WebhookTransport } from '../../../lib/transports/webhook-transport.interface.js';
import { waitUntil } from '../../support/wait.js';
import { pipelineSettings } from '../../support/pipeline-settings.js';

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
  reject: (error: unknown) => void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** One call of send(), left pending until the test (or the transport's onSend) settles it. */
interface SendCall {
  message: OutgoingWebhook;
  attempt: number;
  signal: AbortSignal;
  settled: boolean;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** A transport whose every send() is a deferred promise the test controls; it also tracks overlapping sends. */
class TestTransport implements WebhookTransport {
  readonly name = 'test';
  readonly calls: SendCall[] = [];
  /** Sends started and not yet settled, now and at most. */
  active = 0;
  maxActive = 0;
  /** Runs as each send starts, e.g. to settle it at once; by default sends stay pending. */
  onSend: (call: SendCall) => void = () => {};

  send(message: OutgoingWebhook, { attempt, signal }: TransportSendContext): Promise<void> {
    const outcome = deferred();
    const settle = (how: () => void): void => {
      if (call.settled) return;
      call.settled = true;
      this.active--;
      how();
    };
    const call: SendCall = {
      message,
      attempt,
      signal,
      settled: false,
      resolve: () => settle(outcome.resolve),
      reject: (error) => settle(() => outcome.reject(error)),
    };
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    this.calls.push(call);
    this.onSend(call);
    return outcome.promise;
  }

  /** Resolves once `count` sends (attempts) have started in total. */
  started(count: number): Promise<void> {
    return waitUntil(`${count} sends started`, () => this.calls.length >= count);
  }

  pending(): SendCall[] {
    return this.calls.filter((c) => !c.settled);
  }

  callOf(id: string, attempt = 1): SendCall {
    const call = this.calls.find((c) => c.message.id === id && c.attempt === attempt);
    if (!call) throw new Error(`${id} attempt ${attempt} never started`);
    return call;
  }

  ids(): string[] {
    return this.calls.map((c) => c.message.id);
  }
}

interface Report {
  delivery: DeliveryRecord;
  error?: string;
  delayMs?: number;
  reason?: string;
}

/** Subscribes to one diagnostics channel, keeping only reports about this test's deliveries. */
class ChannelRecorder {
  readonly events: Report[] = [];
  private readonly listener = (report: unknown): void => {
    if (this.mine.has((report as Report).delivery.uid))
      this.events.push({ ...(report as Report), delivery: { ...(report as Report).delivery } });
  };

  constructor(
    readonly name: string,
    private readonly mine: Set<string>,
  ) {
    diagnostics.subscribe(name, this.listener);
  }

  close(): void {
    diagnostics.unsubscribe(this.name, this.listener);
  }
}

/** Whether a promise is still unsettled once pending microtasks and I/O callbacks have run (one event-loop turn). */
async function isPending(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  await new Promise((resolve) => setImmediate(resolve));
  return !settled;
}

const defaults = pipelineSettings();

describe('DeliveryPipeline (hand-overs, on the in-memory store)', () => {
  let transport: TestTransport;
  let store: InMemoryWebhookStore;
  let pipeline: DeliveryPipeline;
  let mine: Set<string>;
  let recorders: ChannelRecorder[];
  let seq = 0;

  beforeEach(() => {
    mine = new Set();
    recorders = [];
  });
  afterEach(async () => {
    // Finish whatever a test left pending, so no send or timer leaks into the next test.
    transport.onSend = (call) => call.resolve();
    for (const call of transport.pending()) call.resolve();
    await pipeline.close();
    for (const recorder of recorders) recorder.close();
  });

  function setup(
    overrides: Partial<PipelineSettings> = {},
    memory: { capacity?: number; whenFull?: 'wait' | 'reject' } = {},
  ): DeliveryPipeline {
    transport = new TestTransport();
    store = new InMemoryWebhookStore({ capacity: memory.capacity ?? 100, whenFull: memory.whenFull ?? 'reject' });
    pipeline = new DeliveryPipeline(store, handOverRoute(transport), {
      ...defaults,
      ...overrides,
      retry: { ...defaults.retry, ...overrides.retry },
    });
    pipeline.start();
    return pipeline;
  }

  function message(id = `m${++seq}`, over: Partial<OutgoingWebhook> = {}): OutgoingWebhook {
    mine.add(id);
    return {
      id,
      eventType: 'todo.created',
      payload: `{"id":"${id}"}`,
      target: { broadcast: true },
      idempotencyKey: id,
      headers: {},
      orderingKey: undefined,
      createdAt: Date.now(),
      ...over,
    };
  }

  /** Counts the store's calls to `methods` from now on (a test restarts the count by setting it to 0). */
  function countCalls(...methods: Array<'claim' | 'nextDueAt'>): { count: number } {
    const counter = { count: 0 };
    for (const method of methods) {
      const original = store[method].bind(store) as (...args: unknown[]) => unknown;
      Object.assign(store, { [method]: (...args: unknown[]) => (counter.count++, original(...args)) });
    }
    return counter;
  }

  function listen(name: string): ChannelRecorder {
    const recorder = new ChannelRecorder(name, mine);
    recorders.push(recorder);
    return recorder;
  }

  describe('sending', () => {
    it('hands each event over with its id as the idempotency key, never more than `concurrency` at once, and forgets it once accepted', async () => {
      const p = setup({ concurrency: 3 });
      for (let i = 0; i < 10; i++) await p.enqueue(message());
      // Nothing is sent inside enqueue(): attempts start on a later turn, so the publisher's caller never waits for them.
      expect(transport.calls).toHaveLength(0);
      await transport.started(3);
      expect(transport.calls).toHaveLength(3);
      expect(await p.stats()).toMatchObject({ durable: false, inFlight: 3, pending: 7 });

      // From now on each send finishes on a later turn, so the pipeline keeps the slots full.
      transport.onSend = (call) => setImmediate(() => call.resolve());
      for (const call of transport.pending().reverse()) call.resolve();
      await p.flush();

      expect(transport.calls).toHaveLength(10);
      expect(transport.maxActive).toBe(3);
      expect(transport.calls.every((c) => c.message.idempotencyKey === c.message.id && c.attempt === 1)).toBe(true);
      expect(await p.stats()).toMatchObject({ pending: 0, inFlight: 0, sent: 10, failed: 0, deadLetters: 0 });
      expect((await store.listDeliveries({}, { limit: 100 })).items).toEqual([]); // Convoy keeps the log of hand-overs
    });

    it('sends in publish order', async () => {
      const p = setup({ concurrency: 1 });
      transport.onSend = (call) => setImmediate(() => call.resolve());
      const ids = ['a', 'b', 'c', 'd', 'e', 'f'];
      for (const id of ids) await p.enqueue(message(id));
      await p.flush();
      expect(transport.ids()).toEqual(ids);
    });

    it('sends one event of an ordering key at a time, in publish order, even through retries; other keys in parallel', async () => {
      const p = setup({ concurrency: 4 });
      const keyed = (id: string, key: string): OutgoingWebhook => message(id, { orderingKey: key });
      for (const m of [keyed('a1', 'a'), keyed('a2', 'a'), keyed('b1', 'b'), keyed('a3', 'a')]) await p.enqueue(m);
      await transport.started(2);
      await new Promise((r) => setImmediate(r));
      // Only the heads of the two keys are out; a2 and a3 wait behind a1 although slots are free.
      expect(transport.ids()).toEqual(['a1', 'b1']);
      transport.callOf('a1').reject(new Error('blip')); // a1 fails once: a2 keeps waiting through the retry
      await transport.started(3);
      expect(transport.calls[2]).toMatchObject({ attempt: 2, message: { id: 'a1' } });
      transport.onSend = (call) => call.resolve();
      transport.calls[2]!.resolve();
      transport.callOf('b1').resolve();
      await p.flush();
      expect(transport.ids()).toEqual(['a1', 'b1', 'a1', 'a2', 'a3']);
      expect(await p.stats()).toMatchObject({ sent: 4, failed: 0 });
    });

    it("a full store with whenFull 'reject' throws PublishBufferFullError, and accepts again once one finishes", async () => {
      const p = setup({ concurrency: 1 }, { capacity: 3, whenFull: 'reject' });
      for (const id of ['a', 'b', 'c']) await p.enqueue(message(id));
      await transport.started(1);

      const error = await p.enqueue(message('refused')).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PublishBufferFullError);
      expect(error).toMatchObject({ retryable: true, capacity: 3 });
      expect(await p.stats()).toMatchObject({ inFlight: 1, pending: 2 });

      transport.callOf('a').resolve();
      await transport.started(2);
      await waitUntil('room for one more', async () => (await p.stats()).sent === 1);
      await p.enqueue(message('e'));
      await expect(p.enqueue(message('refused too'))).rejects.toBeInstanceOf(PublishBufferFullError);

      transport.onSend = (call) => call.resolve();
      transport.callOf('b').resolve();
      await p.flush();
      expect(transport.ids()).toEqual(['a', 'b', 'c', 'e']);
    });

    it("a full store with whenFull 'wait' makes enqueue wait for room, in order, and nothing is lost", async () => {
      const p = setup({ concurrency: 1 }, { capacity: 2, whenFull: 'wait' });
      let mostHeld = 0;
      transport.onSend = () => void p.stats().then((s) => (mostHeld = Math.max(mostHeld, s.pending + s.inFlight)));
      await p.enqueue(message('a'));
      await p.enqueue(message('b'));
      const third = p.enqueue(message('c'));
      const fourth = p.enqueue(message('d'));
      expect(await isPending(third)).toBe(true);
      expect(await isPending(fourth)).toBe(true);

      await transport.started(1);
      transport.callOf('a').resolve(); // its room goes to the first waiter only
      await third;
      expect(await isPending(fourth)).toBe(true);

      transport.onSend = (call) => setImmediate(() => call.resolve());
      for (const call of transport.pending()) call.resolve();
      await fourth;
      await p.flush();
      expect(transport.ids()).toEqual(['a', 'b', 'c', 'd']);
      expect(mostHeld).toBeLessThanOrEqual(2);
    });
  });

  describe('retries', () => {
    it('retries failures with growing backoff until success, reporting on the retry-scheduled and delivered channels', async () => {
      const p = setup({
        retry: { attempts: 5, strategy: 'exponential', delayMs: 10, maxDelayMs: 1_000, maxRetryAfterMs: 5_000 },
      });
      const retries = listen(PIPELINE_CHANNELS.retryScheduled);
      const delivered = listen(PIPELINE_CHANNELS.delivered);
      transport.onSend = (call) =>
        call.attempt === 1
          ? call.reject(new Error('socket hang up'))
          : call.attempt === 2
            ? call.reject(Object.assign(new Error('503'), { retryable: true }))
            : call.resolve();

      await p.enqueue(message('m'));
      await p.flush();

      expect(transport.calls.map((c) => [c.message.id, c.attempt])).toEqual([
        ['m', 1],
        ['m', 2],
        ['m', 3],
      ]);
      expect(retries.events.map((r) => [r.delivery.uid, r.delivery.num_trials, r.error])).toEqual([
        ['m', 1, 'socket hang up'],
        ['m', 2, '503'],
      ]);
      // Equal jitter: retry n waits between half and all of delayMs * 2^(n-1).
      const [first, second] = retries.events.map((r) => r.delayMs!);
      expect(first).toBeGreaterThanOrEqual(4);
      expect(first).toBeLessThanOrEqual(10);
      expect(second).toBeGreaterThanOrEqual(9);
      expect(second).toBeLessThanOrEqual(20);
      expect(delivered.events.map((r) => r.delivery.uid)).toEqual(['m']);
      expect(await p.stats()).toMatchObject({ sent: 1, failed: 0 });
    });

    it('does not retry an error with retryable: false: it is a dead letter at once, which a requeue sends again with the same id', async () => {
      const p = setup({ retry: { attempts: 5 } as PipelineSettings['retry'] });
      const failed = listen(PIPELINE_CHANNELS.failed);
      const retries = listen(PIPELINE_CHANNELS.retryScheduled);
      const badRequest = new ConvoyHttpError({ method: 'POST', path: '/events' }, 400, 'invalid event type', undefined);
      expect(badRequest.retryable).toBe(false);
      transport.onSend = (call) => call.reject(badRequest);

      await p.enqueue(message('m'));
      await p.flush();

      expect(transport.calls).toHaveLength(1);
      expect(retries.events).toEqual([]);
      expect(failed.events.map((r) => [r.delivery.uid, r.reason, r.error])).toEqual([
        ['m', 'rejected', badRequest.message],
      ]);
      expect(await p.stats()).toMatchObject({ sent: 0, failed: 1, deadLetters: 1 });

      const outbox = new WebhookOutbox(store);
      const [letter] = (await outbox.deadLetters()).items;
      expect(letter).toMatchObject({
        uid: 'm',
        status: 'Failure',
        idempotency_key: 'm',
        num_trials: 1,
        description: badRequest.message,
      });
      transport.onSend = (call) => call.resolve();
      expect(await outbox.requeue(['m', 'unknown'])).toBe(1);
      await p.flush();
      expect(transport.calls.map((c) => [c.message.id, c.message.idempotencyKey])).toEqual([
        ['m', 'm'],
        ['m', 'm'],
      ]);
      expect((await outbox.deadLetters()).items).toEqual([]);
    });

    it('waits at least retryAfterMs before retrying, and caps it at maxRetryAfterMs', async () => {
      const p = setup({
        retry: { attempts: 3, strategy: 'exponential', delayMs: 1, maxDelayMs: 2, maxRetryAfterMs: 5_000 },
      });
      const retries = listen(PIPELINE_CHANNELS.retryScheduled);
      const tooMany = new ConvoyHttpError({ method: 'POST', path: '/events' }, 429, 'slow down', undefined, 200);
      let failedAt = 0;
      let retriedAt = 0;
      transport.onSend = (call) => {
        if (call.message.id === 'slow' && call.attempt === 1) {
          failedAt = performance.now();
          call.reject(tooMany);
        } else if (call.message.id === 'slow') {
          retriedAt = performance.now();
          call.resolve();
        } else if (call.attempt === 1) call.reject(Object.assign(new Error('busy'), { retryAfterMs: 3_600_000 }));
        else call.resolve();
      };
      await p.enqueue(message('slow'));
      await p.flush();
      expect(retries.events.map((r) => r.delayMs)).toEqual([200]); // the backoff alone would be 1-2 ms
      expect(retriedAt - failedAt).toBeGreaterThanOrEqual(190);

      await p.close();
      setup({ retry: { attempts: 3, strategy: 'exponential', delayMs: 1, maxDelayMs: 2, maxRetryAfterMs: 50 } });
      const capped = listen(PIPELINE_CHANNELS.retryScheduled);
      transport.onSend = (call) =>
        call.attempt === 1
          ? call.reject(Object.assign(new Error('busy'), { retryAfterMs: 3_600_000 }))
          : call.resolve();
      await pipeline.enqueue(message('capped'));
      await pipeline.flush();
      expect(capped.events.map((r) => r.delayMs)).toEqual([50]);
    });

    it('gives up once the attempts are spent and reports it on the failed channel', async () => {
      const p = setup({
        retry: { attempts: 3, strategy: 'exponential', delayMs: 1, maxDelayMs: 5, maxRetryAfterMs: 5_000 },
      });
      const failed = listen(PIPELINE_CHANNELS.failed);
      const retries = listen(PIPELINE_CHANNELS.retryScheduled);
      transport.onSend = (call) => call.reject(new Error('connect ECONNREFUSED 127.0.0.1:5005'));
      await p.enqueue(message('m'));
      await p.flush();
      expect(transport.calls.map((c) => c.attempt)).toEqual([1, 2, 3]);
      expect(retries.events.map((r) => r.delivery.num_trials)).toEqual([1, 2]);
      expect(failed.events.map((r) => [r.reason, r.error])).toEqual([
        ['exhausted', 'no success after 3 attempts: connect ECONNREFUSED 127.0.0.1:5005'],
      ]);
      expect(await p.stats()).toMatchObject({ sent: 0, failed: 1, deadLetters: 1 });
    });
  });

  describe('flush()', () => {
    it('resolves at once when nothing is held', async () => {
      await expect(setup().flush()).resolves.toBeUndefined();
    });

    it('resolves only when every hand-over is done, including one waiting to be retried', async () => {
      const p = setup({
        concurrency: 2,
        retry: { attempts: 3, strategy: 'linear', delayMs: 300, maxDelayMs: 300, maxRetryAfterMs: 5_000 },
      });
      for (const id of ['a', 'b', 'c']) await p.enqueue(message(id));
      const flushed = p.flush();
      await transport.started(2);
      transport.callOf('a').resolve();
      await transport.started(3); // 'c' took the freed slot
      transport.callOf('c').resolve();
      transport.callOf('b').reject(new Error('blip')); // while it waits for its retry, flush() must keep waiting
      await waitUntil('b waits for its retry', async () => (await store.getDelivery('b'))?.status === 'Retry');
      expect(await isPending(flushed)).toBe(true);
      await transport.started(4);
      expect(transport.calls[3]).toMatchObject({ message: { id: 'b' }, attempt: 2 });
      expect(await isPending(flushed)).toBe(true);
      transport.calls[3]!.resolve();
      await flushed;
      expect(await p.stats()).toMatchObject({ pending: 0, inFlight: 0, sent: 3, failed: 0 });
    });
  });

  describe('close()', () => {
    it('without storage keeps sending what it holds (retries included), accepts publishes meanwhile, then refuses new ones', async () => {
      const p = setup({
        concurrency: 1,
        drainTimeoutMs: 20_000,
        retry: { attempts: 3, strategy: 'linear', delayMs: 200, maxDelayMs: 200, maxRetryAfterMs: 5_000 },
      });
      transport.onSend = (call) => {
        if (call.message.id === 'backoff' && call.attempt === 1) call.reject(new Error('busy'));
        else if (call.message.id !== 'held') call.resolve();
        // 'held' stays in flight until the test lets it finish.
      };
      await p.enqueue(message('backoff'));
      await waitUntil(
        'backoff waits for its retry',
        async () => (await store.getDelivery('backoff'))?.status === 'Retry',
      );
      await p.enqueue(message('held'));
      await p.enqueue(message('queued'));
      await transport.started(2);

      const closed = p.close();
      expect(await isPending(closed)).toBe(true);
      await p.enqueue(message('late')); // still accepted while draining
      transport.callOf('held').resolve();
      await closed;

      expect(transport.calls.map((c) => `${c.message.id}#${c.attempt}`).sort()).toEqual([
        'backoff#1',
        'backoff#2',
        'held#1',
        'late#1',
        'queued#1',
      ]);
      expect(await p.stats()).toMatchObject({ pending: 0, inFlight: 0, sent: 4, failed: 0 });
      await expect(p.enqueue(message())).rejects.toBeInstanceOf(PublisherClosedError);
    });

    it('resolves at once when idle, and then refuses events', async () => {
      const p = setup();
      await p.close();
      const error = await p.enqueue(message()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PublisherClosedError);
      expect((error as Error).message).toMatch(/publisher is shut down/);
      expect(transport.calls).toEqual([]);
    });

    it('a second close() call waits for the same drain', async () => {
      const p = setup({ concurrency: 1 });
      await p.enqueue(message('m'));
      await transport.started(1);
      const first = p.close();
      const second = p.close();
      expect(await isPending(second)).toBe(true);
      transport.callOf('m').resolve();
      await Promise.all([first, second]);
      expect(await p.stats()).toMatchObject({ sent: 1, inFlight: 0 });
    });

    it('after drainTimeoutMs: resolves, aborts the attempts in flight, reports what was not sent, and rejects a publish waiting for room', async () => {
      const p = setup({ concurrency: 2, drainTimeoutMs: 300 }, { capacity: 3, whenFull: 'wait' });
      const failed = listen(PIPELINE_CHANNELS.failed);
      // Like a request to a server that never answers: it settles only when aborted.
      transport.onSend = (call) =>
        call.signal.addEventListener('abort', () => call.reject(call.signal.reason), { once: true });
      for (const id of ['a', 'b', 'c']) await p.enqueue(message(id));
      const waiting = p.enqueue(message('d'));
      expect(await isPending(waiting)).toBe(true);
      await transport.started(2);

      const startedAt = performance.now();
      await p.close();
      expect(performance.now() - startedAt).toBeGreaterThanOrEqual(280);
      await expect(waiting).rejects.toBeInstanceOf(PublisherClosedError);
      expect(transport.calls.map((call) => [call.message.id, call.signal.aborted])).toEqual([
        ['a', true],
        ['b', true],
      ]);
      expect(failed.events.map((r) => [r.delivery.uid, r.reason]).sort()).toEqual([
        ['a', 'abandoned'],
        ['b', 'abandoned'],
        ['c', 'abandoned'],
      ]);
      await expect(p.enqueue(message())).rejects.toBeInstanceOf(PublisherClosedError);
    });

    it('after drainTimeoutMs: does not hang on a transport that ignores the abort', async () => {
      const p = setup({ concurrency: 1, drainTimeoutMs: 200 });
      await p.enqueue(message('stuck')); // its send never settles on its own
      await p.enqueue(message('queued'));
      await transport.started(1);
      const startedAt = performance.now();
      const closed = p.close();
      await waitUntil('the drain time is up', () => performance.now() - startedAt >= 200);
      transport.callOf('stuck').reject(new Error('ignored the abort for a while'));
      await closed;
      expect(transport.callOf('stuck').signal.aborted).toBe(true);
      expect(transport.calls).toHaveLength(1);
    });
  });

  describe('the loop', () => {
    it('an idle pipeline looks at the store once per poll interval, not in a busy loop', async () => {
      const p = setup({ pollIntervalMs: 100 });
      const claims = countCalls('claim');
      transport.onSend = (call) => call.resolve();
      await p.enqueue(message());
      await p.flush();
      claims.count = 0;
      await new Promise((r) => setTimeout(r, 600));
      expect(claims.count).toBeGreaterThanOrEqual(3);
      expect(claims.count).toBeLessThanOrEqual(10);
    });

    it('with every slot taken, waits for an attempt to end instead of looking again and again', async () => {
      const p = setup({ concurrency: 2, pollIntervalMs: 1_000 });
      const looks = countCalls('claim', 'nextDueAt');
      for (let i = 0; i < 5; i++) await p.enqueue(message());
      await transport.started(2);
      looks.count = 0;
      await new Promise((r) => setTimeout(r, 500));
      expect(looks.count).toBeLessThanOrEqual(2);
    });

    it('events that come one at a time cost one look at the store each, not one more per finished attempt', async () => {
      const p = setup({ pollIntervalMs: 60_000 });
      const claims = countCalls('claim');
      transport.onSend = (call) => call.resolve();
      for (let i = 1; i <= 20; i++) {
        await p.enqueue(message());
        await waitUntil(`event ${i} was handed over`, () => transport.calls.length === i);
      }
      await p.flush();
      expect(claims.count).toBeGreaterThanOrEqual(20);
      expect(claims.count).toBeLessThanOrEqual(24); // flush() looks too
      expect(transport.calls).toHaveLength(20);
    });

    it('two pipelines on one store never hand over the same event', async () => {
      const p = setup({ concurrency: 4 }, { capacity: 1_000 });
      const other = new DeliveryPipeline(store, handOverRoute(transport), { ...defaults, concurrency: 4 });
      other.start();
      transport.onSend = (call) => setImmediate(() => call.resolve());
      try {
        for (let i = 0; i < 200; i++) await p.enqueue(message());
        await p.flush();
        expect(transport.calls).toHaveLength(200);
        expect(new Set(transport.ids()).size).toBe(200);
      } finally {
        await other.close();
      }
    });

    it('keeps the lease of a long attempt alive: another pipeline does not take it over', async () => {
      const p = setup({ leaseMs: 150, pollIntervalMs: 20 });
      const other = new DeliveryPipeline(store, handOverRoute(transport), {
        ...defaults,
        leaseMs: 150,
        pollIntervalMs: 20,
      });
      other.start();
      try {
        await p.enqueue(message('slow'));
        await transport.started(1);
        await new Promise((r) => setTimeout(r, 600)); // four leases long: renewed all along
        expect(transport.calls).toHaveLength(1);
        transport.callOf('slow').resolve();
        await p.flush();
        expect(await p.stats()).toMatchObject({ sent: 1 });
      } finally {
        await other.close();
      }
    });

    it('an outcome the store could not record is recorded once it can, and the event is not sent again', async () => {
      const p = setup();
      const settle = store.settle.bind(store);
      let failures = 2;
      store.settle = (s) =>
        failures-- > 0 ? Promise.reject(new Error('connection terminated unexpectedly')) : settle(s);
      transport.onSend = (call) => call.resolve();
      await p.enqueue(message('m'));
      await p.flush();
      expect(failures).toBeLessThan(0);
      expect(transport.calls).toHaveLength(1);
      expect(await p.stats()).toMatchObject({ sent: 1, pending: 0 });
    });

    /**
     * A pipeline over one endpoint ('e1') whose attempts wait until answered, with the clock and the periodic sweeps
     * faked (the loop's own timers and wake-ups stay real); the caller puts the real timers back.
     */
    function endpointThatWaits() {
      jest.useFakeTimers({
        doNotFake: [
          'hrtime',
          'nextTick',
          'performance',
          'queueMicrotask',
          'setImmediate',
          'setTimeout',
          'clearTimeout',
        ],
      });
      let answer: (() => void) | undefined;
      const route: DeliveryRoute = {
        name: 'endpoint',
        plan: (m, retryLimit) => ({ deliveries: [newDelivery(m, m.id, 'e1', retryLimit)] }),
        attempt: () => new Promise((resolve) => (answer = () => resolve({ outcome: 'success', latencyMs: 1 }))),
      };
      transport = new TestTransport();
      store = new InMemoryWebhookStore({ capacity: 100 });
      pipeline = new DeliveryPipeline(store, route, defaults);
      pipeline.start();
      return {
        slots: (pipeline as unknown as { perEndpoint: Map<string, { slowLane: boolean }> }).perEndpoint,
        started: () => answer !== undefined,
        answer: () => answer!(),
      };
    }

    it('an endpoint that was slow once keeps its slots while idle for SLOW_IDLE_FORGET_MS, then they are dropped (state stays bounded)', async () => {
      const { slots, started, answer } = endpointThatWaits();
      try {
        await pipeline.enqueue(message('slow-once'));
        await waitUntil('the attempt started', started);
        jest.advanceTimersByTime(SLOW_AFTER_MS + 250); // unanswered past SLOW_AFTER_MS: the sweep marks it slow
        expect(slots.get('e1')?.slowLane).toBe(true);
        answer();
        await pipeline.flush();
        jest.advanceTimersByTime(SLOW_IDLE_FORGET_MS - 500);
        expect(slots.has('e1')).toBe(true); // still known as slow for its next attempt
        jest.advanceTimersByTime(1_000);
        expect(slots.has('e1')).toBe(false);
      } finally {
        jest.useRealTimers();
      }
    });

    it('an attempt unanswered for SLOW_AFTER_MS is found slow within SLOW_SWEEP_MS more (how long a healthy endpoint may wait for its slot)', async () => {
      const { slots, started, answer } = endpointThatWaits();
      try {
        jest.advanceTimersByTime(SLOW_SWEEP_MS / 2); // the attempt starts between two sweeps
        await pipeline.enqueue(message('slow'));
        await waitUntil('the attempt started', started);
        jest.advanceTimersByTime(SLOW_AFTER_MS);
        expect(slots.get('e1')?.slowLane).toBe(false); // not yet unanswered for SLOW_AFTER_MS
        jest.advanceTimersByTime(SLOW_SWEEP_MS);
        expect(slots.get('e1')?.slowLane).toBe(true);
        answer();
        await pipeline.flush();
      } finally {
        jest.useRealTimers();
      }
    });

    it('with durable storage, outcomes that end within 25 ms of the first share one write; one of an ordering key is written within 5 ms', async () => {
      // Only the timers of the settle window are faked: wake-ups (setImmediate) and the clock stay real.
      jest.useFakeTimers({
        doNotFake: [
          'Date',
          'hrtime',
          'nextTick',
          'performance',
          'queueMicrotask',
          'setImmediate',
          'setInterval',
          'clearInterval',
        ],
      });
      try {
        transport = new TestTransport();
        store = Object.assign(new InMemoryWebhookStore({ capacity: 100 }), { volatile: false });
        const writes: string[][] = [];
        const settle = store.settle.bind(store);
        store.settle = (s) => (writes.push(s.map((x) => x.uid)), settle(s));
        pipeline = new DeliveryPipeline(store, handOverRoute(transport), { ...defaults, concurrency: 4 });
        pipeline.start();
        for (const m of [message('a'), message('b'), message('k', { orderingKey: 'key' })]) await pipeline.enqueue(m);
        const turns = async (n = 5) => {
          for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
        };
        while (transport.calls.length < 3) await turns(1);

        transport.callOf('a').resolve();
        await turns();
        jest.advanceTimersByTime(10);
        transport.callOf('b').resolve();
        await turns();
        jest.advanceTimersByTime(14);
        expect(writes).toEqual([]);
        jest.advanceTimersByTime(1);
        expect(writes).toEqual([['a', 'b']]);

        await turns();
        transport.callOf('k').resolve();
        await turns();
        jest.advanceTimersByTime(5);
        expect(writes).toEqual([['a', 'b'], ['k']]);
      } finally {
        jest.useRealTimers();
      }
    });

    describe('while the store is away (a database cut)', () => {
      const away = () => Promise.reject(new Error('Connection terminated unexpectedly'));

      it('a delivery claimed again here after its lease ran out, its outcome still unwritten, is not sent twice', async () => {
        const p = setup({ leaseMs: 150, pollIntervalMs: 20 });
        const [settle, renew] = [store.settle.bind(store), store.renew.bind(store)];
        let gone = true;
        store.settle = (s) => (gone ? away() : settle(s));
        store.renew = (...args) => (gone ? away() : renew(...args));
        transport.onSend = (call) => call.resolve();
        await p.enqueue(message('cut'));
        await transport.started(1);
        const first = (await store.getDelivery('cut'))!.lease_token;
        // The lease runs out (no renewal), and the pipeline's own claim takes the delivery again.
        await waitUntil('claimed again', async () => (await store.getDelivery('cut'))!.lease_token !== first);
        gone = false;
        await p.flush();
        expect(transport.ids()).toEqual(['cut']);
        expect(await p.stats()).toMatchObject({ sent: 1, pending: 0 });
      });

      it('an outcome refused while a claim of ours took the delivery again (its answer not back yet) is written under that claim, not sent twice', async () => {
        const p = setup({ leaseMs: 150, pollIntervalMs: 20 });
        const [claim, settle] = [store.claim.bind(store), store.settle.bind(store)];
        store.renew = () => away(); // the lease of the attempt in flight runs out
        // The claim that takes it again is committed in the store, but its answer waits for the test.
        const answer = deferred();
        let retaken = false;
        store.claim = async (...args) => {
          const claimed = await claim(...args);
          if (transport.calls.length > 0 && claimed.some((d) => d.uid === 'race')) {
            retaken = true;
            await answer.promise;
          }
          return claimed;
        };
        const settled: string[][] = [];
        store.settle = async (s) => {
          const done = await settle(s);
          settled.push(done);
          return done;
        };
        await p.enqueue(message('race'));
        await transport.started(1);
        await waitUntil('claimed again in the store', () => retaken);
        transport.onSend = (call) => call.resolve(); // a second attempt, if any, ends (and is counted)
        transport.callOf('race').resolve(); // its outcome is refused: the store holds it under the new claim
        await waitUntil('outcome refused once', () => settled.length > 0);
        expect(settled[0]).toEqual([]);
        answer.resolve();
        await p.flush();
        expect(transport.ids()).toEqual(['race']);
        expect(await p.stats()).toMatchObject({ sent: 1, pending: 0 });
      });

      it('an outcome that cannot be written is tried a bounded number of times, then its lease is left to run out', async () => {
        const p = setup({ leaseMs: 150, pollIntervalMs: 20 });
        let triesOfFirst = 0;
        const renewedAfterGivingUp: string[][] = [];
        const [settle, renew] = [store.settle.bind(store), store.renew.bind(store)];
        let broken = true;
        const first = () => transport.calls.length === 1;
        store.settle = (s) => (first() && triesOfFirst++, broken ? away() : settle(s));
        store.renew = (uids, ...rest) => {
          if (first() && triesOfFirst >= 10) renewedAfterGivingUp.push(uids);
          return renew(uids, ...rest);
        };
        transport.onSend = (call) => call.resolve();
        await p.enqueue(message('poison'));
        await transport.started(2); // given up, its lease ran out: claimed and attempted again
        expect(triesOfFirst).toBe(10);
        expect(renewedAfterGivingUp.filter((uids) => uids.includes('poison'))).toEqual([]);
        broken = false;
        await p.flush();
        expect(await p.stats()).toMatchObject({ sent: 1, pending: 0 });
      });

      it('with durable storage, no attempt starts on a lease the heartbeat could not renew', async () => {
        transport = new TestTransport();
        // The in-memory store, taken for a durable one: the pipeline then checks its leases before each attempt.
        store = Object.assign(new InMemoryWebhookStore({ capacity: 100 }), { volatile: false });
        pipeline = new DeliveryPipeline(store, handOverRoute(transport), {
          ...defaults,
          concurrency: 1,
          leaseMs: 150,
          pollIntervalMs: 20,
        });
        pipeline.start();
        await pipeline.enqueue(message('a'));
        await pipeline.enqueue(message('b'));
        await transport.started(1); // one slot: a is sent, b is held
        const [claim, renew, settle] = [store.claim.bind(store), store.renew.bind(store), store.settle.bind(store)];
        let gone = true;
        store.claim = (...args) => (gone ? away() : claim(...args));
        store.renew = (...args) => (gone ? away() : renew(...args));
        store.settle = (s) => (gone ? away() : settle(s));
        await new Promise((r) => setTimeout(r, 200)); // longer than the lease: nothing renewed it
        transport.onSend = (call) => call.resolve();
        transport.callOf(transport.ids()[0]!).resolve(); // the slot frees while the store is away
        await new Promise((r) => setTimeout(r, 200));
        expect(transport.calls).toHaveLength(1); // the held one was not attempted on its stale lease
        gone = false;
        await pipeline.flush();
        expect(transport.ids().sort()).toEqual(['a', 'b']);
      });
    });
  });
});

/** A weak reference to the delivery record the store holds (made here, so that no caller's frame keeps it). */
async function weakRefTo(store: InMemoryWebhookStore, uid: string): Promise<WeakRef<DeliveryRecord>> {
  return new WeakRef((await store.getDelivery(uid))!);
}

/** The collector, callable without --expose-gc. */
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

describe('InMemoryWebhookStore retention (maxEvents)', () => {
  const T0 = 1_700_000_000_000;
  const id = (n: number): string => `h_${String(n).padStart(5, '0')}`;
  const handOver = (n: number): DeliveryRecord => ({
    uid: id(n),
    event_id: id(n),
    endpoint_id: null,
    event_type: 't',
    idempotency_key: id(n),
    payload: '{}',
    custom_headers: {},
    target: { broadcast: true },
    ordering_key: null,
    status: 'Scheduled',
    description: '',
    num_trials: 0,
    retry_limit: 1,
    next_send_at: T0 + n,
    lease_token: null,
    latency_ms: null,
    created_at: T0 + n,
    updated_at: T0 + n,
  });

  /**
   * Stores `count` hand-overs (ids from `from` on); the first `failed` fail at once (kept as dead letters), the rest
   * stay unfinished.
   */
  async function fill(store: InMemoryWebhookStore, count: number, failed: number, from = 0): Promise<void> {
    for (let n = from; n < from + count; n++) {
      await store.enqueue([{ deliveries: [handOver(n)] }]);
      if (n >= from + failed) continue;
      const [claimed] = await store.claim(T0 + n, 1, 'w', T0 + 60_000);
      await store.settle([
        {
          uid: claimed!.uid,
          lease_token: 'w',
          status: 'Failure',
          description: 'no',
          num_trials: 1,
          next_send_at: T0,
          latency_ms: null,
        },
      ]);
    }
  }

  it('forgets the oldest finished events beyond maxEvents, and never an unfinished one however old', async () => {
    const store = new InMemoryWebhookStore({ maxEvents: 100, capacity: 1_000 });
    await fill(store, 600, 590); // the last 10 stay Scheduled
    expect(await store.getDelivery(id(0))).toBeUndefined();
    expect(await store.getDelivery(id(589))).toMatchObject({ status: 'Failure' });
    for (let n = 590; n < 600; n++) expect(await store.getDelivery(id(n))).toMatchObject({ status: 'Scheduled' });
    expect((await store.listDeliveries({}, { limit: 1000 })).items.length).toBeLessThan(200);
    expect((await store.stats(T0)).failedHandOvers).toBe(
      (await store.listDeliveries({ statuses: ['Failure'] }, { limit: 1000 })).items.length,
    );
  });

  it('lets an event it forgot be garbage-collected at once (its memory bound is maxEvents, not more)', async () => {
    const store = new InMemoryWebhookStore({ maxEvents: 100, capacity: 1_000 });
    await fill(store, 1, 1);
    const forgotten = await weakRefTo(store, id(0));
    await fill(store, 300, 300, 1); // id(0) finished first: it is forgotten among the first 200
    expect(await store.getDelivery(id(0))).toBeUndefined();
    // A WeakRef keeps its target until the end of the job that created or read it: collect in a later one.
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    expect(forgotten.deref()).toBeUndefined();
  });

  it('keeps an event that was resent while it is unfinished again, and forgets it once it finished', async () => {
    const store = new InMemoryWebhookStore({ maxEvents: 10, capacity: 1_000 });
    await fill(store, 1, 1); // id(0) failed: finished, first in line to be forgotten
    expect(await store.reschedule({ uids: [id(0)] }, ['Failure'], T0)).toEqual([id(0)]);
    await fill(store, 50, 0); // 50 more, all unfinished: the log is over its bound, nothing finished to forget
    expect(await store.getDelivery(id(0))).toMatchObject({ status: 'Scheduled' });
    const [claimed] = await store.claim(T0, 1, 'w2', T0 + 60_000);
    expect(claimed!.uid).toBe(id(0));
    const settled = { lease_token: 'w2', description: '', num_trials: 1, next_send_at: T0, latency_ms: 1 };
    await store.settle([{ uid: id(0), status: 'Success', ...settled }]);
    await store.enqueue([{ deliveries: [handOver(1_000)] }]);
    expect(await store.getDelivery(id(0))).toBeUndefined();
  });

  it('does not count a delivery planned as Discarded against its capacity (it is logged, never queued)', async () => {
    const store = new InMemoryWebhookStore({ capacity: 1, whenFull: 'reject' });
    for (let n = 0; n < 3; n++) await store.enqueue([{ deliveries: [{ ...handOver(n), status: 'Discarded' }] }]);
    expect((await store.stats(T0)).pending).toBe(0);
    expect(await store.claim(T0 + 10, 10, 'w', T0 + 60_000)).toEqual([]);
    await expect(store.enqueue([{ deliveries: [handOver(10)] }])).resolves.toEqual([true]);
    expect(await store.getDelivery(id(0))).toMatchObject({ status: 'Discarded' });
  });

  it.each([0, -1, 1.5, Number.NaN])('refuses maxEvents %p', (maxEvents) => {
    expect(() => new InMemoryWebhookStore({ maxEvents })).toThrow(/maxEvents must be a whole number >= 1/);
  });
});
