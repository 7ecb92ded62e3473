import { execFileSync } from 'node:child_process';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { ConvoyConfigurationError } from '../../lib/errors/configuration.error.js';
import { SchemaOutdatedError } from '../../lib/errors/outbox.errors.js';
import { fromPGlite } from '../../lib/storage/pglite/index.js';
import { fromPgPool } from '../../lib/storage/postgres/index.js';
import { migrations, migrationSql, quoteSchema, STORAGE_TABLES } from '../../lib/storage/sql/migrations.js';
import type { SqlDatabase } from '../../lib/storage/sql/sql.js';
import { SqlConvoyStorage } from '../../lib/storage/sql/sql-storage.js';
import { DATABASE_URL, testSchemaName } from './backends.js';
import { delivery } from './store.contract.js';

/**
 * Migrations on PGlite and PostgreSQL: a fresh schema, re-runs, instances migrating at once, SchemaOutdatedError
 * when migrations are missing, the production default (no migrating: an old schema fails startup), and the
 * migrationSql() script for users' own tools.
 */
interface Target {
  db: SqlDatabase;
  /** Another connection (PostgreSQL: its own pool) to the same database. */
  another(): Promise<SqlDatabase>;
  /** Runs a multi-statement script as psql would (PGlite exec(); pg's simple query protocol). */
  exec(script: string): Promise<void>;
  /** psql itself, when it is installed and the target is a server. */
  psql?(script: string): void;
  close(): Promise<void>;
}

const targets: Array<{ name: string; open: () => Promise<Target>; skip?: string }> = [
  {
    name: 'PGlite',
    open: async () => {
      const lite = await PGlite.create();
      return {
        db: fromPGlite(lite),
        another: async () => fromPGlite(lite),
        exec: async (script) => void (await lite.exec(script)),
        close: () => lite.close(),
      };
    },
  },
  {
    name: 'PostgreSQL',
    skip: DATABASE_URL ? undefined : 'DATABASE_URL is not set: the PostgreSQL migration tests are skipped',
    open: async () => {
      const pools = [new pg.Pool({ connectionString: DATABASE_URL, max: 4 })];
      const hasPsql = (() => {
        try {
          execFileSync('psql', ['--version'], { stdio: 'ignore' });
          return true;
        } catch {
          return false;
        }
      })();
      return {
        db: fromPgPool(pools[0]!),
        another: async () => {
          const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
          pools.push(pool);
          await pool.query('SELECT 1');
          return fromPgPool(pool);
        },
        exec: async (script) => void (await pools[0]!.query(script)),
        psql: hasPsql
          ? (script) =>
              void execFileSync('psql', [DATABASE_URL!, '-v', 'ON_ERROR_STOP=1', '-q', '-X'], {
                input: script,
                stdio: ['pipe', 'ignore', 'pipe'],
              })
          : undefined,
        close: async () => {
          await Promise.all(pools.map((p) => p.end()));
        },
      };
    },
  },
];

/** The structure of a schema, with its name taken out, to compare two schemas. */
async function structure(db: SqlDatabase, schema: string): Promise<string[]> {
  const columns = await db.query<Record<string, unknown>>(
    `SELECT table_name, column_name, data_type, is_nullable, is_identity, collation_name, column_default
     FROM information_schema.columns WHERE table_schema = $1 ORDER BY table_name, column_name`,
    [schema],
  );
  const indexes = await db.query<{ indexdef: string }>(
    `SELECT indexdef FROM pg_indexes WHERE schemaname = $1 ORDER BY indexname`,
    [schema],
  );
  const constraints = await db.query<{ def: string }>(
    `SELECT conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid) AS def FROM pg_constraint
     WHERE connamespace = to_regnamespace($1) ORDER BY conrelid::regclass::text, conname`,
    [schema],
  );
  return [
    ...columns.rows.map((r) => JSON.stringify(r)),
    ...indexes.rows.map((r) => r.indexdef),
    ...constraints.rows.map((r) => r.def),
  ].map((line) => line.split(schema).join('<schema>'));
}

async function appliedRows(db: SqlDatabase, schema: string): Promise<Array<{ version: number; name: string }>> {
  const { rows } = await db.query<{ version: number; name: string }>(
    `SELECT version, name FROM ${quoteSchema(schema)}.schema_migrations ORDER BY version`,
  );
  return rows.map((r) => ({ version: Number(r.version), name: r.name }));
}

async function schemaExists(db: SqlDatabase, schema: string): Promise<boolean> {
  const { rows } = await db.query<{ present: boolean }>(`SELECT to_regnamespace($1) IS NOT NULL AS present`, [schema]);
  return rows[0]!.present;
}

const shipped = migrations().map(({ version, name }) => ({ version, name }));

describe('migration helpers', () => {
  it('the shipped migrations start at version 1 and are ordered', () => {
    expect(shipped[0]).toEqual({ version: 1, name: 'initial' });
    expect(shipped.map((m) => m.version)).toEqual([...shipped.map((m) => m.version)].sort((a, b) => a - b));
  });

  it('refuses schema names that are not plain identifiers (they are interpolated into SQL)', async () => {
    for (const bad of ['Upper', 'a-b', '1abc', 'x;drop table t', '', 'a'.repeat(64), 'x"y']) {
      expect(() => migrationSql(bad)).toThrow(ConvoyConfigurationError);
    }
    const neverUsed: SqlDatabase = {
      query: () => Promise.reject(new Error('not reached')),
      transaction: () => Promise.reject(new Error('not reached')),
      close: async () => {},
    };
    await expect(SqlConvoyStorage.open(neverUsed, { schema: 'x; DROP SCHEMA public' })).rejects.toThrow(
      ConvoyConfigurationError,
    );
    expect(migrationSql('a'.repeat(63))).toContain(`"${'a'.repeat(63)}".outbox_messages`);
  });

  it('the payloads are text columns, never json (receivers verify their exact bytes)', () => {
    const sql = migrationSql();
    expect(sql).toMatch(/outbox_messages \([\s\S]*?\bpayload text NOT NULL/);
    expect(sql).toMatch(/events \([\s\S]*?\bpayload text NOT NULL/);
    expect(sql).not.toMatch(/payload jsonb|payload json\b/);
  });
});

for (const { name, open, skip } of targets) {
  if (skip) console.info(`[migrations] ${skip}`);
  (skip ? describe.skip : describe)(`migrations on ${name}`, () => {
    let target: Target;
    const schemas: string[] = [];
    const fresh = (): string => {
      const schema = testSchemaName();
      schemas.push(schema);
      return schema;
    };

    beforeAll(async () => {
      target = await open();
    });
    afterAll(async () => {
      if (!target) return;
      for (const schema of schemas) await target.db.query(`DROP SCHEMA IF EXISTS ${quoteSchema(schema)} CASCADE`);
      await target.close();
    });

    it('migrate creates the schema and its tables, and records the shipped migrations', async () => {
      const schema = fresh();
      const storage = await SqlConvoyStorage.open(target.db, { schema, migrate: true });
      const { rows } = await target.db.query<{ table_name: string }>(
        `SELECT table_name FROM information_schema.tables WHERE table_schema = $1`,
        [schema],
      );
      expect(rows.map((r) => r.table_name).sort()).toEqual([...STORAGE_TABLES, 'schema_migrations'].sort());
      expect(await appliedRows(target.db, schema)).toEqual(shipped);
      await expect(storage.checkSchema()).resolves.toBeUndefined();
      // The stores work on it.
      await storage.store.enqueue([{ deliveries: [delivery('m1', 'm1', null, { next_send_at: 1, created_at: 1 })] }]);
      expect((await storage.store.stats(2)).pending).toBe(1);
    });

    it('running migrate again applies nothing and keeps the data', async () => {
      const schema = fresh();
      const storage = await SqlConvoyStorage.open(target.db, { schema, migrate: true });
      await target.db
        .query(`INSERT INTO ${quoteSchema(schema)}.endpoints (uid, name, url, owner_id, description, secrets, advanced_signatures, signature_format, event_types, http_timeout, rate_limit, rate_limit_duration, support_email, status, created_at, updated_at)
        VALUES ('ep', 'n', 'https://x', '', '', '[]', true, 'convoy', '["*"]', 10, 0, 0, '', 'active', 0, 0)`);
      expect(await storage.applyMissingMigrations()).toEqual([]);
      await SqlConvoyStorage.open(target.db, { schema, migrate: true });
      expect(await appliedRows(target.db, schema)).toEqual(shipped);
      expect((await storage.store.allEndpoints()).map((e) => e.uid)).toEqual(['ep']);
    });

    it('instances migrating at once: one applies the migrations, the others wait on the lock and find nothing to do', async () => {
      const schema = fresh();
      const dbs = [target.db, await target.another(), await target.another(), await target.another()];
      const results = await Promise.all(dbs.map((db) => new SqlConvoyStorage(db, { schema }).applyMissingMigrations()));
      expect(results.map((r) => r.join(',')).sort()).toEqual(['', '', '', shipped.map((m) => m.version).join(',')]);
      expect(await appliedRows(target.db, schema)).toEqual(shipped);
    });

    it('checkSchema throws SchemaOutdatedError naming the missing migrations; migrate brings the schema back', async () => {
      const schema = fresh();
      const storage = await SqlConvoyStorage.open(target.db, { schema, migrate: true });
      await target.db.query(`DELETE FROM ${quoteSchema(schema)}.schema_migrations`);
      const error = await storage.checkSchema().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(SchemaOutdatedError);
      expect((error as SchemaOutdatedError).missing).toEqual(shipped);
      expect((error as SchemaOutdatedError).schema).toBe(schema);
      expect((error as Error).message).toContain('1 (initial)');
      await expect(SqlConvoyStorage.open(target.db, { schema, migrate: false })).rejects.toThrow(SchemaOutdatedError);
      // Version 1 is written to be re-runnable (IF NOT EXISTS), so recording it again is safe.
      await storage.migrate();
      await expect(storage.checkSchema()).resolves.toBeUndefined();
    });

    it('a schema that does not exist: checkSchema lists every migration, and nothing is created', async () => {
      const schema = fresh();
      await expect(new SqlConvoyStorage(target.db, { schema }).checkSchema()).rejects.toMatchObject({
        missing: shipped,
        schema,
      });
      await expect(SqlConvoyStorage.open(target.db, { schema, migrate: false })).rejects.toThrow(SchemaOutdatedError);
      expect(await schemaExists(target.db, schema)).toBe(false);
    });

    it('NODE_ENV=production: migrate is off by default, so an empty schema fails startup; elsewhere it migrates', async () => {
      const before = process.env.NODE_ENV;
      const empty = fresh();
      try {
        process.env.NODE_ENV = 'production';
        await expect(SqlConvoyStorage.open(target.db, { schema: empty })).rejects.toThrow(SchemaOutdatedError);
        expect(await schemaExists(target.db, empty)).toBe(false);
        await SqlConvoyStorage.open(target.db, { schema: empty, migrate: true });
        await expect(SqlConvoyStorage.open(target.db, { schema: empty })).resolves.toBeInstanceOf(SqlConvoyStorage);
        process.env.NODE_ENV = 'development';
        const other = fresh();
        await SqlConvoyStorage.open(target.db, { schema: other });
        expect(await appliedRows(target.db, other)).toEqual(shipped);
      } finally {
        process.env.NODE_ENV = before;
      }
    });

    it('migrationSql() runs as one script on an empty database, again without harm, and builds what migrate() builds', async () => {
      const scripted = fresh();
      const migrated = fresh();
      await target.exec(migrationSql(scripted));
      await target.exec(migrationSql(scripted));
      await expect(new SqlConvoyStorage(target.db, { schema: scripted }).checkSchema()).resolves.toBeUndefined();
      expect(await appliedRows(target.db, scripted)).toEqual(shipped);
      await SqlConvoyStorage.open(target.db, { schema: migrated, migrate: true });
      const [a, b] = [await structure(target.db, scripted), await structure(target.db, migrated)];
      expect(a.length).toBeGreaterThan(50);
      expect(a).toEqual(b);
    });

    if (name === 'PostgreSQL') {
      it('migrationSql() through the psql command line', async () => {
        if (!target.psql) return console.info('[migrations] psql is not installed: the psql run is skipped');
        const schema = fresh();
        target.psql(migrationSql(schema));
        await expect(new SqlConvoyStorage(target.db, { schema }).checkSchema()).resolves.toBeUndefined();
      });
    }
  });
}
