// 3. The embedded engine: signed deliveries/s from publish() to a receiver in a separate process (fanned out,
// stored, signed, sent, logged) against a raw undici Pool loop posting the same bodies at the same concurrency;
// then the emit-to-receive latency at half our maximum rate, with the raw loop's at the same rate as the floor.
import { NestFactory } from '@nestjs/core';
import { Pool } from 'undici';
import { ConvoyModule, WebhookEndpoints, WebhookPublisher } from '../../lib/index.js';
import { hooksReached, sinkCounts, type Sink } from '../support/sink-client.js';
import { todo } from '../support/constants.js';
import { atFixedRate, clock, concurrently, cpuTime, median, percentile } from '../support/measure.js';
import { n, type BenchReport } from '../support/report.js';

const CONCURRENCY = 8;
const hooks = async (receiver: Sink) => (await sinkCounts(receiver)).hooks;

export async function embeddedEngine(report: BenchReport, receiver: Sink): Promise<void> {
  const section = '3 embedded engine';
  const hookUrl = `${receiver.ready.url}/hook/bench`;
  const pool = new Pool(receiver.ready.url, { connections: CONCURRENCY });
  const post = (data: unknown) =>
    pool
      .request({
        method: 'POST',
        path: '/hook/raw',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(data),
      })
      .then((r) => r.body.text());
  const rawRate = async (events: number) => {
    const { result: seconds, cpuUs } = await cpuTime(() => concurrently(events, CONCURRENCY, () => post(todo)));
    return { rate: events / seconds, cpu: cpuUs / events };
  };

  const app = await NestFactory.createApplicationContext(
    ConvoyModule.forRoot({
      embedded: { allowedAddresses: ['127.0.0.0/8'] },
      delivery: { concurrency: CONCURRENCY, endpointConcurrency: CONCURRENCY, bufferSize: 100_000 },
    }),
    { logger: false },
  );
  try {
    await app.get(WebhookEndpoints).create({ name: 'bench', url: hookUrl });
    const publisher = app.get(WebhookPublisher);
    const ourRate = async (events: number) => {
      const before = await sinkCounts(receiver);
      const started = performance.now();
      const { cpuUs } = await cpuTime(async () => {
        for (let i = 0; i < events; i++) await publisher.publish('todo.created', todo);
        await hooksReached(receiver, before.hooks + events);
      });
      const seconds = (performance.now() - started) / 1000;
      const signed = (await sinkCounts(receiver)).signedHooks - before.signedHooks;
      if (signed !== events) throw new Error(`bench: ${signed} of ${events} deliveries arrived signed`);
      return { rate: events / seconds, cpu: cpuUs / events };
    };

    await rawRate(2_000);
    await ourRate(2_000); // warm-up
    const raw: Array<{ rate: number; cpu: number }> = [],
      ours: Array<{ rate: number; cpu: number }> = [];
    for (let round = 0; round < 3; round++) {
      raw.push(await rawRate(10_000));
      ours.push(await ourRate(10_000));
    }
    const r = median(raw.map((x) => x.rate)),
      o = median(ours.map((x) => x.rate));
    report.add({
      section,
      name: `deliveries/s, publish() → received, vs raw undici Pool (${CONCURRENCY} at a time)`,
      ours: `${n(o)} ev/s`,
      baseline: `${n(r)} ev/s`,
      ratio: o / r,
      target: '≥ 0.8',
      met: o / r >= 0.8,
      oursCpuUs: median(ours.map((x) => x.cpu)),
      baselineCpuUs: median(raw.map((x) => x.cpu)),
    });

    // Latency at half our maximum rate: each body carries the moment it was emitted; the receiver subtracts.
    // Alternated rounds, median of each round's percentile: this 2-vCPU VM stalls now and then for 10-30 ms (a raw
    // loop alone shows it), and one stall in one round should not decide the figure.
    const rate = Math.round(o / 2);
    const seconds = 4;
    const latencies = async (emit: () => Promise<unknown>) => {
      const before = await hooks(receiver);
      await receiver.call('measure', true);
      await atFixedRate(rate, seconds, emit);
      await hooksReached(receiver, before + rate * seconds);
      const measured = await receiver.call<number[]>('measure', false);
      if (measured.length !== rate * seconds)
        throw new Error(`bench: ${measured.length} of ${rate * seconds} timed deliveries arrived`);
      return { p50: percentile(measured, 50), p99: percentile(measured, 99) };
    };
    const rawRounds: Array<{ p50: number; p99: number }> = [],
      ourRounds: Array<{ p50: number; p99: number }> = [];
    for (let round = 0; round < 3; round++) {
      rawRounds.push(await latencies(() => post({ ...todo, emitted_at: clock() })));
      ourRounds.push(await latencies(() => publisher.publish('todo.created', { ...todo, emitted_at: clock() })));
    }
    const p = (rounds: Array<{ p50: number; p99: number }>, key: 'p50' | 'p99') => median(rounds.map((r) => r[key]));
    const rounds = (rs: Array<{ p99: number }>) => rs.map((r) => r.p99.toFixed(1)).join('/');
    report.add({
      section,
      name: `emit → receive p50 at ${n(rate)} ev/s (half the max), vs a raw POST's`,
      ours: `${p(ourRounds, 'p50').toFixed(2)} ms`,
      baseline: `${p(rawRounds, 'p50').toFixed(2)} ms`,
      ratio: p(ourRounds, 'p50') / p(rawRounds, 'p50'),
      target: 'reported',
    });
    report.add({
      section,
      name: `emit → receive p99 at ${n(rate)} ev/s, median of 3 rounds (ours ${rounds(ourRounds)}, raw ${rounds(rawRounds)} ms)`,
      ours: `${p(ourRounds, 'p99').toFixed(2)} ms`,
      baseline: `${p(rawRounds, 'p99').toFixed(2)} ms`,
      ratio: p(ourRounds, 'p99') / p(rawRounds, 'p99'),
      target: 'ours < 20 ms',
      met: p(ourRounds, 'p99') < 20,
    });
  } finally {
    await app.close();
    await pool.close();
  }
}
