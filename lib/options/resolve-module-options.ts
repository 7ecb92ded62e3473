import { ConvoyConfigurationError } from '../errors/configuration.error.js';
import { WebhookValidationError } from '../errors/publish.errors.js';
import { validateTarget } from '../publishing/validate-webhook.js';
import type {
  ConvoyModuleOptions,
  DispatcherSettings,
  ForwardRule,
  RelaySettings,
  ResolvedConvoyOptions,
} from './convoy-module-options.interface.js';
import { describeValue } from '../utils/describe-value.js';
import { checkBoolean, checkInteger, checkKnownKeys, checkObject } from './option-checks.js';
import { CLIENT_OPTION_KEYS, hasCredentials } from './resolve-client-options.js';
import { resolveEmbeddedOptions } from '../transports/embedded/embedded-options.js';
import type { ConvoyStorage } from '../storage/convoy-storage.interface.js';

export const DEFAULT_DISPATCHER: DispatcherSettings = {
  concurrency: 8,
  bufferSize: 10_000,
  whenFull: 'wait',
  maxAttempts: 12,
  baseDelayMs: 500,
  maxDelayMs: 60_000,
  maxRetryAfterMs: 120_000,
  drainTimeout: 10_000,
};

export const DEFAULT_RELAY: RelaySettings = {
  pollIntervalMs: 1_000,
  batchSize: 50,
  concurrency: 8,
  leaseMs: 60_000,
  maxAttempts: 20,
  baseDelayMs: 1_000,
  maxDelayMs: 300_000,
  maxRetryAfterMs: 3_600_000,
  drainTimeout: 10_000,
};

const MODULE_OPTION_KEYS = [
  ...CLIENT_OPTION_KEYS,
  'transport',
  'embedded',
  'storage',
  'outbox',
  'defaultTarget',
  'dispatcher',
  'forward',
  'verifyProject',
];
const DISPATCHER_KEYS = Object.keys(DEFAULT_DISPATCHER);
const RELAY_KEYS = Object.keys(DEFAULT_RELAY);

/**
 * Validates ConvoyModule options when the application boots; every mistake stops startup with a
 * ConvoyConfigurationError naming the option and the fix. Client options are checked by ConvoyClient itself.
 */
export function resolveModuleOptions(options: ConvoyModuleOptions | undefined): ResolvedConvoyOptions {
  const raw = options ?? {};
  checkObject(
    '(options)',
    raw,
    'pass an options object to ConvoyModule.forRoot(), or return one from the forRootAsync factory',
  );
  checkKnownKeys('', raw, MODULE_OPTION_KEYS);
  const credentials = hasCredentials(raw);
  if (!credentials && raw.projectId !== undefined) {
    throw new ConvoyConfigurationError(
      'apiKey',
      'is missing although projectId is set',
      'pass apiKey (or username and password) with projectId, or remove projectId to run without Convoy',
    );
  }
  const transport = resolveTransport(raw.transport, credentials);
  return {
    clientOptions: credentials ? pickClientOptions(raw) : null,
    transport,
    transportIsFallback: raw.transport === undefined && !credentials,
    embedded: resolveEmbeddedOptions(raw.embedded),
    defaultTarget: resolveDefaultTarget(raw.defaultTarget),
    dispatcher: resolveDispatcher(raw.dispatcher),
    storage: resolveStorage(raw.storage),
    outbox: resolveRelay(raw.outbox),
    forward: resolveForward(raw.forward),
    verifyProject:
      raw.verifyProject === undefined
        ? true
        : checkBoolean(
            'verifyProject',
            raw.verifyProject,
            'pass false to skip the startup check that the API key belongs to projectId, or leave it out',
          ),
  };
}

function pickClientOptions(raw: ConvoyModuleOptions): ConvoyModuleOptions {
  const picked: Record<string, unknown> = {};
  for (const key of CLIENT_OPTION_KEYS) if (raw[key] !== undefined) picked[key] = raw[key];
  return picked;
}

function resolveTransport(value: unknown, credentials: boolean): ResolvedConvoyOptions['transport'] {
  if (value === undefined) return credentials ? 'convoy' : 'embedded';
  if (value === 'convoy' && !credentials) {
    throw new ConvoyConfigurationError(
      'transport',
      '"convoy" needs Convoy credentials, and none are configured',
      'pass apiKey (or username and password) and projectId',
    );
  }
  if (value === 'convoy' || value === 'log' || value === 'embedded') return value;
  if (value !== null && typeof value === 'object' && typeof (value as { send?: unknown }).send === 'function') {
    return value as ResolvedConvoyOptions['transport'];
  }
  throw new ConvoyConfigurationError(
    'transport',
    `expected "convoy", "embedded", "log" or an object with a send() method, got ${typeof value === 'string' ? `"${value}"` : describeValue(value)}`,
    'use "convoy", "embedded", "log", or a WebhookTransport instance',
  );
}

function resolveDefaultTarget(value: unknown): ResolvedConvoyOptions['defaultTarget'] {
  if (value === undefined) return { broadcast: true };
  checkObject('defaultTarget', value, 'pass one of { broadcast: true }, { endpointId }, { ownerId } or { url }');
  try {
    const target = validateTarget(value, 'defaultTarget');
    if (target) return target;
  } catch (error) {
    if (error instanceof WebhookValidationError)
      throw new ConvoyConfigurationError(
        error.field,
        error.reason,
        'pass exactly one of { broadcast: true }, { endpointId }, { ownerId } or { url }',
      );
    throw error;
  }
  throw new ConvoyConfigurationError(
    'defaultTarget',
    'names no target',
    'pass exactly one of { broadcast: true }, { endpointId }, { ownerId } or { url }',
  );
}

function resolveDispatcher(value: unknown): DispatcherSettings {
  if (value === undefined) return { ...DEFAULT_DISPATCHER };
  checkObject('dispatcher', value, `pass an object with any of ${DISPATCHER_KEYS.join(', ')}`);
  checkKnownKeys('dispatcher', value, DISPATCHER_KEYS);
  const v = value as Partial<DispatcherSettings>;
  const d = DEFAULT_DISPATCHER;
  const int = (key: keyof DispatcherSettings, min: number, max: number, fix: string): number =>
    v[key] === undefined ? (d[key] as number) : checkInteger(`dispatcher.${key}`, v[key], min, max, fix);
  if (v.whenFull !== undefined && v.whenFull !== 'wait' && v.whenFull !== 'reject') {
    throw new ConvoyConfigurationError(
      'dispatcher.whenFull',
      `expected "wait" or "reject", got ${describeValue(v.whenFull)}`,
      '"wait" makes publish() wait for room; "reject" makes it throw PublishBufferFullError',
    );
  }
  const settings: DispatcherSettings = {
    concurrency: int('concurrency', 1, 1024, 'give how many events may be sent at the same time'),
    bufferSize: int('bufferSize', 1, 10_000_000, 'give how many events may wait in memory'),
    whenFull: v.whenFull ?? d.whenFull,
    maxAttempts: int('maxAttempts', 1, 1000, 'give the attempts per event, the first included'),
    baseDelayMs: int('baseDelayMs', 0, 3_600_000, 'give the first retry delay in ms'),
    maxDelayMs: int('maxDelayMs', 0, 86_400_000, 'give the longest retry delay in ms'),
    maxRetryAfterMs: int('maxRetryAfterMs', 0, 86_400_000, 'give the longest Retry-After wait to honour, in ms'),
    drainTimeout: int('drainTimeout', 0, 3_600_000, 'give how long shutdown may keep sending, in ms'),
  };
  if (settings.maxDelayMs < settings.baseDelayMs) {
    throw new ConvoyConfigurationError(
      'dispatcher.maxDelayMs',
      `(${settings.maxDelayMs}) is below baseDelayMs (${settings.baseDelayMs})`,
      'make maxDelayMs at least baseDelayMs',
    );
  }
  return settings;
}

function resolveStorage(value: unknown): ConvoyStorage | undefined {
  if (value === undefined) return undefined;
  const storage = value as Partial<ConvoyStorage> | null;
  if (
    storage === null ||
    typeof storage !== 'object' ||
    typeof storage.store?.claim !== 'function' ||
    typeof storage.migrate !== 'function'
  ) {
    throw new ConvoyConfigurationError(
      'storage',
      `expected a ConvoyStorage, got ${describeValue(value)}`,
      'pass `await PostgresStorage.create({ pool })` (nestjs-convoy/postgres) or `await PGliteStorage.create({ dataDir })` (nestjs-convoy/pglite), from forRootAsync',
    );
  }
  return storage as ConvoyStorage;
}

function resolveRelay(value: unknown): RelaySettings {
  if (value === undefined) return { ...DEFAULT_RELAY };
  checkObject('outbox', value, `pass an object with any of ${RELAY_KEYS.join(', ')}`);
  checkKnownKeys('outbox', value, RELAY_KEYS);
  const v = value as Partial<RelaySettings>;
  const d = DEFAULT_RELAY;
  const int = (key: keyof RelaySettings, min: number, max: number, fix: string): number =>
    v[key] === undefined ? d[key] : checkInteger(`outbox.${key}`, v[key], min, max, fix);
  const settings: RelaySettings = {
    pollIntervalMs: int('pollIntervalMs', 10, 600_000, 'give the poll interval in ms'),
    batchSize: int('batchSize', 1, 10_000, 'give how many messages to claim at a time'),
    concurrency: int('concurrency', 1, 1024, 'give how many messages to hand over at the same time'),
    leaseMs: int('leaseMs', 1_000, 3_600_000, 'give how long a claim holds, in ms (longer than a send may take)'),
    maxAttempts: int('maxAttempts', 1, 10_000, 'give the attempts before a message becomes a dead letter'),
    baseDelayMs: int('baseDelayMs', 0, 3_600_000, 'give the first retry delay in ms'),
    maxDelayMs: int('maxDelayMs', 0, 86_400_000, 'give the longest retry delay in ms'),
    maxRetryAfterMs: int('maxRetryAfterMs', 0, 86_400_000, 'give the longest Retry-After wait to honour, in ms'),
    drainTimeout: int('drainTimeout', 0, 3_600_000, 'give how long shutdown waits for sends in flight, in ms'),
  };
  if (settings.maxDelayMs < settings.baseDelayMs) {
    throw new ConvoyConfigurationError(
      'outbox.maxDelayMs',
      `(${settings.maxDelayMs}) is below baseDelayMs (${settings.baseDelayMs})`,
      'make maxDelayMs at least baseDelayMs',
    );
  }
  return settings;
}

function resolveForward(value: unknown): ForwardRule[] {
  if (value === undefined) return [];
  const fix = "pass event name patterns, e.g. ['todo.*'], or { event, eventType?, data?, options? } rules";
  if (!Array.isArray(value))
    throw new ConvoyConfigurationError('forward', `expected an array, got ${describeValue(value)}`, fix);
  return value.map((item, i) => {
    const rule = (typeof item === 'string' ? { event: item } : item) as ForwardRule;
    if (rule === null || typeof rule !== 'object' || typeof rule.event !== 'string' || rule.event.trim() === '') {
      throw new ConvoyConfigurationError(
        `forward[${i}]`,
        'is not a non-empty pattern string or a rule with an "event" pattern',
        fix,
      );
    }
    if (rule.data !== undefined && typeof rule.data !== 'function')
      throw new ConvoyConfigurationError(
        `forward[${i}].data`,
        'is not a function',
        'pass (payload, eventName) => data',
      );
    if (rule.options !== undefined && typeof rule.options !== 'function')
      throw new ConvoyConfigurationError(
        `forward[${i}].options`,
        'is not a function',
        'pass (payload, eventName) => publish options',
      );
    if (rule.eventType !== undefined && typeof rule.eventType !== 'string' && typeof rule.eventType !== 'function') {
      throw new ConvoyConfigurationError(
        `forward[${i}].eventType`,
        'is neither a string nor a function',
        'pass the webhook event type, or (eventName) => type',
      );
    }
    return rule;
  });
}
