// 6. The cost of a registered event catalog: publish throughput to the Convoy sink with a zod schema of the
// bench's todo checked on every publish ('reject', bench/support/todo-catalog.ts), against the same publisher
// without a catalog. Each in a process of its own, warmed up, alternated rounds.
import type { Sink } from '../support/sink-client.js';
import { alternatedRounds } from '../support/contest.js';
import { formatRounds, medianRate } from '../support/measure.js';
import type { BenchReport } from '../support/report.js';

export async function eventCatalog(report: BenchReport, sink: Sink): Promise<void> {
  const [plain, checked] = await alternatedRounds(sink, ['convoy:ours', 'convoy:ours-catalog'], 20_000);
  const base = medianRate(plain!),
    ours = medianRate(checked!);
  console.log(
    `  rounds (thousand ev/s / CPU µs per event): with catalog ${formatRounds(checked!)}; without ${formatRounds(plain!)}`,
  );
  report.addRates({
    section: '6 event catalog',
    name: 'publish → Convoy with a zod catalog (validation "reject") vs no catalog',
    ours,
    baseline: base,
    unit: 'ev/s',
    atLeast: 0.9,
  });
}
