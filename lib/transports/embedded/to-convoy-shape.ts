import { STATUS_CODES } from 'node:http';
import type { ConvoyEventDelivery, Page, PageQuery } from '../../client/convoy.types.js';
import type { AttemptRecord, DeliveryRecord, EndpointRecord, RecordPage } from '../../storage/records.js';
import type { RetryPolicy } from '../../options/option-tables.js';
import type { WebhookDeliveryAttempt, WebhookEndpoint } from '../../management/webhook-management.types.js';

/** The embedded engine's records in Convoy's response shapes (ISO times), so callers see one API whichever transport runs. */

const iso = (ms: number): string => new Date(ms).toISOString();

const PROJECT = 'embedded';

export function endpointShape(e: EndpointRecord): WebhookEndpoint {
  return {
    uid: e.uid,
    project_id: PROJECT,
    name: e.name,
    url: e.url,
    owner_id: e.owner_id,
    description: e.description,
    status: e.status,
    secrets: e.secrets.map((s) => ({
      uid: s.uid,
      value: s.value,
      expires_at: s.expires_at === null ? null : iso(s.expires_at),
      created_at: iso(s.created_at),
      updated_at: iso(s.created_at),
      deleted_at: null,
    })),
    advanced_signatures: e.advanced_signatures,
    http_timeout: e.http_timeout,
    rate_limit: e.rate_limit,
    rate_limit_duration: e.rate_limit_duration,
    content_type: 'application/json',
    support_email: e.support_email,
    authentication: e.api_key_header
      ? { type: 'api_key', api_key: { header_name: e.api_key_header.name, header_value: e.api_key_header.value } }
      : null,
    // Convoy's circuit-breaker figures: licensed there, not kept here.
    cb_state: null,
    failure_rate: null,
    period_failure_rate: null,
    success_count: null,
    failure_count: null,
    retry_count: null,
    event_types: e.event_types,
    signature_format: e.signature_format,
    created_at: iso(e.created_at),
    updated_at: iso(e.updated_at),
    deleted_at: null,
  };
}

export function deliveryShape(d: DeliveryRecord, retry: RetryPolicy, endpointUrl?: string): ConvoyEventDelivery {
  const headers: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(d.custom_headers)) headers[name] = [value];
  return {
    uid: d.uid,
    project_id: PROJECT,
    event_id: d.event_id,
    endpoint_id: d.endpoint_id ?? '',
    subscription_id: '',
    device_id: '',
    event_type: d.event_type,
    idempotency_key: d.idempotency_key,
    status: d.status,
    description: d.description,
    delivery_mode: 'at_least_once',
    headers,
    metadata: {
      num_trials: d.num_trials,
      retry_limit: d.retry_limit,
      interval_seconds: retry.delayMs / 1000,
      strategy: retry.strategy,
      next_send_time: new Date(d.next_send_at).toISOString(),
      raw: d.payload,
    },
    ...(endpointUrl === undefined ? {} : { target_url: endpointUrl }),
    latency: '',
    latency_seconds: d.latency_ms === null ? 0 : d.latency_ms / 1000,
    url_query_params: '',
    endpoint_metadata: null,
    event_metadata: null,
    source_metadata: null,
    device_metadata: null,
    cli_metadata: null,
    acknowledged_at: iso(d.created_at),
    created_at: iso(d.created_at),
    updated_at: iso(d.updated_at),
    deleted_at: null,
  };
}

export function attemptShape(a: AttemptRecord): WebhookDeliveryAttempt {
  return {
    uid: a.uid,
    msg_id: a.delivery_id,
    project_id: PROJECT,
    endpoint_id: a.endpoint_id,
    api_version: '',
    url: a.url,
    method: a.method,
    ip_address: '',
    request_http_header: a.request_headers,
    response_http_header: a.http_status === null ? null : a.response_headers,
    // Convoy reports Go's status text, e.g. "200 OK"; an attempt without a response has none.
    http_status: a.http_status === null ? '' : `${a.http_status} ${STATUS_CODES[a.http_status] ?? ''}`.trim(),
    response_data: a.response_body,
    ...(a.error ? { error: a.error } : {}),
    // As Convoy: `status` is there (true) on success only.
    ...(a.success ? { status: true as const } : {}),
    succeeded: a.success,
    requested_at: iso(a.requested_at),
    ...(a.responded_at === null ? {} : { responded_at: iso(a.responded_at) }),
    created_at: iso(a.requested_at),
    updated_at: iso(a.responded_at ?? a.requested_at),
    deleted_at: null,
  };
}

/** A store page as Convoy's `{ content, pagination }`; the cursor is the store's (the uid to continue after). */
export function pageShape<T>(content: T[], page: RecordPage<unknown>, query: PageQuery, perPage: number): Page<T> {
  return {
    content,
    pagination: {
      per_page: perPage,
      has_next_page: page.next_cursor !== undefined,
      has_prev_page: query.next_page_cursor !== undefined,
      next_page_cursor: page.next_cursor ?? '',
      prev_page_cursor: '',
    },
  };
}
