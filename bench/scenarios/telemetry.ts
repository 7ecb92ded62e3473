// 7. The cost of OpenTelemetry: publish throughput to the Convoy sink with telemetry off (`telemetry: false`), against
// the default options with @opentelemetry/api loaded and no SDK registered (the no-op: target ≥ 0.97), and with an
// SDK registered (bench/support/otel-sdk.ts). Each in a process of its own, warmed up, alternated rounds.
import type { Sink } from '../support/sink-client.js';
import { alternatedRounds } from '../support/contest.js';
import { formatRounds, medianRate } from '../support/measure.js';
import type { BenchReport } from '../support/report.js';

export async function telemetryCost(report: BenchReport, sink: Sink): Promise<void> {
  const [off, noop, sdk] = await alternatedRounds(
    sink,
    ['convoy:ours-telemetry-off', 'convoy:ours', 'convoy:ours-otel-sdk'],
    20_000,
  );
  const base = medianRate(off!),
    withNoop = medianRate(noop!),
    withSdk = medianRate(sdk!);
  console.log(
    `  rounds (thousand ev/s / CPU µs per event): off ${formatRounds(off!)}; no-op ${formatRounds(noop!)}; SDK ${formatRounds(sdk!)}`,
  );
  report.addRates({
    section: '7 telemetry',
    name: 'publish → Convoy, OpenTelemetry API without SDK (no-op) vs telemetry: false',
    ours: withNoop,
    baseline: base,
    unit: 'ev/s',
    atLeast: 0.97,
  });
  report.addRates({
    section: '7 telemetry',
    name: 'publish → Convoy, SDK registered (spans batched to a dropping exporter, metrics) vs telemetry: false',
    ours: withSdk,
    baseline: base,
    unit: 'ev/s',
  });
}
