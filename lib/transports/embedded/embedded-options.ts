import { ConvoyConfigurationError } from '../../errors/configuration.error.js';
import type { LookupAll } from './network/destination.js';
import { checkBoolean, checkInteger, checkKnownKeys, checkObject } from '../../options/option-checks.js';
import { PACKAGE_VERSION } from '../../version.js';
import { InMemoryWebhookStore } from '../../storage/in-memory.store.js';
import { CONVOY_DEFAULT_RETRY, type RetryPolicy } from '../../pipeline/retry-policy.js';
import type { WebhookStore } from '../../storage/webhook-store.js';

/**
 * The embedded engine's retry schedule in Convoy's project-strategy terms (seconds, `retry_count` = attempts in all):
 * linear waits `duration`; exponential waits duration·2^(n-1), capped at `max_retry_seconds` (Convoy's default 7200).
 */
export type RetrySchedule =
  | { type: 'linear'; duration: number; retry_count: number }
  | {
      type: 'exponential';
      duration: number;
      retry_count: number;
      max_retry_seconds?: number;
      jitter?: 'equal' | 'full';
    };

/** Options of the embedded delivery engine (`ConvoyModule.forRoot({ embedded: { … } })`). */
export interface EmbeddedOptions {
  /** Where endpoints, deliveries and attempts live. Default: in memory (lost on restart). */
  store?: WebhookStore;
  /** Allow the in-memory store under NODE_ENV=production (refused otherwise: a restart would lose endpoints and pending deliveries). */
  allowInMemoryStorage?: boolean;
  /** Let deliveries reach loopback, private (RFC 1918), CGNAT and unique-local addresses. Never link-local or cloud metadata. For development. */
  allowPrivateNetworks?: boolean;
  /** IPs or CIDRs that are always allowed, e.g. ['127.0.0.0/8', '::1/128'] for loopback only. */
  allowedAddresses?: string[];
  /** Retry schedule. Default Convoy's: linear, 100 s, 10 attempts. */
  retry?: RetrySchedule;
  /** Disable an endpoint when a delivery to it runs out of retries. Default false. */
  disableEndpointOnFailure?: boolean;
  /** Attempts in flight at once. Default 16. */
  concurrency?: number;
  /** Attempts in flight at once to one endpoint. Default 4. */
  endpointConcurrency?: number;
  /** Cap of a receiver's Retry-After, ms. Default 3600000 (1 h). */
  maxRetryAfterMs?: number;
  /** Response bytes kept per attempt in the log. Default 4096. */
  maxResponseBytes?: number;
  /** How often to look for due deliveries when nothing else wakes the worker, ms. Default 1000. */
  pollIntervalMs?: number;
  /** User-Agent of deliveries. Default `Convoy/nestjs-convoy-<version>`. */
  userAgent?: string;
  /** Resolver for endpoint hostnames (tests, custom DNS). Default: the system's. */
  lookup?: LookupAll;
}

export interface ResolvedEmbeddedOptions {
  store: WebhookStore | undefined;
  allowInMemoryStorage: boolean;
  allowPrivateNetworks: boolean;
  allowedAddresses: string[];
  worker: {
    concurrency: number;
    endpointConcurrency: number;
    retry: RetryPolicy;
    disableEndpointOnFailure: boolean;
    pollIntervalMs: number;
  };
  maxResponseBytes: number;
  userAgent: string;
  lookup: LookupAll | undefined;
}

const KEYS = [
  'store',
  'allowInMemoryStorage',
  'allowPrivateNetworks',
  'allowedAddresses',
  'retry',
  'disableEndpointOnFailure',
  'concurrency',
  'endpointConcurrency',
  'maxRetryAfterMs',
  'maxResponseBytes',
  'pollIntervalMs',
  'userAgent',
  'lookup',
];

export function resolveEmbeddedOptions(value: unknown): ResolvedEmbeddedOptions {
  const raw = value === undefined ? {} : value;
  checkObject('embedded', raw, 'pass an object with the embedded engine options');
  checkKnownKeys('embedded', raw, KEYS);
  const o = raw as EmbeddedOptions;
  const int = (key: keyof EmbeddedOptions, fallback: number, min: number, max: number, fix: string): number =>
    o[key] === undefined ? fallback : checkInteger(`embedded.${key}`, o[key], min, max, fix);
  if (o.store !== undefined && (typeof o.store !== 'object' || typeof (o.store as WebhookStore).claim !== 'function')) {
    throw new ConvoyConfigurationError(
      'embedded.store',
      'is not a WebhookStore',
      'pass a store from nestjs-convoy (InMemoryWebhookStore, or the PostgreSQL/PGlite stores)',
    );
  }
  if (
    o.allowedAddresses !== undefined &&
    (!Array.isArray(o.allowedAddresses) || !o.allowedAddresses.every((a) => typeof a === 'string'))
  ) {
    throw new ConvoyConfigurationError(
      'embedded.allowedAddresses',
      'is not an array of IPs or CIDRs',
      "pass e.g. ['127.0.0.0/8', '::1/128']",
    );
  }
  if (o.lookup !== undefined && typeof o.lookup !== 'function')
    throw new ConvoyConfigurationError(
      'embedded.lookup',
      'is not a function',
      'pass (hostname) => Promise<{ address, family }[]>',
    );
  return {
    store: o.store,
    allowInMemoryStorage:
      o.allowInMemoryStorage === undefined
        ? false
        : checkBoolean('embedded.allowInMemoryStorage', o.allowInMemoryStorage, 'pass true or false'),
    allowPrivateNetworks:
      o.allowPrivateNetworks === undefined
        ? false
        : checkBoolean('embedded.allowPrivateNetworks', o.allowPrivateNetworks, 'pass true or false'),
    allowedAddresses: o.allowedAddresses ?? [],
    worker: {
      concurrency: int('concurrency', 16, 1, 1024, 'give the attempts in flight at once'),
      endpointConcurrency: int(
        'endpointConcurrency',
        4,
        1,
        1024,
        'give the attempts in flight at once to one endpoint',
      ),
      retry: {
        ...resolveRetrySchedule(o.retry),
        maxRetryAfterMs: int(
          'maxRetryAfterMs',
          3_600_000,
          0,
          86_400_000,
          'give the longest Retry-After to honour, in ms',
        ),
      },
      disableEndpointOnFailure:
        o.disableEndpointOnFailure === undefined
          ? false
          : checkBoolean('embedded.disableEndpointOnFailure', o.disableEndpointOnFailure, 'pass true or false'),
      pollIntervalMs: int('pollIntervalMs', 1_000, 10, 600_000, 'give the poll interval in ms'),
    },
    maxResponseBytes: int('maxResponseBytes', 4_096, 0, 1_048_576, 'give the response bytes to keep per attempt'),
    userAgent:
      typeof o.userAgent === 'string' && o.userAgent !== '' && !/[\r\n]/.test(o.userAgent)
        ? o.userAgent
        : o.userAgent === undefined
          ? `Convoy/nestjs-convoy-${PACKAGE_VERSION}`
          : invalid('embedded.userAgent', 'is not a single-line string', 'pass e.g. "my-app-webhooks/1.0"'),
    lookup: o.lookup,
  };
}

function resolveRetrySchedule(value: unknown): RetryPolicy {
  if (value === undefined) return { ...CONVOY_DEFAULT_RETRY };
  checkObject('embedded.retry', value, "pass { type: 'linear' | 'exponential', duration (seconds), retry_count }");
  checkKnownKeys('embedded.retry', value, ['type', 'duration', 'retry_count', 'max_retry_seconds', 'jitter']);
  const type = value.type;
  if (type !== 'linear' && type !== 'exponential')
    throw new ConvoyConfigurationError(
      'embedded.retry.type',
      `must be "linear" or "exponential"`,
      'pick one of the two',
    );
  const duration = checkInteger(
    'embedded.retry.duration',
    value.duration,
    0,
    86_400,
    'give the (base) wait between attempts in seconds',
  );
  const retryCount = checkInteger(
    'embedded.retry.retry_count',
    value.retry_count,
    1,
    1000,
    'give the total number of attempts',
  );
  const base = { attempts: retryCount, delayMs: duration * 1000, maxRetryAfterMs: 3_600_000 };
  if (type === 'linear') return { ...base, strategy: 'linear', maxDelayMs: base.delayMs };
  const jitter = value.jitter;
  if (jitter !== undefined && jitter !== 'equal' && jitter !== 'full')
    throw new ConvoyConfigurationError(
      'embedded.retry.jitter',
      'must be "equal" or "full"',
      'omit it for equal jitter',
    );
  const cap =
    value.max_retry_seconds === undefined
      ? 7200
      : checkInteger(
          'embedded.retry.max_retry_seconds',
          value.max_retry_seconds,
          1,
          604_800,
          'give the longest single wait in seconds',
        );
  return { ...base, strategy: 'exponential', maxDelayMs: cap * 1000 };
}

function invalid(option: string, problem: string, fix: string): never {
  throw new ConvoyConfigurationError(option, problem, fix);
}

/** The store to use (embedded.store, else the module's storage, else memory), refusing memory in production unless allowed. */
export function chooseStore(
  options: ResolvedEmbeddedOptions,
  durable: WebhookStore | undefined,
  capacity: number,
  whenFull: 'wait' | 'reject',
  env: NodeJS.ProcessEnv = process.env,
): WebhookStore {
  const store = options.store ?? durable ?? new InMemoryWebhookStore({ capacity, whenFull });
  if (store.volatile && env.NODE_ENV === 'production' && !options.allowInMemoryStorage) {
    throw new ConvoyConfigurationError(
      'embedded.store',
      'is the in-memory store while NODE_ENV=production: a restart would lose every endpoint and pending delivery',
      'pass `storage` (nestjs-convoy/postgres or /pglite) to ConvoyModule, use Convoy, or set embedded.allowInMemoryStorage: true if you accept the loss',
    );
  }
  return store;
}
