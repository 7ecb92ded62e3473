// 1. Publish throughput to Convoy: events/s through WebhookPublisher to the Convoy sink (a separate process), in
// memory, with CPU µs per event beside each rate. Baselines in the same run: (a) a raw undici Pool loop sending the
// same requests at the same concurrency (the practical limit), (b) the same loop over global fetch (what Convoy's
// JavaScript SDK uses), (c) a Pool.dispatch() loop (the floor). Each contestant runs in a process of its own, warmed
// up (bench/support/contestant.ts). The durable path is bench/scenarios/durable.ts.
import type { Sink } from '../support/sink-client.js';
import { ContestantProcess } from '../support/contest.js';
import { CONCURRENCY } from '../support/contestants.js';
import { formatRounds, medianRate, type Rate } from '../support/measure.js';
import type { BenchReport } from '../support/report.js';

export async function publishThroughput(report: BenchReport, sink: Sink): Promise<void> {
  const N = 20_000;
  const [ours, undici, floor, fetched, alone, client] = await Promise.all(
    ['convoy:ours', 'convoy:request', 'convoy:dispatch', 'convoy:fetch', 'none:ours', 'convoy:client'].map((name) =>
      ContestantProcess.start(name, sink),
    ),
  );
  try {
    for (const contestant of [ours, undici, floor, alone, client]) await contestant!.warmUp(N);
    await fetched!.warmUp(N / 10); // about ten times slower
    // Alternated rounds, medians: a noisy moment hurts one round, not one contestant.
    const rounds = {
      ours: [] as Rate[],
      undici: [] as Rate[],
      floor: [] as Rate[],
      fetched: [] as Rate[],
      alone: [] as Rate[],
      client: [] as Rate[],
    };
    for (let round = 0; round < 7; round++) {
      rounds.undici.push(await undici!.round(N));
      rounds.ours.push(await ours!.round(N));
      rounds.floor.push(await floor!.round(N));
      if (round < 3) rounds.fetched.push(await fetched!.round(N / 2));
      rounds.alone.push(await alone!.round(N));
      rounds.client.push(await client!.round(N));
    }
    console.log(
      `  rounds (thousand ev/s / CPU µs per event): ours ${formatRounds(rounds.ours)}; Pool.request ${formatRounds(rounds.undici)}; Pool.dispatch ${formatRounds(rounds.floor)}; client ${formatRounds(rounds.client)}; no I/O ${formatRounds(rounds.alone)}`,
    );
    const a = medianRate(rounds.undici),
      b = medianRate(rounds.fetched),
      o = medianRate(rounds.ours),
      low = medianRate(rounds.floor);
    const section = '1 publish → Convoy';
    const row = (name: string, baseline: Rate, atLeast?: number) =>
      report.addRates({ section, name, ours: o, baseline, unit: 'ev/s', atLeast });
    row(`in-memory path vs raw undici Pool.request loop (${CONCURRENCY} at a time)`, a, 0.9);
    row('in-memory path vs a global fetch loop (Convoy JS SDK)', b, 3);
    row('in-memory path vs raw undici Pool.dispatch loop (the floor)', low);
    report.addRates({
      section,
      name: `our typed client alone (events.broadcast(), ${CONCURRENCY} at a time, no pipeline) vs raw undici Pool.request loop`,
      ours: medianRate(rounds.client),
      baseline: a,
      unit: 'ev/s',
    });
    // What the library itself costs, without the network: far steadier than any rate, the figure to optimise.
    const own = medianRate(rounds.alone);
    report.add({
      section,
      name: "our own cost: publish() → pipeline → in-memory store → a transport without I/O (16 callers), vs a raw Pool.request's CPU",
      ours: `${own.cpu.toFixed(1)} µs CPU/ev`,
      baseline: `${a.cpu.toFixed(1)} µs CPU/ev`,
      ratio: own.cpu / a.cpu,
      target: 'reported',
    });
  } finally {
    await Promise.all([ours, undici, floor, fetched, alone, client].map((contestant) => contestant!.stop()));
  }
}
