import { performance } from 'node:perf_hooks';
import type { Dispatcher } from 'undici';
import { DestinationBlockedError, InvalidDestinationError } from '../../errors/destination.errors.js';
import { signConvoyPayloadSha256 } from '../../signing/convoy-signature.js';
import { signStandardWebhook } from '../../signing/standard-webhooks.js';
import { parseRetryAfter } from '../../utils/backoff.js';
import { httpExchange, HttpExchangeTimeout } from '../../utils/http-exchange.js';
import { uuidv7 } from '../../utils/uuid.js';
import type { AttemptRecord, DeliveryRecord, EndpointRecord } from '../../storage/records.js';
import { activeSecrets } from './endpoint-registry.js';
import type { Span } from '../../telemetry/otel-api.js';
import { hasHeader, WebhookTelemetry } from '../../telemetry/webhook-telemetry.js';

/** What one attempt came to, for the worker to decide what happens next. */
export type AttemptOutcome =
  | { kind: 'success'; attempt: AttemptRecord }
  /** Worth trying again: 3xx, 4xx, 5xx, timeouts, network errors. `retryAfterMs` from 429/503. */
  | { kind: 'retry'; attempt: AttemptRecord; retryAfterMs?: number; status: number | null }
  /** 410 Gone: the receiver asks us to stop; the endpoint is disabled. */
  | { kind: 'gone'; attempt: AttemptRecord }
  /** The SSRF guard refused the destination; trying again would not change that. */
  | { kind: 'blocked'; attempt: AttemptRecord };

export interface HttpDeliveryOptions {
  userAgent: string;
  /** Response bytes kept in the log (after decoding a compressed body); the rest is not read. */
  maxResponseBytes: number;
}

/**
 * One delivery attempt, exactly as Convoy makes it: an HTTP POST of the event's data bytes, signed per endpoint,
 * with Convoy's headers, through a guarded undici agent (a keep-alive pool per origin, every connection pinned
 * to an address the SSRF guard checked). Redirects are never followed.
 */
export class HttpDelivery {
  constructor(
    /** The guarded agent: it refuses blocked addresses, IP literals included, before any socket opens. */
    private readonly agent: Dispatcher,
    private readonly options: HttpDeliveryOptions,
    private readonly telemetry: WebhookTelemetry = WebhookTelemetry.off,
  ) {}

  attempt(delivery: DeliveryRecord, endpoint: EndpointRecord, signal?: AbortSignal): Promise<AttemptOutcome> {
    const span = this.telemetry.startDeliver(delivery, endpoint.url);
    // Untraced (the usual case), the send's own promise: no async step of its own per attempt.
    return span === undefined
      ? this.send(delivery, endpoint, undefined, signal)
      : this.traced(delivery, endpoint, span, signal);
  }

  private async traced(
    delivery: DeliveryRecord,
    endpoint: EndpointRecord,
    span: Span,
    signal: AbortSignal | undefined,
  ): Promise<AttemptOutcome> {
    const outcome = await this.send(delivery, endpoint, span, signal);
    const { http_status: status, error } = outcome.attempt;
    this.telemetry.responded(span, status, error);
    span.end();
    return outcome;
  }

  private async send(
    delivery: DeliveryRecord,
    endpoint: EndpointRecord,
    span: Span | undefined,
    signal: AbortSignal | undefined,
  ): Promise<AttemptOutcome> {
    const headers = this.headers(delivery, endpoint, span);
    const requestedAt = Date.now();
    const started = performance.now();
    try {
      const { origin, path } = destinationOf(endpoint.url);
      const response = await httpExchange(
        this.agent,
        { origin, path, method: 'POST', headers, body: delivery.payload },
        {
          timeoutMs: endpoint.http_timeout * 1000,
          signal,
          maxBodyBytes: this.options.maxResponseBytes, // enough for the log; the rest is not downloaded
          decompress: true,
        },
      );
      const status = response.status;
      const responseHeaders = singleValued(response.headers);
      const body =
        response.undecodable === undefined
          ? decode(response.body)
          : `(response body not kept: ${response.undecodable})`;
      const error = status >= 300 && status < 400 ? `redirect (${status}) not followed` : '';
      const record = attemptRecord(
        delivery,
        endpoint,
        headers,
        requestedAt,
        started,
        status,
        responseHeaders,
        body,
        error,
      );
      if (record.success) return { kind: 'success', attempt: record };
      if (status === 410) return { kind: 'gone', attempt: record };
      const retryAfterMs =
        status === 429 || status === 503 ? parseRetryAfter(response.headers['retry-after']) : undefined;
      return { kind: 'retry', attempt: record, retryAfterMs, status };
    } catch (error) {
      // The guard's refusal arrives as the error itself, or as the cause of undici's connect error.
      const blocked = [error, (error as { cause?: unknown } | null)?.cause].find(
        (e) => e instanceof DestinationBlockedError || e instanceof InvalidDestinationError,
      );
      if (blocked) {
        const message = (blocked as Error).message;
        const record = attemptRecord(delivery, endpoint, headers, requestedAt, started, null, {}, '', message);
        return { kind: 'blocked', attempt: record };
      }
      const message =
        error instanceof HttpExchangeTimeout
          ? `timed out after ${endpoint.http_timeout} s`
          : describeNetworkError(error);
      const record = attemptRecord(delivery, endpoint, headers, requestedAt, started, null, {}, '', message);
      return { kind: 'retry', attempt: record, status: null };
    }
  }

  /** Convoy's headers (in Convoy's canonical casing), the event's custom headers, then the signature. */
  private headers(delivery: DeliveryRecord, endpoint: EndpointRecord, span: Span | undefined): Record<string, string> {
    const secrets = secretValues(endpoint);
    const custom = delivery.custom_headers;
    const trace = this.telemetry.traceHeaders(span, delivery.traceparent, delivery.tracestate);
    // The usual attempt (no custom, trace or API key header, Convoy's signature) in one literal: the log keeps
    // this object, and properties added after a literal go to a second object of their own.
    if (trace === undefined && !endpoint.api_key_header && endpoint.signature_format !== 'standard' && isEmpty(custom))
      return {
        'Content-Type': 'application/json',
        'User-Agent': this.options.userAgent,
        'Accept-Encoding': 'gzip',
        'X-Convoy-Idempotency-Key': delivery.idempotency_key,
        'X-Convoy-Signature': signConvoyPayloadSha256(delivery.payload, secrets, endpoint.advanced_signatures),
      };
    const headers: Record<string, string> = {
      'Content-Type': 'application/json',
      'User-Agent': this.options.userAgent,
      'Accept-Encoding': 'gzip',
      'X-Convoy-Idempotency-Key': delivery.idempotency_key,
    };
    for (const name in custom) headers[name] = custom[name]!;
    // W3C Trace Context, as Svix sends it: the receiver's spans join the trace of the request that published.
    if (trace !== undefined && !hasHeader(custom, 'traceparent')) {
      headers.traceparent = trace.traceparent;
      if (trace.tracestate !== undefined) headers.tracestate = trace.tracestate;
    }
    if (endpoint.api_key_header) headers[endpoint.api_key_header.name] = endpoint.api_key_header.value;
    if (endpoint.signature_format === 'standard') {
      Object.assign(headers, signStandardWebhook(delivery.payload, { id: delivery.idempotency_key, secrets }));
    } else {
      headers['X-Convoy-Signature'] = signConvoyPayloadSha256(delivery.payload, secrets, endpoint.advanced_signatures);
    }
    return headers;
  }
}

/** One record of one shape, whatever the outcome (it is made for every attempt). */
function attemptRecord(
  delivery: DeliveryRecord,
  endpoint: EndpointRecord,
  headers: Record<string, string>,
  requestedAt: number,
  started: number,
  httpStatus: number | null,
  responseHeaders: Record<string, string>,
  responseBody: string,
  error: string,
): AttemptRecord {
  return {
    uid: uuidv7(),
    delivery_id: delivery.uid,
    endpoint_id: endpoint.uid,
    url: endpoint.url,
    method: 'POST',
    request_headers: endpoint.api_key_header ? redact(headers, endpoint.api_key_header.name) : headers,
    http_status: httpStatus,
    response_headers: responseHeaders,
    response_body: responseBody,
    error,
    success: httpStatus !== null && httpStatus >= 200 && httpStatus < 300,
    latency_ms: Math.round(performance.now() - started),
    requested_at: requestedAt,
    responded_at: httpStatus === null ? null : Date.now(),
  };
}

/** The attempt log keeps the request headers (the very object sent), but never the endpoint's API key. */
function redact(headers: Record<string, string>, name: string): Record<string, string> {
  return { ...headers, [name]: '[redacted]' };
}

/** Origin and request path of endpoint URLs, parsed once per URL rather than once per attempt. */
const destinations = new Map<string, { origin: string; path: string }>();

function destinationOf(url: string): { origin: string; path: string } {
  let found = destinations.get(url);
  if (!found) {
    const { origin, pathname, search } = new URL(url);
    found = { origin, path: pathname + search };
    if (destinations.size >= 10_000) destinations.clear(); // a bound, not an LRU: endpoints are few, URLs rarely change
    destinations.set(url, found);
  }
  return found;
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

function decode(body: Buffer): string {
  if (body.length === 0) return '';
  const text = utf8.decode(body);
  // Cut on a character boundary: a trailing partial UTF-8 sequence becomes nothing rather than U+FFFD noise.
  return text.charCodeAt(text.length - 1) === 0xfffd ? text.replace(/\uFFFD+$/, '') : text;
}

function isEmpty(headers: Record<string, string>): boolean {
  for (const _ in headers) return false;
  return true;
}

/**
 * The last value seen of each response header name (at most MAX_REMEMBERED names, short values only). The log keeps every attempt's
 * response headers, and most values repeat from one response to the next (Connection, Keep-Alive, Server, Date
 * within its second): one that equals the last is kept as that same string, and its own copy dies young.
 */
const lastValues = new Map<string, string>();
const MAX_REMEMBERED = 256;
const MAX_REMEMBERED_LENGTH = 200;

/**
 * The response headers with one string per name: undici's object itself when it has no repeated header (the
 * usual case), with the values that equal the last ones seen replaced by those.
 */
function singleValued(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  for (const name in headers) {
    const value = headers[name];
    if (typeof value !== 'string') return flatten(headers);
    const last = lastValues.get(name);
    if (last === value) headers[name] = last;
    else if (value.length <= MAX_REMEMBERED_LENGTH && (last !== undefined || lastValues.size < MAX_REMEMBERED))
      lastValues.set(name, value);
  }
  return headers as Record<string, string>;
}

function flatten(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers))
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value;
  return out;
}

/** The values of the endpoint's active secrets, oldest first. */
function secretValues(endpoint: EndpointRecord): string[] {
  const { secrets } = endpoint;
  if (secrets.length === 1 && secrets[0]!.expires_at === null) return [secrets[0]!.value];
  return activeSecrets(endpoint).map((s) => s.value);
}

function describeNetworkError(error: unknown): string {
  const e = error as { code?: string; message?: string };
  return e.code ? `${e.code}: ${e.message}` : String(e.message ?? error);
}
