import type { SqlQueryable } from '../storage/sql.js';
import type { OutgoingWebhook } from './webhook.types.js';

/** What the publisher reports for health checks, whichever sink is behind it. */
export interface PublisherStats {
  /** True with the durable outbox; false with the in-memory dispatcher (a crash loses what is pending). */
  durable: boolean;
  /** Waiting to be handed to the transport, retries included. */
  pending: number;
  /** Being handed over right now. */
  inFlight: number;
  /** Age of the oldest event not yet handed over, ms: how far behind the pipeline is. */
  lagMs: number;
  /** Handed over by this process since it started. */
  sent: number;
  /** Given up by this process since it started (dropped in memory, or dead-lettered). */
  failed: number;
  /** Dead letters stored, waiting for a requeue (outbox only; all instances). */
  deadLetters: number;
}

/**
 * Where publish() puts events: the in-memory dispatcher, or the durable outbox and its relay.
 * Either way publish() resolves once the sink has accepted the event.
 */
export interface PublishSink {
  readonly durable: boolean;
  enqueue(message: OutgoingWebhook): Promise<void>;
  /** Only durable sinks: stores the event in the caller's open transaction. */
  enqueueInTransaction?(message: OutgoingWebhook, tx: SqlQueryable): Promise<void>;
  /** Resolves when everything accepted so far has been handed over (or given up). */
  flush(): Promise<void>;
  publisherStats(): Promise<PublisherStats>;
  /** Starts background work (the relay polls the outbox). */
  start?(): void;
  /** Shutdown: stops taking work and drains or hands back what is held. */
  close(): Promise<void>;
}
