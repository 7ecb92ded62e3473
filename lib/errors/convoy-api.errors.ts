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

  constructor(request: ConvoyRequestInfo, readonly timeoutMs: number) {
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
  constructor(request: ConvoyRequestInfo, readonly status: number, problem: string) {
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
