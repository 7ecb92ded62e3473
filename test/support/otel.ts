import { context, metrics, trace, type Attributes } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
  type DataPoint,
  type Histogram,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** The OpenTelemetry SDK with in-memory exporters, registered globally for one test file. */
export class InMemoryOtel {
  readonly spans = new InMemorySpanExporter();
  readonly metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  readonly tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(this.spans)] });
  readonly reader = new PeriodicExportingMetricReader({
    exporter: this.metricExporter,
    exportIntervalMillis: 3_600_000,
  });
  readonly meterProvider = new MeterProvider({ readers: [this.reader] });
  private readonly contextManager = new AsyncLocalStorageContextManager();

  static register(): InMemoryOtel {
    const otel = new InMemoryOtel();
    context.setGlobalContextManager(otel.contextManager.enable());
    trace.setGlobalTracerProvider(otel.tracerProvider);
    metrics.setGlobalMeterProvider(otel.meterProvider);
    return otel;
  }

  async unregister(): Promise<void> {
    await this.tracerProvider.shutdown();
    await this.meterProvider.shutdown();
    trace.disable();
    metrics.disable();
    context.disable();
  }

  finished(): ReadableSpan[] {
    return this.spans.getFinishedSpans();
  }

  /** The one finished span named `name` (fails when there are none or several). */
  one(name: string, where: (span: ReadableSpan) => boolean = () => true): ReadableSpan {
    const found = this.finished().filter((s) => s.name === name && where(s));
    if (found.length !== 1)
      throw new Error(
        `expected one span "${name}", found ${found.length}: ${this.finished()
          .map((s) => s.name)
          .join(', ')}`,
      );
    return found[0]!;
  }

  /** Every data point of metric `name` now (collected on demand). */
  async points(name: string): Promise<Array<DataPoint<number | Histogram>>> {
    await this.reader.forceFlush();
    const exported = this.metricExporter.getMetrics().at(-1);
    const metric = exported?.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.descriptor.name === name);
    return (metric?.dataPoints ?? []) as Array<DataPoint<number | Histogram>>;
  }

  /** The sum of a counter's points, or the count of a histogram's, over all attributes. */
  async total(name: string): Promise<number> {
    return (await this.points(name)).reduce(
      (sum, p) => sum + (typeof p.value === 'number' ? p.value : (p.value as Histogram).count),
      0,
    );
  }

  /** The unit a metric was created with. */
  async unit(name: string): Promise<string | undefined> {
    await this.reader.forceFlush();
    return this.metricExporter
      .getMetrics()
      .at(-1)
      ?.scopeMetrics.flatMap((s) => s.metrics)
      .find((m) => m.descriptor.name === name)?.descriptor.unit;
  }
}

/**
 * What an HTTP server instrumentation does, as Express middleware: each request runs inside a SERVER span, so that
 * what the handler does is its child.
 */
export function serverSpans(req: IncomingMessage, res: ServerResponse, next: () => void): void {
  const span = trace
    .getTracer('test-http')
    .startSpan(`${req.method} ${req.url}`, { kind: 1, attributes: { 'http.request.method': req.method } });
  res.on('finish', () => span.end());
  context.with(trace.setSpan(context.active(), span), next);
}

export const spanId = (span: ReadableSpan): string => span.spanContext().spanId;
export const traceId = (span: ReadableSpan): string => span.spanContext().traceId;
export const parentOf = (span: ReadableSpan): string | undefined => span.parentSpanContext?.spanId;
export const linkedTo = (span: ReadableSpan): string[] => span.links.map((l) => l.context.spanId);
export const attributes = (span: ReadableSpan): Attributes => span.attributes;
