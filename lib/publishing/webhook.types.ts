import { redactUrl } from '../utils/redact.js';

/** Where an event goes. Exactly one of the four forms. */
export type WebhookTarget =
  /** One endpoint (Convoy "create event"). */
  | { endpointId: string }
  /** Every endpoint of one owner, e.g. a customer or tenant (Convoy "fanout"). */
  | { ownerId: string }
  /** Every endpoint whose subscription matches the event type. */
  | { broadcast: true }
  /** A URL, without registering an endpoint first (Convoy "dynamic event"); `secret` signs it. */
  | { url: string; secret?: string };

/** publish() options: at most one target (else the module's defaultTarget), plus delivery details. */
export interface PublishOptions {
  endpointId?: string;
  ownerId?: string;
  broadcast?: boolean;
  url?: string;
  /** Only with `url`: the secret of the endpoint Convoy creates for it. */
  secret?: string;
  /** Deduplication key: a retry, replay or second publish with the same key is delivered once. Default: the event's id. */
  idempotencyKey?: string;
  /** Extra HTTP headers for the receiving endpoint (Convoy's `custom_headers`). */
  headers?: Record<string, string>;
  /**
   * Events with the same ordering key are handed to the transport one at a time, in publish (with the outbox:
   * commit) order, e.g. an order id. Without one, events go out in parallel. (Convoy itself does not order
   * deliveries; this orders the hand-over.)
   */
  orderingKey?: string;
}

/** What publish() resolves with once the event is accepted for sending. */
export interface PublishReceipt {
  /** This package's id of the event (a UUIDv7), also in logs and diagnostics. */
  id: string;
  /** The key Convoy deduplicates on: the caller's, or the id. */
  idempotencyKey: string;
  eventType: string;
  target: WebhookTarget;
}

/** An event as it travels from publish() through the pipeline to a transport. */
export interface OutgoingWebhook {
  id: string;
  eventType: string;
  /** The event's data, serialized once as compact JSON: these exact bytes are sent and signed. */
  payload: string;
  target: WebhookTarget;
  idempotencyKey: string;
  headers: Record<string, string>;
  /** Handed over one at a time, in order, with the other events of the same key. */
  orderingKey?: string;
  /** When publish() accepted it, in ms since the epoch. */
  createdAt: number;
  /** The W3C `traceparent` of the publish span when publish() was traced (OpenTelemetry): a transport may forward it. */
  traceparent?: string;
  /** The W3C `tracestate` that goes with it. */
  tracestate?: string;
}

/** A short, secret-free description of a target, for logs. */
export function describeTarget(target: WebhookTarget): string {
  if ('endpointId' in target) return `endpoint ${target.endpointId}`;
  if ('ownerId' in target) return `owner ${target.ownerId}`;
  if ('url' in target) return `url ${redactUrl(target.url)}`;
  return 'broadcast';
}
