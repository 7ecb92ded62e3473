import { ConvoyConfigurationError } from '../errors/configuration.error.js';
import type { ConvoyClientOptions, ConvoyRetryPolicy } from '../client/convoy-client.options.js';
import { PACKAGE_VERSION } from '../version.js';
import { checkInteger, checkKnownKeys, checkObject, checkString } from './option-checks.js';

export const DEFAULT_BASE_URL = 'https://us.getconvoy.cloud/api';
export const DEFAULT_API_VERSION = '2025-11-24';
export const DEFAULT_RETRY: ConvoyRetryPolicy = {
  maxAttempts: 3,
  baseDelayMs: 250,
  maxDelayMs: 5_000,
  maxRetryAfterMs: 30_000,
};

export const CLIENT_OPTION_KEYS = [
  'baseUrl',
  'projectId',
  'apiKey',
  'username',
  'password',
  'apiVersion',
  'timeout',
  'retry',
  'userAgent',
  'connections',
] as const;
const RETRY_KEYS = ['maxAttempts', 'baseDelayMs', 'maxDelayMs', 'maxRetryAfterMs'] as const;

/** Client options after validation and defaults. `authorization` is the only field that holds a credential. */
export interface ResolvedClientOptions {
  origin: string;
  /** Path prefix of the API, e.g. `/api`, without a trailing slash. */
  basePath: string;
  projectId: string;
  authorization: string;
  apiVersion: string;
  timeout: number;
  retry: ConvoyRetryPolicy | false;
  userAgent: string;
  connections: number;
}

/** True when any credential option is present (even a wrong one, so that it gets validated and reported). */
export function hasCredentials(options: ConvoyClientOptions): boolean {
  return options.apiKey !== undefined || options.username !== undefined || options.password !== undefined;
}

/** Validates client options and applies defaults; throws ConvoyConfigurationError naming the option and the fix. */
export function resolveClientOptions(options: ConvoyClientOptions): ResolvedClientOptions {
  const authorization = resolveAuthorization(options);
  if (options.projectId === undefined) {
    throw new ConvoyConfigurationError(
      'projectId',
      'is missing',
      'pass projectId, the id of your Convoy project (dashboard: Project Settings), next to the credentials',
    );
  }
  const projectId = checkString(
    'projectId',
    options.projectId,
    'pass the project id as shown in the Convoy dashboard',
    {
      pattern: /^[A-Za-z0-9_-]+$/,
      patternHint: 'letters, digits, "-" or "_" only (a Convoy project id, not a URL or name)',
    },
  );
  const { origin, basePath } = resolveBaseUrl(options.baseUrl ?? DEFAULT_BASE_URL);
  return {
    origin,
    basePath,
    projectId,
    authorization,
    apiVersion:
      options.apiVersion === undefined
        ? DEFAULT_API_VERSION
        : checkString(
            'apiVersion',
            options.apiVersion,
            `use a Convoy API version date such as "${DEFAULT_API_VERSION}"`,
            {
              pattern: /^\d{4}-\d{2}-\d{2}$/,
              patternHint: 'a date like 2025-11-24',
            },
          ),
    timeout:
      options.timeout === undefined
        ? 10_000
        : checkInteger(
            'timeout',
            options.timeout,
            1,
            600_000,
            'give the per-request timeout in milliseconds, e.g. 10000',
          ),
    retry: resolveRetry('retry', options.retry),
    userAgent:
      options.userAgent === undefined
        ? `nestjs-convoy/${PACKAGE_VERSION}`
        : checkString('userAgent', options.userAgent, 'pass a single-line product token such as "my-app/1.2"'),
    connections:
      options.connections === undefined
        ? 16
        : checkInteger(
            'connections',
            options.connections,
            1,
            1024,
            'pass the maximum number of sockets to Convoy, e.g. 16',
          ),
  };
}

function resolveAuthorization(options: ConvoyClientOptions): string {
  const { apiKey, username, password } = options;
  if (apiKey !== undefined && (username !== undefined || password !== undefined)) {
    throw new ConvoyConfigurationError(
      'apiKey',
      'is given together with username/password, so it is unclear which to send',
      'use apiKey for Convoy Cloud and project API keys, or username and password for a self-hosted file realm, not both',
    );
  }
  if (apiKey !== undefined) {
    const key = checkString(
      'apiKey',
      apiKey,
      'pass the project API key from the Convoy dashboard (Project Settings > Secrets)',
      {
        secret: true,
        pattern: /^[\x21-\x7e]+$/,
        patternHint: 'a single token of printable characters with no spaces (no "Bearer " prefix)',
      },
    );
    return `Bearer ${key}`;
  }
  if (username === undefined || password === undefined) {
    const missing = username === undefined ? 'username' : 'password';
    throw new ConvoyConfigurationError(
      missing,
      'is missing',
      'basic auth needs both username and password (or use apiKey instead)',
    );
  }
  checkString('username', username, 'pass the basic-auth user configured in Convoy (auth.file.basic)', {
    secret: true,
    pattern: /^[^:]+$/,
    patternHint: 'a user name without ":"',
  });
  checkString('password', password, 'pass the basic-auth password configured in Convoy (auth.file.basic)', {
    secret: true,
  });
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

function resolveBaseUrl(value: unknown): { origin: string; basePath: string } {
  const fix = `pass the instance's API base, e.g. "${DEFAULT_BASE_URL}" or "http://localhost:5005/api"`;
  const text = checkString('baseUrl', value, fix);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConvoyConfigurationError('baseUrl', `"${text}" is not an absolute URL`, fix);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConvoyConfigurationError('baseUrl', `uses ${url.protocol}, only http: and https: are supported`, fix);
  }
  if (url.username || url.password) {
    throw new ConvoyConfigurationError(
      'baseUrl',
      'contains credentials',
      'remove user:password from the URL and pass apiKey, or username and password, as options',
    );
  }
  if (url.search || url.hash) {
    throw new ConvoyConfigurationError('baseUrl', `has a query or fragment ("${url.search}${url.hash}")`, fix);
  }
  const basePath = url.pathname.replace(/\/+$/, '');
  if (/\/v1(\/|$)/.test(basePath)) {
    throw new ConvoyConfigurationError(
      'baseUrl',
      `ends in "${basePath}", but the client adds /v1/projects/{projectId} itself`,
      `drop everything from "/v1" on, e.g. "${url.origin}${basePath.replace(/\/v1(\/.*)?$/, '')}"`,
    );
  }
  return { origin: url.origin, basePath };
}

export function resolveRetry(option: string, value: unknown): ConvoyRetryPolicy | false {
  if (value === undefined) return { ...DEFAULT_RETRY };
  if (value === false) return false;
  checkObject(option, value, `pass false, or an object with ${RETRY_KEYS.join(', ')}`);
  checkKnownKeys(option, value, RETRY_KEYS);
  const policy: ConvoyRetryPolicy = {
    maxAttempts:
      value.maxAttempts === undefined
        ? DEFAULT_RETRY.maxAttempts
        : checkInteger(
            `${option}.maxAttempts`,
            value.maxAttempts,
            1,
            20,
            'give the total number of attempts; 1 disables retries',
          ),
    baseDelayMs:
      value.baseDelayMs === undefined
        ? DEFAULT_RETRY.baseDelayMs
        : checkInteger(`${option}.baseDelayMs`, value.baseDelayMs, 0, 600_000, 'give the first retry delay in ms'),
    maxDelayMs:
      value.maxDelayMs === undefined
        ? DEFAULT_RETRY.maxDelayMs
        : checkInteger(`${option}.maxDelayMs`, value.maxDelayMs, 0, 3_600_000, 'give the longest retry delay in ms'),
    maxRetryAfterMs:
      value.maxRetryAfterMs === undefined
        ? DEFAULT_RETRY.maxRetryAfterMs
        : checkInteger(
            `${option}.maxRetryAfterMs`,
            value.maxRetryAfterMs,
            0,
            3_600_000,
            'give the longest Retry-After wait to honour, in ms',
          ),
  };
  if (policy.maxDelayMs < policy.baseDelayMs) {
    throw new ConvoyConfigurationError(
      `${option}.maxDelayMs`,
      `(${policy.maxDelayMs}) is below baseDelayMs (${policy.baseDelayMs})`,
      'make maxDelayMs at least baseDelayMs',
    );
  }
  return policy;
}
