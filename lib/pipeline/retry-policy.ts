import type { RetryPolicy } from '../options/option-tables.js';
import { backoffDelay } from '../utils/backoff.js';

/** When a failed delivery is tried again, and how often: one policy per path (`delivery.retry`, `convoy.retry`). */
export type { RetryPolicy } from '../options/option-tables.js';

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
