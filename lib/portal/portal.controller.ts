import { All, Get, Inject, Logger, Post, Req, Res } from '@nestjs/common';
import type { ConvoyEventDelivery, EventDeliveryStatus } from '../client/convoy.types.js';
import type { WebhookEventCatalog } from '../catalog/webhook-events.js';
import { CONVOY_OPTIONS } from '../convoy.constants.js';
import { InvalidEndpointError, WebhookNotFoundError, WebhookStateError } from '../errors/endpoint.errors.js';
import { WebhookValidationError } from '../errors/publish.errors.js';
import { WebhookDeliveries } from '../management/webhook-deliveries.js';
import { WebhookEndpoints } from '../management/webhook-endpoints.js';
import type { ResolvedConvoyOptions } from '../options/convoy-module-options.js';
import { WebhookPublisher } from '../publishing/webhook-publisher.js';
import { applySecurityHeaders, isCrossSite } from '../ui/security.js';
import { UI_STYLESHEET } from '../ui/stylesheet.js';
import { DELIVERY_STATUSES, OwnerScope, type EndpointForm } from './owner-scope.js';
import {
  deliveriesPage,
  deliveryPage,
  endpointPage,
  endpointsPage,
  errorPage,
  eventTypesPage,
  landingPage,
  newEndpointPage,
  refusalPage,
  secretPage,
  type Notice,
  type PageContext,
} from './portal.pages.js';
import { WebhookPortal, type PortalSession } from './webhook-portal.js';

/** The request and response members the portal uses, the same on Express and Fastify. */
interface PortalRequest {
  method: string;
  url: string;
  originalUrl?: string;
  headers: Record<string, string | string[] | undefined>;
  query: Record<string, unknown>;
  params: Record<string, string>;
  body?: unknown;
  secure?: boolean;
  protocol?: string;
}
interface PortalResponse {
  header(name: string, value: string): unknown;
  status(code: number): unknown;
  send(body?: string): unknown;
}

export const SESSION_COOKIE = 'convoy_portal';

const NOTICES: Record<string, Notice> = {
  saved: { kind: 'ok', text: 'Saved.' },
  paused: { kind: 'ok', text: 'The endpoint is paused: deliveries wait until you activate it.' },
  activated: { kind: 'ok', text: 'The endpoint is active.' },
  deleted: { kind: 'ok', text: 'The endpoint was deleted.' },
  tested: { kind: 'ok', text: 'A test event is on its way.' },
  resent: { kind: 'ok', text: 'The delivery is being sent again.' },
  retried: { kind: 'ok', text: 'Failed deliveries are being sent again.' },
};

class PortalError extends Error {
  constructor(
    readonly status: number,
    readonly heading: string,
    readonly text: string,
  ) {
    super(text);
  }
}

/**
 * The customer portal's pages, mounted at the module's path (controllerAt). Every route but the stylesheet checks
 * the portal token (the link's, then the session cookie's) before it reads anything; every POST also refuses a
 * cross-site request and a missing or wrong CSRF token; every answer has the security headers.
 */
export class PortalController {
  private readonly logger = new Logger('WebhookPortal');

  constructor(
    @Inject(WebhookPortal) private readonly portal: WebhookPortal,
    @Inject(WebhookEndpoints) private readonly endpoints: WebhookEndpoints,
    @Inject(WebhookDeliveries) private readonly deliveries: WebhookDeliveries,
    @Inject(WebhookPublisher) private readonly publisher: WebhookPublisher,
    @Inject(CONVOY_OPTIONS) private readonly convoyOptions: ResolvedConvoyOptions,
  ) {}

  private get catalog(): WebhookEventCatalog | undefined {
    return this.convoyOptions.events;
  }

  @Get('assets/ui.css')
  stylesheet(@Res() res: PortalResponse): void {
    applySecurityHeaders(res);
    res.header('content-type', 'text/css; charset=utf-8');
    res.header('cache-control', 'public, max-age=3600');
    res.status(200);
    res.send(UI_STYLESHEET);
  }

  @Get()
  async home(@Req() req: PortalRequest, @Res() res: PortalResponse): Promise<void> {
    if (req.query.token !== undefined) return this.land(req, res);
    await this.run(req, res, async (ctx, scope) => endpointsPage(ctx, await scope.endpoints(), notice(req)));
  }

  @Get('endpoints/new')
  async newEndpoint(@Req() req: PortalRequest, @Res() res: PortalResponse): Promise<void> {
    await this.run(req, res, (ctx) => Promise.resolve(newEndpointPage(ctx, this.catalog)));
  }

  @Post('endpoints')
  async create(@Req() req: PortalRequest, @Res() res: PortalResponse): Promise<void> {
    await this.run(req, res, async (ctx, scope) => {
      const values = endpointForm(req.body);
      try {
        const { endpoint, secret } = await scope.create(checked(values));
        return secretPage(ctx, endpoint, secret, false);
      } catch (error) {
        if (!(error instanceof InvalidEndpointError)) throw error;
        res.status(400);
        return newEndpointPage(ctx, this.catalog, values, error.message);
      }
    });
  }

  @Get('endpoints/:id')
  async endpoint(@Req() req: PortalRequest, @Res() res: PortalResponse): Promise<void> {
    await this.run(req, res, async (ctx, scope) => {
      const endpoint = await scope.endpoint(req.params.id!);
      const recent = await scope.deliveries({ endpointId: endpoint.uid, perPage: 10 });
      return endpointPage(ctx, this.catalog, endpoint, recent.content, {
        canTest: this.portal.options.testEvent !== false,
        notice: notice(req),
      });
    });
  }

  @Post('endpoints/:id')
  async update(@Req() req: PortalRequest, @Res() res: PortalResponse): Promise<void> {
    await this.run(req, res, async (ctx, scope) => {
      const id = req.params.id!;
      const values = endpointForm(req.body);
      try {
        await scope.update(id, checked(values));
        return redirect(`${ctx.base}/endpoints/${encodeURIComponent(id)}?done=saved`);
      } catch (error) {
        if (!(error instanceof InvalidEndpointError)) throw error;
        const endpoint = await scope.endpoint(id);
        res.status(400);
        return endpointPage(ctx, this.catalog, endpoint, [], {
          canTest: this.portal.options.testEvent !== false,
          notice: { kind: 'bad', text: error.message },
          values,
        });
      }
    });
  }

  @Post('endpoints/:id/:action')
  async endpointAction(@Req() req: PortalRequest, @Res() res: PortalResponse): Promise<void> {
    await this.run(req, res, async (ctx, scope) => {
      const id = req.params.id!;
      const back = (done: string) => redirect(`${ctx.base}/endpoints/${encodeURIComponent(id)}?done=${done}`);
      switch (req.params.action) {
        case 'pause':
          await scope.pause(id);
          return back('paused');
        case 'activate':
          await scope.activate(id);
          return back('activated');
        case 'delete':
          await scope.delete(id);
          return redirect(`${ctx.base}?done=deleted`);
        case 'rotate': {
          const keep = Number(field(req.body, 'keep', 10));
          const seconds = [0, 3600, 86400].includes(keep) ? keep : 3600;
          const { endpoint, secret } = await scope.rotate(id, seconds);
          return secretPage(ctx, endpoint, secret, true);
        }
        case 'test': {
          const event = this.portal.options.testEvent;
          if (event === false) throw new PortalError(404, 'Not found', 'There is no such page here.');
          await scope.sendTest(id, event);
          return back('tested');
        }
        default:
          throw new PortalError(404, 'Not found', 'There is no such page here.');
      }
    });
  }

  @Get('deliveries')
  async deliveryList(@Req() req: PortalRequest, @Res() res: PortalResponse): Promise<void> {
    await this.run(req, res, async (ctx, scope) => {
      const endpointId = optional(req.query.endpoint, 128);
      const statusText = optional(req.query.status, 20);
      const status = DELIVERY_STATUSES.find((s) => s === statusText) as EventDeliveryStatus | undefined;
      const cursor = optional(req.query.cursor, 200);
      const [endpoints, page] = await Promise.all([
        scope.endpoints(),
        scope.deliveries({ endpointId, status, cursor }),
      ]);
      return deliveriesPage(ctx, endpoints, page, { endpointId, status }, notice(req));
    });
  }

  @Post('deliveries/retry-failures')
  async retryFailures(@Req() req: PortalRequest, @Res() res: PortalResponse): Promise<void> {
    await this.run(req, res, async (ctx, scope) => {
      await scope.retryFailures();
      return redirect(`${ctx.base}/deliveries?done=retried`);
    });
  }

  @Get('deliveries/:id')
  async delivery(@Req() req: PortalRequest, @Res() res: PortalResponse): Promise<void> {
    await this.run(req, res, async (ctx, scope) => {
      const { delivery, endpoint } = await scope.delivery(req.params.id!);
      const attempts = await scope.attempts(delivery.uid);
      return deliveryPage(ctx, delivery, endpoint, attempts, notice(req));
    });
  }

  @Post('deliveries/:id/resend')
  async resend(@Req() req: PortalRequest, @Res() res: PortalResponse): Promise<void> {
    await this.run(req, res, async (ctx, scope) => {
      const id = req.params.id!;
      let resent: ConvoyEventDelivery;
      try {
        resent = await scope.resend(id);
      } catch (error) {
        if (!(error instanceof WebhookStateError)) throw error;
        const { delivery, endpoint } = await scope.delivery(id);
        res.status(409);
        return deliveryPage(ctx, delivery, endpoint, await scope.attempts(id), { kind: 'bad', text: error.message });
      }
      return redirect(`${ctx.base}/deliveries/${encodeURIComponent(resent.uid || id)}?done=resent`);
    });
  }

  @Get('events')
  async eventTypes(@Req() req: PortalRequest, @Res() res: PortalResponse): Promise<void> {
    await this.run(req, res, (ctx) => Promise.resolve(eventTypesPage(ctx, this.catalog)));
  }

  @Post('logout')
  async logout(@Req() req: PortalRequest, @Res() res: PortalResponse): Promise<void> {
    await this.run(req, res, (ctx) => {
      res.header('set-cookie', clearCookie(ctx.base));
      return Promise.resolve(
        refusalPage(ctx.base, ctx.title, 'Signed out', 'Open your portal link again to come back.'),
      );
    });
  }

  /**
   * Anything else under the path: a 404 page, with the security headers. Routed at startup by routeNotFound(), in
   * the syntax of the app's HTTP adapter.
   */
  async notFound(@Req() req: PortalRequest, @Res() res: PortalResponse): Promise<void> {
    await this.run(req, res, () => Promise.reject(new PortalError(404, 'Not found', 'There is no such page here.')));
  }

  /** A link's first visit: its token becomes the session cookie, then the portal opens without it in the URL. */
  private land(req: PortalRequest, res: PortalResponse): void {
    applySecurityHeaders(res);
    const base = this.mountBase(req);
    const session = this.portal.verify(req.query.token);
    if (typeof session === 'string') return this.refuse(res, base, session);
    const maxAge = Math.max(0, session.exp - Math.floor(Date.now() / 1000));
    res.header('set-cookie', sessionCookie(base, session.token, maxAge, this.isHttps(req)));
    this.send(res, 200, landingPage(base, this.portal.options.title));
  }

  /** Checks the session (and, for a POST, the origin and the CSRF token), then renders what `handle` returns. */
  private async run(
    req: PortalRequest,
    res: PortalResponse,
    handle: (ctx: PageContext, scope: OwnerScope) => Promise<string | Redirect>,
  ): Promise<void> {
    applySecurityHeaders(res);
    const base = this.mountBase(req);
    const token = readCookie(req.headers.cookie, SESSION_COOKIE);
    const session = token === undefined ? 'missing' : this.portal.verify(token);
    if (typeof session === 'string') return this.refuse(res, base, session);
    const ctx: PageContext = {
      base,
      title: this.portal.options.title,
      csrf: this.portal.csrf.issue(session.token),
      owner: session.owner,
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      const refusal = this.checkPost(req, session);
      if (refusal) return this.send(res, 403, errorPage(ctx, 'Request refused', refusal));
      const waitMs = this.portal.actions?.take(session.owner) ?? 0;
      if (waitMs > 0) {
        const seconds = Math.ceil(waitMs / 1000);
        res.header('retry-after', String(seconds));
        const text = `You have made many changes in a short time. Try again in ${seconds} second${seconds === 1 ? '' : 's'}.`;
        return this.send(res, 429, errorPage(ctx, 'Too many changes', text));
      }
    }
    const scope = new OwnerScope(session.owner, this.endpoints, this.deliveries, this.publisher);
    res.status(200);
    try {
      const out = await handle(ctx, scope);
      if (typeof out === 'string') return this.send(res, undefined, out);
      res.header('location', out.location);
      res.status(303);
      res.send();
    } catch (error) {
      const [status, heading, text] = this.describe(error);
      this.send(res, status, errorPage(ctx, heading, text));
    }
  }

  private checkPost(req: PortalRequest, session: PortalSession): string | undefined {
    if (isCrossSite(req.headers, firstHeader(req.headers.host)))
      return 'This form was sent from another site. Use the portal itself.';
    if (!this.portal.csrf.verify(session.token, field(req.body, '_csrf', 100)))
      return 'This form has expired or was not sent from the portal. Go back, reload the page and try again.';
    return undefined;
  }

  private describe(error: unknown): [number, string, string] {
    if (error instanceof PortalError) return [error.status, error.heading, error.text];
    if (error instanceof WebhookNotFoundError)
      return [404, 'Not found', `There is no ${error.resource} with this id among yours.`];
    if (error instanceof WebhookStateError) return [409, 'Not possible now', error.message];
    if (error instanceof InvalidEndpointError) return [400, 'Not valid', error.message];
    if (error instanceof WebhookValidationError) return [400, 'Not valid', error.message];
    this.logger.error(`Portal request failed: ${(error as Error)?.stack ?? String(error)}`);
    return [500, 'Something went wrong', 'The request could not be completed. Try again in a moment.'];
  }

  private refuse(res: PortalResponse, base: string, problem: string): void {
    res.header('set-cookie', clearCookie(base));
    const title = this.portal.options.title;
    const page =
      problem === 'expired'
        ? refusalPage(base, title, 'This link has expired', 'Ask for a new link to your webhooks portal.')
        : problem === 'missing'
          ? refusalPage(base, title, 'Open your portal link', 'This portal opens from the link you were given.')
          : refusalPage(base, title, 'This link is not valid', 'It may be incomplete or changed. Ask for a new link.');
    this.send(res, 401, page);
  }

  private send(res: PortalResponse, status: number | undefined, body: string): void {
    if (status !== undefined) res.status(status);
    res.header('content-type', 'text/html; charset=utf-8');
    res.send(body);
  }

  private isHttps(req: PortalRequest): boolean {
    return req.secure === true || req.protocol === 'https' || !!this.portal.options.baseUrl?.startsWith('https:');
  }

  /** The mount path as the browser sees it, global prefix included, e.g. `/api/webhooks/portal`. */
  private mountBase(req: PortalRequest): string {
    const path = `/${this.portal.options.path}`;
    let pathname = path;
    try {
      pathname = new URL(req.originalUrl ?? req.url, 'http://portal.invalid').pathname;
    } catch {
      // keep the configured path
    }
    let at = pathname.indexOf(path);
    while (at >= 0) {
      const after = pathname[at + path.length];
      if (after === undefined || after === '/') return pathname.slice(0, at + path.length);
      at = pathname.indexOf(path, at + 1);
    }
    return path;
  }
}

interface Redirect {
  location: string;
}
const redirect = (location: string): Redirect => ({ location });

function notice(req: PortalRequest): Notice | undefined {
  const done = req.query.done;
  return typeof done === 'string' ? NOTICES[done] : undefined;
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** A string field of a form body, cut to `max` characters (arrays and objects are not strings: undefined). */
function field(body: unknown, name: string, max: number): string | undefined {
  const value = (body as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' ? value.slice(0, max) : undefined;
}

function optional(value: unknown, max: number): string | undefined {
  return typeof value === 'string' && value !== '' && value.length <= max ? value : undefined;
}

/** The endpoint fields of a form, bounded; every other field (owner_id among them) is ignored. */
function endpointForm(body: unknown): EndpointForm {
  const raw = (body as Record<string, unknown> | undefined)?.event_types;
  const list = (Array.isArray(raw) ? raw : [raw]).filter((v): v is string => typeof v === 'string');
  const types = list
    .flatMap((v) => v.slice(0, 2_000).split(/[\s,]+/))
    .filter((t) => t !== '')
    .slice(0, 50);
  return {
    name: (field(body, 'name', 1_000) ?? '').trim(),
    url: (field(body, 'url', 4_000) ?? '').trim(),
    description: (field(body, 'description', 1_000) ?? '').trim(),
    event_types: types.includes('*') || types.length === 0 ? ['*'] : [...new Set(types)],
  };
}

/** The portal's own bounds, before the management API applies its rules (URL, SSRF guard, event types). */
function checked(form: EndpointForm): EndpointForm {
  if (form.name === '' || form.name.length > 100) throw new InvalidEndpointError('name', 'must be 1 to 100 characters');
  if (form.description.length > 500) throw new InvalidEndpointError('description', 'must be at most 500 characters');
  if (form.url.length > 2_048) throw new InvalidEndpointError('url', 'must be at most 2048 characters');
  return form;
}

function readCookie(header: string | string[] | undefined, name: string): string | undefined {
  const text = firstHeader(header);
  if (!text || text.length > 8_192) return undefined;
  for (const part of text.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function sessionCookie(path: string, token: string, maxAgeSeconds: number, secure: boolean): string {
  return `${SESSION_COOKIE}=${token}; Path=${path}; Max-Age=${maxAgeSeconds}; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}

function clearCookie(path: string): string {
  return `${SESSION_COOKIE}=; Path=${path}; Max-Age=0; HttpOnly; SameSite=Strict`;
}

/**
 * Routes the catch-all 404 in the wildcard syntax of the app's adapter: Express 5 needs a named wildcard (`*rest`),
 * while Fastify's router accepts only a bare trailing `*` and refuses to start on `*rest`. Set on the method itself,
 * the last one declared, so that Express (which tries routes in order) registers it after every page.
 */
export function routeNotFound(adapterType: string | undefined): void {
  const descriptor = Object.getOwnPropertyDescriptor(PortalController.prototype, 'notFound')!;
  All(adapterType === 'fastify' ? '*' : '*rest')(PortalController.prototype, 'notFound', descriptor);
}
