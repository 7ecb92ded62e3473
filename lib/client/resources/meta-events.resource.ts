import type { ConvoyMetaEvent, MetaEventListQuery, Page } from '../convoy.types.js';
import { id, PagedResource, type Options } from './resource.js';

/** Meta events: Convoy's own notifications (endpoint.created, eventdelivery.failed, …) to the project's meta-event URL. */
export class MetaEventsResource extends PagedResource<ConvoyMetaEvent, MetaEventListQuery> {
  /** GET /meta-events: one page. */
  list(query?: MetaEventListQuery, options?: Options): Promise<Page<ConvoyMetaEvent>> {
    return this.data(...this.routed('GET /meta-events', query, options));
  }

  /** GET /meta-events/{id} */
  get(metaEventId: string, options?: Options): Promise<ConvoyMetaEvent> {
    return this.data({ method: 'GET', path: `/meta-events/${id(metaEventId)}`, ...options });
  }

  /** PUT /meta-events/{id}/resend */
  resend(metaEventId: string, options?: Options): Promise<ConvoyMetaEvent> {
    return this.data({ method: 'PUT', path: `/meta-events/${id(metaEventId)}/resend`, ...options });
  }
}
