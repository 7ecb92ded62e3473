import type { ConvoyRequestOptions } from '../convoy-client.options.js';
import type { ConvoyRequest, ConvoyRequester, QueryValue } from '../convoy-http.js';
import type { ConvoyAck } from '../convoy.types.js';
import { checkQuery, type QueryRoute } from '../query-parameters.js';

/** Shared plumbing of the resource classes: each method is one documented Convoy route. */
export abstract class Resource {
  constructor(protected readonly http: ConvoyRequester) {}

  protected async data<T>(req: ConvoyRequest, route?: QueryRoute): Promise<T> {
    if (route) checkQuery(route, req.query);
    return (await this.http.request<T>(req)).data;
  }

  protected async ack(req: ConvoyRequest, route?: QueryRoute): Promise<ConvoyAck> {
    if (route) checkQuery(route, req.query);
    const { message, requestId } = await this.http.request<unknown>(req);
    return { message, requestId };
  }

  /** Typed query objects are plain records on the wire. */
  protected query(query: object | undefined): Record<string, QueryValue> | undefined {
    return query as Record<string, QueryValue> | undefined;
  }
}

export const id = (value: string): string => {
  if (typeof value !== 'string' || value === '')
    throw new TypeError(`Expected a non-empty id string, got ${JSON.stringify(value)}`);
  return encodeURIComponent(value);
};

export type Options = ConvoyRequestOptions | undefined;
