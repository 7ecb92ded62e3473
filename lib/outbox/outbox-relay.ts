import { Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import type { PublisherStats, PublishSink } from '../publisher/publish-sink.js';
import type { OutgoingWebhook } from '../publisher/webhook.types.js';
import type { SqlQueryable } from '../storage/sql.js';
import { isRetryableError, retryDelayAfter, type WebhookTransport } from '../transports/webhook-transport.interface.js';
import { WorkLoop } from '../utils/work-loop.js';
import type { ClaimedMessage, OutboxStore } from './outbox-store.interface.js';
import type { OutboxMessage } from './outbox.types.js';
import { openChannels } from '../utils/channels.js';

/** How the relay moves messages from the outbox to the transport. */
export interface RelaySettings {
  /** How often to look for due messages when nothing wakes the relay (other instances' messages, retries). */
  pollIntervalMs: number;
  /** Messages claimed at most per look. */
  batchSize: number;
  /** Messages handed over at the same time. */
  concurrency: number;
  /** How long a claim holds; a send is abandoned (and retried) after half of it, so no send outlives its lease. */
  leaseMs: number;
  /** Attempts before a message becomes a dead letter. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Cap of a transport-requested wait (Convoy's Retry-After). */
  maxRetryAfterMs: number;
  /** At shutdown, how long to wait for sends in flight. Pending messages stay stored either way. */
  drainTimeout: number;
}

/** Diagnostics channels of the outbox relay (node:diagnostics_channel). */
export const OUTBOX_CHANNELS = {
  published: 'nestjs-convoy:outbox-published',
  retryScheduled: 'nestjs-convoy:outbox-retry-scheduled',
  deadLettered: 'nestjs-convoy:outbox-dead-lettered',
  leaseLost: 'nestjs-convoy:outbox-lease-lost',
} as const;

const channels = openChannels(OUTBOX_CHANNELS);

/** Most events written in one group commit. */
const MAX_GROUP_COMMIT = 500;
/** How long completions gather before they are written together. */
const COMPLETION_WINDOW_MS = 5;

/** After a publish inside a caller's transaction, look again this soon: the commit usually follows within ms. */
const AFTER_TRANSACTION_MS = 100;

class SendTimeoutError extends Error {
  constructor(ms: number) {
    super(`the transport did not finish within ${ms} ms (half the outbox lease)`);
  }
}

/**
 * The durable path between publish() and the transport: publish() stores the event in the outbox (in the caller's
 * transaction when given one); the relay claims due messages under leases, hands them to the transport (Convoy or
 * the embedded engine) with the message's idempotency key, deletes them once accepted, retries failures with
 * backoff, and moves a message that keeps failing to the dead letters. Several instances may run on one database:
 * claims skip locked rows and every write is fenced by the claim's token, so none sends a message another holds.
 */
export class OutboxRelay implements PublishSink {
  readonly durable: boolean;
  private readonly logger = new Logger('OutboxRelay');
  private readonly shutdown = new AbortController();
  private readonly sends = new Set<Promise<void>>();
  /** Claimed (leased to this relay) and not yet sent. */
  private readonly claimed: ClaimedMessage[] = [];
  private readonly loop = new WorkLoop(
    () => this.tick(),
    (error) => {
      this.logger.error(`Could not claim outbox messages: ${(error as Error).message}`);
      return this.settings.pollIntervalMs;
    },
  );
  private sent = 0;
  private failed = 0;
  private readonly toWrite: Array<{ row: OutboxMessage; resolve: () => void; reject: (error: unknown) => void }> = [];
  private writing = false;
  private readonly toComplete: Array<{ id: string; leaseToken: string; resolve: (held: boolean) => void; reject: (error: unknown) => void }> = [];
  private completing = false;
  /** Deletions of handed-over messages still being written (awaited by close() and flush()). */
  private readonly completions = new Set<Promise<void>>();

  constructor(
    private readonly store: OutboxStore,
    private readonly transport: WebhookTransport,
    private readonly settings: RelaySettings,
  ) {
    this.durable = !store.volatile;
    // Every send listens on this one signal (as the client does): allow one listener per concurrent send.
    setMaxListeners(settings.concurrency + 10, this.shutdown.signal);
  }

  /** The store it relays from (for the dead-letter admin). */
  get outboxStore(): OutboxStore {
    return this.store;
  }

  /**
   * Resolves once the event is stored (committed). Events published while a write is under way are written
   * together in the next one (a group commit), so concurrent requests share the cost of a durable commit.
   */
  enqueue(message: OutgoingWebhook): Promise<void> {
    return new Promise((resolve, reject) => {
      this.toWrite.push({ row: toRow(message), resolve, reject });
      if (!this.writing) void this.writeBatches();
    });
  }

  private async writeBatches(): Promise<void> {
    this.writing = true;
    while (this.toWrite.length > 0) {
      const batch = this.toWrite.splice(0, MAX_GROUP_COMMIT);
      try {
        await this.store.add(batch.map((entry) => entry.row));
        for (const entry of batch) entry.resolve();
        this.loop.wake(0);
      } catch (error) {
        for (const entry of batch) entry.reject(error);
      }
    }
    this.writing = false;
  }

  /** Resolves once the event is written in the caller's transaction; it is handed over after the commit. */
  async enqueueInTransaction(message: OutgoingWebhook, tx: SqlQueryable): Promise<void> {
    await this.store.add([toRow(message)], tx);
    this.loop.wake(AFTER_TRANSACTION_MS);
  }

  start(): void {
    this.loop.start();
  }

  /** Resolves when no message is pending or claimed (in this database, so other instances' messages count too). */
  async flush(): Promise<void> {
    for (;;) {
      const { pending, inFlight } = await this.store.stats(Date.now());
      if (pending === 0 && inFlight === 0 && this.sends.size === 0) return;
      this.loop.wake(0);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async publisherStats(): Promise<PublisherStats> {
    const stats = await this.store.stats(Date.now());
    return { durable: this.durable, pending: stats.pending, inFlight: stats.inFlight, lagMs: stats.lagMs, sent: this.sent, failed: this.failed, deadLetters: stats.deadLetters };
  }

  /**
   * Stops claiming, waits for the sends in flight (at most drainTimeout), then gives up on them; whatever is
   * still pending stays stored for the next start (or another instance), so shutdown loses nothing and is quick.
   */
  async close(): Promise<void> {
    this.loop.stop();
    // Claimed but not started: hand them back now, so another instance (or the next start) need not wait for the lease.
    const unsent = this.claimed.splice(0);
    await Promise.allSettled(unsent.map((m) => this.store.retryLater(m.id, m.lease_token, Date.now(), 'released unsent at shutdown')));
    let deadline: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.sends]).then(() => Promise.allSettled([...this.completions])),
      new Promise((resolve) => (deadline = setTimeout(resolve, this.settings.drainTimeout))),
    ]);
    clearTimeout(deadline);
    this.shutdown.abort(new Error('the application shut down'));
  }

  /**
   * One round: claims a batch (up to batchSize, less what is still queued here) and starts sends from the local
   * queue; returns when to look again. Claiming in batches rather than a message per free slot keeps the database's
   * commits per message low.
   */
  private async tick(): Promise<number> {
    const room = this.settings.batchSize - this.claimed.length;
    let claimedAll = false;
    if (this.claimed.length < this.settings.concurrency && room > 0) {
      const now = Date.now();
      const batch = await this.store.claim(now, room, randomUUID(), now + this.settings.leaseMs);
      this.claimed.push(...batch);
      claimedAll = batch.length === room;
    }
    this.pump();
    return claimedAll && this.claimed.length < this.settings.concurrency ? 0 : this.settings.pollIntervalMs;
  }

  /** Starts sends from the claimed queue, up to `concurrency` at a time. A finished send asks for more. */
  private pump(): void {
    while (this.loop.active && this.sends.size < this.settings.concurrency && this.claimed.length > 0) {
      const message = this.claimed.shift()!;
      const send = this.send(message);
      this.sends.add(send);
      void send.finally(() => {
        this.sends.delete(send);
        this.pump();
        if (this.claimed.length < this.settings.concurrency) this.loop.wake(0);
      });
    }
  }

  private async send(message: ClaimedMessage): Promise<void> {
    const limit = Math.floor(this.settings.leaseMs / 2);
    if (Date.now() + limit > message.lease_until) {
      // It waited in the queue too long: a send now could outlive the lease. Give it back, unsent.
      await this.store.retryLater(message.id, message.lease_token, Date.now(), 'released unsent: its lease ran short while queued').catch(() => undefined);
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.transport.send(toOutgoing(message), { attempt: message.attempts, signal: this.shutdown.signal }),
        new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new SendTimeoutError(limit)), limit))),
      ]);
      clearTimeout(timer);
    } catch (error) {
      clearTimeout(timer);
      await this.recordFailure(message, error);
      return;
    }
    // Accepted: free the slot now; the deletion joins the next group write of completions.
    const completion = this.completed(message).then(
      (held) => {
        if (!held) return this.leaseLost(message);
        this.sent++;
        if (channels.published.hasSubscribers) channels.published.publish({ message });
      },
      (error: unknown) => this.logger.error(`Could not delete handed-over message ${message.id} (it will be sent again, with the same idempotency key, once its lease expires): ${(error as Error).message}`),
    );
    this.completions.add(completion);
    void completion.finally(() => this.completions.delete(completion));
  }

  /**
   * Deletes a handed-over message, in one write with the others that completed meanwhile (a group commit of
   * completions). Resolves true when this relay still held it.
   */
  private completed(message: ClaimedMessage): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.toComplete.push({ id: message.id, leaseToken: message.lease_token, resolve, reject });
      if (this.completing) return;
      // Wait a moment for more: a message stays leased (safe) until deleted, and one write for many saves a commit each.
      this.completing = true;
      setTimeout(() => void this.completeBatches(), COMPLETION_WINDOW_MS);
    });
  }

  private async completeBatches(): Promise<void> {
    while (this.toComplete.length > 0) {
      const batch = this.toComplete.splice(0, MAX_GROUP_COMMIT);
      try {
        const done = new Set(await this.store.completeAll(batch.map(({ id, leaseToken }) => ({ id, leaseToken }))));
        for (const entry of batch) entry.resolve(done.has(entry.id));
      } catch (error) {
        for (const entry of batch) entry.reject(error);
      }
    }
    this.completing = false;
  }

  private async recordFailure(message: ClaimedMessage, error: unknown): Promise<void> {
    const reason = error instanceof Error ? error.message : String(error);
    const retryable = isRetryableError(error);
    try {
      if (!retryable || message.attempts >= this.settings.maxAttempts) {
        const why = `${retryable ? 'exhausted' : 'rejected'}: ${reason}`;
        if (!(await this.store.deadLetter(message.id, message.lease_token, why, Date.now()))) return this.leaseLost(message);
        this.failed++;
        this.logger.error(`${message.event_type} [id ${message.id}] moved to the dead letters after ${message.attempts} attempt(s) (${why}); requeue it once the cause is fixed`);
        if (channels.deadLettered.hasSubscribers) channels.deadLettered.publish({ message, error, reason: why });
        return;
      }
      const delay = retryDelayAfter(error, message.attempts, this.settings);
      if (!(await this.store.retryLater(message.id, message.lease_token, Date.now() + delay, reason))) return this.leaseLost(message);
      this.logger.warn(`${message.event_type} [id ${message.id}] attempt ${message.attempts} via ${this.transport.name} failed, retrying in ${delay} ms: ${reason}`);
      if (channels.retryScheduled.hasSubscribers) channels.retryScheduled.publish({ message, error, delayMs: delay });
    } catch (storeError) {
      // The store is unreachable: the lease will expire and the message will be claimed again.
      this.logger.error(`Could not record the outcome of ${message.id}: ${(storeError as Error).message}`);
    }
  }

  private leaseLost(message: ClaimedMessage): void {
    this.logger.warn(`Lost the lease of outbox message ${message.id} (another relay took it over after it expired); it may be sent twice, with the same idempotency key`);
    if (channels.leaseLost.hasSubscribers) channels.leaseLost.publish({ message });
  }
}

function toRow(message: OutgoingWebhook): OutboxMessage {
  return {
    id: message.id,
    event_type: message.eventType,
    payload: message.payload,
    target: message.target,
    idempotency_key: message.idempotencyKey,
    headers: message.headers,
    ordering_key: message.orderingKey ?? null,
    attempts: 0,
    available_at: message.createdAt,
    created_at: message.createdAt,
    last_error: null,
  };
}

function toOutgoing(row: OutboxMessage): OutgoingWebhook {
  return {
    id: row.id,
    eventType: row.event_type,
    payload: row.payload,
    target: row.target,
    idempotencyKey: row.idempotency_key,
    headers: row.headers,
    orderingKey: row.ordering_key ?? undefined, // always present, as publish() makes them: one message shape
    createdAt: row.created_at,
  };
}
