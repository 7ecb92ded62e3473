import { createHash } from 'node:crypto';
import { TransactionRequiredError } from '../../errors/outbox.errors.js';
import type {
  AttemptRecord,
  DeliveryFilter,
  DeliveryRecord,
  DeliveryStatus,
  EndpointFilter,
  EndpointRecord,
  EventRecord,
  PageRequest,
  PruneCounts,
  QueueStats,
  RecordPage,
  RetentionPolicy,
  Settlement,
} from '../records.js';
import type { WebhookTarget } from '../../publishing/webhook.types.js';
import type { Enqueued, WebhookStore } from '../webhook-store.js';
import { DEFAULT_SCHEMA, quoteSchema } from './migrations.js';
import { SecretCipher } from './secret-cipher.js';
import type { SqlDatabase, SqlQueryable } from './sql.js';
import { fromJson, num, numOrNull, SqlParams, sqlState, storableText, textOrNull, toJson } from './sql-values.js';

type Row = Record<string, unknown>;

/** Statuses the pipeline still acts on; the others are the final log. */
const UNFINISHED = `('Scheduled', 'Retry', 'Processing')`;
/** The final log (what retention prunes); the migration's deliveries_finished_idx has the same predicate. */
const FINISHED = `('Success', 'Failure', 'Discarded')`;

const ENDPOINT_COLUMNS =
  'uid, name, url, owner_id, description, secrets, advanced_signatures, signature_format, event_types, http_timeout, rate_limit, rate_limit_duration, support_email, api_key_header, status, created_at, updated_at';
const DELIVERY_COLUMNS =
  'uid, event_id, endpoint_id, event_type, idempotency_key, payload, custom_headers, target, ordering_key, status, description, num_trials, retry_limit, next_send_at, lease_token, latency_ms, created_at, updated_at, traceparent, tracestate';
/** The deliveries' columns as json_to_recordset reads them. */
const DELIVERY_RECORDSET = `uid text, event_id text, endpoint_id text, event_type text, idempotency_key text, payload text, custom_headers jsonb, target jsonb,
  ordering_key text, status text, description text, num_trials integer, retry_limit integer, next_send_at bigint, lease_token text, latency_ms integer,
  created_at bigint, updated_at bigint, traceparent text, tracestate text`;
const ATTEMPT_COLUMNS =
  'uid, delivery_id, endpoint_id, url, method, request_headers, http_status, response_headers, response_body, error, success, latency_ms, requested_at, responded_at';
const EVENT_COLUMNS =
  'uid, event_type, idempotency_key, payload, custom_headers, endpoints, is_duplicate_event, created_at';

/** The savepoint that proves a caller's connection is inside a transaction (SAVEPOINT fails outside one). */
const SAVEPOINT = 'nestjs_convoy_enqueue';

/**
 * The pipeline's store in PostgreSQL (node-postgres) or PGlite: the same SQL on both. Claims use
 * `FOR UPDATE SKIP LOCKED` and a lease token that fences every later write; one original event per idempotency key
 * is kept by a unique index; the log (deliveries, attempts) outlives its endpoint. Multi-step writes are single
 * statements (data-modifying CTEs): atomic without a transaction, one round trip, and many of them in one go where
 * the pipeline groups them (enqueue, settle).
 *
 * The connection belongs to whoever opened it: close() does nothing (SqlConvoyStorage.close() closes the database).
 */
export class SqlWebhookStore implements WebhookStore {
  readonly volatile = false;
  /** Half the connections, at most 4: the others stay free for claims and outcomes. */
  readonly concurrentWrites: number;
  private readonly endpoints: string;
  private readonly events: string;
  private readonly deliveries: string;
  private readonly attempts: string;
  /** The statements run for every few events, prepared once per connection where the database can. */
  private readonly hot: Record<'insert' | 'insertHandOvers' | 'claim' | 'renew' | 'settle' | 'nextDueAt', Statement>;

  /**
   * `cipher`: encrypts the secrets it writes (endpoint secrets, API-key header values, `{ url, secret }` targets) and
   * decrypts them on read; without it they are written as given (a sealed value read without its key throws).
   */
  constructor(
    private readonly db: SqlDatabase,
    private readonly schema: string = DEFAULT_SCHEMA,
    private readonly cipher?: SecretCipher,
  ) {
    this.concurrentWrites = Math.max(1, Math.min(4, Math.floor((db.connections ?? 1) / 2)));
    const s = quoteSchema(schema);
    this.endpoints = `${s}.endpoints`;
    this.events = `${s}.events`;
    this.deliveries = `${s}.deliveries`;
    this.attempts = `${s}.delivery_attempts`;
    this.hot = {
      insert: statement(`WITH given AS (
           SELECT * FROM json_to_recordset($1::json) AS e(uid text, event_type text, idempotency_key text, payload text, custom_headers jsonb,
             endpoints jsonb, created_at bigint, ord integer)
         ), original AS (
           INSERT INTO ${this.events} (${EVENT_COLUMNS})
           SELECT uid, event_type, idempotency_key, payload, custom_headers, endpoints, false, created_at FROM given ORDER BY ord
           ON CONFLICT (idempotency_key) WHERE NOT is_duplicate_event DO NOTHING
           RETURNING uid
         ), duplicate AS (
           INSERT INTO ${this.events} (${EVENT_COLUMNS})
           SELECT uid, event_type, idempotency_key, payload, custom_headers, '[]'::jsonb, true, created_at FROM given
           WHERE uid NOT IN (SELECT uid FROM original)
           ON CONFLICT DO NOTHING
         ), delivered AS (
           INSERT INTO ${this.deliveries} (${DELIVERY_COLUMNS})
           SELECT ${DELIVERY_COLUMNS} FROM json_to_recordset($2::json) AS d(${DELIVERY_RECORDSET}, ord integer, fan_out boolean)
           WHERE NOT d.fan_out OR d.event_id IN (SELECT uid FROM original)
           ORDER BY d.ord
           ON CONFLICT (uid) DO NOTHING
         )
         SELECT uid FROM original`),
      insertHandOvers: statement(`INSERT INTO ${this.deliveries} (${DELIVERY_COLUMNS})
         SELECT ${DELIVERY_COLUMNS} FROM json_array_elements($1::json) WITH ORDINALITY AS e(row, ord),
           json_to_record(e.row) AS d(${DELIVERY_RECORDSET})
         ORDER BY e.ord
         ON CONFLICT (uid) DO NOTHING`),
      claim: statement(`UPDATE ${this.deliveries} AS d
         SET status = 'Processing', lease_token = $3, next_send_at = $4, updated_at = $1
         FROM (
           SELECT c.uid, c.next_send_at AS due_at, c.seq FROM ${this.deliveries} AS c
           WHERE c.status IN ${UNFINISHED} AND c.next_send_at <= $1
             AND (c.ordering_key IS NULL OR NOT EXISTS (
               SELECT 1 FROM ${this.deliveries} AS e WHERE e.ordering_key = c.ordering_key AND e.seq < c.seq AND e.status IN ${UNFINISHED}
                 AND e.endpoint_id IS NOT DISTINCT FROM c.endpoint_id))
           ORDER BY c.next_send_at, c.seq
           LIMIT $2
           FOR UPDATE OF c SKIP LOCKED
         ) AS due
         WHERE d.uid = due.uid
         RETURNING due.due_at, due.seq, ${qualified('d', DELIVERY_COLUMNS)}`),
      renew: statement(
        `UPDATE ${this.deliveries} SET next_send_at = $3 WHERE uid = ANY($1::text[]) AND lease_token = $2 AND status = 'Processing' RETURNING uid`,
      ),
      settle: statement(`WITH s AS (
           -- A delivery settled twice in one batch: the first outcome counts, as if they came one after the other.
           SELECT DISTINCT ON (uid) * FROM json_to_recordset($1::json) AS s(uid text, lease_token text, status text, description text, num_trials integer,
             next_send_at bigint, latency_ms integer, forget boolean, ord integer, attempt_uid text)
           ORDER BY uid, ord
         ), updated AS (
           UPDATE ${this.deliveries} AS d
           SET status = s.status, description = s.description, num_trials = s.num_trials, next_send_at = s.next_send_at,
               latency_ms = s.latency_ms, lease_token = NULL, updated_at = $3
           FROM s WHERE d.uid = s.uid AND d.lease_token = s.lease_token AND d.status = 'Processing' AND NOT s.forget
           RETURNING d.uid
         ), forgotten AS (
           DELETE FROM ${this.deliveries} AS d USING s
           WHERE d.uid = s.uid AND d.lease_token = s.lease_token AND d.status = 'Processing' AND s.forget
           RETURNING d.uid
         ), logged AS (
           INSERT INTO ${this.attempts} (${ATTEMPT_COLUMNS})
           SELECT ${ATTEMPT_COLUMNS} FROM json_to_recordset($2::json) AS a(uid text, delivery_id text, endpoint_id text, url text, method text,
             request_headers jsonb, http_status integer, response_headers jsonb, response_body text, error text, success boolean, latency_ms integer,
             requested_at bigint, responded_at bigint)
           WHERE a.uid IN (SELECT s.attempt_uid FROM s JOIN updated ON updated.uid = s.uid)
         )
         SELECT uid FROM updated UNION ALL SELECT uid FROM forgotten`),
      nextDueAt: statement(`SELECT min(next_send_at) AS next FROM ${this.deliveries} WHERE status IN ${UNFINISHED}`),
    };
  }

  /** A hot statement: named and prepared when it runs on the store's own database and the database can. */
  private run<R>(q: SqlQueryable, { name, text }: Statement, params: unknown[]): Promise<{ rows: R[] }> {
    return q === this.db && this.db.queryPrepared
      ? this.db.queryPrepared<R>(name, text, params)
      : q.query<R>(text, params);
  }

  // ------------------------------------------------------------ the queue

  /**
   * One statement for the whole batch: events are inserted unless an original with their idempotency key exists
   * (the partial unique index arbitrates, also between instances and within the batch), the others as duplicates;
   * deliveries only with an original event, or with none (a hand-over); a delivery whose uid exists is skipped.
   *
   * With `tx`, the caller's connection is proven to be inside a transaction with a SAVEPOINT, which PostgreSQL
   * refuses outside one (a pool or an autocommit client would commit the deliveries even if the caller's change
   * rolls back: TransactionRequiredError); a failure rolls back to the savepoint, leaving the caller's transaction
   * usable. Ordering keys: the writing transaction first takes `pg_advisory_xact_lock(hashtext(schema:key))` for each
   * key (in hash order, so two writers cannot deadlock): a second transaction on the same key waits for the first to
   * commit, so its deliveries get a larger seq, and a key's order is its commit order.
   */
  async enqueue(items: Enqueued[], tx?: SqlQueryable): Promise<boolean[]> {
    if (!tx) {
      if (items.length === 0) return [];
      // One statement is atomic by itself; keys need the lock and the insert in one transaction.
      if (!items.some((item) => item.deliveries.some((d) => d.ordering_key !== null)))
        return this.insert(this.db, items);
      return this.db.transaction((own) => this.insert(own, items));
    }
    try {
      await tx.query(`SAVEPOINT ${SAVEPOINT}`);
    } catch (error) {
      // 25P01 no_active_sql_transaction: "SAVEPOINT can only be used in transaction blocks".
      if (sqlState(error) === '25P01' || /transaction block/i.test(String((error as Error)?.message)))
        throw new TransactionRequiredError();
      throw error;
    }
    try {
      const stored = items.length > 0 ? await this.insert(tx, items) : [];
      await tx.query(`RELEASE SAVEPOINT ${SAVEPOINT}`);
      return stored;
    } catch (error) {
      await tx
        .query(`ROLLBACK TO SAVEPOINT ${SAVEPOINT}`)
        .then(() => tx.query(`RELEASE SAVEPOINT ${SAVEPOINT}`))
        .catch(() => undefined);
      throw error;
    }
  }

  /** Key locks, then events and deliveries in one statement (rows as JSON: one parameter each, any batch size, any driver). */
  private async insert(q: SqlQueryable, items: Enqueued[]): Promise<boolean[]> {
    const keys = [
      ...new Set(
        items.flatMap((item) => item.deliveries.map((d) => d.ordering_key).filter((k): k is string => k !== null)),
      ),
    ];
    if (keys.length > 0) {
      // The subquery's ORDER BY fixes the order the locks are taken in (PostgreSQL's documented pattern).
      await q.query(
        `SELECT pg_advisory_xact_lock(h) FROM (SELECT DISTINCT hashtext($1 || ':' || k) AS h FROM json_array_elements_text($2::json) AS k ORDER BY h) AS locks`,
        [this.schema, JSON.stringify(keys)],
      );
    }
    if (items.every((item) => item.event === undefined)) return this.insertHandOvers(q, items);
    const events = items.flatMap((item, ord) => (item.event ? [{ ...item.event, ord }] : []));
    const deliveries = items.flatMap((item, ord) =>
      item.deliveries.map((d) => ({ ...d, target: this.sealTarget(d.target), ord, fan_out: item.event !== undefined })),
    );
    const { rows } = await this.run<{ uid: string }>(q, this.hot.insert, [
      JSON.stringify(events),
      JSON.stringify(deliveries),
    ]);
    const originals = new Set(rows.map((r) => r.uid));
    return items.map((item) => item.event === undefined || originals.has(item.event.uid));
  }

  /** Hand-overs only (no event records, so no idempotency keys to arbitrate): one plain INSERT of the deliveries. */
  private async insertHandOvers(q: SqlQueryable, items: Enqueued[]): Promise<boolean[]> {
    // The records as they are (no copies): their position in the array is the order they are stored in.
    const deliveries: DeliveryRecord[] = [];
    for (const item of items)
      for (const d of item.deliveries)
        deliveries.push(this.cipher && 'secret' in d.target ? { ...d, target: this.sealTarget(d.target) } : d);
    await this.run(q, this.hot.insertHandOvers, [JSON.stringify(deliveries)]);
    return items.map(() => true);
  }

  /**
   * One statement: the subquery picks due deliveries, earliest first, and locks them with `FOR UPDATE SKIP LOCKED`,
   * so concurrent workers skip each other's rows instead of waiting or claiming them twice; a row another worker
   * claimed and committed meanwhile is re-checked (READ COMMITTED) and dropped. A delivery with an ordering key is
   * eligible only when no earlier unfinished delivery of its key (and endpoint) remains.
   */
  async claim(now: number, limit: number, leaseToken: string, leaseUntil: number): Promise<DeliveryRecord[]> {
    if (limit <= 0) return [];
    const { rows } = await this.run<Row>(this.db, this.hot.claim, [now, limit, leaseToken, leaseUntil]);
    // RETURNING has no order; attempt them earliest first.
    rows.sort((a, b) => num(a.due_at) - num(b.due_at) || num(a.seq) - num(b.seq));
    return rows.map(this.toDelivery);
  }

  async renew(uids: string[], leaseToken: string, leaseUntil: number): Promise<string[]> {
    if (uids.length === 0) return [];
    const { rows } = await this.run<{ uid: string }>(this.db, this.hot.renew, [uids, leaseToken, leaseUntil]);
    return rows.map((r) => r.uid);
  }

  /**
   * One statement for the whole batch: each delivery takes its new state only while it is Processing under its lease
   * token (a worker whose lease ran out and was taken over writes nothing: neither state nor attempt), forgotten ones
   * are deleted, and the attempts are logged for the deliveries that were updated.
   */
  async settle(settlements: Settlement[]): Promise<string[]> {
    if (settlements.length === 0) return [];
    const outcomes = settlements.map(({ attempt, ...s }, ord) => ({
      ...s,
      ord,
      attempt_uid: attempt?.uid ?? null,
      forget: s.forget === true,
      description: storableText(s.description),
    }));
    const attempts = settlements.flatMap((s) =>
      s.attempt
        ? [{ ...s.attempt, response_body: storableText(s.attempt.response_body), error: storableText(s.attempt.error) }]
        : [],
    );
    const { rows } = await this.run<{ uid: string }>(this.db, this.hot.settle, [
      JSON.stringify(outcomes),
      JSON.stringify(attempts),
      Date.now(),
    ]);
    return rows.map((r) => r.uid);
  }

  /** The earliest next_send_at of the unfinished deliveries (a Processing one's is its lease's end), from the due index. */
  async nextDueAt(): Promise<number | undefined> {
    const { rows } = await this.run<Row>(this.db, this.hot.nextDueAt, []);
    return numOrNull(rows[0]?.next) ?? undefined;
  }

  async stats(now: number): Promise<QueueStats> {
    const { rows } = await this.db.query<Row>(
      `SELECT count(*) FILTER (WHERE status <> 'Processing' OR next_send_at <= $1) AS pending,
              count(*) FILTER (WHERE status = 'Processing' AND next_send_at > $1) AS in_flight,
              count(*) FILTER (WHERE endpoint_id IS NULL) AS pending_hand_overs,
              min(created_at) AS oldest,
              (SELECT count(*) FROM ${this.deliveries} WHERE endpoint_id IS NULL AND status = 'Failure') AS failed_hand_overs
       FROM ${this.deliveries} WHERE status IN ${UNFINISHED}`,
      [now],
    );
    const r = rows[0]!;
    const oldest = numOrNull(r.oldest);
    return {
      pending: num(r.pending),
      inFlight: num(r.in_flight),
      lagMs: oldest === null ? 0 : Math.max(0, now - oldest),
      pendingHandOvers: num(r.pending_hand_overs),
      failedHandOvers: num(r.failed_hand_overs),
    };
  }

  /**
   * One UPDATE of the matching deliveries that are in `fromStatuses` and not leased: due `now`, no attempts, a new seq
   * (behind the unfinished deliveries of its key). A delivery a worker claims meanwhile is re-checked against
   * `lease_token IS NULL` on its latest version and left alone; rows are locked in uid order, so concurrent
   * reschedules of overlapping deliveries cannot deadlock.
   */
  async reschedule(
    filter: DeliveryFilter & { uids?: string[] },
    fromStatuses: DeliveryStatus[],
    now: number,
  ): Promise<string[]> {
    if (fromStatuses.length === 0 || (filter.uids && filter.uids.length === 0)) return [];
    const p = new SqlParams();
    const where = deliveryWhere(filter, p);
    where.push(`status IN (${p.list(fromStatuses)})`, 'lease_token IS NULL');
    if (filter.uids) where.push(`uid IN (${p.list(filter.uids)})`);
    const at = p.add(now);
    const sequence = p.add(`${quoteSchema(this.schema)}.deliveries`);
    const { rows } = await this.db.query<Row>(
      `UPDATE ${this.deliveries} AS d SET status = 'Scheduled', num_trials = 0, next_send_at = ${at}, description = '', updated_at = ${at},
         seq = nextval(pg_get_serial_sequence(${sequence}, 'seq'))
       FROM (SELECT uid FROM ${this.deliveries} WHERE ${where.join(' AND ')} ORDER BY uid FOR UPDATE) AS picked
       WHERE d.uid = picked.uid RETURNING d.uid`,
      p.values,
    );
    return rows.map((r) => String(r.uid));
  }

  // ------------------------------------------------------------ the log

  async getDelivery(uid: string): Promise<DeliveryRecord | undefined> {
    const { rows } = await this.db.query<Row>(`SELECT ${DELIVERY_COLUMNS} FROM ${this.deliveries} WHERE uid = $1`, [
      uid,
    ]);
    return rows[0] && this.toDelivery(rows[0]);
  }

  /** Newest first by uid; every filter field narrows (empty lists do not). */
  async listDeliveries(filter: DeliveryFilter, page: PageRequest): Promise<RecordPage<DeliveryRecord>> {
    const p = new SqlParams();
    return this.page(this.deliveries, DELIVERY_COLUMNS, deliveryWhere(filter, p), p, page, this.toDelivery);
  }

  /** In the order they were recorded (an identity column, not the uid or the clock). */
  async listAttempts(deliveryId: string): Promise<AttemptRecord[]> {
    const { rows } = await this.db.query<Row>(
      `SELECT ${ATTEMPT_COLUMNS} FROM ${this.attempts} WHERE delivery_id = $1 ORDER BY seq`,
      [deliveryId],
    );
    return rows.map(toAttempt);
  }

  /** The event as stored (a duplicate shows is_duplicate_event and no endpoints), or undefined. */
  async getEvent(uid: string): Promise<EventRecord | undefined> {
    const { rows } = await this.db.query<Row>(`SELECT ${EVENT_COLUMNS} FROM ${this.events} WHERE uid = $1`, [uid]);
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
        created_at: num(r.created_at),
      }
    );
  }

  // ------------------------------------------------------------ retention

  /**
   * Per table, one cut-off computed first (the later of the age limit and the oldest of the newest maxRows rows),
   * then DELETEs of at most batchSize rows below it, oldest first, each its own statement; rows another connection has
   * locked (a reschedule, another instance's prune) are skipped, and a row rescheduled meanwhile is re-checked when it
   * is locked and kept. The uids go through an array so that the DELETE finds them by primary key. Deleting a delivery
   * deletes its attempts (foreign key, ON DELETE CASCADE).
   */
  async prune(policy: RetentionPolicy, now: number, signal?: AbortSignal): Promise<PruneCounts> {
    const { maxRows, batchSize } = policy;
    const old = now - policy.maxAgeMs;
    const counts: PruneCounts = { deliveries: 0, attempts: 0, events: 0 };
    const later = (a: [number, string], b: [number, string] | undefined): [number, string] =>
      b && (b[0] > a[0] || (b[0] === a[0] && b[1] > a[1])) ? b : a;

    const lastKept = async (table: string, time: string, where: string): Promise<[number, string] | undefined> => {
      const { rows } = await this.db.query<Row>(
        `SELECT ${time} AS at, uid FROM ${table} ${where} ORDER BY ${time} DESC, uid DESC OFFSET $1 LIMIT 1`,
        [maxRows - 1],
      );
      return rows[0] && [num(rows[0].at), String(rows[0].uid)];
    };
    /** Runs `statement` (its last parameter: the batch size) until it deletes fewer than a batch. */
    const drain = async (statement: string, cut: unknown[]): Promise<number> => {
      let deleted = 0;
      while (!signal?.aborted) {
        const { rows } = await this.db.query(statement, [...cut, batchSize]);
        deleted += rows.length;
        if (rows.length < batchSize) break;
        await new Promise((resolve) => setImmediate(resolve)); // let the pipeline's statements in between
      }
      return deleted;
    };

    const deliveryCut = later([old, ''], await lastKept(this.deliveries, 'updated_at', `WHERE status IN ${FINISHED}`));
    counts.deliveries = await drain(
      `DELETE FROM ${this.deliveries} WHERE uid = ANY(ARRAY(
         SELECT uid FROM ${this.deliveries} WHERE status IN ${FINISHED} AND (updated_at, uid) < ($1, $2)
         ORDER BY updated_at, uid LIMIT $3 FOR UPDATE SKIP LOCKED))
       RETURNING 1`,
      deliveryCut,
    );

    const { rows: kept } = await this.db.query<Row>(
      `SELECT seq FROM ${this.attempts} ORDER BY seq DESC OFFSET $1 LIMIT 1`,
      [maxRows - 1],
    );
    if (kept[0] && !signal?.aborted)
      counts.attempts = await drain(
        `DELETE FROM ${this.attempts} WHERE uid = ANY(ARRAY(
           SELECT a.uid FROM ${this.attempts} AS a WHERE a.seq < $1
             AND NOT EXISTS (SELECT 1 FROM ${this.deliveries} AS d WHERE d.uid = a.delivery_id AND d.status IN ${UNFINISHED})
           ORDER BY a.seq LIMIT $2 FOR UPDATE OF a SKIP LOCKED))
         RETURNING 1`,
        [num(kept[0].seq)],
      );

    const eventCut = later([old, ''], await lastKept(this.events, 'created_at', ''));
    if (!signal?.aborted)
      counts.events = await drain(
        `DELETE FROM ${this.events} WHERE uid = ANY(ARRAY(
           SELECT e.uid FROM ${this.events} AS e WHERE (e.created_at, e.uid) < ($1, $2)
             AND NOT EXISTS (SELECT 1 FROM ${this.deliveries} AS d WHERE d.event_id = e.uid)
           ORDER BY e.created_at, e.uid LIMIT $3 FOR UPDATE OF e SKIP LOCKED))
         RETURNING 1`,
        eventCut,
      );
    return counts;
  }

  // ------------------------------------------------------------ endpoints

  /** Throws when the uid exists (the primary key decides, also between instances). */
  async insertEndpoint(endpoint: EndpointRecord): Promise<void> {
    try {
      await this.db.query(
        `INSERT INTO ${this.endpoints} (${ENDPOINT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9::jsonb, $10, $11, $12, $13, $14::jsonb, $15, $16, $17)`,
        endpointParams(this.sealEndpoint(endpoint)),
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
    const { rows } = await this.db.query(
      `UPDATE ${this.endpoints} SET ${sets} WHERE uid = $1 RETURNING uid`,
      endpointParams(this.sealEndpoint(endpoint)),
    );
    return rows.length > 0;
  }

  /** Deletes the endpoint only: its deliveries and attempts stay (no foreign key), the log outlives it. */
  async deleteEndpoint(uid: string): Promise<boolean> {
    const { rows } = await this.db.query(`DELETE FROM ${this.endpoints} WHERE uid = $1 RETURNING uid`, [uid]);
    return rows.length > 0;
  }

  async getEndpoint(uid: string): Promise<EndpointRecord | undefined> {
    const { rows } = await this.db.query<Row>(`SELECT ${ENDPOINT_COLUMNS} FROM ${this.endpoints} WHERE uid = $1`, [
      uid,
    ]);
    return rows[0] && this.toEndpoint(rows[0]);
  }

  /** The oldest endpoint with exactly this URL and name (found through the URL's index). */
  async findEndpointByUrlAndName(url: string, name: string): Promise<EndpointRecord | undefined> {
    const { rows } = await this.db.query<Row>(
      `SELECT ${ENDPOINT_COLUMNS} FROM ${this.endpoints} WHERE url = $1 AND name = $2 ORDER BY uid LIMIT 1`,
      [url, name],
    );
    return rows[0] && this.toEndpoint(rows[0]);
  }

  /** Newest first by uid; `q` matches a substring of the name literally (strpos, not LIKE: `%` and `_` are plain characters). */
  async listEndpoints(filter: EndpointFilter, page: PageRequest): Promise<RecordPage<EndpointRecord>> {
    const p = new SqlParams();
    const where: string[] = [];
    if (filter.ownerId !== undefined) where.push(`owner_id = ${p.add(filter.ownerId)}`);
    if (filter.q !== undefined) where.push(`strpos(name, ${p.add(filter.q)}) > 0`);
    return this.page(this.endpoints, ENDPOINT_COLUMNS, where, p, page, this.toEndpoint);
  }

  /** Every endpoint, oldest uid first (fan-out filters them in memory; a registry holds thousands, not millions). */
  async allEndpoints(): Promise<EndpointRecord[]> {
    const { rows } = await this.db.query<Row>(`SELECT ${ENDPOINT_COLUMNS} FROM ${this.endpoints} ORDER BY uid`);
    return rows.map(this.toEndpoint);
  }

  /** The database is SqlConvoyStorage's to close. */
  async close(): Promise<void> {}

  // ------------------------------------------------------------ secrets at rest

  /** As stored: each secret sealed under the current key (when a key is configured). */
  private sealEndpoint(e: EndpointRecord): EndpointRecord {
    const cipher = this.cipher;
    if (!cipher) return e;
    return {
      ...e,
      secrets: e.secrets.map((s) => ({ ...s, value: cipher.encrypt(s.value) })),
      api_key_header: e.api_key_header && { ...e.api_key_header, value: cipher.encrypt(e.api_key_header.value) },
    };
  }

  private sealTarget(target: WebhookTarget): WebhookTarget {
    return this.cipher && 'secret' in target && typeof target.secret === 'string'
      ? { ...target, secret: this.cipher.encrypt(target.secret) }
      : target;
  }

  /** A stored value in clear: decrypted when sealed (SecretDecryptionError without its key), else as it is. */
  private reveal(stored: string): string {
    return this.cipher ? this.cipher.decrypt(stored) : SecretCipher.open(stored);
  }

  private readonly toEndpoint = (r: Row): EndpointRecord => {
    const e = toEndpoint(r);
    for (const s of e.secrets) s.value = this.reveal(s.value);
    if (e.api_key_header) e.api_key_header.value = this.reveal(e.api_key_header.value);
    return e;
  };

  private readonly toDelivery = (r: Row): DeliveryRecord => {
    const d = toDelivery(r);
    if ('secret' in d.target && typeof d.target.secret === 'string') d.target.secret = this.reveal(d.target.secret);
    return d;
  };

  /**
   * Key ids that sealed secrets still needed name and `secretKeys` lacks: in endpoints, and in unfinished deliveries
   * with a `{ url, secret }` target (finished ones are only read in the log).
   */
  async missingSecretKeys(): Promise<string[]> {
    const { rows } = await this.db.query<{ id: string }>(
      `SELECT DISTINCT substring(v FROM '^enc:v1:([A-Za-z0-9_-]{1,32}):') AS id FROM (
         SELECT x ->> 'value' AS v FROM ${this.endpoints}, jsonb_array_elements(secrets) AS x
         UNION ALL SELECT api_key_header ->> 'value' FROM ${this.endpoints} WHERE api_key_header IS NOT NULL
         UNION ALL SELECT target ->> 'secret' FROM ${this.deliveries}
           WHERE status IN ('Scheduled', 'Retry', 'Processing') AND target ->> 'secret' IS NOT NULL
       ) AS stored WHERE v LIKE 'enc:v1:%'`,
    );
    return rows.map((r) => r.id).filter((id) => id && !this.cipher?.hasKey(id));
  }

  /**
   * Moves every stored secret to the current key (or, when none is configured, nothing): endpoints, then deliveries
   * with a `{ url, secret }` target, `batchSize` rows per statement. A row changed meanwhile is left for the next run
   * (its writer sealed it under the current key). Returns how many rows were rewritten.
   */
  async reencryptSecrets(batchSize = 500): Promise<{ endpoints: number; deliveries: number }> {
    const cipher = this.cipher;
    const done = { endpoints: 0, deliveries: 0 };
    if (!cipher) return done;
    const stale = (v: string): boolean => !cipher.isCurrent(v);
    for (let after = ''; ;) {
      const { rows } = await this.db.query<Row>(
        `SELECT uid, secrets, api_key_header FROM ${this.endpoints} WHERE uid > $1 ORDER BY uid LIMIT $2`,
        [after, batchSize],
      );
      for (const r of rows) {
        const secrets = fromJson<EndpointRecord['secrets']>(r.secrets);
        const header = r.api_key_header == null ? null : fromJson<{ name: string; value: string }>(r.api_key_header);
        if (!secrets.some((s) => stale(s.value)) && !(header && stale(header.value))) continue;
        const sealed = (v: string): string => (stale(v) ? cipher.encrypt(cipher.decrypt(v)) : v);
        const { rows: updated } = await this.db.query(
          `UPDATE ${this.endpoints} SET secrets = $2::jsonb, api_key_header = $3::jsonb
           WHERE uid = $1 AND secrets = $4::jsonb AND api_key_header IS NOT DISTINCT FROM $5::jsonb RETURNING uid`,
          [
            r.uid,
            toJson(secrets.map((s) => ({ ...s, value: sealed(s.value) }))),
            header && toJson({ ...header, value: sealed(header.value) }),
            toJson(secrets),
            header && toJson(header),
          ],
        );
        done.endpoints += updated.length;
      }
      if (rows.length < batchSize) break;
      after = String(rows[rows.length - 1]!.uid);
    }
    const prefix = `enc:v1:${cipher.currentId}:`;
    for (let after = ''; ;) {
      const { rows } = await this.db.query<Row>(
        `SELECT uid, target FROM ${this.deliveries}
         WHERE uid > $1 AND target ->> 'secret' IS NOT NULL AND NOT starts_with(target ->> 'secret', $2) ORDER BY uid LIMIT $3`,
        [after, prefix, batchSize],
      );
      for (const r of rows) {
        const target = fromJson<{ secret: string }>(r.target);
        if (!stale(target.secret)) continue;
        const { rows: updated } = await this.db.query(
          `UPDATE ${this.deliveries} SET target = $2::jsonb WHERE uid = $1 AND target = $3::jsonb RETURNING uid`,
          [r.uid, toJson({ ...target, secret: cipher.encrypt(cipher.decrypt(target.secret)) }), toJson(target)],
        );
        done.deliveries += updated.length;
      }
      if (rows.length < batchSize) break;
      after = String(rows[rows.length - 1]!.uid);
    }
    return done;
  }

  /** Newest first by uid, continuing after the cursor; one row more than asked tells whether a next page exists. */
  private async page<T extends { uid: string }>(
    table: string,
    columns: string,
    where: string[],
    p: SqlParams,
    page: PageRequest,
    map: (r: Row) => T,
  ): Promise<RecordPage<T>> {
    if (page.cursor !== undefined) where.push(`uid < ${p.add(page.cursor)}`);
    const sql = `SELECT ${columns} FROM ${table} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY uid DESC LIMIT ${p.add(page.limit + 1)}`;
    const { rows } = await this.db.query<Row>(sql, p.values);
    const items = rows.slice(0, page.limit).map(map);
    return { items, next_cursor: rows.length > page.limit ? items[items.length - 1]!.uid : undefined };
  }
}

/** A statement's text and the name it is prepared under (unique to the text: stores of two schemas can share a pool). */
interface Statement {
  name: string;
  text: string;
}

function statement(text: string): Statement {
  return { name: `nestjs_convoy_${createHash('sha256').update(text).digest('base64url').slice(0, 22)}`, text };
}

function qualified(alias: string, columns: string): string {
  return columns
    .split(', ')
    .map((c) => `${alias}.${c}`)
    .join(', ');
}

function deliveryWhere(f: DeliveryFilter, p: SqlParams): string[] {
  const where: string[] = [];
  if (f.endpointIds?.length) where.push(`endpoint_id IN (${p.list(f.endpointIds)})`);
  if (f.handOver !== undefined) where.push(f.handOver ? 'endpoint_id IS NULL' : 'endpoint_id IS NOT NULL');
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
    e.created_at,
    e.updated_at,
  ];
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
    created_at: num(r.created_at),
    updated_at: num(r.updated_at),
  };
}

function toDelivery(r: Row): DeliveryRecord {
  return {
    uid: String(r.uid),
    event_id: String(r.event_id),
    endpoint_id: textOrNull(r.endpoint_id),
    event_type: String(r.event_type),
    idempotency_key: String(r.idempotency_key),
    payload: String(r.payload),
    custom_headers: fromJson(r.custom_headers),
    target: fromJson(r.target),
    ordering_key: textOrNull(r.ordering_key),
    status: r.status as DeliveryStatus,
    description: String(r.description),
    num_trials: num(r.num_trials),
    retry_limit: num(r.retry_limit),
    next_send_at: num(r.next_send_at),
    lease_token: textOrNull(r.lease_token),
    latency_ms: numOrNull(r.latency_ms),
    created_at: num(r.created_at),
    updated_at: num(r.updated_at),
    traceparent: textOrNull(r.traceparent),
    tracestate: textOrNull(r.tracestate),
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
    requested_at: num(r.requested_at),
    responded_at: numOrNull(r.responded_at),
  };
}
