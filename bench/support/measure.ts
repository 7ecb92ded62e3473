import { performance } from 'node:perf_hooks';

/** The machine's clock in ms with sub-ms precision, comparable between processes on one machine. */
export const clock = (): number => performance.timeOrigin + performance.now();

export function median(values: number[]): number {
  return percentile(values, 50);
}

/** Nearest-rank percentile of `values` (not modified). */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Runs `loops` concurrent async loops that together call `work(i)` for i = 0..n-1; resolves with the seconds taken. */
export async function concurrently(n: number, loops: number, work: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: loops }, async () => {
      while (next < n) await work(next++);
    }),
  );
  return (performance.now() - started) / 1000;
}

/** Polls `done` every 2 ms; throws with `what` when it is still false after `timeoutMs`. */
export async function waitUntil(
  done: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`bench: timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** This process's CPU time (user + system, all threads: GC and compilers included) while `work` runs, in µs. */
export async function cpuTime<T>(work: () => Promise<T>): Promise<{ result: T; cpuUs: number }> {
  const before = process.cpuUsage();
  const result = await work();
  const used = process.cpuUsage(before);
  return { result, cpuUs: used.user + used.system };
}

/**
 * Calls `emit(i)` `rate` times per second for `seconds`, on schedule (open loop: a slow emit does not delay the
 * next one), and resolves when every emit has settled.
 */
export async function atFixedRate(rate: number, seconds: number, emit: (i: number) => Promise<unknown>): Promise<void> {
  const total = Math.round(rate * seconds);
  const started = performance.now();
  const inFlight: Promise<unknown>[] = [];
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate) + 1);
    while (sent < due) inFlight.push(emit(sent++));
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await Promise.all(inFlight);
}

/** A throughput and this process's CPU time per event (µs). */
export interface Rate {
  rate: number;
  cpu: number;
}

/** The median rate and the median CPU µs per event of some rounds (each median on its own). */
export function medianRate(rounds: Rate[]): Rate {
  return { rate: median(rounds.map((r) => r.rate)), cpu: median(rounds.map((r) => r.cpu)) };
}

/** Rounds as printed in the log: `thousand ev/s/CPU µs per event` each, e.g. `7.4/136 8.1/122`. */
export function formatRounds(rounds: Rate[]): string {
  return rounds.map((r) => `${(r.rate / 1000).toFixed(1)}/${r.cpu.toFixed(0)}`).join(' ');
}
