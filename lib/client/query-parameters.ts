import { InvalidRequestError } from '../errors/client.errors.js';

/**
 * The query parameters each list or filter route accepts: exactly those a real Convoy applies there (recorded and
 * checked in test/conformance). Anything else is refused before sending (InvalidRequestError), because Convoy would
 * silently ignore it and answer, count, replay or retry more than asked.
 */
const PAGING = ['perPage', 'direction', 'next_page_cursor', 'prev_page_cursor'] as const;
const DATES = ['startDate', 'endDate'] as const;
const DELIVERY_FILTERS = [
  'endpointId',
  'eventId',
  'eventType',
  'idempotencyKey',
  'status',
  'subscriptionId',
  ...DATES,
] as const;

export const QUERY_PARAMETERS = {
  'GET /endpoints': [...PAGING, 'q', 'ownerId'],
  'GET /subscriptions': [...PAGING, 'endpointId', 'name'],
  'GET /events': [...PAGING, 'sort', ...DATES, 'endpointId', 'sourceId', 'idempotencyKey', 'query', 'body'],
  'POST /events/batchreplay': [...DATES, 'endpointId', 'sourceId', 'idempotencyKey'],
  'GET /events/countbatchreplayevents': [...DATES, 'endpointId'],
  'GET /eventdeliveries': [...PAGING, 'sort', ...DELIVERY_FILTERS],
  'POST /eventdeliveries/batchretry': [...DELIVERY_FILTERS],
  'GET /portal-links': [...PAGING, 'sort', 'ownerId', 'q'],
  'GET /meta-events': [...PAGING, 'sort', ...DATES],
} as const satisfies Record<string, readonly string[]>;

export type QueryRoute = keyof typeof QUERY_PARAMETERS;

/** Why a parameter is refused, where there is more to say than "Convoy does not read it on this route". */
const REASONS: Record<string, string> = {
  event_type: 'Convoy reads the event type as "eventType" and ignores "event_type" (it would return every type)',
  sort: 'Convoy does not sort this list (it is always newest first)',
  idempotencyKey:
    "Convoy's batch-replay count does not filter by it (the replay itself does): list the events with events.list({ idempotencyKey }) to count them",
  sourceId:
    "Convoy's batch-replay count does not filter by it (the replay itself does): list the events with events.list({ sourceId }) to count them",
  query: 'Convoy refuses search filters here (400); search needs events.list and a licence with Event Search',
  body: 'Convoy refuses search filters here (400); search needs events.list and a licence with Event Search',
};

/** The parameter that may not be sent to `route`, with why; undefined when every given parameter may be. */
function refusedParameter(
  route: QueryRoute,
  query: object | undefined,
): { parameter: string; reason: string } | undefined {
  if (!query) return undefined;
  const allowed: readonly string[] = QUERY_PARAMETERS[route];
  for (const [parameter, value] of Object.entries(query)) {
    if (value === undefined || allowed.includes(parameter)) continue;
    return {
      parameter,
      reason: REASONS[parameter] ?? `Convoy does not read it on this route (it reads ${allowed.join(', ')})`,
    };
  }
  return undefined;
}

/** Refuses (InvalidRequestError) a query parameter Convoy would ignore or reject on this route. */
export function checkQuery(route: QueryRoute, query: object | undefined): void {
  const refused = refusedParameter(route, query);
  if (refused) throw new InvalidRequestError(refused.parameter, route, refused.reason);
}
