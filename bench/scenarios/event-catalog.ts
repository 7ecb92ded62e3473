// 6. The cost of a registered event catalog: publish throughput to the Convoy sink with a zod schema of the
// bench's todo checked on every publish ('reject'), against the same publisher without a catalog, alternated rounds.
import { z } from 'zod';
import { defineWebhookEvents } from '../../lib/index.js';
import type { Sink } from '../support/sink-client.js';
import { medianRate, type Rate } from '../support/measure.js';
import { n, type BenchReport } from '../support/report.js';
import { throughPublisher } from './publish-throughput.js';

/** The schema of bench/support/constants.ts's todo, as an application would write it. */
const catalog = defineWebhookEvents({
  'todo.created': z.object({
    id: z.number().int().min(1),
    title: z.string().min(1),
    description: z.string(),
    completed: z.boolean(),
    tags: z.array(z.string()),
    created_at: z.iso.datetime(),
  }),
});

export async function eventCatalog(report: BenchReport, sink: Sink): Promise<void> {
  const N = 20_000;
  const plain: Rate[] = [],
    checked: Rate[] = [];
  await throughPublisher(sink, N); // warm-up, as in the publish scenario
  await throughPublisher(sink, N, { events: catalog, eventValidation: 'reject' });
  for (let round = 0; round < 5; round++) {
    plain.push(await throughPublisher(sink, N));
    checked.push(await throughPublisher(sink, N, { events: catalog, eventValidation: 'reject' }));
  }
  const base = medianRate(plain),
    ours = medianRate(checked);
  const k = (xs: Rate[]) => xs.map((x) => (x.rate / 1000).toFixed(1)).join('/');
  console.log(`  rounds (thousand ev/s): with catalog ${k(checked)}, without ${k(plain)}`);
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
