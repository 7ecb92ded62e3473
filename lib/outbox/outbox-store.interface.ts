import type { RecordPage, PageRequest } from '../embedded/embedded.types.js';
import type { SqlQueryable } from '../storage/sql.js';
import type { DeadLetter, OutboxMessage, OutboxStats } from './outbox.types.js';

/** A message claimed by a relay: only the holder of `lease_token` may finish it. */
export interface ClaimedMessage extends OutboxMessage {
  lease_token: string;
  lease_until: number;
}

/**
 * Where published events wait until a relay hands them to the transport. In-memory (tests, development),
 * PostgreSQL and PGlite implement it and pass the same contract suite. Every method states the rule it keeps.
 */
export interface OutboxStore {
  /** True when a restart loses what is stored. */
  readonly volatile: boolean;

  /**
   * Stores messages durably: resolved means committed. With `tx`, they are written in the caller's transaction
   * (so they exist if and only if it commits); a store that cannot join transactions throws. Adding an id that
   * exists is a no-op. Messages with an ordering key take a lock on that key in the same transaction, so that their
   * order among themselves is commit order.
   */
  add(messages: OutboxMessage[], tx?: SqlQueryable): Promise<void>;

  /**
   * Claims up to `limit` messages that are due (available_at <= now, or claimed earlier with a lease that expired),
   * oldest first, and never two of one ordering key: only a key's first remaining message, and only when no
   * earlier message of that key is still pending or claimed. Sets the lease (token, until) and counts an attempt.
   * Concurrent callers never claim the same message.
   */
  claim(now: number, limit: number, leaseToken: string, leaseUntil: number): Promise<ClaimedMessage[]>;

  /** The transport accepted it: deletes it, only while `leaseToken` still holds it. False when the lease was lost. */
  complete(id: string, leaseToken: string): Promise<boolean>;

  /**
   * complete() for many messages in one write (the relay groups its completions, so a busy outbox does not pay a
   * commit per message). Each is deleted only while its own token holds it; returns the ids that were deleted.
   */
  completeAll(items: Array<{ id: string; leaseToken: string }>): Promise<string[]>;

  /** Puts it back for another attempt at `availableAt`, recording the error; fenced by `leaseToken` like complete(). */
  retryLater(id: string, leaseToken: string, availableAt: number, error: string): Promise<boolean>;

  /** Moves it to the dead letters (same id), fenced by `leaseToken`; it no longer blocks its ordering key. */
  deadLetter(id: string, leaseToken: string, reason: string, now: number): Promise<boolean>;

  /** Dead letters, newest first. */
  listDeadLetters(page: PageRequest): Promise<RecordPage<DeadLetter>>;

  /** Moves dead letters back to the outbox with the same id, zero attempts, due now. Returns how many moved. */
  requeue(ids: string[], now: number): Promise<number>;

  /** Counts for health checks; `now` computes the lag. */
  stats(now: number): Promise<OutboxStats>;

  close(): Promise<void>;
}
