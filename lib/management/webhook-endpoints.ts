import type { EndpointAuthentication, EndpointListQuery, Page } from '../client/convoy.types.js';
import { iterateAll } from '../client/paging.js';
import { InvalidDestinationError } from '../errors/destination.errors.js';
import { InvalidEndpointError, unavailable } from '../errors/endpoint.errors.js';
import { DEFAULT_LIMITS } from '../options/option-tables.js';
import { urlLengthProblem } from '../publishing/validate-webhook.js';
import { parseDestinationUrl } from '../network/destination.js';
import type { WebhookEndpoint, WebhookEndpointInput } from './webhook-management.types.js';

/**
 * Your customers' webhook endpoints, whichever transport is active: the same operations, fields, shapes and errors
 * on Convoy and on the embedded engine. Injectable where ConvoyModule is imported.
 * Errors: InvalidEndpointError (400), WebhookNotFoundError (404), WebhookStateError (409).
 */
export abstract class WebhookEndpoints {
  abstract create(input: WebhookEndpointInput): Promise<WebhookEndpoint>;
  /** One page, newest first. */
  abstract list(query?: EndpointListQuery): Promise<Page<WebhookEndpoint>>;
  abstract get(id: string): Promise<WebhookEndpoint>;
  /**
   * Changes the given fields only; the others keep their value. Secrets change through expireSecret().
   * On Convoy, whose PUT replaces the whole endpoint, this reads the endpoint, merges the given fields and writes it
   * back: two updates of one endpoint at the same time can therefore lose one's changes (the later write wins for
   * every field, as Convoy has no conditional write). Serialize updates of an endpoint where that matters.
   */
  abstract update(id: string, input: WebhookEndpointInput): Promise<WebhookEndpoint>;
  /**
   * Replaces the endpoint: `url` is required, and every field left out takes its default, as at creation
   * (description "", no rate limit, no authentication, `event_types` ["*"]…). The secrets, status and (embedded)
   * signature format are kept.
   */
  abstract replace(id: string, input: WebhookEndpointInput): Promise<WebhookEndpoint>;
  abstract delete(id: string): Promise<void>;
  /** Toggles active and paused. */
  abstract pause(id: string): Promise<WebhookEndpoint>;
  abstract activate(id: string): Promise<WebhookEndpoint>;
  /** Adds a new secret; the current ones keep signing for `expiration` seconds. */
  abstract expireSecret(id: string, input: { secret?: string; expiration: number }): Promise<WebhookEndpoint>;

  /** Every endpoint matching the query, page after page. */
  iterate(query: EndpointListQuery = {}): AsyncGenerator<WebhookEndpoint, void, undefined> {
    return iterateAll((q) => this.list(q), query);
  }
}

/** The fields replace() resets when they are left out: what create() gives a new endpoint. */
export const REPLACED_DEFAULTS = {
  description: '',
  owner_id: '',
  advanced_signatures: true,
  http_timeout: 10,
  rate_limit: 0,
  rate_limit_duration: 0,
  support_email: '',
  // No authentication: null clears it (the input type has no null, the registry and Convoy both take it).
  authentication: null as unknown as EndpointAuthentication,
  event_types: ['*'],
} satisfies WebhookEndpointInput;

/**
 * An endpoint's URL, normalized: required, absolute http(s), no credentials or fragment, at most `maxLength`
 * characters (else InvalidEndpointError on `url`).
 */
export function parseEndpointUrl(url: unknown, maxLength: number = DEFAULT_LIMITS.maxUrlLength): URL {
  if (typeof url !== 'string' || url === '')
    throw new InvalidEndpointError('url', 'is required: the http(s) URL that receives the webhooks');
  let parsed: URL;
  try {
    const tooLong = urlLengthProblem(url, maxLength);
    if (tooLong) throw new InvalidEndpointError('url', tooLong);
    parsed = parseDestinationUrl(url);
  } catch (error) {
    if (error instanceof InvalidDestinationError) throw new InvalidEndpointError('url', error.message);
    throw error;
  }
  const tooLong = urlLengthProblem(parsed, maxLength);
  if (tooLong) throw new InvalidEndpointError('url', tooLong);
  return parsed;
}

/** With a transport that keeps no endpoints (the log transport, or your own). */
export class UnavailableWebhookEndpoints extends WebhookEndpoints {
  create = unavailable;
  list = unavailable;
  get = unavailable;
  update = unavailable;
  replace = unavailable;
  delete = unavailable;
  pause = unavailable;
  activate = unavailable;
  expireSecret = unavailable;
}
