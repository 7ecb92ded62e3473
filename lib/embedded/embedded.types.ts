/**
 * What the embedded engine stores. Field names follow Convoy's API (snake_case), so that the records map
 * one-to-one onto the shapes ConvoyClient returns and one management API serves both transports.
 * Times are ISO strings where Convoy shows them, epoch milliseconds where the engine computes with them.
 */

export type EmbeddedEndpointStatus = 'active' | 'paused' | 'inactive';
export type SignatureFormat = 'convoy' | 'standard';

export interface SecretRecord {
  uid: string;
  value: string;
  /** When this secret stops signing (ISO), or null while it is current. */
  expires_at: string | null;
  created_at: string;
}

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
  /** Seconds per attempt. */
  http_timeout: number;
  /** At most `rate_limit` attempts per `rate_limit_duration` seconds; 0 means unlimited. */
  rate_limit: number;
  rate_limit_duration: number;
  support_email: string;
  /** Convoy's `authentication: { type: 'api_key' }`: a header sent with every delivery. */
  api_key_header: { name: string; value: string } | null;
  status: EmbeddedEndpointStatus;
  created_at: string;
  updated_at: string;
}

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
  created_at: string;
}

export type DeliveryStatus = 'Scheduled' | 'Processing' | 'Retry' | 'Success' | 'Failure' | 'Discarded';

export interface DeliveryRecord {
  uid: string;
  event_id: string;
  endpoint_id: string;
  event_type: string;
  idempotency_key: string;
  payload: string;
  custom_headers: Record<string, string>;
  status: DeliveryStatus;
  /** Why it failed or was discarded, for people reading the log. */
  description: string;
  num_trials: number;
  retry_limit: number;
  /** Epoch ms of the next attempt (Scheduled, Retry) or of the lease's end (Processing). */
  next_send_at: number;
  /** Who holds the delivery while it is Processing; every write of an attempt's outcome must present it. */
  lease_owner: string | null;
  latency_ms: number | null;
  created_at: string;
  updated_at: string;
}

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
  requested_at: string;
  responded_at: string | null;
}

export interface RecordPage<T> {
  items: T[];
  /** Pass as `cursor` to get the next page; undefined on the last page. */
  next_cursor: string | undefined;
}

export interface EndpointFilter {
  ownerId?: string;
  /** Substring of the name. */
  q?: string;
}

export interface DeliveryFilter {
  endpointIds?: string[];
  eventId?: string;
  eventType?: string;
  idempotencyKey?: string;
  statuses?: DeliveryStatus[];
  /** Epoch ms, inclusive. */
  createdFrom?: number;
  createdTo?: number;
}

export interface PageRequest {
  limit: number;
  /** The uid to continue after (newest first). */
  cursor?: string;
}
