import type { OutgoingWebhook } from '../publisher/webhook.types.js';
import { backoffDelay, type BackoffPolicy } from '../utils/backoff.js';

export interface TransportSendContext {
  /** 1 for the first attempt. */
  attempt: number;
  /** Aborted when the application shuts down and the drain deadline has passed. */
  signal: AbortSignal;
}

/**
 * What the dispatcher hands events to: Convoy, the log, a test recorder, and later the embedded engine.
 * `send` resolves once the event is accepted (by Convoy: a 201). It throws to fail the attempt;
 * an error whose `retryable` is false is not tried again, any other error is retried with backoff.
 */
export interface WebhookTransport {
  /** Shown in logs, e.g. "convoy". */
  readonly name: string;
  send(message: OutgoingWebhook, context: TransportSendContext): Promise<void>;
  /** Called once at shutdown, after the dispatcher drained. */
  close?(): Promise<void>;
}

/** Whether the dispatcher should try again after `error`. */
export function isRetryableError(error: unknown): boolean {
  const flag = (error as { retryable?: unknown } | null)?.retryable;
  return typeof flag === 'boolean' ? flag : true;
}

/** How long `error` asks us to wait before trying again (Convoy's Retry-After), if it says. */
export function retryAfterOf(error: unknown): number | undefined {
  const ms = (error as { retryAfterMs?: unknown } | null)?.retryAfterMs;
  return typeof ms === 'number' && ms >= 0 ? ms : undefined;
}

/** The wait before the next attempt after `attempts` failed: the backoff, or the transport's Retry-After (capped) when longer. */
export function retryDelayAfter(error: unknown, attempts: number, policy: BackoffPolicy & { maxRetryAfterMs: number }): number {
  return Math.max(backoffDelay(attempts, policy), Math.min(retryAfterOf(error) ?? 0, policy.maxRetryAfterMs));
}
