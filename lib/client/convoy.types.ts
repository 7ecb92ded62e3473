/**
 * Convoy's request and response bodies. Field names are Convoy's own, unchanged (snake_case in bodies, camelCase in
 * some list queries), so that Convoy's documentation applies word for word and nothing is lost by a renaming layer.
 * Response types are what a real Convoy sends (v26.7.3, API version 2025-11-24): the recorded corpus in
 * test/conformance is validated against schemas derived from these declarations, strictly (every field declared,
 * `null` only where it says `| null`, required fields always present). Request types require what Convoy's server
 * validation requires.
 */

// ---------------------------------------------------------------- paging

export interface Pagination {
  per_page: number;
  has_next_page: boolean;
  has_prev_page: boolean;
  next_page_cursor: string;
  prev_page_cursor: string;
  total?: number;
}

/** One page of a cursor-paged list. */
export interface Page<T> {
  content: T[];
  pagination: Pagination;
}

/** Cursor paging query, as Convoy names it. */
export interface PageQuery {
  /** Items per page (Convoy's default is 20). */
  perPage?: number;
  direction?: 'next' | 'prev';
  next_page_cursor?: string;
  prev_page_cursor?: string;
  sort?: 'ASC' | 'DESC';
}

/** Event and delivery lists cover the last 7 days unless startDate is given. Dates are sent as UTC `YYYY-MM-DDTHH:MM:SS`. */
export interface DateRangeQuery {
  startDate?: Date | string;
  endDate?: Date | string;
}

/** What Convoy answers, unwrapped, for calls whose envelope carries no data (e.g. event creation). */
export interface ConvoyAck {
  message: string;
  /** Convoy's X-Request-ID. */
  requestId: string | undefined;
  /** The HTTP status Convoy answered with (2xx: anything else is a ConvoyHttpError). */
  status: number;
}

/** HTTP headers as Convoy records them: each name with all of its values. */
export type HttpHeaderMap = Record<string, string[]>;

/** An object with no fields, e.g. an endpoint's `authentication` when it has none (Convoy answers `{}` on reads). */
export type EmptyObject = Record<string, never>;

// ---------------------------------------------------------------- events

interface EventCommon {
  event_type: string;
  /** Any JSON value: sent byte for byte as the webhook body. */
  data: unknown;
  custom_headers?: Record<string, string>;
  /** Convoy drops (stores as duplicate, delivers nowhere) any later event of the project with the same key. */
  idempotency_key?: string;
}

/** An event for one endpoint (POST /events). */
export interface CreateEventRequest extends EventCommon {
  endpoint_id: string;
}

/** An event for every endpoint of one owner (POST /events/fanout). */
export interface FanoutEventRequest extends EventCommon {
  owner_id: string;
}

/** An event for every endpoint whose subscription matches its type (POST /events/broadcast). */
export type BroadcastEventRequest = EventCommon;

/** An event for a URL without a registered endpoint (POST /events/dynamic). */
export interface DynamicEventRequest extends EventCommon {
  url: string;
  /** Secret of the endpoint Convoy creates for the URL (generated when absent). */
  secret?: string;
  /** Event types of the subscription Convoy creates for the URL. */
  event_types?: string[];
}

/** Where an event stands, over all of its deliveries. */
export type EventStatus = 'Processing' | 'Failure' | 'Success' | 'Retry' | 'Pending' | '';

/** An event as Convoy stores it, with the endpoints it went to. */
export interface ConvoyEvent {
  uid: string;
  project_id: string;
  event_type: string;
  /** Any JSON value: sent byte for byte as the webhook body. */
  data: unknown;
  /** The custom headers, each as a list; `null` when there were none. */
  headers: HttpHeaderMap | null;
  /** "" when the event had none. */
  idempotency_key: string;
  is_duplicate_event: boolean;
  /** The endpoints the event went to; `null` for a fan-out to nobody. */
  endpoints: string[] | null;
  /** Set for incoming projects; an outgoing project's events carry an empty source. */
  source_metadata?: ConvoySourceMetadata | null;
  status: EventStatus;
  /** Why the event failed, e.g. "no subscription matched this event" (list answers only). */
  failure_reason?: string;
  url_path: string;
  url_query_params: string;
  acknowledged_at: string | null;
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
}

/** A source (incoming projects); on outgoing projects Convoy sends an empty one. Its fields are Convoy's own. */
export interface ConvoySourceMetadata {
  uid: string;
  project_id: string;
  mask_id: string;
  name: string;
  url: string;
  type: string;
  provider: string;
  is_disabled: boolean;
  verifier: Record<string, unknown> | null;
  custom_response: { body: string; content_type: string };
  provider_config: Record<string, unknown> | null;
  forward_headers: string[] | null;
  pub_sub: Record<string, unknown> | null;
  idempotency_keys: string[] | null;
  event_type_location: string;
  body_function: string | null;
  header_function: string | null;
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
}

/** A CLI device (Convoy CLI listeners); empty for deliveries to endpoints. */
export interface ConvoyDeviceMetadata {
  uid: string;
  last_seen_at: string;
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
}

/** The event as a delivery carries it: a short copy, without `data` and `project_id`. */
export type DeliveryEventMetadata = Omit<ConvoyEvent, 'project_id' | 'data' | 'source_metadata' | 'failure_reason'>;

/** POST /events/batchreplay: the list's filters without paging; Convoy refuses `query` and `body` here (400). */
export interface EventReplayFilter extends DateRangeQuery {
  endpointId?: string[];
  sourceId?: string[];
  idempotencyKey?: string;
}

/** GET /events: every filter here is one Convoy applies (checked against a real Convoy). */
export interface EventListQuery extends PageQuery, EventReplayFilter {
  /** Full-text search (event id prefix, idempotency key, event type, source name). Needs Convoy's Event Search licence. */
  query?: string;
  /** A JSON object matched against the payload by containment. Needs Convoy's Event Search licence. */
  body?: string;
}

/**
 * GET /events/countbatchreplayevents counts by endpoints and dates only: Convoy ignores `idempotencyKey` and
 * `sourceId` there (the replay itself applies them), so the client refuses them rather than return a wrong count.
 */
export interface EventCountFilter extends DateRangeQuery {
  endpointId?: string[];
}

// ---------------------------------------------------------------- endpoints

/** A Convoy endpoint's state: `paused` holds its deliveries, `inactive` discards them. */
export type EndpointStatus = 'active' | 'inactive' | 'paused' | '';

/** How Convoy authenticates to an endpoint: an API-key header, basic auth or OAuth2. */
export interface EndpointAuthentication {
  type: 'api_key' | 'basic_auth' | 'oauth2';
  api_key?: { header_name: string; header_value: string };
  basic_auth?: { username: string; password: string };
  oauth2?: Record<string, unknown>;
}

/** What an endpoint is created from (POST /endpoints). */
export interface CreateEndpointRequest {
  name: string;
  url: string;
  /** Generated by Convoy (25 random characters) when absent. */
  secret?: string;
  owner_id?: string;
  description?: string;
  /** `t=…,v1=…` signatures (the default from API version 2024-01-01) or a bare HMAC. */
  advanced_signatures?: boolean;
  support_email?: string;
  slack_webhook_url?: string;
  teams_webhook_url?: string;
  /** Seconds per attempt (honoured only with Convoy's advanced_endpoint_mgmt licence; otherwise 10). */
  http_timeout?: number;
  rate_limit?: number;
  /** Seconds. */
  rate_limit_duration?: number;
  content_type?: 'application/json' | 'application/x-www-form-urlencoded';
  is_disabled?: boolean;
  authentication?: EndpointAuthentication;
  mtls_client_cert?: { client_cert: string; client_key: string };
}

/** Convoy requires `name` and `url` on update; omitted optional fields keep their value. */
export type UpdateEndpointRequest = CreateEndpointRequest;

/** One of an endpoint's signing secrets (returned in clear text by Convoy). */
export interface EndpointSecret {
  uid: string;
  /** Returned in clear text by Convoy. */
  value: string;
  expires_at?: string | null;
  created_at: string;
  updated_at: string;
  deleted_at?: string | null;
}

/** An endpoint as Convoy returns it: where it delivers, how it signs, its status and limits. */
export interface ConvoyEndpoint {
  uid: string;
  project_id: string;
  name: string;
  url: string;
  /** Absent when the endpoint has no owner. */
  owner_id?: string;
  description: string;
  status: EndpointStatus;
  secrets: EndpointSecret[];
  advanced_signatures: boolean;
  http_timeout: number;
  rate_limit: number;
  rate_limit_duration: number;
  content_type: string;
  /** Stored only with Convoy's advanced_endpoint_mgmt licence, and never sent back by v26.7. */
  support_email?: string;
  slack_webhook_url?: string;
  teams_webhook_url?: string;
  /** `null` in create and update answers when there is none; `{}` on reads of such an endpoint. */
  authentication: EndpointAuthentication | EmptyObject | null;
  /** Licensed (mutual TLS); the key comes back as "[REDACTED]". */
  mtls_client_cert?: { client_cert: string; client_key: string } | null;
  /** Circuit-breaker state and failure figures: licensed; `null` on a community Convoy. */
  cb_state: string | null;
  failure_rate: number | null;
  period_failure_rate: number | null;
  success_count: number | null;
  failure_count: number | null;
  retry_count: number | null;
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
}

/**
 * The endpoint as a delivery or subscription carries it: in deliveries `secrets` is `null` and the settings are
 * zero values (`http_timeout` 0, `content_type` ""), since Convoy copies only the endpoint's identity there.
 */
export interface EndpointMetadata extends Omit<ConvoyEndpoint, 'secrets'> {
  secrets: EndpointSecret[] | null;
}

/** Filters and paging of an endpoint list (GET /endpoints). Convoy has no `sort` here (its order is newest first, always). */
export interface EndpointListQuery extends Omit<PageQuery, 'sort'> {
  /** Matches the endpoint name. */
  q?: string;
  ownerId?: string;
}

/** A secret rotation: the new secret, and how long the current one keeps signing. */
export interface ExpireSecretRequest {
  /** The new secret; generated by Convoy when absent. */
  secret?: string;
  /** Seconds the old secret keeps signing (advanced signatures sign with both meanwhile). */
  expiration: number;
}

// ---------------------------------------------------------------- subscriptions

/** A subscription filter: conditions on the event's body, headers and query. */
export interface FilterSchema {
  body?: Record<string, unknown>;
  headers?: Record<string, unknown>;
  query?: Record<string, unknown>;
  path?: Record<string, unknown>;
}

/** Which events a subscription passes on: event types and a filter on their content. */
export interface SubscriptionFilterConfig {
  /** Default ["*"]. Applied only on licensed instances (advanced_subscriptions); community Convoy stores ["*"]. */
  event_types?: string[];
  filter?: FilterSchema;
}

/** What a subscription is created from: the endpoint, and the events it receives. */
export interface CreateSubscriptionRequest {
  name: string;
  endpoint_id: string;
  source_id?: string;
  filter_config?: SubscriptionFilterConfig;
  alert_config?: { count?: number; threshold?: string };
  rate_limit_config?: { count?: number; duration?: number };
  delivery_mode?: 'at_least_once' | 'at_most_once';
  function?: string;
}

/** What a subscription's update may change, retry settings included. */
export interface UpdateSubscriptionRequest extends Partial<CreateSubscriptionRequest> {
  retry_config?: {
    type?: 'linear' | 'exponential';
    duration?: string;
    interval_seconds?: number;
    retry_count?: number;
  };
}

/** A subscription as Convoy returns it: which events an endpoint receives, with its filter. */
export interface ConvoySubscription {
  uid: string;
  project_id: string;
  name: string;
  type: 'api' | 'cli' | (string & {});
  /** `null` in the create answer; the endpoint on reads and updates. */
  endpoint_metadata: EndpointMetadata | null;
  source_metadata: ConvoySourceMetadata | null;
  device_metadata: ConvoyDeviceMetadata | null;
  /** What Convoy stored: a community Convoy stores `event_types: ["*"]` whatever was asked (filters are licensed). */
  filter_config: { event_types: string[]; filter: FilterSchema & { is_flattened: boolean } };
  alert_config?: { count?: number; threshold?: string } | null;
  rate_limit_config?: { count?: number; duration?: number } | null;
  retry_config?: { type?: string; duration?: number; retry_count?: number } | null;
  delivery_mode: 'at_least_once' | 'at_most_once' | '';
  function: string | null;
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
}

/** GET /subscriptions. Convoy has no `sort` here. */
export interface SubscriptionListQuery extends Omit<PageQuery, 'sort'> {
  endpointId?: string[];
  name?: string;
}

/** A filter and a sample request, to test whether the filter matches (POST /subscriptions/test_filter). */
export interface TestFilterRequest {
  schema: FilterSchema;
  request: FilterSchema;
}

// ---------------------------------------------------------------- deliveries

/** Where a delivery stands: Convoy's statuses, the same on the embedded engine ("" on Convoy's CLI deliveries). */
export type EventDeliveryStatus = 'Scheduled' | 'Processing' | 'Discarded' | 'Failure' | 'Success' | 'Retry' | '';

/** A delivery's retry state (trials, limit, strategy, next send time) and the event's data. */
export interface DeliveryMetadata {
  num_trials: number;
  retry_limit: number;
  interval_seconds: number;
  max_retry_seconds?: number;
  strategy: 'linear' | 'exponential' | (string & {});
  next_send_time: string;
  /** The event's data, parsed. */
  data?: unknown;
  /** The event's data, as the bytes that are sent. */
  raw?: string;
}

/** One event's delivery to one endpoint, with its status and retry state, in Convoy's shape on both transports. */
export interface ConvoyEventDelivery {
  uid: string;
  project_id: string;
  event_id: string;
  endpoint_id: string;
  subscription_id: string;
  /** "" unless the delivery goes to a Convoy CLI device. */
  device_id: string;
  event_type: string;
  /** "" when the event had none. */
  idempotency_key: string;
  status: EventDeliveryStatus;
  /** Why the last attempt failed, e.g. "Endpoint returned status code 500"; absent on success. */
  description?: string;
  delivery_mode: 'at_least_once' | 'at_most_once' | '';
  headers: HttpHeaderMap | null;
  metadata: DeliveryMetadata;
  /** The embedded engine's deliveries carry the endpoint's URL; Convoy's do not. */
  target_url?: string;
  /** Go's duration text (often ""): use latency_seconds. */
  latency: string;
  latency_seconds: number;
  url_query_params: string;
  endpoint_metadata: EndpointMetadata | null;
  event_metadata: DeliveryEventMetadata | null;
  source_metadata: ConvoySourceMetadata | null;
  device_metadata: ConvoyDeviceMetadata | null;
  cli_metadata: Record<string, unknown> | null;
  acknowledged_at: string | null;
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
}

/** Filters and paging of a delivery list (GET /eventdeliveries): every filter here is one Convoy applies (checked against a real Convoy). */
export interface EventDeliveryListQuery extends PageQuery, DateRangeQuery {
  endpointId?: string[];
  eventId?: string;
  /** The event type (Convoy's query parameter `eventType`; it ignores `event_type`). */
  eventType?: string;
  idempotencyKey?: string;
  status?: EventDeliveryStatus[];
  subscriptionId?: string;
}

/** Which deliveries a batch retry covers: the list's filters without its paging. */
export type EventDeliveryFilterQuery = Omit<
  EventDeliveryListQuery,
  'direction' | 'next_page_cursor' | 'prev_page_cursor' | 'perPage' | 'sort'
>;

/** One HTTP request Convoy made for a delivery: the request, the response and the outcome. */
export interface ConvoyDeliveryAttempt {
  uid: string;
  msg_id: string;
  project_id: string;
  endpoint_id: string;
  /** The Convoy version that made the attempt, e.g. "v26.7.3". */
  api_version: string;
  url: string;
  method: string;
  ip_address: string;
  request_http_header: Record<string, string>;
  /** `null` when no response came back. */
  response_http_header: Record<string, string> | null;
  /** Go's status text, e.g. "200 OK", "500 Internal Server Error"; "" when no response came back. */
  http_status: string;
  response_data: string;
  /** Why the attempt failed without a response (e.g. a connection error). */
  error?: string;
  /**
   * `true` on success; **absent** on failure (Convoy omits a false value), so `status === false` never matches.
   * Test `status === true`, or use WebhookDeliveries.attempts(), whose `succeeded` is always set.
   */
  status?: true;
  requested_at: string;
  responded_at?: string;
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
}

// ---------------------------------------------------------------- portal links

/** What a portal link is created or updated from. */
export interface PortalLinkRequest {
  name: string;
  /** Required since API version 2025-11-24: the link covers every endpoint of this owner. */
  owner_id: string;
  auth_type?: 'static_token' | 'refresh_token';
  can_manage_endpoint?: boolean;
  /** Deprecated by Convoy: use owner_id. */
  endpoints?: string[];
}

/** A portal link as Convoy returns it: a customer-facing dashboard of one owner's endpoints. */
export interface ConvoyPortalLink {
  uid: string;
  project_id?: string;
  name: string;
  owner_id: string;
  token: string;
  url: string;
  auth_type: string;
  auth_key?: string;
  can_manage_endpoint: boolean;
  endpoint_count: number;
  endpoints?: string[];
  endpoints_metadata?: ConvoyEndpoint[];
  created_at: string;
  updated_at: string;
  deleted_at?: string | null;
}

/** Filters and paging of a portal-link list (GET /portal-links). */
export interface PortalLinkListQuery extends PageQuery {
  ownerId?: string;
  q?: string;
}

// ---------------------------------------------------------------- event types

/** A new entry of the event-type catalogue, optionally with a JSON schema. */
export interface CreateEventTypeRequest {
  name: string;
  category?: string;
  description?: string;
  json_schema?: Record<string, unknown>;
}

/** What an event type's update may change (everything but its name). */
export type UpdateEventTypeRequest = Omit<CreateEventTypeRequest, 'name'>;

/** An entry of the project's event-type catalogue. */
export interface ConvoyEventType {
  uid: string;
  name: string;
  category: string;
  description: string;
  json_schema: Record<string, unknown> | null;
  deprecated_at: string | null;
}

// ---------------------------------------------------------------- meta events

/** One of Convoy's own notifications to the project's meta-event URL, with its delivery state. */
export interface ConvoyMetaEvent {
  uid: string;
  project_id: string;
  event_type: string;
  status: EventDeliveryStatus;
  metadata: DeliveryMetadata;
  attempt?: {
    request_http_header?: Record<string, string>;
    response_http_header?: Record<string, string>;
    response_data?: string;
  } | null;
  created_at: string;
  updated_at: string;
  deleted_at?: string | null;
}

/** Dates and paging of a meta-event list (GET /meta-events). */
export interface MetaEventListQuery extends PageQuery, DateRangeQuery {}

// ---------------------------------------------------------------- the project

/** GET /v1/projects/{projectId}. With a project API key, Convoy answers with the key's project, whatever the id. */
export interface ConvoyProject {
  uid: string;
  name: string;
  logo_url: string;
  organisation_id: string;
  /** Only `outgoing` projects send webhooks. */
  type: 'outgoing' | 'incoming' | (string & {});
  config: ConvoyProjectConfig;
  statistics: Record<string, unknown> | null;
  retained_events: number;
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
}

/** The project's settings, as Convoy sends them (its meta-event `secret` included: never log it). */
export interface ConvoyProjectConfig {
  max_payload_read_size: number;
  replay_attacks_prevention_enabled: boolean;
  add_event_id_trace_headers: boolean;
  disable_endpoint: boolean;
  multiple_endpoint_subscriptions: boolean;
  verify_dynamic_events: boolean;
  allow_unmatched_dynamic_urls: boolean;
  search_policy: string;
  ssl: { enforce_secure_endpoints: boolean };
  ratelimit: { count: number; duration: number };
  strategy: { type: 'linear' | 'exponential' | (string & {}); duration: number; retry_count: number };
  signature: { header: string; versions: Array<{ uid: string; hash: string; encoding: string; created_at: string }> };
  request_id_header: string;
  meta_event: {
    is_enabled: boolean;
    type: string;
    event_type: string[] | null;
    url: string;
    secret: string;
    pub_sub: Record<string, unknown> | null;
  };
  circuit_breaker: Record<string, number>;
}
