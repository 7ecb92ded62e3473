import type { ConvoyEventType, CreateEventTypeRequest, UpdateEventTypeRequest } from '../convoy.types.js';
import { id, Resource, type Options } from './resource.js';

/** The project's catalogue of event types, with optional JSON schemas. */
export class EventTypesResource extends Resource {
  /** GET /event-types: all of them (not paged). */
  list(options?: Options): Promise<ConvoyEventType[]> {
    return this.data({ method: 'GET', path: '/event-types', ...options });
  }

  /** POST /event-types */
  create(body: CreateEventTypeRequest, options?: Options): Promise<ConvoyEventType> {
    return this.data({ method: 'POST', path: '/event-types', body, ...options });
  }

  /** PUT /event-types/{id} */
  update(eventTypeId: string, body: UpdateEventTypeRequest, options?: Options): Promise<ConvoyEventType> {
    return this.data({ method: 'PUT', path: `/event-types/${id(eventTypeId)}`, body, ...options });
  }

  /** POST /event-types/{id}/deprecate */
  deprecate(eventTypeId: string, options?: Options): Promise<ConvoyEventType> {
    return this.data({ method: 'POST', path: `/event-types/${id(eventTypeId)}/deprecate`, ...options });
  }

  /** POST /event-types/import: creates event types from an OpenAPI document's webhooks (`spec` is its text). */
  import(spec: string, options?: Options): Promise<ConvoyEventType[]> {
    return this.data({ method: 'POST', path: '/event-types/import', body: { spec }, ...options });
  }
}
