import { createHash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { InMemoryWebhookStore } from '../../lib/storage/in-memory.store.js';
import type { WebhookStore } from '../../lib/storage/webhook-store.js';
import { fromPGlite } from '../../lib/storage/pglite/index.js';
import { fromPgPool } from '../../lib/storage/postgres/index.js';
import { quoteSchema, STORAGE_TABLES } from '../../lib/storage/sql/migrations.js';
import type { SqlQueryable } from '../../lib/storage/sql/sql.js';
import { SqlConvoyStorage } from '../../lib/storage/sql/sql-storage.js';
import type { ContractCase, OpenTransaction, SqlContext, StoreContext } from './contract.types.js';
import { PATIENCE_MS } from '../support/wait.js';

/**
 * Where the contract suites run: in-memory stores, one PGlite instance per test file (start-up takes seconds), and
 * PostgreSQL (DATABASE_URL) in a schema of its own per run, dropped afterwards. Between cases the SQL tables are
 * emptied and any transaction a case left open is rolled back.
 */
export interface Backend {
  readonly name: string;
  readonly kind: 'memory' | 'sql';
  context(): Promise<StoreContext<WebhookStore>>;
  /**
   * SQL backends only: a context whose stores are built by `make` over this database (the primary storage, or one
   * with its own connections for each of stores(n)); used to run the contract against deliberately broken stores.
   */
  contextWith?<S>(make: (storage: SqlConvoyStorage) => S): Promise<StoreContext<S>>;
  /** After each case: roll back what is open, empty the tables. */
  reset(): Promise<void>;
  close(): Promise<void>;
}

export const DATABASE_URL = process.env.DATABASE_URL;

/** Four hex digits of this machine's name: a sweep only touches schemas made on this machine (their pid means something here). */
const HOST = createHash('sha1').update(hostname()).digest('hex').slice(0, 4);

/**
 * A schema name unique to this process and run, `nc_test_<pid>_<host>_<random>`: the pid and host let a later run
 * on this machine sweep what a killed run left behind.
 */
export const testSchemaName = (): string => `nc_test_${process.pid}_${HOST}_${randomBytes(4).toString('hex')}`;

export function inMemoryBackend(): Backend {
  const fresh = (): InMemoryWebhookStore => new InMemoryWebhookStore({ capacity: 100_000 });
  let store = fresh();
  return {
    name: 'in-memory',
    kind: 'memory',
    async context() {
      // One process memory: "several stores on one database" are the same store.
      return { store, stores: async (n: number) => Array.from({ length: n }, () => store) };
    },
    async reset() {
      store = fresh();
    },
    async close() {},
  };
}

/** The parts a SQL backend is made of. */
interface SqlParts {
  name: string;
  schema: string;
  primary: SqlConvoyStorage;
  /** Another storage on the same database with its own connections (PostgreSQL) or the same one (PGlite). */
  extra(): Promise<SqlConvoyStorage>;
  autocommit: SqlQueryable;
  begin(): Promise<OpenTransaction>;
  parallelTransactions: boolean;
  closeAll(): Promise<void>;
}

function sqlBackend(parts: SqlParts): Backend {
  const extras: SqlConvoyStorage[] = [];
  const open = new Set<OpenTransaction>();
  const sql: SqlContext = {
    autocommit: parts.autocommit,
    parallelTransactions: parts.parallelTransactions,
    async begin() {
      const t = await parts.begin();
      const tracked: OpenTransaction = {
        tx: t.tx,
        commit: async () => {
          open.delete(tracked);
          await t.commit();
        },
        rollback: async () => {
          open.delete(tracked);
          await t.rollback();
        },
      };
      open.add(tracked);
      return tracked;
    },
  };
  const contextWith = async <S>(make: (storage: SqlConvoyStorage) => S): Promise<StoreContext<S>> => ({
    store: make(parts.primary),
    stores: async (n: number) => {
      // Reused across cases, so their connections stay warm.
      while (extras.length < n) extras.push(await parts.extra());
      return extras.slice(0, n).map(make);
    },
    sql,
  });
  return {
    name: parts.name,
    kind: 'sql',
    context: () => contextWith((s) => s.store),
    contextWith,
    async reset() {
      for (const t of [...open]) await t.rollback().catch(() => undefined);
      const s = quoteSchema(parts.schema);
      await parts.primary.db.query(`TRUNCATE ${STORAGE_TABLES.map((t) => `${s}.${t}`).join(', ')} RESTART IDENTITY`);
    },
    async close() {
      for (const t of [...open]) await t.rollback().catch(() => undefined);
      await parts.closeAll();
    },
  };
}

/** Opens a transaction on PGlite's single connection and keeps it open until commit() or rollback(). */
export function beginPGlite(db: PGlite): Promise<OpenTransaction> {
  return new Promise((resolveBegin, rejectBegin) => {
    let finish!: (commit: boolean) => void;
    const decided = new Promise<boolean>((resolve) => (finish = resolve));
    const rollback = new Error('rollback requested');
    let started = false;
    const outcome = db.transaction(async (tx) => {
      started = true;
      resolveBegin({
        tx,
        commit: async () => {
          finish(true);
          await outcome;
        },
        rollback: async () => {
          finish(false);
          await outcome.catch((error: unknown) => {
            if (error !== rollback) throw error;
          });
        },
      });
      if (!(await decided)) throw rollback;
    });
    outcome.catch((error: unknown) => {
      if (!started) rejectBegin(error);
    });
  });
}

export async function pgliteBackend(): Promise<Backend> {
  const db = await PGlite.create();
  const schema = 'nestjs_convoy';
  const primary = await SqlConvoyStorage.open(fromPGlite(db), { schema, migrate: true });
  return sqlBackend({
    name: 'PGlite',
    schema,
    primary,
    extra: async () => new SqlConvoyStorage(fromPGlite(db), { schema }),
    autocommit: db,
    begin: () => beginPGlite(db),
    parallelTransactions: false,
    closeAll: () => db.close(),
  });
}

/** A transaction on a connection of its own, checked out of `pool`. */
export async function beginPg(pool: pg.Pool): Promise<OpenTransaction> {
  const client = await pool.connect();
  await client.query('BEGIN');
  let done = false;
  const end = async (statement: string): Promise<void> => {
    if (done) return;
    done = true;
    try {
      await client.query(statement);
    } finally {
      client.release();
    }
  };
  return { tx: client, commit: () => end('COMMIT'), rollback: () => end('ROLLBACK') };
}

/** Drops test schemas left by runs whose process is gone (killed before their afterAll). */
async function sweepStaleSchemas(pool: pg.Pool): Promise<void> {
  const { rows } = await pool.query<{ nspname: string }>(
    `SELECT nspname FROM pg_namespace WHERE nspname LIKE 'nc\\_test\\_%'`,
  );
  for (const { nspname } of rows) {
    const [, pid, host] = /^nc_test_(\d+)_([0-9a-f]{4})_[0-9a-f]+$/.exec(nspname) ?? [];
    if (!pid || host !== HOST || isAlive(Number(pid))) continue;
    await pool.query(`DROP SCHEMA IF EXISTS ${quoteSchema(nspname)} CASCADE`).catch(() => undefined);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0); // signal 0: only asks whether the process exists
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function postgresBackend(url: string): Promise<Backend> {
  const schema = testSchemaName();
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  const pools: pg.Pool[] = [pool];
  await sweepStaleSchemas(pool);
  const primary = await SqlConvoyStorage.open(fromPgPool(pool), { schema, migrate: true });
  return sqlBackend({
    name: 'PostgreSQL',
    schema,
    primary,
    extra: async () => {
      const own = new pg.Pool({ connectionString: url, max: 2 });
      pools.push(own);
      // Warm both connections, so a race starts on open connections rather than on connection set-up.
      await Promise.all([own.query('SELECT 1'), own.query('SELECT 1')]);
      return new SqlConvoyStorage(fromPgPool(own), { schema });
    },
    autocommit: pool,
    begin: () => beginPg(pool),
    parallelTransactions: true,
    closeAll: async () => {
      await pool.query(`DROP SCHEMA IF EXISTS ${quoteSchema(schema)} CASCADE`);
      await Promise.all(pools.map((p) => p.end()));
    },
  });
}

/** Runs one case with a per-case time limit, so that a broken store that hangs fails instead of stalling the file. */
export async function runCase<S>(c: ContractCase<S>, ctx: StoreContext<S>, timeoutMs = PATIENCE_MS): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`contract case timed out after ${timeoutMs} ms: ${c.name}`)), timeoutMs);
  });
  try {
    await Promise.race([c.run(ctx), limit]);
  } finally {
    clearTimeout(timer);
  }
}

/** PGlite and PostgreSQL, the latter skipped with a message naming `what` when DATABASE_URL is not set. */
export function sqlBackends(what: string): Array<{ name: string; open: () => Promise<Backend>; skip?: string }> {
  return [
    { name: 'PGlite', open: pgliteBackend },
    {
      name: 'PostgreSQL',
      open: () => postgresBackend(DATABASE_URL!),
      skip: DATABASE_URL
        ? undefined
        : `DATABASE_URL is not set (e.g. postgres://postgres@127.0.0.1:5432/test): the PostgreSQL ${what} run is skipped`,
    },
  ];
}
