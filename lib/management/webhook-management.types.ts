import type { ConvoyDeliveryAttempt, ConvoyEndpoint, CreateEndpointRequest } from '../client/convoy.types.js';
import type { SignatureFormat } from '../storage/records.js';

/** What an endpoint is created or updated from: Convoy's fields, plus the event-type filter and signature format. */
export interface WebhookEndpointInput extends Partial<CreateEndpointRequest> {
  /** Event types the endpoint receives: exact names, `*` (default), or patterns like `todo.*`. */
  event_types?: string[];
  /** Embedded engine only: 'convoy' (default) or 'standard' (Standard Webhooks headers, `whsec_` secrets). */
  signature_format?: SignatureFormat;
}

/**
 * An endpoint as the management API returns it, the same shape from create, get, list and update on both transports:
 * Convoy's endpoint shape, plus the event types it receives and its signature format.
 */
export interface WebhookEndpoint extends ConvoyEndpoint {
  /**
   * The event types the endpoint receives, as stored: the embedded engine's filter, or on Convoy the filter of the
   * endpoint's subscription as Convoy keeps it. A community Convoy stores `["*"]` whatever was asked (filters are
   * licensed); `[]` when the endpoint has no subscription, so Convoy delivers nothing to it.
   */
  event_types: string[];
  /** 'convoy' (X-Convoy-Signature; always, on Convoy) or 'standard' (Standard Webhooks; embedded engine only). */
  signature_format: SignatureFormat;
}

/** A delivery attempt as the management API returns it: Convoy's shape, plus `succeeded`. */
export interface WebhookDeliveryAttempt extends ConvoyDeliveryAttempt {
  /**
   * Whether the attempt succeeded (a 2xx answer). Always set, unlike Convoy's `status`, which is `true` on success
   * and absent on failure.
   */
  succeeded: boolean;
}
