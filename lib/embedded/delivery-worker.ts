import { Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { WorkLoop } from '../utils/work-loop.js';
import type { AttemptRecord, DeliveryRecord, EndpointRecord } from './embedded.types.js';
import type { EndpointRegistry } from './endpoint-registry.js';
import type { AttemptOutcome, HttpDelivery } from './http-delivery.js';
import { retryDelayMs, type RetrySchedule } from './retry-schedule.js';
import type { DeliveryUpdate, WebhookStore } from './webhook-store.interface.js';
import { openChannels } from '../utils/channels.js';

export interface DeliveryWorkerSettings {
  /** Attempts in flight at once, over all endpoints. */
  concurrency: number;
  /** Attempts in flight at once to one endpoint. */
  endpointConcurrency: number;
  retry: RetrySchedule;
  /** Cap of a receiver's Retry-After, ms. */
  maxRetryAfterMs: number;
  /** Disable an endpoint when a delivery to it runs out of retries (Convoy's disable_endpoint). */
  disableEndpointOnFailure: boolean;
  /** How often to look for due deliveries when nothing wakes the worker (other instances' work, a paused endpoint). */
  pollIntervalMs: number;
  /** How long a claimed delivery stays ours; must exceed the longest attempt (http_timeout is at most 300 s). */
  leaseMs: number;
}

/** Diagnostics channels of the embedded engine (node:diagnostics_channel). */
export const DELIVERY_CHANNELS = {
  succeeded: 'nestjs-convoy:delivery-succeeded',
  retryScheduled: 'nestjs-convoy:delivery-retry-scheduled',
  failed: 'nestjs-convoy:delivery-failed',
  endpointDisabled: 'nestjs-convoy:endpoint-disabled',
} as const;

const channels = openChannels(DELIVERY_CHANNELS);

/** While an endpoint is paused (by its status or a Retry-After), its deliveries are looked at again this often. */
const PAUSED_RECHECK_MS = 5_000;
/** An endpoint at its concurrency limit: the delivery is put back and retried this soon, without an attempt. */
const BUSY_RECHECK_MS = 100;

/**
 * Claims due deliveries from the store and attempts them: bounded concurrency overall and per endpoint,
 * per-endpoint rate limits, Retry-After pauses, Convoy's retry schedule, 410 and exhaustion handling.
 * Every outcome is written under the claim's lease, so two workers never both record one delivery.
 */
export class DeliveryWorker {
  private readonly logger = new Logger('EmbeddedDeliveryWorker');
  private readonly owner = randomUUID();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly perEndpoint = new Map<string, number>();
  /** Endpoint id → epoch ms until which a 429/503 Retry-After asked us to wait (this process only). */
  private readonly pausedUntil = new Map<string, number>();
  /** Endpoint id → attempts made in its current rate-limit window. */
  private readonly windows = new Map<string, { start: number; count: number }>();
  private readonly loop = new WorkLoop(
    () => this.tick(),
    (error) => {
      this.logger.error(`Could not read due deliveries: ${(error as Error).message}`);
      return this.settings.pollIntervalMs;
    },
  );

  constructor(
    private readonly store: WebhookStore,
    private readonly registry: EndpointRegistry,
    private readonly http: HttpDelivery,
    private readonly settings: DeliveryWorkerSettings,
  ) {}

  start(): void {
    this.loop.start();
  }

  /** Look for due deliveries now (new ones were stored). */
  notify(): void {
    this.loop.wake(0);
  }

  /** Stops claiming, and waits for the attempts in flight (each bounded by its endpoint's timeout). Pending deliveries stay stored. */
  async stop(): Promise<void> {
    this.loop.stop();
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /**
   * Keeps delivering what is due now (not later retries) until nothing is due and nothing is in flight, or the
   * time is up. For a volatile store at shutdown: whatever is still stored when the process exits is lost.
   * A delivery put back because its endpoint was at its concurrency limit counts as due (it waits BUSY_RECHECK_MS at most).
   */
  async drainDue(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.loop.active && Date.now() < deadline) {
      const next = await this.store.nextDueAt();
      if (this.inFlight.size === 0 && (next === undefined || next > Date.now() + BUSY_RECHECK_MS)) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  get activeAttempts(): number {
    return this.inFlight.size;
  }

  /** One round: claims as many due deliveries as there are free slots; returns when to look again. */
  private async tick(): Promise<number> {
    const free = this.settings.concurrency - this.inFlight.size;
    // Every slot is taken: the attempt that ends first wakes the loop. (Looking for what is due now would find
    // it due at once, and the loop would spin until a slot frees up.)
    if (free <= 0) return this.settings.pollIntervalMs;
    const now = Date.now();
    const claimed = await this.store.claimDue(now, free, this.owner, now + this.settings.leaseMs);
    for (const delivery of claimed) {
      const work = this.process(delivery).catch((error: unknown) => this.logger.error(`Delivery ${delivery.uid} failed unexpectedly: ${(error as Error).message}`));
      this.inFlight.add(work);
      void work.finally(() => {
        this.inFlight.delete(work);
        this.loop.wake(0);
      });
    }
    if (claimed.length === free) return 0; // there may be more due right now
    const next = await this.store.nextDueAt();
    const poll = this.settings.pollIntervalMs;
    return next === undefined ? poll : Math.min(poll, next - Date.now());
  }

  private async process(delivery: DeliveryRecord): Promise<void> {
    const endpoint = await this.store.getEndpoint(delivery.endpoint_id);
    const now = Date.now();
    if (!endpoint) return this.finish(delivery, { status: 'Discarded', description: 'the endpoint was deleted' });
    if (endpoint.status === 'inactive') return this.finish(delivery, { status: 'Discarded', description: 'the endpoint is inactive' });
    if (endpoint.status === 'paused') return this.putBack(delivery, now + PAUSED_RECHECK_MS);
    const paused = this.pausedUntil.get(endpoint.uid) ?? 0;
    if (paused > now) return this.putBack(delivery, paused);
    if ((this.perEndpoint.get(endpoint.uid) ?? 0) >= this.settings.endpointConcurrency) return this.putBack(delivery, now + BUSY_RECHECK_MS);
    const windowEnd = this.takeRateLimitSlot(endpoint, now);
    if (windowEnd !== undefined) return this.putBack(delivery, windowEnd);

    this.perEndpoint.set(endpoint.uid, (this.perEndpoint.get(endpoint.uid) ?? 0) + 1);
    let outcome: AttemptOutcome;
    try {
      outcome = await this.http.attempt(delivery, endpoint);
    } finally {
      this.perEndpoint.set(endpoint.uid, this.perEndpoint.get(endpoint.uid)! - 1);
    }
    await this.record(delivery, endpoint, outcome);
  }

  private async record(delivery: DeliveryRecord, endpoint: EndpointRecord, outcome: AttemptOutcome): Promise<void> {
    const trials = delivery.num_trials + 1;
    const { attempt } = outcome;
    const base = { num_trials: trials, latency_ms: attempt.latency_ms };
    if (outcome.kind === 'success') {
      await this.finish(delivery, { ...base, status: 'Success', description: '' }, attempt);
      if (channels.succeeded.hasSubscribers) channels.succeeded.publish({ delivery, endpoint, attempt });
      return;
    }
    if (outcome.kind === 'gone') {
      await this.finish(delivery, { ...base, status: 'Failure', description: 'the endpoint answered 410 Gone and was disabled' }, attempt);
      await this.disable(endpoint, 'gone');
      return this.reportFailure(delivery, endpoint, attempt, 'gone');
    }
    if (outcome.kind === 'blocked') {
      await this.finish(delivery, { ...base, status: 'Failure', description: `destination blocked: ${attempt.error}` }, attempt);
      return this.reportFailure(delivery, endpoint, attempt, 'blocked');
    }
    if (trials >= delivery.retry_limit) {
      await this.finish(delivery, { ...base, status: 'Failure', description: `no success after ${trials} attempts: ${attempt.error || `HTTP ${attempt.http_status}`}` }, attempt);
      if (this.settings.disableEndpointOnFailure) await this.disable(endpoint, 'failing');
      return this.reportFailure(delivery, endpoint, attempt, 'exhausted');
    }
    const now = Date.now();
    const asked = outcome.retryAfterMs === undefined ? 0 : Math.min(outcome.retryAfterMs, this.settings.maxRetryAfterMs);
    if (asked > 0) this.pausedUntil.set(endpoint.uid, now + asked);
    const delay = Math.max(retryDelayMs(this.settings.retry, trials), asked);
    await this.finish(delivery, { ...base, status: 'Retry', description: attempt.error || `HTTP ${attempt.http_status}`, next_send_at: now + delay }, attempt);
    if (channels.retryScheduled.hasSubscribers) channels.retryScheduled.publish({ delivery, endpoint, attempt, delayMs: delay });
  }

  private async finish(delivery: DeliveryRecord, update: Partial<DeliveryUpdate> & Pick<DeliveryUpdate, 'status' | 'description'>, attempt?: AttemptRecord): Promise<void> {
    const full: DeliveryUpdate = {
      num_trials: delivery.num_trials,
      next_send_at: Date.now(),
      latency_ms: delivery.latency_ms,
      ...update,
    };
    const kept = await this.store.completeAttempt(delivery.uid, this.owner, full, attempt);
    if (!kept) this.logger.warn(`Lost the lease of delivery ${delivery.uid}; another worker took it over (it may be sent twice, with the same idempotency key)`);
  }

  /** Back to the queue without an attempt (endpoint paused, busy or over its rate limit). */
  private putBack(delivery: DeliveryRecord, at: number): Promise<void> {
    return this.finish(delivery, { status: delivery.num_trials > 0 ? 'Retry' : 'Scheduled', description: delivery.description, next_send_at: at });
  }

  /** Counts an attempt against the endpoint's rate limit; returns when its window ends if the limit is reached. */
  private takeRateLimitSlot(endpoint: EndpointRecord, now: number): number | undefined {
    if (endpoint.rate_limit <= 0) return undefined;
    const length = endpoint.rate_limit_duration * 1000;
    let window = this.windows.get(endpoint.uid);
    if (!window || now >= window.start + length) {
      window = { start: now, count: 0 };
      this.windows.set(endpoint.uid, window);
    }
    if (window.count >= endpoint.rate_limit) return window.start + length;
    window.count++;
    return undefined;
  }

  private async disable(endpoint: EndpointRecord, why: 'gone' | 'failing'): Promise<void> {
    await this.registry.deactivate(endpoint.uid);
    this.logger.warn(`Endpoint ${endpoint.uid} (${endpoint.name}) disabled: ${why === 'gone' ? 'it answered 410 Gone' : 'a delivery ran out of retries'}; activate it to resume`);
    if (channels.endpointDisabled.hasSubscribers) channels.endpointDisabled.publish({ endpoint, reason: why });
  }

  private reportFailure(delivery: DeliveryRecord, endpoint: EndpointRecord, attempt: AttemptRecord, reason: 'gone' | 'blocked' | 'exhausted'): void {
    this.logger.warn(`Delivery ${delivery.uid} of ${delivery.event_type} to endpoint ${endpoint.uid} failed (${reason}): ${attempt.error || `HTTP ${attempt.http_status}`}`);
    if (channels.failed.hasSubscribers) channels.failed.publish({ delivery, endpoint, attempt, reason });
  }
}
