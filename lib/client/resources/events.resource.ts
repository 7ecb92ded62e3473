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
import { iterateAll } from '../paging.js';
import { id, Resource, type Options } from './resource.js';

/**
 * Events. Creation is asynchronous in Convoy: it answers 201 with no data once the event is queued.
 * A creation carrying an `idempotency_key` is retried on failure (Convoy drops the duplicate); one without is not.
 */
export class EventsResource extends Resource {
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
    return this.data({ method: 'GET', path: '/events', query: this.query(query), ...options }, 'GET /events');
  }

  /** Every event matching the query, page after page. */
  iterate(query: EventListQuery = {}, options?: Options): AsyncGenerator<ConvoyEvent, void, undefined> {
    return iterateAll((q) => this.list(q, options), query);
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
    return this.ack(
      { method: 'POST', path: '/events/batchreplay', query: this.query(filter), ...options },
      'POST /events/batchreplay',
    );
  }

  /**
   * GET /events/countbatchreplayevents: how many events of these endpoints and dates a batch replay would touch.
   * Convoy counts by endpoints and dates only, so `idempotencyKey` and `sourceId` are refused (InvalidRequestError).
   */
  async countBatchReplay(filter: EventCountFilter = {}, options?: Options): Promise<number> {
    const data = await this.data<{ num: number }>(
      { method: 'GET', path: '/events/countbatchreplayevents', query: this.query(filter), ...options },
      'GET /events/countbatchreplayevents',
    );
    return data.num;
  }
}
