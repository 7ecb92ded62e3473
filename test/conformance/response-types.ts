/**
 * What each route's `data` is declared to be, by the client's own types (lib/client/convoy.types.ts stays the one
 * source of truth). schemas.ts turns this interface into JSON Schemas at test time; the type assertions below keep
 * each entry equal to what the client method returns, so the schema checks the client's promise, not a copy of it.
 */
import type { ConvoyClient } from '../../lib/client/convoy.client.js';
import type {
  ConvoyDeliveryAttempt,
  ConvoyEndpoint,
  ConvoyEvent,
  ConvoyEventDelivery,
  ConvoyEventType,
  ConvoyMetaEvent,
  ConvoyPortalLink,
  ConvoyProject,
  ConvoySubscription,
  Page,
} from '../../lib/client/convoy.types.js';

/** Convoy's error envelope: `{status:false, message}`, no data. */
export interface ConvoyErrorEnvelope {
  status: false;
  message: string;
}

/** The `data` of each route's 2xx answer; `null` where Convoy sends none (the client returns `{ message, requestId }`). */
export interface RouteResponses {
  'GET /': ConvoyProject;
  'POST /endpoints': ConvoyEndpoint;
  'GET /endpoints': Page<ConvoyEndpoint>;
  'GET /endpoints/{endpointID}': ConvoyEndpoint;
  'PUT /endpoints/{endpointID}': ConvoyEndpoint;
  'DELETE /endpoints/{endpointID}': null;
  'PUT /endpoints/{endpointID}/pause': ConvoyEndpoint;
  'POST /endpoints/{endpointID}/activate': ConvoyEndpoint;
  'PUT /endpoints/{endpointID}/expire_secret': ConvoyEndpoint;
  'POST /subscriptions': ConvoySubscription;
  'GET /subscriptions': Page<ConvoySubscription>;
  'GET /subscriptions/{subscriptionID}': ConvoySubscription;
  'PUT /subscriptions/{subscriptionID}': ConvoySubscription;
  'DELETE /subscriptions/{subscriptionID}': null;
  'POST /subscriptions/test_filter': boolean;
  'POST /events': null;
  'POST /events/fanout': null;
  'POST /events/broadcast': null;
  'POST /events/dynamic': null;
  'GET /events': Page<ConvoyEvent>;
  'GET /events/{eventID}': ConvoyEvent;
  'PUT /events/{eventID}/replay': ConvoyEvent;
  'POST /events/batchreplay': null;
  'GET /events/countbatchreplayevents': { num: number };
  'GET /eventdeliveries': Page<ConvoyEventDelivery>;
  'GET /eventdeliveries/{eventDeliveryID}': ConvoyEventDelivery;
  'PUT /eventdeliveries/{eventDeliveryID}/resend': ConvoyEventDelivery;
  'POST /eventdeliveries/forceresend': null;
  'POST /eventdeliveries/batchretry': null;
  'GET /eventdeliveries/{eventDeliveryID}/deliveryattempts': ConvoyDeliveryAttempt[];
  'GET /eventdeliveries/{eventDeliveryID}/deliveryattempts/{deliveryAttemptID}': ConvoyDeliveryAttempt;
  'POST /portal-links': ConvoyPortalLink;
  'GET /portal-links': Page<ConvoyPortalLink>;
  'GET /portal-links/{portalLinkID}': ConvoyPortalLink;
  'PUT /portal-links/{portalLinkID}': ConvoyPortalLink;
  'PUT /portal-links/{portalLinkID}/revoke': null;
  'GET /portal-links/{portalLinkID}/refresh_token': string;
  'GET /event-types': ConvoyEventType[];
  'POST /event-types': ConvoyEventType;
  'PUT /event-types/{eventTypeId}': ConvoyEventType;
  'POST /event-types/{eventTypeId}/deprecate': ConvoyEventType;
  'POST /event-types/import': ConvoyEventType[];
  'GET /meta-events': Page<ConvoyMetaEvent>;
  'GET /meta-events/{metaEventID}': ConvoyMetaEvent;
  'PUT /meta-events/{metaEventID}/resend': ConvoyMetaEvent;
}

// ------------------------------------------------------------------ each entry is what the client returns

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Returns<F> = F extends (...args: never[]) => Promise<infer R> ? R : never;
type Same<Route extends keyof RouteResponses, F> = Equal<RouteResponses[Route], Returns<F>>;
type C = ConvoyClient;

/** Compiles only while every `true` below holds (npm run typecheck). */
export const routeTypesMatchTheClient: {
  [K in string]: true;
} = {
  project: true as Same<'GET /', C['project']>,
  endpointsCreate: true as Same<'POST /endpoints', C['endpoints']['create']>,
  endpointsList: true as Same<'GET /endpoints', C['endpoints']['list']>,
  endpointsGet: true as Same<'GET /endpoints/{endpointID}', C['endpoints']['get']>,
  endpointsReplace: true as Same<'PUT /endpoints/{endpointID}', C['endpoints']['update']>,
  endpointsPause: true as Same<'PUT /endpoints/{endpointID}/pause', C['endpoints']['pause']>,
  endpointsActivate: true as Same<'POST /endpoints/{endpointID}/activate', C['endpoints']['activate']>,
  endpointsExpireSecret: true as Same<'PUT /endpoints/{endpointID}/expire_secret', C['endpoints']['expireSecret']>,
  subscriptionsCreate: true as Same<'POST /subscriptions', C['subscriptions']['create']>,
  subscriptionsList: true as Same<'GET /subscriptions', C['subscriptions']['list']>,
  subscriptionsGet: true as Same<'GET /subscriptions/{subscriptionID}', C['subscriptions']['get']>,
  subscriptionsUpdate: true as Same<'PUT /subscriptions/{subscriptionID}', C['subscriptions']['update']>,
  subscriptionsTestFilter: true as Same<'POST /subscriptions/test_filter', C['subscriptions']['testFilter']>,
  eventsList: true as Same<'GET /events', C['events']['list']>,
  eventsGet: true as Same<'GET /events/{eventID}', C['events']['get']>,
  eventsReplay: true as Same<'PUT /events/{eventID}/replay', C['events']['replay']>,
  deliveriesList: true as Same<'GET /eventdeliveries', C['eventDeliveries']['list']>,
  deliveriesGet: true as Same<'GET /eventdeliveries/{eventDeliveryID}', C['eventDeliveries']['get']>,
  deliveriesResend: true as Same<'PUT /eventdeliveries/{eventDeliveryID}/resend', C['eventDeliveries']['resend']>,
  attemptsList: true as Same<'GET /eventdeliveries/{eventDeliveryID}/deliveryattempts', C['deliveryAttempts']['list']>,
  attemptsGet: true as Same<
    'GET /eventdeliveries/{eventDeliveryID}/deliveryattempts/{deliveryAttemptID}',
    C['deliveryAttempts']['get']
  >,
  portalCreate: true as Same<'POST /portal-links', C['portalLinks']['create']>,
  portalList: true as Same<'GET /portal-links', C['portalLinks']['list']>,
  portalGet: true as Same<'GET /portal-links/{portalLinkID}', C['portalLinks']['get']>,
  portalUpdate: true as Same<'PUT /portal-links/{portalLinkID}', C['portalLinks']['update']>,
  portalRefresh: true as Same<'GET /portal-links/{portalLinkID}/refresh_token', C['portalLinks']['refreshToken']>,
  eventTypesList: true as Same<'GET /event-types', C['eventTypes']['list']>,
  eventTypesCreate: true as Same<'POST /event-types', C['eventTypes']['create']>,
  eventTypesUpdate: true as Same<'PUT /event-types/{eventTypeId}', C['eventTypes']['update']>,
  eventTypesDeprecate: true as Same<'POST /event-types/{eventTypeId}/deprecate', C['eventTypes']['deprecate']>,
  eventTypesImport: true as Same<'POST /event-types/import', C['eventTypes']['import']>,
  metaList: true as Same<'GET /meta-events', C['metaEvents']['list']>,
  metaGet: true as Same<'GET /meta-events/{metaEventID}', C['metaEvents']['get']>,
  metaResend: true as Same<'PUT /meta-events/{metaEventID}/resend', C['metaEvents']['resend']>,
};
