import { Logger } from '@nestjs/common';
import { uuidv7 } from '../utils/uuid.js';
import { setMaxListeners } from 'node:events';
import { StorageUnavailableError } from '../errors/outbox.errors.js';
import { PublisherClosedError } from '../errors/publish.errors.js';
import type { WebhookDeliveries } from '../management/webhook-deliveries.js';
import type { WebhookEndpoints } from '../management/webhook-endpoints.js';
import type { OutgoingWebhook } from '../publishing/webhook.types.js';
import type { SqlQueryable } from '../storage/sql/sql.js';
import { backoffDelay, retryDelay, type BackoffPolicy } from '../utils/backoff.js';
import type { RetryPolicy } from '../options/option-tables.js';
import { openChannels } from '../utils/channels.js';
import { WorkLoop } from '../utils/work-loop.js';
import { WebhookTelemetry } from '../telemetry/webhook-telemetry.js';
import type { AttemptRecord, DeliveryRecord, Settlement } from '../storage/records.js';
import { LogRetention, type RetentionSettings } from './log-retention.js';
import type { Enqueued, WebhookStore } from '../storage/webhook-store.js';

/** What one attempt came to. */
export type AttemptResult =
  | { outcome: 'success'; attempt?: AttemptRecord; latencyMs?: number }
  /** Worth trying again (a network error, a 5xx); `retryAfterMs` when the other side asked for a pause. */
  | { outcome: 'retry'; error: string; retryAfterMs?: number; attempt?: AttemptRecord; latencyMs?: number }
  /** Failed for good: trying again would not change it (a 4xx from Convoy, a blocked destination). */
  | { outcome: 'failure'; error: string; attempt?: AttemptRecord; latencyMs?: number }
  /** Not attempted now (endpoint paused, busy, rate-limited): due again at `until`, no attempt counted. */
  | { outcome: 'postpone'; until: number }
  /** Not attempted, and never will be (its endpoint was deleted or disabled). */
  | { outcome: 'discard'; reason: string };

export type FailureReason = 'exhausted' | 'rejected';

/**
 * How a transport takes part in the pipeline: what a published event becomes when it is stored, and one attempt at
 * one delivery. Convoy and your own transports hand each event over as a whole (one delivery, see handOverRoute);
 * the embedded engine fans out to its endpoints and attempts each itself.
 */
export interface DeliveryRoute {
  readonly name: string;
  plan(message: OutgoingWebhook, retryLimit: number): Enqueued | Promise<Enqueued>;
  attempt(delivery: DeliveryRecord, signal: AbortSignal): Promise<AttemptResult>;
  /** A delivery failed for good: e.g. disable its endpoint. */
  failed?(delivery: DeliveryRecord, reason: FailureReason): Promise<void>;
  /** Given the pipeline's wake-up, for work the route makes due itself (a resend). */
  attach?(wake: () => void): void;
  /** The endpoints and delivery log it keeps, if any. */
  readonly endpoints?: WebhookEndpoints;
  readonly deliveries?: WebhookDeliveries;
  /** As WebhookTransport.checkTargetUrl: refuses at publish time a `{ url }` target it would never deliver to. */
  checkTargetUrl?(url: string): void;
  /** Shutdown, after the pipeline drained. */
  close?(): Promise<void>;
}

/** How the pipeline moves deliveries from the store to the wire. */
export interface PipelineSettings {
  /** Attempts in flight at once. */
  concurrency: number;
  /** Attempts in flight at once to one endpoint (the embedded engine). */
  endpointConcurrency: number;
  /**
   * Attempts to endpoints that did not answer within SLOW_AFTER_MS, at most (the embedded engine). They leave their
   * `concurrency` slots to others; an endpoint with one of them waits for room here before it starts another.
   */
  maxSlowAttempts: number;
  /** Deliveries claimed at most per look; claimed ones wait here until a slot is free. */
  batchSize: number;
  /** How long a claim holds; renewed while the delivery is here, so only a dead process's claims run out. */
  leaseMs: number;
  /** How often to look for due deliveries when nothing wakes the pipeline (other instances' work). */
  pollIntervalMs: number;
  /** Shutdown: how long to wait for attempts in flight (and, without storage, for the work held in memory). */
  drainTimeoutMs: number;
  retry: RetryPolicy;
  /** With a durable store: what its log keeps (false: everything). */
  retention?: RetentionSettings | false;
  /** False: store what is published and deliver nothing (other instances sharing the store deliver). */
  worker?: boolean;
}

/** What the publisher reports for health checks. */
export interface PublisherStats {
  /** True with durable storage; false in memory (a crash loses what is pending). */
  durable: boolean;
  /** Waiting for an attempt, retries included. */
  pending: number;
  /** Being attempted right now (here or in another instance). */
  inFlight: number;
  /** Age of the oldest delivery not yet finished, ms: how far behind the pipeline is. */
  lagMs: number;
  /** Delivered (or handed over) by this process since it started. */
  sent: number;
  /** Failed for good in this process since it started. */
  failed: number;
  /** Hand-overs that failed for good and wait for a requeue (all instances). */
  deadLetters: number;
}

/** Diagnostics channels of the pipeline (node:diagnostics_channel), for metrics and alerts. */
export const PIPELINE_CHANNELS = {
  /** `{ delivery, attempt? }`: delivered to its endpoint, or accepted by the transport. */
  delivered: 'nestjs-convoy:delivered',
  /** `{ delivery, error, delayMs, attempt? }` */
  retryScheduled: 'nestjs-convoy:retry-scheduled',
  /** `{ delivery, error, reason: 'exhausted' | 'rejected' | 'discarded' | 'abandoned', attempt? }` (abandoned: in memory at shutdown) */
  failed: 'nestjs-convoy:failed',
  /** `{ delivery }`: another worker took it over after its lease ran out; it may be sent twice (same idempotency key). */
  leaseLost: 'nestjs-convoy:lease-lost',
} as const;

const channels = openChannels(PIPELINE_CHANNELS);

/** Most events written, or outcomes settled, in one write. */
const MAX_GROUP = 500;
/** How long outcomes gather before they are written together (durable stores: one commit for all of them). */
const SETTLE_WINDOW_MS = 25;
/** The same when an outcome is of an ordering key: the key's next delivery can only be claimed once it is written. */
const KEYED_SETTLE_WINDOW_MS = 5;
/** After a publish inside a caller's transaction, look again this soon: the commit usually follows within ms. */
const AFTER_TRANSACTION_MS = 100;
/** An endpoint at its concurrency limit: its delivery is put back, due again this soon. */
const BUSY_RECHECK_MS = 100;
/**
 * A settle that failed (the database is away) is tried again with backoff, at most a heartbeat apart, its lease
 * renewed meanwhile; after this many tries while its lease still held (the store answers the heartbeat, not this
 * write) it is given up, so that its lease runs out and the delivery is attempted again (a lease is not held forever
 * for an outcome that cannot be written).
 */
const SETTLE_TRIES = 10;
/**
 * An endpoint attempt unanswered after this long counts as slow: receivers are expected to answer within a second or
 * two, and an endpoint that hangs for its whole http_timeout must not hold a slot that healthy endpoints need.
 */
export const SLOW_AFTER_MS = 1_000;
/** How often running attempts are looked for slow ones: how long past SLOW_AFTER_MS a healthy endpoint may wait. */
export const SLOW_SWEEP_MS = 100;
/** How long an idle endpoint stays known as slow: after that its slots are dropped (dynamic targets come and go). */
export const SLOW_IDLE_FORGET_MS = 60_000;

/** An endpoint's share of the pipeline: its attempts in flight, whether it is slow, and the signal that stops them. */
interface EndpointSlots {
  inFlight: number;
  /** An attempt of it went unanswered for SLOW_AFTER_MS: its next ones start as slow, until one is answered in time. */
  slowLane: boolean;
  /** Aborted when its slow attempts are cut short (no room for them) or at shutdown; replaced after a cut. */
  abort: AbortController;
  /** When its last attempt in flight ended (epoch ms). */
  idleSince: number;
}

interface Pending<T> {
  value: T;
  resolve: (stored: boolean) => void;
  reject: (error: unknown) => void;
}

/**
 * The one delivery pipeline, from publish() to the wire. publish() stores an event's deliveries (in the caller's
 * transaction when given one; concurrent publishes share one write, a group commit); the worker claims due
 * deliveries under leases, attempts them through the route (Convoy's API, your transport, or the embedded engine's
 * signed HTTP POST) with bounded concurrency (overall and per endpoint), writes each outcome under its lease (again
 * grouped), retries failures on the retry policy (honouring Retry-After), and keeps its leases alive while it works.
 * Several instances may share one database: claims skip locked rows, and a worker that lost a lease can change nothing.
 * The same loop runs over the in-memory store without storage.
 */
export class DeliveryPipeline {
  private readonly logger: Logger;
  private readonly shutdown = new AbortController();
  private readonly loop = new WorkLoop(
    () => this.tick(),
    (error) => {
      this.logger.error(`Could not claim deliveries: ${(error as Error).message}`);
      return this.settings.pollIntervalMs;
    },
  );
  /** Claimed, not started yet. */
  private readonly held: DeliveryRecord[] = [];
  /** Being attempted, with when each started (epoch ms). */
  private readonly running = new Map<DeliveryRecord, number>();
  /** The running endpoint attempts that count as slow (not against `concurrency`, see maxSlowAttempts). */
  private readonly slow = new Set<DeliveryRecord>();
  /** Attempted, outcome not written yet. */
  private readonly settling = new Set<DeliveryRecord>();
  /**
   * Everything claimed here and not yet settled (held, running, settling), by uid: the lease token it is held under.
   * A claim that returns one of them again (its lease ran out while the database was away) only renews it here.
   */
  private readonly leases = new Map<string, string>();
  /** Until when each lease token is known to hold: its claim or last renewal (when it was sent), plus leaseMs. */
  private readonly leaseEnds = new Map<string, number>();
  private renewing = false;
  /**
   * Tokens of claims that failed, kept for two leases: the database may have committed one and lost its answer, so
   * that it holds deliveries whose outcome waits here (see underLostClaims). Later, those are claimed again.
   */
  private readonly lostClaims = new Map<string, number>();
  /**
   * A claim is under way: it may be taking deliveries whose lease ran out while their outcome waited here, so an
   * outcome the store refuses meanwhile waits for its answer (see writeSettlements) before it counts as taken over.
   */
  private claiming = false;
  private readonly claimWaiters: Array<() => void> = [];
  /**
   * The last look may have left due deliveries unclaimed (no room for them, or it did not look): an attempt that ends
   * looks again. Not after a look that took all that was due: new work wakes the loop itself (publish, a retry, the
   * timer for the next due delivery), and a look per finished attempt would double the looks when events come one
   * at a time.
   */
  private dueLeft = true;
  private readonly settleBackoff: BackoffPolicy;
  private readonly perEndpoint = new Map<string, EndpointSlots>();
  /** publish() calls not yet stored. */
  private accepting = 0;
  private readonly toWrite: Array<Pending<Enqueued>> = [];
  /** Group writes in flight (at most the store's concurrentWrites). */
  private writers = 0;
  /** A group write is to start once this turn of the event loop has queued its publishes. */
  private writeScheduled = false;
  private readonly toSettle: Array<{
    delivery: DeliveryRecord;
    settlement: Settlement;
    result: AttemptResult;
    at: number;
  }> = [];
  /** In memory: the queued outcomes are to be written at the next turn of the event loop. */
  private settleScheduled = false;
  /** Durable: the timer that writes the queued outcomes, and when it is due (epoch ms). */
  private settleTimer: NodeJS.Timeout | undefined;
  private settleDue = 0;
  private readonly settleWrites = new Set<Promise<void>>();
  private heartbeat: NodeJS.Timeout | undefined;
  private slowSweep: NodeJS.Timeout | undefined;
  private readonly retention: LogRetention | undefined;
  private sent = 0;
  private failed = 0;
  private closing: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly store: WebhookStore,
    private readonly route: DeliveryRoute,
    private readonly settings: PipelineSettings,
    private readonly telemetry: WebhookTelemetry = WebhookTelemetry.off,
  ) {
    this.logger = new Logger(`DeliveryPipeline:${route.name}`);
    this.settleBackoff = { baseDelayMs: 100, maxDelayMs: settings.leaseMs / 3 };
    route.attach?.(() => this.loop.wake(0));
    // Every attempt may listen on this one signal: allow one listener per attempt in flight.
    setMaxListeners(settings.concurrency + 10, this.shutdown.signal);
    if (settings.retention && !store.volatile)
      this.retention = new LogRetention(store, settings.retention, this.logger);
  }

  get durable(): boolean {
    return !this.store.volatile;
  }

  /**
   * Stores the event's deliveries; resolves once they are stored (committed, with durable storage). Starts the
   * pipeline if the application did not (a testing module compiled but never initialised still delivers).
   */
  enqueue(message: OutgoingWebhook): Promise<void> {
    if (this.closed) return Promise.reject(new PublisherClosedError());
    if (!this.loop.active) this.start();
    let planned: Enqueued | Promise<Enqueued>;
    try {
      planned = this.route.plan(message, this.settings.retry.attempts);
    } catch (error) {
      return Promise.reject(error);
    }
    if (planned instanceof Promise || !this.store.volatile) return this.enqueuePlanned(planned);
    // A hand-over without storage (every publish() of an app with a transport and no storage): no async function,
    // only the store's promise and one then().
    this.accepting++; // counted at once, so that a flush() called right after publish() waits for this event
    let stored: Promise<boolean[]>;
    try {
      stored = this.store.enqueue([planned]);
    } catch (error) {
      this.accepting--;
      return Promise.reject(error);
    }
    return stored.then(this.enqueuedInMemory, this.notEnqueuedInMemory);
  }

  private readonly enqueuedInMemory = (): void => {
    this.accepting--;
    this.loop.wake(0);
  };

  private readonly notEnqueuedInMemory = (error: unknown): never => {
    this.accepting--;
    throw error;
  };

  private async enqueuePlanned(planned: Enqueued | Promise<Enqueued>): Promise<void> {
    this.accepting++; // counted at once, so that a flush() called right after publish() waits for this event
    try {
      const item = planned instanceof Promise ? await planned : planned;
      if (this.store.volatile) {
        // Nothing to commit: no group write, and the store's own bound (capacity) applies backpressure here.
        await this.store.enqueue([item]);
        this.loop.wake(0);
        return;
      }
      await new Promise<boolean>((resolve, reject) => {
        this.toWrite.push({ value: item, resolve, reject });
        this.startWrite();
      });
    } finally {
      this.accepting--;
    }
  }

  /** Stores the event's deliveries in the caller's open transaction; they are attempted after the commit. */
  async enqueueInTransaction(message: OutgoingWebhook, tx: SqlQueryable): Promise<void> {
    if (this.closed) throw new PublisherClosedError();
    await this.store.enqueue([await this.route.plan(message, this.settings.retry.attempts)], tx);
    this.loop.wake(AFTER_TRANSACTION_MS);
  }

  start(): void {
    if (this.loop.active || this.closed || this.settings.worker === false) return;
    this.loop.start();
    this.heartbeat = setInterval(() => void this.renewLeases(), Math.max(50, Math.floor(this.settings.leaseMs / 3)));
    this.heartbeat.unref();
    this.slowSweep = setInterval(() => this.findSlowAttempts(), SLOW_SWEEP_MS);
    this.slowSweep.unref();
    this.retention?.start();
  }

  /**
   * Resolves when nothing is left to do now: every hand-over finished (sent, or failed after its retries), and no
   * attempt in flight or due (with `worker: false`, when every event published here is stored). An endpoint
   * delivery of the embedded engine waiting for a later retry, a paused endpoint or a free slot does not hold it up
   * (publish() stored it: the delivery log shows it).
   */
  async flush(): Promise<void> {
    // An instance that does not deliver is done once what it accepted is stored (enqueue resolved).
    while (!this.closed && this.settings.worker === false && this.accepting > 0)
      await new Promise((resolve) => setTimeout(resolve, 10));
    while (!this.closed && this.settings.worker !== false) {
      if (this.running.size === 0 && this.settling.size === 0 && this.held.length === 0 && this.accepting === 0) {
        const now = Date.now();
        const [stats, next] = await Promise.all([this.store.stats(now), this.store.nextDueAt()]);
        // Due within BUSY_RECHECK_MS counts as due: a delivery put back for a free endpoint slot is not done.
        if (
          stats.inFlight === 0 &&
          stats.pendingHandOvers === 0 &&
          (next === undefined || next > now + BUSY_RECHECK_MS)
        )
          return;
      }
      this.loop.wake(0);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  async stats(): Promise<PublisherStats> {
    const stats = await this.store.stats(Date.now());
    return {
      durable: this.durable,
      pending: stats.pending,
      inFlight: stats.inFlight,
      lagMs: stats.lagMs,
      sent: this.sent,
      failed: this.failed,
      deadLetters: stats.failedHandOvers,
    };
  }

  /**
   * Shutdown, once. Without storage, first keeps working until nothing is left to do now (see flush()) or the drain
   * time is up, since the rest would be lost. Then stops claiming, hands back what it claimed but did not start,
   * waits for the attempts in flight (within the drain time, then aborts them) and writes their outcomes. With
   * storage, whatever is pending stays stored for the next start or another instance.
   */
  close(): Promise<void> {
    this.closing ??= this.drain();
    return this.closing;
  }

  private async drain(): Promise<void> {
    const deadline = Date.now() + this.settings.drainTimeoutMs;
    const timeLeft = (): Promise<void> =>
      new Promise((resolve) => setTimeout(resolve, Math.max(0, deadline - Date.now())).unref());
    if (this.store.volatile) await Promise.race([this.flush(), timeLeft()]);
    this.closed = true;
    // A claim under way adds to what is held: wait for it (within the drain time), so that it is handed back too.
    await Promise.race([this.loop.stop(), timeLeft()]);
    const pruning = this.retention?.close();
    const handedBack = this.held.length;
    for (const delivery of this.held.splice(0)) this.putBack(delivery, Date.now());
    const attempts = (): Promise<unknown> =>
      Promise.all([...this.running.keys()].map((d) => new Promise<void>((resolve) => this.whenSettled(d, resolve))));
    await Promise.race([attempts(), timeLeft()]);
    const reason = new Error('the application shut down');
    this.shutdown.abort(reason);
    for (const slots of this.perEndpoint.values()) slots.abort.abort(reason);
    await attempts();
    await this.flushSettlements();
    clearInterval(this.heartbeat);
    clearInterval(this.slowSweep);
    await pruning;
    await this.report(handedBack);
    if (this.store.volatile) await this.store.close(); // refuses publishes still waiting for room
  }

  /** One line on what shutdown leaves: in memory, what was not sent is lost, and each such hand-over is reported. */
  private async report(handedBack: number): Promise<void> {
    const { pending, inFlight } = await this.store.stats(Date.now()).catch(() => ({ pending: 0, inFlight: 0 }));
    const left = pending + inFlight;
    if (!this.store.volatile) {
      this.logger.log(
        `Shut down: ${this.sent} delivered here, ${handedBack} claimed and handed back unsent, ${left} pending stay stored for the next start`,
      );
      return;
    }
    if (left === 0) return void this.logger.log(`Shut down: ${this.sent} delivered, nothing left in memory`);
    const { items } = await this.store.listDeliveries(
      { statuses: ['Scheduled', 'Retry', 'Processing'] },
      { limit: 100_000 },
    );
    this.logger.error(
      `Shut down with ${left} deliveries held in memory NOT sent (no storage): ${this.sent} were delivered`,
    );
    for (const delivery of items) {
      if (delivery.endpoint_id === null)
        this.logger.error(`${delivery.event_type} [id ${delivery.uid}] was NOT sent: the application shut down`);
      if (channels.failed.hasSubscribers)
        channels.failed.publish({ delivery, error: 'the application shut down', reason: 'abandoned' });
    }
  }

  /**
   * A write starts at once when none is in flight. Beside writes in flight, another starts only after this turn of
   * the event loop: the callers whose write just committed publish again within it, and one write takes them all
   * instead of one write each (fewer commits per event, larger groups).
   */
  private startWrite(): void {
    if (this.writers === 0) return void this.writeBatches();
    if (this.writeScheduled || this.writers >= (this.store.concurrentWrites ?? 1)) return;
    this.writeScheduled = true;
    setImmediate(() => {
      this.writeScheduled = false;
      // A write that was in flight may have taken them meanwhile; one at its limit takes them when it is done.
      if (this.toWrite.length > 0 && this.writers < (this.store.concurrentWrites ?? 1)) void this.writeBatches();
    });
  }

  /**
   * Group commit: one writer takes every publish waiting and stores them in one write (one statement, one commit),
   * then the next group, which gathered while it wrote. Each publish resolves once its write committed; a write that
   * fails rejects each of its publishes with StorageUnavailableError (none of them was stored).
   */
  private async writeBatches(): Promise<void> {
    this.writers++;
    try {
      while (this.toWrite.length > 0) {
        const batch = this.toWrite.splice(0, MAX_GROUP);
        const items: Enqueued[] = [];
        for (const entry of batch) items.push(entry.value);
        try {
          const stored = await this.store.enqueue(items);
          for (let i = 0; i < batch.length; i++) batch[i]!.resolve(stored[i]!);
          this.loop.wake(0);
        } catch (error) {
          const failure =
            error instanceof StorageUnavailableError ? error : new StorageUnavailableError('enqueue', error);
          for (const entry of batch) entry.reject(failure);
        }
      }
    } finally {
      this.writers--;
    }
  }

  /** One round: claims what the free slots can take (at most batchSize held), starts attempts; returns when to look again. */
  private async tick(): Promise<number> {
    const poll = this.settings.pollIntervalMs;
    this.dueLeft = true;
    // Nothing to claim for now: the attempt that ends first wakes the loop (looking now would find work due and spin).
    if (this.satisfied()) return poll;
    // A durable store claims a batch ahead (a round trip per delivery would cost a commit each); memory takes what
    // fits (a claimed delivery counts as in flight).
    const room = this.store.volatile
      ? this.settings.concurrency - this.busySlots - this.held.length
      : this.settings.batchSize - this.held.length;
    if (room <= 0) return poll;
    const now = Date.now();
    // A flat string (randomUUID() builds one of 16 pieces): tokens are Map keys here, and a claim is made per event
    // when events come one at a time.
    const token = uuidv7();
    this.claiming = true;
    let claimed: DeliveryRecord[];
    try {
      try {
        claimed = await this.store.claim(now, room, token, now + this.settings.leaseMs);
      } catch (error) {
        this.lostClaims.set(token, now + 2 * this.settings.leaseMs);
        throw error;
      }
      if (claimed.length > 0) this.leaseEnds.set(token, now + this.settings.leaseMs);
      const traced = claimed.length > 0 && this.telemetry.tracing;
      for (const delivery of claimed) {
        // Here already: its lease ran out while its attempt or outcome was under way. Keep that one, under the new
        // lease, instead of attempting the delivery a second time.
        const reclaimed = this.leases.has(delivery.uid);
        this.leases.set(delivery.uid, token);
        if (reclaimed) continue;
        this.held.push(delivery);
        if (traced) this.telemetry.claimed(delivery, now, this.route.name);
      }
    } finally {
      this.claiming = false;
      for (const resolve of this.claimWaiters.splice(0)) resolve();
    }
    this.dueLeft = claimed.length === room; // before the attempts start: the end of one reads it
    this.pump();
    // There may be more due right now, unless every slot is taken.
    if (claimed.length === room) return this.satisfied() ? poll : 0;
    // It took all that was due: what falls due later wakes the loop itself (a publish, a retry's or an ordering key's
    // wake-up), or is found by the poll (another instance's work).
    if (claimed.length > 0) return poll;
    const next = await this.store.nextDueAt();
    const delay = next === undefined ? poll : next - Date.now();
    if (delay > 0) return Math.min(poll, delay);
    // Due but not claimed: behind its ordering key's head, or another instance's. A finished attempt wakes the loop.
    this.dueLeft = true;
    return poll;
  }

  /** The `concurrency` slots taken: attempts in flight that do not count as slow. */
  private get busySlots(): number {
    return this.running.size - this.slow.size;
  }

  /**
   * Starts attempts from the held deliveries, up to `concurrency` (and endpointConcurrency per endpoint). A slow
   * endpoint's next attempt starts as slow, when there is room for one, so that it never takes back the slots the
   * others use.
   */
  private pump(): void {
    // With durable storage, a lease that may end before the attempt does is not used: the heartbeat could not renew
    // it (the database is away), and once it ends another instance may take the delivery over and send it too.
    const leaseNeeded = this.store.volatile ? -Infinity : Date.now() + this.settings.leaseMs / 2;
    while (!this.closed && this.busySlots < this.settings.concurrency && this.held.length > 0) {
      const delivery = this.held.shift()!;
      if ((this.leaseEnds.get(this.leases.get(delivery.uid)!) ?? 0) < leaseNeeded) {
        this.leases.delete(delivery.uid); // not attempted: due again when its lease has ended
        this.telemetry.claimEnded(delivery, undefined);
        continue;
      }
      const endpoint = delivery.endpoint_id;
      if (endpoint === null) {
        this.running.set(delivery, Date.now());
        void this.run(delivery, this.shutdown.signal, undefined);
        continue;
      }
      const slots = this.slotsOf(endpoint);
      if (
        slots.inFlight >= this.settings.endpointConcurrency ||
        (slots.slowLane && this.slow.size >= this.settings.maxSlowAttempts)
      ) {
        // A slow endpoint's waiting deliveries are looked at less often: its slots free up at its pace, not ours.
        this.putBack(delivery, Date.now() + (slots.slowLane ? SLOW_AFTER_MS : BUSY_RECHECK_MS));
        continue;
      }
      slots.inFlight++;
      if (slots.slowLane) this.slow.add(delivery);
      this.running.set(delivery, Date.now());
      void this.run(delivery, slots.abort.signal, slots);
    }
  }

  private slotsOf(endpoint: string): EndpointSlots {
    let slots = this.perEndpoint.get(endpoint);
    if (!slots)
      this.perEndpoint.set(
        endpoint,
        (slots = { inFlight: 0, slowLane: false, abort: new AbortController(), idleSince: 0 }),
      );
    return slots;
  }

  private async run(delivery: DeliveryRecord, signal: AbortSignal, slots: EndpointSlots | undefined): Promise<void> {
    const startedAt = this.running.get(delivery)!;
    this.telemetry.attemptStarted(delivery, startedAt);
    let result: AttemptResult;
    try {
      result = await this.telemetry.withinClaim(delivery, this.route, signal);
    } catch (error) {
      result = {
        outcome: 'retry',
        error: `attempt failed unexpectedly: ${(error as Error)?.message ?? String(error)}`,
      };
    }
    this.telemetry.attempted(delivery, result, startedAt);
    this.running.delete(delivery);
    if (slots) {
      if (--slots.inFlight === 0) slots.idleSince = Date.now();
      this.slow.delete(delivery);
      // Answered in time: the endpoint is not slow (a postponed delivery was not attempted, so it says nothing).
      if (result.outcome !== 'postpone' && Date.now() - startedAt < SLOW_AFTER_MS) slots.slowLane = false;
    }
    this.settle(delivery, result);
    this.pump();
    if (this.dueLeft && !this.satisfied()) this.loop.wake(0);
  }

  /**
   * The global cap on attempts waiting on slow endpoints: endpoint attempts unanswered after SLOW_AFTER_MS leave the
   * `concurrency` slots, up to maxSlowAttempts of them. Past that, the endpoint's attempts are cut short (a failed
   * attempt, retried later), so slow endpoints never hold every slot and a healthy endpoint always gets one.
   */
  private findSlowAttempts(): void {
    // Endpoints come and go (dynamic targets): an idle one that is not slow has nothing worth keeping, and a slow one
    // is forgotten once it has been idle for SLOW_IDLE_FORGET_MS. Dropped here rather than when the last attempt
    // ends, so that a busy endpoint keeps its slots (and abort controller).
    const now = Date.now();
    for (const [endpoint, slots] of this.perEndpoint)
      if (slots.inFlight === 0 && (!slots.slowLane || now - slots.idleSince >= SLOW_IDLE_FORGET_MS))
        this.perEndpoint.delete(endpoint);
    const since = now - SLOW_AFTER_MS;
    let moved = false;
    let cut: Set<EndpointSlots> | undefined;
    // `running` is in the order attempts started: past the first young one, all are young.
    for (const [delivery, startedAt] of this.running) {
      if (startedAt > since) break;
      if (delivery.endpoint_id === null || this.slow.has(delivery)) continue;
      const slots = this.perEndpoint.get(delivery.endpoint_id)!;
      slots.slowLane = true;
      if (this.slow.size < this.settings.maxSlowAttempts) {
        this.slow.add(delivery);
        moved = true;
      } else if (!cut?.has(slots)) {
        slots.abort.abort(
          new Error(
            `cut short: ${this.settings.maxSlowAttempts} attempts already wait on endpoints that did not answer within ${SLOW_AFTER_MS} ms (delivery.maxSlowAttempts)`,
          ),
        );
        slots.abort = new AbortController();
        (cut ??= new Set()).add(slots);
      }
    }
    if (moved) {
      this.pump();
      this.loop.wake(0);
    }
  }

  /**
   * Every slot is taken and enough are held for the next attempts: no claim now. A durable store refills when fewer
   * than half a round are held (claims come in batches); memory claims a slot's worth when one frees.
   */
  private satisfied(): boolean {
    const { concurrency, batchSize } = this.settings;
    const lowWater = this.store.volatile ? 0 : Math.max(1, Math.min(concurrency >> 1, batchSize));
    return this.held.length >= lowWater && this.busySlots + this.held.length >= concurrency;
  }

  /** Back to the queue without an attempt. */
  private putBack(delivery: DeliveryRecord, at: number): void {
    this.settle(delivery, { outcome: 'postpone', until: at });
  }

  /** Turns a result into the delivery's next state, and queues it for the next group write of outcomes. */
  private settle(delivery: DeliveryRecord, result: AttemptResult): void {
    this.telemetry.claimEnded(delivery, result);
    this.settling.add(delivery);
    const at = Date.now();
    this.toSettle.push({ delivery, settlement: this.settlementOf(delivery, result, at), result, at });
    if (this.store.volatile) {
      if (this.settleScheduled) return;
      this.settleScheduled = true;
      setImmediate(this.writeQueuedSettlements);
      return;
    }
    const wait = delivery.ordering_key === null ? SETTLE_WINDOW_MS : KEYED_SETTLE_WINDOW_MS;
    if (this.settleTimer && this.settleDue <= at + wait) return;
    clearTimeout(this.settleTimer);
    this.settleDue = at + wait;
    this.settleTimer = setTimeout(this.writeQueuedSettlements, wait);
  }

  /** One object of one shape whatever the outcome (it is made for every attempt). */
  private settlementOf(d: DeliveryRecord, r: AttemptResult, now: number): Settlement {
    let status: Settlement['status'];
    let description: string;
    let trials = d.num_trials + 1;
    let next = now;
    switch (r.outcome) {
      case 'postpone':
        status = d.num_trials > 0 ? 'Retry' : 'Scheduled';
        description = d.description;
        trials = d.num_trials;
        next = r.until;
        break;
      case 'discard':
        status = 'Discarded';
        description = r.reason;
        trials = d.num_trials;
        break;
      case 'success':
        status = 'Success';
        description = '';
        break;
      case 'failure':
        status = 'Failure';
        description = r.error;
        break;
      case 'retry':
        if (trials >= d.retry_limit) {
          status = 'Failure';
          description = `no success after ${trials} attempts: ${r.error}`;
        } else {
          status = 'Retry';
          description = r.error;
          next = now + retryDelay(this.settings.retry, trials, r.retryAfterMs);
        }
    }
    const attempted = r.outcome === 'success' || r.outcome === 'failure' || r.outcome === 'retry';
    return {
      uid: d.uid,
      lease_token: this.leases.get(d.uid) ?? d.lease_token!,
      status,
      description,
      num_trials: trials,
      next_send_at: next,
      latency_ms: attempted ? (r.latencyMs ?? null) : d.latency_ms,
      attempt: attempted ? r.attempt : undefined,
      forget: status === 'Success' && d.endpoint_id === null,
    };
  }

  /**
   * Writes the queued outcomes in groups. A write that fails (the database is away) is tried again with backoff,
   * leases renewed meanwhile, up to SETTLE_TRIES times (at shutdown, until the attempts were aborted).
   */
  private flushSettlements(): Promise<void> {
    this.writeQueuedSettlements();
    return Promise.all([...this.settleWrites]).then(() => undefined);
  }

  /**
   * Starts writing the queued outcomes (see flushSettlements()). What the timers call: nobody waits for the writes
   * there, so no promise of them all is made (without storage, this runs once or twice per event).
   */
  private readonly writeQueuedSettlements = (): void => {
    this.settleScheduled = false;
    clearTimeout(this.settleTimer);
    this.settleTimer = undefined;
    const write = (async () => {
      while (this.toSettle.length > 0) {
        const batch = this.toSettle.splice(0, MAX_GROUP);
        const written = await this.writeSettlements(batch);
        if (written === undefined) {
          for (const { delivery } of batch) this.release(delivery);
          continue;
        }
        // Usually all of them: look each up only when some lease was lost.
        const done = written.length === batch.length ? undefined : new Set(written);
        for (const { delivery, settlement, result, at } of batch)
          this.settled(delivery, settlement, result, at, done === undefined || done.has(settlement.uid));
      }
    })();
    this.settleWrites.add(write);
    void write.finally(() => this.settleWrites.delete(write));
  };

  /** The uids written, or undefined when the write was given up. */
  private async writeSettlements(batch: typeof this.toSettle): Promise<string[] | undefined> {
    let pending = batch;
    let written: string[] = [];
    let counted = 0;
    for (let tries = 1; ; tries++) {
      // Under the lease each holds now: a delivery claimed again while its outcome waited has a new one.
      for (const { delivery, settlement } of pending) settlement.lease_token = this.leases.get(delivery.uid)!;
      try {
        const done = await this.store.settle(pending.map((entry) => entry.settlement));
        if (done.length === pending.length) return pending === batch ? done : written.concat(done);
        // Not written: claimed here again while the write ran (write it again, under the new lease), or another
        // worker's now.
        const doneNow = new Set(done);
        written = written.concat(done);
        const notWritten = pending.filter((e) => !doneNow.has(e.settlement.uid));
        // Our own claim under way may have taken them: wait for its answer, or they would be attempted again.
        if (this.claiming && notWritten.some((e) => this.leases.get(e.delivery.uid) === e.settlement.lease_token))
          await new Promise<void>((resolve) => this.claimWaiters.push(resolve));
        pending = notWritten.filter((e) => this.leases.get(e.delivery.uid) !== e.settlement.lease_token);
        if (this.lostClaims.size > 0 && pending.length < notWritten.length)
          written = written.concat(await this.underLostClaims(notWritten.filter((e) => !pending.includes(e))));
        if (pending.length === 0) return written;
      } catch (error) {
        const message = (error as Error).message;
        // Only tries while the heartbeat still renews the lease count: then the store answers, but not to this write.
        // While it is away, giving up would only get the delivery sent again once it is back.
        const now = Date.now();
        if (pending.some((e) => (this.leaseEnds.get(e.settlement.lease_token) ?? 0) > now)) counted++;
        if (counted >= SETTLE_TRIES || (this.closed && this.shutdown.signal.aborted)) {
          this.logger.error(
            `Could not record the outcome of ${batch.length} deliveries after ${tries} tries, giving up: their leases run out and they are attempted again (same idempotency key): ${message}`,
          );
          return undefined;
        }
        this.logger.error(`Could not record the outcome of ${batch.length} deliveries (trying again): ${message}`);
        await new Promise((resolve) => setTimeout(resolve, backoffDelay(tries, this.settleBackoff)));
      }
    }
  }

  /**
   * Outcomes whose lease another claim took: if that claim was one of ours whose answer was lost, the delivery was
   * not taken over by anyone, and its outcome is written under that claim's token (else it would be sent again once
   * that lease ran out). Returns the uids written.
   */
  private async underLostClaims(entries: typeof this.toSettle): Promise<string[]> {
    const found: string[] = [];
    for (const [token, until] of this.lostClaims) {
      if (until < Date.now()) {
        this.lostClaims.delete(token);
        continue;
      }
      const left = entries.filter((e) => !found.includes(e.settlement.uid));
      if (left.length === 0) break;
      for (const e of left) e.settlement.lease_token = token;
      found.push(...(await this.store.settle(left.map((e) => e.settlement))));
    }
    return found;
  }

  /** No longer here: its lease is not renewed, and whoever waits for its outcome is told. */
  private release(delivery: DeliveryRecord): void {
    this.settling.delete(delivery);
    this.leases.delete(delivery.uid);
    this.notifySettled(delivery);
  }

  /**
   * After the outcome was written (or found its lease lost): counters, diagnostics, logs, the next wake-up. `at` is
   * when the outcome was decided, so the delay reported is the one chosen, not what is left of it after the write.
   */
  private settled(delivery: DeliveryRecord, s: Settlement, result: AttemptResult, at: number, done: boolean): void {
    this.release(delivery);
    if (!done) {
      if (result.outcome === 'postpone') return;
      this.logger.warn(
        `Lost the lease of delivery ${delivery.uid} (another worker took it over after it ran out); it may be sent twice, with the same idempotency key`,
      );
      if (channels.leaseLost.hasSubscribers) channels.leaseLost.publish({ delivery });
      return;
    }
    const attempt = 'attempt' in result ? result.attempt : undefined;
    this.telemetry.settled(delivery, s.status, result);
    // Finished: the next delivery of its ordering key may be claimed now, not at the next poll.
    if (delivery.ordering_key !== null && s.status !== 'Retry' && s.status !== 'Scheduled') this.loop.wake(0);
    switch (s.status) {
      case 'Success':
        this.sent++;
        if (channels.delivered.hasSubscribers) channels.delivered.publish({ delivery, attempt });
        return;
      case 'Retry':
      case 'Scheduled':
        this.loop.wake(s.next_send_at - Date.now());
        if (result.outcome !== 'retry') return;
        if (delivery.endpoint_id === null)
          this.logger.warn(
            `${describe(delivery)} attempt ${s.num_trials} via ${this.route.name} failed, retrying in ${s.next_send_at - at} ms: ${result.error}`,
          );
        if (channels.retryScheduled.hasSubscribers)
          channels.retryScheduled.publish({ delivery, error: result.error, delayMs: s.next_send_at - at, attempt });
        return;
      case 'Failure':
      case 'Discarded': {
        this.failed++;
        const reason = s.status === 'Discarded' ? 'discarded' : result.outcome === 'retry' ? 'exhausted' : 'rejected';
        if (reason !== 'discarded')
          void this.route
            .failed?.(delivery, reason)
            .catch((error: unknown) =>
              this.logger.error(`After ${describe(delivery)} failed: ${(error as Error).message}`),
            );
        const why =
          reason === 'rejected'
            ? 'not retryable'
            : reason === 'exhausted'
              ? `gave up after ${s.num_trials} attempts`
              : reason;
        const error = 'error' in result ? result.error : s.description;
        if (delivery.endpoint_id === null) this.logger.error(`${describe(delivery)} was NOT sent (${why}): ${error}`);
        else this.logger.warn(`${describe(delivery)} failed (${why}): ${error}`);
        if (channels.failed.hasSubscribers)
          channels.failed.publish({ delivery, error: s.description, reason, attempt });
      }
    }
  }

  private readonly settleWaiters = new Map<DeliveryRecord, Array<() => void>>();

  private whenSettled(delivery: DeliveryRecord, resolve: () => void): void {
    if (!this.running.has(delivery) && !this.settling.has(delivery)) return resolve();
    const list = this.settleWaiters.get(delivery);
    if (list) list.push(resolve);
    else this.settleWaiters.set(delivery, [resolve]);
  }

  private notifySettled(delivery: DeliveryRecord): void {
    const list = this.settleWaiters.get(delivery);
    if (!list) return;
    this.settleWaiters.delete(delivery);
    for (const resolve of list) resolve();
  }

  /**
   * The heartbeat: extends the leases of everything claimed here and not yet settled. A held delivery whose lease
   * another worker took over (it ran out) is dropped, not attempted. One heartbeat at a time: one waiting for the
   * database is not joined by more.
   */
  private async renewLeases(): Promise<void> {
    if (this.renewing) return;
    this.renewing = true;
    try {
      const byToken = new Map<string, string[]>();
      for (const [uid, token] of this.leases) {
        const uids = byToken.get(token);
        if (uids) uids.push(uid);
        else byToken.set(token, [uid]);
      }
      for (const token of this.leaseEnds.keys()) if (!byToken.has(token)) this.leaseEnds.delete(token);
      for (const [token, uids] of byToken) {
        const until = Date.now() + this.settings.leaseMs;
        try {
          const kept = await this.store.renew(uids, token, until);
          this.leaseEnds.set(token, until);
          if (kept.length < uids.length) this.dropTakenOver(token, new Set(kept));
        } catch (error) {
          this.logger.warn(`Could not renew the leases of ${uids.length} deliveries: ${(error as Error).message}`);
        }
      }
    } finally {
      this.renewing = false;
    }
  }

  /** Held deliveries under `token` that it no longer holds: another worker has them. */
  private dropTakenOver(token: string, kept: Set<string>): void {
    for (let i = this.held.length - 1; i >= 0; i--) {
      const { uid } = this.held[i]!;
      if (this.leases.get(uid) !== token || kept.has(uid)) continue;
      const [dropped] = this.held.splice(i, 1);
      this.leases.delete(uid);
      this.telemetry.claimEnded(dropped!, undefined);
    }
  }
}

/** How logs name a delivery. */
function describe(delivery: DeliveryRecord): string {
  const where =
    delivery.endpoint_id === null
      ? `id ${delivery.uid}`
      : `delivery ${delivery.uid} to endpoint ${delivery.endpoint_id}`;
  return `${delivery.event_type} [${where}]`;
}
