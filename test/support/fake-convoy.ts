/**
 * A Convoy-compatible test server (node:http on 127.0.0.1) that answers as the real Convoy recorded in
 * test/conformance/fixtures does (v26.7.3, community edition unless `licensed`): the same fields, nulls and
 * omissions in each answer (test/conformance/fake-convoy.spec.ts compares them), the same query parameters
 * applied or ignored, the same licence refusals, PUT /endpoints replacing the endpoint, and a project API key
 * deciding the project whatever id the path names.
 * It keeps state in memory, records every request byte for byte, and takes scripted faults (status codes,
 * Retry-After, resets, hangs, refused connections) so that client, publisher and outbox tests run without Convoy.
 * It does not deliver webhooks: each delivery succeeds at once, unless seeded as failed (failDelivery).
 */
import { randomBytes } from 'node:crypto';
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { PATIENCE_MS } from './wait.js';

export interface RecordedRequest {
  method: string;
  /** Path without the query string, e.g. /api/v1/projects/p1/events */
  path: string;
  /** Path below /api/v1/projects/{id}, e.g. /events */
  route: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  rawBody: string;
  /** Parsed JSON body, when it is JSON. */
  body: any;
  at: number;
}

export type Fault =
  | { status: number; body?: unknown; headers?: Record<string, string> }
  | { reset: true }
  | { hang: true }
  | { delayMs: number };

export interface FakeConvoyOptions {
  apiKey?: string;
  projectId?: string;
  basic?: { username: string; password: string };
  basePath?: string;
  /** Answer as a licensed Convoy: portal links, subscription filters and event search work. Default false (community). */
  licensed?: boolean;
  /** The project's type (GET /v1/projects/{id}). Default 'outgoing'. */
  projectType?: 'outgoing' | 'incoming';
}

type Handler = (req: RecordedRequest, params: string[]) => { status: number; message: string; data?: unknown };
type Row = Record<string, any> & { uid: string };

const VERSION = '2025-11-24';

export class FakeConvoy {
  readonly apiKey: string;
  readonly projectId: string;
  readonly basePath: string;
  /** Whether licensed features work (see FakeConvoyOptions.licensed); may be changed between requests. */
  licensed: boolean;
  readonly requests: RecordedRequest[] = [];
  readonly endpoints = new Map<string, Row>();
  readonly events = new Map<string, Row>();
  readonly subscriptions = new Map<string, Row>();
  readonly deliveries = new Map<string, Row>();
  readonly attempts = new Map<string, Row[]>();
  readonly portalLinks = new Map<string, Row>();
  readonly eventTypes = new Map<string, Row>();
  readonly metaEvents = new Map<string, Row>();
  private readonly faults: Array<{ match: (r: RecordedRequest) => boolean; fault: Fault }> = [];
  private rule: ((r: RecordedRequest) => Fault | undefined) | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly waiters: Array<() => void> = [];
  private server!: Server;
  private port = 0;
  private requestCounter = 0;
  private lastId = '';

  private constructor(private readonly options: FakeConvoyOptions) {
    this.apiKey = options.apiKey ?? 'CO.testmask0000000.testkey';
    this.projectId = options.projectId ?? '01TESTPROJECT000000000000P';
    this.licensed = options.licensed ?? false;
    this.basePath = options.basePath ?? '/api';
    // Every project has a "*" event type, made with the project (CreateDefaultEventType).
    const any = { uid: '01TESTDEFAULTEVENTTYPE0000', name: '*', category: '', description: '', json_schema: {} };
    this.eventTypes.set(any.uid, { ...any, deprecated_at: null });
  }

  static async start(options: FakeConvoyOptions = {}): Promise<FakeConvoy> {
    const fake = new FakeConvoy(options);
    await fake.listen(0);
    return fake;
  }

  /** The API base to configure as `baseUrl`. */
  get url(): string {
    return `http://127.0.0.1:${this.port}${this.basePath}`;
  }

  /** Options for ConvoyModule / ConvoyClient pointing here. */
  get clientOptions(): { baseUrl: string; apiKey: string; projectId: string } {
    return { baseUrl: this.url, apiKey: this.apiKey, projectId: this.projectId };
  }

  /** Requests that created events (the four intake routes). */
  eventRequests(): RecordedRequest[] {
    return this.requests.filter(
      (r) => r.method === 'POST' && /^\/events(\/(fanout|broadcast|dynamic))?$/.test(r.route),
    );
  }

  /** Event-creation requests that Convoy accepted (201), in order. */
  acceptedEvents(): Row[] {
    return [...this.events.values()].sort((a, b) => (a.uid < b.uid ? -1 : 1));
  }

  /** The next matching requests fail with these faults, in order (a fault is used once). */
  failNext(...faults: Fault[]): void {
    for (const fault of faults) this.faults.push({ match: () => true, fault });
  }

  /** Like failNext, only for requests that `match`. */
  failNextWhen(match: (r: RecordedRequest) => boolean, ...faults: Fault[]): void {
    for (const fault of faults) this.faults.push({ match, fault });
  }

  /** A standing rule (e.g. an outage): every request it returns a fault for gets that fault. Pass undefined to end it. */
  setRule(rule: ((r: RecordedRequest) => Fault | undefined) | undefined): void {
    this.rule = rule;
  }

  /** Stops listening (connections are refused: ECONNREFUSED) but keeps state and port. */
  async refuseConnections(): Promise<void> {
    await this.closeServer();
  }

  /** Listens again on the same port. */
  async acceptConnections(): Promise<void> {
    await this.listen(this.port);
  }

  /** Resolves when at least `count` accepted events exist. */
  async waitForEvents(count: number, timeoutMs = PATIENCE_MS): Promise<Row[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.events.size < count) {
      if (Date.now() > deadline) throw new Error(`FakeConvoy: expected ${count} events, have ${this.events.size}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 50);
        this.waiters.push(() => (clearTimeout(timer), resolve()));
      });
    }
    return this.acceptedEvents();
  }

  async close(): Promise<void> {
    await this.closeServer();
  }

  // ------------------------------------------------------------------ plumbing

  private listen(port: number): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => {
        this.port = (this.server.address() as AddressInfo).port;
        resolve();
      });
    });
  }

  private closeServer(): Promise<void> {
    return new Promise((resolve) => {
      for (const socket of this.sockets) socket.destroy();
      this.server.close(() => resolve());
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const rawBody = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === `${this.basePath.replace(/\/api$/, '')}/health`) {
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ status: true, message: 'Convoy v26.7.3', data: null }));
      return;
    }
    const prefix = `${this.basePath}/v1/projects/`;
    const rest = url.pathname.startsWith(prefix) ? url.pathname.slice(prefix.length).replace(/\/$/, '') : undefined;
    // The project itself (/v1/projects/{id}) is the route "".
    const slash = rest === undefined || rest === '' ? -1 : rest.includes('/') ? rest.indexOf('/') : rest.length;
    let body: unknown;
    try {
      body = rawBody ? JSON.parse(rawBody) : undefined;
    } catch {
      body = undefined;
    }
    const recorded: RecordedRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      route: rest !== undefined && slash >= 0 ? rest.slice(slash) : '',
      query: url.searchParams,
      headers: req.headers,
      rawBody,
      body,
      at: Date.now(),
    };
    this.requests.push(recorded);
    const requestId = String(
      req.headers['x-request-id'] ??
        `fake/${randomBytes(5).toString('hex')}-${String(++this.requestCounter).padStart(6, '0')}`,
    );

    const fault = this.takeFault(recorded);
    if (fault && 'reset' in fault) return void req.socket.destroy();
    if (fault && 'hang' in fault) return; // never answers; the client's timeout must fire
    if (fault && 'delayMs' in fault) await new Promise((r) => setTimeout(r, fault.delayMs));
    if (fault && 'status' in fault) {
      const headers = { 'content-type': 'application/json', 'x-request-id': requestId, ...fault.headers };
      const text =
        fault.body === undefined
          ? JSON.stringify({ status: false, message: statusMessage(fault.status) })
          : typeof fault.body === 'string'
            ? fault.body
            : JSON.stringify(fault.body);
      res.writeHead(fault.status, headers).end(text);
      return;
    }

    const send = (status: number, payload: unknown): void => {
      res.writeHead(status, {
        'content-type': 'application/json',
        'x-convoy-version': VERSION,
        'x-request-id': requestId,
      });
      res.end(payload === undefined ? '' : JSON.stringify(payload));
    };
    if (rest === undefined || slash < 0)
      return void res.writeHead(404, { 'content-type': 'application/json' }).end('404 page not found');

    const auth = this.authenticate(req.headers.authorization);
    if (auth) return send(401, { status: false, message: auth });
    // As Convoy: a project API key decides the project, whatever id the path names; basic auth goes by the path.
    const pathProject = rest.slice(0, slash);
    if (pathProject !== this.projectId && !String(req.headers.authorization).startsWith('Bearer ')) {
      return send(400, { status: false, message: recorded.route === '' ? 'project not found' : 'Project not found' });
    }
    if (
      (recorded.method === 'POST' || recorded.method === 'PUT') &&
      rawBody !== '' &&
      !/^application\/json/.test(String(req.headers['content-type'] ?? ''))
    ) {
      return send(415, undefined); // Convoy answers a non-JSON Content-Type with an empty 415
    }
    if (rawBody !== '' && body === undefined) return send(400, { status: false, message: 'Invalid request format' });

    for (const [method, pattern, handler] of this.routes) {
      if (method !== recorded.method) continue;
      const match = pattern.exec(recorded.route);
      if (!match) continue;
      try {
        const result = handler(recorded, match.slice(1).map(decodeURIComponent));
        this.waiters.splice(0).forEach((wake) => wake());
        return result.status >= 400
          ? send(result.status, { status: false, message: result.message })
          : send(result.status, { status: true, message: result.message, data: result.data ?? null });
      } catch (error) {
        return send(400, { status: false, message: (error as Error).message });
      }
    }
    res.writeHead(404, { 'content-type': 'application/json' }).end('404 page not found');
  }

  private takeFault(r: RecordedRequest): Fault | undefined {
    const index = this.faults.findIndex((f) => f.match(r));
    if (index >= 0) return this.faults.splice(index, 1)[0]!.fault;
    return this.rule?.(r);
  }

  private authenticate(header: string | undefined): string | undefined {
    if (!header) return 'Authentication required';
    const [scheme, value] = header.split(' ');
    if (scheme === 'Bearer' && value) return value === this.apiKey ? undefined : 'authorization failed';
    if (scheme === 'Basic' && value && this.options.basic) {
      const [user, pass] = Buffer.from(value, 'base64').toString().split(':');
      return user === this.options.basic.username && pass === this.options.basic.password
        ? undefined
        : 'authorization failed';
    }
    return 'Authentication required';
  }

  /** ULID-shaped, strictly increasing ids (Convoy's ids are ULIDs and lists sort on them). */
  private id(): string {
    let next =
      Date.now().toString(32).toUpperCase().padStart(10, '0') +
      randomBytes(8).toString('hex').toUpperCase().slice(0, 16);
    if (next <= this.lastId)
      next =
        this.lastId.slice(0, 10) +
        (BigInt(`0x${this.lastId.slice(10)}`) + 1n).toString(16).toUpperCase().padStart(16, '0');
    this.lastId = next;
    return next;
  }

  private now(): string {
    return new Date().toISOString();
  }

  // ------------------------------------------------------------------ routes

  private readonly routes: Array<[string, RegExp, Handler]> = [
    // the project: with a key, the key's project whatever the path says
    ['GET', /^$/, () => ({ status: 200, message: 'Project fetched successfully', data: this.projectView() })],

    // events
    [
      'POST',
      /^\/events$/,
      (r) => {
        const b = this.requireEvent(r.body);
        if (!b.endpoint_id && !b.app_id) throw new Error('please provide an endpoint ID');
        if (!this.endpoints.has(b.endpoint_id)) throw new Error('endpoint not found');
        this.storeEvent(b, [b.endpoint_id]);
        return { status: 201, message: 'Event queued successfully' };
      },
    ],
    [
      'POST',
      /^\/events\/fanout$/,
      (r) => {
        const b = this.requireEvent(r.body);
        if (!b.owner_id) throw new Error('owner_id:please provide an owner id');
        const targets = [...this.endpoints.values()].filter((e) => e.owner_id === b.owner_id).map((e) => e.uid);
        const duplicate = this.storeEvent(b, targets);
        return {
          status: 201,
          message: duplicate
            ? 'Duplicate event received, but will not be sent'
            : 'Endpoint fanout event queued successfully',
        };
      },
    ],
    [
      'POST',
      /^\/events\/broadcast$/,
      (r) => {
        const b = this.requireEvent(r.body);
        this.storeEvent(b, [...this.endpoints.keys()]);
        return { status: 201, message: 'Broadcast event created successfully' };
      },
    ],
    [
      'POST',
      /^\/events\/dynamic$/,
      (r) => {
        const b = this.requireEvent(r.body);
        if (!b.url) throw new Error('url:please provide an endpoint url');
        let endpoint = [...this.endpoints.values()].find((e) => e.url === b.url);
        if (!endpoint) endpoint = this.createEndpoint({ name: '', url: b.url, secret: b.secret });
        this.storeEvent(b, [endpoint.uid]);
        return { status: 201, message: 'Dynamic event created successfully' };
      },
    ],
    [
      'GET',
      /^\/events$/,
      (r) => {
        if ((r.query.get('query') || r.query.get('body')) && !this.licensed)
          return { status: 403, message: 'event search requires the Event Search entitlement' };
        return {
          status: 200,
          message: 'App events fetched successfully',
          data: this.page(this.filterEvents(r), r, (e) => this.eventView(e, 'list')),
        };
      },
    ],
    [
      'GET',
      /^\/events\/countbatchreplayevents$/,
      (r) => {
        if (r.query.get('query') || r.query.get('body'))
          return { status: 400, message: 'batch replay count does not support search filters' };
        // Convoy counts by endpoints (and dates) only: idempotencyKey and sourceId are ignored here.
        const endpointIds = r.query.getAll('endpointId');
        const rows = [...this.events.values()].filter(
          (e) => !endpointIds.length || e.endpoints.some((id: string) => endpointIds.includes(id)),
        );
        return { status: 200, message: 'events count successful', data: { num: rows.length } };
      },
    ],
    [
      'POST',
      /^\/events\/batchreplay$/,
      (r) => {
        if (r.query.get('query') || r.query.get('body'))
          return { status: 400, message: 'batch replay does not support search filters' };
        return { status: 200, message: `${this.filterEvents(r).length} successful, 0 failed` };
      },
    ],
    [
      'GET',
      /^\/events\/([^/]+)$/,
      (_r, [id]) => {
        const event = this.events.get(id!);
        return event
          ? { status: 200, message: 'Endpoint event fetched successfully', data: this.eventView(event, 'get') }
          : { status: 404, message: 'event not found' };
      },
    ],
    [
      'PUT',
      /^\/events\/([^/]+)\/replay$/,
      (_r, [id]) => {
        const event = this.events.get(id!);
        if (!event) throw new Error('event not found');
        return { status: 200, message: 'Endpoint event replayed successfully', data: this.eventView(event, 'get') };
      },
    ],

    // endpoints
    [
      'POST',
      /^\/endpoints$/,
      (r) => {
        const b = r.body ?? {};
        if (!b.name || !b.url) throw new Error('Invalid input provided');
        return {
          status: 201,
          message: 'Endpoint created successfully',
          data: this.endpointView(this.createEndpoint(b), 'write'),
        };
      },
    ],
    [
      'GET',
      /^\/endpoints$/,
      (r) => {
        let rows = [...this.endpoints.values()];
        const q = r.query.get('q');
        const owner = r.query.get('ownerId');
        if (q) rows = rows.filter((e) => e.name.includes(q));
        if (owner) rows = rows.filter((e) => e.owner_id === owner);
        return {
          status: 200,
          message: 'Endpoints fetched successfully',
          data: this.page(rows, r, (e) => this.endpointView(e, 'read')),
        };
      },
    ],
    [
      'GET',
      /^\/endpoints\/([^/]+)$/,
      (_r, [id]) => {
        const e = this.endpoints.get(id!);
        return e
          ? { status: 200, message: 'Endpoint fetched successfully', data: this.endpointView(e, 'read') }
          : { status: 404, message: 'Resource not found' };
      },
    ],
    [
      'PUT',
      /^\/endpoints\/([^/]+)$/,
      (r, [id]) => {
        const e = this.endpoint(id!);
        const b = r.body ?? {};
        if (!b.name || !b.url) throw new Error('Invalid input provided');
        // Convoy's PUT replaces: these are reset when left out, the rest kept (services/update_endpoint.go).
        Object.assign(e, {
          name: b.name,
          url: b.url,
          description: b.description ?? '',
          rate_limit: b.rate_limit ?? 0,
          rate_limit_duration: b.rate_limit_duration ?? 0,
          authentication: b.authentication?.type ? b.authentication : null,
        });
        if (b.owner_id) e.owner_id = b.owner_id;
        if (b.advanced_signatures !== undefined) e.advanced_signatures = b.advanced_signatures;
        if (b.content_type !== undefined) e.content_type = b.content_type;
        if (b.http_timeout) e.http_timeout = this.licensed ? b.http_timeout : 10;
        e.updated_at = this.now();
        return { status: 202, message: 'Endpoint updated successfully', data: this.endpointView(e, 'write') };
      },
    ],
    [
      'DELETE',
      /^\/endpoints\/([^/]+)$/,
      (_r, [id]) => {
        this.endpoint(id!);
        this.endpoints.delete(id!);
        for (const [uid, s] of this.subscriptions) if (s.endpoint_id === id) this.subscriptions.delete(uid);
        return { status: 200, message: 'Endpoint deleted successfully' };
      },
    ],
    [
      'PUT',
      /^\/endpoints\/([^/]+)\/pause$/,
      (_r, [id]) => {
        const e = this.endpoint(id!);
        if (e.status === 'active') e.status = 'paused';
        else if (e.status === 'paused') e.status = 'active';
        else throw new Error('current endpoint status - inactive, does not support pausing or unpausing');
        return { status: 202, message: 'endpoint status updated successfully', data: this.endpointView(e, 'read') };
      },
    ],
    [
      'POST',
      /^\/endpoints\/([^/]+)\/activate$/,
      (_r, [id]) => {
        const e = this.endpoints.get(id!);
        if (!e) throw new Error('failed to find endpoint');
        e.status = 'active';
        return { status: 202, message: 'endpoint status successfully activated', data: this.endpointView(e, 'read') };
      },
    ],
    [
      'PUT',
      /^\/endpoints\/([^/]+)\/expire_secret$/,
      (r, [id]) => {
        const e = this.endpoint(id!);
        if (typeof r.body?.expiration !== 'number') throw new Error('expiration:please provide an expiration');
        const expiresAt = new Date(Date.now() + r.body.expiration * 1000).toISOString();
        e.secrets = e.secrets.map((s: Row) => (s.expires_at ? s : { ...s, expires_at: expiresAt }));
        e.secrets.push(this.secret(r.body.secret));
        return { status: 200, message: 'endpoint secret expired successfully', data: this.endpointView(e, 'read') };
      },
    ],

    // subscriptions
    [
      'POST',
      /^\/subscriptions\/test_filter$/,
      (r) => {
        if (!this.licensed)
          return {
            status: 400,
            message: 'your instance does not have access to subscription filters, upgrade to access this feature',
          };
        return {
          status: 200,
          message: 'filter validated successfully',
          data: matches(r.body?.schema?.body ?? {}, r.body?.request?.body ?? {}),
        };
      },
    ],
    [
      'POST',
      /^\/subscriptions$/,
      (r) => {
        const b = r.body ?? {};
        if (!b.name) throw new Error('name:please provide a valid subscription name');
        if (!b.endpoint_id) throw new Error('endpoint_id:please provide a valid endpoint id');
        if (!this.endpoints.has(b.endpoint_id)) throw new Error('failed to find endpoint by id');
        const uid = this.id();
        // A community Convoy ignores the filter and stores ["*"] (filters are licensed: advanced_subscriptions).
        const row: Row = {
          uid,
          name: b.name,
          endpoint_id: b.endpoint_id,
          event_types: this.licensed ? (b.filter_config?.event_types ?? ['*']) : ['*'],
          filter: this.licensed && b.filter_config?.filter ? b.filter_config.filter : {},
          delivery_mode: b.delivery_mode ?? 'at_least_once',
          created_at: this.now(),
          updated_at: this.now(),
        };
        this.subscriptions.set(uid, row);
        return {
          status: 201,
          message: 'Subscription created successfully',
          data: this.subscriptionView(row, 'create'),
        };
      },
    ],
    [
      'GET',
      /^\/subscriptions$/,
      (r) => {
        const endpointIds = r.query.getAll('endpointId');
        const name = r.query.get('name');
        let rows = [...this.subscriptions.values()];
        if (endpointIds.length) rows = rows.filter((s) => endpointIds.includes(s.endpoint_id));
        if (name) rows = rows.filter((s) => s.name === name);
        return {
          status: 200,
          message: 'Subscriptions fetched successfully',
          data: this.page(rows, r, (s) => this.subscriptionView(s, 'read')),
        };
      },
    ],
    [
      'GET',
      /^\/subscriptions\/([^/]+)$/,
      (_r, [id]) => {
        const s = this.subscriptions.get(id!);
        return s
          ? { status: 200, message: 'Subscription fetched successfully', data: this.subscriptionView(s, 'read') }
          : { status: 404, message: 'failed to find subscription' };
      },
    ],
    [
      'PUT',
      /^\/subscriptions\/([^/]+)$/,
      (r, [id]) => {
        const s = this.subscriptions.get(id!);
        if (!s) return { status: 404, message: 'failed to find subscription' };
        const b = r.body ?? {};
        if (b.name) s.name = b.name;
        if (b.delivery_mode) s.delivery_mode = b.delivery_mode;
        if (this.licensed && b.filter_config?.event_types) s.event_types = b.filter_config.event_types;
        s.updated_at = this.now();
        return { status: 202, message: 'Subscription updated successfully', data: this.subscriptionView(s, 'read') };
      },
    ],
    [
      'DELETE',
      /^\/subscriptions\/([^/]+)$/,
      (_r, [id]) => {
        if (!this.subscriptions.delete(id!)) return { status: 404, message: 'failed to find subscription' };
        return { status: 200, message: 'Subscription deleted successfully' };
      },
    ],

    // deliveries and attempts
    [
      'GET',
      /^\/eventdeliveries$/,
      (r) => ({
        status: 200,
        message: 'Event deliveries fetched successfully',
        data: this.page(this.filterDeliveries(r), r, (d) => this.deliveryView(d)),
      }),
    ],
    [
      'POST',
      /^\/eventdeliveries\/forceresend$/,
      (r) => {
        const ids: string[] = r.body?.ids ?? [];
        const ok = ids.filter((id) => this.deliveries.get(id)?.status === 'Success').length;
        if (ok === 0) throw new Error('only successful events can be force resent');
        return { status: 200, message: `${ok} successful, ${ids.length - ok} failed` };
      },
    ],
    [
      'POST',
      /^\/eventdeliveries\/batchretry$/,
      (r) => {
        for (const d of this.filterDeliveries(r))
          if (d.status === 'Failure' || d.status === 'Discarded') d.status = 'Scheduled';
        return { status: 200, message: 'Batch retry processing' };
      },
    ],
    [
      'GET',
      /^\/eventdeliveries\/([^/]+)$/,
      (_r, [id]) => {
        const d = this.deliveries.get(id!);
        return d
          ? { status: 200, message: 'Event Delivery fetched successfully', data: this.deliveryView(d) }
          : { status: 404, message: 'event delivery not found' };
      },
    ],
    [
      'PUT',
      /^\/eventdeliveries\/([^/]+)\/resend$/,
      (_r, [id]) => {
        const d = this.deliveries.get(id!);
        if (!d) throw new Error('event delivery not found');
        if (d.status !== 'Failure' && d.status !== 'Discarded') throw new Error('event already sent');
        d.status = 'Scheduled';
        return { status: 200, message: 'App event processed for retry successfully', data: this.deliveryView(d) };
      },
    ],
    [
      'GET',
      /^\/eventdeliveries\/([^/]+)\/deliveryattempts$/,
      (_r, [id]) => {
        const list = this.attempts.get(id!);
        if (!list) throw new Error('event delivery not found');
        return { status: 200, message: 'Event delivery attempts fetched successfully', data: list };
      },
    ],
    [
      'GET',
      /^\/eventdeliveries\/([^/]+)\/deliveryattempts\/([^/]+)$/,
      (_r, [id, attemptId]) => {
        const attempt = this.attempts.get(id!)?.find((a) => a.uid === attemptId);
        if (!attempt) throw new Error('event delivery attempt not found');
        return { status: 200, message: 'Event delivery attempt fetched successfully', data: attempt };
      },
    ],

    // portal links (licensed: a community Convoy answers 401 "Access denied" to every route)
    [
      'POST',
      /^\/portal-links$/,
      (r) =>
        this.licence(() => {
          const b = r.body ?? {};
          if (!b.name) throw new Error('name:please provide the name field');
          if (!b.owner_id) throw new Error('owner_id:please provide the owner_id field');
          const uid = this.id();
          const row: Row = {
            uid,
            project_id: this.projectId,
            name: b.name,
            owner_id: b.owner_id,
            token: randomBytes(12).toString('hex'),
            url: `http://127.0.0.1:${this.port}/portal?token=x`,
            auth_type: b.auth_type ?? 'static_token',
            can_manage_endpoint: !!b.can_manage_endpoint,
            endpoint_count: 0,
            endpoints: [],
            created_at: this.now(),
            updated_at: this.now(),
            deleted_at: null,
          };
          this.portalLinks.set(uid, row);
          return { status: 201, message: 'Portal link created successfully', data: row };
        }),
    ],
    [
      'GET',
      /^\/portal-links$/,
      (r) =>
        this.licence(() => {
          const owner = r.query.get('ownerId');
          const rows = [...this.portalLinks.values()].filter((p) => !owner || p.owner_id === owner);
          return { status: 200, message: 'Portal links fetched successfully', data: this.page(rows, r, (p) => p) };
        }),
    ],
    [
      'GET',
      /^\/portal-links\/([^/]+)$/,
      (_r, [id]) =>
        this.licence(() =>
          this.withLink(id!, (p) => ({ status: 200, message: 'Portal link fetched successfully', data: p })),
        ),
    ],
    [
      'PUT',
      /^\/portal-links\/([^/]+)$/,
      (r, [id]) =>
        this.licence(() =>
          this.withLink(
            id!,
            (p) => (
              Object.assign(p, r.body ?? {}),
              { status: 202, message: 'Portal link updated successfully', data: p }
            ),
          ),
        ),
    ],
    [
      'PUT',
      /^\/portal-links\/([^/]+)\/revoke$/,
      (_r, [id]) =>
        this.licence(() =>
          this.withLink(
            id!,
            (p) => (this.portalLinks.delete(p.uid), { status: 200, message: 'Portal link revoked successfully' }),
          ),
        ),
    ],
    [
      'GET',
      /^\/portal-links\/([^/]+)\/refresh_token$/,
      (_r, [id]) =>
        this.licence(() =>
          this.withLink(
            id!,
            (p) => (
              (p.token = randomBytes(12).toString('hex')),
              { status: 200, message: 'Token has been refreshed', data: p.token }
            ),
          ),
        ),
    ],

    // event types
    [
      'GET',
      /^\/event-types$/,
      // Newest first (ORDER BY created_at DESC), the project's "*" type included.
      () => ({
        status: 200,
        message: 'Event types fetched successfully',
        data: [...this.eventTypes.values()].reverse(),
      }),
    ],
    [
      'POST',
      /^\/event-types$/,
      (r) => {
        if (!r.body?.name) throw new Error('name:please provide a name for this event type');
        // Names are unique per project (a unique index: Convoy relays the database's refusal).
        if ([...this.eventTypes.values()].some((t) => t.name === r.body.name))
          throw new Error(
            'ERROR: duplicate key value violates unique constraint "idx_event_types_name_project_id" (SQLSTATE 23505)',
          );
        if (r.body.json_schema != null && typeof r.body.json_schema.type === 'number')
          throw new Error('invalid JSON schema: failed to unmarshal schema: unsupported type');
        const row: Row = {
          uid: this.id(),
          name: r.body.name,
          category: r.body.category ?? '',
          description: r.body.description ?? '',
          json_schema: r.body.json_schema ?? null, // Go marshals a missing map as null
          deprecated_at: null,
        };
        this.eventTypes.set(row.uid, row);
        return { status: 201, message: 'Event type created successfully', data: row };
      },
    ],
    [
      'POST',
      /^\/event-types\/import$/,
      (r) => {
        let names: string[] = [];
        try {
          names = Object.keys((JSON.parse(String(r.body?.spec ?? '')) as { webhooks?: object }).webhooks ?? {});
        } catch {
          names = [...String(r.body?.spec ?? '').matchAll(/^ {2}([a-z0-9_.-]+):\s*$/gim)].map((m) => m[1]!);
        }
        const rows = names.map((name) => ({
          uid: this.id(),
          name,
          category: '',
          description: '',
          json_schema: { type: 'object', properties: null, required: null },
          deprecated_at: null,
        }));
        for (const row of rows) this.eventTypes.set(row.uid, row);
        return { status: 200, message: 'Event types imported successfully', data: rows };
      },
    ],
    [
      'PUT',
      /^\/event-types\/([^/]+)$/,
      (r, [id]) => {
        const row = this.eventTypes.get(id!);
        if (!row) throw new Error('event type not found');
        // As Convoy's handler: an empty description or category, and a missing json_schema, keep the stored value.
        const body = r.body ?? {};
        if (typeof body.description === 'string' && body.description !== '') row.description = body.description;
        if (typeof body.category === 'string' && body.category !== '') row.category = body.category;
        if (body.json_schema != null) row.json_schema = body.json_schema;
        return { status: 202, message: 'Event type created successfully', data: row }; // sic: Convoy's words
      },
    ],
    [
      'POST',
      /^\/event-types\/([^/]+)\/deprecate$/,
      (_r, [id]) => {
        const row = this.eventTypes.get(id!);
        if (!row) throw new Error('event type not found');
        row.deprecated_at = this.now();
        return { status: 200, message: 'Event type deprecated successfully', data: row };
      },
    ],

    // meta events
    [
      'GET',
      /^\/meta-events$/,
      (r) => ({
        status: 200,
        message: 'Meta events fetched successfully',
        data: this.page([...this.metaEvents.values()], r, (m) => m),
      }),
    ],
    [
      'GET',
      /^\/meta-events\/([^/]+)$/,
      (_r, [id]) => {
        const m = this.metaEvents.get(id!);
        return m
          ? { status: 200, message: 'Meta event fetched successfully', data: m }
          : { status: 404, message: 'meta event not found' };
      },
    ],
    [
      'PUT',
      /^\/meta-events\/([^/]+)\/resend$/,
      (_r, [id]) => {
        const m = this.metaEvents.get(id!);
        if (!m) return { status: 404, message: 'meta event not found' };
        m.status = 'Scheduled';
        return { status: 200, message: 'Meta event processed for retry successfully', data: m };
      },
    ],
  ];

  /** Adds an endpoint directly, as if created through the API. */
  seedEndpoint(fields: { name?: string; url: string; owner_id?: string; secret?: string }): Row {
    return this.createEndpoint(fields);
  }

  /** Adds a meta event (Convoy creates them itself; tests seed them). */
  seedMetaEvent(eventType = 'endpoint.created'): Row {
    const row: Row = {
      uid: this.id(),
      project_id: this.projectId,
      event_type: eventType,
      status: 'Success',
      metadata: { num_trials: 1, retry_limit: 3, interval_seconds: 10, strategy: 'linear', next_send_time: this.now() },
      attempt: null,
      created_at: this.now(),
      updated_at: this.now(),
      deleted_at: null,
    };
    this.metaEvents.set(row.uid, row);
    return row;
  }

  /** Makes a delivery fail as a receiver answering 500 would: status Failure, and a failed attempt (no `status` field). */
  failDelivery(deliveryId: string): void {
    const d = this.deliveries.get(deliveryId);
    if (!d) throw new Error(`FakeConvoy: no delivery ${deliveryId}`);
    d.status = 'Failure';
    d.description = 'Endpoint returned status code 500';
    this.attempts.set(deliveryId, [this.attempt(d, false)]);
  }

  private licence(handle: () => ReturnType<Handler>): ReturnType<Handler> {
    return this.licensed ? handle() : { status: 401, message: 'Access denied' };
  }

  private requireEvent(body: any): any {
    if (!body || typeof body !== 'object') throw new Error('Invalid request format');
    if (!body.event_type) throw new Error('event_type:please provide an event type');
    if (body.data === undefined || body.data === null) throw new Error('data:please provide your data');
    return body;
  }

  /** Stores the event; returns true when its idempotency key was seen before (stored as duplicate, delivered nowhere). */
  private storeEvent(b: any, endpointIds: string[]): boolean {
    const duplicate =
      !!b.idempotency_key && [...this.events.values()].some((e) => e.idempotency_key === b.idempotency_key);
    const uid = this.id();
    const headers: Record<string, string[]> = {};
    for (const [k, v] of Object.entries(b.custom_headers ?? {})) headers[k] = [String(v)];
    this.events.set(uid, {
      uid,
      event_type: b.event_type,
      endpoints: endpointIds,
      headers: Object.keys(headers).length ? headers : null,
      data: b.data,
      idempotency_key: b.idempotency_key ?? '',
      is_duplicate_event: duplicate,
      // Convoy fails a fan-out to nobody after accepting it.
      status: endpointIds.length === 0 ? 'Failure' : 'Success',
      failure_reason: endpointIds.length === 0 ? 'no subscription matched this event' : '',
      created_at: this.now(),
      updated_at: this.now(),
    });
    if (!duplicate) for (const endpointId of endpointIds) this.storeDelivery(uid, endpointId, b, headers);
    return duplicate;
  }

  private storeDelivery(eventId: string, endpointId: string, b: any, headers: Record<string, string[]>): void {
    const uid = this.id();
    const subscription = [...this.subscriptions.values()].find((s) => s.endpoint_id === endpointId);
    const row: Row = {
      uid,
      event_id: eventId,
      endpoint_id: endpointId,
      subscription_id: subscription?.uid ?? '',
      event_type: b.event_type,
      idempotency_key: b.idempotency_key ?? '',
      status: 'Success',
      description: '',
      headers: Object.keys(headers).length ? headers : null,
      delivery_mode: subscription?.delivery_mode ?? 'at_least_once',
      data: b.data,
      raw: JSON.stringify(b.data),
      created_at: this.now(),
      updated_at: this.now(),
    };
    this.deliveries.set(uid, row);
    this.attempts.set(uid, [this.attempt(row, true)]);
  }

  private attempt(d: Row, success: boolean): Row {
    const endpoint = this.endpoints.get(d.endpoint_id);
    return {
      uid: this.id(),
      url: endpoint?.url ?? '',
      method: 'POST',
      endpoint_id: d.endpoint_id,
      api_version: 'v26.7.3',
      project_id: this.projectId,
      msg_id: d.uid,
      ip_address: '127.0.0.1',
      request_http_header: {
        'Accept-Encoding': 'gzip',
        'Content-Type': 'application/json',
        'User-Agent': 'Convoy/v26.7.3',
        'X-Convoy-Signature': 'fake',
      },
      response_http_header: { 'Content-Type': 'application/json' },
      http_status: success ? '200 OK' : '500 Internal Server Error',
      response_data: success ? '{"ok":true}' : '{"error":"failed"}',
      // Convoy leaves `status` out when it is false.
      ...(success ? { status: true } : {}),
      requested_at: this.now(),
      responded_at: this.now(),
      created_at: this.now(),
      updated_at: this.now(),
      deleted_at: null,
    };
  }

  private filterEvents(r: RecordedRequest): Row[] {
    let rows = [...this.events.values()];
    const key = r.query.get('idempotencyKey');
    const endpointIds = r.query.getAll('endpointId');
    if (key) rows = rows.filter((e) => e.idempotency_key === key);
    if (endpointIds.length) rows = rows.filter((e) => e.endpoints.some((id: string) => endpointIds.includes(id)));
    if (r.query.getAll('sourceId').length) rows = []; // outgoing projects have no sources
    return rows;
  }

  /** Convoy's filters of GET /eventdeliveries (and batchretry): `eventType`, never `event_type`. */
  private filterDeliveries(r: RecordedRequest): Row[] {
    let rows = [...this.deliveries.values()];
    const endpointIds = r.query.getAll('endpointId');
    const statuses = r.query.getAll('status');
    const eventId = r.query.get('eventId');
    const eventType = r.query.get('eventType');
    const key = r.query.get('idempotencyKey');
    const subscriptionId = r.query.get('subscriptionId');
    if (endpointIds.length) rows = rows.filter((d) => endpointIds.includes(d.endpoint_id));
    if (statuses.length) rows = rows.filter((d) => statuses.includes(d.status));
    if (eventId) rows = rows.filter((d) => d.event_id === eventId);
    if (eventType) rows = rows.filter((d) => d.event_type === eventType);
    if (key) rows = rows.filter((d) => d.idempotency_key === key);
    if (subscriptionId) rows = rows.filter((d) => d.subscription_id === subscriptionId);
    return rows;
  }

  private createEndpoint(b: any): Row {
    const uid = this.id();
    const row: Row = {
      uid,
      owner_id: b.owner_id ?? '',
      url: b.url,
      name: b.name || `endpoint-${uid}`,
      secrets: [this.secret(b.secret)],
      advanced_signatures: b.advanced_signatures ?? true,
      description: b.description ?? '',
      status: b.is_disabled ? 'inactive' : 'active',
      http_timeout: this.licensed ? (b.http_timeout ?? 10) : 10,
      authentication: b.authentication?.type ? b.authentication : null,
      rate_limit: b.rate_limit ?? 0,
      rate_limit_duration: b.rate_limit_duration ?? 0,
      content_type: b.content_type ?? 'application/json',
      created_at: this.now(),
      updated_at: this.now(),
    };
    this.endpoints.set(uid, row);
    return row;
  }

  private secret(value?: string): Row {
    return {
      uid: this.id(),
      value: value ?? randomBytes(19).toString('base64url').slice(0, 25),
      expires_at: null,
      created_at: this.now(),
      updated_at: this.now(),
      deleted_at: null,
    };
  }

  private endpoint(id: string): Row {
    const e = this.endpoints.get(id);
    if (!e) throw new Error('endpoint not found');
    return e;
  }

  private withLink(id: string, fn: (p: Row) => ReturnType<Handler>): ReturnType<Handler> {
    const p = this.portalLinks.get(id);
    return p ? fn(p) : { status: 404, message: 'portal link not found' };
  }

  // ------------------------------------------------------------------ Convoy's answer shapes (as recorded)

  private projectView(): Row {
    return {
      uid: this.projectId,
      name: 'fake-project',
      logo_url: '',
      organisation_id: '01TESTORGANISATION0000000O',
      type: this.options.projectType ?? 'outgoing',
      config: {
        max_payload_read_size: 51200,
        replay_attacks_prevention_enabled: false,
        add_event_id_trace_headers: false,
        disable_endpoint: false,
        multiple_endpoint_subscriptions: false,
        verify_dynamic_events: false,
        allow_unmatched_dynamic_urls: false,
        search_policy: '',
        ssl: { enforce_secure_endpoints: false },
        ratelimit: { count: 1000, duration: 60 },
        strategy: { type: 'linear', duration: 100, retry_count: 10 },
        signature: {
          header: 'X-Convoy-Signature',
          versions: [{ uid: '01TESTSIGNATUREVERSION000V', hash: 'SHA256', encoding: 'hex', created_at: this.now() }],
        },
        request_id_header: 'X-Convoy-Idempotency-Key',
        meta_event: {
          is_enabled: false,
          type: '',
          event_type: [],
          url: '',
          secret: '',
          pub_sub: { type: '', workers: 0, sqs: null, google: null, kafka: null, amqp: null },
        },
        circuit_breaker: {
          sample_rate: 30,
          error_timeout: 30,
          failure_threshold: 70,
          success_threshold: 5,
          minimum_request_count: 10,
          observability_window: 5,
          consecutive_failure_threshold: 10,
        },
      },
      statistics: null,
      retained_events: 0,
      created_at: this.now(),
      updated_at: this.now(),
      deleted_at: null,
    };
  }

  /**
   * An endpoint as Convoy sends it: no owner_id when it has none; `authentication` null in write answers and `{}`
   * on reads when there is none; the circuit-breaker figures null (licensed). As metadata of a delivery, the
   * secrets are null and the settings zero values.
   */
  private endpointView(e: Row, as: 'write' | 'read' | 'delivery'): Row {
    const delivery = as === 'delivery';
    return {
      uid: e.uid,
      project_id: this.projectId,
      ...(e.owner_id ? { owner_id: e.owner_id } : {}),
      url: e.url,
      name: e.name,
      secrets: delivery ? null : e.secrets,
      advanced_signatures: delivery ? false : e.advanced_signatures,
      description: delivery ? '' : e.description,
      status: e.status,
      http_timeout: delivery ? 0 : e.http_timeout,
      authentication: delivery ? null : (e.authentication ?? (as === 'read' ? {} : null)),
      rate_limit: delivery ? 0 : e.rate_limit,
      rate_limit_duration: delivery ? 0 : e.rate_limit_duration,
      content_type: delivery ? '' : e.content_type,
      failure_rate: null,
      cb_state: null,
      period_failure_rate: null,
      success_count: null,
      failure_count: null,
      retry_count: null,
      created_at: delivery ? '0001-01-01T00:00:00Z' : e.created_at,
      updated_at: delivery ? '0001-01-01T00:00:00Z' : e.updated_at,
      deleted_at: null,
    };
  }

  private subscriptionView(s: Row, as: 'create' | 'read'): Row {
    const endpoint = this.endpoints.get(s.endpoint_id);
    return {
      uid: s.uid,
      name: s.name,
      type: 'api',
      project_id: this.projectId,
      function: null,
      source_metadata: null,
      endpoint_metadata: as === 'create' || !endpoint ? null : this.endpointView(endpoint, 'write'),
      device_metadata: null,
      filter_config: {
        event_types: s.event_types,
        filter: { is_flattened: false, headers: {}, body: {}, query: {}, path: {}, ...s.filter },
      },
      delivery_mode: s.delivery_mode,
      created_at: s.created_at,
      updated_at: s.updated_at,
      deleted_at: null,
    };
  }

  private eventView(e: Row, as: 'list' | 'get'): Row {
    return {
      uid: e.uid,
      event_type: e.event_type,
      project_id: this.projectId,
      endpoints: e.endpoints,
      headers: e.headers,
      data: e.data,
      url_query_params: '',
      url_path: '',
      idempotency_key: e.idempotency_key,
      is_duplicate_event: e.is_duplicate_event,
      source_metadata: emptySource(),
      status: e.status,
      ...(as === 'list' ? { failure_reason: e.failure_reason } : {}),
      acknowledged_at: e.created_at,
      created_at: e.created_at,
      updated_at: e.updated_at,
      deleted_at: null,
    };
  }

  private deliveryView(d: Row): Row {
    const endpoint = this.endpoints.get(d.endpoint_id);
    const event = this.events.get(d.event_id);
    return {
      uid: d.uid,
      project_id: this.projectId,
      event_id: d.event_id,
      endpoint_id: d.endpoint_id,
      device_id: '',
      subscription_id: d.subscription_id,
      headers: d.headers,
      url_query_params: '',
      idempotency_key: d.idempotency_key,
      latency: '',
      latency_seconds: 0.01,
      event_type: d.event_type,
      ...(d.description ? { description: d.description } : {}),
      delivery_mode: d.delivery_mode,
      endpoint_metadata: endpoint ? this.endpointView(endpoint, 'delivery') : null,
      event_metadata: event
        ? {
            uid: event.uid,
            event_type: event.event_type,
            endpoints: null,
            headers: null,
            url_query_params: '',
            url_path: '',
            idempotency_key: '',
            is_duplicate_event: false,
            status: '',
            acknowledged_at: null,
            created_at: event.created_at,
            updated_at: '0001-01-01T00:00:00Z',
            deleted_at: null,
          }
        : null,
      source_metadata: emptySource(),
      device_metadata: {
        uid: '',
        last_seen_at: '0001-01-01T00:00:00Z',
        created_at: '0001-01-01T00:00:00Z',
        updated_at: '0001-01-01T00:00:00Z',
        deleted_at: null,
      },
      status: d.status,
      metadata: {
        data: d.data,
        raw: d.raw,
        strategy: 'linear',
        next_send_time: this.now(),
        num_trials: 1,
        interval_seconds: 100,
        retry_limit: 10,
        max_retry_seconds: 7200,
      },
      cli_metadata: null,
      acknowledged_at: d.created_at,
      created_at: d.created_at,
      updated_at: d.updated_at,
      deleted_at: null,
    };
  }

  /**
   * Convoy's cursor paging, as a real v26.6 does it: newest first by ULID; `next_page_cursor` is the uid of the
   * first item of the next page (inclusive), `prev_page_cursor` the uid of this page's first item.
   */
  private page(
    rows: Row[],
    r: RecordedRequest,
    view: (row: Row) => Row,
  ): { content: Row[]; pagination: Record<string, unknown> } {
    const perPage = Number(r.query.get('perPage')) || 20;
    const sorted = [...rows].sort((a, b) => (a.uid < b.uid ? 1 : -1));
    let content: Row[];
    if (r.query.get('direction') === 'prev' && r.query.get('prev_page_cursor')) {
      const cursor = r.query.get('prev_page_cursor')!;
      content = sorted.filter((x) => x.uid > cursor).slice(-perPage);
    } else {
      const cursor = r.query.get('direction') === 'next' ? r.query.get('next_page_cursor') : null;
      const start = cursor ? sorted.findIndex((x) => x.uid <= cursor) : 0;
      content = start < 0 ? [] : sorted.slice(start, start + perPage);
    }
    const after = content.length > 0 ? sorted[sorted.indexOf(content[content.length - 1]!) + 1] : undefined;
    return {
      content: content.map(view),
      pagination: {
        per_page: perPage,
        has_next_page: after !== undefined,
        has_prev_page: content.length > 0 && sorted.indexOf(content[0]!) > 0,
        prev_page_cursor: content[0]?.uid ?? '',
        next_page_cursor: after?.uid ?? content[content.length - 1]?.uid ?? '',
      },
    };
  }
}

function statusMessage(status: number): string {
  if (status === 429) return 'exceeded rate limit';
  if (status >= 500) return 'internal server error';
  return 'request failed';
}

/** The empty source Convoy attaches to an outgoing project's events and deliveries. */
function emptySource(): Row {
  return {
    uid: '',
    project_id: '',
    mask_id: '',
    name: '',
    url: '',
    type: '',
    provider: '',
    is_disabled: false,
    verifier: null,
    custom_response: { body: '', content_type: '' },
    provider_config: null,
    forward_headers: null,
    pub_sub: null,
    idempotency_keys: null,
    event_type_location: '',
    body_function: null,
    header_function: null,
    created_at: '0001-01-01T00:00:00Z',
    updated_at: '0001-01-01T00:00:00Z',
    deleted_at: null,
  } as Row;
}

/** Tiny $eq-only body filter, enough to exercise test_filter. */
function matches(schema: Record<string, unknown>, body: Record<string, unknown>): boolean {
  return Object.entries(schema).every(([k, v]) => JSON.stringify(body[k]) === JSON.stringify(v));
}
