import type { ConvoyClientOptions } from '../client/convoy-client.options.js';
import type { EmbeddedOptions, ResolvedEmbeddedOptions } from '../transports/embedded/embedded-options.js';
import type { ConvoyStorage } from '../storage/convoy-storage.interface.js';
import type { PublishOptions, WebhookTarget } from '../publishing/webhook.types.js';
import type { WebhookTransport } from '../transports/webhook-transport.interface.js';

/** Without storage: how the pipeline buffers, sends and retries. */
export interface DispatcherSettings {
  /** Events sent at the same time. */
  concurrency: number;
  /** Events held at most (waiting, in flight or between retries). */
  bufferSize: number;
  /** When the buffer is full: 'wait' makes publish() wait for room (backpressure); 'reject' throws PublishBufferFullError. */
  whenFull: 'wait' | 'reject';
  /** Attempts per event before it is given up. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Cap of a transport-requested wait (Retry-After). */
  maxRetryAfterMs: number;
  /** At shutdown, how long to keep sending what is held before giving up on it. */
  drainTimeout: number;
}

/** With storage: how the pipeline moves events from the store to the transport. */
export interface RelaySettings {
  /** How often to look for due events when nothing wakes the pipeline (other instances' events, retries). */
  pollIntervalMs: number;
  /** Events claimed at most per look. */
  batchSize: number;
  /** Events handed over at the same time. */
  concurrency: number;
  /** How long a claim holds; renewed while an event is being sent. */
  leaseMs: number;
  /** Attempts before an event becomes a dead letter. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Cap of a transport-requested wait (Convoy's Retry-After). */
  maxRetryAfterMs: number;
  /** At shutdown, how long to wait for sends in flight. Pending events stay stored either way. */
  drainTimeout: number;
}

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

/** ConvoyModule.forRoot() options (forRootAsync's factory returns the same). */
export interface ConvoyModuleOptions extends ConvoyClientOptions {
  /**
   * Where events go: 'convoy' (the default when credentials are set), 'embedded' (the default without: the
   * in-process engine signs and delivers like Convoy), 'log' (logs each event, delivers nothing), or your own
   * WebhookTransport (e.g. RecordingTransport in tests).
   */
  transport?: 'convoy' | 'embedded' | 'log' | WebhookTransport;
  /** The embedded engine: store, SSRF allowances, retry schedule, concurrency. */
  embedded?: EmbeddedOptions;
  /**
   * Durable storage (`nestjs-convoy/postgres` or `nestjs-convoy/pglite`): publish() then stores each event in an
   * outbox before it resolves, a relay hands it to the transport, and the embedded engine keeps its endpoints
   * and delivery log there. Without it, events wait in memory (a crash loses what is not yet sent).
   */
  storage?: ConvoyStorage;
  /** The outbox relay (with `storage`): polling, batch, concurrency, leases, retries, dead letters. */
  outbox?: Partial<RelaySettings>;
  /** Target of publish() calls that name none. Default `{ broadcast: true }`. */
  defaultTarget?: WebhookTarget;
  /** The background dispatcher: buffer, concurrency, retries, shutdown drain. */
  dispatcher?: Partial<DispatcherSettings>;
  /** Event-emitter events to forward as webhooks, e.g. `['todo.*']` (needs `@nestjs/event-emitter`). */
  forward?: Array<string | ForwardRule>;
  /**
   * With the Convoy transport, check once at startup that the credentials reach the configured project (Convoy
   * otherwise uses the API key's project whatever projectId says). A mismatch stops startup with
   * ConvoyConfigurationError; an unreachable Convoy is logged and checked again in the background. Default true.
   */
  verifyProject?: boolean;
}

/** Options read when the module is declared (not from the async factory), because they shape its providers. */
export interface ConvoyModuleExtras {
  /** Register the module globally, so any module can inject its services. Default true. */
  isGlobal?: boolean;
  /** Apply WebhookInterceptor to every route, so @EmitsWebhook alone suffices. Default true. */
  globalInterceptor?: boolean;
}

export interface ResolvedConvoyOptions {
  /** Options for ConvoyClient, or null when no credentials are configured. */
  clientOptions: ConvoyClientOptions | null;
  transport: 'convoy' | 'embedded' | 'log' | WebhookTransport;
  /** True when 'embedded' was picked because no credentials were configured (the module says so at startup). */
  transportIsFallback: boolean;
  embedded: ResolvedEmbeddedOptions;
  defaultTarget: WebhookTarget;
  dispatcher: DispatcherSettings;
  storage: ConvoyStorage | undefined;
  outbox: RelaySettings;
  forward: ForwardRule[];
  verifyProject: boolean;
}
