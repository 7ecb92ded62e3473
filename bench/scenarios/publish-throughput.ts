// 1. Publish throughput to Convoy: events/s through WebhookPublisher to the Convoy sink (a separate process), in
// memory, with CPU µs per event beside each rate. Baselines in the same run: (a) a raw undici Pool loop sending the
// same requests at the same concurrency (the practical limit), (b) the same loop over global fetch (what Convoy's
// JavaScript SDK uses), (c) a Pool.dispatch() loop (the floor). The durable path is bench/scenarios/durable.ts.
import { NestFactory } from '@nestjs/core';
import { Pool } from 'undici';
import { ConvoyModule, WebhookPublisher, type ConvoyModuleOptions } from '../../lib/index.js';
import { DEFAULT_API_VERSION } from '../../lib/options/option-tables.js';
import { PACKAGE_VERSION } from '../../lib/version.js';
import { sinkCounts, type Sink } from '../support/sink-client.js';
import { API_KEY, PROJECT, todo } from '../support/constants.js';
import { concurrently, cpuTime, medianRate, type Rate } from '../support/measure.js';
import { n, type BenchReport } from '../support/report.js';

/** Sends at the same time, for us (the dispatcher's and the relay's default) and for the baselines. */
const CONCURRENCY = 8;
/** Callers publishing at the same time (requests of an app). */
const PUBLISHERS = 16;

const eventCount = async (sink: Sink) => (await sinkCounts(sink)).events;

/** What ConvoyTransport sends for a broadcast, byte for byte the same request, for the baselines. */
const body = (i: number) => JSON.stringify({ event_type: 'todo.created', data: todo, idempotency_key: `bench-${i}` });
const path = `/api/v1/projects/${PROJECT}/events/broadcast`;
const headers = {
  authorization: `Bearer ${API_KEY}`,
  'x-convoy-version': DEFAULT_API_VERSION,
  'user-agent': `nestjs-convoy/${PACKAGE_VERSION}`,
  accept: 'application/json',
  'content-type': 'application/json',
};

/** (a) The practical limit: undici's documented request API, what a hand-written client would use. */
async function rawUndici(sink: Sink, events: number): Promise<Rate> {
  const pool = new Pool(sink.ready.url, { connections: CONCURRENCY });
  const { result: seconds, cpuUs } = await cpuTime(() =>
    concurrently(events, CONCURRENCY, (i) =>
      pool.request({ method: 'POST', path, headers, body: body(i) }).then((r) => r.body.text()),
    ),
  );
  await pool.close();
  return { rate: events / seconds, cpu: cpuUs / events };
}

/** The floor below (a): undici's low-level dispatch() with a handler that only collects the answer (what ConvoyClient does). */
async function rawDispatch(sink: Sink, events: number): Promise<Rate> {
  const pool = new Pool(sink.ready.url, { connections: CONCURRENCY });
  const { result: seconds, cpuUs } = await cpuTime(() =>
    concurrently(
      events,
      CONCURRENCY,
      (i) =>
        new Promise((resolve, reject) => {
          const chunks: Buffer[] = [];
          pool.dispatch(
            { method: 'POST', path, headers, body: body(i) },
            {
              onRequestStart: () => undefined, // marks the handler as undici's current API
              onResponseData: (_c, chunk) => void chunks.push(chunk),
              onResponseEnd: () => resolve(Buffer.concat(chunks).toString()),
              onResponseError: (_c, error) => reject(error),
            },
          );
        }),
    ),
  );
  await pool.close();
  return { rate: events / seconds, cpu: cpuUs / events };
}

/** (b) A loop over global fetch, as Convoy's JavaScript SDK sends. */
async function rawFetch(sink: Sink, events: number): Promise<Rate> {
  const url = sink.ready.url + path;
  const { result: seconds, cpuUs } = await cpuTime(() =>
    concurrently(events, CONCURRENCY, (i) =>
      fetch(url, { method: 'POST', headers, body: body(i) }).then((r) => r.text()),
    ),
  );
  return { rate: events / seconds, cpu: cpuUs / events };
}

/**
 * Events/s through WebhookPublisher (16 callers) until the sink answered 201 to each, and CPU µs per event; `extra`
 * adds module options (the event catalog scenario).
 */
export async function throughPublisher(sink: Sink, events: number, extra: ConvoyModuleOptions = {}): Promise<Rate> {
  const app = await NestFactory.createApplicationContext(
    ConvoyModule.forRoot({
      convoy: { baseUrl: `${sink.ready.url}/api`, apiKey: API_KEY, projectId: PROJECT },
      defaultTarget: { broadcast: true },
      delivery: { concurrency: CONCURRENCY }, // and the default buffer of 10 000 events, publish() waiting when it is full
      ...extra,
    }),
    { logger: false },
  );
  try {
    const publisher = app.get(WebhookPublisher);
    await publisher.publish('todo.created', todo); // warm the connections
    await publisher.flush();
    const before = await eventCount(sink);
    const { result: seconds, cpuUs } = await cpuTime(async () => {
      const started = performance.now();
      await concurrently(events, PUBLISHERS, () => publisher.publish('todo.created', todo));
      await publisher.flush(); // resolves when Convoy has answered 201 for every event
      return (performance.now() - started) / 1000;
    });
    const arrived = (await eventCount(sink)) - before;
    if (arrived !== events) throw new Error(`bench: the sink received ${arrived} events, expected ${events}`);
    return { rate: events / seconds, cpu: cpuUs / events };
  } finally {
    await app.close();
  }
}

export async function publishThroughput(report: BenchReport, sink: Sink): Promise<void> {
  const N = 20_000;
  // Alternated rounds, medians: a noisy moment hurts one round, not one contestant.
  const undici: Rate[] = [],
    floor: Rate[] = [],
    fetched: Rate[] = [],
    memory: Rate[] = [];
  // Warm-up: a whole round each (the first round ran 10-20 % slower for everyone: JIT, sockets, the sink's own warm-up).
  await rawUndici(sink, N);
  await rawDispatch(sink, N);
  await rawFetch(sink, 2_000);
  await throughPublisher(sink, N);
  for (let round = 0; round < 7; round++) {
    undici.push(await rawUndici(sink, N));
    memory.push(await throughPublisher(sink, N));
    floor.push(await rawDispatch(sink, N));
    if (round < 3) fetched.push(await rawFetch(sink, N / 2));
  }
  const a = medianRate(undici),
    b = medianRate(fetched),
    ours = medianRate(memory),
    low = medianRate(floor);
  const k = (xs: Rate[]) => xs.map((x) => (x.rate / 1000).toFixed(1)).join('/');
  console.log(`  rounds (thousand ev/s): ours ${k(memory)}, Pool.request ${k(undici)}, Pool.dispatch ${k(floor)}`);
  const section = '1 publish → Convoy';
  const row = (name: string, baseline: Rate, target: string, met?: boolean) =>
    report.add({
      section,
      name,
      ours: `${n(ours.rate)} ev/s`,
      baseline: `${n(baseline.rate)} ev/s`,
      ratio: ours.rate / baseline.rate,
      target,
      met,
      oursCpuUs: ours.cpu,
      baselineCpuUs: baseline.cpu,
    });
  row(
    `in-memory path vs raw undici Pool.request loop (${CONCURRENCY} at a time)`,
    a,
    '≥ 0.9',
    ours.rate / a.rate >= 0.9,
  );
  row('in-memory path vs a global fetch loop (Convoy JS SDK)', b, '≥ 3', ours.rate / b.rate >= 3);
  row('in-memory path vs raw undici Pool.dispatch loop (the floor)', low, 'reported');
}
