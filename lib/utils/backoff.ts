import type { RetryPolicy } from '../options/option-tables.js';

/** How long to wait between attempts: exponential, capped, with jitter so that many clients do not retry in step. */
export interface BackoffPolicy {
  /** Delay before the first retry, in ms. */
  baseDelayMs: number;
  /** No single delay exceeds this, in ms. */
  maxDelayMs: number;
  /** Growth per attempt. Default 2. */
  factor?: number;
  /** 'equal' waits between half and all of the computed delay (default); 'full' between 0 and all; 'none' exactly it. */
  jitter?: 'equal' | 'full' | 'none';
}

/** Delay before retry number `retry` (1 = the first retry). */
export function backoffDelay(retry: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const factor = policy.factor ?? 2;
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * factor ** Math.max(0, retry - 1));
  switch (policy.jitter ?? 'equal') {
    case 'none':
      return Math.round(ceiling);
    case 'full':
      return Math.round(random() * ceiling);
    default:
      return Math.round(ceiling / 2 + (random() * ceiling) / 2);
  }
}

/**
 * The wait after `failed` failed attempts on a retry policy (`delivery.retry`, `convoy.retry`): the policy's own, or
 * the Retry-After asked for (capped) when longer.
 */
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

/**
 * Parses a Retry-After header (delta seconds or an HTTP date) into ms from now.
 * Returns undefined when absent or malformed, so the caller falls back to its own backoff.
 */
export function parseRetryAfter(value: string | string[] | undefined, now: number = Date.now()): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (raw === undefined) return undefined;
  const text = raw.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  if (!/[a-z]/i.test(text)) return undefined; // "1.5" or "-3" are not valid Retry-After values
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/** A promise that resolves after `ms`, or rejects early when the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(done, ms);
    function done(): void {
      signal?.removeEventListener('abort', aborted);
      resolve();
    }
    function aborted(): void {
      clearTimeout(timer);
      reject(signal!.reason);
    }
    signal?.addEventListener('abort', aborted, { once: true });
  });
}
