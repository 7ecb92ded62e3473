import { Logger } from '@nestjs/common';
import { setMaxListeners } from 'node:events';
import { PublishBufferFullError, PublisherClosedError } from '../errors/publish.errors.js';
import { isRetryableError, retryDelayAfter, type WebhookTransport } from '../transports/webhook-transport.interface.js';
import type { PublisherStats, PublishSink } from './publish-sink.js';
import { describeTarget, type OutgoingWebhook } from './webhook.types.js';
import { openChannels } from '../utils/channels.js';

/** How the in-process dispatcher buffers, sends and retries. */
export interface DispatcherSettings {
  /** Events sent at the same time. */
  concurrency: number;
  /** Events held at most (waiting, in flight or between retries). */
  bufferSize: number;
  /** When the buffer is full: 'wait' makes publish() wait for room (backpressure); 'reject' throws PublishBufferFullError. */
  whenFull: 'wait' | 'reject';
  /** Attempts per event before it is given up (logged and reported on the `nestjs-convoy:failed` channel). */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Cap of a transport-requested wait (Retry-After). */
  maxRetryAfterMs: number;
  /** At shutdown, how long to keep sending what is buffered before giving up on it. */
  drainTimeout: number;
}

/** Diagnostics channels (node:diagnostics_channel) the dispatcher reports on; subscribe for metrics or alerts. */
export const DISPATCH_CHANNELS = {
  sent: 'nestjs-convoy:sent',
  retryScheduled: 'nestjs-convoy:retry-scheduled',
  failed: 'nestjs-convoy:failed',
} as const;

const channels = openChannels(DISPATCH_CHANNELS);

interface Entry {
  message: OutgoingWebhook;
  /** Attempts made so far. */
  attempts: number;
}

export interface DispatcherStats {
  /** Waiting for a free sending slot. */
  queued: number;
  inFlight: number;
  /** Waiting for their next attempt after a failure. */
  retrying: number;
  sent: number;
  failed: number;
}

/**
 * Sends published events in the background, so a request never waits for Convoy: a bounded FIFO buffer,
 * bounded concurrency, retries with backoff that honour Retry-After, and a drain on shutdown.
 * Events live in memory only; a durable outbox can replace what sits behind publish() without changing it.
 */
export class WebhookDispatcher implements PublishSink {
  readonly durable = false;
  private readonly logger = new Logger('WebhookDispatcher');
  /** Being sent right now (at most `concurrency`). */
  private readonly sending = new Set<Entry>();
  /** Ordering key → its later events, waiting while an earlier one of the key is in flight or retrying. */
  private readonly keyQueues = new Map<string, Entry[]>();
  private readonly queue: Entry[] = [];
  private queueHead = 0;
  private readonly retryTimers = new Map<NodeJS.Timeout, Entry>();
  private readonly spaceWaiters: Array<{ resolve: () => void; reject: (error: Error) => void }> = [];
  private idleWaiters: Array<() => void> = [];
  /** One signal for every send: aborted only when the drain deadline passes, and then for all of them. */
  private readonly shutdown = new AbortController();
  /** Accepted and not yet finished (queued, in flight or between retries). */
  private held = 0;
  private sent = 0;
  private failed = 0;
  private state: 'open' | 'draining' | 'closed' = 'open';
  private drainDeadline = Infinity;
  private closing: Promise<void> | undefined;
  private pumpScheduled = false;

  constructor(
    private readonly transport: WebhookTransport,
    private readonly settings: DispatcherSettings,
  ) {
    // Every send may listen on this one signal (the Convoy client does): allow one listener per concurrent send.
    setMaxListeners(settings.concurrency + 10, this.shutdown.signal);
  }

  /** Accepts an event for sending; resolves once it is in the buffer (at once, unless the buffer is full and whenFull is 'wait'). */
  async enqueue(message: OutgoingWebhook): Promise<void> {
    if (this.state === 'closed') throw new PublisherClosedError();
    if (this.held >= this.settings.bufferSize) {
      if (this.settings.whenFull === 'reject') throw new PublishBufferFullError(this.settings.bufferSize);
      // The slot is handed over by release(), so `held` is already counted for us when this resolves.
      await new Promise<void>((resolve, reject) => this.spaceWaiters.push({ resolve, reject }));
    } else {
      this.held++;
    }
    const entry: Entry = { message, attempts: 0 };
    const key = message.orderingKey;
    if (key !== undefined) {
      // One event of a key at a time, in publish order: later ones wait until the earlier one is finished.
      const waiting = this.keyQueues.get(key);
      if (waiting) return void waiting.push(entry);
      this.keyQueues.set(key, []);
    }
    this.queue.push(entry);
    this.schedulePump();
  }

  /** Resolves when everything accepted so far has been sent or given up. */
  flush(): Promise<void> {
    if (this.held === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  stats(): DispatcherStats {
    let waitingOnKey = 0;
    for (const waiting of this.keyQueues.values()) waitingOnKey += waiting.length;
    return {
      queued: this.queue.length - this.queueHead + waitingOnKey,
      inFlight: this.sending.size,
      retrying: this.retryTimers.size,
      sent: this.sent,
      failed: this.failed,
    };
  }

  async publisherStats(): Promise<PublisherStats> {
    const { queued, inFlight, retrying, sent, failed } = this.stats();
    const oldest = this.oldestCreatedAt();
    return { durable: false, pending: queued + retrying, inFlight, lagMs: oldest === Infinity ? 0 : Math.max(0, Date.now() - oldest), sent, failed, deadLetters: 0 };
  }

  /**
   * When the oldest held event was published. A scan of what is held (for stats, which are rare), rather than an
   * index updated on every event: a Set of every held event cost GC time under bursts (npm run bench).
   */
  private oldestCreatedAt(): number {
    let oldest = Infinity;
    const consider = (entry: Entry | undefined) => {
      if (entry && entry.message.createdAt < oldest) oldest = entry.message.createdAt;
    };
    for (let i = this.queueHead; i < this.queue.length; i++) consider(this.queue[i]);
    for (const entry of this.sending) consider(entry);
    for (const entry of this.retryTimers.values()) consider(entry);
    for (const waiting of this.keyQueues.values()) waiting.forEach(consider);
    return oldest;
  }

  /**
   * Shutdown: keeps sending what is buffered (events published meanwhile are still accepted) until the buffer
   * is empty or `drainTimeout` has passed; then refuses new events and reports whatever could not be sent.
   * Every call resolves when that one drain is over.
   */
  close(): Promise<void> {
    return (this.closing ??= this.drain());
  }

  private async drain(): Promise<void> {
    this.state = 'draining';
    this.drainDeadline = Date.now() + this.settings.drainTimeout;
    // Retries waiting on a long backoff get their turn now; later ones are scheduled within the deadline.
    for (const [timer, entry] of this.retryTimers) {
      clearTimeout(timer);
      this.retryTimers.delete(timer);
      this.queue.push(entry);
    }
    this.pump();
    let deadlineTimer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      this.flush().then(() => false),
      new Promise<boolean>((resolve) => (deadlineTimer = setTimeout(() => resolve(true), this.settings.drainTimeout))),
    ]);
    clearTimeout(deadlineTimer);
    this.state = 'closed';
    if (timedOut) this.abandonAll();
  }

  /** Starts sends after the publisher's caller has moved on, so the request path never pays for opening a request. */
  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    while (this.sending.size < this.settings.concurrency && this.queueHead < this.queue.length) {
      const entry = this.queue[this.queueHead]!;
      this.queue[this.queueHead++] = undefined as unknown as Entry;
      if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
        this.queue.splice(0, this.queueHead);
        this.queueHead = 0;
      }
      void this.attempt(entry);
    }
  }

  private async attempt(entry: Entry): Promise<void> {
    const { signal } = this.shutdown;
    this.sending.add(entry);
    entry.attempts++;
    try {
      await this.transport.send(entry.message, { attempt: entry.attempts, signal });
      this.sent++;
      if (channels.sent.hasSubscribers) channels.sent.publish({ message: entry.message, attempts: entry.attempts });
      this.finish(entry);
    } catch (error) {
      this.handleFailure(entry, error, signal.aborted);
    } finally {
      this.sending.delete(entry);
      this.pump();
    }
  }

  private handleFailure(entry: Entry, error: unknown, aborted: boolean): void {
    const { message } = entry;
    const reason = error instanceof Error ? error.message : String(error);
    const canRetry = !aborted && this.state !== 'closed' && isRetryableError(error) && entry.attempts < this.settings.maxAttempts;
    if (!canRetry) {
      this.fail(entry, error, aborted ? 'shutdown deadline passed' : isRetryableError(error) ? `gave up after ${entry.attempts} attempts` : 'not retryable');
      return;
    }
    let delay = retryDelayAfter(error, entry.attempts, this.settings);
    if (this.state === 'draining') delay = Math.max(0, Math.min(delay, this.drainDeadline - Date.now() - 50));
    this.logger.warn(`${message.eventType} [id ${message.id}] attempt ${entry.attempts} via ${this.transport.name} failed, retrying in ${delay} ms: ${reason}`);
    if (channels.retryScheduled.hasSubscribers) channels.retryScheduled.publish({ message, attempts: entry.attempts, delayMs: delay, error });
    const timer = setTimeout(() => {
      this.retryTimers.delete(timer);
      this.queue.push(entry);
      this.pump();
    }, delay);
    this.retryTimers.set(timer, entry);
  }

  private fail(entry: Entry, error: unknown, why: string): void {
    const { message } = entry;
    const reason = error instanceof Error ? error.message : String(error);
    this.failed++;
    this.logger.error(`${message.eventType} [id ${message.id}, key ${message.idempotencyKey}] to ${describeTarget(message.target)} was NOT sent (${why}): ${reason}`);
    if (channels.failed.hasSubscribers) channels.failed.publish({ message, attempts: entry.attempts, error, reason: why });
    this.finish(entry);
  }

  /** An event is done (sent or given up): the next of its ordering key may go, and its slot is freed. */
  private finish(entry: Entry): void {
    const key = entry.message.orderingKey;
    if (key !== undefined) {
      const next = this.keyQueues.get(key)?.shift();
      if (next) {
        this.queue.push(next);
        this.schedulePump();
      } else {
        this.keyQueues.delete(key);
      }
    }
    this.release();
  }

  /** Frees one slot: hands it to a waiting publisher, or wakes flush() when nothing is left. */
  private release(): void {
    const waiter = this.spaceWaiters.shift();
    if (waiter) return waiter.resolve();
    this.held--;
    if (this.held === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const wake of waiters) wake();
    }
  }

  /** After the drain deadline: everything still held is reported as not sent. */
  private abandonAll(): void {
    for (const waiter of this.spaceWaiters.splice(0)) waiter.reject(new PublisherClosedError());
    for (const [timer, entry] of this.retryTimers) {
      clearTimeout(timer);
      this.retryTimers.delete(timer);
      this.fail(entry, new Error('the application shut down'), 'shutdown deadline passed');
    }
    // An abandoned event's finish() moves the next of its key into the queue, so this loop reaches those too.
    while (this.queueHead < this.queue.length) {
      const entry = this.queue[this.queueHead]!;
      this.queue[this.queueHead++] = undefined as unknown as Entry;
      this.fail(entry, new Error('the application shut down'), 'shutdown deadline passed');
    }
    this.shutdown.abort(new Error('the application shut down'));
  }
}
