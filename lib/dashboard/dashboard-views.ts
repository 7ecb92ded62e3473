import { STATUS_CODES } from 'node:http';
import type { ConvoyEventDelivery, EventDeliveryStatus, Page } from '../client/convoy.types.js';
import type { WebhookDeliveryAttempt, WebhookEndpoint } from '../management/webhook-management.types.js';
import type { PublisherStats } from '../pipeline/pipeline.js';
import type { DeliveryRecord } from '../storage/records.js';
import { html, type Html } from '../ui/html.js';
import { redactUrl } from '../utils/redact.js';
import { DELIVERY_STATUSES, FIELD_LIMITS, MAX_PAGE_SIZE } from './dashboard-input.js';

/** The page bodies of the dashboard. Every outsider value goes through `html` (escaped); none is trusted markup. */

export type Link = (path: string, query?: Record<string, string | undefined>) => string;

export function csrfField(token: string): Html {
  return html`<input type="hidden" name="_csrf" value="${token}">`;
}

const PILL: Record<string, string> = {
  Success: 'ok',
  Failure: 'bad',
  Discarded: 'bad',
  Retry: 'warn',
  Scheduled: 'info',
  Processing: 'info',
  active: 'ok',
  paused: 'warn',
  inactive: 'bad',
};

export function pill(value: string): Html {
  return html`<span class="pill ${PILL[value] ?? ''}">${value}</span>`;
}

export function when(iso: string | null | undefined): Html {
  if (!iso) return html`<span class="muted">—</span>`;
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return html`${iso}`;
  return html`<time datetime="${d.toISOString()}">${d.toISOString().replace('T', ' ').slice(0, 19)} UTC</time>`;
}

export function duration(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 120_000) return `${(ms / 1_000).toFixed(1)} s`;
  if (ms < 7_200_000) return `${Math.round(ms / 60_000)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

function pager(link: Link, path: string, query: Record<string, string | undefined>, page: Page<unknown>): Html {
  const next = page.pagination.has_next_page && page.pagination.next_page_cursor;
  const first = query.cursor;
  if (!next && !first) return html``;
  return html`<nav class="pager" aria-label="Pages">
    ${first ? html`<a class="button" href="${link(path, { ...query, cursor: undefined })}">First page</a>` : null}
    ${next ? html`<a class="button" href="${link(path, { ...query, cursor: next })}">Next page</a>` : null}
  </nav>`;
}

// ------------------------------------------------------------------------------------------------ endpoints

export function endpointsPage(
  link: Link,
  page: Page<WebhookEndpoint>,
  query: { q?: string; owner?: string; cursor?: string; perPage?: string },
): Html {
  return html`<div class="actions"><a class="button primary" href="${link('endpoints/new')}">New endpoint</a></div>
<form class="filters" method="get" action="${link('endpoints')}" role="search">
  <div><label for="f-q">Name contains</label><input id="f-q" name="q" maxlength="${FIELD_LIMITS.search}" value="${query.q ?? ''}"></div>
  <div><label for="f-owner">Owner</label><input id="f-owner" name="owner" maxlength="${FIELD_LIMITS.ownerId}" value="${query.owner ?? ''}"></div>
  <button type="submit">Filter</button>
</form>
<div id="live" data-live>
<div class="table-wrap"><table>
<caption class="sr-only">Endpoints</caption>
<thead><tr><th scope="col">Name</th><th scope="col">URL</th><th scope="col" class="hide-narrow">Owner</th><th scope="col">Status</th><th scope="col" class="hide-narrow">Event types</th><th scope="col" class="hide-narrow">Created</th></tr></thead>
<tbody>
${
  page.content.length === 0
    ? html`<tr><td colspan="6" class="muted">No endpoints${query.q || query.owner ? ' match these filters' : ' yet'}.</td></tr>`
    : page.content.map(
        (e) => html`<tr>
<td><a href="${link(`endpoints/${encodeURIComponent(e.uid)}`)}">${e.name || e.uid}</a></td>
<td class="mono wrap">${e.url}</td>
<td class="hide-narrow">${e.owner_id || html`<span class="muted">—</span>`}</td>
<td>${pill(e.status)}</td>
<td class="hide-narrow mono">${e.event_types.join(', ')}</td>
<td class="hide-narrow">${when(e.created_at)}</td>
</tr>`,
      )
}
</tbody></table></div>
${pager(link, 'endpoints', { q: query.q, owner: query.owner, perPage: query.perPage, cursor: query.cursor }, page)}
</div>`;
}

export interface EndpointFormValues {
  name?: string;
  url?: string;
  description?: string;
  owner_id?: string;
  event_types?: string;
  http_timeout?: string | number;
}

export function endpointForm(
  link: Link,
  csrf: string,
  action: string,
  values: EndpointFormValues,
  submit: string,
  withSecret: boolean,
): Html {
  return html`<form class="panel" method="post" action="${link(action)}">
${csrfField(csrf)}
<div class="field"><label for="e-url">URL (required)</label><input id="e-url" name="url" type="url" required maxlength="${FIELD_LIMITS.url}" size="60" value="${values.url ?? ''}"></div>
<div class="field"><label for="e-name">Name</label><input id="e-name" name="name" maxlength="${FIELD_LIMITS.name}" value="${values.name ?? ''}"></div>
<div class="field"><label for="e-owner">Owner id</label><input id="e-owner" name="owner_id" maxlength="${FIELD_LIMITS.ownerId}" value="${values.owner_id ?? ''}"></div>
<div class="field"><label for="e-types">Event types (comma separated; empty: all)</label><input id="e-types" name="event_types" maxlength="${FIELD_LIMITS.eventTypes}" size="60" value="${values.event_types ?? ''}"></div>
<div class="field"><label for="e-timeout">Timeout per attempt (seconds)</label><input id="e-timeout" name="http_timeout" type="number" min="1" max="300" value="${values.http_timeout ?? ''}"></div>
<div class="field"><label for="e-desc">Description</label><textarea id="e-desc" name="description" maxlength="${FIELD_LIMITS.description}">${values.description ?? ''}</textarea></div>
${
  withSecret
    ? html`<div class="field"><label for="e-secret">Secret (empty: one is generated and shown once)</label><input id="e-secret" name="secret" type="password" autocomplete="new-password" maxlength="${FIELD_LIMITS.secret}"></div>`
    : null
}
<button class="primary" type="submit">${submit}</button>
</form>`;
}

export function endpointValues(e: WebhookEndpoint): EndpointFormValues {
  return {
    name: e.name,
    url: e.url,
    description: e.description,
    owner_id: e.owner_id ?? '',
    event_types: e.event_types.join(', '),
    http_timeout: e.http_timeout,
  };
}

/** An endpoint's details, never a secret's value: how many sign, and until when the old ones do. */
export function endpointPage(link: Link, csrf: string, e: WebhookEndpoint, form: Html): Html {
  const id = encodeURIComponent(e.uid);
  const current = e.secrets.filter((s) => s.expires_at === null).length;
  const expiring = e.secrets.filter((s) => s.expires_at !== null);
  return html`<div class="panel">
<dl class="kv">
  <dt>Id</dt><dd class="mono">${e.uid}</dd>
  <dt>URL</dt><dd class="mono">${e.url}</dd>
  <dt>Status</dt><dd>${pill(e.status)}</dd>
  <dt>Owner</dt><dd>${e.owner_id || html`<span class="muted">—</span>`}</dd>
  <dt>Event types</dt><dd class="mono">${e.event_types.join(', ') || html`<span class="muted">none</span>`}</dd>
  <dt>Signature</dt><dd>${e.signature_format === 'standard' ? 'Standard Webhooks' : e.advanced_signatures ? 'Convoy (advanced, timestamped)' : 'Convoy (simple)'}</dd>
  <dt>Secrets</dt><dd>${current} current${expiring.map((s) => html`, one expiring ${when(s.expires_at)}`)} <span class="muted">(values are shown only when created)</span></dd>
  <dt>Description</dt><dd>${e.description || html`<span class="muted">—</span>`}</dd>
  <dt>Created</dt><dd>${when(e.created_at)}</dd>
</dl>
</div>
<div class="actions">
  <a class="button" href="${link('deliveries', { endpointId: e.uid })}">Deliveries</a>
  <form class="inline" method="post" action="${link(`endpoints/${id}/test`)}">${csrfField(csrf)}<button type="submit">Send test event</button></form>
  <form class="inline" method="post" action="${link(`endpoints/${id}/${e.status === 'active' ? 'pause' : 'activate'}`)}">${csrfField(csrf)}<button type="submit">${e.status === 'active' ? 'Pause' : 'Activate'}</button></form>
  <a class="button danger" href="${link(`endpoints/${id}/delete`)}">Delete…</a>
</div>
<h2>Rotate the secret</h2>
<form class="panel" method="post" action="${link(`endpoints/${id}/rotate`)}">
${csrfField(csrf)}
<div class="field"><label for="r-exp">The current secret keeps signing for</label>
<select id="r-exp" name="expiration">
  <option value="3600">1 hour</option><option value="21600">6 hours</option><option value="86400" selected>24 hours</option>
  <option value="259200">3 days</option><option value="604800">7 days</option>
</select></div>
<p class="muted">A new secret is generated and shown once; receivers accept either while both sign.</p>
<button type="submit">Rotate secret</button>
</form>
<h2>Edit</h2>
${form}`;
}

export function confirmDeletePage(link: Link, csrf: string, e: WebhookEndpoint): Html {
  const id = encodeURIComponent(e.uid);
  return html`<div class="panel">
<p>Delete the endpoint <strong>${e.name || e.uid}</strong> (<span class="mono">${e.url}</span>)? It receives nothing more;
its delivery log stays.</p>
<form class="inline" method="post" action="${link(`endpoints/${id}/delete`)}">${csrfField(csrf)}<input type="hidden" name="confirm" value="yes"><button class="danger" type="submit">Delete the endpoint</button></form>
<a class="button" href="${link(`endpoints/${id}`)}">Cancel</a>
</div>`;
}

/** The only place a secret's value appears: once, right after it was made. */
export function secretOncePage(link: Link, e: WebhookEndpoint, secret: string | undefined, what: string): Html {
  return html`<div class="panel">
<p>${what}</p>
${
  secret
    ? html`<div class="field"><label for="secret-once">Secret (copy it now: it is not shown again)</label>
<input id="secret-once" class="mono secret" readonly size="60" value="${secret}"></div>`
    : html`<p class="muted">The transport did not return the secret's value.</p>`
}
<a class="button primary" href="${link(`endpoints/${encodeURIComponent(e.uid)}`)}">Go to the endpoint</a>
</div>`;
}

// ------------------------------------------------------------------------------------------------ deliveries

export interface DeliveryFilters {
  eventType: string;
  endpointId: string;
  status: string;
  owner: string;
  from: string;
  to: string;
  perPage: string;
  cursor: string;
}

export function deliveriesPage(
  link: Link,
  csrf: string,
  filters: DeliveryFilters,
  page: Page<ConvoyEventDelivery>,
  endpoints: WebhookEndpoint[],
): Html {
  const names = new Map(endpoints.map((e) => [e.uid, e.name || e.url]));
  const query = { ...filters, cursor: filters.cursor || undefined };
  const hidden = (['eventType', 'endpointId', 'status', 'owner', 'from', 'to'] as const).map((k) =>
    filters[k] ? html`<input type="hidden" name="${k}" value="${filters[k]}">` : null,
  );
  return html`<form class="filters" method="get" action="${link('deliveries')}" role="search">
  <div><label for="d-type">Event type</label><input id="d-type" name="eventType" maxlength="${FIELD_LIMITS.eventType}" value="${filters.eventType}"></div>
  <div><label for="d-endpoint">Endpoint</label><select id="d-endpoint" name="endpointId">
    <option value="">Any</option>
    ${endpoints.map((e) => html`<option value="${e.uid}"${e.uid === filters.endpointId ? html` selected` : null}>${e.name || e.url}</option>`)}
    ${filters.endpointId && !names.has(filters.endpointId) ? html`<option value="${filters.endpointId}" selected>${filters.endpointId}</option>` : null}
  </select></div>
  <div><label for="d-status">Status</label><select id="d-status" name="status">
    <option value="">Any</option>
    ${DELIVERY_STATUSES.map((s) => html`<option${s === filters.status ? html` selected` : null}>${s}</option>`)}
  </select></div>
  <div><label for="d-owner">Owner</label><input id="d-owner" name="owner" maxlength="${FIELD_LIMITS.ownerId}" value="${filters.owner}"></div>
  <div><label for="d-from">From (UTC)</label><input id="d-from" name="from" type="datetime-local" value="${filters.from}"></div>
  <div><label for="d-to">To (UTC)</label><input id="d-to" name="to" type="datetime-local" value="${filters.to}"></div>
  <div><label for="d-per">Per page</label><select id="d-per" name="perPage">
    ${[20, 50, MAX_PAGE_SIZE].map((n) => html`<option${String(n) === filters.perPage ? html` selected` : null}>${n}</option>`)}
  </select></div>
  <button type="submit">Filter</button>
</form>
<div id="live" data-live>
<div class="table-wrap"><table>
<caption class="sr-only">Deliveries</caption>
<thead><tr><th scope="col">Event type</th><th scope="col">Status</th><th scope="col" class="hide-narrow">Endpoint</th><th scope="col" class="num">Attempts</th><th scope="col" class="hide-narrow">Created</th></tr></thead>
<tbody>
${
  page.content.length === 0
    ? html`<tr><td colspan="5" class="muted">No deliveries match these filters.</td></tr>`
    : page.content.map(
        (d) => html`<tr>
<td><a href="${link(`deliveries/${encodeURIComponent(d.uid)}`)}">${d.event_type}</a><div class="muted mono small">${d.uid}</div></td>
<td>${pill(d.status)}${d.description ? html`<div class="muted small">${d.description}</div>` : null}</td>
<td class="hide-narrow">${names.get(d.endpoint_id) ?? d.target_url ?? d.endpoint_metadata?.name ?? d.endpoint_id}</td>
<td class="num">${d.metadata?.num_trials ?? 0}</td>
<td class="hide-narrow">${when(d.created_at)}</td>
</tr>`,
      )
}
</tbody></table></div>
${pager(link, 'deliveries', query, page)}
</div>
<form class="panel" method="post" action="${link('deliveries/batch-retry')}">
${csrfField(csrf)}${hidden}
<p>Retry every failed delivery matching the filters above${filters.status && filters.status !== 'Failure' && filters.status !== 'Discarded' ? ' (only failed or discarded ones can be retried)' : ''}.</p>
<button type="submit">Retry failed deliveries</button>
</form>`;
}

function prettyJson(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

function headersTable(headers: Record<string, string | string[]> | null | undefined, label: string): Html {
  const entries = Object.entries(headers ?? {});
  if (entries.length === 0) return html`<p class="muted">No ${label.toLowerCase()}.</p>`;
  return html`<div class="table-wrap"><table><caption class="sr-only">${label}</caption><tbody>
${entries.map(([k, v]) => html`<tr><th scope="row" class="mono">${k}</th><td class="mono wrap">${Array.isArray(v) ? v.join(', ') : v}</td></tr>`)}
</tbody></table></div>`;
}

function latencyOf(a: WebhookDeliveryAttempt): string {
  if (!a.responded_at) return '—';
  const ms = Date.parse(a.responded_at) - Date.parse(a.requested_at);
  return Number.isNaN(ms) ? '—' : duration(Math.max(0, ms));
}

function statusText(a: WebhookDeliveryAttempt): string {
  if (!a.http_status) return 'no response';
  return /^\d+$/.test(a.http_status)
    ? `${a.http_status} ${STATUS_CODES[Number(a.http_status)] ?? ''}`.trim()
    : a.http_status;
}

/** A payload above this size is cut on the page (the log keeps it whole). */
const SHOWN_PAYLOAD = 64 * 1024;

export function deliveryPage(
  link: Link,
  csrf: string,
  d: ConvoyEventDelivery,
  attempts: WebhookDeliveryAttempt[],
  endpoint: WebhookEndpoint | undefined,
): Html {
  const raw = d.metadata?.raw ?? (d.metadata?.data === undefined ? '' : JSON.stringify(d.metadata.data));
  const payload = prettyJson(raw);
  const shown =
    payload.length > SHOWN_PAYLOAD
      ? `${payload.slice(0, SHOWN_PAYLOAD)}\n… (${payload.length} characters in all)`
      : payload;
  const resendable = d.status === 'Failure' || d.status === 'Discarded';
  return html`<div id="live" data-live>
<div class="panel">
<dl class="kv">
  <dt>Status</dt><dd>${pill(d.status)}${d.description ? html` <span class="muted">${d.description}</span>` : null}</dd>
  <dt>Event type</dt><dd class="mono">${d.event_type}</dd>
  <dt>Endpoint</dt><dd>${
    d.endpoint_id
      ? html`<a href="${link(`endpoints/${encodeURIComponent(d.endpoint_id)}`)}">${endpoint ? endpoint.name || endpoint.url : d.endpoint_id}</a>`
      : html`<span class="muted">—</span>`
  } <span class="mono muted">${endpoint?.url ?? d.target_url ?? ''}</span></dd>
  <dt>Attempts</dt><dd>${d.metadata?.num_trials ?? attempts.length} of ${d.metadata?.retry_limit ?? '?'}${
    d.status === 'Retry' || d.status === 'Scheduled' ? html`, next ${when(d.metadata?.next_send_time)}` : null
  }</dd>
  <dt>Delivery id</dt><dd class="mono">${d.uid}</dd>
  <dt>Event id</dt><dd class="mono">${d.event_id}</dd>
  <dt>Idempotency key</dt><dd class="mono">${d.idempotency_key || '—'}</dd>
  <dt>Created</dt><dd>${when(d.created_at)}</dd>
</dl>
</div>
${
  resendable
    ? html`<form method="post" action="${link(`deliveries/${encodeURIComponent(d.uid)}/resend`)}">${csrfField(csrf)}<button class="primary" type="submit">Resend</button></form>`
    : null
}
<h2>Event payload</h2>
<pre class="payload">${shown}</pre>
${d.headers && Object.keys(d.headers).length ? html`<h2>Custom headers</h2>${headersTable(d.headers, 'Custom headers')}` : null}
<h2>Attempts (${attempts.length})</h2>
${attempts.length === 0 ? html`<p class="muted">No attempt yet.</p>` : null}
${attempts.map(
  (a, i) => html`<section class="panel attempt" aria-labelledby="attempt-${i + 1}">
<h3 id="attempt-${i + 1}">Attempt ${i + 1}: ${pill(a.succeeded ? 'Success' : 'Failure')} ${statusText(a)} · ${latencyOf(a)} · ${when(a.requested_at)}</h3>
${a.error ? html`<p class="notice bad">${a.error}</p>` : null}
<details${i === attempts.length - 1 ? html` open` : null}>
<summary>Request and response</summary>
<h4>Request</h4>
<p class="mono wrap">${a.method} ${a.url}</p>
${headersTable(a.request_http_header, 'Request headers')}
<p class="muted">Body: the event payload above, as sent.</p>
<h4>Response ${statusText(a)}</h4>
${a.response_http_header ? headersTable(a.response_http_header, 'Response headers') : html`<p class="muted">No response.</p>`}
<pre class="response">${a.response_data}</pre>
</details>
</section>`,
)}
</div>`;
}

// ------------------------------------------------------------------------------------------------ health

export interface HourSummary {
  /** Oldest first, one per minute: succeeded, failing (Failure, Retry, Discarded) and pending counts. */
  minutes: Array<{ at: number; ok: number; bad: number; pending: number }>;
  endpoints: Array<{ id: string; name: string; total: number; ok: number; bad: number }>;
  counted: number;
  capped: boolean;
}

const FAILING = new Set<EventDeliveryStatus>(['Failure', 'Retry', 'Discarded']);

/** Deliveries of the last hour, per minute and per endpoint, from the delivery log (newest first). */
export function summarize(
  deliveries: ConvoyEventDelivery[],
  now: number,
  capped: boolean,
  names: Map<string, string>,
): HourSummary {
  const start = Math.floor(now / 60_000) * 60_000 - 59 * 60_000;
  const minutes = Array.from({ length: 60 }, (_, i) => ({ at: start + i * 60_000, ok: 0, bad: 0, pending: 0 }));
  const perEndpoint = new Map<string, { id: string; name: string; total: number; ok: number; bad: number }>();
  for (const d of deliveries) {
    const at = Date.parse(d.created_at);
    const slot = minutes[Math.floor((at - start) / 60_000)];
    const kind = d.status === 'Success' ? 'ok' : FAILING.has(d.status) ? 'bad' : 'pending';
    if (slot) slot[kind]++;
    const id = d.endpoint_id;
    const row = perEndpoint.get(id) ?? { id, name: names.get(id) ?? d.target_url ?? id, total: 0, ok: 0, bad: 0 };
    row.total++;
    if (kind === 'ok') row.ok++;
    if (kind === 'bad') row.bad++;
    perEndpoint.set(id, row);
  }
  const endpoints = [...perEndpoint.values()].sort((a, b) => rate(b) - rate(a) || b.total - a.total);
  return { minutes, endpoints, counted: deliveries.length, capped };
}

function rate(row: { ok: number; bad: number }): number {
  return row.ok + row.bad === 0 ? 0 : row.bad / (row.ok + row.bad);
}

/** Stacked bars, heights as classes in 5 % steps (the CSP allows no inline style). */
function chart(summary: HourSummary): Html {
  const max = Math.max(1, ...summary.minutes.map((m) => m.ok + m.bad + m.pending));
  const step = (n: number): number => (n === 0 ? 0 : Math.max(1, Math.round((n / max) * 20)));
  return html`<div class="chart" role="img" aria-label="Deliveries per minute over the last hour: ${summary.minutes.reduce((s, m) => s + m.ok, 0)} succeeded, ${summary.minutes.reduce((s, m) => s + m.bad, 0)} failing, ${summary.minutes.reduce((s, m) => s + m.pending, 0)} pending">
${summary.minutes.map(
  (m) =>
    html`<div class="bar" title="${new Date(m.at).toISOString().slice(11, 16)} UTC: ${m.ok} succeeded, ${m.bad} failing, ${m.pending} pending">${m.ok ? html`<span class="ok h${step(m.ok)}"></span>` : null}${m.bad ? html`<span class="bad h${step(m.bad)}"></span>` : null}${m.pending ? html`<span class="warn h${step(m.pending)}"></span>` : null}</div>`,
)}
</div>
<p class="legend muted small"><span class="key ok"></span> succeeded <span class="key bad"></span> failing <span class="key warn"></span> pending · one bar per minute, oldest on the left</p>`;
}

export function healthPage(
  link: Link,
  csrf: string,
  stats: PublisherStats,
  summary: HourSummary,
  deadLetters: DeliveryRecord[],
  moreDeadLetters: boolean,
): Html {
  return html`<div id="live" data-live>
<div class="grid">
  <div class="stat"><div class="label">Outbox lag</div><div class="value">${duration(stats.lagMs)}</div></div>
  <div class="stat"><div class="label">Pending</div><div class="value">${stats.pending}</div></div>
  <div class="stat"><div class="label">In flight</div><div class="value">${stats.inFlight}</div></div>
  <div class="stat"><div class="label">Dead letters</div><div class="value">${stats.deadLetters}</div></div>
  <div class="stat"><div class="label">Sent by this process</div><div class="value">${stats.sent}</div></div>
  <div class="stat"><div class="label">Failed in this process</div><div class="value">${stats.failed}</div></div>
</div>
<p class="muted small">${stats.durable ? 'Durable storage: pending events survive a restart.' : 'In memory: a crash loses what is pending.'}</p>
<h2>Deliveries in the last hour</h2>
<div class="panel">${chart(summary)}
${summary.capped ? html`<p class="muted small">Counted from the newest ${summary.counted} deliveries of the hour.</p>` : null}
</div>
<h2>Failure rate per endpoint (last hour)</h2>
<div class="table-wrap"><table>
<caption class="sr-only">Failure rate per endpoint</caption>
<thead><tr><th scope="col">Endpoint</th><th scope="col" class="num">Deliveries</th><th scope="col" class="num">Succeeded</th><th scope="col" class="num">Failing</th><th scope="col" class="num">Failure rate</th></tr></thead>
<tbody>
${
  summary.endpoints.length === 0
    ? html`<tr><td colspan="5" class="muted">No deliveries in the last hour.</td></tr>`
    : summary.endpoints.map(
        (e) =>
          html`<tr><td><a href="${link('deliveries', { endpointId: e.id })}">${e.name}</a></td><td class="num">${e.total}</td><td class="num">${e.ok}</td><td class="num">${e.bad}</td><td class="num">${e.ok + e.bad === 0 ? '—' : `${Math.round(rate(e) * 100)} %`}</td></tr>`,
      )
}
</tbody></table></div>
<h2>Dead letters</h2>
<p class="muted small">Events the transport refused or that failed for good on their way to it; requeued, they go out again with the same id and idempotency key.</p>
${
  deadLetters.length === 0
    ? html`<p class="muted">None.</p>`
    : html`<form method="post" action="${link('health/requeue')}">
${csrfField(csrf)}
<div class="table-wrap"><table>
<caption class="sr-only">Dead letters</caption>
<thead><tr><th scope="col">Requeue</th><th scope="col">Event type</th><th scope="col">Why</th><th scope="col" class="hide-narrow">Target</th><th scope="col" class="hide-narrow">Created</th></tr></thead>
<tbody>
${deadLetters.map(
  (
    d,
  ) => html`<tr><td><input type="checkbox" name="id" value="${d.uid}" id="dl-${d.uid}" checked><label class="sr-only" for="dl-${d.uid}">Requeue ${d.uid}</label></td>
<td class="mono">${d.event_type}</td><td>${d.description}</td><td class="hide-narrow mono">${targetText(d)}</td><td class="hide-narrow">${when(new Date(d.created_at).toISOString())}</td></tr>`,
)}
</tbody></table></div>
${moreDeadLetters ? html`<p class="muted small">More dead letters wait; requeue these first.</p>` : null}
<button class="primary" type="submit">Requeue the selected</button>
</form>`
}
</div>`;
}

/** Where a dead letter was going, without a `{ url, secret }` target's secret. */
function targetText(d: DeliveryRecord): string {
  const target = d.target as Record<string, unknown>;
  if (typeof target.endpointId === 'string') return `endpoint ${target.endpointId}`;
  if (typeof target.ownerId === 'string') return `owner ${target.ownerId}`;
  if (typeof target.url === 'string') return `url ${redactUrl(target.url)}`;
  return 'broadcast';
}
