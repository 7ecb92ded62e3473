import type { ConvoyRequestOptions } from '../convoy-client.options.js';
import type { ConvoyRequest, ConvoyRequester, QueryValue } from '../convoy-http.js';
import type { ConvoyAck, Page, PageQuery } from '../convoy.types.js';
import { iterateAll } from '../paging.js';
import { checkQuery, type QueryRoute } from '../query-parameters.js';

/** Shared plumbing of the resource classes: each method is one documented Convoy route. */
export abstract class Resource {
  constructor(protected readonly http: ConvoyRequester) {}

  /** With a `route`, the query is refused (InvalidRequestError) when Convoy would ignore or reject a parameter. */
  protected async data<T>(req: ConvoyRequest, route?: QueryRoute): Promise<T> {
    if (route) checkQuery(route, req.query);
    return (await this.http.request<T>(req)).data;
  }

  protected async ack(req: ConvoyRequest, route?: QueryRoute): Promise<ConvoyAck> {
    if (route) checkQuery(route, req.query);
    const { message, requestId, status } = await this.http.request<unknown>(req);
    return { message, requestId, status };
  }

  /** The request of a route with a query, and the route, for data() or ack(). */
  protected routed(route: QueryRoute, query: object | undefined, options: Options): [ConvoyRequest, QueryRoute] {
    const [method, path] = route.split(' ') as [ConvoyRequest['method'], string];
    return [{ method, path, query: query as Record<string, QueryValue> | undefined, ...options }, route];
  }
}

/** A resource whose list is cursor-paged. */
export abstract class PagedResource<T, Q extends PageQuery> extends Resource {
  abstract list(query?: Q, options?: Options): Promise<Page<T>>;

  /** Every item matching the query, page after page. */
  iterate(query: Q = {} as Q, options?: Options): AsyncGenerator<T, void, undefined> {
    return iterateAll((q) => this.list(q, options), query);
  }
}

export const id = (value: string): string => {
  if (typeof value !== 'string' || value === '')
    throw new TypeError(`Expected a non-empty id string, got ${JSON.stringify(value)}`);
  return encodeURIComponent(value);
};

export type Options = ConvoyRequestOptions | undefined;
