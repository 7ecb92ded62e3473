import type { WebhookStore } from '../storage/webhook-store.js';
import type { LookupAll } from '../network/destination.js';
import { describeValue } from '../utils/describe-value.js';
import { redactUrl, redactUrls, USERINFO } from '../utils/redact.js';
import { PACKAGE_VERSION } from '../version.js';
import {
  boolean,
  custom,
  fail,
  group,
  integer,
  oneOf,
  option,
  orFalse,
  type ResolvedOf,
  type Setup,
} from './option-table.js';
import { ConvoyConfigurationError } from '../errors/configuration.error.js';

// The option tables: each entry checks, defaults and (by its doc comment) documents one option; README's tables are
// generated from them (npm run docs:options). Durations are in ms, named ...Ms; the Convoy-shaped records passed to
// endpoints and subscriptions keep Convoy's own names and units (`http_timeout`, `rate_limit_duration`: seconds).

export const DEFAULT_BASE_URL = 'https://us.getconvoy.cloud/api';
export const DEFAULT_API_VERSION = '2025-11-24';

const ms = (max: number, what: string) => integer({ min: 0, max }, `give ${what}, in ms`);
const count = (max: number, what: string) => integer({ min: 1, max }, `give ${what}`);
const notEmbedded = (s: Setup): string | false => s.transport !== 'embedded' && `the transport is ${s.transport}`;

/** A single-line string; a `secret` one is never quoted in an error. */
function text(fix: string, o: { pattern?: RegExp; hint?: string; secret?: boolean; default?: string } = {}) {
  return option<string>(
    (v, path) => {
      if (typeof v !== 'string' || v.trim() === '')
        throw new ConvoyConfigurationError(path, `expected a non-empty string, got ${describeValue(v)}`, fix);
      if (/[\r\n]/.test(v) || v !== v.trim())
        throw new ConvoyConfigurationError(
          path,
          'contains a line break or surrounding white space',
          `trim the value (often a stray newline from a .env file or secret store); ${fix}`,
        );
      if (o.pattern && !o.pattern.test(v))
        throw new ConvoyConfigurationError(
          path,
          `has the wrong format${o.secret ? '' : ` ("${redactUrls(v)}")`}; expected ${o.hint}`,
          fix,
        );
      return v;
    },
    { default: o.default },
  );
}

/** Exponential waits grow from delayMs to maxDelayMs: the other way round is a mistake. */
function checkRetry(r: ResolvedOf<typeof RETRY_OPTIONS>, path: string): void {
  if (r.strategy === 'exponential' && r.maxDelayMs < r.delayMs)
    throw new ConvoyConfigurationError(
      `${path}.maxDelayMs`,
      `(${r.maxDelayMs}) is below delayMs (${r.delayMs})`,
      'make maxDelayMs at least delayMs, or use strategy "linear"',
    );
}

export const RETRY_OPTIONS = {
  /** Attempts in all, the first included; 1 disables retries. */
  attempts: count(10_000, 'the attempts in all, the first included')(1),
  /** `'exponential'`: delayMs doubling per failed attempt up to maxDelayMs, with jitter; `'linear'`: delayMs every time. */
  strategy: oneOf(['exponential', 'linear'], 'exponential', 'pick "exponential" or "linear"'),
  /** The wait before the first retry (linear: before every retry). */
  delayMs: ms(86_400_000, 'the first retry delay')(0),
  /** The longest wait of the exponential strategy. */
  maxDelayMs: ms(86_400_000, 'the longest retry delay')(0),
  /** The longest Retry-After (Convoy's, or a receiver's) honoured; a longer one is cut to this. */
  maxRetryAfterMs: ms(86_400_000, 'the longest Retry-After wait to honour')(0),
};
export type RetryPolicy = ResolvedOf<typeof RETRY_OPTIONS>;

/** The retry policy of each path, named once. */
export const RETRY_DEFAULTS = {
  /** Hand-overs to Convoy, the log or your transport: quick at first, then patient; about 1.5 hours in all. */
  handOver: { attempts: 20, strategy: 'exponential', delayMs: 1_000, maxDelayMs: 300_000, maxRetryAfterMs: 3_600_000 },
  /** The embedded engine's deliveries to endpoints: Convoy's default project strategy (linear, 100 s, 10 attempts). */
  endpoint: { attempts: 10, strategy: 'linear', delayMs: 100_000, maxDelayMs: 100_000, maxRetryAfterMs: 3_600_000 },
  /** ConvoyClient's calls that are safe to repeat (reads, idempotency-keyed event creation). */
  client: { attempts: 3, strategy: 'exponential', delayMs: 250, maxDelayMs: 5_000, maxRetryAfterMs: 30_000 },
} as const satisfies Record<string, RetryPolicy>;

export const retryGroup = (fallback: (s: Setup) => RetryPolicy) =>
  group(RETRY_OPTIONS, fallback, { refine: checkRetry });

export const DELIVERY_OPTIONS = {
  /** Retry policy: hand-overs 20 attempts exponential 1 s–5 min; the embedded engine's endpoint deliveries Convoy's 10 × 100 s. */
  retry: retryGroup((s) => (s.transport === 'embedded' ? RETRY_DEFAULTS.endpoint : RETRY_DEFAULTS.handOver)),
  /** Attempts in flight at once. */
  concurrency: count(1024, 'how many attempts may be in flight at once')((s) => (s.transport === 'embedded' ? 16 : 8)),
  /** Attempts in flight at once to one endpoint (the embedded engine). */
  endpointConcurrency: count(1024, 'how many attempts may be in flight to one endpoint')(4, notEmbedded),
  /**
   * Attempts to endpoints that have not answered within a second, at most; they free their `concurrency` slot for
   * other endpoints, and past this cap the endpoint's attempts are cut short (retried later), so endpoints that hang
   * never take every slot (the embedded engine).
   */
  maxSlowAttempts: count(10_000, 'how many attempts may wait on slow endpoints at once')(64, notEmbedded),
  /** At shutdown, how long to wait for attempts in flight (without storage: to keep sending what memory holds). */
  drainTimeoutMs: ms(3_600_000, 'how long shutdown may wait')(10_000),
  /** Without storage: deliveries held in memory at most (waiting, in flight or between retries). */
  bufferSize: count(10_000_000, 'how many deliveries may wait in memory')(
    10_000,
    (s) => s.durable && 'deliveries are stored',
  ),
  /** Without storage, when the buffer is full: `'wait'` makes publish() wait for room, `'reject'` throws PublishBufferFullError. */
  whenFull: oneOf(
    ['wait', 'reject'],
    'wait',
    '"wait" makes publish() wait for room; "reject" makes it throw PublishBufferFullError',
    (s) => s.durable && 'deliveries are stored',
  ),
  /** With storage: deliveries claimed at most per look. */
  batchSize: count(10_000, 'how many deliveries to claim at a time')(50, (s) => !s.durable && 'there is no storage'),
  /**
   * With storage: how long a claim holds; renewed every third of it while the delivery is worked on, so only a dead
   * (or cut off) process's claims run out, and another process or the next start takes them over after at most this.
   */
  leaseMs: integer({ min: 1_000, max: 3_600_000 }, 'give how long a claim holds, in ms')(
    15_000,
    (s) => !s.durable && 'there is no storage',
  ),
  /**
   * With storage: `false` makes this instance publish (store) only, and deliver nothing: run it where requests are
   * served, and instances with the default `true` (workers) deliver from the shared storage.
   */
  worker: option<boolean>(
    (v, path, s) => {
      if (typeof v !== 'boolean')
        return fail(path, `expected true or false, got ${describeValue(v)}`, 'pass true or false');
      if (!v && !s.durable)
        return fail(
          path,
          'is false without storage: events published here would never be sent',
          'configure storage (PostgreSQL or PGlite) shared with an instance that delivers, or leave worker out',
        );
      return v;
    },
    { default: true },
  ),
  /** With storage: how often to look for due deliveries when nothing wakes the pipeline (other instances' work). */
  pollIntervalMs: integer({ min: 10, max: 600_000 }, 'give the poll interval in ms')(
    1_000,
    (s) => !s.durable && 'there is no storage',
  ),
};

export const CIRCUIT_BREAKER_OPTIONS = {
  /** Consecutive failed attempts (timeouts, network errors, non-2xx answers) that open an endpoint's circuit. */
  failureThreshold: count(1_000, 'how many failed attempts in a row open the circuit')(10),
  /** While open, one probe attempt at a time, this often; the others wait and are not counted as attempts. */
  probeIntervalMs: integer({ min: 100, max: 3_600_000 }, 'give the time between probes, in ms')(30_000),
};

/**
 * Bounds of what publish() and endpoint requests accept, checked where the input enters so that a request is refused
 * at once with the limit's option name, instead of failing every attempt later (e.g. a receiver's HTTP 431).
 */
/** The highest maxEventTypeLength: @EmitsWebhook checks its types against it at load, before options exist. */
export const EVENT_TYPE_LENGTH_BOUND = 1_024;

export const LIMITS_OPTIONS = {
  /** Bytes (UTF-8) of an event's JSON payload at most. */
  maxPayloadBytes: integer({ min: 1, max: 104_857_600 }, 'give the largest payload in bytes')(1_048_576),
  /** Characters of an endpoint URL (or a publish() `url` target) at most. */
  maxUrlLength: integer({ min: 16, max: 65_536 }, 'give the longest endpoint URL in characters')(2_048),
  /** Custom headers of one publish() at most. */
  maxHeaders: integer({ min: 0, max: 1_000 }, 'give how many custom headers one event may carry')(32),
  /** Bytes of one event's custom headers (names and values together) at most, and of an endpoint's API key header. */
  maxHeaderBytes: integer({ min: 0, max: 65_536 }, 'give the custom header bytes one event may carry')(8_192),
  /** Characters of an event type at most (also of each endpoint `event_types` entry). */
  maxEventTypeLength: integer(
    { min: 1, max: EVENT_TYPE_LENGTH_BOUND },
    'give the longest event type in characters',
  )(255),
};
export type Limits = ResolvedOf<typeof LIMITS_OPTIONS>;
/** Every limit at its default: for the parts used without the module (and the decorator's checks at load time). */
export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze(
  Object.fromEntries(Object.entries(LIMITS_OPTIONS).map(([k, o]) => [k, o.default])) as Limits,
);

const DAY_MS = 86_400_000;

/**
 * What the delivery log keeps with storage. The age follows Convoy's retention (720 h); the row cap bounds the disk
 * whatever the traffic: with the default limits a million attempts hold at most about 5 GB of response bodies and
 * headers, and at up to about 33,000 deliveries a day the age limit is the one that applies.
 */
export const RETENTION_OPTIONS = {
  /** Finished deliveries (the log and the dead letters) and events are kept this long: Convoy's 30 days. */
  maxAgeMs: integer(
    { min: 1_000, max: 3_650 * DAY_MS },
    'give how long finished deliveries are kept, in ms',
  )(30 * DAY_MS),
  /** Finished deliveries, attempts and events kept at most per table, the newest; unfinished deliveries are never deleted. */
  maxRows: count(1_000_000_000, 'how many finished rows to keep per table')(1_000_000),
  /** How often the log is pruned. */
  intervalMs: integer({ min: 100, max: DAY_MS }, 'give how often to prune the log, in ms')(60_000),
  /** Rows deleted per statement: small, so that the pipeline's writes never wait long behind a delete. */
  batchSize: count(10_000, 'how many rows to delete per statement')(500),
};

/**
 * OpenTelemetry, through `@opentelemetry/api` (an optional peer): nothing happens without it, or while no SDK is
 * registered.
 */
export const TELEMETRY_OPTIONS = {
  /** Spans of publish(), the store, each claim and each attempt (the POST to an endpoint, the send to Convoy). */
  traces: boolean(true),
  /** Counters of events published, delivered, failed and retried, and histograms of queue lag and attempt duration. */
  metrics: boolean(true),
  /** Send the W3C `traceparent` (and `tracestate`) to receivers: a header of the embedded engine's POST, a custom header of the event given to Convoy. */
  propagate: boolean(true),
};

export const EMBEDDED_OPTIONS = {
  /** Where endpoints, deliveries and attempts live: by default the module's `storage`, else memory (lost on restart). */
  store: custom<WebhookStore | undefined, WebhookStore>(
    (v) =>
      v !== null && typeof v === 'object' && typeof (v as WebhookStore).claim === 'function'
        ? undefined
        : 'is not a WebhookStore',
    'pass a store from nestjs-convoy (InMemoryWebhookStore, or the PostgreSQL/PGlite stores)',
  ),
  /** Allow the in-memory store under NODE_ENV=production (refused otherwise: a restart would lose endpoints and pending deliveries). */
  allowInMemoryStorage: boolean(false),
  /** Let deliveries reach loopback, private (RFC 1918), CGNAT and unique-local addresses; never link-local or cloud metadata. */
  allowPrivateNetworks: boolean(false),
  /** IPs or CIDRs allowed besides public addresses, e.g. `['127.0.0.0/8', '::1/128']` to add loopback. */
  allowedAddresses: custom<string[]>(
    (v) => (Array.isArray(v) && v.every((a) => typeof a === 'string') ? undefined : 'is not an array of IPs or CIDRs'),
    "pass e.g. ['127.0.0.0/8', '::1/128']",
    { default: () => [] },
  ),
  /** Disable an endpoint when a delivery to it runs out of retries. */
  disableEndpointOnFailure: boolean(false),
  /**
   * Per-endpoint circuit breaker, as Convoy's: after `failureThreshold` failed attempts in a row, the endpoint's
   * deliveries wait and one probe goes every `probeIntervalMs`; a success closes it. `false` turns it off.
   */
  circuitBreaker: orFalse(group(CIRCUIT_BREAKER_OPTIONS)),
  /** Response bytes kept per attempt in the delivery log (a compressed body counts decoded). */
  maxResponseBytes: integer({ min: 0, max: 1_048_576 }, 'give the response bytes to keep per attempt')(4_096),
  /** User-Agent of deliveries. */
  userAgent: text('pass e.g. "my-app-webhooks/1.0"', { default: `Convoy/nestjs-convoy-${PACKAGE_VERSION}` }),
  /** Resolver of endpoint hostnames (tests, custom DNS); by default the system's. */
  lookup: custom<LookupAll | undefined, LookupAll>(
    (v) => (typeof v === 'function' ? undefined : 'is not a function'),
    'pass (hostname) => Promise<{ address, family }[]>',
  ),
};

function checkBaseUrl(v: unknown, path: string): string {
  const fix = `pass the instance's API base, e.g. "${DEFAULT_BASE_URL}" or "http://localhost:5005/api"`;
  const value = text(fix).check(v, path, { transport: 'convoy', durable: false }, () => {});
  const url = URL.canParse(value) ? new URL(value) : undefined;
  const bad = (problem: string, how = fix): never => {
    throw new ConvoyConfigurationError(path, problem, how);
  };
  if (USERINFO.test(value) || url?.username || url?.password)
    bad(
      'contains credentials',
      'remove user:password from the URL and pass apiKey, or username and password, as options',
    );
  if (!url) return bad(`"${redactUrl(value)}" is not an absolute URL`); // a query is not quoted: it may hold a token
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    bad(`uses ${url.protocol}, only http: and https: are supported`);
  if (url.search || url.hash) bad('has a query or fragment', fix); // not quoted: a query may hold a token
  const basePath = url.pathname.replace(/\/+$/, '');
  if (/\/v1(\/|$)/.test(basePath))
    bad(
      `ends in "${basePath}", but the client adds /v1/projects/{projectId} itself`,
      `drop everything from "/v1" on, e.g. "${url.origin}${basePath.replace(/\/v1(\/.*)?$/, '')}"`,
    );
  return value;
}

export const CLIENT_OPTIONS = {
  /** The instance's API base, without `/v1`: Convoy Cloud's US or EU region, or a self-hosted `http://localhost:5005/api`. */
  baseUrl: option(checkBaseUrl, { default: DEFAULT_BASE_URL }),
  /** The project's id (Convoy dashboard: Project Settings); required with credentials. */
  projectId: text('pass the project id as shown in the Convoy dashboard', {
    pattern: /^[A-Za-z0-9_-]+$/,
    hint: 'letters, digits, "-" or "_" only (a Convoy project id, not a URL or name)',
  }),
  /** A project API key (`CO.…`), sent as `Authorization: Bearer`; not together with username/password. */
  apiKey: text('pass the project API key from the Convoy dashboard (Project Settings > Secrets)', {
    secret: true,
    pattern: /^[\x21-\x7e]+$/,
    hint: 'a single token of printable characters with no spaces (no "Bearer " prefix)',
  }),
  /** Basic-auth user of a self-hosted instance's file realm (`auth.file.basic`); needs `password`. */
  username: text('pass the basic-auth user configured in Convoy (auth.file.basic)', {
    secret: true,
    pattern: /^[^:]+$/,
    hint: 'a user name without ":"',
  }),
  /** Basic-auth password of a self-hosted instance's file realm. */
  password: text('pass the basic-auth password configured in Convoy (auth.file.basic)', { secret: true }),
  /** Sent as `X-Convoy-Version` on every request, so the server's response shapes never shift under you. */
  apiVersion: text(`use a Convoy API version date such as "${DEFAULT_API_VERSION}"`, {
    pattern: /^\d{4}-\d{2}-\d{2}$/,
    hint: 'a date like 2025-11-24',
    default: DEFAULT_API_VERSION,
  }),
  /** Per-attempt timeout, covering connect, headers and body. */
  timeoutMs: integer({ min: 1, max: 600_000 }, 'give the per-request timeout in ms, e.g. 10000')(10_000),
  /** Retries of calls that are safe to repeat (reads, idempotency-keyed event creation), or `false` for none. */
  retry: orFalse(retryGroup(() => RETRY_DEFAULTS.client)),
  /** `User-Agent` header. */
  userAgent: text('pass a single-line product token such as "my-app/1.2"', {
    default: `nestjs-convoy/${PACKAGE_VERSION}`,
  }),
  /** Upper bound of open keep-alive connections to Convoy. */
  connections: count(1024, 'the maximum number of sockets to Convoy, e.g. 16')(16),
  /** A response body longer than this is not read: the call fails with ConvoyResponseError (a bound on what a server sends). */
  maxResponseBytes: integer(
    { min: 1_024, max: 1_073_741_824 },
    'give the largest response body to read from Convoy, in bytes, e.g. 67108864 (64 MiB)',
  )(64 * 1024 * 1024),
};

export const CONVOY_OPTIONS = {
  ...CLIENT_OPTIONS,
  /**
   * With the Convoy transport, check at startup that the credentials reach projectId (Convoy otherwise uses the API
   * key's project whatever projectId says); a mismatch stops startup, an unreachable Convoy is checked again later.
   */
  verifyProject: boolean(
    true,
    'pass false to skip the startup project check, or leave it out',
    (s) => s.transport !== 'convoy' && `the transport is ${s.transport}`,
  ),
};
