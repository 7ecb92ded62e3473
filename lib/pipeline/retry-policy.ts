import { backoffDelay } from '../utils/backoff.js';

/** When a failed delivery is tried again, and how often: one policy per pipeline (`delivery.retry`). */
export interface RetryPolicy {
  /** Attempts in all, the first included. */
  attempts: number;
  /** 'exponential': delayMs doubling per failed attempt, up to maxDelayMs, with jitter; 'linear': delayMs every time. */
  strategy: 'exponential' | 'linear';
  delayMs: number;
  maxDelayMs: number;
  /** The longest Retry-After (Convoy's, or a receiver's) honoured; a longer one is cut to this. */
  maxRetryAfterMs: number;
}

/** Hand-overs to Convoy (or your transport): quick at first, then patient; about 1.5 hours in all. */
export const HAND_OVER_RETRY: RetryPolicy = {
  attempts: 20,
  strategy: 'exponential',
  delayMs: 1_000,
  maxDelayMs: 300_000,
  maxRetryAfterMs: 3_600_000,
};

/** The embedded engine's deliveries: Convoy's default project strategy (linear, 100 s, 10 attempts). */
export const CONVOY_DEFAULT_RETRY: RetryPolicy = {
  attempts: 10,
  strategy: 'linear',
  delayMs: 100_000,
  maxDelayMs: 100_000,
  maxRetryAfterMs: 3_600_000,
};

/** The wait after `failed` failed attempts: the policy's, or the Retry-After asked for (capped) when longer. */
export function retryDelay(
  policy: RetryPolicy,
  failed: number,
  retryAfterMs?: number,
  random: () => number = Math.random,
): number {
  const own =
    policy.strategy === 'linear'
      ? policy.delayMs
      : backoffDelay(failed, { baseDelayMs: policy.delayMs, maxDelayMs: policy.maxDelayMs }, random);
  return Math.max(own, Math.min(retryAfterMs ?? 0, policy.maxRetryAfterMs));
}
