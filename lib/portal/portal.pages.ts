import type { ConvoyEventDelivery, EventDeliveryStatus, Page } from '../client/convoy.types.js';
import { jsonSchemaOf, type WebhookEventCatalog } from '../catalog/webhook-events.js';
import type { WebhookDeliveryAttempt, WebhookEndpoint } from '../management/webhook-management.types.js';
import { html, type Html } from '../ui/html.js';
import { renderPage } from '../ui/page.js';
import { DELIVERY_STATUSES, type EndpointForm } from './owner-scope.js';

/** What every page of one request needs: where the portal is mounted, its title, the session's CSRF token. */
export interface PageContext {
  /** The mount path as the browser sees it (with any global prefix), e.g. `/webhooks/portal`. */
  base: string;
  title: string;
  csrf: string;
  owner: string;
}

type Section = 'endpoints' | 'deliveries' | 'events';

function page(
  ctx: PageContext,
  section: Section | undefined,
  title: string,
  body: Html,
  notice?: { kind: 'ok' | 'bad' | 'warn'; text: string },
): string {
  const nav = (
    [
      ['endpoints', '', 'Endpoints'],
      ['deliveries', '/deliveries', 'Deliveries'],
      ['events', '/events', 'Event types'],
    ] as const
  ).map(([key, href, label]) => ({ href: `${ctx.base}${href}`, label, current: key === section }));
  const footer = html`<footer class="panel actions"><span class="muted">Webhooks of <strong>${ctx.owner}</strong></span>
${form(ctx, '/logout', html`<button type="submit">Sign out</button>`)}</footer>`;
  return renderPage({ title, brand: ctx.title, assetsPath: ctx.base, nav, body: html`${body}${footer}`, notice });
}

/** A POST form with the session's CSRF token. */
function form(ctx: PageContext, action: string, inner: Html, className = 'inline'): Html {
  return html`<form method="post" action="${ctx.base}${action}" class="${className}"><input type="hidden" name="_csrf" value="${ctx.csrf}">${inner}</form>`;
}

const enc = encodeURIComponent;

function statusPill(status: string): Html {
  const kind =
    status === 'active' || status === 'Success'
      ? 'ok'
      : status === 'Failure' || status === 'inactive'
        ? 'bad'
        : status === 'paused' || status === 'Retry' || status === 'Discarded'
          ? 'warn'
          : 'info';
  return html`<span class="pill ${kind}">${status || 'unknown'}</span>`;
}

const when = (iso: string | null | undefined): Html =>
  iso
    ? html`<time datetime="${iso}">${iso
        .replace('T', ' ')
        .replace(/\.\d+/, '')
        .replace(/Z$|[+-]\d\d:\d\d$/, ' UTC')}</time>`
    : html`<span class="muted">never</span>`;

const eventTypesText = (types: string[]): string =>
  types.length === 0 ? 'none' : types.includes('*') ? 'all events' : types.join(', ');

// ------------------------------------------------------------------ endpoints

export function endpointsPage(ctx: PageContext, endpoints: WebhookEndpoint[], notice?: Notice): string {
  const rows = endpoints.map(
    (e) => html`<tr>
  <td><a href="${ctx.base}/endpoints/${enc(e.uid)}">${e.name}</a></td>
  <td class="mono">${e.url}</td>
  <td>${statusPill(e.status)}</td>
  <td class="hide-narrow">${eventTypesText(e.event_types)}</td>
</tr>`,
  );
  const body = html`<p class="actions"><a class="button primary" href="${ctx.base}/endpoints/new">Add an endpoint</a></p>
${
  endpoints.length === 0
    ? html`<div class="panel"><p>You have no endpoints yet. Add one to receive webhooks.</p></div>`
    : html`<div class="table-wrap"><table>
<thead><tr><th>Name</th><th>URL</th><th>Status</th><th class="hide-narrow">Receives</th></tr></thead>
<tbody>${rows}</tbody></table></div>`
}`;
  return page(ctx, 'endpoints', 'Your endpoints', body, notice);
}

function eventTypeFields(catalog: WebhookEventCatalog | undefined, selected: string[]): Html {
  const types = catalog ? Object.keys(catalog.events) : [];
  if (types.length === 0)
    return html`<div class="field"><label for="event_types">Event types (comma-separated; * for all events)</label>
<input id="event_types" name="event_types" maxlength="2000" value="${selected.join(', ') || '*'}"></div>`;
  const all = selected.length === 0 || selected.includes('*');
  return html`<fieldset class="field"><legend>Event types</legend>
<label><input type="checkbox" name="event_types" value="*"${all ? html` checked` : null}> All events</label>
${types.map(
  (t) =>
    html`<label><input type="checkbox" name="event_types" value="${t}"${!all && selected.includes(t) ? html` checked` : null}> ${t}</label>`,
)}
</fieldset>`;
}

function endpointFields(catalog: WebhookEventCatalog | undefined, values: Partial<EndpointForm>): Html {
  return html`<div class="field"><label for="name">Name</label>
<input id="name" name="name" required maxlength="100" value="${values.name ?? ''}"></div>
<div class="field"><label for="url">URL (https://…)</label>
<input id="url" name="url" type="url" required maxlength="2048" size="60" value="${values.url ?? ''}"></div>
<div class="field"><label for="description">Description</label>
<input id="description" name="description" maxlength="500" size="60" value="${values.description ?? ''}"></div>
${eventTypeFields(catalog, values.event_types ?? ['*'])}`;
}

export function newEndpointPage(
  ctx: PageContext,
  catalog: WebhookEventCatalog | undefined,
  values: Partial<EndpointForm> = {},
  error?: string,
): string {
  const body = html`<div class="panel">${form(
    ctx,
    '/endpoints',
    html`${endpointFields(catalog, values)}<button class="primary" type="submit">Create endpoint</button>`,
    'stacked',
  )}</div>`;
  return page(ctx, 'endpoints', 'Add an endpoint', body, error ? { kind: 'bad', text: error } : undefined);
}

/** The one page that shows a signing secret: the answer to the POST that created or rotated it (never stored). */
export function secretPage(ctx: PageContext, endpoint: WebhookEndpoint, secret: string, rotated: boolean): string {
  const body = html`<div class="panel">
<p>${rotated ? 'The new signing secret' : 'The signing secret'} of <strong>${endpoint.name}</strong>, shown <strong>this once</strong>:
copy it now and keep it in your receiver's configuration. It is never shown again${rotated ? '' : ' (rotate it to get a new one)'}.</p>
<pre id="secret" class="mono">${secret}</pre>
<p>Verify each webhook's <code>X-Convoy-Signature</code> header with it.</p>
<p><a class="button primary" href="${ctx.base}/endpoints/${enc(endpoint.uid)}">Continue</a></p>
</div>`;
  return page(ctx, 'endpoints', rotated ? 'Secret rotated' : 'Endpoint created', body, {
    kind: 'ok',
    text: rotated ? 'A new secret was made.' : 'The endpoint was created.',
  });
}

export function endpointPage(
  ctx: PageContext,
  catalog: WebhookEventCatalog | undefined,
  endpoint: WebhookEndpoint,
  recent: ConvoyEventDelivery[],
  options: { canTest: boolean; notice?: Notice; values?: Partial<EndpointForm> },
): string {
  const id = enc(endpoint.uid);
  const actions = html`<div class="actions">
${
  endpoint.status === 'active'
    ? form(ctx, `/endpoints/${id}/pause`, html`<button type="submit">Pause</button>`)
    : form(ctx, `/endpoints/${id}/activate`, html`<button type="submit">Activate</button>`)
}
${options.canTest ? form(ctx, `/endpoints/${id}/test`, html`<button type="submit">Send a test event</button>`) : null}
</div>`;
  const body = html`<div class="panel"><dl class="kv">
<dt>Status</dt><dd>${statusPill(endpoint.status)}</dd>
<dt>URL</dt><dd class="mono">${endpoint.url}</dd>
<dt>Description</dt><dd>${endpoint.description || html`<span class="muted">none</span>`}</dd>
<dt>Receives</dt><dd>${eventTypesText(endpoint.event_types)}</dd>
<dt>Signing secret</dt><dd><span class="muted">hidden; shown once when made (rotate below for a new one)</span></dd>
<dt>Created</dt><dd>${when(endpoint.created_at)}</dd>
</dl></div>
${actions}
<h2>Recent deliveries</h2>
${deliveryTable(ctx, recent, new Map([[endpoint.uid, endpoint.name]]))}
<p><a href="${ctx.base}/deliveries?endpoint=${id}">All deliveries of this endpoint</a></p>
<h2>Edit</h2>
<div class="panel">${form(
    ctx,
    `/endpoints/${id}`,
    html`${endpointFields(catalog, options.values ?? endpoint)}<button class="primary" type="submit">Save</button>`,
    'stacked',
  )}</div>
<h2>Rotate the signing secret</h2>
<div class="panel">${form(
    ctx,
    `/endpoints/${id}/rotate`,
    html`<div class="field"><label for="keep">The current secret keeps signing for</label>
<select id="keep" name="keep"><option value="0">no longer</option><option value="3600" selected>1 hour</option><option value="86400">24 hours</option></select></div>
<button type="submit">Make a new secret</button>`,
    'stacked',
  )}</div>
<h2>Delete</h2>
<div class="panel">${form(
    ctx,
    `/endpoints/${id}/delete`,
    html`<p>Deleting stops every delivery to this endpoint.</p><button class="danger" type="submit">Delete this endpoint</button>`,
    'stacked',
  )}</div>`;
  return page(ctx, 'endpoints', `Endpoint ${endpoint.name}`, body, options.notice);
}

// ------------------------------------------------------------------ deliveries

function deliveryTable(ctx: PageContext, deliveries: ConvoyEventDelivery[], names: Map<string, string>): Html {
  if (deliveries.length === 0) return html`<div class="panel"><p class="muted">No deliveries yet.</p></div>`;
  return html`<div class="table-wrap"><table>
<thead><tr><th>Event type</th><th>Endpoint</th><th>Status</th><th class="num hide-narrow">Attempts</th><th class="hide-narrow">Created</th></tr></thead>
<tbody>${deliveries.map(
    (d) => html`<tr>
  <td><a href="${ctx.base}/deliveries/${enc(d.uid)}">${d.event_type}</a></td>
  <td>${names.get(d.endpoint_id) ?? d.endpoint_id}</td>
  <td>${statusPill(d.status)}</td>
  <td class="num hide-narrow">${d.metadata?.num_trials ?? 0}</td>
  <td class="hide-narrow">${when(d.created_at)}</td>
</tr>`,
  )}</tbody></table></div>`;
}

export function deliveriesPage(
  ctx: PageContext,
  endpoints: WebhookEndpoint[],
  result: Page<ConvoyEventDelivery>,
  filter: { endpointId?: string; status?: EventDeliveryStatus },
  notice?: Notice,
): string {
  const names = new Map(endpoints.map((e) => [e.uid, e.name]));
  const next = new URLSearchParams();
  if (filter.endpointId) next.set('endpoint', filter.endpointId);
  if (filter.status) next.set('status', filter.status);
  next.set('cursor', result.pagination.next_page_cursor);
  const body = html`<form method="get" action="${ctx.base}/deliveries" class="filters">
<div><label for="endpoint">Endpoint</label><select id="endpoint" name="endpoint"><option value="">All</option>${endpoints.map(
    (e) => html`<option value="${e.uid}"${e.uid === filter.endpointId ? html` selected` : null}>${e.name}</option>`,
  )}</select></div>
<div><label for="status">Status</label><select id="status" name="status"><option value="">All</option>${DELIVERY_STATUSES.map(
    (s) => html`<option${s === filter.status ? html` selected` : null}>${s}</option>`,
  )}</select></div>
<div><button type="submit">Filter</button></div>
</form>
${deliveryTable(ctx, result.content, names)}
<div class="pager">${
    result.pagination.has_next_page && result.pagination.next_page_cursor
      ? html`<a class="button" href="${ctx.base}/deliveries?${next.toString()}">Older</a>`
      : null
  }</div>
<h2>Resend failures</h2>
<div class="panel">${form(
    ctx,
    '/deliveries/retry-failures',
    html`<p>Sends every failed delivery of your endpoints again.</p><button type="submit">Resend all failures</button>`,
    'stacked',
  )}</div>`;
  return page(ctx, 'deliveries', 'Deliveries', body, notice);
}

function headerList(headers: Record<string, string | string[]> | null | undefined): Html {
  const entries = Object.entries(headers ?? {});
  if (entries.length === 0) return html`<p class="muted">none</p>`;
  return html`<pre>${entries.map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(', ') : v}\n`).join('')}</pre>`;
}

export function deliveryPage(
  ctx: PageContext,
  delivery: ConvoyEventDelivery,
  endpoint: WebhookEndpoint,
  attempts: WebhookDeliveryAttempt[],
  notice?: Notice,
): string {
  const payload =
    delivery.metadata?.raw ?? (delivery.metadata?.data === undefined ? '' : JSON.stringify(delivery.metadata.data));
  const canResend = delivery.status === 'Failure' || delivery.status === 'Discarded';
  const body = html`<div class="panel"><dl class="kv">
<dt>Status</dt><dd>${statusPill(delivery.status)}${delivery.description ? html` <span class="muted">${delivery.description}</span>` : null}</dd>
<dt>Endpoint</dt><dd><a href="${ctx.base}/endpoints/${enc(endpoint.uid)}">${endpoint.name}</a></dd>
<dt>Idempotency key</dt><dd class="mono">${delivery.idempotency_key}</dd>
<dt>Attempts</dt><dd>${delivery.metadata?.num_trials ?? attempts.length}</dd>
<dt>Created</dt><dd>${when(delivery.created_at)}</dd>
</dl></div>
${canResend ? html`<div class="actions">${form(ctx, `/deliveries/${enc(delivery.uid)}/resend`, html`<button class="primary" type="submit">Resend</button>`)}</div>` : null}
<h2>Payload</h2>
<pre id="payload">${payload}</pre>
<h2>Attempts</h2>
${
  attempts.length === 0
    ? html`<div class="panel"><p class="muted">No attempt yet.</p></div>`
    : attempts.map(
        (a, i) => html`<section class="panel attempt">
<h3>Attempt ${i + 1} ${a.succeeded ? html`<span class="pill ok">succeeded</span>` : html`<span class="pill bad">failed</span>`}</h3>
<dl class="kv"><dt>Response</dt><dd>${a.http_status || html`<span class="muted">no response</span>`}</dd>
<dt>Sent</dt><dd>${when(a.requested_at)}</dd>${a.error ? html`<dt>Error</dt><dd>${a.error}</dd>` : null}</dl>
<details><summary>Request headers</summary>${headerList(a.request_http_header)}</details>
<details><summary>Response headers</summary>${headerList(a.response_http_header)}</details>
<h4>Response body</h4><pre class="response-body">${a.response_data}</pre>
</section>`,
      )
}`;
  return page(ctx, 'deliveries', `Delivery of ${delivery.event_type}`, body, notice);
}

// ------------------------------------------------------------------ event types

export function eventTypesPage(ctx: PageContext, catalog: WebhookEventCatalog | undefined): string {
  const entries = Object.entries(catalog?.events ?? {});
  const body =
    entries.length === 0
      ? html`<div class="panel"><p>This app has not published a list of its event types: your endpoints can receive <strong>all events</strong>.</p></div>`
      : html`${entries.map(([type, definition]) => {
          let schema = '';
          try {
            schema = JSON.stringify(jsonSchemaOf(type, definition), null, 2);
          } catch {
            schema = '';
          }
          return html`<section class="panel">
<h2 class="mono">${type}</h2>
${definition.category ? html`<p><span class="pill info">${definition.category}</span></p>` : null}
<p>${definition.description ?? html`<span class="muted">No description.</span>`}</p>
${schema ? html`<details><summary>Payload schema</summary><pre>${schema}</pre></details>` : null}
${definition.example === undefined ? null : html`<details><summary>Example</summary><pre>${JSON.stringify(definition.example, null, 2)}</pre></details>`}
</section>`;
        })}`;
  return page(ctx, 'events', 'Event types you can subscribe to', body);
}

// ------------------------------------------------------------------ refusals

export type Notice = { kind: 'ok' | 'bad' | 'warn'; text: string };

/** A page without a session: the refusal of a link or a request (no navigation, nothing of any owner). */
export function refusalPage(base: string, title: string, heading: string, text: string): string {
  return renderPage({
    title: heading,
    brand: title,
    assetsPath: base,
    body: html`<div class="panel refusal"><p>${text}</p></div>`,
  });
}

export function errorPage(ctx: PageContext, heading: string, text: string): string {
  return page(ctx, undefined, heading, html`<div class="panel"><p>${text}</p></div>`);
}

/**
 * The answer to a valid link: it sets the session cookie, then moves to the portal without the token. A same-origin
 * meta refresh, not a 303: a SameSite=Strict cookie is not sent on a redirect that a link on another site started.
 */
export function landingPage(base: string, title: string): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta http-equiv="refresh" content="0;url=${base}">
<title>${title}</title>
<link rel="stylesheet" href="${base}/assets/ui.css">
</head>
<body><main id="content"><p>Opening your webhooks… <a href="${base}">Continue</a></p></main></body>
</html>`.toString();
}
