/**
 * The part of `@opentelemetry/api` this package uses, typed here so that no declaration file of the package names the
 * optional peer (an app without it still type-checks), and the loader that finds it once, when this module loads.
 */

export type Attributes = Record<string, string | number | boolean | undefined>;

export interface SpanContext {
  traceId: string;
  spanId: string;
  traceFlags: number;
  isRemote?: boolean;
  traceState?: { serialize(): string };
}

/** An OpenTelemetry context (opaque). */
export type OtelContext = object;

export interface Span {
  spanContext(): SpanContext;
  setAttribute(key: string, value: string | number | boolean): Span;
  setAttributes(attributes: Attributes): Span;
  setStatus(status: { code: number; message?: string }): Span;
  recordException(exception: Error | string): void;
  isRecording(): boolean;
  end(endTime?: number): void;
}

export interface SpanOptions {
  kind?: number;
  attributes?: Attributes;
  links?: Array<{ context: SpanContext; attributes?: Attributes }>;
  startTime?: number;
  root?: boolean;
}

export interface Tracer {
  startSpan(name: string, options?: SpanOptions, context?: OtelContext): Span;
}

export interface TracerProvider {
  getTracer(name: string, version?: string): Tracer;
}

export interface Counter {
  add(value: number, attributes?: Attributes): void;
}

export interface Histogram {
  record(value: number, attributes?: Attributes): void;
}

export interface Meter {
  createCounter(name: string, options?: { description?: string; unit?: string }): Counter;
  createHistogram(
    name: string,
    options?: { description?: string; unit?: string; advice?: { explicitBucketBoundaries?: number[] } },
  ): Histogram;
}

export interface MeterProvider {
  getMeter(name: string, version?: string): Meter;
}

export interface OtelApi {
  trace: {
    getTracerProvider(): TracerProvider;
    getSpan(context: OtelContext): Span | undefined;
    setSpan(context: OtelContext, span: Span): OtelContext;
    wrapSpanContext(spanContext: SpanContext): Span;
  };
  context: {
    active(): OtelContext;
    with<T>(context: OtelContext, fn: () => T): T;
  };
  metrics: { getMeterProvider(): MeterProvider };
  createNoopMeter(): Meter;
  createTraceState(this: void, text?: string): { serialize(): string };
  ProxyTracerProvider: new () => TracerProvider & { getDelegate(): TracerProvider };
  ROOT_CONTEXT: OtelContext;
}

let loaded: OtelApi | undefined;

/**
 * Looks for `@opentelemetry/api` once, as soon as this module loads (not awaited by the import, so that the package's
 * modules stay synchronous in both builds); the module's providers await it before they are built. Missing: every
 * telemetry call is a no-op.
 */
const loading: Promise<OtelApi | undefined> = import('@opentelemetry/api').then(
  (module) => (loaded = ((module as { default?: unknown }).default ?? module) as unknown as OtelApi),
  () => undefined,
);

/** `@opentelemetry/api`, once its loading has settled; undefined when it is not installed. */
export function otelApi(): Promise<OtelApi | undefined> {
  return loading;
}

/** `@opentelemetry/api` if it has loaded by now (synchronous; the module's providers wait for it). */
export function loadedOtelApi(): OtelApi | undefined {
  return loaded;
}
