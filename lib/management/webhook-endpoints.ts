import type { ConvoyClient } from '../client/convoy.client.js';
import type { CreateEndpointRequest, EndpointListQuery, Page } from '../client/convoy.types.js';
import { iterateAll } from '../client/paging.js';
import type { EmbeddedTransport } from '../embedded/embedded.transport.js';
import { parseEndpointUrl, type WebhookEndpointInput } from '../embedded/endpoint-registry.js';
import { InvalidEndpointError } from '../errors/endpoint.errors.js';
import { mapConvoyError, unavailable } from './convoy-errors.js';
import { endpointShape, pageShape } from './to-convoy-shape.js';
import type { WebhookEndpoint } from './webhook-management.types.js';

/**
 * Your customers' webhook endpoints, whichever transport is active: the same operations, fields and errors
 * on Convoy and on the embedded engine. Injectable where ConvoyModule is imported.
 * Errors: InvalidEndpointError (400), WebhookNotFoundError (404), WebhookStateError (409).
 */
export abstract class WebhookEndpoints {
  abstract create(input: WebhookEndpointInput): Promise<WebhookEndpoint>;
  /** One page, newest first. */
  abstract list(query?: EndpointListQuery): Promise<Page<WebhookEndpoint>>;
  abstract get(id: string): Promise<WebhookEndpoint>;
  /** Changes the given fields only. Secrets change through expireSecret(). */
  abstract update(id: string, input: WebhookEndpointInput): Promise<WebhookEndpoint>;
  abstract delete(id: string): Promise<void>;
  /** Toggles active and paused. */
  abstract pause(id: string): Promise<WebhookEndpoint>;
  abstract activate(id: string): Promise<WebhookEndpoint>;
  /** Adds a new secret; the current ones keep signing for `expiration` seconds. */
  abstract expireSecret(id: string, input: { secret?: string; expiration: number }): Promise<WebhookEndpoint>;

  /** Every endpoint matching the query, page after page. */
  iterate(query: EndpointListQuery = {}): AsyncGenerator<WebhookEndpoint, void, undefined> {
    return iterateAll((q) => this.list(q), query);
  }
}

export class EmbeddedWebhookEndpoints extends WebhookEndpoints {
  constructor(private readonly engine: EmbeddedTransport) {
    super();
  }

  async create(input: WebhookEndpointInput): Promise<WebhookEndpoint> {
    return endpointShape(await this.engine.registry.create(input));
  }

  async list(query: EndpointListQuery = {}): Promise<Page<WebhookEndpoint>> {
    const perPage = query.perPage ?? 20;
    const page = await this.engine.registry.list({ ownerId: query.ownerId, q: query.q }, { limit: perPage, cursor: query.next_page_cursor || undefined });
    return pageShape(page.items.map(endpointShape), page, query, perPage);
  }

  async get(id: string): Promise<WebhookEndpoint> {
    return endpointShape(await this.engine.registry.get(id));
  }

  async update(id: string, input: WebhookEndpointInput): Promise<WebhookEndpoint> {
    return endpointShape(await this.engine.registry.update(id, input));
  }

  async delete(id: string): Promise<void> {
    await this.engine.registry.delete(id);
  }

  async pause(id: string): Promise<WebhookEndpoint> {
    return endpointShape(await this.engine.registry.pause(id));
  }

  async activate(id: string): Promise<WebhookEndpoint> {
    const endpoint = endpointShape(await this.engine.registry.activate(id));
    // Deliveries held back while the endpoint was paused go out now, not at their next re-check.
    await this.engine.store.reschedule({ endpointIds: [id] }, ['Scheduled'], Date.now());
    this.engine.notify();
    return endpoint;
  }

  async expireSecret(id: string, input: { secret?: string; expiration: number }): Promise<WebhookEndpoint> {
    return endpointShape(await this.engine.registry.expireSecret(id, input));
  }
}

/**
 * Endpoints kept by Convoy. Creating one also subscribes it (Convoy delivers nothing to an endpoint without a
 * subscription), with `event_types` as the subscription's filter; updates fill in Convoy's required name and url.
 */
export class ConvoyWebhookEndpoints extends WebhookEndpoints {
  constructor(private readonly client: ConvoyClient) {
    super();
  }

  async create(input: WebhookEndpointInput): Promise<WebhookEndpoint> {
    return mapConvoyError('endpoint', undefined, async () => {
      const { event_types, body } = this.split(input);
      const url = parseEndpointUrl(body.url); // Convoy checks reachability itself; this catches what it would refuse vaguely
      const endpoint = await this.client.endpoints.create({ ...body, url: url.toString(), name: body.name ?? url.host } as CreateEndpointRequest);
      await this.client.subscriptions.create({ name: `${endpoint.name}-subscription`, endpoint_id: endpoint.uid, filter_config: { event_types: event_types ?? ['*'] } });
      return { ...endpoint, event_types: event_types ?? ['*'], signature_format: 'convoy' };
    });
  }

  async list(query?: EndpointListQuery): Promise<Page<WebhookEndpoint>> {
    return mapConvoyError('endpoint', undefined, () => this.client.endpoints.list(query));
  }

  async get(id: string): Promise<WebhookEndpoint> {
    return mapConvoyError('endpoint', id, () => this.client.endpoints.get(id));
  }

  async update(id: string, input: WebhookEndpointInput): Promise<WebhookEndpoint> {
    return mapConvoyError('endpoint', id, async () => {
      if (input.secret !== undefined) throw new InvalidEndpointError('secret', 'cannot be changed by an update; rotate it with expireSecret()');
      const { event_types, body } = this.split(input);
      if (body.url !== undefined) body.url = parseEndpointUrl(body.url).toString();
      const current = await this.client.endpoints.get(id);
      const updated = await this.client.endpoints.update(id, { ...body, name: body.name ?? current.name, url: body.url ?? current.url } as CreateEndpointRequest);
      if (event_types === undefined) return updated;
      const [subscription] = (await this.client.subscriptions.list({ endpointId: [id] })).content;
      if (subscription) await this.client.subscriptions.update(subscription.uid, { filter_config: { event_types } });
      else await this.client.subscriptions.create({ name: `${updated.name}-subscription`, endpoint_id: id, filter_config: { event_types } });
      return { ...updated, event_types };
    });
  }

  async delete(id: string): Promise<void> {
    await mapConvoyError('endpoint', id, () => this.client.endpoints.delete(id));
  }

  async pause(id: string): Promise<WebhookEndpoint> {
    // Convoy refuses to pause an inactive endpoint with a 400: a state error, as in the embedded engine.
    return mapConvoyError('endpoint', id, () => this.client.endpoints.pause(id), 'state');
  }

  async activate(id: string): Promise<WebhookEndpoint> {
    return mapConvoyError('endpoint', id, () => this.client.endpoints.activate(id), 'state');
  }

  async expireSecret(id: string, input: { secret?: string; expiration: number }): Promise<WebhookEndpoint> {
    return mapConvoyError('endpoint', id, () => this.client.endpoints.expireSecret(id, input));
  }

  private split(input: WebhookEndpointInput): { event_types?: string[]; body: Partial<CreateEndpointRequest> } {
    if (input === null || typeof input !== 'object') throw new InvalidEndpointError('(body)', 'must be an object');
    const { event_types, signature_format, ...body } = input;
    if (signature_format !== undefined && signature_format !== 'convoy') {
      throw new InvalidEndpointError('signature_format', 'must be "convoy" with the Convoy transport (Convoy signs with X-Convoy-Signature)');
    }
    return { event_types, body };
  }
}

/** With a transport that keeps no endpoints (the log transport, or your own). */
export class UnavailableWebhookEndpoints extends WebhookEndpoints {
  create = unavailable;
  list = unavailable;
  get = unavailable;
  update = unavailable;
  delete = unavailable;
  pause = unavailable;
  activate = unavailable;
  expireSecret = unavailable;
}
