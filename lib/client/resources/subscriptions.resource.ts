import type {
  ConvoyAck,
  ConvoySubscription,
  CreateSubscriptionRequest,
  Page,
  SubscriptionListQuery,
  TestFilterRequest,
  UpdateSubscriptionRequest,
} from '../convoy.types.js';
import { id, PagedResource, type Options } from './resource.js';

/** Subscriptions: which events an endpoint receives (filters apply only on licensed Convoy instances). */
export class SubscriptionsResource extends PagedResource<ConvoySubscription, SubscriptionListQuery> {
  /** POST /subscriptions. The answer shows what Convoy stored: a community Convoy stores `filter_config.event_types: ["*"]`. */
  create(body: CreateSubscriptionRequest, options?: Options): Promise<ConvoySubscription> {
    return this.data({ method: 'POST', path: '/subscriptions', body, ...options });
  }

  /** GET /subscriptions: one page. */
  list(query?: SubscriptionListQuery, options?: Options): Promise<Page<ConvoySubscription>> {
    return this.data(...this.routed('GET /subscriptions', query, options));
  }

  /** GET /subscriptions/{id} */
  get(subscriptionId: string, options?: Options): Promise<ConvoySubscription> {
    return this.data({ method: 'GET', path: `/subscriptions/${id(subscriptionId)}`, ...options });
  }

  /** PUT /subscriptions/{id} */
  update(subscriptionId: string, body: UpdateSubscriptionRequest, options?: Options): Promise<ConvoySubscription> {
    return this.data({ method: 'PUT', path: `/subscriptions/${id(subscriptionId)}`, body, ...options });
  }

  /** DELETE /subscriptions/{id} */
  delete(subscriptionId: string, options?: Options): Promise<ConvoyAck> {
    return this.ack({ method: 'DELETE', path: `/subscriptions/${id(subscriptionId)}`, ...options });
  }

  /** POST /subscriptions/test_filter: whether `request` matches the filter `schema` (licensed: ConvoyFeatureUnavailableError on a community Convoy). */
  testFilter(body: TestFilterRequest, options?: Options): Promise<boolean> {
    return this.data({ method: 'POST', path: '/subscriptions/test_filter', body, ...options });
  }
}
