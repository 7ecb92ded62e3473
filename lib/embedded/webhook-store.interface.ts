import type {
  AttemptRecord,
  DeliveryFilter,
  DeliveryRecord,
  EndpointFilter,
  EndpointRecord,
  EventRecord,
  RecordPage,
  PageRequest,
} from './embedded.types.js';

/** The outcome of one attempt, written together with the attempt itself under the delivery's lease. */
export interface DeliveryUpdate {
  status: DeliveryRecord['status'];
  description: string;
  num_trials: number;
  next_send_at: number;
  latency_ms: number | null;
}

/**
 * Storage of the embedded engine: endpoints, events, deliveries and attempts. The in-memory store serves tests
 * and development; PostgreSQL and PGlite stores implement the same contract (and pass the same contract suite).
 * Every method documents the rule it keeps.
 */
export interface WebhookStore {
  /** True for stores that lose everything when the process exits (refused under NODE_ENV=production unless allowed). */
  readonly volatile: boolean;

  // ------------------------------------------------------------ endpoints

  insertEndpoint(endpoint: EndpointRecord): Promise<void>;
  /** Replaces the stored endpoint with the same uid; false when it does not exist. */
  updateEndpoint(endpoint: EndpointRecord): Promise<boolean>;
  /** False when it did not exist. Its deliveries and attempts are kept: the log outlives the endpoint. */
  deleteEndpoint(uid: string): Promise<boolean>;
  getEndpoint(uid: string): Promise<EndpointRecord | undefined>;
  findEndpointByUrl(url: string): Promise<EndpointRecord | undefined>;
  /** Newest first. */
  listEndpoints(filter: EndpointFilter, page: PageRequest): Promise<RecordPage<EndpointRecord>>;
  /** Every endpoint (fan-out reads them all; a registry holds thousands, not millions). */
  allEndpoints(): Promise<EndpointRecord[]>;

  // ------------------------------------------------------------ events and deliveries

  /**
   * Stores an event and its deliveries atomically, unless an event with the same idempotency key exists:
   * then stores the event as a duplicate, with no deliveries, and returns false (Convoy's rule: no time window).
   */
  insertEvent(event: EventRecord, deliveries: DeliveryRecord[]): Promise<boolean>;
  getEvent(uid: string): Promise<EventRecord | undefined>;

  /**
   * Claims up to `limit` deliveries that are due (Scheduled or Retry with next_send_at <= now, or Processing
   * whose lease expired), oldest due first: sets them Processing, lease_owner = owner, next_send_at = leaseUntil.
   * Two callers never claim the same delivery.
   */
  claimDue(now: number, limit: number, owner: string, leaseUntil: number): Promise<DeliveryRecord[]>;
  /**
   * Epoch ms of the earliest due time among unfinished deliveries (Scheduled and Retry at next_send_at, Processing at
   * its lease's end, when another worker may take it over), for a worker's next wake-up.
   */
  nextDueAt(): Promise<number | undefined>;
  /**
   * Records an attempt and the delivery's new state, only while `owner` still holds the lease (false otherwise:
   * the lease was lost and the outcome is dropped; the new holder sends again with the same idempotency key).
   */
  completeAttempt(uid: string, owner: string, update: DeliveryUpdate, attempt: AttemptRecord | undefined): Promise<boolean>;

  getDelivery(uid: string): Promise<DeliveryRecord | undefined>;
  /** Newest first. */
  listDeliveries(filter: DeliveryFilter, page: PageRequest): Promise<RecordPage<DeliveryRecord>>;
  /**
   * Schedules deliveries again (a resend): only those in `fromStatuses` and not leased; resets num_trials,
   * keeps the uid, payload and idempotency key. Returns the rescheduled uids.
   */
  reschedule(filter: DeliveryFilter & { uids?: string[] }, fromStatuses: DeliveryRecord['status'][], now: number): Promise<string[]>;
  /** Oldest first. */
  listAttempts(deliveryId: string): Promise<AttemptRecord[]>;

  close(): Promise<void>;
}
