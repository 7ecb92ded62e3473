import type {
  ConvoyAck,
  BroadcastEventRequest,
  ConvoyEvent,
  CreateEventRequest,
  DynamicEventRequest,
  EventCountFilter,
  EventListQuery,
  EventReplayFilter,
  FanoutEventRequest,
  Page,
} from '../convoy.types.js';
import { id, PagedResource, type Options } from './resource.js';

/**
 * Events. Creation is asynchronous in Convoy: it answers 201 with no data once the event is queued.
 * A creation carrying an `idempotency_key` is retried on failure (Convoy drops the duplicate); one without is not.
 */
export class EventsResource extends PagedResource<ConvoyEvent, EventListQuery> {
  /** POST /events: to one endpoint. */
  create(body: CreateEventRequest, options?: Options): Promise<ConvoyAck> {
    return this.ack({ method: 'POST', path: '/events', body, idempotent: !!body.idempotency_key, ...options });
  }

  /** POST /events/fanout: to every endpoint of an owner. */
  fanout(body: FanoutEventRequest, options?: Options): Promise<ConvoyAck> {
    return this.ack({ method: 'POST', path: '/events/fanout', body, idempotent: !!body.idempotency_key, ...options });
  }

  /** POST /events/broadcast: to every endpoint whose subscription matches the event type. */
  broadcast(body: BroadcastEventRequest, options?: Options): Promise<ConvoyAck> {
    return this.ack({
      method: 'POST',
      path: '/events/broadcast',
      body,
      idempotent: !!body.idempotency_key,
      ...options,
    });
  }

  /** POST /events/dynamic: to a URL; Convoy finds or creates its endpoint and subscription. */
  dynamic(body: DynamicEventRequest, options?: Options): Promise<ConvoyAck> {
    return this.ack({ method: 'POST', path: '/events/dynamic', body, idempotent: !!body.idempotency_key, ...options });
  }

  /**
   * GET /events: one page (the last 7 days unless startDate is given). `query` and `body` (search) need Convoy's
   * Event Search licence: without it, ConvoyFeatureUnavailableError (feature 'event_search').
   */
  list(query?: EventListQuery, options?: Options): Promise<Page<ConvoyEvent>> {
    return this.data(...this.routed('GET /events', query, options));
  }

  /** GET /events/{id} */
  get(eventId: string, options?: Options): Promise<ConvoyEvent> {
    return this.data({ method: 'GET', path: `/events/${id(eventId)}`, ...options });
  }

  /** PUT /events/{id}/replay: sends the event again to its endpoints. */
  replay(eventId: string, options?: Options): Promise<ConvoyEvent> {
    return this.data({ method: 'PUT', path: `/events/${id(eventId)}/replay`, ...options });
  }

  /** POST /events/batchreplay: replays every event matching the filter; Convoy answers "N successful, M failed". */
  batchReplay(filter: EventReplayFilter = {}, options?: Options): Promise<ConvoyAck> {
    return this.ack(...this.routed('POST /events/batchreplay', filter, options));
  }

  /**
   * GET /events/countbatchreplayevents: how many events of these endpoints and dates a batch replay would touch.
   * Convoy counts by endpoints and dates only, so `idempotencyKey` and `sourceId` are refused (InvalidRequestError).
   */
  async countBatchReplay(filter: EventCountFilter = {}, options?: Options): Promise<number> {
    const data = await this.data<{ num: number }>(
      ...this.routed('GET /events/countbatchreplayevents', filter, options),
    );
    return data.num;
  }
}
