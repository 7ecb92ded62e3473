import type { OutgoingWebhook } from '../publishing/webhook.types.js';
import type { WebhookTransport } from '../transports/webhook-transport.interface.js';
import type { AttemptResult, DeliveryRoute } from './pipeline.js';
import type { DeliveryRecord } from '../storage/records.js';

/** A new delivery of `message`: to an endpoint, or (endpointId null) to the transport as a whole. */
export function newDelivery(
  message: OutgoingWebhook,
  uid: string,
  endpointId: string | null,
  retryLimit: number,
): DeliveryRecord {
  return {
    uid,
    event_id: message.id,
    endpoint_id: endpointId,
    event_type: message.eventType,
    idempotency_key: message.idempotencyKey,
    payload: message.payload,
    custom_headers: message.headers,
    target: message.target,
    ordering_key: message.orderingKey ?? null,
    status: 'Scheduled',
    description: '',
    num_trials: 0,
    retry_limit: retryLimit,
    next_send_at: message.createdAt,
    lease_token: null,
    latency_ms: null,
    created_at: message.createdAt,
    updated_at: message.createdAt,
    traceparent: message.traceparent ?? null,
    tracestate: message.tracestate ?? null,
  };
}

/** The event a delivery carries, as publish() made it. */
export function messageOf(d: DeliveryRecord): OutgoingWebhook {
  return {
    id: d.event_id,
    eventType: d.event_type,
    payload: d.payload,
    target: d.target,
    idempotencyKey: d.idempotency_key,
    headers: d.custom_headers,
    orderingKey: d.ordering_key ?? undefined, // always present (maybe undefined): one message shape
    createdAt: d.created_at,
    traceparent: d.traceparent ?? undefined,
    tracestate: d.tracestate ?? undefined,
  };
}

/** Every successful hand-over's result: one object, not one per event (nothing changes it). */
const HANDED_OVER: AttemptResult = Object.freeze({ outcome: 'success' });

/**
 * The route of a transport that takes each event as a whole (Convoy, the log, your own): one delivery per event,
 * attempted by `send()`. A rejection is retried, unless the error says `retryable: false`; its `retryAfterMs`
 * (Convoy's Retry-After) is honoured.
 */
export function handOverRoute(transport: WebhookTransport): DeliveryRoute {
  return {
    name: transport.name,
    endpoints: transport.endpoints,
    deliveries: transport.deliveries,
    close: () => transport.close?.() ?? Promise.resolve(),
    plan: (message, retryLimit) => ({ deliveries: [newDelivery(message, message.id, null, retryLimit)] }),
    async attempt(delivery, signal): Promise<AttemptResult> {
      try {
        await transport.send(messageOf(delivery), { attempt: delivery.num_trials + 1, signal });
        return HANDED_OVER;
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        const details = error as { retryable?: unknown; retryAfterMs?: unknown } | null;
        if (details?.retryable === false) return { outcome: 'failure', error: reason };
        const retryAfterMs =
          typeof details?.retryAfterMs === 'number' && details.retryAfterMs >= 0 ? details.retryAfterMs : undefined;
        return { outcome: 'retry', error: reason, retryAfterMs };
      }
    },
  };
}
