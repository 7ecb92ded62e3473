import type { BenchChild } from './child.js';

/** The sink process (bench/support/sink.ts), as the scenarios see it. */
export type Sink = BenchChild<{ url: string }>;

/** What the sink has received so far. */
export interface SinkCounts {
  /** Event creations answered 201 (the Convoy side). */
  events: number;
  /** Webhooks received (the receiver side), and how many of them carried a Convoy signature. */
  hooks: number;
  signedHooks: number;
  unauthorized: number;
}

export const sinkCounts = (sink: Sink): Promise<SinkCounts> => sink.call<SinkCounts>('counts');

/** Resolves once the receiver has received `count` webhooks since it started (no polling: one IPC call). */
export const hooksReached = (sink: Sink, count: number, timeoutMs?: number): Promise<void> =>
  reached(sink, 'hooks', count, timeoutMs);

/** Resolves once the sink has received `count` events (Convoy's side) or webhooks (the receivers') since it started. */
export async function reached(sink: Sink, kind: 'events' | 'hooks', count: number, timeoutMs = 60_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`bench: timed out after ${timeoutMs} ms waiting for ${count} ${kind} at the sink`)),
      timeoutMs,
    );
  });
  try {
    await Promise.race([sink.call<void>('reached', { kind, count }), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}
