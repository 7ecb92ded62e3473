import type { PageRequest, RecordPage } from '../embedded/embedded.types.js';
import { TransactionRequiredError } from '../errors/outbox.errors.js';
import type { ClaimedMessage, OutboxStore } from '../outbox/outbox-store.interface.js';
import type { DeadLetter, OutboxMessage, OutboxStats } from '../outbox/outbox.types.js';
import { DEFAULT_SCHEMA, quoteSchema } from './migrations.js';
import type { SqlDatabase, SqlQueryable } from './sql.js';
import { fromJson, num, numOrNull, sqlState, textOrNull } from './sql-values.js';

type Row = Record<string, unknown>;

/** The columns an OutboxMessage is made of (dead letters add dead_at and reason, the outbox seq and the lease). */
const MESSAGE_COLUMNS = 'id, event_type, payload, target, idempotency_key, headers, ordering_key, attempts, available_at, created_at, last_error';

/** The savepoint that proves a caller's connection is inside a transaction (SAVEPOINT fails outside one). */
const SAVEPOINT = 'nestjs_convoy_add';

/**
 * The outbox in PostgreSQL (node-postgres) or PGlite: the same SQL on both. Every write that finishes a claimed
 * message is fenced by its lease token, claims use `FOR UPDATE SKIP LOCKED`, and messages with an ordering key
 * take a transaction-scoped advisory lock on the key when they are added, so that a key's `seq` is commit order.
 *
 * The connection belongs to whoever opened it: close() does nothing (SqlConvoyStorage.close() closes the database).
 */
export class SqlOutboxStore implements OutboxStore {
  readonly volatile = false;
  private readonly t: string;
  private readonly dead: string;

  constructor(
    private readonly db: SqlDatabase,
    private readonly schema: string = DEFAULT_SCHEMA,
  ) {
    const s = quoteSchema(schema);
    this.t = `${s}.outbox_messages`;
    this.dead = `${s}.outbox_dead_letters`;
  }

  /**
   * Stores messages: resolved means committed (or, with `tx`, written in the caller's transaction, so they exist if
   * and only if it commits). `tx` is proven to be inside a transaction with a SAVEPOINT, which PostgreSQL refuses
   * outside one: a pool or an autocommit client would otherwise commit the messages even if the caller's business
   * change rolls back (TransactionRequiredError). A failure rolls back to the savepoint, leaving the caller's
   * transaction usable.
   *
   * Ordering keys: before inserting, the transaction takes `pg_advisory_xact_lock(hashtext(schema:key))` for each
   * key (in hash order, so two adds with the same keys cannot deadlock). A second transaction adding to the same key
   * waits until the first commits or rolls back, so its seq is larger: without the lock, a later transaction could
   * commit a higher seq first, and its message would be claimed before the earlier one becomes visible.
   *
   * Ids that exist (in the outbox or the dead letters) are skipped: a publish retried after a lost reply stores once.
   */
  async add(messages: OutboxMessage[], tx?: SqlQueryable): Promise<void> {
    if (!tx) {
      if (messages.length === 0) return;
      // One INSERT is atomic by itself; keys need the lock and the insert in one transaction.
      if (!messages.some((m) => m.ordering_key !== null)) await this.insert(this.db, messages);
      else await this.db.transaction((own) => this.insert(own, messages));
      return;
    }
    try {
      await tx.query(`SAVEPOINT ${SAVEPOINT}`);
    } catch (error) {
      // 25P01 no_active_sql_transaction: "SAVEPOINT can only be used in transaction blocks".
      if (sqlState(error) === '25P01' || /transaction block/i.test(String((error as Error)?.message))) throw new TransactionRequiredError();
      throw error;
    }
    try {
      if (messages.length > 0) await this.insert(tx, messages);
      await tx.query(`RELEASE SAVEPOINT ${SAVEPOINT}`);
    } catch (error) {
      await tx.query(`ROLLBACK TO SAVEPOINT ${SAVEPOINT}`).then(() => tx.query(`RELEASE SAVEPOINT ${SAVEPOINT}`)).catch(() => undefined);
      throw error;
    }
  }

  /** Key locks, then one multi-row INSERT (rows as JSON: one parameter, any batch size, any driver). */
  private async insert(q: SqlQueryable, messages: OutboxMessage[]): Promise<void> {
    const keys = [...new Set(messages.map((m) => m.ordering_key).filter((k): k is string => k !== null))];
    if (keys.length > 0) {
      // The subquery's ORDER BY fixes the order the locks are taken in (PostgreSQL's documented pattern).
      await q.query(
        `SELECT pg_advisory_xact_lock(h) FROM (SELECT DISTINCT hashtext($1 || ':' || k) AS h FROM json_array_elements_text($2::json) AS k ORDER BY h) AS locks`,
        [this.schema, JSON.stringify(keys)],
      );
    }
    const rows = messages.map((m, ord) => ({ ...m, ord }));
    await q.query(
      `INSERT INTO ${this.t} (${MESSAGE_COLUMNS})
       SELECT ${MESSAGE_COLUMNS}
       FROM json_to_recordset($1::json) AS x(id text, event_type text, payload text, target jsonb, idempotency_key text, headers jsonb,
         ordering_key text, attempts integer, available_at bigint, created_at bigint, last_error text, ord integer)
       WHERE NOT EXISTS (SELECT 1 FROM ${this.dead} AS d WHERE d.id = x.id)
       ORDER BY x.ord
       ON CONFLICT (id) DO NOTHING`,
      [JSON.stringify(rows)],
    );
  }

  /**
   * One statement: the subquery picks due messages oldest first and locks them with `FOR UPDATE SKIP LOCKED`, so
   * concurrent relays skip each other's rows instead of waiting or claiming them twice; a row another relay claimed
   * and committed meanwhile is re-checked against the lease condition (READ COMMITTED) and dropped. A message with a
   * key is eligible only when no earlier message of its key remains (pending, leased or waiting for a retry), so a key
   * never has two messages in flight and never overtakes its blocked head.
   */
  async claim(now: number, limit: number, leaseToken: string, leaseUntil: number): Promise<ClaimedMessage[]> {
    if (limit <= 0) return [];
    const { rows } = await this.db.query<Row>(
      `UPDATE ${this.t} AS m
       SET attempts = m.attempts + 1, lease_token = $3, lease_until = $4
       FROM (
         SELECT c.id FROM ${this.t} AS c
         WHERE c.available_at <= $1
           AND (c.lease_until IS NULL OR c.lease_until <= $1)
           AND (c.ordering_key IS NULL OR NOT EXISTS (
             SELECT 1 FROM ${this.t} AS e WHERE e.ordering_key = c.ordering_key AND e.seq < c.seq))
         ORDER BY c.available_at, c.seq
         LIMIT $2
         FOR UPDATE OF c SKIP LOCKED
       ) AS due
       WHERE m.id = due.id
       RETURNING m.seq, ${qualified('m')}, m.lease_token, m.lease_until`,
      [now, limit, leaseToken, leaseUntil],
    );
    // RETURNING has no order; hand them over oldest first.
    rows.sort((a, b) => num(a.available_at) - num(b.available_at) || num(a.seq) - num(b.seq));
    return rows.map((r) => ({ ...toMessage(r), lease_token: String(r.lease_token), lease_until: num(r.lease_until) }));
  }

  /**
   * Deletes the message while `leaseToken` still holds it. A relay whose lease expired and was taken over gets
   * false and changes nothing (the new holder finishes it); the DELETE re-checks the token on the row's latest version.
   */
  async complete(id: string, leaseToken: string): Promise<boolean> {
    const { rows } = await this.db.query(`DELETE FROM ${this.t} WHERE id = $1 AND lease_token = $2 RETURNING id`, [id, leaseToken]);
    return rows.length > 0;
  }

  /** complete() for many in one statement: each row is deleted only while its own token holds it. */
  async completeAll(items: Array<{ id: string; leaseToken: string }>): Promise<string[]> {
    if (items.length === 0) return [];
    const { rows } = await this.db.query<{ id: string }>(
      `DELETE FROM ${this.t} AS m USING unnest($1::text[], $2::text[]) AS done(id, token)
       WHERE m.id = done.id AND m.lease_token = done.token RETURNING m.id`,
      [items.map((item) => item.id), items.map((item) => item.leaseToken)],
    );
    return rows.map((row) => row.id);
  }

  /** Releases the lease and makes the message due at `availableAt`, recording the error; fenced like complete(). */
  async retryLater(id: string, leaseToken: string, availableAt: number, error: string): Promise<boolean> {
    const { rows } = await this.db.query(
      `UPDATE ${this.t} SET lease_token = NULL, lease_until = NULL, available_at = $3, last_error = $4 WHERE id = $1 AND lease_token = $2 RETURNING id`,
      [id, leaseToken, availableAt, error],
    );
    return rows.length > 0;
  }

  /**
   * Moves the message to the dead letters in one statement (delete and insert commit together: it is never in both
   * tables, nor in neither), fenced by `leaseToken`. Its key's next message becomes the head.
   */
  async deadLetter(id: string, leaseToken: string, reason: string, now: number): Promise<boolean> {
    const { rows } = await this.db.query(
      `WITH gone AS (DELETE FROM ${this.t} WHERE id = $1 AND lease_token = $2 RETURNING ${MESSAGE_COLUMNS})
       INSERT INTO ${this.dead} (${MESSAGE_COLUMNS}, dead_at, reason)
       SELECT ${MESSAGE_COLUMNS}, $3::bigint, $4::text FROM gone
       ON CONFLICT (id) DO UPDATE SET ${MESSAGE_COLUMNS.split(', ')
         .filter((c) => c !== 'id')
         .concat('dead_at', 'reason')
         .map((c) => `${c} = EXCLUDED.${c}`)
         .join(', ')}
       RETURNING id`,
      [id, leaseToken, now, reason],
    );
    return rows.length > 0;
  }

  /** Newest first by id (UUIDv7), continuing after `cursor`. */
  async listDeadLetters(page: PageRequest): Promise<RecordPage<DeadLetter>> {
    const params: unknown[] = [page.limit + 1];
    const after = page.cursor === undefined ? '' : `WHERE id < $${params.push(page.cursor)}`;
    const { rows } = await this.db.query<Row>(`SELECT ${MESSAGE_COLUMNS}, dead_at, reason FROM ${this.dead} ${after} ORDER BY id DESC LIMIT $1`, params);
    const items = rows.slice(0, page.limit).map((r) => ({ ...toMessage(r), dead_at: num(r.dead_at), reason: String(r.reason) }));
    return { items, next_cursor: rows.length > page.limit ? items[items.length - 1]!.id : undefined };
  }

  /**
   * Moves dead letters back in one statement: same id, zero attempts, due `now`, no error, and a new seq (behind its
   * key's messages added meanwhile), in the order of `ids`. Two concurrent requeues of one id move it once; rows
   * are locked in id order first, so requeues of overlapping lists cannot deadlock.
   */
  async requeue(ids: string[], now: number): Promise<number> {
    if (ids.length === 0) return 0;
    const { rows } = await this.db.query(
      `WITH wanted AS (SELECT w.id, w.n FROM json_array_elements_text($1::json) WITH ORDINALITY AS w(id, n)),
       locked AS (SELECT d.id FROM ${this.dead} AS d WHERE d.id IN (SELECT id FROM wanted) ORDER BY d.id FOR UPDATE),
       moved AS (DELETE FROM ${this.dead} AS d USING wanted WHERE d.id = wanted.id AND d.id IN (SELECT id FROM locked) RETURNING d.*, wanted.n)
       INSERT INTO ${this.t} (${MESSAGE_COLUMNS})
       SELECT id, event_type, payload, target, idempotency_key, headers, ordering_key, 0, $2::bigint, created_at, NULL FROM moved ORDER BY n
       ON CONFLICT (id) DO NOTHING
       RETURNING id`,
      [JSON.stringify(ids), now],
    );
    return rows.length;
  }

  /** Pending (including expired leases and retries waiting), in flight (live leases), lag of the oldest, dead letters. */
  async stats(now: number): Promise<OutboxStats> {
    const { rows } = await this.db.query<Row>(
      `SELECT count(*) FILTER (WHERE lease_until IS NULL OR lease_until <= $1) AS pending,
              count(*) FILTER (WHERE lease_until > $1) AS in_flight,
              min(created_at) AS oldest,
              (SELECT count(*) FROM ${this.dead}) AS dead_letters
       FROM ${this.t}`,
      [now],
    );
    const r = rows[0]!;
    const oldest = numOrNull(r.oldest);
    return { pending: num(r.pending), inFlight: num(r.in_flight), lagMs: oldest === null ? 0 : Math.max(0, now - oldest), deadLetters: num(r.dead_letters) };
  }

  /** The database is SqlConvoyStorage's to close. */
  async close(): Promise<void> {}
}

function qualified(alias: string): string {
  return MESSAGE_COLUMNS.split(', ')
    .map((c) => `${alias}.${c}`)
    .join(', ');
}

function toMessage(r: Row): OutboxMessage {
  return {
    id: String(r.id),
    event_type: String(r.event_type),
    payload: String(r.payload),
    target: fromJson(r.target),
    idempotency_key: String(r.idempotency_key),
    headers: fromJson(r.headers),
    ordering_key: textOrNull(r.ordering_key),
    attempts: num(r.attempts),
    available_at: num(r.available_at),
    created_at: num(r.created_at),
    last_error: textOrNull(r.last_error),
  };
}
