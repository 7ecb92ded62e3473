import { Logger } from '@nestjs/common';
import type { Dispatcher } from 'undici';
import { InvalidEndpointError, WebhookNotFoundError } from '../../errors/endpoint.errors.js';
import { DestinationBlockedError, InvalidDestinationError } from '../../errors/destination.errors.js';
import { EmbeddedWebhookDeliveries, EmbeddedWebhookEndpoints } from './embedded-management.js';
import type { AddressPolicy } from '../../network/address-policy.js';
import { checkDestinationWithoutDns, type LookupAll } from '../../network/destination.js';
import { newDelivery } from '../../pipeline/hand-over.route.js';
import type { AttemptResult, DeliveryRoute, FailureReason } from '../../pipeline/pipeline.js';
import type { DeliveryRecord, EndpointRecord } from '../../storage/records.js';
import type { RetryPolicy } from '../../options/option-tables.js';
import type { Enqueued, WebhookStore } from '../../storage/webhook-store.js';
import type { OutgoingWebhook } from '../../publishing/webhook.types.js';
import { openChannels } from '../../utils/channels.js';
import { matchesEventPattern } from '../../utils/glob.js';
import { uuidv7 } from '../../utils/uuid.js';
import { dynamicEndpointName } from '../dynamic-target.js';
import { CircuitBreaker, type CircuitBreakerSettings } from './circuit-breaker.js';
import { EndpointRegistry } from './endpoint-registry.js';
import type { Limits } from '../../options/option-tables.js';
import { HttpDelivery, type HttpDeliveryOptions } from './http-delivery.js';
import type { WebhookTelemetry } from '../../telemetry/webhook-telemetry.js';

/** Diagnostics channels of the embedded engine. */
export const EMBEDDED_CHANNELS = {
  /** `{ endpoint, reason: 'gone' | 'failing' }`: the embedded engine disabled an endpoint (410, or failing for good). */
  endpointDisabled: 'nestjs-convoy:endpoint-disabled',
  /** `{ endpoint, failures }`: an endpoint's circuit opened; its deliveries wait, probed one at a time. */
  circuitOpened: 'nestjs-convoy:circuit-opened',
  /** `{ endpoint }`: a probe succeeded and the endpoint's circuit closed; its deliveries go out again. */
  circuitClosed: 'nestjs-convoy:circuit-closed',
} as const;
const channels = openChannels(EMBEDDED_CHANNELS);

/** publish() to a refused `{ url }` rejects with the SSRF guard's error itself, not the endpoint API's wrapper. */
function ssrfRefusal(error: unknown): never {
  const { cause } = error as { cause?: unknown };
  throw error instanceof InvalidEndpointError &&
    (cause instanceof DestinationBlockedError || cause instanceof InvalidDestinationError)
    ? cause
    : error;
}

/** Fan-outs kept at most (event types × owners published to); beyond, they are worked out again. */
const MAX_FAN_OUTS = 1_000;

/** While an endpoint is paused, its deliveries are looked at again this often. */
const PAUSED_RECHECK_MS = 5_000;

/** What the embedded transport is built from: its store, SSRF guard, agent and settings (convoy.providers.ts). */
export interface EmbeddedTransportConfig {
  store: WebhookStore;
  policy: AddressPolicy;
  /** The guarded undici agent (see network/destination.ts). */
  agent: Dispatcher;
  lookupAll?: LookupAll;
  http: HttpDeliveryOptions;
  /** Disable an endpoint when a delivery to it runs out of attempts (Convoy's disable_endpoint). */
  disableEndpointOnFailure: boolean;
  /** The per-endpoint circuit breaker, or false for none. */
  circuitBreaker: CircuitBreakerSettings | false;
  /** The pipeline's retry policy (the delivery log shows it). */
  retry: RetryPolicy;
  /** Bounds of endpoint URLs, event type filters and API key headers; DEFAULT_LIMITS when left out. */
  limits?: Readonly<Limits>;
  /** The registered event catalog's types: endpoints' `event_types` must name them (see EndpointRegistry). */
  catalogTypes?: readonly string[];
  /** Spans of each attempt and the `traceparent` sent to receivers; off when left out. */
  telemetry?: WebhookTelemetry;
}

/** `*` takes every type; otherwise exact names, or dotted patterns (`todo.*` one segment, `todo.**` any). */
export function acceptsEventType(endpoint: EndpointRecord, eventType: string): boolean {
  for (const pattern of endpoint.event_types)
    if (pattern === '*' || pattern === eventType || matchesEventPattern(pattern, eventType)) return true;
  return false;
}

/**
 * The delivery engine inside the application, when there is no Convoy: an endpoint registry, Convoy's fan-out (done
 * when an event is stored, so that it crosses the pipeline's queue once), and attempts that sign and send exactly as
 * Convoy does, with Convoy's outcomes (410 disables the endpoint, 429/503 pause it for their Retry-After, a paused
 * endpoint's deliveries wait, an inactive one's are discarded, per-endpoint rate limits).
 */
export class EmbeddedTransport implements DeliveryRoute {
  readonly name = 'embedded';
  readonly registry: EndpointRegistry;
  readonly endpoints: EmbeddedWebhookEndpoints;
  readonly deliveries: EmbeddedWebhookDeliveries;
  private readonly logger = new Logger('EmbeddedTransport');
  private readonly http: HttpDelivery;
  /** A `{ url, secret? }` target's endpoint name → the find-or-create of that endpoint in progress (endpointForUrl). */
  private readonly creatingForTarget = new Map<string, Promise<EndpointRecord>>();
  /** Endpoint id → epoch ms until which a 429/503 Retry-After asked us to wait (this process only). */
  private readonly pausedUntil = new Map<string, number>();
  /** Endpoint id → attempts made in its current rate-limit window. */
  private readonly windows = new Map<string, { start: number; count: number }>();
  private readonly circuits: CircuitBreaker | undefined;
  private wake: () => void = () => undefined;
  /** The store's last answer to allEndpoints() (a promise it hands out again until an endpoint changes), resolved. */
  private endpointList: { from: Promise<EndpointRecord[]>; list: EndpointRecord[] } | undefined;
  /**
   * The fan-out of `endpointList` per event type (and owner): its endpoints, and their uids as one frozen array
   * that every event of that type shares in the log, rather than an array of its own per event.
   */
  private readonly fanOuts = new Map<string, { endpoints: EndpointRecord[]; uids: string[] }>();

  constructor(private readonly config: EmbeddedTransportConfig) {
    const { store, policy, lookupAll, limits, catalogTypes } = config;
    this.registry = new EndpointRegistry(store, policy, lookupAll, limits, catalogTypes);
    this.http = new HttpDelivery(config.agent, config.http, config.telemetry);
    if (config.circuitBreaker) this.circuits = new CircuitBreaker(config.circuitBreaker);
    this.endpoints = new EmbeddedWebhookEndpoints(this);
    this.deliveries = new EmbeddedWebhookDeliveries(this, config.retry);
  }

  /** The SSRF guard on what needs no DNS (an IP literal, localhost); names are checked before each send. */
  checkTargetUrl(url: string): void {
    checkDestinationWithoutDns(url, this.config.policy);
  }

  get store(): WebhookStore {
    return this.config.store;
  }

  attach(wake: () => void): void {
    this.wake = wake;
  }

  /** Deliveries were made due (a resend, an endpoint activated): look for them now. */
  notify(): void {
    this.wake();
  }

  /**
   * Convoy's intake: the event's endpoints (one, an owner's, every subscribed one, or the endpoint of a URL) and one
   * delivery each; the store keeps the event as a duplicate, delivered nowhere, if its idempotency key was seen.
   */
  plan(message: OutgoingWebhook, retryLimit: number): Enqueued | Promise<Enqueued> {
    const { target } = message;
    if ('endpointId' in target || 'url' in target)
      return this.targets(message).then((endpoints) => this.fanOut(message, retryLimit, endpoints));
    // Fan-out to every (or an owner's) endpoint: a store that answers with the list it answered before (the
    // in-memory one, until an endpoint changes) is read without an async step per publish.
    const owner = 'ownerId' in target ? target.ownerId : undefined;
    const all = this.config.store.allEndpoints();
    if (this.endpointList?.from === all) {
      const { endpoints, uids } = this.subscribedOnce(this.endpointList.list, message.eventType, owner);
      return this.fanOut(message, retryLimit, endpoints, uids);
    }
    return all.then((list) => {
      if (this.endpointList?.from !== all) {
        this.endpointList = { from: all, list };
        this.fanOuts.clear();
      }
      const { endpoints, uids } = this.subscribedOnce(list, message.eventType, owner);
      return this.fanOut(message, retryLimit, endpoints, uids);
    });
  }

  /** subscribed(), kept per event type and owner while the store answers with the same list (see fanOuts). */
  private subscribedOnce(
    list: EndpointRecord[],
    eventType: string,
    owner: string | undefined,
  ): { endpoints: EndpointRecord[]; uids: string[] } {
    const key = owner === undefined ? eventType : `${eventType}\u0000${owner}`;
    let found = this.fanOuts.get(key);
    if (!found) {
      const endpoints = this.subscribed(list, eventType, owner);
      found = { endpoints, uids: Object.freeze(endpoints.map((endpoint) => endpoint.uid)) as string[] };
      if (this.fanOuts.size >= MAX_FAN_OUTS) this.fanOuts.clear(); // a bound, not an LRU: types are few
      this.fanOuts.set(key, found);
    }
    return found;
  }

  private fanOut(
    message: OutgoingWebhook,
    retryLimit: number,
    endpoints: EndpointRecord[],
    uids: string[] = endpoints.map((endpoint) => endpoint.uid),
  ): Enqueued {
    // Arrays of the exact length (map, not push onto []): the log keeps both as long as the event.
    const deliveries = endpoints.map((endpoint) => {
      const delivery = newDelivery(message, uuidv7(), endpoint.uid, retryLimit);
      if (endpoint.status === 'inactive') {
        delivery.status = 'Discarded';
        delivery.description = 'the endpoint is inactive';
      }
      return delivery;
    });
    const event = {
      uid: message.id,
      event_type: message.eventType,
      idempotency_key: message.idempotencyKey,
      payload: message.payload,
      custom_headers: message.headers,
      endpoints: uids,
      is_duplicate_event: false,
      created_at: message.createdAt,
    };
    return { event, deliveries };
  }

  async attempt(delivery: DeliveryRecord, signal: AbortSignal): Promise<AttemptResult> {
    const endpoint = await this.config.store.getEndpoint(delivery.endpoint_id!);
    const now = Date.now();
    if (!endpoint) return { outcome: 'discard', reason: 'the endpoint was deleted' };
    if (endpoint.status === 'inactive') return { outcome: 'discard', reason: 'the endpoint is inactive' };
    if (endpoint.status === 'paused') return { outcome: 'postpone', until: now + PAUSED_RECHECK_MS };
    const paused = this.pausedUntil.get(endpoint.uid) ?? 0;
    if (paused > now) return { outcome: 'postpone', until: paused };
    const admitted = this.circuits?.admit(endpoint.uid, now);
    if (typeof admitted === 'number') return { outcome: 'postpone', until: admitted };
    const windowEnd = this.takeRateLimitSlot(endpoint, now);
    if (windowEnd !== undefined) return { outcome: 'postpone', until: windowEnd };

    const outcome = await this.http.attempt(delivery, endpoint, signal);
    if (this.circuits) this.recordCircuit(endpoint, outcome.kind === 'success', admitted === 'probe');
    const { attempt } = outcome;
    const latencyMs = attempt.latency_ms;
    switch (outcome.kind) {
      case 'success':
        return { outcome: 'success', attempt, latencyMs };
      case 'gone':
        await this.disable(endpoint, 'gone');
        return { outcome: 'failure', error: 'the endpoint answered 410 Gone and was disabled', attempt, latencyMs };
      case 'blocked':
        return { outcome: 'failure', error: `destination blocked: ${attempt.error}`, attempt, latencyMs };
      case 'retry': {
        const retryAfterMs =
          outcome.retryAfterMs === undefined
            ? undefined
            : Math.min(outcome.retryAfterMs, this.config.retry.maxRetryAfterMs);
        if (retryAfterMs) this.pausedUntil.set(endpoint.uid, now + retryAfterMs);
        return {
          outcome: 'retry',
          error: attempt.error || `HTTP ${attempt.http_status}`,
          retryAfterMs,
          attempt,
          latencyMs,
        };
      }
    }
  }

  async failed(delivery: DeliveryRecord, reason: FailureReason): Promise<void> {
    if (reason !== 'exhausted' || !this.config.disableEndpointOnFailure) return;
    const endpoint = await this.config.store.getEndpoint(delivery.endpoint_id!);
    if (endpoint && endpoint.status !== 'inactive') await this.disable(endpoint, 'failing');
  }

  /** Closes the connection pools; the store is the module's to close. */
  async close(): Promise<void> {
    await this.config.agent.close();
  }

  /** The endpoints of a `{ endpointId }` or `{ url, secret? }` target. */
  private async targets(message: OutgoingWebhook): Promise<EndpointRecord[]> {
    const { target, eventType } = message;
    if ('endpointId' in target) {
      const endpoint = await this.config.store.getEndpoint(target.endpointId);
      if (!endpoint) throw new WebhookNotFoundError('endpoint', target.endpointId);
      return acceptsEventType(endpoint, eventType) ? [endpoint] : [];
    }
    return [await this.endpointForUrl(target as { url: string; secret?: string })];
  }

  /** The endpoints (of `owner`, when given) that take `eventType`. */
  private subscribed(all: EndpointRecord[], eventType: string, owner: string | undefined): EndpointRecord[] {
    const matching: EndpointRecord[] = [];
    for (const endpoint of all)
      if ((owner === undefined || endpoint.owner_id === owner) && acceptsEventType(endpoint, eventType))
        matching.push(endpoint);
    return matching;
  }

  /**
   * The endpoint of a `{ url, secret? }` target, one per URL and secret (see dynamicEndpointName), created on first
   * use (so publish() fails at once, with the SSRF guard's own error, when the URL is blocked: the guard runs at
   * creation, with the lookup deliveries use). Lookup and creation are one step per target in this process, so
   * concurrent publishes to a new target share one endpoint instead of each creating its own.
   */
  private endpointForUrl(target: { url: string; secret?: string }): Promise<EndpointRecord> {
    const url = new URL(target.url).toString();
    const name = dynamicEndpointName(url, target.secret);
    const pending = this.creatingForTarget.get(name);
    if (pending) return pending;
    const work = (async () =>
      (await this.config.store.findEndpointByUrlAndName(url, name)) ??
      this.registry
        .create({ name, url: target.url, ...(target.secret ? { secret: target.secret } : {}) })
        .catch(ssrfRefusal))();
    this.creatingForTarget.set(name, work);
    const forget = (): void => void this.creatingForTarget.delete(name);
    work.then(forget, forget);
    return work;
  }

  /** Counts an attempt against the endpoint's rate limit; returns when its window ends if the limit is reached. */
  private takeRateLimitSlot(endpoint: EndpointRecord, now: number): number | undefined {
    if (endpoint.rate_limit <= 0) return undefined;
    const length = endpoint.rate_limit_duration * 1000;
    let window = this.windows.get(endpoint.uid);
    if (!window || now >= window.start + length) {
      window = { start: now, count: 0 };
      this.windows.set(endpoint.uid, window);
    }
    if (window.count >= endpoint.rate_limit) return window.start + length;
    window.count++;
    return undefined;
  }

  private recordCircuit(endpoint: EndpointRecord, succeeded: boolean, probe: boolean): void {
    const change = this.circuits!.record(endpoint.uid, succeeded, probe, Date.now());
    if (change === 'opened') {
      const { failureThreshold: failures, probeIntervalMs } = this.config.circuitBreaker as CircuitBreakerSettings;
      this.logger.warn(
        `Endpoint ${endpoint.uid} (${endpoint.name}): circuit open after ${failures} failed attempts in a row; its deliveries wait, one probe every ${probeIntervalMs} ms`,
      );
      if (channels.circuitOpened.hasSubscribers) channels.circuitOpened.publish({ endpoint, failures });
    } else if (change === 'closed') {
      this.logger.log(`Endpoint ${endpoint.uid} (${endpoint.name}): a probe succeeded, circuit closed`);
      if (channels.circuitClosed.hasSubscribers) channels.circuitClosed.publish({ endpoint });
      // The deliveries that waited for the next probe go out now, not at their next look.
      void this.config.store
        .reschedule({ endpointIds: [endpoint.uid] }, ['Scheduled'], Date.now())
        .then(() => this.wake())
        .catch((error: unknown) => this.logger.warn(`After the circuit closed: ${(error as Error).message}`));
    }
  }

  private async disable(endpoint: EndpointRecord, why: 'gone' | 'failing'): Promise<void> {
    await this.registry.deactivate(endpoint.uid);
    this.logger.warn(
      `Endpoint ${endpoint.uid} (${endpoint.name}) disabled: ${why === 'gone' ? 'it answered 410 Gone' : 'a delivery ran out of retries'}; activate it to resume`,
    );
    if (channels.endpointDisabled.hasSubscribers) channels.endpointDisabled.publish({ endpoint, reason: why });
  }
}
