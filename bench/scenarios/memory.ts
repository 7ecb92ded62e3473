// 5. Memory: the heap after 200 000 published events (all sent) against the heap before them; then a 30-second
// Convoy outage (the sink answers 503) while events keep coming: the buffer must stay within its configured bound,
// publish() must wait rather than drop, and everything must arrive once Convoy is back.
import { NestFactory } from '@nestjs/core';
import { ConvoyModule, WebhookPublisher } from '../../lib/index.js';
import { sinkCounts, type Sink } from '../support/sink-client.js';
import { API_KEY, PROJECT, todo } from '../support/constants.js';
import { atFixedRate } from '../support/measure.js';
import { n, type BenchReport } from '../support/report.js';

const MB = 2 ** 20;

function heapAfterGc(): number {
  if (!globalThis.gc) throw new Error('bench: run node with --expose-gc (npm run bench does)');
  globalThis.gc();
  globalThis.gc();
  return process.memoryUsage().heapUsed;
}

const events = async (sink: Sink) => (await sinkCounts(sink)).events;

export async function memory(report: BenchReport, sink: Sink): Promise<void> {
  const section = '5 memory';
  const bufferSize = 10_000;
  const app = await NestFactory.createApplicationContext(
    ConvoyModule.forRoot({
      convoy: { baseUrl: `${sink.ready.url}/api`, apiKey: API_KEY, projectId: PROJECT },
      defaultTarget: { broadcast: true },
      // Retries no further apart than 2 s, so the backlog drains soon after the outage.
      delivery: { bufferSize, whenFull: 'wait', retry: { delayMs: 500, maxDelayMs: 2_000, attempts: 100 } },
    }),
    { logger: false },
  );
  try {
    const publisher = app.get(WebhookPublisher);
    // Warm-up, so that what the first events load (code, pools) is not counted as growth.
    for (let i = 0; i < 5_000; i++) await publisher.publish('todo.created', { ...todo, id: i });
    await publisher.flush();
    const start = heapAfterGc();
    const total = 200_000;
    const before = await events(sink);
    for (let i = 0; i < total; i++) await publisher.publish('todo.created', { ...todo, id: i });
    await publisher.flush();
    const arrived = (await events(sink)) - before;
    if (arrived !== total) throw new Error(`bench: ${arrived} of ${total} events reached the sink`);
    const end = heapAfterGc();
    report.add({
      section,
      name: `heap after ${n(total)} events published and sent vs before`,
      ours: `${n(end / MB, 1)} MB`,
      baseline: `${n(start / MB, 1)} MB`,
      ratio: (end - start) / MB,
      target: '≤ +20 MB',
      met: end - start <= 20 * MB,
    });

    // The outage: 30 s of 503s while 1 000 events/s are published; the buffer holds 10 000.
    const rate = 1_000,
      seconds = 30;
    const outageStart = heapAfterGc();
    const sentBefore = await events(sink);
    await sink.call('outage', true);
    let maxHeld = 0,
      accepted = 0;
    const sampler = setInterval(() => {
      void publisher.stats().then((stats) => {
        maxHeld = Math.max(maxHeld, stats.pending + stats.inFlight);
      });
    }, 50);
    // publish() waits while the buffer is full; those calls resolve once Convoy is back and room frees up.
    const publishing = atFixedRate(rate, seconds, (i) =>
      publisher.publish('todo.created', { ...todo, id: i }).then(() => accepted++),
    );
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    const acceptedDuringOutage = accepted;
    // What the outage holds: the full buffer, plus the publish() calls waiting for room (each with its serialized event).
    const heldByOutage = heapAfterGc() - outageStart;
    await sink.call('outage', false);
    await publishing;
    await publisher.flush();
    clearInterval(sampler);
    const delivered = (await events(sink)) - sentBefore;
    if (delivered !== rate * seconds)
      throw new Error(`bench: ${delivered} of ${rate * seconds} events published during the outage arrived`);
    report.add({
      section,
      name: `${seconds} s Convoy outage (503s) at ${n(rate)} ev/s: most events held in the buffer vs its bound (all ${n(delivered)} delivered after)`,
      ours: `${n(maxHeld)} events`,
      baseline: `${n(bufferSize)} events`,
      ratio: maxHeld / bufferSize,
      target: '≤ 1',
      met: maxHeld <= bufferSize,
    });
    const waiting = rate * seconds - acceptedDuringOutage;
    report.add({
      section,
      name: `heap held at the outage's end: the full buffer, and ${n(waiting)} publish() calls waiting for room with their events`,
      ours: `+${n(heldByOutage / MB, 1)} MB`,
      baseline: `${n(outageStart / MB, 1)} MB`,
      ratio: heldByOutage / outageStart,
      target: 'reported',
    });
  } finally {
    await app.close();
  }
}
