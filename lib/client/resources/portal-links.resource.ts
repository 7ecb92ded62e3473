import type { ConvoyAck, ConvoyPortalLink, Page, PortalLinkListQuery, PortalLinkRequest } from '../convoy.types.js';
import { id, PagedResource, type Options } from './resource.js';

/**
 * Portal links: a customer-facing dashboard for one owner's endpoints. Licensed: a community Convoy refuses every
 * call (ConvoyFeatureUnavailableError, feature 'portal_links').
 */
export class PortalLinksResource extends PagedResource<ConvoyPortalLink, PortalLinkListQuery> {
  /** POST /portal-links */
  create(body: PortalLinkRequest, options?: Options): Promise<ConvoyPortalLink> {
    return this.data({ method: 'POST', path: '/portal-links', body, ...options });
  }

  /** GET /portal-links: one page. */
  list(query?: PortalLinkListQuery, options?: Options): Promise<Page<ConvoyPortalLink>> {
    return this.data(...this.routed('GET /portal-links', query, options));
  }

  /** GET /portal-links/{id} */
  get(linkId: string, options?: Options): Promise<ConvoyPortalLink> {
    return this.data({ method: 'GET', path: `/portal-links/${id(linkId)}`, ...options });
  }

  /** PUT /portal-links/{id} */
  update(linkId: string, body: PortalLinkRequest, options?: Options): Promise<ConvoyPortalLink> {
    return this.data({ method: 'PUT', path: `/portal-links/${id(linkId)}`, body, ...options });
  }

  /** PUT /portal-links/{id}/revoke */
  revoke(linkId: string, options?: Options): Promise<ConvoyAck> {
    return this.ack({ method: 'PUT', path: `/portal-links/${id(linkId)}/revoke`, ...options });
  }

  /** GET /portal-links/{id}/refresh_token: a new token for a refresh_token link. */
  refreshToken(linkId: string, options?: Options): Promise<string> {
    return this.data({ method: 'GET', path: `/portal-links/${id(linkId)}/refresh_token`, ...options });
  }
}
