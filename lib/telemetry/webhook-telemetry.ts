import type { AttemptResult, DeliveryRoute } from '../pipeline/pipeline.js';
import type { OutgoingWebhook, WebhookTarget } from '../publishing/webhook.types.js';
import type { DeliveryRecord, DeliveryStatus } from '../storage/records.js';
import { redactUrl } from '../utils/redact.js';
import { PACKAGE_VERSION } from '../version.js';
import {
  loadedOtelApi,
  type Attributes,
  type Counter,
  type Histogram,
  type MeterProvider,
  type OtelApi,
  type Span,
  type SpanContext,
  type Tracer,
  type TracerProvider,
} from './otel-api.js';
import { formatTraceparent, isTraceparent, parseTraceparent } from './trace-context.js';

/** The module's `telemetry` option, resolved. */
export interface TelemetrySettings {
  traces: boolean;
  metrics: boolean;
  propagate: boolean;
}

/** The instrumentation scope of every span and instrument. */
export const INSTRUMENTATION_NAME = 'nestjs-convoy';
/** `messaging.system` of the spans this package makes itself; the sends to Convoy say `convoy`. */
export const MESSAGING_SYSTEM = 'nestjs-convoy';

/** Metric names (OpenTelemetry units: durations in seconds, counts in `{…}` annotations). */
export const METRICS = {
  published: 'webhooks.published',
  delivered: 'webhooks.delivered',
  failed: 'webhooks.failed',
  retries: 'webhooks.retries',
  queueLag: 'webhooks.queue.lag',
  deliveryDuration: 'webhooks.delivery.duration',
} as const;

// SpanKind and SpanStatusCode of the API (numbers: the API need not be loaded to name them).
const INTERNAL = 0;
const CLIENT = 2;
const PRODUCER = 3;
const CONSUMER = 4;
const ERROR = 2;

/** Seconds-long buckets for lag and latency: from 5 ms to 5 minutes. */
const SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

interface Instruments {
  published: Counter;
  delivered: Counter;
  failed: Counter;
  retries: Counter;
  queueLag: Histogram;
  deliveryDuration: Histogram;
}

/** What a traced send adds to the request: the W3C headers of the span (or of the stored context). */
export interface TraceHeaders {
  traceparent: string;
  tracestate?: string;
}

/** One `{ url.full, server.address, server.port }` per URL: endpoint URLs are few, attempts many. */
const urlAttributes = new Map<string, Attributes>();

function urlAttributesOf(url: string): Attributes {
  let found = urlAttributes.get(url);
  if (!found) {
    let address = '';
    let port: number | undefined;
    try {
      const parsed = new URL(url);
      address = parsed.hostname.replace(/^\[|\]$/g, '');
      port = parsed.port ? Number(parsed.port) : parsed.protocol === 'https:' ? 443 : 80;
    } catch {
      // Not a URL: only url.full, redacted.
    }
    found = { 'url.full': redactUrl(url), 'server.address': address || undefined, 'server.port': port };
    if (urlAttributes.size >= 10_000) urlAttributes.clear(); // a bound, not an LRU
    urlAttributes.set(url, found);
  }
  return found;
}

function targetKind(target: WebhookTarget): string {
  if ('endpointId' in target) return 'endpoint';
  if ('ownerId' in target) return 'owner';
  if ('url' in target) return 'url';
  return 'broadcast';
}

/**
 * Traces and metrics through `@opentelemetry/api`, an optional peer. Without it, with `telemetry: false`, or while no
 * SDK is registered, every method returns at its first check (no span, no attribute object): the hot path pays a
 * property read and a comparison per event. An SDK registered later is picked up at the next event.
 *
 * Spans: `publish <type>` (producer, child of the active span: the HTTP request) and `store <type>` under it; the
 * pipeline's `claim <type>` (consumer) per delivery, whose parent is the publish span's context stored with the event
 * (and linked, since the claim may run in another process or after a restart); under it `deliver <type>` (the embedded
 * engine's POST) or `send <type>` (to Convoy), also linked to the publish span.
 */
export class WebhookTelemetry {
  /** Telemetry off: what the parts get when used without the module. */
  static readonly off = new WebhookTelemetry(false, undefined);

  /** Send `traceparent` to receivers (embedded) and in Convoy's custom headers. */
  readonly propagate: boolean;
  private readonly api: OtelApi | undefined;
  private readonly traces: boolean;
  private readonly metrics: boolean;
  private readonly noopTracerProvider: TracerProvider | undefined;
  private tracerOf: TracerProvider | undefined;
  private currentTracer: Tracer | undefined;
  private meterOf: MeterProvider | undefined;
  private currentInstruments: Instruments | undefined;
  /** The claim span of each delivery being worked on (an entry goes with its record). */
  private readonly claims = new WeakMap<DeliveryRecord, Span>();
  /** Metric attributes per event type and system, made once (types are few, events many). */
  private readonly metricAttributes = new Map<string, Attributes>();

  constructor(settings: TelemetrySettings | false, api: OtelApi | undefined = loadedOtelApi()) {
    this.api = api;
    this.traces = settings !== false && settings.traces && api !== undefined;
    this.metrics = settings !== false && settings.metrics && api !== undefined;
    this.propagate = settings !== false && settings.propagate;
    this.noopTracerProvider = api ? new api.ProxyTracerProvider().getDelegate() : undefined;
  }

  /** The tracer of the registered SDK, or undefined (traces off, no API, no SDK): the per-event check. */
  private tracer(): Tracer | undefined {
    if (!this.traces) return undefined;
    const api = this.api!;
    const provider = api.trace.getTracerProvider();
    const delegate = provider instanceof api.ProxyTracerProvider ? provider.getDelegate() : provider;
    if (delegate === this.noopTracerProvider) return undefined;
    if (delegate !== this.tracerOf) {
      this.tracerOf = delegate;
      this.currentTracer = delegate.getTracer(INSTRUMENTATION_NAME, PACKAGE_VERSION);
    }
    return this.currentTracer;
  }

  /** The instruments of the registered meter provider, or undefined (metrics off, no API, no SDK). */
  private instruments(): Instruments | undefined {
    if (!this.metrics) return undefined;
    const api = this.api!;
    const provider = api.metrics.getMeterProvider();
    if (provider === this.meterOf) return this.currentInstruments;
    this.meterOf = provider;
    const meter = provider.getMeter(INSTRUMENTATION_NAME, PACKAGE_VERSION);
    const seconds = { unit: 's', advice: { explicitBucketBoundaries: SECONDS_BUCKETS } };
    this.currentInstruments =
      meter === api.createNoopMeter()
        ? undefined
        : {
            published: meter.createCounter(METRICS.published, { unit: '{event}', description: 'Events published' }),
            delivered: meter.createCounter(METRICS.delivered, {
              unit: '{delivery}',
              description: 'Deliveries delivered to their endpoint, or accepted by the transport (Convoy)',
            }),
            failed: meter.createCounter(METRICS.failed, {
              unit: '{delivery}',
              description: 'Deliveries that failed for good (exhausted, rejected or discarded)',
            }),
            retries: meter.createCounter(METRICS.retries, {
              unit: '{retry}',
              description: 'Attempts that failed and were scheduled again',
            }),
            queueLag: meter.createHistogram(METRICS.queueLag, {
              ...seconds,
              description: 'Time from publish() to the first attempt of a delivery',
            }),
            deliveryDuration: meter.createHistogram(METRICS.deliveryDuration, {
              ...seconds,
              description: 'Duration of one attempt: the POST to the endpoint, or the hand-over to Convoy',
            }),
          };
    return this.currentInstruments;
  }

  private metricAttributesOf(eventType: string, system: string): Attributes {
    const key = `${system}\u0000${eventType}`;
    let found = this.metricAttributes.get(key);
    if (!found) {
      found = { 'messaging.system': system, 'messaging.destination.name': eventType };
      if (this.metricAttributes.size >= 1_000) this.metricAttributes.clear(); // a bound: types come from code
      this.metricAttributes.set(key, found);
    }
    return found;
  }

  // ------------------------------------------------------------ publish()

  /**
   * The `publish <type>` span, child of the active context (the HTTP request's span), or undefined when not tracing.
   * Sets the message's stored trace context to it, so that the attempts link back to it from any process.
   */
  startPublish(message: OutgoingWebhook): Span | undefined {
    const tracer = this.tracer();
    if (tracer === undefined) return undefined;
    const target = message.target;
    const span = tracer.startSpan(`publish ${message.eventType}`, {
      kind: PRODUCER,
      attributes: {
        'messaging.system': MESSAGING_SYSTEM,
        'messaging.operation.type': 'send',
        'messaging.operation.name': 'publish',
        'messaging.destination.name': message.eventType,
        'messaging.message.id': message.id,
        'webhook.event_type': message.eventType,
        'webhook.idempotency_key': message.idempotencyKey,
        'webhook.target': targetKind(target),
        'webhook.endpoint_id': 'endpointId' in target ? target.endpointId : undefined,
        'webhook.ordering_key': message.orderingKey,
      },
    });
    const context = span.spanContext();
    message.traceparent = formatTraceparent(context);
    message.tracestate = context.traceState?.serialize() || undefined;
    return span;
  }

  /** `store <type>` under the publish span: the write to the outbox (the group commit), or to memory. */
  startStore(publish: Span, message: OutgoingWebhook, durable: boolean, inTransaction: boolean): Span {
    const api = this.api!;
    return this.currentTracer!.startSpan(
      `store ${message.eventType}`,
      {
        kind: INTERNAL,
        attributes: {
          'messaging.system': MESSAGING_SYSTEM,
          'messaging.operation.type': 'create',
          'messaging.operation.name': 'store',
          'messaging.destination.name': message.eventType,
          'messaging.message.id': message.id,
          'webhook.durable': durable,
          'webhook.in_transaction': inTransaction,
        },
      },
      api.trace.setSpan(api.context.active(), publish),
    );
  }

  /** Ends a span, with an error status when `error` is given. */
  end(span: Span, error?: unknown): void {
    if (error !== undefined) fail(span, error);
    span.end();
  }

  /** publish() stored an event. */
  published(message: OutgoingWebhook): void {
    const instruments = this.instruments();
    if (instruments === undefined) return;
    instruments.published.add(1, this.metricAttributesOf(message.eventType, MESSAGING_SYSTEM));
  }

  // ------------------------------------------------------------ the pipeline

  /** Whether claims are traced now (checked once per claim, not per delivery). */
  get tracing(): boolean {
    return this.tracer() !== undefined;
  }

  /**
   * The pipeline claimed `delivery` at `at`: its `claim <type>` span starts, child of the publish span's stored
   * context and linked to it (another process, or this one after a restart, may have published it).
   */
  claimed(delivery: DeliveryRecord, at: number, route: string): void {
    const tracer = this.currentTracer ?? this.tracer();
    if (tracer === undefined) return;
    const api = this.api!;
    const stored = parseTraceparent(delivery.traceparent, delivery.tracestate, api.createTraceState);
    const span = tracer.startSpan(
      `claim ${delivery.event_type}`,
      {
        kind: CONSUMER,
        startTime: at,
        links: stored ? [{ context: stored }] : undefined,
        attributes: {
          'messaging.system': MESSAGING_SYSTEM,
          'messaging.operation.type': 'process',
          'messaging.operation.name': 'claim',
          'messaging.destination.name': delivery.event_type,
          'messaging.message.id': delivery.event_id,
          'webhook.event_type': delivery.event_type,
          'webhook.delivery_id': delivery.uid,
          'webhook.endpoint_id': delivery.endpoint_id ?? undefined,
          'webhook.idempotency_key': delivery.idempotency_key,
          'webhook.attempt': delivery.num_trials + 1,
          'webhook.route': route,
        },
      },
      stored ? api.trace.setSpan(api.ROOT_CONTEXT, api.trace.wrapSpanContext(stored)) : api.ROOT_CONTEXT,
    );
    this.claims.set(delivery, span);
  }

  /** The route's attempt, inside the claim span's context when traced (so that the transport's spans are its children). */
  withinClaim(delivery: DeliveryRecord, route: DeliveryRoute, signal: AbortSignal): Promise<AttemptResult> {
    const span = this.traces ? this.claims.get(delivery) : undefined;
    if (span === undefined) return route.attempt(delivery, signal);
    const api = this.api!;
    return api.context.with(api.trace.setSpan(api.context.active(), span), () => route.attempt(delivery, signal));
  }

  /** The claim's outcome is decided (attempted, put back, discarded): its span ends. */
  claimEnded(delivery: DeliveryRecord, result: AttemptResult | undefined): void {
    if (!this.traces) return;
    const span = this.claims.get(delivery);
    if (span === undefined) return;
    this.claims.delete(delivery);
    if (result === undefined) span.setAttribute('webhook.outcome', 'released');
    else {
      span.setAttribute('webhook.outcome', result.outcome);
      if (result.outcome === 'retry' || result.outcome === 'failure') fail(span, result.error);
      else if (result.outcome === 'discard') fail(span, result.reason);
    }
    span.end();
  }

  /** An attempt starts: the queue lag of a first attempt (publish to attempt). */
  attemptStarted(delivery: DeliveryRecord, now: number): void {
    if (delivery.num_trials > 0) return;
    const instruments = this.instruments();
    if (instruments === undefined) return;
    instruments.queueLag.record(
      Math.max(0, now - delivery.created_at) / 1000,
      this.metricAttributesOf(delivery.event_type, MESSAGING_SYSTEM),
    );
  }

  /** An attempt ended (`startedAt`: epoch ms): its duration, when it reached the wire. */
  attempted(delivery: DeliveryRecord, result: AttemptResult, startedAt: number): void {
    if (result.outcome === 'postpone' || result.outcome === 'discard') return;
    const instruments = this.instruments();
    if (instruments === undefined) return;
    const ms = result.latencyMs ?? Date.now() - startedAt;
    instruments.deliveryDuration.record(ms / 1000, this.metricAttributesOf(delivery.event_type, MESSAGING_SYSTEM));
  }

  /** An outcome was written: delivered, failed for good, or scheduled again. */
  settled(delivery: DeliveryRecord, status: DeliveryStatus, result: AttemptResult): void {
    const instruments = this.instruments();
    if (instruments === undefined) return;
    const attributes = this.metricAttributesOf(delivery.event_type, MESSAGING_SYSTEM);
    if (status === 'Success') instruments.delivered.add(1, attributes);
    else if (status === 'Retry' && result.outcome === 'retry') instruments.retries.add(1, attributes);
    else if (status === 'Failure' || status === 'Discarded') instruments.failed.add(1, attributes);
  }

  // ------------------------------------------------------------ the wire

  /**
   * The embedded engine's attempt: `deliver <type>` (client), child of the delivery's claim span, linked to the
   * publish span; undefined when not tracing.
   */
  startDeliver(delivery: DeliveryRecord, url: string): Span | undefined {
    const parent = this.claims.get(delivery);
    const tracer = parent === undefined ? this.tracer() : this.currentTracer;
    if (tracer === undefined) return undefined;
    const api = this.api!;
    const stored = parseTraceparent(delivery.traceparent, delivery.tracestate, api.createTraceState);
    const span = tracer.startSpan(
      `deliver ${delivery.event_type}`,
      {
        kind: CLIENT,
        links: stored ? [{ context: stored }] : undefined,
        attributes: {
          'messaging.system': MESSAGING_SYSTEM,
          'messaging.operation.type': 'send',
          'messaging.operation.name': 'deliver',
          'messaging.destination.name': delivery.event_type,
          'messaging.message.id': delivery.event_id,
          'http.request.method': 'POST',
          ...urlAttributesOf(url),
          'webhook.event_type': delivery.event_type,
          'webhook.delivery_id': delivery.uid,
          'webhook.endpoint_id': delivery.endpoint_id ?? undefined,
          'webhook.idempotency_key': delivery.idempotency_key,
          'webhook.attempt': delivery.num_trials + 1,
        },
      },
      parent ? api.trace.setSpan(api.context.active(), parent) : api.context.active(),
    );
    return span;
  }

  /**
   * A send to Convoy: `send <type>` (client), child of the active context (the claim span), linked to the publish
   * span; undefined when not tracing.
   */
  startConvoySend(message: OutgoingWebhook, url: string): Span | undefined {
    const tracer = this.tracer();
    if (tracer === undefined) return undefined;
    const api = this.api!;
    const stored = parseTraceparent(message.traceparent, message.tracestate, api.createTraceState);
    const target = message.target;
    return tracer.startSpan(`send ${message.eventType}`, {
      kind: CLIENT,
      links: stored ? [{ context: stored }] : undefined,
      attributes: {
        'messaging.system': 'convoy',
        'messaging.operation.type': 'send',
        'messaging.operation.name': 'send',
        'messaging.destination.name': message.eventType,
        'messaging.message.id': message.id,
        'http.request.method': 'POST',
        ...urlAttributesOf(url),
        'webhook.event_type': message.eventType,
        'webhook.idempotency_key': message.idempotencyKey,
        'webhook.target': targetKind(target),
        'webhook.endpoint_id': 'endpointId' in target ? target.endpointId : undefined,
      },
    });
  }

  /** An HTTP answer came: its status on the span, an error status when it is not 2xx. */
  responded(span: Span, status: number | null, error?: string): void {
    if (status !== null) span.setAttribute('http.response.status_code', status);
    if (status !== null && status >= 200 && status < 300) return;
    span.setAttribute('error.type', status === null ? (error ?? 'network error').split(':')[0]! : String(status));
    span.setStatus({ code: ERROR, message: error || `HTTP ${status}` });
  }

  /**
   * The `traceparent` (and `tracestate`) to send: the send's own span when traced, else the context stored with the
   * event (published by a process that traced it); undefined when propagation is off or there is none.
   */
  traceHeaders(
    span: Span | undefined,
    traceparent: string | null | undefined,
    tracestate?: string | null,
  ): TraceHeaders | undefined {
    if (!this.propagate) return undefined;
    if (span !== undefined) {
      const context: SpanContext = span.spanContext();
      const state = context.traceState?.serialize();
      return { traceparent: formatTraceparent(context), tracestate: state || undefined };
    }
    if (!isTraceparent(traceparent)) return undefined;
    return { traceparent, tracestate: tracestate || undefined };
  }
}

function fail(span: Span, error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof Error) span.recordException(error);
  span.setStatus({ code: ERROR, message });
}

/** Whether `headers` already names `name` (any case): a caller's own traceparent is left as it is. */
export function hasHeader(headers: Record<string, string>, name: string): boolean {
  for (const key in headers) if (key.length === name.length && key.toLowerCase() === name) return true;
  return false;
}
