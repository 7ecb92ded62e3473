import type { WebhookTarget } from '../publishing/webhook.types.js';

/**
 * What the pipeline stores. Field names follow Convoy's API (snake_case), so that the log maps one-to-one onto the
 * shapes ConvoyClient returns and one management API serves both transports. Every time is epoch milliseconds
 * (one representation, cheap to compare and to store as bigint); the management API turns them into Convoy's ISO
 * strings at its boundary.
 */

/** An endpoint's state: `paused` holds its deliveries, `inactive` discards them. */
export type EndpointStatus = 'active' | 'paused' | 'inactive';
/** How deliveries to an endpoint are signed: `X-Convoy-Signature`, or the Standard Webhooks headers. */
export type SignatureFormat = 'convoy' | 'standard';

/** One signing secret of an endpoint; during a rotation the old one signs until `expires_at`. */
export interface SecretRecord {
  uid: string;
  value: string;
  /** When this secret stops signing, or null while it is current. */
  expires_at: number | null;
  created_at: number;
}

/** An endpoint of the embedded engine. */
export interface EndpointRecord {
  uid: string;
  name: string;
  url: string;
  owner_id: string;
  description: string;
  /** Oldest first; expired ones are removed when they are read after expiry. */
  secrets: SecretRecord[];
  /** Convoy `t=…,v1=…` signatures (true) or a bare HMAC (false). */
  advanced_signatures: boolean;
  /** 'convoy' (X-Convoy-Signature, as Convoy signs) or 'standard' (Standard Webhooks headers). */
  signature_format: SignatureFormat;
  /** Event types this endpoint receives: exact names, `*`, or patterns like `todo.*`. */
  event_types: string[];
  /** Seconds per attempt (Convoy's unit for this field). */
  http_timeout: number;
  /** At most `rate_limit` attempts per `rate_limit_duration` seconds (Convoy's units); 0 means unlimited. */
  rate_limit: number;
  rate_limit_duration: number;
  support_email: string;
  /** Convoy's `authentication: { type: 'api_key' }`: a header sent with every delivery. */
  api_key_header: { name: string; value: string } | null;
  status: EndpointStatus;
  created_at: number;
  updated_at: number;
}

/** An event the embedded engine fanned out (kept for its idempotency key and the log). */
export interface EventRecord {
  uid: string;
  event_type: string;
  idempotency_key: string;
  /** The data, as the exact JSON text that is sent and signed. */
  payload: string;
  custom_headers: Record<string, string>;
  /** Endpoints it was fanned out to. */
  endpoints: string[];
  is_duplicate_event: boolean;
  created_at: number;
}

/** Where a delivery stands (Convoy's statuses). */
export type DeliveryStatus = 'Scheduled' | 'Processing' | 'Retry' | 'Success' | 'Failure' | 'Discarded';

/**
 * One unit of the pipeline's work, and its entry in the log: an event on its way to one endpoint (the embedded
 * engine fans out when the event is stored), or to the transport as a whole (Convoy, or your own transport: then
 * `endpoint_id` is null and `target` says where the transport sends it). It holds everything an attempt needs.
 */
export interface DeliveryRecord {
  /** UUIDv7: the publish()'s event id for a hand-over, a new one per endpoint for a fan-out. */
  uid: string;
  event_id: string;
  /** The endpoint (embedded engine), or null for a hand-over to the transport. */
  endpoint_id: string | null;
  event_type: string;
  idempotency_key: string;
  payload: string;
  custom_headers: Record<string, string>;
  target: WebhookTarget;
  /** Deliveries with the same key (and endpoint) go one at a time, in the order they were stored. */
  ordering_key: string | null;
  status: DeliveryStatus;
  /** Why it was retried, failed or discarded, for people reading the log. */
  description: string;
  /** Attempts made. */
  num_trials: number;
  /** Attempts allowed in all. */
  retry_limit: number;
  /** When it is due (Scheduled, Retry), or when its lease ends (Processing). */
  next_send_at: number;
  /** Who holds it while it is Processing; every write of an outcome must present it. */
  lease_token: string | null;
  latency_ms: number | null;
  created_at: number;
  updated_at: number;
  /**
   * The W3C `traceparent` of the publish span (OpenTelemetry), stored with the event so that attempts link back to
   * it from any process; null when publish() was not traced. Left out by stores written before it: read as null.
   */
  traceparent?: string | null;
  /** The W3C `tracestate` that goes with `traceparent`. */
  tracestate?: string | null;
}

/** One HTTP attempt of the embedded engine, as its log shows it. */
export interface AttemptRecord {
  uid: string;
  delivery_id: string;
  endpoint_id: string;
  url: string;
  method: 'POST';
  request_headers: Record<string, string>;
  /** The HTTP status, or null when no response came back. */
  http_status: number | null;
  response_headers: Record<string, string>;
  /** The response body, cut at the configured maximum. */
  response_body: string;
  error: string;
  /** Whether the attempt succeeded (2xx). */
  success: boolean;
  latency_ms: number;
  requested_at: number;
  responded_at: number | null;
}

/** A delivery's new state after an attempt (or without one: put back, discarded), written under its lease. */
export interface Settlement {
  uid: string;
  lease_token: string;
  status: Exclude<DeliveryStatus, 'Processing'>;
  description: string;
  num_trials: number;
  next_send_at: number;
  latency_ms: number | null;
  /** The attempt to log with it (the embedded engine's). */
  attempt?: AttemptRecord;
  /** A hand-over that succeeded is forgotten rather than kept: the transport (Convoy) keeps the log. */
  forget?: boolean;
}

/** The store's counts for health checks and `publisher.stats()`. */
export interface QueueStats {
  /** Waiting (Scheduled, Retry). */
  pending: number;
  /** Claimed by a worker (here or in another instance) and not finished. */
  inFlight: number;
  /** Age of the oldest delivery not yet finished, ms (0 when none). */
  lagMs: number;
  /** Hand-overs not finished yet (waiting, in flight, between retries). */
  pendingHandOvers: number;
  /** Hand-overs that failed for good (the dead letters), waiting for a requeue. */
  failedHandOvers: number;
}

/** One page of records, newest first, with the cursor of the next. */
export interface RecordPage<T> {
  items: T[];
  /** Pass as `cursor` to get the next page; undefined on the last page. */
  next_cursor: string | undefined;
}

/** Which page of records to read: how many, and after which one. */
export interface PageRequest {
  limit: number;
  /** The uid to continue after (newest first). */
  cursor?: string;
}

/** Which endpoints a list returns. */
export interface EndpointFilter {
  ownerId?: string;
  /** Substring of the name. */
  q?: string;
}

/** Which deliveries a list, count or reschedule covers. */
export interface DeliveryFilter {
  /** Endpoint deliveries of these endpoints. */
  endpointIds?: string[];
  /** Only hand-overs to the transport (true) or only endpoint deliveries (false). */
  handOver?: boolean;
  eventId?: string;
  eventType?: string;
  idempotencyKey?: string;
  statuses?: DeliveryStatus[];
  /** Epoch ms, inclusive. */
  createdFrom?: number;
  createdTo?: number;
}

/** Statuses the pipeline still acts on; the others are the final log. */
export const UNFINISHED: readonly DeliveryStatus[] = ['Scheduled', 'Retry', 'Processing'];

/** What the log keeps (the module's `retention` option): finished deliveries, their attempts and events. */
export interface RetentionPolicy {
  /** Finished deliveries, and events, older than this (ms since they finished, or were created) are deleted. */
  maxAgeMs: number;
  /** Beyond this many finished rows per table, the oldest are deleted. */
  maxRows: number;
  /** Rows deleted per statement. */
  batchSize: number;
}

/** Rows one prune() deleted, per table (attempts of deleted deliveries go with them, uncounted). */
export interface PruneCounts {
  deliveries: number;
  attempts: number;
  events: number;
}
