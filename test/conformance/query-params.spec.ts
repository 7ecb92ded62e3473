/**
 * Every query parameter name the client sends, checked against the recorded requests in which a real Convoy was
 * seen to apply it (the recorder marks each as honoured only when the answer changed as the filter says). The client
 * is driven with every field of each query type set (a `Required<…>` object, so a new field cannot be left out),
 * through a requester that records what would be sent.
 */
import type { ConvoyClient } from '../../lib/client/convoy.client.js';
import type { ConvoyRequest, ConvoyRequester, ConvoyResult } from '../../lib/client/convoy-http.js';
import type {
  EndpointListQuery,
  EventCountFilter,
  EventDeliveryFilterQuery,
  EventDeliveryListQuery,
  EventListQuery,
  EventReplayFilter,
  MetaEventListQuery,
  PortalLinkListQuery,
  SubscriptionListQuery,
} from '../../lib/client/convoy.types.js';
import { QUERY_PARAMETERS } from '../../lib/client/query-parameters.js';
import { InvalidRequestError } from '../../lib/errors/client.errors.js';
import { clientOver, exchangesOf, loadCorpus } from './corpus.js';

/** Parameters no recording can prove on a community Convoy, and why they are still sent. */
const UNPROVABLE: Record<string, { params: string[]; why: string }> = {
  'GET /events': {
    params: ['query', 'body'],
    why: 'search is licensed (event_search): a community Convoy answers 403, which the client turns into ConvoyFeatureUnavailableError',
  },
  'GET /portal-links': {
    params: ['perPage', 'direction', 'next_page_cursor', 'prev_page_cursor', 'sort', 'ownerId', 'q'],
    why: 'portal links are licensed: every call answers 401 "Access denied"',
  },
  'GET /meta-events': {
    params: ['perPage', 'direction', 'next_page_cursor', 'prev_page_cursor', 'sort', 'startDate', 'endDate'],
    why: 'no meta event can exist on the recording Convoy (it refuses a loopback meta-event URL); the paging and dates are those of the other lists',
  },
};

/**
 * Convoy's batch-retry job runs the deliveries list's own query with the filter it stored
 * (worker/task/process_batch_retry.go), so the list's recordings prove its parameters too; eventType, the one that
 * was wrong, is also proven on batchretry itself.
 */
const SAME_QUERY_AS: Record<string, string> = { 'POST /eventdeliveries/batchretry': 'GET /eventdeliveries' };

function honouredOn(route: string): Set<string> {
  return new Set(
    [route, SAME_QUERY_AS[route]].filter(Boolean).flatMap((r) => exchangesOf(r!).flatMap((x) => x.honoured ?? [])),
  );
}

class Capture implements ConvoyRequester {
  readonly sent: ConvoyRequest[] = [];
  async request<T>(req: ConvoyRequest): Promise<ConvoyResult<T>> {
    this.sent.push(req);
    const data = req.path.includes('countbatchreplayevents')
      ? { num: 0 }
      : { content: [], pagination: { has_next_page: false } };
    return { data: data as T, message: '', status: 200, requestId: undefined };
  }
}

const paging = { perPage: 5, direction: 'next', next_page_cursor: 'a', prev_page_cursor: 'b' } as const;
const dates = { startDate: '2026-01-01T00:00:00', endDate: '2026-01-02T00:00:00' };
const deliveryFilter: Required<EventDeliveryFilterQuery> = {
  ...dates,
  endpointId: ['e1'],
  eventId: 'ev1',
  eventType: 't',
  idempotencyKey: 'k',
  status: ['Failure'],
  subscriptionId: 's1',
};

/** Each route with every parameter its query type offers, sent through the client's own method. */
const calls: Array<[string, (c: ConvoyClient) => Promise<unknown>]> = [
  [
    'GET /endpoints',
    (c) => c.endpoints.list({ ...paging, q: 'n', ownerId: 'o' } satisfies Required<EndpointListQuery>),
  ],
  [
    'GET /subscriptions',
    (c) => c.subscriptions.list({ ...paging, endpointId: ['e1'], name: 'n' } satisfies Required<SubscriptionListQuery>),
  ],
  [
    'GET /events',
    (c) =>
      c.events.list({
        ...paging,
        sort: 'ASC',
        ...dates,
        endpointId: ['e1'],
        sourceId: ['s1'],
        idempotencyKey: 'k',
        query: 'q',
        body: '{}',
      } satisfies Required<EventListQuery>),
  ],
  [
    'POST /events/batchreplay',
    (c) =>
      c.events.batchReplay({
        ...dates,
        endpointId: ['e1'],
        sourceId: ['s1'],
        idempotencyKey: 'k',
      } satisfies Required<EventReplayFilter>),
  ],
  [
    'GET /events/countbatchreplayevents',
    (c) => c.events.countBatchReplay({ ...dates, endpointId: ['e1'] } satisfies Required<EventCountFilter>),
  ],
  [
    'GET /eventdeliveries',
    (c) =>
      c.eventDeliveries.list({ ...paging, sort: 'ASC', ...deliveryFilter } satisfies Required<EventDeliveryListQuery>),
  ],
  ['POST /eventdeliveries/batchretry', (c) => c.eventDeliveries.batchRetry(deliveryFilter)],
  [
    'GET /portal-links',
    (c) => c.portalLinks.list({ ...paging, sort: 'ASC', ownerId: 'o', q: 'n' } satisfies Required<PortalLinkListQuery>),
  ],
  [
    'GET /meta-events',
    (c) => c.metaEvents.list({ ...paging, sort: 'ASC', ...dates } satisfies Required<MetaEventListQuery>),
  ],
];

const clientOn = (capture: Capture): ConvoyClient => clientOver(capture);

describe('query parameters: the names the client sends are the ones Convoy applies', () => {
  it('the corpus proves parameters (and records the ones Convoy ignores)', () => {
    expect(loadCorpus().exchanges.some((x) => x.honoured?.length)).toBe(true);
    // The disagreements of issue 10, as recorded: Convoy ignores these.
    expect(exchangesOf('GET /eventdeliveries').flatMap((x) => x.ignored ?? [])).toContain('event_type');
    expect(exchangesOf('GET /events/countbatchreplayevents').flatMap((x) => x.ignored ?? [])).toEqual(
      expect.arrayContaining(['idempotencyKey', 'sourceId']),
    );
    expect(exchangesOf('GET /endpoints').flatMap((x) => x.ignored ?? [])).toContain('sort');
  });

  for (const [route, call] of calls) {
    it(`${route}: every parameter sent was seen applied by Convoy`, async () => {
      const capture = new Capture();
      await call(clientOn(capture));
      const [req] = capture.sent;
      expect(`${req!.method} ${req!.path}`).toBe(route);
      const sent = Object.keys(req!.query ?? {}).filter((k) => req!.query![k] !== undefined);
      expect(sent.sort()).toEqual([...QUERY_PARAMETERS[route as keyof typeof QUERY_PARAMETERS]].sort());
      const honoured = honouredOn(route);
      const unprovable = UNPROVABLE[route]?.params ?? [];
      expect({ route, notProven: sent.filter((p) => !honoured.has(p) && !unprovable.includes(p)) }).toEqual({
        route,
        notProven: [],
      });
    });
  }

  it('a parameter Convoy ignores on a route is refused before anything is sent, naming it', async () => {
    const capture = new Capture();
    const client = clientOn(capture);
    const refused = [
      client.eventDeliveries.list({ event_type: 't' } as EventDeliveryListQuery),
      client.eventDeliveries.batchRetry({ event_type: 't' } as EventDeliveryFilterQuery),
      client.events.countBatchReplay({ idempotencyKey: 'k' } as EventCountFilter),
      client.events.countBatchReplay({ sourceId: ['s'] } as EventCountFilter),
      client.events.countBatchReplay({ query: 'q' } as EventCountFilter),
      client.events.batchReplay({ body: '{}' } as EventReplayFilter),
      client.endpoints.list({ sort: 'ASC' } as EndpointListQuery),
      client.subscriptions.list({ sort: 'ASC' } as SubscriptionListQuery),
    ];
    const errors = await Promise.all(
      refused.map((p) =>
        p.then(
          () => undefined,
          (e: unknown) => e,
        ),
      ),
    );
    expect(errors.map((e) => (e instanceof InvalidRequestError ? `${e.route} ${e.parameter}` : String(e)))).toEqual([
      'GET /eventdeliveries event_type',
      'POST /eventdeliveries/batchretry event_type',
      'GET /events/countbatchreplayevents idempotencyKey',
      'GET /events/countbatchreplayevents sourceId',
      'GET /events/countbatchreplayevents query',
      'POST /events/batchreplay body',
      'GET /endpoints sort',
      'GET /subscriptions sort',
    ]);
    expect((errors[0] as Error).message).toMatch(/"event_type".*eventType.*Nothing was sent/);
    expect(capture.sent).toEqual([]);
  });
});
