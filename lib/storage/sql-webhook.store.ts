import type {
  AttemptRecord,
  DeliveryFilter,
  DeliveryRecord,
  DeliveryStatus,
  EndpointFilter,
  EndpointRecord,
  EventRecord,
  PageRequest,
  RecordPage,
} from '../embedded/embedded.types.js';
import type { DeliveryUpdate, WebhookStore } from '../embedded/webhook-store.interface.js';
import { DEFAULT_SCHEMA, quoteSchema } from './migrations.js';
import type { SqlDatabase } from './sql.js';
import { fromJson, isoFromMs, isoOrNullFromMs, msFromIso, num, numOrNull, SqlParams, sqlState, storableText, toJson, textOrNull } from './sql-values.js';

type Row = Record<string, unknown>;

/** Statuses a worker still acts on; the others are the final log. */
const PENDING = `('Scheduled', 'Retry', 'Processing')`;

const ENDPOINT_COLUMNS =
  'uid, name, url, owner_id, description, secrets, advanced_signatures, signature_format, event_types, http_timeout, rate_limit, rate_limit_duration, support_email, api_key_header, status, created_at, updated_at';
const DELIVERY_COLUMNS =
  'uid, event_id, endpoint_id, event_type, idempotency_key, payload, custom_headers, status, description, num_trials, retry_limit, next_send_at, lease_owner, latency_ms, created_at, updated_at';
const ATTEMPT_COLUMNS =
  'uid, delivery_id, endpoint_id, url, method, request_headers, http_status, response_headers, response_body, error, success, latency_ms, requested_at, responded_at';

/**
 * The embedded engine's storage in PostgreSQL (node-postgres) or PGlite, with the rules of InMemoryWebhookStore:
 * claims with `FOR UPDATE SKIP LOCKED` and a lease owner, outcomes fenced by that owner, one original event per
 * idempotency key enforced by a unique index, and a log (deliveries, attempts) that outlives its endpoint.
 *
 * Multi-step writes are single statements (data-modifying CTEs): atomic without a transaction, one round trip.
 * The connection belongs to whoever opened it: close() does nothing (SqlConvoyStorage.close() closes the database).
 */
export class SqlWebhookStore implements WebhookStore {
  readonly volatile = false;
  private readonly endpoints: string;
  private readonly events: string;
  private readonly deliveries: string;
  private readonly attempts: string;

  constructor(
    private readonly db: SqlDatabase,
    schema: string = DEFAULT_SCHEMA,
  ) {
    const s = quoteSchema(schema);
    this.endpoints = `${s}.endpoints`;
    this.events = `${s}.events`;
    this.deliveries = `${s}.deliveries`;
    this.attempts = `${s}.delivery_attempts`;
  }

  // ------------------------------------------------------------ endpoints

  /** Throws when the uid exists (the primary key decides, also between instances). */
  async insertEndpoint(endpoint: EndpointRecord): Promise<void> {
    try {
      await this.db.query(
        `INSERT INTO ${this.endpoints} (${ENDPOINT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9::jsonb, $10, $11, $12, $13, $14::jsonb, $15, $16, $17)`,
        endpointParams(endpoint),
      );
    } catch (error) {
      if (sqlState(error) === '23505') throw new Error(`endpoint ${endpoint.uid} already exists`);
      throw error;
    }
  }

  /** Replaces every field of the endpoint with this uid; false when it does not exist (e.g. deleted meanwhile). */
  async updateEndpoint(endpoint: EndpointRecord): Promise<boolean> {
    const sets = ENDPOINT_COLUMNS.split(', ')
      .slice(1)
      .map((c, i) => `${c} = $${i + 2}${['secrets', 'event_types', 'api_key_header'].includes(c) ? '::jsonb' : ''}`)
      .join(', ');
    const { rows } = await this.db.query(`UPDATE ${this.endpoints} SET ${sets} WHERE uid = $1 RETURNING uid`, endpointParams(endpoint));
    return rows.length > 0;
  }

  /** Deletes the endpoint only: its deliveries and attempts stay (no foreign key), the log outlives it. */
  async deleteEndpoint(uid: string): Promise<boolean> {
    const { rows } = await this.db.query(`DELETE FROM ${this.endpoints} WHERE uid = $1 RETURNING uid`, [uid]);
    return rows.length > 0;
  }

  /** A fresh copy of the stored row (never shared state), or undefined. */
  async getEndpoint(uid: string): Promise<EndpointRecord | undefined> {
    const { rows } = await this.db.query<Row>(`SELECT ${ENDPOINT_COLUMNS} FROM ${this.endpoints} WHERE uid = $1`, [uid]);
    return rows[0] && toEndpoint(rows[0]);
  }

  /** The oldest endpoint with exactly this URL (dynamic events reuse it). */
  async findEndpointByUrl(url: string): Promise<EndpointRecord | undefined> {
    const { rows } = await this.db.query<Row>(`SELECT ${ENDPOINT_COLUMNS} FROM ${this.endpoints} WHERE url = $1 ORDER BY uid LIMIT 1`, [url]);
    return rows[0] && toEndpoint(rows[0]);
  }

  /** Newest first by uid; `q` matches a substring of the name literally (strpos, not LIKE: `%` and `_` are plain characters). */
  async listEndpoints(filter: EndpointFilter, page: PageRequest): Promise<RecordPage<EndpointRecord>> {
    const p = new SqlParams();
    const where: string[] = [];
    if (filter.ownerId !== undefined) where.push(`owner_id = ${p.add(filter.ownerId)}`);
    if (filter.q !== undefined) where.push(`strpos(name, ${p.add(filter.q)}) > 0`);
    return this.page(this.endpoints, ENDPOINT_COLUMNS, where, p, page, toEndpoint);
  }

  /** Every endpoint, oldest uid first (fan-out filters them in memory; a registry holds thousands, not millions). */
  async allEndpoints(): Promise<EndpointRecord[]> {
    const { rows } = await this.db.query<Row>(`SELECT ${ENDPOINT_COLUMNS} FROM ${this.endpoints} ORDER BY uid`);
    return rows.map(toEndpoint);
  }

  // ------------------------------------------------------------ events and deliveries

  /**
   * One statement: the event is inserted unless an original with its idempotency key exists (the partial unique
   * index arbitrates, so two instances inserting the same key at once produce one original: the second waits for
   * the first to commit, then finds the conflict). The deliveries are inserted only with an original; otherwise the
   * event is logged as a duplicate without deliveries. Returns whether it was the original.
   */
  async insertEvent(event: EventRecord, deliveries: DeliveryRecord[]): Promise<boolean> {
    const e = [event.uid, event.event_type, event.idempotency_key, event.payload, toJson(event.custom_headers), msFromIso(event.created_at, 'event.created_at')];
    const rows = deliveries.map((d) => ({
      ...d,
      created_at: msFromIso(d.created_at, 'delivery.created_at'),
      updated_at: msFromIso(d.updated_at, 'delivery.updated_at'),
    }));
    const { rows: result } = await this.db.query<Row>(
      `WITH original AS (
         INSERT INTO ${this.events} (uid, event_type, idempotency_key, payload, custom_headers, endpoints, is_duplicate_event, created_at)
         VALUES ($1, $2, $3, $4, $5::jsonb, $7::jsonb, $8, $6)
         ON CONFLICT (idempotency_key) WHERE NOT is_duplicate_event DO NOTHING
         RETURNING uid
       ), duplicate AS (
         INSERT INTO ${this.events} (uid, event_type, idempotency_key, payload, custom_headers, endpoints, is_duplicate_event, created_at)
         SELECT $1, $2, $3, $4, $5::jsonb, '[]'::jsonb, true, $6 WHERE NOT EXISTS (SELECT 1 FROM original)
         ON CONFLICT DO NOTHING
       ), fanned AS (
         INSERT INTO ${this.deliveries} (${DELIVERY_COLUMNS})
         SELECT ${DELIVERY_COLUMNS} FROM json_to_recordset($9::json) AS x(uid text, event_id text, endpoint_id text, event_type text,
           idempotency_key text, payload text, custom_headers jsonb, status text, description text, num_trials integer, retry_limit integer,
           next_send_at bigint, lease_owner text, latency_ms integer, created_at bigint, updated_at bigint)
         WHERE EXISTS (SELECT 1 FROM original)
         ON CONFLICT (event_id, endpoint_id) DO NOTHING
       )
       SELECT count(*) AS inserted FROM original`,
      [...e, toJson(event.endpoints), event.is_duplicate_event, toJson(rows)],
    );
    return num(result[0]!.inserted) > 0;
  }

  /** The event as stored (a duplicate shows is_duplicate_event and no endpoints), or undefined. */
  async getEvent(uid: string): Promise<EventRecord | undefined> {
    const { rows } = await this.db.query<Row>(
      `SELECT uid, event_type, idempotency_key, payload, custom_headers, endpoints, is_duplicate_event, created_at FROM ${this.events} WHERE uid = $1`,
      [uid],
    );
    const r = rows[0];
    return (
      r && {
        uid: String(r.uid),
        event_type: String(r.event_type),
        idempotency_key: String(r.idempotency_key),
        payload: String(r.payload),
        custom_headers: fromJson(r.custom_headers),
        endpoints: fromJson(r.endpoints),
        is_duplicate_event: Boolean(r.is_duplicate_event),
        created_at: isoFromMs(r.created_at),
      }
    );
  }

  /**
   * One statement: due deliveries (Scheduled/Retry at next_send_at, or Processing whose lease, also next_send_at,
   * expired), oldest due first, locked with `FOR UPDATE SKIP LOCKED` so that concurrent workers skip each other's
   * rows; a row claimed and committed by another worker meanwhile is re-checked (READ COMMITTED) and dropped.
   */
  async claimDue(now: number, limit: number, owner: string, leaseUntil: number): Promise<DeliveryRecord[]> {
    if (limit <= 0) return [];
    const { rows } = await this.db.query<Row>(
      `UPDATE ${this.deliveries} AS d
       SET status = 'Processing', lease_owner = $3, next_send_at = $4, updated_at = $1
       FROM (
         SELECT c.uid, c.next_send_at AS due_at FROM ${this.deliveries} AS c
         WHERE c.status IN ${PENDING} AND c.next_send_at <= $1
         ORDER BY c.next_send_at, c.uid
         LIMIT $2
         FOR UPDATE OF c SKIP LOCKED
       ) AS due
       WHERE d.uid = due.uid
       RETURNING due.due_at, ${DELIVERY_COLUMNS.split(', ')
         .map((c) => `d.${c}`)
         .join(', ')}`,
      [now, limit, owner, leaseUntil],
    );
    rows.sort((a, b) => num(a.due_at) - num(b.due_at) || (String(a.uid) < String(b.uid) ? -1 : 1));
    return rows.map(toDelivery);
  }

  /**
   * The earliest next_send_at of the deliveries still in play: Scheduled/Retry (their due time) and Processing
   * (their lease's end, when another worker may take them over), as the in-memory store does.
   */
  async nextDueAt(): Promise<number | undefined> {
    const { rows } = await this.db.query<Row>(`SELECT min(next_send_at) AS next FROM ${this.deliveries} WHERE status IN ${PENDING}`);
    return numOrNull(rows[0]?.next) ?? undefined;
  }

  /**
   * One statement: the delivery's new state, only while it is Processing under `owner`, and the attempt, only if
   * that update happened. A worker whose lease expired and was taken over gets false and writes nothing (neither
   * state nor attempt), so two workers never both record one delivery's outcome.
   */
  async completeAttempt(uid: string, owner: string, update: DeliveryUpdate, attempt: AttemptRecord | undefined): Promise<boolean> {
    const p = new SqlParams();
    const done = `UPDATE ${this.deliveries}
      SET status = ${p.add(update.status)}, description = ${p.add(update.description)}, num_trials = ${p.add(update.num_trials)},
          next_send_at = ${p.add(update.next_send_at)}, latency_ms = ${p.add(update.latency_ms)}::integer, lease_owner = NULL, updated_at = ${p.add(Date.now())}
      WHERE uid = ${p.add(uid)} AND lease_owner = ${p.add(owner)} AND status = 'Processing'
      RETURNING uid`;
    let record = '';
    if (attempt) {
      const a = attemptParams(attempt);
      record = `, recorded AS (
        INSERT INTO ${this.attempts} (${ATTEMPT_COLUMNS})
        SELECT ${p.add(a.uid)}::text, ${p.add(a.delivery_id)}::text, ${p.add(a.endpoint_id)}::text, ${p.add(a.url)}::text, ${p.add(a.method)}::text,
          ${p.add(a.request_headers)}::jsonb, ${p.add(a.http_status)}::integer, ${p.add(a.response_headers)}::jsonb, ${p.add(a.response_body)}::text,
          ${p.add(a.error)}::text, ${p.add(a.success)}::boolean, ${p.add(a.latency_ms)}::integer, ${p.add(a.requested_at)}::bigint, ${p.add(a.responded_at)}::bigint
        FROM done
      )`;
    }
    const { rows } = await this.db.query<Row>(`WITH done AS (${done})${record} SELECT count(*) AS n FROM done`, p.values);
    return num(rows[0]!.n) > 0;
  }

  /** The delivery's committed state (another instance's claim included), or undefined. */
  async getDelivery(uid: string): Promise<DeliveryRecord | undefined> {
    const { rows } = await this.db.query<Row>(`SELECT ${DELIVERY_COLUMNS} FROM ${this.deliveries} WHERE uid = $1`, [uid]);
    return rows[0] && toDelivery(rows[0]);
  }

  /** Newest first by uid; every filter field narrows (empty lists do not). */
  async listDeliveries(filter: DeliveryFilter, page: PageRequest): Promise<RecordPage<DeliveryRecord>> {
    const p = new SqlParams();
    return this.page(this.deliveries, DELIVERY_COLUMNS, deliveryWhere(filter, p), p, page, toDelivery);
  }

  /**
   * One UPDATE of the matching deliveries that are in `fromStatuses` and not leased. A delivery a worker claims
   * meanwhile is re-checked against `lease_owner IS NULL` on its latest version and left alone, so a resend never
   * resets a delivery under someone's lease; rows are locked in uid order, so concurrent resends do not deadlock.
   */
  async reschedule(filter: DeliveryFilter & { uids?: string[] }, fromStatuses: DeliveryStatus[], now: number): Promise<string[]> {
    if (fromStatuses.length === 0 || (filter.uids && filter.uids.length === 0)) return [];
    const p = new SqlParams();
    const where = deliveryWhere(filter, p);
    where.push(`status IN (${p.list(fromStatuses)})`, 'lease_owner IS NULL');
    if (filter.uids) where.push(`uid IN (${p.list(filter.uids)})`);
    const at = p.add(now);
    // Rows are locked in uid order: two resends over overlapping deliveries cannot deadlock. A row another
    // transaction holds is waited for, then re-checked (a delivery claimed meanwhile no longer matches).
    const { rows } = await this.db.query<Row>(
      `UPDATE ${this.deliveries} AS d SET status = 'Scheduled', num_trials = 0, next_send_at = ${at}, description = '', updated_at = ${at}
       FROM (SELECT uid FROM ${this.deliveries} WHERE ${where.join(' AND ')} ORDER BY uid FOR UPDATE) AS picked
       WHERE d.uid = picked.uid RETURNING d.uid`,
      p.values,
    );
    return rows.map((r) => String(r.uid));
  }

  /** In the order they were recorded (an identity column, not the uid or the clock). */
  async listAttempts(deliveryId: string): Promise<AttemptRecord[]> {
    const { rows } = await this.db.query<Row>(`SELECT ${ATTEMPT_COLUMNS} FROM ${this.attempts} WHERE delivery_id = $1 ORDER BY seq`, [deliveryId]);
    return rows.map(toAttempt);
  }

  /** The database is SqlConvoyStorage's to close. */
  async close(): Promise<void> {}

  /** Newest first by uid, continuing after the cursor; one row more than asked tells whether a next page exists. */
  private async page<T extends { uid: string }>(table: string, columns: string, where: string[], p: SqlParams, page: PageRequest, map: (r: Row) => T): Promise<RecordPage<T>> {
    if (page.cursor !== undefined) where.push(`uid < ${p.add(page.cursor)}`);
    const sql = `SELECT ${columns} FROM ${table} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY uid DESC LIMIT ${p.add(page.limit + 1)}`;
    const { rows } = await this.db.query<Row>(sql, p.values);
    const items = rows.slice(0, page.limit).map(map);
    return { items, next_cursor: rows.length > page.limit ? items[items.length - 1]!.uid : undefined };
  }
}

function deliveryWhere(f: DeliveryFilter, p: SqlParams): string[] {
  const where: string[] = [];
  if (f.endpointIds?.length) where.push(`endpoint_id IN (${p.list(f.endpointIds)})`);
  if (f.eventId !== undefined) where.push(`event_id = ${p.add(f.eventId)}`);
  if (f.eventType !== undefined) where.push(`event_type = ${p.add(f.eventType)}`);
  if (f.idempotencyKey !== undefined) where.push(`idempotency_key = ${p.add(f.idempotencyKey)}`);
  if (f.statuses?.length) where.push(`status IN (${p.list(f.statuses)})`);
  if (f.createdFrom !== undefined) where.push(`created_at >= ${p.add(f.createdFrom)}`);
  if (f.createdTo !== undefined) where.push(`created_at <= ${p.add(f.createdTo)}`);
  return where;
}

function endpointParams(e: EndpointRecord): unknown[] {
  return [
    e.uid,
    e.name,
    e.url,
    e.owner_id,
    e.description,
    toJson(e.secrets),
    e.advanced_signatures,
    e.signature_format,
    toJson(e.event_types),
    e.http_timeout,
    e.rate_limit,
    e.rate_limit_duration,
    e.support_email,
    e.api_key_header === null ? null : toJson(e.api_key_header),
    e.status,
    msFromIso(e.created_at, 'endpoint.created_at'),
    msFromIso(e.updated_at, 'endpoint.updated_at'),
  ];
}

function attemptParams(a: AttemptRecord) {
  return {
    ...a,
    request_headers: toJson(a.request_headers),
    response_headers: toJson(a.response_headers),
    response_body: storableText(a.response_body),
    error: storableText(a.error),
    requested_at: msFromIso(a.requested_at, 'attempt.requested_at'),
    responded_at: a.responded_at === null ? null : msFromIso(a.responded_at, 'attempt.responded_at'),
  };
}

function toEndpoint(r: Row): EndpointRecord {
  return {
    uid: String(r.uid),
    name: String(r.name),
    url: String(r.url),
    owner_id: String(r.owner_id),
    description: String(r.description),
    secrets: fromJson(r.secrets),
    advanced_signatures: Boolean(r.advanced_signatures),
    signature_format: r.signature_format as EndpointRecord['signature_format'],
    event_types: fromJson(r.event_types),
    http_timeout: num(r.http_timeout),
    rate_limit: num(r.rate_limit),
    rate_limit_duration: num(r.rate_limit_duration),
    support_email: String(r.support_email),
    api_key_header: r.api_key_header === null || r.api_key_header === undefined ? null : fromJson(r.api_key_header),
    status: r.status as EndpointRecord['status'],
    created_at: isoFromMs(r.created_at),
    updated_at: isoFromMs(r.updated_at),
  };
}

function toDelivery(r: Row): DeliveryRecord {
  return {
    uid: String(r.uid),
    event_id: String(r.event_id),
    endpoint_id: String(r.endpoint_id),
    event_type: String(r.event_type),
    idempotency_key: String(r.idempotency_key),
    payload: String(r.payload),
    custom_headers: fromJson(r.custom_headers),
    status: r.status as DeliveryStatus,
    description: String(r.description),
    num_trials: num(r.num_trials),
    retry_limit: num(r.retry_limit),
    next_send_at: num(r.next_send_at),
    lease_owner: textOrNull(r.lease_owner),
    latency_ms: numOrNull(r.latency_ms),
    created_at: isoFromMs(r.created_at),
    updated_at: isoFromMs(r.updated_at),
  };
}

function toAttempt(r: Row): AttemptRecord {
  return {
    uid: String(r.uid),
    delivery_id: String(r.delivery_id),
    endpoint_id: String(r.endpoint_id),
    url: String(r.url),
    method: 'POST',
    request_headers: fromJson(r.request_headers),
    http_status: numOrNull(r.http_status),
    response_headers: fromJson(r.response_headers),
    response_body: String(r.response_body),
    error: String(r.error),
    success: Boolean(r.success),
    latency_ms: num(r.latency_ms),
    requested_at: isoFromMs(r.requested_at),
    responded_at: isoOrNullFromMs(r.responded_at),
  };
}
