import { Logger } from '@nestjs/common';
import { ConvoyConfigurationError } from '../../errors/configuration.error.js';
import { ConvoyError } from '../../errors/convoy.error.js';
import { StorageUnavailableError } from '../../errors/outbox.errors.js';
import { importOptional } from '../../utils/optional-import.js';
import { redactUrls } from '../../utils/redact.js';
import type { SqlDatabase, SqlQueryable } from '../sql/sql.js';
import { SqlConvoyStorage, type SqlStorageOptions } from '../sql/sql-storage.js';

export { SqlConvoyStorage, type SqlStorageOptions } from '../sql/sql-storage.js';
export { SqlWebhookStore } from '../sql/sql-webhook.store.js';
export { DEFAULT_SCHEMA, migrations, migrationSql, type Migration } from '../sql/migrations.js';
export type { SqlDatabase, SqlQueryable } from '../sql/sql.js';
export type { SecretKey } from '../sql/secret-cipher.js';
export type { ConvoyStorage } from '../convoy-storage.interface.js';

/** A connection checked out of a pool (node-postgres `PoolClient`). */
export interface PgPoolClientLike extends SqlQueryable {
  /** Back to the pool; with an error, the connection is destroyed instead. */
  release(error?: Error | boolean): void;
}

/** What the storage uses of a node-postgres `Pool` (or anything shaped like one). */
export interface PgPoolLike extends SqlQueryable {
  connect(): Promise<PgPoolClientLike>;
  end(): Promise<void>;
}

/** node-postgres' query config: a named statement is prepared once per connection. */
interface NamedQueries {
  query<R>(config: { name: string; text: string; values: unknown[] }): Promise<{ rows: R[] }>;
}

/** Options of PostgresStorage.create(): your pool or a connection string, the schema. */
export interface PostgresStorageOptions extends SqlStorageOptions {
  /** Your pool: used as it is, and left open by close() (you end it, after the application has shut down). */
  pool?: PgPoolLike;
  /** Or a connection string: the storage creates a pool (`pg` must be installed) and ends it on close(). */
  connectionString?: string;
  /** Size of the pool created from `connectionString` (default 10). */
  max?: number;
  /**
   * With `connectionString`: a query unanswered this long fails (default 30 000; 0 waits forever), so a database
   * that stops answering without closing the connection cannot hold publish() and the pipeline for ever. It bounds
   * migrations too: raise it for a first migration on a very large table.
   */
  queryTimeoutMs?: number;
  /** With `connectionString`: opening a connection fails after this long (default 10 000; 0 waits forever). */
  connectTimeoutMs?: number;
}

/**
 * A SqlDatabase over a node-postgres pool: queries on any pooled connection, transactions on one checked-out
 * connection (BEGIN … COMMIT, ROLLBACK when the work throws). `end: true` makes close() end the pool.
 */
export function fromPgPool(pool: PgPoolLike, options: { end?: boolean } = {}): SqlDatabase {
  // node-postgres' Pool (it names its Client class) takes a query as { name, text, values }; a look-alike may not.
  const named = typeof (pool as { Client?: unknown }).Client === 'function';
  return {
    // node-postgres keeps its size in options.max (default 10).
    connections: (pool as { options?: { max?: number } }).options?.max ?? 10,
    query: (text, params) => pool.query(text, params),
    ...(named && {
      queryPrepared: (name: string, text: string, values: unknown[]) =>
        (pool as unknown as NamedQueries).query({ name, text, values }),
    }),
    async transaction(work) {
      const client = await pool.connect();
      let broken: Error | undefined;
      try {
        await client.query('BEGIN');
        const result = await work(client);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        // A connection that cannot even roll back is not given back to the pool in an unknown state.
        await client.query('ROLLBACK').catch((rollbackError: Error) => (broken = rollbackError));
        throw error;
      } finally {
        client.release(broken);
      }
    },
    close: async () => {
      if (options.end) await pool.end();
    },
  };
}

/** `nestjs-convoy/postgres`: durable storage in PostgreSQL through node-postgres (`pg`). */
export class PostgresStorage {
  private static readonly logger = new Logger('ConvoyPostgresStorage');

  /**
   * Opens the storage on your `pool` or on a pool created from `connectionString`, then migrates or checks the
   * schema (see SqlStorageOptions.migrate). A pool it created is ended when opening fails and on close().
   */
  static async create(options: PostgresStorageOptions): Promise<SqlConvoyStorage> {
    const { pool, connectionString } = options ?? {};
    if ((pool === undefined) === (connectionString === undefined)) {
      throw new ConvoyConfigurationError(
        'storage',
        'PostgresStorage needs exactly one of `pool` and `connectionString`',
        'pass your pg.Pool as `pool`, or a connection string such as process.env.DATABASE_URL',
      );
    }
    if (pool !== undefined) return SqlConvoyStorage.open(fromPgPool(pool), options);
    if (typeof connectionString !== 'string' || connectionString === '') {
      throw new ConvoyConfigurationError(
        'storage.connectionString',
        'is empty or not a string',
        'pass a PostgreSQL connection string, e.g. postgres://user@host:5432/db',
      );
    }
    const queryTimeoutMs = timeoutOption(options, 'queryTimeoutMs', 30_000);
    const connectTimeoutMs = timeoutOption(options, 'connectTimeoutMs', 10_000);
    const pg = await importOptional(() => import('pg'), 'pg', 'storage');
    const created = new (pg.default ?? pg).Pool({
      connectionString,
      max: options.max ?? 10,
      query_timeout: queryTimeoutMs || undefined,
      connectionTimeoutMillis: connectTimeoutMs,
    });
    // An idle connection that breaks emits 'error' on the pool; unhandled, it would crash the process.
    created.on('error', (error: Error) =>
      PostgresStorage.logger.warn(`An idle PostgreSQL connection failed: ${redactUrls(error.message)}`),
    );
    const db = fromPgPool(created, { end: true });
    try {
      return await SqlConvoyStorage.open(db, options);
    } catch (error) {
      await db.close().catch(() => undefined);
      // The driver's own error (refused, timed out, authentication) says little at startup: name the step.
      throw error instanceof ConvoyError ? error : new StorageUnavailableError('open', error);
    }
  }
}

function timeoutOption(options: PostgresStorageOptions, key: 'queryTimeoutMs' | 'connectTimeoutMs', fallback: number) {
  const value = options[key] ?? fallback;
  if (!Number.isInteger(value) || value < 0)
    throw new ConvoyConfigurationError(
      `storage.${key}`,
      `must be a whole number of milliseconds ≥ 0, got ${String(value)}`,
      `pass e.g. ${fallback}, or 0 to wait forever`,
    );
  return value;
}
