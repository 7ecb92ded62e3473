import type { WebhookDeliveries } from '../management/webhook-deliveries.js';
import type { WebhookEndpoints } from '../management/webhook-endpoints.js';
import type { OutgoingWebhook } from '../publishing/webhook.types.js';

/** What a transport's send() is told about the attempt besides the event. */
export interface TransportSendContext {
  /** 1 for the first attempt. */
  attempt: number;
  /** Aborted when the application shuts down and the drain time has passed. */
  signal: AbortSignal;
}

/**
 * Where the pipeline hands each published event: Convoy, the log, a test recorder, or your own. `send` resolves once
 * the event is accepted (by Convoy: its 201) and throws to fail the attempt: the pipeline tries again on its retry
 * policy, unless the error's `retryable` is false; an error's `retryAfterMs` (a Retry-After) is honoured.
 *
 * A transport that keeps endpoints and a delivery log offers them as `endpoints` and `deliveries`, which the module
 * provides as WebhookEndpoints and WebhookDeliveries.
 */
export interface WebhookTransport {
  /** Shown in logs, e.g. "convoy". */
  readonly name: string;
  send(message: OutgoingWebhook, context: TransportSendContext): Promise<void>;
  readonly endpoints?: WebhookEndpoints;
  readonly deliveries?: WebhookDeliveries;
  /**
   * Refuses, when publish() is called, a `{ url }` target this transport would never deliver to, by throwing the
   * error publish() should reject with (e.g. DestinationBlockedError). Synchronous and without DNS.
   */
  checkTargetUrl?(url: string): void;
  /** Called once before the application starts (checks that must pass first, e.g. Convoy's credentials). */
  start?(): Promise<void>;
  /** Called once at shutdown, after the pipeline drained. */
  close?(): Promise<void>;
}
