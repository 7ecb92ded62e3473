import { Logger } from '@nestjs/common';
import type { ConvoyClient } from '../../client/convoy.client.js';
import type {
  ConvoyDeliveryAttempt,
  ConvoyEndpoint,
  ConvoyEventDelivery,
  CreateEndpointRequest,
  EndpointAuthentication,
  EndpointListQuery,
  EventDeliveryFilterQuery,
  EventDeliveryListQuery,
  Page,
} from '../../client/convoy.types.js';
import { ConvoyHttpError } from '../../errors/client.errors.js';
import { InvalidEndpointError, WebhookNotFoundError, WebhookStateError } from '../../errors/endpoint.errors.js';
import { WebhookDeliveries } from '../../management/webhook-deliveries.js';
import { DEFAULT_LIMITS } from '../../options/option-tables.js';
import { NEVER_ROUTABLE } from '../../network/address-policy.js';
import { checkDestinationWithoutDns } from '../../network/destination.js';
import { parseEndpointUrl, REPLACED_DEFAULTS, WebhookEndpoints } from '../../management/webhook-endpoints.js';
import type {
  WebhookDeliveryAttempt,
  WebhookEndpoint,
  WebhookEndpointInput,
} from '../../management/webhook-management.types.js';

/**
 * Convoy's answers in the management API's error types, so callers handle one set whichever transport runs.
 * Convoy answers "not found" with 404 on reads but 400 on writes, so a 400 saying "not found" is a 404 too.
 * Any other 400 is an invalid request for endpoint writes with a body, and a state error otherwise (e.g. pausing an
 * inactive endpoint), as the embedded engine reports them; `badRequest` overrides that choice.
 */
async function mapConvoyError<T>(
  resource: 'endpoint' | 'delivery',
  id: string | undefined,
  call: () => Promise<T>,
  badRequest: 'invalid' | 'state' = resource === 'endpoint' ? 'invalid' : 'state',
): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (!(error instanceof ConvoyHttpError)) throw error;
    const { status, convoyMessage } = error;
    let mapped: Error | undefined;
    if (id !== undefined && (status === 404 || (status === 400 && /not found/i.test(convoyMessage))))
      mapped = new WebhookNotFoundError(resource, id);
    else if (status === 400 && badRequest === 'invalid')
      mapped = new InvalidEndpointError('(request)', `refused by Convoy: ${convoyMessage}`);
    else if (status === 400) mapped = new WebhookStateError(`Convoy refused: ${convoyMessage}`);
    throw mapped ? Object.assign(mapped, { cause: error }) : error;
  }
}

const logger = new Logger('WebhookEndpoints');

/**
 * Endpoints kept by Convoy. Each endpoint gets a subscription at creation (Convoy delivers nothing to an endpoint
 * without one) whose filter holds `event_types`; every answer reports the event types as Convoy stored them, read
 * back from the subscription. A Convoy without subscription filters (community edition) stores ["*"]: the endpoint
 * then receives every event type, and a warning says so (the call succeeds: the endpoint works, with more events).
 */
export class ConvoyWebhookEndpoints extends WebhookEndpoints {
  constructor(
    private readonly client: ConvoyClient,
    private readonly maxUrlLength: number = DEFAULT_LIMITS.maxUrlLength,
  ) {
    super();
  }

  /** The URL's form, and never a metadata or link-local host (Convoy would send to it). */
  private checkUrl(url: unknown): URL {
    const parsed = parseEndpointUrl(url, this.maxUrlLength);
    try {
      checkDestinationWithoutDns(parsed.href, NEVER_ROUTABLE);
    } catch (error) {
      throw new InvalidEndpointError('url', (error as Error).message, error);
    }
    return parsed;
  }

  async create(input: WebhookEndpointInput): Promise<WebhookEndpoint> {
    return mapConvoyError('endpoint', undefined, async () => {
      const { event_types, body } = this.split(input);
      const url = this.checkUrl(body.url); // Convoy checks reachability itself; this catches what it would refuse vaguely
      const endpoint = await this.client.endpoints.create({
        ...body,
        url: url.toString(),
        name: body.name ?? url.host,
      } as CreateEndpointRequest);
      const asked = event_types ?? ['*'];
      const subscription = await this.client.subscriptions.create({
        name: `${endpoint.name}-subscription`,
        endpoint_id: endpoint.uid,
        filter_config: { event_types: asked },
      });
      return this.shape(endpoint, storedEventTypes(endpoint.uid, asked, subscription.filter_config.event_types));
    });
  }

  async list(query?: EndpointListQuery): Promise<Page<WebhookEndpoint>> {
    return mapConvoyError('endpoint', undefined, async () => {
      const page = await this.client.endpoints.list(query);
      const eventTypes = await this.eventTypesOf(page.content.map((e) => e.uid));
      return { ...page, content: page.content.map((e) => this.shape(e, eventTypes.get(e.uid) ?? [])) };
    });
  }

  async get(id: string): Promise<WebhookEndpoint> {
    return mapConvoyError('endpoint', id, async () => {
      const endpoint = await this.client.endpoints.get(id);
      return this.shape(endpoint, (await this.eventTypesOf([id])).get(id) ?? []);
    });
  }

  async update(id: string, input: WebhookEndpointInput): Promise<WebhookEndpoint> {
    return mapConvoyError('endpoint', id, async () => {
      if (input?.secret !== undefined)
        throw new InvalidEndpointError('secret', 'cannot be changed by an update; rotate it with expireSecret()');
      const { event_types, body } = this.split(input);
      if (body.url !== undefined) body.url = this.checkUrl(body.url).toString();
      // Convoy's PUT replaces: write back what the endpoint has, with the given fields over it.
      const current = await this.client.endpoints.get(id);
      const updated = await this.client.endpoints.update(id, {
        ...writableFields(current, body.authentication !== undefined),
        ...body,
      } as CreateEndpointRequest);
      return this.shape(updated, await this.setEventTypes(id, updated.name, event_types));
    });
  }

  async replace(id: string, input: WebhookEndpointInput): Promise<WebhookEndpoint> {
    return mapConvoyError('endpoint', id, async () => {
      if (input?.secret !== undefined)
        throw new InvalidEndpointError('secret', 'cannot be changed by replace(); rotate it with expireSecret()');
      const { event_types, body } = this.split(input);
      const url = this.checkUrl(body.url);
      // Convoy keeps an owner_id it is sent empty, and stores support_email only with a licence: leave both to it.
      const { event_types: _all, owner_id: _owner, support_email: _email, ...defaults } = REPLACED_DEFAULTS;
      const replaced = await this.client.endpoints.update(id, {
        ...defaults,
        authentication: undefined,
        ...body,
        url: url.toString(),
        name: body.name ?? url.host,
      } as CreateEndpointRequest);
      return this.shape(replaced, await this.setEventTypes(id, replaced.name, event_types ?? ['*']));
    });
  }

  async delete(id: string): Promise<void> {
    await mapConvoyError('endpoint', id, () => this.client.endpoints.delete(id));
  }

  pause(id: string): Promise<WebhookEndpoint> {
    // Convoy refuses to pause an inactive endpoint with a 400: a state error, as in the embedded engine.
    return this.statusChange(id, () => this.client.endpoints.pause(id));
  }

  activate(id: string): Promise<WebhookEndpoint> {
    return this.statusChange(id, () => this.client.endpoints.activate(id));
  }

  async expireSecret(id: string, input: { secret?: string; expiration: number }): Promise<WebhookEndpoint> {
    return mapConvoyError('endpoint', id, async () =>
      this.withEventTypes(await this.client.endpoints.expireSecret(id, input)),
    );
  }

  private statusChange(id: string, call: () => Promise<ConvoyEndpoint>): Promise<WebhookEndpoint> {
    return mapConvoyError('endpoint', id, async () => this.withEventTypes(await call()), 'state');
  }

  private shape(endpoint: ConvoyEndpoint, eventTypes: string[]): WebhookEndpoint {
    return { ...endpoint, event_types: eventTypes, signature_format: 'convoy' };
  }

  private async withEventTypes(endpoint: ConvoyEndpoint): Promise<WebhookEndpoint> {
    return this.shape(endpoint, (await this.eventTypesOf([endpoint.uid])).get(endpoint.uid) ?? []);
  }

  /** The event types of each endpoint's subscriptions, as Convoy stored them (an endpoint without one: absent). */
  private async eventTypesOf(endpointIds: string[]): Promise<Map<string, string[]>> {
    const found = new Map<string, string[]>();
    if (endpointIds.length === 0) return found;
    for await (const subscription of this.client.subscriptions.iterate({
      endpointId: endpointIds,
      perPage: Math.max(20, endpointIds.length),
    })) {
      const id = subscription.endpoint_metadata?.uid;
      if (!id) continue;
      found.set(id, [...new Set([...(found.get(id) ?? []), ...subscription.filter_config.event_types])]);
    }
    return found;
  }

  /** Sets the subscription's filter (creating the subscription if the endpoint has none); returns what Convoy stored. */
  private async setEventTypes(id: string, name: string, eventTypes: string[] | undefined): Promise<string[]> {
    const [subscription] = (await this.client.subscriptions.list({ endpointId: [id] })).content;
    if (eventTypes === undefined) return subscription?.filter_config.event_types ?? [];
    const stored = subscription
      ? await this.client.subscriptions.update(subscription.uid, { filter_config: { event_types: eventTypes } })
      : await this.client.subscriptions.create({
          name: `${name}-subscription`,
          endpoint_id: id,
          filter_config: { event_types: eventTypes },
        });
    return storedEventTypes(id, eventTypes, stored.filter_config.event_types);
  }

  private split(input: WebhookEndpointInput): { event_types?: string[]; body: Partial<CreateEndpointRequest> } {
    if (input === null || typeof input !== 'object') throw new InvalidEndpointError('(body)', 'must be an object');
    const { event_types, signature_format, ...body } = input;
    if (signature_format !== undefined && signature_format !== 'convoy') {
      throw new InvalidEndpointError(
        'signature_format',
        'must be "convoy" with the Convoy transport (Convoy signs with X-Convoy-Signature)',
      );
    }
    return { event_types, body };
  }
}

/** What Convoy stored; a warning when it is not what was asked (a Convoy without subscription filters stores ["*"]). */
function storedEventTypes(endpointId: string, asked: string[], stored: string[]): string[] {
  const same = asked.length === stored.length && asked.every((type) => stored.includes(type));
  if (!same) {
    logger.warn(
      `Endpoint ${endpointId}: event_types ${JSON.stringify(asked)} were asked, but Convoy stored ${JSON.stringify(stored)} ` +
        '(subscription filters need a licensed Convoy: feature "advanced_subscriptions"), so the endpoint receives every event type. ' +
        'Publish to { endpointId } to choose its events yourself, or use a Convoy licence with advanced subscriptions.',
    );
  }
  return stored;
}

/**
 * The fields Convoy's PUT resets when they are left out, taken from the endpoint as it is, so that an update keeps
 * them. Authentication is kept only as Convoy showed it in full: a basic-auth password or OAuth2 secret comes back
 * "[REDACTED]", and writing that back would break the endpoint, so such an update must give `authentication` itself.
 */
function writableFields(current: ConvoyEndpoint, authenticationGiven: boolean): Partial<CreateEndpointRequest> {
  const fields: Partial<CreateEndpointRequest> = {
    name: current.name,
    url: current.url,
    description: current.description,
    rate_limit: current.rate_limit,
    rate_limit_duration: current.rate_limit_duration,
    advanced_signatures: current.advanced_signatures,
    http_timeout: current.http_timeout,
    content_type: current.content_type as CreateEndpointRequest['content_type'],
    ...(current.owner_id ? { owner_id: current.owner_id } : {}),
  };
  const auth = current.authentication;
  if (!authenticationGiven && auth && 'type' in auth && auth.type) {
    if (JSON.stringify(auth).includes('[REDACTED]')) {
      throw new InvalidEndpointError(
        'authentication',
        `comes back redacted from Convoy (${auth.type}), so an update would overwrite it; pass authentication in the update`,
      );
    }
    fields.authentication = auth as EndpointAuthentication;
  }
  return fields;
}

export class ConvoyWebhookDeliveries extends WebhookDeliveries {
  constructor(private readonly client: ConvoyClient) {
    super();
  }

  list(query?: EventDeliveryListQuery): Promise<Page<ConvoyEventDelivery>> {
    return this.client.eventDeliveries.list(query);
  }

  get(id: string): Promise<ConvoyEventDelivery> {
    return mapConvoyError('delivery', id, () => this.client.eventDeliveries.get(id));
  }

  async attempts(id: string): Promise<WebhookDeliveryAttempt[]> {
    const attempts = await mapConvoyError('delivery', id, () => this.client.deliveryAttempts.list(id));
    return attempts.map(withSucceeded);
  }

  resend(id: string): Promise<ConvoyEventDelivery> {
    return mapConvoyError('delivery', id, () => this.client.eventDeliveries.resend(id));
  }

  async batchRetry(filter?: EventDeliveryFilterQuery): Promise<{ message: string }> {
    const { message } = await mapConvoyError('delivery', undefined, () =>
      this.client.eventDeliveries.batchRetry(filter),
    );
    return { message };
  }
}

/** Convoy marks success with `status: true` and leaves `status` out on failure; `succeeded` says it either way. */
function withSucceeded(attempt: ConvoyDeliveryAttempt): WebhookDeliveryAttempt {
  return { ...attempt, succeeded: attempt.status === true };
}
