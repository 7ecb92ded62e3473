import type { ConvoyEndpoint } from '../client/convoy.types.js';
import type { SignatureFormat } from '../pipeline/records.js';

export type { WebhookEndpointInput } from '../embedded/endpoint-registry.js';

/**
 * An endpoint as the management API returns it, whichever transport is active: Convoy's endpoint shape,
 * plus the event-type filter and signature format (known for embedded endpoints, and for Convoy endpoints
 * when they were created through this API).
 */
export interface WebhookEndpoint extends ConvoyEndpoint {
  event_types?: string[];
  signature_format?: SignatureFormat;
}
