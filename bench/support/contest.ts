// The parent's side of a contestant process (bench/support/contestant.ts): throughput rounds timed until the sink
// counted every event, paced sends for latency, and warm-up.
import { BenchChild } from './child.js';
import { reached, sinkCounts, type Sink } from './sink-client.js';
import type { Rate } from './measure.js';

/**
 * Warm-up rounds before any is measured: a contestant's CPU per event kept falling for 3 to 4 rounds of 20 000
 * events (its own code reaching optimised form), for the raw loops as for us; a long-running application is past it.
 */
export const WARM_UP_ROUNDS = 5;

export class ContestantProcess {
  private constructor(
    private readonly child: BenchChild,
    private readonly sink: Sink,
    /** What the sink counts of it; 'none': it sends nowhere, and counts what it handed over itself. */
    private readonly kind: 'events' | 'hooks' | 'none',
    private readonly signed: boolean,
  ) {}

  /** `name` as in contestants.ts; `signed`: every webhook it sends must carry a Convoy signature. */
  static async start(name: string, sink: Sink, options: { signed?: boolean } = {}): Promise<ContestantProcess> {
    const child = await BenchChild.start(new URL('./contestant.js', import.meta.url), {
      BENCH_CONTESTANT: name,
      BENCH_SINK_URL: sink.ready.url,
    });
    const kind = name.startsWith('hook:') ? 'hooks' : name.startsWith('none:') ? 'none' : 'events';
    return new ContestantProcess(child, sink, kind, options.signed ?? false);
  }

  /** `events` sent as fast as its callers go, timed until the sink counted them all, and its CPU µs per event. */
  async round(events: number): Promise<Rate> {
    if (this.kind === 'none') return this.roundWithoutSink(events);
    const before = await sinkCounts(this.sink);
    const cpuBefore = await this.child.call<number>('cpu');
    const started = performance.now();
    await this.child.call('burst', events);
    await reached(this.sink, this.kind, before[this.kind] + events);
    const seconds = (performance.now() - started) / 1000;
    const cpuUs = (await this.child.call<number>('cpu')) - cpuBefore;
    await this.check(before, events);
    return { rate: events / seconds, cpu: cpuUs / events };
  }

  /** A round of a contestant that sends nowhere: timed until it handed everything over. */
  private async roundWithoutSink(events: number): Promise<Rate> {
    const before = await this.child.call<number>('handedOver');
    const cpuBefore = await this.child.call<number>('cpu');
    const started = performance.now();
    await this.child.call('burst', events);
    const handedOver = (await this.child.call<number>('handedOver')) - before;
    const seconds = (performance.now() - started) / 1000;
    const cpuUs = (await this.child.call<number>('cpu')) - cpuBefore;
    if (handedOver !== events) throw new Error(`bench: ${handedOver} of ${events} events were handed over`);
    return { rate: events / seconds, cpu: cpuUs / events };
  }

  async warmUp(events: number): Promise<void> {
    for (let round = 0; round < WARM_UP_ROUNDS; round++) await this.round(events);
  }

  /** Sends at `rate` for `seconds`, each event carrying when it was sent; resolves once the sink counted them all. */
  async paced(rate: number, seconds: number): Promise<void> {
    if (this.kind === 'none') throw new Error('bench: a contestant that sends nowhere has no latency to measure');
    const before = await sinkCounts(this.sink);
    await this.child.call('paced', { rate, seconds });
    await reached(this.sink, this.kind, before[this.kind] + Math.round(rate * seconds));
    await this.check(before, Math.round(rate * seconds));
  }

  async stop(): Promise<void> {
    await this.child.call('close');
    await this.child.stop();
  }

  /** Exactly `events` arrived (signed, when they must be): nothing lost, nothing sent twice. */
  private async check(before: { events: number; hooks: number; signedHooks: number }, events: number): Promise<void> {
    const after = await sinkCounts(this.sink);
    const kind = this.kind as 'events' | 'hooks';
    const arrived = after[kind] - before[kind];
    if (arrived !== events) throw new Error(`bench: the sink received ${arrived} ${this.kind}, expected ${events}`);
    const signed = after.signedHooks - before.signedHooks;
    if (this.signed && signed !== events) throw new Error(`bench: ${signed} of ${events} webhooks arrived signed`);
  }
}

/**
 * Each named contestant in a process of its own, warmed up, then `rounds` rounds of `events` each, alternated (a
 * noisy moment hurts one round, not one contestant); the rates of each, in the order of `names`. Stops them after.
 */
export async function alternatedRounds(sink: Sink, names: string[], events: number, rounds = 5): Promise<Rate[][]> {
  const contestants = await Promise.all(names.map((name) => ContestantProcess.start(name, sink)));
  try {
    for (const contestant of contestants) await contestant.warmUp(events);
    const rates: Rate[][] = names.map(() => []);
    for (let round = 0; round < rounds; round++)
      for (let i = 0; i < contestants.length; i++) rates[i]!.push(await contestants[i]!.round(events));
    return rates;
  } finally {
    await Promise.all(contestants.map((contestant) => contestant.stop()));
  }
}
