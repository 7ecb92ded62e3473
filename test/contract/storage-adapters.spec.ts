import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { ConvoyConfigurationError } from '../../lib/errors/configuration.error.js';
import { delivery } from './store.contract.js';
import { fromPGlite, PGliteStorage } from '../../lib/storage/pglite/index.js';
import { fromPgPool, PostgresStorage } from '../../lib/storage/postgres/index.js';
import { quoteSchema } from '../../lib/storage/sql/migrations.js';
import { importOptional } from '../../lib/utils/optional-import.js';
import type { SqlDatabase } from '../../lib/storage/sql/sql.js';
import { SqlConvoyStorage } from '../../lib/storage/sql/sql-storage.js';
import { DATABASE_URL, testSchemaName } from './backends.js';

/**
 * `nestjs-convoy/postgres` and `nestjs-convoy/pglite`: what they open they close, what you pass stays yours,
 * transactions commit or roll back and give their connection back, a stricter default isolation is refused, a
 * missing driver is a clear configuration error, and the core never imports a driver.
 */
/** A hand-over of its own event, due at 1. */
const stored = (id: string) => ({ deliveries: [delivery(id, id, null, { next_send_at: 1, created_at: 1 })] });

async function transactionsBehave(db: SqlDatabase, table: string): Promise<void> {
  await db.query(`CREATE TABLE ${table} (n integer)`);
  await expect(
    db.transaction(
      async (tx) => (await tx.query<{ n: number }>(`INSERT INTO ${table} VALUES (1) RETURNING n`)).rows[0]!.n,
    ),
  ).resolves.toBe(1);
  await expect(
    db.transaction(async (tx) => {
      await tx.query(`INSERT INTO ${table} VALUES (2)`);
      throw new Error('business rule failed');
    }),
  ).rejects.toThrow('business rule failed');
  const { rows } = await db.query<{ n: number }>(`SELECT n FROM ${table} ORDER BY n`);
  expect(rows.map((r) => Number(r.n))).toEqual([1]);
}

describe('the core loads no database driver', () => {
  it('nothing under lib/ imports pg or @electric-sql/pglite except the two subpath entry points, which import them lazily', async () => {
    const files: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      for (const entry of await readdir(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) await walk(path);
        else if (path.endsWith('.ts')) files.push(path);
      }
    };
    await walk('lib');
    const driver = /(from\s+|import\s*\(\s*)['"](pg|@electric-sql\/pglite)(\/[^'"]*)?['"]/;
    const offenders: string[] = [];
    for (const file of files) {
      const source = await readFile(file, 'utf8');
      const rel = relative('.', file);
      for (const line of source.split('\n')) {
        if (!driver.test(line) || /^\s*(\/\/|\*)/.test(line)) continue;
        const lazy = /import\s*\(/.test(line) || /^\s*import\s+type\b/.test(line);
        if (!(['lib/storage/postgres/index.ts', 'lib/storage/pglite/index.ts'].includes(rel) && lazy))
          offenders.push(`${rel}: ${line.trim()}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it('a missing optional driver is a configuration error saying what to install', async () => {
    const missing = 'nestjs-convoy-no-such-driver';
    const error = await importOptional(() => import(missing), missing, 'storage').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConvoyConfigurationError);
    expect((error as Error).message).toContain(`npm install ${missing}`);
    const other = new Error('boom inside the driver');
    await expect(importOptional(() => Promise.reject(other), 'pg', 'storage')).rejects.toBe(other);
  });
});

describe('nestjs-convoy/pglite', () => {
  let lite: PGlite;
  beforeAll(async () => {
    lite = await PGlite.create();
  });
  afterAll(() => lite?.close());

  it('fromPGlite: transactions commit, or roll back when the work throws', async () => {
    await transactionsBehave(fromPGlite(lite), 'tx_check');
  });

  it('PGliteStorage.create({ pglite }) uses your instance and leaves it open on close()', async () => {
    const storage = await PGliteStorage.create({ pglite: lite, schema: 'yours' });
    await storage.store.enqueue([stored('m1')]);
    await storage.close();
    const { rows } = await lite.query<{ n: number }>('SELECT count(*)::int AS n FROM yours.deliveries');
    expect(rows[0]!.n).toBe(1);
  });

  it('refuses a default isolation level stricter than READ COMMITTED', async () => {
    await lite.query(`SET default_transaction_isolation = 'repeatable read'`);
    try {
      await expect(SqlConvoyStorage.open(fromPGlite(lite), { schema: 'strict' })).rejects.toThrow(/REPEATABLE READ/);
    } finally {
      await lite.query('RESET default_transaction_isolation');
    }
  });

  it('create() without dataDir opens an in-memory database and closes it on close()', async () => {
    const storage = await PGliteStorage.create();
    await storage.store.enqueue([stored('m1')]);
    expect((await storage.store.stats(2)).pending).toBe(1);
    await storage.close();
    await storage.close(); // once is enough; twice is harmless
    await expect(storage.store.stats(2)).rejects.toThrow();
  });

  it('create({ dataDir }) creates missing parent directories and keeps the data across a reopen', async () => {
    const root = await mkdtemp(join(tmpdir(), 'nestjs-convoy-pglite-'));
    const dataDir = join(root, 'nested', 'deeper', 'db');
    try {
      const first = await PGliteStorage.create({ dataDir });
      await first.store.enqueue([stored('durable')]);
      await first.close();
      const again = await PGliteStorage.create({ dataDir, migrate: false });
      const [claimed] = await again.store.claim(5, 10, 'tok', 100);
      expect(claimed?.uid).toBe('durable');
      await again.close();
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('rejects `pglite` together with `dataDir`, and an empty dataDir', async () => {
    await expect(PGliteStorage.create({ pglite: lite, dataDir: '/tmp/x' })).rejects.toThrow(ConvoyConfigurationError);
    await expect(PGliteStorage.create({ dataDir: '' })).rejects.toThrow(ConvoyConfigurationError);
  });
});

const pgSkip = DATABASE_URL ? undefined : 'DATABASE_URL is not set: the nestjs-convoy/postgres tests are skipped';
if (pgSkip) console.info(`[adapters] ${pgSkip}`);
(pgSkip ? describe.skip : describe)('nestjs-convoy/postgres', () => {
  const schemas: string[] = [];
  const fresh = (): string => {
    const schema = testSchemaName();
    schemas.push(schema);
    return schema;
  };
  let admin: pg.Pool;
  beforeAll(() => {
    admin = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
  });
  afterAll(async () => {
    for (const schema of schemas) await admin.query(`DROP SCHEMA IF EXISTS ${quoteSchema(schema)} CASCADE`);
    await admin.end();
  });

  it('fromPgPool: transactions commit, or roll back when the work throws, and give their connection back', async () => {
    const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
    try {
      const schema = fresh();
      await pool.query(`CREATE SCHEMA ${quoteSchema(schema)}`);
      await transactionsBehave(fromPgPool(pool), `${quoteSchema(schema)}.tx_check`);
      expect(pool.idleCount).toBe(pool.totalCount);
    } finally {
      await pool.end();
    }
  });

  it('fromPgPool over a node-postgres pool: the queue statements run prepared, under names unique to their schema', async () => {
    // One connection, so that what it has prepared can be read on it; two schemas share it.
    const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
    try {
      const [a, b] = [fresh(), fresh()];
      for (const schema of [a, b]) {
        const storage = await SqlConvoyStorage.open(fromPgPool(pool), { schema, migrate: true });
        await storage.store.enqueue([stored(`m-${schema}`)]);
        const [claimed] = await storage.store.claim(2, 10, 'lease', 1_000);
        expect(claimed?.uid).toBe(`m-${schema}`);
        const outcome = { uid: claimed!.uid, lease_token: 'lease', status: 'Success', description: '' } as const;
        await expect(
          storage.store.settle([{ ...outcome, num_trials: 1, next_send_at: 2, latency_ms: 1, forget: true }]),
        ).resolves.toEqual([claimed!.uid]);
      }
      const { rows } = await pool.query<{ statement: string }>(
        `SELECT statement FROM pg_prepared_statements WHERE name LIKE 'nestjs\\_convoy\\_%'`,
      );
      for (const schema of [a, b])
        for (const table of ['INSERT INTO', "SET status = 'Processing'", 'DELETE FROM'])
          expect(rows.some((r) => r.statement.includes(quoteSchema(schema)) && r.statement.includes(table))).toBe(true);
    } finally {
      await pool.end();
    }
  });

  it('fromPgPool over a pool look-alike (no node-postgres Client class): every statement goes through query()', async () => {
    const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
    try {
      const texts: unknown[] = [];
      const lookAlike = {
        query: (text: string, params?: unknown[]) => (texts.push(text), pool.query(text, params)),
        connect: () => pool.connect(),
        end: () => pool.end(),
      };
      const storage = await SqlConvoyStorage.open(fromPgPool(lookAlike), { schema: fresh(), migrate: true });
      await storage.store.enqueue([stored('m1')]);
      await expect(storage.store.claim(2, 10, 'lease', 1_000)).resolves.toHaveLength(1);
      expect(texts.every((t) => typeof t === 'string')).toBe(true);
      const { rows } = await pool.query(`SELECT name FROM pg_prepared_statements`);
      expect(rows).toEqual([]);
    } finally {
      await pool.end();
    }
  });

  it('create({ connectionString }) opens its own pool, migrates, and ends the pool on close()', async () => {
    const storage = await PostgresStorage.create({ connectionString: DATABASE_URL, schema: fresh() });
    await storage.store.enqueue([stored('m1')]);
    expect((await storage.store.stats(2)).pending).toBe(1);
    await storage.close();
    await expect(storage.store.stats(2)).rejects.toThrow(/after calling end|ended/i);
  });

  it('create({ pool }) uses your pool and leaves it open on close()', async () => {
    const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
    try {
      const storage = await PostgresStorage.create({ pool, schema: fresh() });
      await storage.close();
      await expect(pool.query('SELECT 1 AS one')).resolves.toMatchObject({ rows: [{ one: 1 }] });
    } finally {
      await pool.end();
    }
  });

  it('needs exactly one of `pool` and `connectionString`', async () => {
    const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
    try {
      await expect(PostgresStorage.create({})).rejects.toThrow(ConvoyConfigurationError);
      await expect(PostgresStorage.create({ pool, connectionString: DATABASE_URL })).rejects.toThrow(
        ConvoyConfigurationError,
      );
      await expect(PostgresStorage.create({ connectionString: '' })).rejects.toThrow(ConvoyConfigurationError);
    } finally {
      await pool.end();
    }
  });

  it('a pool it created is ended when opening fails (here: the schema is behind and migrate is off)', async () => {
    const before = (
      await admin.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'nc-adapter-check'`,
      )
    ).rows[0]!.n;
    const url = new URL(DATABASE_URL!);
    url.searchParams.set('application_name', 'nc-adapter-check');
    await expect(
      PostgresStorage.create({ connectionString: url.toString(), schema: fresh(), migrate: false }),
    ).rejects.toThrow(/missing migrations/);
    // Connections close asynchronously on the server side; wait briefly for the count to settle.
    let after = -1;
    for (let i = 0; i < 50 && after !== before; i++) {
      after = (
        await admin.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'nc-adapter-check'`,
        )
      ).rows[0]!.n;
      if (after !== before) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(after).toBe(before);
  });

  it('refuses connections whose default isolation is stricter than READ COMMITTED', async () => {
    const pool = new pg.Pool({
      connectionString: DATABASE_URL,
      max: 1,
      options: '-c default_transaction_isolation=serializable',
    });
    try {
      const error = await PostgresStorage.create({ pool, schema: fresh() }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConvoyConfigurationError);
      expect((error as Error).message).toContain('SERIALIZABLE');
    } finally {
      await pool.end();
    }
  });
});
