import { Get, Inject, NotFoundException, Param, Post, Req, Res } from '@nestjs/common';
import type { ConvoyEventDelivery, EventDeliveryFilterQuery, Page } from '../client/convoy.types.js';
import { ConvoyError } from '../errors/convoy.error.js';
import { InvalidEndpointError, WebhookNotFoundError, WebhookStateError } from '../errors/endpoint.errors.js';
import { WebhookValidationError } from '../errors/publish.errors.js';
import { WebhookDeliveries } from '../management/webhook-deliveries.js';
import { WebhookEndpoints } from '../management/webhook-endpoints.js';
import type { WebhookEndpoint, WebhookEndpointInput } from '../management/webhook-management.types.js';
import { WebhookOutbox } from '../management/webhook-outbox.js';
import { WebhookPublisher } from '../publishing/webhook-publisher.js';
import type { Html } from '../ui/html.js';
import { renderPage } from '../ui/page.js';
import { applySecurityHeaders } from '../ui/security.js';
import { DASHBOARD_SCRIPT, DASHBOARD_STYLESHEET } from './dashboard-assets.js';
import {
  DashboardSessions,
  redirect,
  sendHtml,
  type DashboardRequest,
  type DashboardResponse,
} from './dashboard-http.js';
import {
  DashboardInputError,
  eventTypes,
  FIELD_LIMITS,
  integer,
  list,
  pageSize,
  status,
  text,
  utcDate,
} from './dashboard-input.js';
import { DASHBOARD_CONFIG, type DashboardConfig } from './dashboard.options.js';
import {
  confirmDeletePage,
  deliveriesPage,
  deliveryPage,
  endpointForm,
  endpointPage,
  endpointsPage,
  endpointValues,
  healthPage,
  secretOncePage,
  summarize,
  type DeliveryFilters,
  type EndpointFormValues,
  type Link,
} from './dashboard-views.js';

/** Messages after a redirect, by code: the query names one, never the text (no one can put words on the page). */
const DONE: Record<string, string> = {
  saved: 'Endpoint saved.',
  paused: 'Endpoint paused: its deliveries wait until it is activated.',
  activated: 'Endpoint activated.',
  deleted: 'Endpoint deleted.',
  test: 'Test event sent to the endpoint: its delivery is listed below.',
  resent: 'Delivery resent.',
  retried: 'The failed deliveries matching the filters are being retried.',
};

/** Deliveries the health page reads to count the last hour (the log has no counts per minute on Convoy). */
const HOUR_SAMPLE = 1_000;
/** Endpoints listed in the deliveries filter and read for names. */
const ENDPOINT_CHOICES = 100;

type Notice = { kind: 'ok' | 'bad' | 'warn'; text: string };

/**
 * The operator dashboard's routes, mounted at the app's chosen path by ConvoyDashboardModule (which adds the guard).
 * Everything goes through the management API, so the pages are the same on Convoy and on the embedded engine.
 */
export class DashboardController {
  private readonly sessions: DashboardSessions;

  constructor(
    @Inject(DASHBOARD_CONFIG) private readonly config: DashboardConfig,
    @Inject(WebhookEndpoints) private readonly endpoints: WebhookEndpoints,
    @Inject(WebhookDeliveries) private readonly deliveries: WebhookDeliveries,
    @Inject(WebhookOutbox) private readonly outbox: WebhookOutbox,
    @Inject(WebhookPublisher) private readonly publisher: WebhookPublisher,
  ) {
    this.sessions = new DashboardSessions(config.csrfKey, config.base);
  }

  // ---------------------------------------------------------------------------------------------- assets

  @Get('assets/ui.css')
  stylesheet(@Res() res: DashboardResponse): void {
    this.asset(res, 'text/css; charset=utf-8', DASHBOARD_STYLESHEET);
  }

  @Get('assets/ui.js')
  script(@Res() res: DashboardResponse): void {
    this.asset(res, 'text/javascript; charset=utf-8', DASHBOARD_SCRIPT);
  }

  // ---------------------------------------------------------------------------------------------- endpoints

  @Get()
  home(@Res() res: DashboardResponse): void {
    redirect(res, this.link('endpoints'));
  }

  @Get('endpoints')
  async listEndpoints(@Req() req: DashboardRequest, @Res() res: DashboardResponse): Promise<void> {
    this.sessions.open(req, res);
    let query = { q: '', owner: '', cursor: '', perPage: '20' };
    try {
      query = {
        q: text(req.query, 'q', FIELD_LIMITS.search, 'Name'),
        owner: text(req.query, 'owner', FIELD_LIMITS.ownerId, 'Owner'),
        cursor: text(req.query, 'cursor', FIELD_LIMITS.cursor, 'Cursor'),
        perPage: String(pageSize(req.query)),
      };
      const page = await this.endpoints.list({
        perPage: Number(query.perPage),
        ...(query.q ? { q: query.q } : {}),
        ...(query.owner ? { ownerId: query.owner } : {}),
        ...(query.cursor ? { next_page_cursor: query.cursor } : {}),
      });
      this.page(res, 200, 'Endpoints', 'endpoints', endpointsPage(this.link, page, query), this.done(req), true);
    } catch (error) {
      const { code, notice } = refusal(error);
      this.page(res, code, 'Endpoints', 'endpoints', endpointsPage(this.link, emptyPage(), query), notice);
    }
  }

  @Get('endpoints/new')
  newEndpoint(@Req() req: DashboardRequest, @Res() res: DashboardResponse): void {
    const csrf = this.sessions.open(req, res);
    this.page(
      res,
      200,
      'New endpoint',
      'endpoints',
      endpointForm(this.link, csrf, 'endpoints', {}, 'Create endpoint', true),
    );
  }

  @Post('endpoints')
  async createEndpoint(@Req() req: DashboardRequest, @Res() res: DashboardResponse): Promise<void> {
    this.sessions.check(req);
    const csrf = this.sessions.open(req, res);
    const body = formBody(req);
    try {
      const input = endpointInput(body, true);
      const created = await this.endpoints.create(input);
      const secret = currentSecret(created);
      this.page(
        res,
        201,
        'Endpoint created',
        'endpoints',
        secretOncePage(this.link, created, secret, `The endpoint ${created.name || created.uid} was created.`),
      );
    } catch (error) {
      const { code, notice } = refusal(error);
      this.page(
        res,
        code,
        'New endpoint',
        'endpoints',
        endpointForm(this.link, csrf, 'endpoints', formValues(body), 'Create endpoint', true),
        notice,
      );
    }
  }

  @Get('endpoints/:id')
  async showEndpoint(
    @Param('id') id: string,
    @Req() req: DashboardRequest,
    @Res() res: DashboardResponse,
  ): Promise<void> {
    const csrf = this.sessions.open(req, res);
    const endpoint = await this.findEndpoint(id);
    this.endpointView(res, csrf, endpoint, endpointValues(endpoint), 200, this.done(req));
  }

  @Post('endpoints/:id')
  async updateEndpoint(
    @Param('id') id: string,
    @Req() req: DashboardRequest,
    @Res() res: DashboardResponse,
  ): Promise<void> {
    this.sessions.check(req);
    const csrf = this.sessions.open(req, res);
    const body = formBody(req);
    try {
      await this.endpoints.update(id, endpointInput(body, false));
      redirect(res, this.link(`endpoints/${encodeURIComponent(id)}`, { done: 'saved' }));
    } catch (error) {
      const { code, notice } = refusal(error, 'not-found');
      const endpoint = await this.findEndpoint(id);
      this.endpointView(res, csrf, endpoint, formValues(body), code, notice);
    }
  }

  @Post('endpoints/:id/pause')
  pause(@Param('id') id: string, @Req() req: DashboardRequest, @Res() res: DashboardResponse): Promise<void> {
    return this.endpointAction(id, req, res, 'paused', () => this.endpoints.pause(id));
  }

  @Post('endpoints/:id/activate')
  activate(@Param('id') id: string, @Req() req: DashboardRequest, @Res() res: DashboardResponse): Promise<void> {
    return this.endpointAction(id, req, res, 'activated', () => this.endpoints.activate(id));
  }

  @Post('endpoints/:id/test')
  async sendTest(@Param('id') id: string, @Req() req: DashboardRequest, @Res() res: DashboardResponse): Promise<void> {
    this.sessions.check(req);
    const csrf = this.sessions.open(req, res);
    const endpoint = await this.findEndpoint(id);
    try {
      await this.publisher.publish(
        'webhook.test',
        {
          message: 'A test event sent from the webhooks dashboard',
          endpoint_id: endpoint.uid,
          sent_at: new Date().toISOString(),
        },
        { endpointId: endpoint.uid },
      );
      redirect(res, this.link('deliveries', { endpointId: endpoint.uid, done: 'test' }));
    } catch (error) {
      const { code, notice } = refusal(error);
      this.endpointView(res, csrf, endpoint, endpointValues(endpoint), code, notice);
    }
  }

  @Get('endpoints/:id/delete')
  async confirmDelete(
    @Param('id') id: string,
    @Req() req: DashboardRequest,
    @Res() res: DashboardResponse,
  ): Promise<void> {
    const csrf = this.sessions.open(req, res);
    const endpoint = await this.findEndpoint(id);
    this.page(res, 200, 'Delete endpoint', 'endpoints', confirmDeletePage(this.link, csrf, endpoint));
  }

  @Post('endpoints/:id/delete')
  async deleteEndpoint(
    @Param('id') id: string,
    @Req() req: DashboardRequest,
    @Res() res: DashboardResponse,
  ): Promise<void> {
    this.sessions.check(req);
    if (text(formBody(req), 'confirm', 10) !== 'yes') {
      redirect(res, this.link(`endpoints/${encodeURIComponent(id)}/delete`));
      return;
    }
    await this.endpointAction(id, req, res, 'deleted', () => this.endpoints.delete(id), true);
  }

  @Post('endpoints/:id/rotate')
  async rotateSecret(
    @Param('id') id: string,
    @Req() req: DashboardRequest,
    @Res() res: DashboardResponse,
  ): Promise<void> {
    this.sessions.check(req);
    const csrf = this.sessions.open(req, res);
    try {
      const expiration = integer(formBody(req), 'expiration', 60, 30 * 86_400, 86_400, 'Expiration');
      const rotated = await this.endpoints.expireSecret(id, { expiration });
      const until = new Date(Date.now() + expiration * 1_000).toISOString().replace('T', ' ').slice(0, 16);
      this.page(
        res,
        200,
        'Secret rotated',
        'endpoints',
        secretOncePage(
          this.link,
          rotated,
          currentSecret(rotated),
          `A new secret signs from now on; the previous one keeps signing until ${until} UTC.`,
        ),
      );
    } catch (error) {
      const { code, notice } = refusal(error, 'not-found');
      const endpoint = await this.findEndpoint(id);
      this.endpointView(res, csrf, endpoint, endpointValues(endpoint), code, notice);
    }
  }

  // ---------------------------------------------------------------------------------------------- deliveries

  @Get('deliveries')
  async listDeliveries(@Req() req: DashboardRequest, @Res() res: DashboardResponse): Promise<void> {
    const csrf = this.sessions.open(req, res);
    let filters: DeliveryFilters = {
      eventType: '',
      endpointId: '',
      status: '',
      owner: '',
      from: '',
      to: '',
      perPage: '20',
      cursor: '',
    };
    let choices: WebhookEndpoint[] = [];
    try {
      choices = (await this.endpoints.list({ perPage: ENDPOINT_CHOICES })).content;
      filters = readFilters(req.query);
      const page = await this.findDeliveries(filters);
      this.page(
        res,
        200,
        'Deliveries',
        'deliveries',
        deliveriesPage(this.link, csrf, filters, page, choices),
        this.done(req),
        true,
      );
    } catch (error) {
      const { code, notice } = refusal(error);
      this.page(
        res,
        code,
        'Deliveries',
        'deliveries',
        deliveriesPage(this.link, csrf, filters, emptyPage(), choices),
        notice,
      );
    }
  }

  @Post('deliveries/batch-retry')
  async batchRetry(@Req() req: DashboardRequest, @Res() res: DashboardResponse): Promise<void> {
    this.sessions.check(req);
    const csrf = this.sessions.open(req, res);
    const body = formBody(req);
    let filters = readFilters({});
    try {
      filters = readFilters(body);
      const query = await this.deliveryQuery(filters);
      if (query) await this.deliveries.batchRetry(query);
      const { perPage: _p, cursor: _c, ...kept } = filters;
      redirect(res, this.link('deliveries', { ...nonEmpty(kept), done: 'retried' }));
    } catch (error) {
      const { code, notice } = refusal(error);
      const choices = (await this.endpoints.list({ perPage: ENDPOINT_CHOICES })).content;
      this.page(
        res,
        code,
        'Deliveries',
        'deliveries',
        deliveriesPage(this.link, csrf, filters, emptyPage(), choices),
        notice,
      );
    }
  }

  @Get('deliveries/:id')
  async showDelivery(
    @Param('id') id: string,
    @Req() req: DashboardRequest,
    @Res() res: DashboardResponse,
  ): Promise<void> {
    const csrf = this.sessions.open(req, res);
    await this.deliveryView(res, csrf, id, 200, this.done(req));
  }

  @Post('deliveries/:id/resend')
  async resend(@Param('id') id: string, @Req() req: DashboardRequest, @Res() res: DashboardResponse): Promise<void> {
    this.sessions.check(req);
    const csrf = this.sessions.open(req, res);
    try {
      await this.deliveries.resend(id);
      redirect(res, this.link(`deliveries/${encodeURIComponent(id)}`, { done: 'resent' }));
    } catch (error) {
      const { code, notice } = refusal(error, 'not-found');
      await this.deliveryView(res, csrf, id, code, notice);
    }
  }

  // ---------------------------------------------------------------------------------------------- health

  @Get('health')
  async health(@Req() req: DashboardRequest, @Res() res: DashboardResponse): Promise<void> {
    const csrf = this.sessions.open(req, res);
    const requeued = text(req.query, 'requeued', 6);
    const notice: Notice | undefined = /^\d+$/.test(requeued)
      ? { kind: 'ok', text: `${requeued} dead letter${requeued === '1' ? '' : 's'} requeued.` }
      : undefined;
    await this.healthView(res, csrf, 200, notice);
  }

  @Post('health/requeue')
  async requeue(@Req() req: DashboardRequest, @Res() res: DashboardResponse): Promise<void> {
    this.sessions.check(req);
    const csrf = this.sessions.open(req, res);
    try {
      const ids = list(formBody(req), 'id', FIELD_LIMITS.id, 100);
      if (ids.length === 0) throw new DashboardInputError('Select at least one dead letter to requeue');
      const count = await this.outbox.requeue(ids);
      redirect(res, this.link('health', { requeued: String(count) }));
    } catch (error) {
      const { code, notice } = refusal(error);
      await this.healthView(res, csrf, code, notice);
    }
  }

  // ---------------------------------------------------------------------------------------------- helpers

  /** `<base>/<path>?<query>` with empty values left out. */
  private readonly link: Link = (path, query = {}) => {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v) params.set(k, v);
    const search = params.toString();
    return `${this.config.base}/${path}${search ? `?${search}` : ''}`;
  };

  private page(
    res: DashboardResponse,
    code: number,
    title: string,
    section: 'endpoints' | 'deliveries' | 'health',
    body: Html,
    notice?: Notice,
    live = false,
  ): void {
    const nav = (['endpoints', 'deliveries', 'health'] as const).map((s) => ({
      href: this.link(s),
      label: s[0]!.toUpperCase() + s.slice(1),
      current: s === section,
    }));
    sendHtml(
      res,
      code,
      renderPage({ title, brand: this.config.title, assetsPath: this.config.base, nav, body, script: live, notice }),
    );
  }

  private asset(res: DashboardResponse, type: string, content: string): void {
    applySecurityHeaders(res);
    res.header('content-type', type);
    res.status(200);
    res.send(content);
  }

  private done(req: DashboardRequest): Notice | undefined {
    const code = typeof req.query.done === 'string' ? req.query.done : '';
    return Object.hasOwn(DONE, code) ? { kind: 'ok', text: DONE[code]! } : undefined;
  }

  private async findEndpoint(id: string): Promise<WebhookEndpoint> {
    if (id.length > FIELD_LIMITS.id) throw new NotFoundException('No such endpoint');
    try {
      return await this.endpoints.get(id);
    } catch (error) {
      throw notFound(error);
    }
  }

  private endpointView(
    res: DashboardResponse,
    csrf: string,
    endpoint: WebhookEndpoint,
    values: EndpointFormValues,
    code: number,
    notice?: Notice,
  ): void {
    const form = endpointForm(this.link, csrf, `endpoints/${encodeURIComponent(endpoint.uid)}`, values, 'Save', false);
    this.page(
      res,
      code,
      endpoint.name || 'Endpoint',
      'endpoints',
      endpointPage(this.link, csrf, endpoint, form),
      notice,
      true,
    );
  }

  private async endpointAction(
    id: string,
    req: DashboardRequest,
    res: DashboardResponse,
    done: string,
    action: () => Promise<unknown>,
    toList = false,
  ): Promise<void> {
    this.sessions.check(req);
    const csrf = this.sessions.open(req, res);
    try {
      await action();
      redirect(res, this.link(toList ? 'endpoints' : `endpoints/${encodeURIComponent(id)}`, { done }));
    } catch (error) {
      const { code, notice } = refusal(error, 'not-found');
      const endpoint = await this.findEndpoint(id);
      this.endpointView(res, csrf, endpoint, endpointValues(endpoint), code, notice);
    }
  }

  private async deliveryView(
    res: DashboardResponse,
    csrf: string,
    id: string,
    code: number,
    notice?: Notice,
  ): Promise<void> {
    if (id.length > FIELD_LIMITS.id) throw new NotFoundException('No such delivery');
    let delivery: ConvoyEventDelivery;
    try {
      delivery = await this.deliveries.get(id);
    } catch (error) {
      throw notFound(error);
    }
    const attempts = await this.deliveries.attempts(id);
    const endpoint = delivery.endpoint_id
      ? await this.endpoints.get(delivery.endpoint_id).catch(() => undefined)
      : undefined;
    this.page(
      res,
      code,
      `Delivery of ${delivery.event_type}`,
      'deliveries',
      deliveryPage(this.link, csrf, delivery, attempts, endpoint),
      notice,
      true,
    );
  }

  /** The list query of the filters; undefined when the owner has no endpoint (so nothing can match). */
  private async deliveryQuery(filters: DeliveryFilters): Promise<EventDeliveryFilterQuery | undefined> {
    let endpointIds = filters.endpointId ? [filters.endpointId] : undefined;
    if (filters.owner) {
      const owned: string[] = [];
      for await (const e of this.endpoints.iterate({ ownerId: filters.owner, perPage: 100 })) {
        owned.push(e.uid);
        if (owned.length >= 500) break;
      }
      endpointIds = endpointIds ? endpointIds.filter((id) => owned.includes(id)) : owned;
      if (endpointIds.length === 0) return undefined;
    }
    const from = utcDate({ ...filters }, 'from', 'From');
    const to = utcDate({ ...filters }, 'to', 'To');
    return {
      ...(filters.eventType ? { eventType: filters.eventType } : {}),
      ...(filters.status
        ? { status: [filters.status as NonNullable<EventDeliveryFilterQuery['status']>[number]] }
        : {}),
      ...(endpointIds ? { endpointId: endpointIds } : {}),
      ...(from ? { startDate: from } : {}),
      ...(to ? { endDate: to } : {}),
    };
  }

  private async findDeliveries(filters: DeliveryFilters): Promise<Page<ConvoyEventDelivery>> {
    const query = await this.deliveryQuery(filters);
    if (!query) return emptyPage();
    return this.deliveries.list({
      ...query,
      perPage: Number(filters.perPage),
      ...(filters.cursor ? { next_page_cursor: filters.cursor } : {}),
    });
  }

  private async healthView(res: DashboardResponse, csrf: string, code: number, notice?: Notice): Promise<void> {
    const now = Date.now();
    const since = new Date(now - 3_600_000).toISOString().slice(0, 19);
    const [stats, dead, choices] = await Promise.all([
      this.publisher.stats(),
      this.outbox.deadLetters({ limit: 50 }),
      this.endpoints.list({ perPage: ENDPOINT_CHOICES }).catch(() => emptyPage<WebhookEndpoint>()),
    ]);
    const recent: ConvoyEventDelivery[] = [];
    let capped = false;
    try {
      for await (const d of this.deliveries.iterate({ startDate: since, perPage: 100 })) {
        if (recent.length >= HOUR_SAMPLE) {
          capped = true;
          break;
        }
        recent.push(d);
      }
    } catch (error) {
      notice ??= refusal(error).notice;
    }
    const names = new Map(choices.content.map((e) => [e.uid, e.name || e.url]));
    const summary = summarize(recent, now, capped, names);
    this.page(
      res,
      code,
      'Health',
      'health',
      healthPage(this.link, csrf, stats, summary, dead.items, dead.next_cursor !== undefined),
      notice,
      true,
    );
  }
}

function formBody(req: DashboardRequest): Record<string, unknown> {
  if (typeof req.body !== 'object' || req.body === null) return {};
  return req.body as Record<string, unknown>;
}

function readFilters(source: Record<string, unknown>): DeliveryFilters {
  return {
    eventType: text(source, 'eventType', FIELD_LIMITS.eventType, 'Event type'),
    endpointId: text(source, 'endpointId', FIELD_LIMITS.id, 'Endpoint'),
    status: status(source) ?? '',
    owner: text(source, 'owner', FIELD_LIMITS.ownerId, 'Owner'),
    from: text(source, 'from', FIELD_LIMITS.date, 'From'),
    to: text(source, 'to', FIELD_LIMITS.date, 'To'),
    perPage: String(pageSize(source)),
    cursor: text(source, 'cursor', FIELD_LIMITS.cursor, 'Cursor'),
  };
}

function nonEmpty(values: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== ''));
}

function endpointInput(body: Record<string, unknown>, creating: boolean): WebhookEndpointInput {
  const url = text(body, 'url', FIELD_LIMITS.url, 'URL');
  if (!url) throw new DashboardInputError('URL is required');
  const input: WebhookEndpointInput = {
    url,
    name: text(body, 'name', FIELD_LIMITS.name, 'Name') || undefined,
    description: text(body, 'description', FIELD_LIMITS.description, 'Description'),
    owner_id: text(body, 'owner_id', FIELD_LIMITS.ownerId, 'Owner id'),
  };
  const types = eventTypes(body);
  if (types || !creating) input.event_types = types ?? ['*'];
  const timeout = integer(body, 'http_timeout', 1, 300, 0, 'Timeout');
  if (timeout) input.http_timeout = timeout;
  if (creating) {
    const secret = text(body, 'secret', FIELD_LIMITS.secret, 'Secret');
    if (secret) input.secret = secret;
  }
  if (!input.name) delete input.name;
  return input;
}

function formValues(body: Record<string, unknown>): EndpointFormValues {
  const get = (name: string): string => (typeof body[name] === 'string' ? (body[name] as string).slice(0, 2_048) : '');
  return {
    url: get('url'),
    name: get('name'),
    description: get('description'),
    owner_id: get('owner_id'),
    event_types: get('event_types'),
    http_timeout: get('http_timeout'),
  };
}

/** The secret that signs now (the newest without an expiry): shown once after creation or rotation. */
function currentSecret(endpoint: WebhookEndpoint): string | undefined {
  const current = (endpoint.secrets ?? []).filter((s) => s.expires_at === null);
  return current[current.length - 1]?.value;
}

/**
 * How a refused action is shown: the page again, with this status and notice. Errors that are not the management
 * API's or the form's go on to the exception filter (a 500, logged); with 'not-found', a record that does not exist
 * (any more) gives the 404 page instead of a notice.
 */
function refusal(error: unknown, missing: 'notice' | 'not-found' = 'notice'): { code: number; notice: Notice } {
  if (missing === 'not-found' && error instanceof WebhookNotFoundError) throw notFound(error);
  if (!(error instanceof ConvoyError || error instanceof DashboardInputError)) throw error;
  return { code: statusOf(error), notice: { kind: 'bad', text: error.message } };
}

/** A record that does not exist as the 404 page; any other error as it is. */
function notFound(error: unknown): unknown {
  return error instanceof WebhookNotFoundError ? new NotFoundException(error.message) : error;
}

function statusOf(error: Error): number {
  if (error instanceof DashboardInputError) return 400;
  if (error instanceof WebhookNotFoundError) return 404;
  if (error instanceof WebhookStateError) return 409;
  if (error instanceof InvalidEndpointError || error instanceof WebhookValidationError) return 400;
  return 502;
}

function emptyPage<T = ConvoyEventDelivery>(): Page<T> {
  return {
    content: [],
    pagination: {
      per_page: 20,
      has_next_page: false,
      has_prev_page: false,
      next_page_cursor: '',
      prev_page_cursor: '',
    },
  };
}
