// npm run bench: the publish path, the interceptor, the embedded engine, the durable path, memory, the event
// catalog's validation and OpenTelemetry, each as a ratio against a baseline measured in the same run (absolute figures vary by machine;
// the ratios are the targets).
// Prints a table and writes bench/results.json and bench/results.md (the README's table). The Convoy sink and the webhook receiver run in a separate process.
import { writeFileSync } from 'node:fs';
import { BenchChild } from './support/child.js';
import type { Sink } from './support/sink-client.js';
import { BenchReport } from './support/report.js';
import { publishThroughput } from './scenarios/publish-throughput.js';
import { interceptorCost } from './scenarios/interceptor.js';
import { embeddedEngine } from './scenarios/embedded.js';
import { durable } from './scenarios/durable.js';
import { memory } from './scenarios/memory.js';
import { isolation } from './scenarios/isolation.js';
import { eventCatalog } from './scenarios/event-catalog.js';
import { telemetryCost } from './scenarios/telemetry.js';

const only = process.argv.slice(2); // e.g. `npm run bench -- embedded` runs one scenario
const scenarios: Record<string, (report: BenchReport, sink: Sink) => Promise<void>> = {
  throughput: publishThroughput,
  interceptor: interceptorCost,
  embedded: embeddedEngine,
  durable,
  memory,
  isolation,
  catalog: eventCatalog,
  telemetry: telemetryCost,
};

const report = new BenchReport();
const started = performance.now();
const sink: Sink = await BenchChild.start<{ url: string }>(new URL('./support/sink.js', import.meta.url));
try {
  for (const [name, run] of Object.entries(scenarios)) {
    if (only.length > 0 && !only.includes(name)) continue;
    console.log(`${name}:`);
    await run(report, sink);
  }
} finally {
  await sink.stop();
}
const seconds = Math.round((performance.now() - started) / 1000);
if (only.length === 0) {
  report.finish(new URL('../../bench/results.json', import.meta.url), { seconds });
  writeFileSync(new URL('../../bench/results.md', import.meta.url), `${report.markdown()}\n`);
} else report.finish(new URL('../../bench/results.partial.json', import.meta.url), { seconds, only });
console.log(`Took ${seconds} s.`);
