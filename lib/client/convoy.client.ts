import { ConvoyNotConfiguredError } from '../errors/client.errors.js';
import { resolveClientOptions } from '../options/resolve-client-options.js';
import type { ConvoyClientOptions } from './convoy-client.options.js';
import { ConvoyHttp, type ConvoyRequest, type ConvoyRequester, type ConvoyResult } from './convoy-http.js';
import type { ConvoyProject } from './convoy.types.js';
import type { ConvoyRequestOptions } from './convoy-client.options.js';
import { EndpointsResource } from './resources/endpoints.resource.js';
import { DeliveryAttemptsResource, EventDeliveriesResource } from './resources/event-deliveries.resource.js';
import { EventTypesResource } from './resources/event-types.resource.js';
import { EventsResource } from './resources/events.resource.js';
import { MetaEventsResource } from './resources/meta-events.resource.js';
import { PortalLinksResource } from './resources/portal-links.resource.js';
import { SubscriptionsResource } from './resources/subscriptions.resource.js';

const unconfigured: ConvoyRequester = {
  request: () => Promise.reject(new ConvoyNotConfiguredError()),
};

/**
 * A typed client of one Convoy project's REST API (`/v1/projects/{projectId}/…`).
 * Injected by class where ConvoyModule is imported; usable on its own with `new ConvoyClient(options)`.
 * Holds one keep-alive connection pool: call `close()` when done (the module does it on shutdown).
 */
export class ConvoyClient {
  readonly events: EventsResource;
  readonly endpoints: EndpointsResource;
  readonly subscriptions: SubscriptionsResource;
  readonly eventDeliveries: EventDeliveriesResource;
  readonly deliveryAttempts: DeliveryAttemptsResource;
  readonly portalLinks: PortalLinksResource;
  readonly eventTypes: EventTypesResource;
  readonly metaEvents: MetaEventsResource;
  readonly #http: ConvoyHttp | undefined;

  /** Validates the options (throws ConvoyConfigurationError) and opens no connection until the first call. */
  constructor(options: ConvoyClientOptions);
  /** @internal A client without credentials whose every call throws ConvoyNotConfiguredError. */
  constructor(options: null);
  constructor(options: ConvoyClientOptions | null) {
    this.#http = options === null ? undefined : new ConvoyHttp(resolveClientOptions(options));
    const http = this.#http ?? unconfigured;
    this.events = new EventsResource(http);
    this.endpoints = new EndpointsResource(http);
    this.subscriptions = new SubscriptionsResource(http);
    this.eventDeliveries = new EventDeliveriesResource(http);
    this.deliveryAttempts = new DeliveryAttemptsResource(http);
    this.portalLinks = new PortalLinksResource(http);
    this.eventTypes = new EventTypesResource(http);
    this.metaEvents = new MetaEventsResource(http);
  }

  /** Whether credentials were configured; when false, every call throws ConvoyNotConfiguredError. */
  get configured(): boolean {
    return this.#http !== undefined;
  }

  get projectId(): string | undefined {
    return this.#http?.projectId;
  }

  /**
   * Any other project-scoped route (sources, filters, onboarding…), with the same auth, envelope unwrapping,
   * errors and retry rules. `path` is relative to `/v1/projects/{projectId}`.
   */
  request<T = unknown>(req: ConvoyRequest): Promise<ConvoyResult<T>> {
    return (this.#http ?? unconfigured).request<T>(req);
  }

  /**
   * GET /v1/projects/{projectId}: the project. With a project API key Convoy answers with **the key's** project,
   * whatever id the path names, so compare `uid` with projectId to know the key belongs to it (the module does at
   * startup). With basic auth, an unknown id answers 400 "project not found".
   */
  async project(options?: ConvoyRequestOptions): Promise<ConvoyProject> {
    return (await this.request<ConvoyProject>({ method: 'GET', path: '', ...options })).data;
  }

  /** Closes the connection pool; in-flight requests finish first. */
  async close(): Promise<void> {
    await this.#http?.close();
  }
}
