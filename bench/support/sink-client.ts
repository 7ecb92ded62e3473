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
