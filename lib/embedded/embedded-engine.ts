import type { Dispatcher } from 'undici';
import { WebhookNotFoundError } from '../errors/endpoint.errors.js';
import type { AddressPolicy } from '../network/address-policy.js';
import type { LookupAll } from '../network/destination.js';
import type { OutgoingWebhook } from '../publisher/webhook.types.js';
import { matchesEventPattern } from '../utils/glob.js';
import { uuidv7 } from '../utils/uuid.js';
import { DeliveryWorker, type DeliveryWorkerSettings } from './delivery-worker.js';
import type { DeliveryRecord, EndpointRecord, EventRecord } from './embedded.types.js';
import { EndpointRegistry } from './endpoint-registry.js';
import { HttpDelivery, type HttpDeliveryOptions } from './http-delivery.js';
import type { WebhookStore } from './webhook-store.interface.js';

export interface EmbeddedEngineParts {
  store: WebhookStore;
  policy: AddressPolicy;
  agent: Dispatcher;
  lookupAll?: LookupAll;
  worker: DeliveryWorkerSettings;
  http: HttpDeliveryOptions;
  /** At shutdown with a volatile store: how long to keep delivering what is due, since it would be lost. */
  drainTimeoutMs: number;
}

/** `*` takes every type; otherwise exact names, or dotted patterns (`todo.*` one segment, `todo.**` any). */
export function acceptsEventType(endpoint: EndpointRecord, eventType: string): boolean {
  return endpoint.event_types.some((pattern) => pattern === '*' || pattern === eventType || matchesEventPattern(pattern, eventType));
}

/**
 * The delivery engine that runs inside the application when there is no Convoy: an endpoint registry,
 * Convoy's fan-out, a delivery log, and a worker that signs and sends exactly as Convoy does.
 */
export class EmbeddedEngine {
  readonly registry: EndpointRegistry;
  readonly worker: DeliveryWorker;
  /** Normalized URL → the find-or-create of its endpoint in progress (see endpointForUrl). */
  private readonly creatingForUrl = new Map<string, Promise<EndpointRecord>>();

  constructor(private readonly parts: EmbeddedEngineParts) {
    this.registry = new EndpointRegistry(parts.store, parts.policy, parts.lookupAll);
    this.worker = new DeliveryWorker(parts.store, this.registry, new HttpDelivery(parts.agent, parts.http), parts.worker);
  }

  get store(): WebhookStore {
    return this.parts.store;
  }

  start(): void {
    this.worker.start();
  }

  /**
   * Accepts an event as Convoy's intake does: fans it out to its endpoints and stores one delivery per endpoint,
   * unless its idempotency key was seen before (then it is kept as a duplicate and delivered nowhere).
   * Resolves once stored; sending happens in the worker.
   */
  async accept(message: OutgoingWebhook): Promise<EventRecord> {
    const endpoints = await this.targets(message);
    const now = new Date(message.createdAt).toISOString();
    const event: EventRecord = {
      uid: message.id,
      event_type: message.eventType,
      idempotency_key: message.idempotencyKey,
      payload: message.payload,
      custom_headers: message.headers,
      endpoints: endpoints.map((e) => e.uid),
      is_duplicate_event: false,
      created_at: now,
    };
    const deliveries: DeliveryRecord[] = endpoints.map((endpoint) => ({
      uid: uuidv7(),
      event_id: event.uid,
      endpoint_id: endpoint.uid,
      event_type: event.event_type,
      idempotency_key: event.idempotency_key,
      payload: event.payload,
      custom_headers: event.custom_headers,
      status: endpoint.status === 'inactive' ? 'Discarded' : 'Scheduled',
      description: endpoint.status === 'inactive' ? 'the endpoint is inactive' : '',
      num_trials: 0,
      retry_limit: this.parts.worker.retry.retry_count,
      next_send_at: Date.now(),
      lease_owner: null,
      latency_ms: null,
      created_at: now,
      updated_at: now,
    }));
    const fresh = await this.parts.store.insertEvent(event, deliveries);
    if (fresh && deliveries.length > 0) this.worker.notify();
    return { ...event, is_duplicate_event: !fresh, endpoints: fresh ? event.endpoints : [] };
  }

  /** Convoy's fan-out: one endpoint, an owner's endpoints, every subscribed endpoint, or the endpoint of a URL. */
  private async targets(message: OutgoingWebhook): Promise<EndpointRecord[]> {
    const { target, eventType } = message;
    if ('endpointId' in target) {
      const endpoint = await this.parts.store.getEndpoint(target.endpointId);
      if (!endpoint) throw new WebhookNotFoundError('endpoint', target.endpointId);
      return acceptsEventType(endpoint, eventType) ? [endpoint] : [];
    }
    if ('url' in target) return [await this.endpointForUrl(target)];
    const all = await this.parts.store.allEndpoints();
    const owned = 'ownerId' in target ? all.filter((e) => e.owner_id === target.ownerId) : all;
    return owned.filter((e) => acceptsEventType(e, eventType));
  }

  /**
   * The endpoint of a `{ url }` target, created on first use. Lookup and creation are one step per URL in this process,
   * so concurrent publishes to a new URL share one endpoint instead of each creating its own.
   */
  private endpointForUrl(target: { url: string; secret?: string }): Promise<EndpointRecord> {
    const url = new URL(target.url).toString();
    const pending = this.creatingForUrl.get(url);
    if (pending) return pending;
    const work = (async () =>
      (await this.parts.store.findEndpointByUrl(url)) ??
      this.registry.create({ name: `endpoint-${uuidv7()}`, url: target.url, ...(target.secret ? { secret: target.secret } : {}) }))();
    this.creatingForUrl.set(url, work);
    const forget = (): void => void this.creatingForUrl.delete(url);
    work.then(forget, forget);
    return work;
  }

  /**
   * Shutdown: stop claiming, finish the attempts in flight, close the connection pools and the store. A durable
   * store keeps what is pending for the next start; with the in-memory store, what is due is delivered first
   * (within drainTimeoutMs), because it would otherwise be lost.
   */
  async close(): Promise<void> {
    if (this.parts.store.volatile) await this.worker.drainDue(this.parts.drainTimeoutMs);
    await this.worker.stop();
    await this.parts.agent.close();
    await this.parts.store.close();
  }
}
