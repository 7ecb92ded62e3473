/**
 * The recorded conformance corpus: real request/response pairs of a real Convoy (see record.ts), sanitized.
 * Loaded by the conformance tests, the fake Convoy's shape checks and the replaying requester below.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ConvoyRequest, ConvoyRequester, ConvoyResult } from '../../lib/client/convoy-http.js';
import { ConvoyClient } from '../../lib/client/convoy.client.js';
import { ConvoyHttpError } from '../../lib/errors/client.errors.js';

/** One request Convoy answered, as recorded. */
export interface Exchange {
  /** What the recorder did, e.g. "eventDeliveries.list eventType". */
  name: string;
  /** Method and route template below /v1/projects/{projectID}, e.g. "GET /endpoints/{endpointID}"; the project itself is "GET /". */
  route: string;
  /** How the request authenticated: the project key (default), basic auth, a wrong key, or none. */
  auth?: 'key' | 'basic' | 'wrong-key' | 'none';
  /** The project id in the path was not the key's project (a bogus or another project's id). */
  otherProjectInPath?: boolean;
  request: { path: string; query: Array<[string, string]>; body?: unknown };
  response: { status: number; body: unknown };
  /** Query parameters the recorder saw Convoy apply on this request (the answer changed as the filter says). */
  honoured?: string[];
  /** Query parameters the recorder saw Convoy ignore on this request (the answer was as without them). */
  ignored?: string[];
}

export interface CorpusMeta {
  /** The server's version, from its /health answer, e.g. "v26.7.3". */
  convoyVersion: string;
  edition: string;
  /** The X-Convoy-Version Convoy answered with. */
  apiVersion: string;
  recordedAt: string;
  command: string;
}

const here = dirname(fileURLToPath(import.meta.url));
export const FIXTURES_DIR = join(here, 'fixtures');

let cached: { meta: CorpusMeta; exchanges: Exchange[] } | undefined;

export function loadCorpus(): { meta: CorpusMeta; exchanges: Exchange[] } {
  cached ??= {
    meta: JSON.parse(readFileSync(join(FIXTURES_DIR, 'meta.json'), 'utf8')) as CorpusMeta,
    exchanges: JSON.parse(readFileSync(join(FIXTURES_DIR, 'exchanges.json'), 'utf8')) as Exchange[],
  };
  return cached;
}

/** Recorded exchanges of one route (and status, when given). */
export function exchangesOf(route: string, status?: number | ((status: number) => boolean)): Exchange[] {
  return loadCorpus().exchanges.filter(
    (x) =>
      x.route === route &&
      (status === undefined || (typeof status === 'number' ? x.response.status === status : status(x.response.status))),
  );
}

/** The one recorded exchange with this name (fails when there is none). */
export function exchange(name: string): Exchange {
  const found = loadCorpus().exchanges.find((x) => x.name === name);
  if (!found) throw new Error(`No recorded exchange named "${name}" (re-record: npm run record:convoy)`);
  return found;
}

/** Convoy's envelope of a recorded answer. */
export function envelope(x: Exchange): { status: boolean; message: string; data?: unknown } {
  return x.response.body as { status: boolean; message: string; data?: unknown };
}

/** Does a route template match a concrete path? `/endpoints/{endpointID}` matches `/endpoints/01ABC`. */
export function routeMatches(template: string, method: string, path: string): boolean {
  const [tMethod, tPath] = template.split(' ') as [string, string];
  if (tMethod !== method) return false;
  const pattern = new RegExp(`^${tPath.replace(/\{[^}]+\}/g, '[^/]+')}$`);
  return pattern.test(path === '' ? '/' : path);
}

/**
 * A ConvoyRequester that answers with recorded exchanges instead of a server: each call is answered with the
 * answer recorded under the name `answers` gives for its route, as Convoy sent it (errors become ConvoyHttpError
 * exactly as the HTTP layer makes them). Every request is kept in `sent`.
 */
export class ReplayRequester implements ConvoyRequester {
  readonly sent: ConvoyRequest[] = [];

  constructor(private readonly answers: Record<string, string>) {}

  async request<T>(req: ConvoyRequest): Promise<ConvoyResult<T>> {
    this.sent.push(req);
    const route = Object.keys(this.answers).find((r) => routeMatches(r, req.method, req.path));
    if (!route) throw new Error(`ReplayRequester: no recorded answer chosen for ${req.method} ${req.path}`);
    const x = exchange(this.answers[route]!);
    const body = envelope(x);
    if (x.response.status >= 400) {
      throw new ConvoyHttpError(
        { method: req.method, path: `/api/v1/projects/p${req.path}` },
        x.response.status,
        body.message,
        'replayed',
      );
    }
    return {
      data: (body.data ?? undefined) as T,
      message: body.message,
      status: x.response.status,
      requestId: 'replayed',
    };
  }
}

/** A ConvoyClient whose every call goes to `requester` (e.g. a ReplayRequester) instead of the network. */
export function clientOver(requester: ConvoyRequester, projectId = 'p1'): ConvoyClient {
  const client = new ConvoyClient({ apiKey: 'CO.test', projectId, baseUrl: 'http://127.0.0.1:9/api' });
  for (const value of Object.values(client)) {
    if (value && typeof value === 'object' && 'http' in value) Object.assign(value, { http: requester });
  }
  // client.request() and client.project() go through the client's own HTTP layer: send them to the requester too.
  Object.assign(client, { request: (req: ConvoyRequest) => requester.request(req) });
  return client;
}
