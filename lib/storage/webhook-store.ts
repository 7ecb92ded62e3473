import { ConvoyError } from '../errors/convoy.error.js';
import { StorageUnavailableError } from '../errors/outbox.errors.js';
import type { SqlQueryable } from './sql/sql.js';
import type {
  AttemptRecord,
  DeliveryFilter,
  DeliveryRecord,
  DeliveryStatus,
  EndpointFilter,
  EndpointRecord,
  EventRecord,
  PageRequest,
  PruneCounts,
  QueueStats,
  RecordPage,
  RetentionPolicy,
  Settlement,
} from './records.js';

/** What publish() stores for one event: its deliveries, and for a fan-out the event itself. */
export interface Enqueued {
  /** Present for a fan-out (the embedded engine): deduplicated by idempotency key, as Convoy does. */
  event?: EventRecord;
  deliveries: DeliveryRecord[];
}

/**
 * The pipeline's one store: the queue of deliveries and their log, the embedded engine's endpoints, events and
 * attempts. In memory (tests, development), PostgreSQL and PGlite implement it and pass the same contract suite.
 * Every method states the rule it keeps. A store may keep the records it is given, and return its own: callers
 * never change a record after handing it over, nor one they were handed.
 */
export interface WebhookStore {
  /** True when a restart loses what is stored. */
  readonly volatile: boolean;

  /**
   * How many enqueue() writes may run at the same time (connections to spare for them); default 1. The pipeline
   * groups concurrent publishes into writes of many events each, and keeps up to this many writes in flight.
   */
  readonly concurrentWrites?: number;

  // ------------------------------------------------------------ the queue

  /**
   * Stores events' deliveries durably: resolved means committed; with `tx`, written in the caller's transaction (so
   * they exist if and only if it commits; a store that cannot join transactions throws, and a `tx` that is not in a
   * transaction is refused with TransactionRequiredError). An event whose idempotency key an earlier event has is
   * stored as a duplicate, without its deliveries (Convoy's rule: no time window); the result says, per item,
   * whether its deliveries were stored. A delivery whose uid exists is skipped (a retried publish stores once).
   */
  enqueue(items: Enqueued[], tx?: SqlQueryable): Promise<boolean[]>;

  /**
   * Claims up to `limit` due deliveries (Scheduled or Retry with next_send_at <= now, or Processing whose lease
   * ended), earliest due first: sets them Processing with the lease (token, until). Concurrent callers never claim
   * the same delivery. Of the deliveries sharing an ordering key and endpoint, only the first stored that is not
   * finished may be claimed, so a key never has two in flight and never overtakes its head.
   */
  claim(now: number, limit: number, leaseToken: string, leaseUntil: number): Promise<DeliveryRecord[]>;

  /** Extends the leases `leaseToken` still holds (a heartbeat while attempts run); returns the uids it holds. */
  renew(uids: string[], leaseToken: string, leaseUntil: number): Promise<string[]>;

  /**
   * Writes outcomes, each only while its lease token still holds the delivery (a lost lease drops the outcome: the
   * new holder tries again, with the same idempotency key), with its attempt, in one write. `forget` removes a
   * delivery instead of keeping it as Success. Returns the uids written.
   */
  settle(settlements: Settlement[]): Promise<string[]>;

  /** The earliest next_send_at of the unfinished deliveries (a lease's end for Processing ones), for the next wake-up. */
  nextDueAt(): Promise<number | undefined>;

  /** Counts for health checks; `now` computes the lag. */
  stats(now: number): Promise<QueueStats>;

  /**
   * Schedules finished deliveries again (a resend, a dead letter's requeue): those in `fromStatuses`, not leased,
   * matching the filter (and `uids`, when given), due `now` with no attempts made. Returns the uids rescheduled.
   */
  reschedule(
    filter: DeliveryFilter & { uids?: string[] },
    fromStatuses: DeliveryStatus[],
    now: number,
  ): Promise<string[]>;

  // ------------------------------------------------------------ the log

  getDelivery(uid: string): Promise<DeliveryRecord | undefined>;
  /** Newest first. */
  listDeliveries(filter: DeliveryFilter, page: PageRequest): Promise<RecordPage<DeliveryRecord>>;
  /** Oldest first. */
  listAttempts(deliveryId: string): Promise<AttemptRecord[]>;
  getEvent(uid: string): Promise<EventRecord | undefined>;

  /**
   * Deletes what `policy` no longer keeps: finished deliveries (Success, Failure, Discarded: the log and the dead
   * letters) older than maxAgeMs or beyond the newest maxRows, with their attempts; attempts beyond the newest maxRows
   * of finished deliveries; events older or beyond the count that no delivery refers to. Never an unfinished delivery
   * or its attempts. In statements of at most batchSize rows, each committing by itself (a delivery write waits for
   * one batch at most); stops between batches when `signal` aborts. Optional: the in-memory store bounds itself.
   */
  prune?(policy: RetentionPolicy, now: number, signal?: AbortSignal): Promise<PruneCounts>;

  // ------------------------------------------------------------ endpoints (the embedded engine's)

  /** Throws when the uid exists. */
  insertEndpoint(endpoint: EndpointRecord): Promise<void>;
  /** Replaces the stored endpoint with the same uid; false when it does not exist. */
  updateEndpoint(endpoint: EndpointRecord): Promise<boolean>;
  /** False when it did not exist. Its deliveries and attempts stay: the log outlives the endpoint. */
  deleteEndpoint(uid: string): Promise<boolean>;
  getEndpoint(uid: string): Promise<EndpointRecord | undefined>;
  /** The oldest endpoint with exactly this URL and name (a `{ url, secret? }` target's endpoint). */
  findEndpointByUrlAndName(url: string, name: string): Promise<EndpointRecord | undefined>;
  /** Newest first. */
  listEndpoints(filter: EndpointFilter, page: PageRequest): Promise<RecordPage<EndpointRecord>>;
  /** Every endpoint (fan-out reads them all; a registry holds thousands, not millions). */
  allEndpoints(): Promise<EndpointRecord[]>;

  close(): Promise<void>;
}

/**
 * The store, with every failure of a durable one that is not already ours (a cut connection, a database that is down,
 * a closed PGlite) turned into StorageUnavailableError naming the operation, the driver's error as `cause`: callers of
 * publish() and of the management API never get a raw driver error. A memory store cannot fail so: left as it is.
 */
export function reportingUnavailable(store: WebhookStore): WebhookStore {
  if (store.volatile) return store;
  const wrapped = new Map<PropertyKey, unknown>();
  const unavailable = (operation: string, error: unknown): never => {
    throw error instanceof ConvoyError ? error : new StorageUnavailableError(operation, error);
  };
  return new Proxy(store, {
    get(target, key) {
      const value: unknown = Reflect.get(target, key, target);
      if (typeof value !== 'function' || key === 'close' || typeof key !== 'string') return value;
      let method = wrapped.get(key);
      if (!method) {
        const call = value as (...args: unknown[]) => unknown;
        method = (...args: unknown[]): unknown => {
          try {
            const result = call.apply(target, args);
            return result instanceof Promise ? result.catch((error: unknown) => unavailable(key, error)) : result;
          } catch (error) {
            return unavailable(key, error);
          }
        };
        wrapped.set(key, method);
      }
      return method;
    },
  });
}
