import type { EventValidation } from '../catalog/payload-validation.js';
import { isWebhookEventCatalog, type WebhookEventCatalog } from '../catalog/webhook-events.js';
import { ConvoyConfigurationError } from '../errors/configuration.error.js';
import { WebhookValidationError } from '../errors/publish.errors.js';
import { urlLengthProblem, validateTarget } from '../publishing/validate-webhook.js';
import type { PublishOptions, WebhookTarget } from '../publishing/webhook.types.js';
import type { ConvoyStorage } from '../storage/convoy-storage.interface.js';
import type { WebhookTransport } from '../transports/webhook-transport.interface.js';
import { describeValue } from '../utils/describe-value.js';
import {
  boolean,
  custom,
  group,
  option,
  orFalse,
  resolveTable,
  type OptionsOf,
  type ResolvedOf,
  type Setup,
} from './option-table.js';
import {
  CONVOY_OPTIONS,
  DELIVERY_OPTIONS,
  EMBEDDED_OPTIONS,
  LIMITS_OPTIONS,
  RETENTION_OPTIONS,
  TELEMETRY_OPTIONS,
  type RETRY_OPTIONS,
} from './option-tables.js';
import { hasCredentials, resolveClientOptions } from './resolve-client-options.js';

/** Forwards matching `@nestjs/event-emitter` events to WebhookPublisher. */
export interface ForwardRule {
  /** Event name pattern: `*` matches one dot-separated segment, `**` any number. */
  event: string;
  /** Webhook event type. Default: the emitted event's name. */
  eventType?: string | ((eventName: string) => string);
  /** The webhook's data. Default: the first argument given to emit(). */
  data?: (payload: unknown, eventName: string) => unknown;
  /** Target, idempotency key and headers. Default: the module's defaultTarget. */
  options?: (payload: unknown, eventName: string) => PublishOptions | undefined;
}

/** How deliveries are sent, retried, buffered and claimed (`delivery: {…}`), with storage or without. */
export type DeliveryOptions = OptionsOf<typeof DELIVERY_OPTIONS>;
/** The embedded engine: its store, SSRF allowances and delivery log (`embedded: {…}`). */
export type EmbeddedOptions = OptionsOf<typeof EMBEDDED_OPTIONS>;
/** Bounds of payloads, URLs, headers and event types (`limits: {…}`). */
export type LimitsOptions = OptionsOf<typeof LIMITS_OPTIONS>;
/** Convoy's address, credentials and client settings (`convoy: {…}`). */
export type ConvoyOptions = OptionsOf<typeof CONVOY_OPTIONS>;
/** What the delivery log keeps with storage (`retention: {…}`, or `false` to keep everything). */
export type RetentionOptions = OptionsOf<typeof RETENTION_OPTIONS>;
/** OpenTelemetry traces, metrics and `traceparent` propagation (`telemetry: {…}`, or `false` for none). */
export type TelemetryOptions = OptionsOf<typeof TELEMETRY_OPTIONS>;
/** A retry policy (`delivery.retry`, `convoy.retry`); keys left out keep the path's default. */
export type RetryOptions = OptionsOf<typeof RETRY_OPTIONS>;

type TransportChoice = 'convoy' | 'embedded' | 'log' | WebhookTransport;

const targetFix = 'pass exactly one of { broadcast: true }, { endpointId }, { ownerId } or { url }';
const forwardFix = "pass event name patterns, e.g. ['todo.*'], or { event, eventType?, data?, options? } rules";

export const MODULE_OPTIONS = {
  /**
   * Where events go: 'convoy' (the default with credentials), 'embedded' (the default without: the in-process engine
   * signs and delivers like Convoy), 'log' (logs each event, delivers nothing), or your own WebhookTransport.
   */
  transport: option<TransportChoice>((v, path) => {
    if (v === 'convoy' || v === 'log' || v === 'embedded') return v;
    if (v !== null && typeof v === 'object' && typeof (v as WebhookTransport).send === 'function')
      return v as WebhookTransport;
    throw new ConvoyConfigurationError(
      path,
      `expected "convoy", "embedded", "log" or an object with a send() method, got ${typeof v === 'string' ? `"${v}"` : describeValue(v)}`,
      'use "convoy", "embedded", "log", or a WebhookTransport instance',
    );
  }),
  /** Convoy's address and credentials (`apiKey`, or `username` and `password`, with `projectId`). */
  convoy: group(CONVOY_OPTIONS),
  /**
   * Durable storage (`nestjs-convoy/postgres` or `nestjs-convoy/pglite`): publish() stores each event before it
   * resolves, and the embedded engine keeps its endpoints and delivery log there. Without it, events wait in memory.
   */
  storage: custom<ConvoyStorage | undefined, ConvoyStorage>((v) => {
    const s = v as Partial<ConvoyStorage> | null;
    return s !== null &&
      typeof s === 'object' &&
      typeof s.store?.claim === 'function' &&
      typeof s.migrate === 'function'
      ? undefined
      : `expected a ConvoyStorage, got ${describeValue(v)}`;
  }, 'pass `await PostgresStorage.create({ pool })` (nestjs-convoy/postgres) or `await PGliteStorage.create({ dataDir })` (nestjs-convoy/pglite), from forRootAsync'),
  /** How deliveries are sent, retried, buffered and claimed. */
  delivery: group(DELIVERY_OPTIONS),
  /**
   * With storage, what the delivery log keeps: finished deliveries, their attempts and events past an age or a count
   * are deleted in small batches on a timer; `false` keeps everything.
   */
  retention: orFalse(
    group(RETENTION_OPTIONS, undefined, {
      idleWhen: (s) => !s.durable && 'there is no storage (the in-memory store keeps its latest 10,000 events)',
    }),
  ),
  /**
   * OpenTelemetry (with `@opentelemetry/api` installed and an SDK registered): spans from publish() to each attempt,
   * metrics, and `traceparent` sent to receivers; `false` turns all of it off.
   */
  telemetry: orFalse(group(TELEMETRY_OPTIONS)),
  /** The embedded engine's store, SSRF allowances and delivery log. */
  embedded: group(EMBEDDED_OPTIONS, undefined, {
    idleWhen: (s) => s.transport !== 'embedded' && `the transport is ${s.transport}`,
  }),
  /** Bounds of payloads, endpoint URLs, custom headers and event types, with any transport. */
  limits: group(LIMITS_OPTIONS),
  /** Target of publish() calls that name none. Default `{ broadcast: true }`. */
  defaultTarget: option<WebhookTarget>(
    (v, path) => {
      if (v === null || typeof v !== 'object')
        throw new ConvoyConfigurationError(path, `expected an object, got ${describeValue(v)}`, targetFix);
      try {
        // Its length is checked against limits.maxUrlLength once both are resolved (resolveModuleOptions).
        const target = validateTarget(v, path, Infinity);
        if (target) return target;
      } catch (error) {
        if (error instanceof WebhookValidationError)
          throw new ConvoyConfigurationError(error.field, error.reason, targetFix);
        throw error;
      }
      throw new ConvoyConfigurationError(path, 'names no target', targetFix);
    },
    { default: () => ({ broadcast: true }) },
  ),
  /** Event-emitter events to forward as webhooks, e.g. `['todo.*']` (needs @nestjs/event-emitter). */
  forward: option<ForwardRule[], Array<string | ForwardRule>>(
    (v, path) => {
      if (!Array.isArray(v))
        throw new ConvoyConfigurationError(path, `expected an array, got ${describeValue(v)}`, forwardFix);
      return v.map((item: unknown, i) => {
        const rule = (typeof item === 'string' ? { event: item } : item) as ForwardRule | null;
        const at = `${path}[${i}]`;
        if (rule === null || typeof rule !== 'object' || typeof rule.event !== 'string' || rule.event.trim() === '')
          throw new ConvoyConfigurationError(
            at,
            'is not a non-empty pattern string or a rule with an "event" pattern',
            forwardFix,
          );
        if (rule.data !== undefined && typeof rule.data !== 'function')
          throw new ConvoyConfigurationError(`${at}.data`, 'is not a function', 'pass (payload, eventName) => data');
        if (rule.options !== undefined && typeof rule.options !== 'function')
          throw new ConvoyConfigurationError(
            `${at}.options`,
            'is not a function',
            'pass (payload, eventName) => publish options',
          );
        if (rule.eventType !== undefined && typeof rule.eventType !== 'string' && typeof rule.eventType !== 'function')
          throw new ConvoyConfigurationError(
            `${at}.eventType`,
            'is neither a string nor a function',
            'pass the webhook event type, or (eventName) => type',
          );
        return rule;
      });
    },
    { default: () => [] },
  ),
  /** The event catalog (defineWebhookEvents()): publish() then checks each event type and payload against it. */
  events: custom<WebhookEventCatalog | undefined, WebhookEventCatalog>(
    (v) =>
      isWebhookEventCatalog(v) ? undefined : `expected a catalog from defineWebhookEvents(), got ${describeValue(v)}`,
    "pass the result of defineWebhookEvents({ 'todo.created': schema, … })",
  ),
  /**
   * With `events`, a payload that does not match its schema (or an unknown event type): `'reject'` throws
   * WebhookValidationError, `'log'` logs a warning and sends it as it is, `'off'` checks nothing (the catalog then only
   * types and documents). Default `'reject'`, and `'log'` under NODE_ENV=production.
   */
  eventValidation: option<EventValidation>(
    (v, path) => {
      if (v === 'reject' || v === 'log' || v === 'off') return v;
      throw new ConvoyConfigurationError(
        path,
        `expected "reject", "log" or "off", got ${typeof v === 'string' ? `"${v}"` : describeValue(v)}`,
        '"reject" throws on a wrong payload, "log" warns and sends it, "off" checks nothing',
      );
    },
    { default: () => (process.env.NODE_ENV === 'production' ? 'log' : 'reject') },
  ),
  /**
   * With `events` and the Convoy transport: at startup, make Convoy's event types match the catalog (create, update,
   * deprecate those removed; never delete), as `npx nestjs-convoy event-types sync` does. Convoy refusing a change
   * stops startup with EventTypeSyncError; an unreachable Convoy logs a warning and is tried again in the background.
   */
  syncEventTypes: boolean(
    false,
    'pass true to sync the catalog to Convoy at startup, or leave it out',
    (s) => s.transport !== 'convoy' && `the transport is ${s.transport}`,
  ),
};

/** ConvoyModule.forRoot() options (forRootAsync's factory returns the same). */
export type ConvoyModuleOptions = OptionsOf<typeof MODULE_OPTIONS>;

/** Options read when the module is declared (not from the async factory), because they shape its providers. */
export interface ConvoyModuleExtras {
  /** Register the module globally, so any module can inject its services. Default true. */
  isGlobal?: boolean;
}

/** The module options after validation and defaults: what the providers read. */
export interface ResolvedConvoyOptions extends Omit<ResolvedOf<typeof MODULE_OPTIONS>, 'transport'> {
  transport: TransportChoice;
  /** True when 'embedded' was picked because no credentials were configured (the module says so at startup). */
  transportIsFallback: boolean;
  /** The options of ConvoyClient, or null when no credentials are configured. */
  clientOptions: ConvoyOptions | null;
}

/**
 * Validates ConvoyModule options when the application boots; every mistake stops startup with a
 * ConvoyConfigurationError naming the option and the fix, and an option that has no effect in the chosen setup
 * is reported through `warn`.
 */
export function resolveModuleOptions(
  options: ConvoyModuleOptions | undefined,
  warn: (message: string) => void,
): ResolvedConvoyOptions {
  const raw = (options ?? {}) as Record<string, unknown>;
  const convoy = raw.convoy !== null && typeof raw.convoy === 'object' ? (raw.convoy as ConvoyOptions) : {};
  const credentials = hasCredentials(convoy);
  const transport = raw.transport === undefined ? (credentials ? 'convoy' : 'embedded') : raw.transport;
  const name = transport === 'convoy' || transport === 'log' || transport === 'embedded' ? transport : 'custom';
  const store = (raw.embedded as EmbeddedOptions | undefined)?.store;
  const durable = raw.storage !== undefined || (name === 'embedded' && store != null && !store.volatile);
  const setup: Setup = { transport: name, durable };
  for (const key of Object.keys(raw)) {
    if (Object.hasOwn(MODULE_OPTIONS, key) || raw[key] === undefined) continue;
    if (Object.hasOwn(CONVOY_OPTIONS, key))
      throw new ConvoyConfigurationError(key, 'is not a top-level option', `move it into convoy: { ${key} }`);
    if (key === 'dispatcher' || key === 'outbox')
      throw new ConvoyConfigurationError(key, 'is not an option', "use delivery: {…} (see the README's Options)");
    if (key === 'globalInterceptor')
      throw new ConvoyConfigurationError(
        key,
        'is not an option',
        'remove it: @EmitsWebhook publishes from the handlers it decorates',
      );
  }
  const resolved = resolveTable(MODULE_OPTIONS, raw, '', setup, warn);
  const defaultUrl = 'url' in resolved.defaultTarget ? resolved.defaultTarget.url : undefined;
  const tooLong = defaultUrl === undefined ? undefined : urlLengthProblem(defaultUrl, resolved.limits.maxUrlLength);
  if (tooLong) throw new ConvoyConfigurationError('defaultTarget.url', tooLong, 'use a shorter URL');
  if (!credentials && convoy.projectId !== undefined)
    throw new ConvoyConfigurationError(
      'convoy.apiKey',
      'is missing although convoy.projectId is set',
      'pass convoy.apiKey (or username and password) with projectId, or remove projectId to run without Convoy',
    );
  if (transport === 'convoy' && !credentials)
    throw new ConvoyConfigurationError(
      'transport',
      '"convoy" needs Convoy credentials, and none are configured',
      'pass convoy: { apiKey (or username and password), projectId }',
    );
  if (raw.syncEventTypes === true && raw.events === undefined)
    throw new ConvoyConfigurationError(
      'syncEventTypes',
      'is true, but no events catalog is registered (an empty catalog would deprecate every event type in Convoy)',
      'pass events: defineWebhookEvents({…}) too, or remove syncEventTypes',
    );
  if (raw.eventValidation !== undefined && raw.events === undefined)
    warn('eventValidation has no effect: no events catalog is registered');
  if (credentials) resolveClientOptions(convoy, 'convoy');
  else if (Object.values(convoy).some((v) => v !== undefined))
    warn('convoy has no effect: no credentials are given (apiKey, or username and password)');
  const { verifyProject: _, ...clientOptions } = convoy;
  return {
    ...resolved,
    transport: resolved.transport ?? (transport as TransportChoice),
    transportIsFallback: raw.transport === undefined && !credentials,
    clientOptions: credentials ? clientOptions : null,
  };
}
