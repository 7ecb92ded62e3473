import { backoffDelay } from '../utils/backoff.js';

/**
 * When the embedded engine tries a failed delivery again; Convoy's project strategy, with Convoy's defaults
 * (linear, 100 s, 10 attempts). `retry_count` is the total number of attempts, as in Convoy.
 */
export type RetrySchedule =
  | { type: 'linear'; /** seconds between attempts */ duration: number; retry_count: number }
  | {
      type: 'exponential';
      /** seconds; the wait after attempt n is duration·2^(n-1), capped */
      duration: number;
      retry_count: number;
      /** cap of a single wait, seconds (Convoy: CONVOY_MAX_RETRY_SECONDS, 7200) */
      max_retry_seconds?: number;
      /** random share of the wait: 'equal' (½–1×, default) or 'full' (0–1×) */
      jitter?: 'equal' | 'full';
    };

export const CONVOY_DEFAULT_RETRY: RetrySchedule = { type: 'linear', duration: 100, retry_count: 10 };

/** Milliseconds to wait after `attempts` failed attempts. */
export function retryDelayMs(schedule: RetrySchedule, attempts: number, random: () => number = Math.random): number {
  if (schedule.type === 'linear') return schedule.duration * 1000;
  const cap = (schedule.max_retry_seconds ?? 7200) * 1000;
  return backoffDelay(attempts, { baseDelayMs: schedule.duration * 1000, maxDelayMs: cap, jitter: schedule.jitter ?? 'equal' }, random);
}
