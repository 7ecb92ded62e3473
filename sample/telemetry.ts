// OpenTelemetry for the sample, loaded before the app (sample/main.ts). With OTEL_TRACES_EXPORTER=console it registers
// the SDK for Node with a console exporter and the HTTP instrumentation, so that `POST /todos`, its publish, the
// claim, the delivery and the demo receiver's request print as one trace (OTEL_METRICS_EXPORTER=console adds the
// metrics every 10 s). Otherwise it loads and registers nothing: ConvoyModule then records nothing either.
// In your app: the same, with the exporter you use (OTLP to a collector or Jaeger, see the README's Observability).

/** What startTelemetry() registered, to flush and unregister at shutdown. */
export interface SampleTelemetry {
  shutdown(): Promise<void>;
}

export async function startTelemetry(env: NodeJS.ProcessEnv): Promise<SampleTelemetry | undefined> {
  if (env.OTEL_TRACES_EXPORTER !== 'console') return undefined;
  const [{ ConsoleSpanExporter, NodeTracerProvider, SimpleSpanProcessor }, { registerInstrumentations }, http] =
    await Promise.all([
      import('@opentelemetry/sdk-trace-node'),
      import('@opentelemetry/instrumentation'),
      import('@opentelemetry/instrumentation-http'),
    ]);
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(new ConsoleSpanExporter())] });
  // The global tracer provider, an AsyncLocalStorage context manager and the W3C propagator.
  provider.register();
  const unregister = registerInstrumentations({ instrumentations: [new http.HttpInstrumentation()] });
  let meterProvider: { shutdown(): Promise<void> } | undefined;
  if (env.OTEL_METRICS_EXPORTER === 'console') {
    const { metrics } = await import('@opentelemetry/api');
    const { ConsoleMetricExporter, MeterProvider, PeriodicExportingMetricReader } =
      await import('@opentelemetry/sdk-metrics');
    const reader = new PeriodicExportingMetricReader({
      exporter: new ConsoleMetricExporter(),
      exportIntervalMillis: 10_000,
    });
    const meters = new MeterProvider({ readers: [reader] });
    metrics.setGlobalMeterProvider(meters);
    meterProvider = meters;
  }
  return {
    async shutdown() {
      unregister();
      await provider.shutdown();
      await meterProvider?.shutdown();
    },
  };
}
