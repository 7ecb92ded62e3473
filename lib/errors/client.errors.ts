import { ConvoyError } from './convoy.error.js';

/** Which request failed; the path never carries a credential. */
export interface ConvoyRequestInfo {
  method: string;
  path: string;
}

/** Convoy answered with a status other than 2xx. */
export class ConvoyHttpError extends ConvoyError {
  override readonly retryable: boolean;
  readonly method: string;
  readonly path: string;

  constructor(
    request: ConvoyRequestInfo,
    /** The HTTP status Convoy answered with. */
    readonly status: number,
    /** Convoy's own explanation (the `message` of its error envelope), or the start of the raw body. */
    readonly convoyMessage: string,
    /** Convoy's `X-Request-ID`, to quote when you ask Convoy's support or search its logs. */
    readonly requestId: string | undefined,
    /** For 429 and 503: how long Convoy asked us to wait (Retry-After), in ms. */
    readonly retryAfterMs?: number,
  ) {
    const reqId = requestId ? ` (X-Request-ID ${requestId})` : '';
    super(`Convoy answered ${status} to ${request.method} ${request.path}: ${convoyMessage || '(no message)'}${reqId}`);
    this.method = request.method;
    this.path = request.path;
    this.retryable = status === 429 || status >= 500;
  }
}

/** No answer arrived within the configured `timeout`. */
export class ConvoyTimeoutError extends ConvoyError {
  override readonly retryable = true;
  readonly method: string;
  readonly path: string;

  constructor(
    request: ConvoyRequestInfo,
    readonly timeoutMs: number,
  ) {
    super(`Convoy did not answer ${request.method} ${request.path} within ${timeoutMs} ms (option "timeout")`);
    this.method = request.method;
    this.path = request.path;
  }
}

/** The connection to Convoy failed or broke (refused, reset, DNS, TLS). */
export class ConvoyNetworkError extends ConvoyError {
  override readonly retryable = true;
  readonly method: string;
  readonly path: string;

  constructor(
    request: ConvoyRequestInfo,
    /** The system or undici error code, e.g. ECONNREFUSED, ECONNRESET, UND_ERR_SOCKET. */
    readonly code: string | undefined,
    cause: unknown,
  ) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    const prefix = code && !reason.includes(code) ? `${code} ` : '';
    super(`Could not reach Convoy for ${request.method} ${request.path}: ${prefix}${reason}`, { cause });
    this.method = request.method;
    this.path = request.path;
  }
}

/** Convoy answered 2xx with a body that is not the JSON envelope it documents. */
export class ConvoyResponseError extends ConvoyError {
  constructor(
    request: ConvoyRequestInfo,
    readonly status: number,
    problem: string,
  ) {
    super(`Convoy's answer to ${request.method} ${request.path} (status ${status}) could not be read: ${problem}`);
  }
}

/** A ConvoyClient call was made, but no Convoy credentials were configured. */
export class ConvoyNotConfiguredError extends ConvoyError {
  constructor() {
    super(
      'ConvoyClient has no Convoy credentials: pass apiKey (or username and password) and projectId to ' +
        'ConvoyModule.forRoot()/forRootAsync() to call the Convoy API.',
    );
  }
}

/** Convoy features that a community Convoy (no licence key) does not have; each answers in its own way. */
export type ConvoyFeature =
  | 'portal_links'
  | 'advanced_subscriptions'
  | 'event_search'
  | 'mutual_tls'
  | 'oauth2_endpoint_auth'
  | 'basic_auth_endpoint_auth';

const FEATURES: Record<ConvoyFeature, { name: string; instead: string }> = {
  portal_links: {
    name: 'The portal-links feature',
    instead: 'use a Convoy licence with portal links, or let your app manage endpoints with WebhookEndpoints',
  },
  advanced_subscriptions: {
    name: 'Subscription filtering (event types and body or header filters)',
    instead:
      'use a Convoy licence with advanced subscriptions, or send each endpoint only the events it wants (publish to { endpointId })',
  },
  event_search: {
    name: 'Event search (the "query" and "body" filters)',
    instead: 'filter by endpointId, idempotencyKey or dates instead, or use a Convoy licence with Event Search',
  },
  mutual_tls: {
    name: 'Mutual TLS to endpoints',
    instead: 'use a Convoy licence with mutual TLS, or leave mtls_client_cert out',
  },
  oauth2_endpoint_auth: {
    name: 'OAuth2 endpoint authentication',
    instead: 'use a Convoy licence with it, or authenticate with an api_key header',
  },
  basic_auth_endpoint_auth: {
    name: 'Basic-auth endpoint authentication',
    instead: 'use a Convoy licence with it, or authenticate with an api_key header',
  },
};

/**
 * Which licensed feature a Convoy error answer is about, if any, recognised by Convoy's own words (recorded from a
 * real community Convoy, see test/conformance): portal links answer 401 "Access denied", event search 403
 * "… requires the Event Search entitlement", the filter test 400 "… does not have access to subscription filters …",
 * endpoint auth and mutual TLS 400 "… feature unavailable, please upgrade your license". A wrong key is 401
 * "authorization failed": no feature.
 */
export function licensedFeatureOf(status: number, convoyMessage: string, path: string): ConvoyFeature | undefined {
  if (status === 401 && convoyMessage === 'Access denied' && /\/portal-links(\/|$)/.test(path)) return 'portal_links';
  if (status === 403 && /requires the Event Search entitlement/i.test(convoyMessage)) return 'event_search';
  if (status === 400 && /does not have access to subscription filters/i.test(convoyMessage))
    return 'advanced_subscriptions';
  if (status === 400 && /feature unavailable, please upgrade your license/i.test(convoyMessage)) {
    if (/^mutual TLS/i.test(convoyMessage)) return 'mutual_tls';
    if (/^OAuth2/i.test(convoyMessage)) return 'oauth2_endpoint_auth';
    if (/^Basic Auth/i.test(convoyMessage)) return 'basic_auth_endpoint_auth';
  }
  return undefined;
}

/**
 * Convoy refused a call because its licence lacks a feature (a community Convoy has none of them). Not a
 * ConvoyHttpError, so that it is never mistaken for a wrong API key (which stays ConvoyHttpError 401).
 */
export class ConvoyFeatureUnavailableError extends ConvoyError {
  readonly method: string;
  readonly path: string;

  constructor(
    request: ConvoyRequestInfo,
    /** The licensed feature, e.g. 'portal_links'. */
    readonly feature: ConvoyFeature,
    /** The HTTP status Convoy answered with (401, 403 or 400, depending on the feature). */
    readonly status: number,
    /** Convoy's own words, e.g. "Access denied". */
    readonly convoyMessage: string,
    readonly requestId: string | undefined,
  ) {
    const { name, instead } = FEATURES[feature];
    super(
      `${name} needs a licensed Convoy (feature "${feature}"): ${request.method} ${request.path} was refused with ${status} "${convoyMessage}", as a community Convoy (no licence key) does. Fix: ${instead}.`,
    );
    this.method = request.method;
    this.path = request.path;
  }
}

/**
 * A client call was refused before anything was sent, because Convoy would ignore or reject one of its query
 * parameters on that route (e.g. `event_type` where Convoy reads `eventType`, or `idempotencyKey` on the batch-replay
 * count, which Convoy does not filter by). Sending it would silently return or change more than asked.
 */
export class InvalidRequestError extends ConvoyError {
  constructor(
    /** The query parameter at fault, e.g. `event_type`. */
    readonly parameter: string,
    /** The route, e.g. `GET /eventdeliveries`. */
    readonly route: string,
    readonly reason: string,
  ) {
    super(`The query parameter "${parameter}" cannot be sent to ${route}: ${reason}. Nothing was sent.`);
  }
}
