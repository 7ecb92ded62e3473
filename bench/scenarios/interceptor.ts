// 2. The interceptor's cost: the sample's POST /todos (@EmitsWebhook('todo.created')) against the identical route
// without the decorator (and, reported, with an interceptor that does nothing), in a separate process, loaded by
// autocannon; many short runs take turns between the routes (slow drifts of a noisy machine then hit them alike),
// and the medians are compared.
import autocannon from 'autocannon';
import { BenchChild } from '../support/child.js';
import type { Sink } from '../support/sink-client.js';
import { median, medianRate, percentile } from '../support/measure.js';
import { n, type BenchReport } from '../support/report.js';

type App = BenchChild<{ url: string }>;
const DECORATED = '/todos';
const PLAIN = '/plain-todos';
const INTERCEPTED = '/intercepted-todos';
const QUICK = '/quick-todos'; // @EmitsWebhook without onError: no interceptor
// The tutorials' body without an id (every request creates a new todo).
const body = JSON.stringify({ item: 'Create a Convoy outgoing project today', completed: false });

interface Load {
  requestsPerSecond: number;
  /** The app process's CPU time per answered request, µs. */
  cpuUs: number;
  /** Each 2xx response's latency, ms (autocannon's own histogram rounds to whole ms). */
  latencies: number[];
  ok: number;
}

/**
 * `seconds` of POSTs to `path`: as fast as 16 connections go, or paced at `overallRate` on one connection (with
 * several, autocannon fires them together each tick, and the bursts' queueing swamps what is measured).
 */
async function load(app: App, path: string, seconds: number, overallRate?: number): Promise<Load> {
  const latencies: number[] = [];
  const cpuBefore = await app.call<number>('cpu');
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: app.ready.url + path,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        connections: overallRate ? 1 : 16,
        duration: seconds,
        ...(overallRate ? { overallRate } : {}),
      },
      (error, result) => (error ? reject(error) : resolve(result)),
    );
    // autocannon emits (client, statusCode, bytes, responseTime in fractional ms); its typings leave out the client.
    (instance as unknown as NodeJS.EventEmitter).on(
      'response',
      (_client: unknown, status: number, _bytes: number, ms: number) => {
        if (status >= 200 && status < 300) latencies.push(ms);
      },
    );
  });
  const cpuUs = (await app.call<number>('cpu')) - cpuBefore;
  if (result.errors > 0 || result.non2xx > 0)
    throw new Error(`bench: POST ${path} had ${result.errors} errors and ${result.non2xx} non-2xx answers`);
  await app.call('reset');
  return {
    requestsPerSecond: result['2xx'] / result.duration,
    cpuUs: cpuUs / Math.max(1, result['2xx']),
    latencies,
    ok: result['2xx'],
  };
}

/** Runs the routes in turn for `rounds` rounds (which goes first rotates too); each route's rounds. */
async function alternate<T>(
  rounds: number,
  run: (path: string) => Promise<T>,
  paths = [PLAIN, DECORATED],
): Promise<Record<string, T[]>> {
  const results: Record<string, T[]> = Object.fromEntries(paths.map((path) => [path, []]));
  for (let round = 0; round < rounds; round++) {
    const order = [...paths.slice(round % paths.length), ...paths.slice(0, round % paths.length)];
    for (const path of order) results[path]!.push(await run(path));
  }
  return results;
}

/** Medians of the rate and of the CPU per request, per route, printing the rounds. */
function rates(rounds: Record<string, Load[]>) {
  const k = (xs: Load[]) => xs.map((x) => x.requestsPerSecond.toFixed(0)).join('/');
  console.log(
    `  rounds (req/s): ${Object.entries(rounds)
      .map(([path, xs]) => `${path} ${k(xs)}`)
      .join(', ')}`,
  );
  const of = (xs: Load[]) => medianRate(xs.map((x) => ({ rate: x.requestsPerSecond, cpu: x.cpuUs })));
  return Object.fromEntries(Object.entries(rounds).map(([path, xs]) => [path, of(xs)]));
}

/** Checks that the decorated route really published one webhook per request it answered. */
async function publishedPerRequest(app: App, run: () => Promise<Load>): Promise<Load> {
  const before = await app.call<number>('sent');
  const result = await run();
  const published = (await app.call<number>('sent')) - before;
  // Requests cut off when the run ends were answered by the app but not counted by autocannon.
  if (published < result.ok || published > result.ok + 16)
    throw new Error(`bench: ${result.ok} decorated requests answered, ${published} webhooks sent`);
  return result;
}

export async function interceptorCost(report: BenchReport, sink: Sink): Promise<void> {
  const section = '2 interceptor';
  const app = await BenchChild.start<{ url: string }>(new URL('../support/todos-app.js', import.meta.url), {
    BENCH_TRANSPORT: 'null',
  });
  try {
    // Warm-up: the routes kept getting faster for about five rounds (the app's code reaching optimised form).
    for (let round = 0; round < 4; round++)
      for (const path of [PLAIN, INTERCEPTED, QUICK, DECORATED]) await load(app, path, 2);
    const rps = rates(
      await alternate(
        12,
        (path) =>
          path === DECORATED || path === QUICK
            ? publishedPerRequest(app, () => load(app, path, 2))
            : load(app, path, 2),
        [PLAIN, INTERCEPTED, QUICK, DECORATED],
      ),
    );
    const [plain, intercepted, quick, decorated] = [rps[PLAIN]!, rps[INTERCEPTED]!, rps[QUICK]!, rps[DECORATED]!];
    const unit = 'req/s';
    report.addRates({
      section,
      name: 'no-I/O transport: req/s with @EmitsWebhook vs without',
      ours: decorated,
      baseline: plain,
      unit,
      atLeast: 0.95,
    });
    report.addRates({
      section,
      name: 'no-I/O transport: req/s with @EmitsWebhook without onError (no interceptor) vs without',
      ours: quick,
      baseline: plain,
      unit,
    });
    // Any interceptor costs a route Nest's interceptor path; this row leaves out that share.
    report.addRates({
      section,
      name: 'no-I/O transport: req/s with @EmitsWebhook vs with an interceptor that does nothing',
      ours: decorated,
      baseline: intercepted,
      unit,
    });

    const rate = Math.min(1_500, Math.max(200, Math.round((plain.rate * 0.25) / 100) * 100)); // moderate: a quarter of the maximum
    const p99rounds = await alternate(6, async (path) => percentile((await load(app, path, 3, rate)).latencies, 99));
    const k = (xs: number[]) => xs.map((x) => x.toFixed(2)).join('/');
    console.log(`  rounds (p99 ms): decorated ${k(p99rounds[DECORATED]!)}, plain ${k(p99rounds[PLAIN]!)}`);
    const p99 = { plain: median(p99rounds[PLAIN]!), decorated: median(p99rounds[DECORATED]!) };
    const extra = p99.decorated - p99.plain;
    report.add({
      section,
      name: `no-I/O transport: p99 latency at ${n(rate)} req/s, with vs without (difference)`,
      ours: `${p99.decorated.toFixed(2)} ms`,
      baseline: `${p99.plain.toFixed(2)} ms`,
      ratio: extra,
      target: '≤ +1 ms',
      met: extra <= 1,
    });
  } finally {
    await app.stop();
  }

  const convoyApp = await BenchChild.start<{ url: string }>(new URL('../support/todos-app.js', import.meta.url), {
    BENCH_TRANSPORT: 'convoy',
    BENCH_CONVOY_URL: sink.ready.url,
  });
  try {
    for (const path of [PLAIN, DECORATED]) await load(convoyApp, path, 2);
    const rounds = await alternate(4, (path) =>
      path === DECORATED ? publishedPerRequest(convoyApp, () => load(convoyApp, path, 2)) : load(convoyApp, path, 2),
    );
    const { [PLAIN]: plain, [DECORATED]: decorated } = rates(rounds);
    report.addRates({
      section,
      name: 'Convoy transport to the sink (3 processes on 2 cores): req/s with vs without',
      ours: decorated!,
      baseline: plain!,
      unit: 'req/s',
    });
  } finally {
    await convoyApp.stop();
  }
}
