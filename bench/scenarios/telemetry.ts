// 7. The cost of OpenTelemetry: publish throughput to the Convoy sink with telemetry off (`telemetry: false`), against
// the default options with @opentelemetry/api loaded and no SDK registered (the no-op: target ≥ 0.97), and with an
// SDK registered (every span recorded and batched to an exporter that drops them, metrics aggregated), alternated
// rounds.
import { context, metrics, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, BatchSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { Sink } from '../support/sink-client.js';
import { medianRate, type Rate } from '../support/measure.js';
import { n, type BenchReport } from '../support/report.js';
import { throughPublisher } from './publish-throughput.js';

/** An exporter that drops what it is given: the cost measured is the SDK's, not a backend's. */
const dropping: SpanExporter = {
  export: (_spans, done) => done({ code: 0 }),
  shutdown: async () => undefined,
};

/** Registers an SDK for one round: spans batched to the dropping exporter, a meter provider without export. */
async function withSdk<T>(run: () => Promise<T>): Promise<T> {
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(dropping)] });
  const meterProvider = new MeterProvider();
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(tracerProvider);
  metrics.setGlobalMeterProvider(meterProvider);
  try {
    return await run();
  } finally {
    trace.disable();
    metrics.disable();
    context.disable();
    await tracerProvider.shutdown();
    await meterProvider.shutdown();
  }
}

export async function telemetryCost(report: BenchReport, sink: Sink): Promise<void> {
  const N = 20_000;
  const off: Rate[] = [],
    noop: Rate[] = [],
    sdk: Rate[] = [];
  await throughPublisher(sink, N, { telemetry: false }); // warm-up, as in the publish scenario
  await throughPublisher(sink, N);
  await withSdk(() => throughPublisher(sink, N));
  for (let round = 0; round < 5; round++) {
    off.push(await throughPublisher(sink, N, { telemetry: false }));
    noop.push(await throughPublisher(sink, N));
    sdk.push(await withSdk(() => throughPublisher(sink, N)));
  }
  const base = medianRate(off),
    withNoop = medianRate(noop),
    withSdkRate = medianRate(sdk);
  const k = (xs: Rate[]) => xs.map((x) => (x.rate / 1000).toFixed(1)).join('/');
  console.log(`  rounds (thousand ev/s): off ${k(off)}, no-op ${k(noop)}, SDK ${k(sdk)}`);
  report.add({
    section: '7 telemetry',
    name: 'publish → Convoy, OpenTelemetry API without SDK (no-op) vs telemetry: false',
    ours: `${n(withNoop.rate)} ev/s`,
    baseline: `${n(base.rate)} ev/s`,
    ratio: withNoop.rate / base.rate,
    target: '≥ 0.97',
    met: withNoop.rate / base.rate >= 0.97,
    oursCpuUs: withNoop.cpu,
    baselineCpuUs: base.cpu,
  });
  report.add({
    section: '7 telemetry',
    name: 'publish → Convoy, SDK registered (spans batched to a dropping exporter, metrics) vs telemetry: false',
    ours: `${n(withSdkRate.rate)} ev/s`,
    baseline: `${n(base.rate)} ev/s`,
    ratio: withSdkRate.rate / base.rate,
    target: 'reported',
    oursCpuUs: withSdkRate.cpu,
    baselineCpuUs: base.cpu,
  });
}
