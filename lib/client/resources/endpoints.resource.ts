import type {
  ConvoyAck,
  ConvoyEndpoint,
  CreateEndpointRequest,
  EndpointListQuery,
  ExpireSecretRequest,
  Page,
  UpdateEndpointRequest,
} from '../convoy.types.js';
import { id, PagedResource, type Options } from './resource.js';

/** Endpoints: where Convoy delivers. Responses carry the endpoint's secrets in clear text; never log them. */
export class EndpointsResource extends PagedResource<ConvoyEndpoint, EndpointListQuery> {
  /** POST /endpoints. Convoy pings an https URL before accepting it. */
  create(body: CreateEndpointRequest, options?: Options): Promise<ConvoyEndpoint> {
    return this.data({ method: 'POST', path: '/endpoints', body, ...options });
  }

  /** GET /endpoints: one page. */
  list(query?: EndpointListQuery, options?: Options): Promise<Page<ConvoyEndpoint>> {
    return this.data(...this.routed('GET /endpoints', query, options));
  }

  /** GET /endpoints/{id} */
  get(endpointId: string, options?: Options): Promise<ConvoyEndpoint> {
    return this.data({ method: 'GET', path: `/endpoints/${id(endpointId)}`, ...options });
  }

  /**
   * PUT /endpoints/{id}: Convoy **replaces** the endpoint. `name` and `url` are required; `description`,
   * `rate_limit`, `rate_limit_duration` and `authentication` left out are reset (to "", 0, 0 and none), while
   * `owner_id` (if empty), `advanced_signatures`, `http_timeout`, `content_type` and the secrets are kept.
   * To change some fields only, use WebhookEndpoints.update(), which reads, merges and writes.
   */
  update(endpointId: string, body: UpdateEndpointRequest, options?: Options): Promise<ConvoyEndpoint> {
    return this.data({ method: 'PUT', path: `/endpoints/${id(endpointId)}`, body, ...options });
  }

  /** DELETE /endpoints/{id} */
  delete(endpointId: string, options?: Options): Promise<ConvoyAck> {
    return this.ack({ method: 'DELETE', path: `/endpoints/${id(endpointId)}`, ...options });
  }

  /** PUT /endpoints/{id}/pause: Convoy toggles active and paused (any other status is an error). */
  pause(endpointId: string, options?: Options): Promise<ConvoyEndpoint> {
    return this.data({ method: 'PUT', path: `/endpoints/${id(endpointId)}/pause`, ...options });
  }

  /** POST /endpoints/{id}/activate: inactive or paused becomes active. */
  activate(endpointId: string, options?: Options): Promise<ConvoyEndpoint> {
    return this.data({ method: 'POST', path: `/endpoints/${id(endpointId)}/activate`, ...options });
  }

  /** PUT /endpoints/{id}/expire_secret: adds a new secret; the old one keeps signing for `expiration` seconds. */
  expireSecret(endpointId: string, body: ExpireSecretRequest, options?: Options): Promise<ConvoyEndpoint> {
    return this.data({ method: 'PUT', path: `/endpoints/${id(endpointId)}/expire_secret`, body, ...options });
  }
}
