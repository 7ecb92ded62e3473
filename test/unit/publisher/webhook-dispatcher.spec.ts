import diagnostics from 'node:diagnostics_channel';
import { performance } from 'node:perf_hooks';
import { ConvoyHttpError, PublishBufferFullError, PublisherClosedError } from '../../../lib/errors/index.js';
import { DISPATCH_CHANNELS, WebhookDispatcher, type DispatcherSettings } from '../../../lib/publisher/webhook-dispatcher.js';
import type { OutgoingWebhook } from '../../../lib/publisher/webhook.types.js';
import type { TransportSendContext, WebhookTransport } from '../../../lib/transports/webhook-transport.interface.js';

interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
}

function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
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
  private startWaiters: Array<{ count: number; resolve: () => void }> = [];

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
      resolve: () => settle(() => outcome.resolve()),
      reject: (error) => settle(() => outcome.reject(error)),
    };
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    this.calls.push(call);
    this.onSend(call);
    this.startWaiters = this.startWaiters.filter((w) => (this.calls.length >= w.count ? (w.resolve(), false) : true));
    return outcome.promise;
  }

  /** Resolves once `count` sends (attempts) have started in total. */
  started(count: number): Promise<void> {
    if (this.calls.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.startWaiters.push({ count, resolve }));
  }

  pending(): SendCall[] {
    return this.calls.filter((c) => !c.settled);
  }

  callOf(message: OutgoingWebhook): SendCall {
    const call = this.calls.find((c) => c.message === message);
    if (!call) throw new Error(`${message.id} was never sent`);
    return call;
  }

  ids(): string[] {
    return this.calls.map((c) => c.message.id);
  }
}

interface SentReport { message: OutgoingWebhook; attempts: number }
interface RetryReport { message: OutgoingWebhook; attempts: number; delayMs: number; error: unknown }
interface FailedReport { message: OutgoingWebhook; attempts: number; error: unknown; reason: string }

/** Subscribes to one diagnostics channel, keeping only reports about this test's messages. */
class ChannelRecorder<T extends { message: OutgoingWebhook }> {
  readonly events: T[] = [];
  private waiters: Array<{ count: number; resolve: (events: T[]) => void }> = [];
  private readonly listener = (report: unknown): void => {
    if (!this.accept((report as T).message)) return;
    this.events.push(report as T);
    this.waiters = this.waiters.filter((w) => (this.events.length >= w.count ? (w.resolve(this.events), false) : true));
  };

  constructor(readonly name: string, private readonly accept: (message: OutgoingWebhook) => boolean) {
    diagnostics.subscribe(name, this.listener);
  }

  /** Resolves with all reports once `count` have arrived. */
  waitFor(count: number): Promise<T[]> {
    if (this.events.length >= count) return Promise.resolve(this.events);
    return new Promise((resolve) => this.waiters.push({ count, resolve }));
  }

  close(): void {
    diagnostics.unsubscribe(this.name, this.listener);
  }
}

/** Whether a promise is still unsettled once pending microtasks and I/O callbacks have run (one event-loop turn). */
async function isPending(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  promise.then(() => (settled = true), () => (settled = true));
  await new Promise((resolve) => setImmediate(resolve));
  return !settled;
}

const defaults: DispatcherSettings = {
  concurrency: 2,
  bufferSize: 100,
  whenFull: 'reject',
  maxAttempts: 3,
  baseDelayMs: 1,
  maxDelayMs: 5,
  maxRetryAfterMs: 5_000,
  drainTimeout: 10_000,
};

describe('WebhookDispatcher', () => {
  let transport: TestTransport;
  let dispatcher: WebhookDispatcher;
  let mine: Set<OutgoingWebhook>;
  let recorders: Array<ChannelRecorder<{ message: OutgoingWebhook }>>;
  let seq = 0;

  beforeEach(() => {
    mine = new Set();
    recorders = [];
  });
  afterEach(async () => {
    // Finish whatever a test left pending, so no send or timer leaks into the next test.
    transport.onSend = (call) => call.resolve();
    for (const call of transport.pending()) call.resolve();
    await dispatcher.close();
    for (const recorder of recorders) recorder.close();
  });

  function setup(overrides: Partial<DispatcherSettings> = {}): WebhookDispatcher {
    transport = new TestTransport();
    dispatcher = new WebhookDispatcher(transport, { ...defaults, ...overrides });
    return dispatcher;
  }

  function message(id = `m${++seq}`): OutgoingWebhook {
    const m: OutgoingWebhook = { id, eventType: 'todo.created', payload: `{"id":"${id}"}`, target: { broadcast: true }, idempotencyKey: id, headers: {}, createdAt: Date.now() };
    mine.add(m);
    return m;
  }

  function listen<T extends { message: OutgoingWebhook }>(name: string): ChannelRecorder<T> {
    const recorder = new ChannelRecorder<T>(name, (m) => mine.has(m));
    recorders.push(recorder as unknown as ChannelRecorder<{ message: OutgoingWebhook }>);
    return recorder;
  }

  describe('sending', () => {
    it('never sends more than `concurrency` events at once', async () => {
      const d = setup({ concurrency: 3 });
      const inFlightSeen: number[] = [];
      transport.onSend = () => inFlightSeen.push(d.stats().inFlight);
      for (let i = 0; i < 10; i++) await d.enqueue(message());
      // Nothing is sent inside enqueue(): sends start on a later turn, so the publisher's caller never waits for them.
      expect(transport.calls).toHaveLength(0);
      await transport.started(3);
      expect(transport.calls).toHaveLength(3);
      expect(d.stats()).toMatchObject({ inFlight: 3, queued: 7 });

      // From now on each send finishes on a later turn, so the dispatcher keeps the slots full.
      transport.onSend = (call) => {
        inFlightSeen.push(d.stats().inFlight);
        setImmediate(() => call.resolve());
      };
      for (const call of transport.pending().reverse()) call.resolve();
      await d.flush();

      expect(transport.calls).toHaveLength(10);
      expect(transport.maxActive).toBe(3);
      expect(Math.max(...inFlightSeen)).toBe(3);
      expect(d.stats()).toEqual({ queued: 0, inFlight: 0, retrying: 0, sent: 10, failed: 0 });
    });

    it('sends in FIFO order', async () => {
      const d = setup({ concurrency: 1 });
      transport.onSend = (call) => setImmediate(() => call.resolve());
      const ids = ['a', 'b', 'c', 'd', 'e', 'f'];
      for (const id of ids) await d.enqueue(message(id));
      await d.flush();
      expect(transport.ids()).toEqual(ids);
      expect(transport.calls.every((c) => c.attempt === 1)).toBe(true);
    });

    it('sends one event of an ordering key at a time, in publish order, even through retries; other keys in parallel', async () => {
      const d = setup({ concurrency: 4 });
      const keyed = (id: string, key: string): OutgoingWebhook => ({ ...message(id), orderingKey: key });
      for (const m of [keyed('a1', 'a'), keyed('a2', 'a'), keyed('b1', 'b'), keyed('a3', 'a')]) await d.enqueue(m);
      await transport.started(2);
      await new Promise((r) => setImmediate(r));
      // Only the heads of the two keys are out; a2 and a3 wait behind a1 although slots are free.
      expect(transport.ids()).toEqual(['a1', 'b1']);
      expect(d.stats()).toMatchObject({ inFlight: 2, queued: 2 });
      transport.calls[0]!.reject(new Error('blip')); // a1 fails once: a2 keeps waiting through the retry
      await transport.started(3);
      expect(transport.calls[2]).toMatchObject({ attempt: 2 });
      expect(transport.calls[2]!.message.id).toBe('a1');
      transport.onSend = (call) => call.resolve();
      transport.calls[2]!.resolve();
      transport.calls[1]!.resolve();
      await d.flush();
      expect(transport.ids()).toEqual(['a1', 'b1', 'a1', 'a2', 'a3']);
      expect(d.stats()).toMatchObject({ sent: 4, failed: 0 });
    });

    it("whenFull 'reject': throws PublishBufferFullError once bufferSize events are held, and accepts again after one finishes", async () => {
      const d = setup({ concurrency: 1, bufferSize: 3, whenFull: 'reject' });
      const [a, b, c] = [message('a'), message('b'), message('c')];
      for (const m of [a, b, c]) await d.enqueue(m);
      await transport.started(1);
      expect(d.stats()).toMatchObject({ inFlight: 1, queued: 2 });

      const error = await d.enqueue(message('refused')).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PublishBufferFullError);
      expect(error).toMatchObject({ retryable: true, capacity: 3 });
      expect((error as Error).message).toMatch(/3 events are already waiting to be sent \(dispatcher\.bufferSize\)/);
      expect(d.stats()).toMatchObject({ inFlight: 1, queued: 2 });

      // One send finishes (the next one starting proves its slot was released): room for exactly one more.
      transport.callOf(a).resolve();
      await transport.started(2);
      await d.enqueue(message('e'));
      await expect(d.enqueue(message('refused too'))).rejects.toBeInstanceOf(PublishBufferFullError);

      transport.onSend = (call) => call.resolve();
      transport.callOf(b).resolve();
      await d.flush();
      expect(transport.ids()).toEqual(['a', 'b', 'c', 'e']);
      expect(d.stats()).toMatchObject({ sent: 4, failed: 0 });
    });

    it("whenFull 'wait': enqueue waits until a slot frees, in order, and nothing is lost", async () => {
      const d = setup({ concurrency: 1, bufferSize: 2, whenFull: 'wait' });
      const heldSeen: number[] = [];
      const record = (): void => {
        const s = d.stats();
        heldSeen.push(s.queued + s.inFlight + s.retrying);
      };
      transport.onSend = record;
      const a = message('a');
      await d.enqueue(a);
      await d.enqueue(message('b'));
      const third = d.enqueue(message('c'));
      const fourth = d.enqueue(message('d'));
      expect(await isPending(third)).toBe(true);
      expect(await isPending(fourth)).toBe(true);
      expect(d.stats()).toMatchObject({ inFlight: 1, queued: 1 });

      // 'a' finishes: its slot goes to the first waiter only.
      transport.callOf(a).resolve();
      await third;
      expect(await isPending(fourth)).toBe(true);
      expect(d.stats()).toMatchObject({ inFlight: 1, queued: 1 });

      transport.onSend = (call) => {
        record();
        setImmediate(() => call.resolve());
      };
      for (const call of transport.pending()) call.resolve();
      await fourth;
      await d.flush();
      expect(transport.ids()).toEqual(['a', 'b', 'c', 'd']);
      expect(Math.max(...heldSeen)).toBeLessThanOrEqual(2);
      expect(d.stats()).toEqual({ queued: 0, inFlight: 0, retrying: 0, sent: 4, failed: 0 });
    });
  });

  describe('retries', () => {
    it('retries retryable errors with growing backoff until success, reporting on the retry-scheduled and sent channels', async () => {
      const d = setup({ maxAttempts: 5, baseDelayMs: 10, maxDelayMs: 1_000 });
      const retries = listen<RetryReport>(DISPATCH_CHANNELS.retryScheduled);
      const sent = listen<SentReport>(DISPATCH_CHANNELS.sent);
      const reset = new Error('socket hang up'); // no `retryable` flag: retried
      const unavailable = Object.assign(new Error('503 Service Unavailable'), { retryable: true });
      transport.onSend = (call) => (call.attempt === 1 ? call.reject(reset) : call.attempt === 2 ? call.reject(unavailable) : call.resolve());

      const m = message();
      await d.enqueue(m);
      await d.flush();

      expect(transport.calls.map((c) => c.attempt)).toEqual([1, 2, 3]);
      expect(transport.calls.every((c) => c.message === m)).toBe(true);
      expect(d.stats()).toEqual({ queued: 0, inFlight: 0, retrying: 0, sent: 1, failed: 0 });
      expect(retries.events.map((r) => [r.message, r.attempts, r.error])).toEqual([[m, 1, reset], [m, 2, unavailable]]);
      // Equal jitter: retry n waits between half and all of baseDelayMs * 2^(n-1).
      const [first, second] = retries.events.map((r) => r.delayMs);
      expect(first).toBeGreaterThanOrEqual(5);
      expect(first).toBeLessThanOrEqual(10);
      expect(second).toBeGreaterThanOrEqual(10);
      expect(second).toBeLessThanOrEqual(20);
      expect(sent.events).toEqual([{ message: m, attempts: 3 }]);
    });

    it('does not retry an error with retryable: false, and counts it as failed', async () => {
      const d = setup({ maxAttempts: 5 });
      const failed = listen<FailedReport>(DISPATCH_CHANNELS.failed);
      const retries = listen<RetryReport>(DISPATCH_CHANNELS.retryScheduled);
      const badRequest = new ConvoyHttpError({ method: 'POST', path: '/api/v1/projects/p/events' }, 400, 'invalid event type', undefined);
      expect(badRequest.retryable).toBe(false);
      transport.onSend = (call) => call.reject(badRequest);

      const m = message();
      await d.enqueue(m);
      await d.flush();

      expect(transport.calls).toHaveLength(1);
      expect(retries.events).toEqual([]);
      expect(d.stats()).toEqual({ queued: 0, inFlight: 0, retrying: 0, sent: 0, failed: 1 });
      expect(failed.events).toEqual([{ message: m, attempts: 1, error: badRequest, reason: 'not retryable' }]);
    });

    it('waits at least retryAfterMs before retrying', async () => {
      const d = setup({ baseDelayMs: 1, maxDelayMs: 2, maxRetryAfterMs: 5_000 });
      const retries = listen<RetryReport>(DISPATCH_CHANNELS.retryScheduled);
      const tooMany = new ConvoyHttpError({ method: 'POST', path: '/events' }, 429, 'slow down', undefined, 200);
      let failedAt = 0;
      let retriedAt = 0;
      transport.onSend = (call) => {
        if (call.attempt === 1) {
          // Fail on a fresh event-loop turn, so the clock reading below matches the dispatcher's timer start.
          setImmediate(() => {
            failedAt = performance.now();
            call.reject(tooMany);
          });
        } else {
          retriedAt = performance.now();
          call.resolve();
        }
      };
      await d.enqueue(message());
      await d.flush();

      expect(transport.calls.map((c) => c.attempt)).toEqual([1, 2]);
      expect(retries.events.map((r) => r.delayMs)).toEqual([200]); // the backoff alone would be 1-2 ms
      expect(retriedAt - failedAt).toBeGreaterThanOrEqual(190);
    });

    it('caps a requested wait at maxRetryAfterMs', async () => {
      const d = setup({ maxRetryAfterMs: 50 });
      const retries = listen<RetryReport>(DISPATCH_CHANNELS.retryScheduled);
      transport.onSend = (call) => (call.attempt === 1 ? call.reject(Object.assign(new Error('busy'), { retryAfterMs: 3_600_000 })) : call.resolve());
      await d.enqueue(message());
      await d.flush();
      expect(retries.events.map((r) => r.delayMs)).toEqual([50]);
      expect(d.stats()).toMatchObject({ sent: 1, failed: 0 });
    });

    it('gives up after maxAttempts and reports {message, attempts, error, reason} on the failed channel', async () => {
      const d = setup({ maxAttempts: 3 });
      const failed = listen<FailedReport>(DISPATCH_CHANNELS.failed);
      const retries = listen<RetryReport>(DISPATCH_CHANNELS.retryScheduled);
      const sent = listen<SentReport>(DISPATCH_CHANNELS.sent);
      const refused = new Error('connect ECONNREFUSED 127.0.0.1:5005');
      transport.onSend = (call) => call.reject(refused);

      const m = message();
      await d.enqueue(m);
      await d.flush();

      expect(transport.calls.map((c) => c.attempt)).toEqual([1, 2, 3]);
      expect(retries.events.map((r) => r.attempts)).toEqual([1, 2]);
      expect(sent.events).toEqual([]);
      expect(failed.events).toEqual([{ message: m, attempts: 3, error: refused, reason: 'gave up after 3 attempts' }]);
      expect(d.stats()).toEqual({ queued: 0, inFlight: 0, retrying: 0, sent: 0, failed: 1 });
    });
  });

  describe('flush()', () => {
    it('resolves at once when nothing is held', async () => {
      const d = setup();
      await expect(d.flush()).resolves.toBeUndefined();
    });

    it('resolves only when every held event is done, including one waiting to be retried', async () => {
      const d = setup({ concurrency: 2 });
      const retries = listen<RetryReport>(DISPATCH_CHANNELS.retryScheduled);
      const [a, b, c] = [message('a'), message('b'), message('c')];
      for (const m of [a, b, c]) await d.enqueue(m);
      const flushed = d.flush();
      await transport.started(2);

      transport.callOf(a).resolve();
      await transport.started(3); // 'c' took the freed slot
      transport.callOf(c).resolve();
      expect(await isPending(flushed)).toBe(true);

      // 'b' fails once: while it waits for its retry, flush() must keep waiting.
      transport.callOf(b).reject(new Error('blip'));
      await retries.waitFor(1);
      expect(d.stats()).toMatchObject({ retrying: 1, inFlight: 0, queued: 0, sent: 2 });
      expect(await isPending(flushed)).toBe(true);

      await transport.started(4);
      expect(transport.calls[3]).toMatchObject({ message: b, attempt: 2 });
      expect(await isPending(flushed)).toBe(true);
      transport.calls[3]!.resolve();
      await flushed;
      expect(d.stats()).toEqual({ queued: 0, inFlight: 0, retrying: 0, sent: 3, failed: 0 });
    });
  });

  describe('close()', () => {
    it('drains buffered events and those in retry backoff, accepts events published meanwhile, then refuses new ones', async () => {
      const d = setup({ concurrency: 1, maxRetryAfterMs: 120_000, drainTimeout: 20_000 });
      const retries = listen<RetryReport>(DISPATCH_CHANNELS.retryScheduled);
      const failed = listen<FailedReport>(DISPATCH_CHANNELS.failed);
      const [backoff, held, queued, late] = [message('backoff'), message('held'), message('queued'), message('late')];
      transport.onSend = (call) => {
        if (call.message === backoff && call.attempt === 1) call.reject(Object.assign(new Error('busy'), { retryAfterMs: 60_000 }));
        else if (call.message !== held) call.resolve();
        // 'held' stays in flight until the test lets it finish.
      };

      await d.enqueue(backoff);
      await retries.waitFor(1);
      expect(retries.events[0]!.delayMs).toBe(60_000);
      await d.enqueue(held);
      await d.enqueue(queued);
      await transport.started(2);
      expect(d.stats()).toMatchObject({ retrying: 1, inFlight: 1, queued: 1 });

      const closed = d.close();
      expect(await isPending(closed)).toBe(true);
      // The 60 s backoff was cut short: the retry is queued behind 'queued' instead of waiting on its timer.
      expect(d.stats()).toMatchObject({ retrying: 0, inFlight: 1, queued: 2 });
      await d.enqueue(late); // still accepted while draining
      expect(await isPending(closed)).toBe(true);

      transport.callOf(held).resolve();
      await closed;

      expect(transport.calls.map((c) => `${c.message.id}#${c.attempt}`)).toEqual(['backoff#1', 'held#1', 'queued#1', 'backoff#2', 'late#1']);
      expect(d.stats()).toEqual({ queued: 0, inFlight: 0, retrying: 0, sent: 4, failed: 0 });
      expect(failed.events).toEqual([]);
      await expect(d.enqueue(message())).rejects.toBeInstanceOf(PublisherClosedError);
    });

    it('resolves at once when idle, and then refuses events whatever whenFull says', async () => {
      const d = setup({ whenFull: 'wait' });
      await d.close();
      const error = await d.enqueue(message()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PublisherClosedError);
      expect((error as Error).message).toMatch(/publisher is shut down/);
      expect(transport.calls).toEqual([]);
    });

    it('a second close() call waits for the same drain', async () => {
      const d = setup({ concurrency: 1 });
      const m = message();
      await d.enqueue(m);
      const first = d.close();
      const second = d.close();
      expect(await isPending(second)).toBe(true);
      transport.callOf(m).resolve();
      await Promise.all([first, second]);
      expect(d.stats()).toMatchObject({ sent: 1, inFlight: 0 });
    });

    it('after drainTimeout: resolves, aborts in-flight sends, reports the abandoned events, and rejects a waiting enqueue', async () => {
      const d = setup({ concurrency: 2, bufferSize: 3, whenFull: 'wait', drainTimeout: 300 });
      const failed = listen<FailedReport>(DISPATCH_CHANNELS.failed);
      // Like a request to a server that never answers: it settles only when aborted.
      transport.onSend = (call) => call.signal.addEventListener('abort', () => call.reject(call.signal.reason), { once: true });
      const [a, b, c] = [message('a'), message('b'), message('c')];
      for (const m of [a, b, c]) await d.enqueue(m);
      const waiting = d.enqueue(message('d'));
      expect(await isPending(waiting)).toBe(true);
      expect(d.stats()).toMatchObject({ inFlight: 2, queued: 1 });

      const startedAt = performance.now();
      await d.close();
      expect(performance.now() - startedAt).toBeGreaterThanOrEqual(280);

      await expect(waiting).rejects.toBeInstanceOf(PublisherClosedError);
      expect(transport.calls.map((call) => [call.message, call.signal.aborted])).toEqual([[a, true], [b, true]]);
      const reports = await failed.waitFor(3);
      expect(reports).toHaveLength(3);
      expect(reports.map((r) => r.reason)).toEqual(['shutdown deadline passed', 'shutdown deadline passed', 'shutdown deadline passed']);
      expect(new Set(reports.map((r) => r.message))).toEqual(new Set([a, b, c]));
      expect(reports.find((r) => r.message === c)!.attempts).toBe(0); // never started
      expect(reports.find((r) => r.message === a)!.attempts).toBe(1);
      await d.flush(); // nothing is held any more
      expect(d.stats()).toEqual({ queued: 0, inFlight: 0, retrying: 0, sent: 0, failed: 3 });
      await expect(d.enqueue(message())).rejects.toBeInstanceOf(PublisherClosedError);
    });

    it('after drainTimeout: does not hang on a transport that ignores the abort', async () => {
      const d = setup({ concurrency: 1, drainTimeout: 200 });
      const failed = listen<FailedReport>(DISPATCH_CHANNELS.failed);
      const [stuck, queued] = [message('stuck'), message('queued')];
      await d.enqueue(stuck); // its send never settles on its own
      await d.enqueue(queued);

      const startedAt = performance.now();
      await d.close();
      expect(performance.now() - startedAt).toBeGreaterThanOrEqual(180);
      expect(transport.callOf(stuck).signal.aborted).toBe(true);
      expect(transport.calls).toHaveLength(1);
      const [report] = await failed.waitFor(1);
      expect(report).toMatchObject({ message: queued, attempts: 0, reason: 'shutdown deadline passed' });
    });
  });
});
