import type { ConvoyClient } from '../../client/convoy.client.js';
import type { ConvoyRequestOptions } from '../../client/convoy-client.options.js';
import type { ConvoyAck, CreateEventRequest } from '../../client/convoy.types.js';
import type { Span } from '../../telemetry/otel-api.js';
import { ConvoyHttpError } from '../../errors/client.errors.js';
import { StartupProjectCheck } from '../../client/project-check.js';
import { StartupEventTypeSync } from '../../catalog/event-type-sync.js';
import type { WebhookEventCatalog } from '../../catalog/webhook-events.js';
import { RawJson } from '../../client/raw-json.js';
import type { OutgoingWebhook } from '../../publishing/webhook.types.js';
import { DEFAULT_LIMITS, type Limits } from '../../options/option-tables.js';
import { dynamicEndpointName } from '../dynamic-target.js';
import { NEVER_ROUTABLE } from '../../network/address-policy.js';
import { checkDestinationWithoutDns } from '../../network/destination.js';
import type { TransportSendContext, WebhookTransport } from '../webhook-transport.interface.js';
import { ConvoyWebhookDeliveries, ConvoyWebhookEndpoints } from './convoy-management.js';
import { hasHeader, WebhookTelemetry } from '../../telemetry/webhook-telemetry.js';

/**
 * Sends each event to Convoy through the matching event-creation route. The request carries the
 * event's idempotency key, so a retry after a lost answer is dropped by Convoy as a duplicate.
 * Retries belong to the pipeline (its schedule is longer than a request's), so the client does not retry here.
 * Convoy keeps the endpoints and the delivery log: they are managed through its API.
 *
 * `{ url, secret? }` targets do not use Convoy's dynamic events: Convoy reuses any endpoint with the URL and ignores
 * the secret, so one tenant's payload would be signed with another's secret. Each URL and secret has its own endpoint
 * instead (named by dynamicEndpointName), found or created here, and the event goes to it.
 */
export class ConvoyTransport implements WebhookTransport {
  readonly name = 'convoy';
  readonly endpoints: ConvoyWebhookEndpoints;
  readonly deliveries: ConvoyWebhookDeliveries;
  private projectCheck: StartupProjectCheck | undefined;
  private eventTypeSync: StartupEventTypeSync | undefined;
  /** Endpoint name of a `{ url, secret? }` target → its endpoint's id (being found or created, or known). */
  private readonly dynamicEndpoints = new Map<string, Promise<string>>();

  /**
   * `verifyProject`: confirm at start that the credentials reach the client's project (see StartupProjectCheck);
   * `syncEventTypes`: then make Convoy's event types match this catalog (see StartupEventTypeSync).
   */
  constructor(
    private readonly client: ConvoyClient,
    private readonly startup: { verifyProject: boolean; timeoutMs: number; syncEventTypes?: WebhookEventCatalog } = {
      verifyProject: false,
      timeoutMs: 5_000,
    },
    limits: Readonly<Limits> = DEFAULT_LIMITS,
    /** Spans of each send, and `traceparent` in the event's custom headers; `projectUrl` names Convoy's routes in them. */
    private readonly traced: { telemetry: WebhookTelemetry; projectUrl: string } = {
      telemetry: WebhookTelemetry.off,
      projectUrl: '',
    },
  ) {
    this.endpoints = new ConvoyWebhookEndpoints(client, limits.maxUrlLength);
    this.deliveries = new ConvoyWebhookDeliveries(client);
  }

  /**
   * Convoy quietly uses the API key's own project whatever projectId says: wrong settings stop startup here; an
   * unreachable Convoy does not (the check goes on in the background).
   */
  async start(): Promise<void> {
    if (!this.client.configured) return;
    const { verifyProject, timeoutMs, syncEventTypes } = this.startup;
    if (verifyProject) {
      this.projectCheck = new StartupProjectCheck(this.client, timeoutMs);
      await this.projectCheck.run();
    }
    if (syncEventTypes) {
      this.eventTypeSync = new StartupEventTypeSync(this.client, syncEventTypes, { verifyProject, timeoutMs });
      await this.eventTypeSync.run();
    }
  }

  async close(): Promise<void> {
    this.projectCheck?.stop();
    this.eventTypeSync?.stop();
  }

  /** Convoy would create an endpoint for the URL and send to it: refuse metadata and link-local hosts here. */
  checkTargetUrl(url: string): void {
    checkDestinationWithoutDns(url, NEVER_ROUTABLE);
  }

  /** Not an async function: an untraced send is the request's own promise (a rejection whatever fails). */
  send(message: OutgoingWebhook, context: TransportSendContext): Promise<void> {
    try {
      const { telemetry, projectUrl } = this.traced;
      const span = telemetry.startConvoySend(message, `${projectUrl}${routeOf(message.target)}`);
      // Convoy passes custom headers on to the endpoints: the receiver gets the trace context there.
      const trace = telemetry.traceHeaders(span, message.traceparent, message.tracestate);
      let headers = message.headers;
      if (trace !== undefined && !hasHeader(headers, 'traceparent')) {
        headers = { ...headers, traceparent: trace.traceparent };
        if (trace.tracestate !== undefined) headers.tracestate = trace.tracestate;
      }
      // The acknowledgement's promise as it is (no wrapper to drop its value): the pipeline ignores the value.
      if (span === undefined)
        return this.sendEvent(message, headers, context.signal) as Promise<unknown> as Promise<void>;
      return this.sendTraced(span, message, headers, context.signal);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  private async sendTraced(
    span: Span,
    message: OutgoingWebhook,
    headers: Record<string, string>,
    signal: AbortSignal,
  ): Promise<void> {
    const { telemetry } = this.traced;
    try {
      const ack = await this.sendEvent(message, headers, signal);
      telemetry.responded(span, ack.status);
    } catch (error) {
      telemetry.responded(
        span,
        error instanceof ConvoyHttpError ? error.status : null,
        error instanceof Error ? error.message : String(error),
      );
      throw error;
    } finally {
      span.end();
    }
  }

  /** The options of every send under one signal (the pipeline passes the same one to each): one object, not one per send. */
  private sendOptions: { retry: false; signal: AbortSignal } | undefined;

  private optionsFor(signal: AbortSignal): { retry: false; signal: AbortSignal } {
    if (this.sendOptions?.signal !== signal) this.sendOptions = { retry: false, signal };
    return this.sendOptions;
  }

  private sendEvent(
    message: OutgoingWebhook,
    headers: Record<string, string>,
    signal: AbortSignal,
  ): Promise<ConvoyAck> {
    const { target } = message;
    // The payload goes in as the exact bytes published (RawJson), not parsed and serialized again.
    const event = {
      event_type: message.eventType,
      data: new RawJson(message.payload),
      idempotency_key: message.idempotencyKey,
      custom_headers: hasAny(headers) ? headers : undefined,
    };
    const options = this.optionsFor(signal);
    const events = this.client.events;
    // The acknowledgement says nothing a hand-over needs: each promise is returned as it is (no await, no wrapper).
    let sent: Promise<ConvoyAck>;
    if ('endpointId' in target) sent = events.create({ ...event, endpoint_id: target.endpointId }, options);
    else if ('ownerId' in target) sent = events.fanout({ ...event, owner_id: target.ownerId }, options);
    else if ('url' in target) sent = this.sendToUrl(target, event, options);
    else sent = events.broadcast(event, options);
    return sent;
  }

  private async sendToUrl(
    target: { url: string; secret?: string },
    event: Omit<CreateEventRequest, 'endpoint_id'>,
    options: ConvoyRequestOptions,
  ): Promise<ConvoyAck> {
    const events = this.client.events;
    const name = dynamicEndpointName(target.url, target.secret);
    const known = this.dynamicEndpoints.has(name);
    const endpointId = await this.endpointFor(name, target, options);
    try {
      return await events.create({ ...event, endpoint_id: endpointId }, options);
    } catch (error) {
      // Found by an earlier send, then deleted in Convoy (an unknown endpoint_id answers 400): find it again.
      if (!(known && error instanceof ConvoyHttpError && error.status === 400)) throw error;
      this.dynamicEndpoints.delete(name);
      return events.create({ ...event, endpoint_id: await this.endpointFor(name, target, options) }, options);
    }
  }

  /** The id of the endpoint named `name` for this URL: found (by name, then URL), or created with the target's secret. */
  private endpointFor(
    name: string,
    target: { url: string; secret?: string },
    options: ConvoyRequestOptions,
  ): Promise<string> {
    let known = this.dynamicEndpoints.get(name);
    if (known) return known;
    const url = new URL(target.url).toString();
    const find = async () =>
      (await this.client.endpoints.list({ q: name, perPage: 100 }, options)).content.find(
        (e) => e.name === name && e.url === url,
      )?.uid;
    known = (async () => {
      const found = await find();
      if (found) return found;
      const body = { name, url, advanced_signatures: true, ...(target.secret ? { secret: target.secret } : {}) };
      try {
        return (await this.client.endpoints.create(body, options)).uid;
      } catch (error) {
        // Another instance may have created it meanwhile (Convoy refuses a second endpoint of the same name).
        const created = await find().catch(() => undefined);
        if (created) return created;
        throw error;
      }
    })();
    if (this.dynamicEndpoints.size >= 10_000) this.dynamicEndpoints.clear(); // a bound, not an LRU
    this.dynamicEndpoints.set(name, known);
    known.catch(() => this.dynamicEndpoints.get(name) === known && this.dynamicEndpoints.delete(name));
    return known;
  }
}

/** The Convoy route an event to `target` is created with (below the project's URL). */
function routeOf(target: OutgoingWebhook['target']): string {
  if ('ownerId' in target) return '/events/fanout';
  if ('broadcast' in target) return '/events/broadcast';
  return '/events';
}

function hasAny(record: object): boolean {
  for (const _ in record) return true;
  return false;
}
