// 6. The cost of a registered event catalog: publish throughput to the Convoy sink with a zod schema of the
// bench's todo checked on every publish ('reject', bench/support/todo-catalog.ts), against the same publisher
// without a catalog. Each in a process of its own, warmed up, alternated rounds.
import type { Sink } from '../support/sink-client.js';
import { alternatedRounds } from '../support/contest.js';
import { formatRounds, medianRate } from '../support/measure.js';
import { n, type BenchReport } from '../support/report.js';

export async function eventCatalog(report: BenchReport, sink: Sink): Promise<void> {
  const [plain, checked] = await alternatedRounds(sink, ['convoy:ours', 'convoy:ours-catalog'], 20_000);
  const base = medianRate(plain!),
    ours = medianRate(checked!);
  console.log(
    `  rounds (thousand ev/s / CPU µs per event): with catalog ${formatRounds(checked!)}; without ${formatRounds(plain!)}`,
  );
  report.add({
    section: '6 event catalog',
    name: 'publish → Convoy with a zod catalog (validation "reject") vs no catalog',
    ours: `${n(ours.rate)} ev/s`,
    baseline: `${n(base.rate)} ev/s`,
    ratio: ours.rate / base.rate,
    target: '≥ 0.9',
    met: ours.rate / base.rate >= 0.9,
    oursCpuUs: ours.cpu,
    baselineCpuUs: base.cpu,
  });
}
