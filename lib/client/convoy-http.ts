import { Logger } from '@nestjs/common';
import { Pool } from 'undici';
import {
  ConvoyFeatureUnavailableError,
  ConvoyHttpError,
  ConvoyNetworkError,
  ConvoyResponseError,
  ConvoyTimeoutError,
  licensedFeatureOf,
  type ConvoyRequestInfo,
} from '../errors/client.errors.js';
import type { ResolvedClientOptions } from '../options/resolve-client-options.js';
import { RETRY_DEFAULTS, retryGroup, type RetryPolicy } from '../options/option-tables.js';
import { parseRetryAfter, retryDelay as policyDelay, sleep } from '../utils/backoff.js';
import { httpExchange, HttpExchangeTimeout } from '../utils/http-exchange.js';
import type { ConvoyRequestOptions } from './convoy-client.options.js';
import { encodeJsonBody } from './raw-json.js';
import { authorizationSecrets, scrubSecrets } from '../utils/redact.js';

/** A query parameter's value: dates are sent as UTC `YYYY-MM-DDTHH:MM:SS`, arrays as repeated parameters. */
export type QueryValue = string | number | boolean | Date | null | undefined | readonly string[];

/** A request to any route of the project, for ConvoyClient.request(). */
export interface ConvoyRequest extends ConvoyRequestOptions {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Path below `/v1/projects/{projectId}`, e.g. `/events`. */
  path: string;
  query?: Record<string, QueryValue>;
  body?: unknown;
  /** The request may be repeated safely although it is not a read (event creation with an idempotency key). */
  idempotent?: boolean;
}

/** Convoy's `{status, message, data}` envelope, unwrapped, with what else a caller may need. */
export interface ConvoyResult<T> {
  data: T;
  message: string;
  status: number;
  requestId: string | undefined;
}

/** What the resource classes need from the HTTP layer. */
export interface ConvoyRequester {
  request<T>(req: ConvoyRequest): Promise<ConvoyResult<T>>;
}

const logger = new Logger('ConvoyClient');

/**
 * The HTTP layer of ConvoyClient: one keep-alive undici pool, auth and version headers,
 * compact JSON bodies, envelope unwrapping, typed errors, and retries of requests that are safe to repeat.
 */
export class ConvoyHttp implements ConvoyRequester {
  /** Request headers, holding the credential: private (#) so that util.inspect and JSON.stringify of the client never show it. */
  readonly #headers: Record<string, string>;
  /** The same, for requests with a JSON body. Built once: they are the same for every request. */
  readonly #jsonHeaders: Record<string, string>;
  readonly #pool: Pool;
  readonly #options: ResolvedClientOptions;
  /** `{basePath}/v1/projects/{projectId}`, built once. */
  readonly #projectPrefix: string;
  /** The credential in the forms a server could echo back: scrubbed from everything it answers (errors, logs). */
  readonly #secrets: string[];
  #closed = false;

  constructor(options: ResolvedClientOptions) {
    this.#options = options;
    this.#headers = {
      authorization: options.authorization,
      'x-convoy-version': options.apiVersion,
      'user-agent': options.userAgent,
      accept: 'application/json',
    };
    this.#jsonHeaders = { ...this.#headers, 'content-type': 'application/json' };
    this.#secrets = authorizationSecrets(options.authorization);
    this.#projectPrefix = `${options.basePath}/v1/projects/${encodeURIComponent(options.projectId)}`;
    this.#pool = new Pool(options.origin, {
      connections: options.connections,
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 600_000,
    });
  }

  get projectId(): string {
    return this.#options.projectId;
  }

  /** Full path of a project-scoped API path, as it appears on the wire and in errors. */
  projectPath(path: string): string {
    return this.#projectPrefix + path;
  }

  /**
   * Not an async function: a single attempt (every send of the dispatcher) is returned as it is, without a promise
   * and a context of its own around it. What throws while the request is built is a rejection all the same.
   */
  request<T>(req: ConvoyRequest): Promise<ConvoyResult<T>> {
    try {
      const fullPath = this.projectPath(req.path);
      const path = req.query === undefined ? fullPath : fullPath + queryString(req.query);
      const retry = req.retry === undefined ? this.#options.retry : req.retry && this.retryOf(req.retry);
      const safeToRepeat = req.method === 'GET' || req.idempotent === true;
      const attempts = retry && safeToRepeat ? retry.attempts : 1;
      const body = req.body === undefined ? undefined : encodeJsonBody(req.body);
      const timeout = req.timeoutMs ?? this.#options.timeoutMs;
      if (attempts === 1) return this.attempt<T>(req.method, path, fullPath, body, timeout, req.signal);
      return this.retrying<T>(req, path, fullPath, body, timeout, attempts, retry as RetryPolicy);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  private async retrying<T>(
    req: ConvoyRequest,
    path: string,
    fullPath: string,
    body: string | undefined,
    timeout: number,
    attempts: number,
    retry: RetryPolicy,
  ): Promise<ConvoyResult<T>> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.attempt<T>(req.method, path, fullPath, body, timeout, req.signal);
      } catch (error) {
        if (attempt >= attempts || !isRetryable(error) || req.signal?.aborted) throw error;
        const wait = retryDelay(error, attempt, retry);
        logger.debug(
          `Retrying ${req.method} ${fullPath} in ${wait} ms (attempt ${attempt + 1} of ${attempts}): ${(error as Error).message}`,
        );
        await sleep(wait, req.signal);
      }
    }
  }

  /** A call's own retry options, over the client's (or, with the client's off, the default). */
  private retryOf(given: object): RetryPolicy {
    const base = this.#options.retry || RETRY_DEFAULTS.client;
    return retryGroup(() => base).check(given, 'retry', { transport: 'convoy', durable: false }, () => {});
  }

  /** `fullPath`: the path without its query, as errors name the request. */
  private async attempt<T>(
    method: string,
    path: string,
    fullPath: string,
    body: string | undefined,
    timeoutMs: number,
    signal: AbortSignal | undefined,
  ): Promise<ConvoyResult<T>> {
    const headers = body === undefined ? this.#headers : this.#jsonHeaders;
    try {
      const maxBodyBytes = this.#options.maxResponseBytes;
      const response = await httpExchange(
        this.#pool,
        { method, path, headers, body },
        { timeoutMs, signal, maxBodyBytes },
      );
      if (response.truncated)
        throw new ConvoyResponseError(
          { method, path: fullPath },
          response.status,
          `the body is longer than maxResponseBytes (${maxBodyBytes} bytes); raise convoy.maxResponseBytes, or ask for smaller pages (perPage)`,
        );
      const requestId = header(response.headers['x-request-id']);
      return parseEnvelope<T>(
        method,
        fullPath,
        response.status,
        response.body.toString('utf8'),
        requestId === undefined ? undefined : scrubSecrets(requestId, this.#secrets),
        response.headers['retry-after'],
        this.#secrets,
      );
    } catch (error) {
      // The request's description is built here, on failure only.
      const info: ConvoyRequestInfo = { method, path: fullPath };
      if (error instanceof HttpExchangeTimeout) throw new ConvoyTimeoutError(info, timeoutMs);
      if (signal?.aborted) throw signal.reason;
      if (
        error instanceof ConvoyHttpError ||
        error instanceof ConvoyResponseError ||
        error instanceof ConvoyFeatureUnavailableError
      )
        throw error;
      throw new ConvoyNetworkError(info, (error as { code?: string }).code, error);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#pool.close();
  }
}

function parseEnvelope<T>(
  method: string,
  path: string,
  status: number,
  text: string,
  requestId: string | undefined,
  retryAfter: string | string[] | undefined,
  secrets: readonly string[],
): ConvoyResult<T> {
  let envelope: { status?: unknown; message?: unknown; data?: unknown } | undefined;
  try {
    envelope = text ? (JSON.parse(text) as typeof envelope) : undefined;
  } catch {
    envelope = undefined;
  }
  const message = typeof envelope?.message === 'string' ? envelope.message : undefined;
  if (status < 200 || status > 299) {
    const info: ConvoyRequestInfo = { method, path };
    // Convoy's errors are `{status:false, message}`; proxies and a 415 send other bodies, so quote those briefly.
    // Scrubbed first: a server (or a proxy) that echoes the request's Authorization would put the key in our logs.
    const said = scrubSecrets(message ?? text.trim(), secrets).slice(0, message === undefined ? 200 : undefined);
    // A licence refusal is not a failed call to retry or a wrong key: say which feature is missing.
    const feature = licensedFeatureOf(status, said, info.path);
    if (feature) throw new ConvoyFeatureUnavailableError(info, feature, status, said, requestId);
    throw new ConvoyHttpError(info, status, said, requestId, parseRetryAfter(retryAfter));
  }
  if (text.trim() === '') return { data: undefined as T, message: '', status, requestId };
  if (envelope === undefined || typeof envelope !== 'object' || envelope === null) {
    throw new ConvoyResponseError({ method, path }, status, 'the body is not JSON');
  }
  if (!('data' in envelope) && !('message' in envelope)) {
    throw new ConvoyResponseError({ method, path }, status, 'the body is not a {status, message, data} envelope');
  }
  return { data: (envelope.data ?? undefined) as T, message: message ?? '', status, requestId };
}

function isRetryable(error: unknown): boolean {
  return error instanceof ConvoyHttpError || error instanceof ConvoyTimeoutError || error instanceof ConvoyNetworkError
    ? error.retryable
    : false;
}

/** A server-requested wait (Retry-After, capped) replaces the policy's own. */
function retryDelay(error: unknown, attempt: number, policy: RetryPolicy): number {
  const backoff = policyDelay(policy, attempt);
  const asked = error instanceof ConvoyHttpError ? error.retryAfterMs : undefined;
  return asked === undefined ? backoff : Math.min(asked, policy.maxRetryAfterMs);
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** Convoy reads arrays as repeated keys (`endpointId=a&endpointId=b`) and dates as `YYYY-MM-DDTHH:MM:SS` (UTC, no zone). */
export function queryString(query: Record<string, QueryValue> | undefined): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null) continue;
    if (Array.isArray(value)) for (const item of value as readonly string[]) params.append(key, item);
    else if (value instanceof Date) params.append(key, value.toISOString().slice(0, 19));
    else params.append(key, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}
