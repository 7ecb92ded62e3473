import type { WebhookTarget } from '../publisher/webhook.types.js';

/**
 * A published event waiting in the outbox to be handed to the transport (Convoy or the embedded engine).
 * Times are epoch milliseconds. It is deleted once the transport accepted it.
 */
export interface OutboxMessage {
  /** UUIDv7, chosen by publish(); never changes, not even when a dead letter is requeued. */
  id: string;
  event_type: string;
  /** The event's data as the exact JSON text that is sent. */
  payload: string;
  target: WebhookTarget;
  /** What Convoy deduplicates on: the caller's key, or the id. The same on every attempt. */
  idempotency_key: string;
  headers: Record<string, string>;
  /** Messages with the same key are handed over one at a time, in commit order. */
  ordering_key: string | null;
  /** Attempts made (counted when a message is claimed). */
  attempts: number;
  /** Not claimed before this time (the retry backoff). */
  available_at: number;
  created_at: number;
  last_error: string | null;
}

export interface DeadLetter extends OutboxMessage {
  dead_at: number;
  /** Why it was given up: 'exhausted' (retries spent) or 'rejected' (not retryable), with the last error. */
  reason: string;
}

export interface OutboxStats {
  /** Waiting to be handed over (including those waiting for a retry). */
  pending: number;
  /** Claimed by a relay (here or in another instance) and not yet finished. */
  inFlight: number;
  /** Age of the oldest message not yet handed over, ms (0 when none): the relay's lag. */
  lagMs: number;
  deadLetters: number;
}
