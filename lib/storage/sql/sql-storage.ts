import { ConvoyConfigurationError } from '../../errors/configuration.error.js';
import { SchemaOutdatedError } from '../../errors/outbox.errors.js';
import type { ConvoyStorage } from '../convoy-storage.interface.js';
import {
  bootstrapStatements,
  DEFAULT_SCHEMA,
  migrations,
  quoteSchema,
  validateSchemaName,
  type Migration,
} from './migrations.js';
import type { SqlDatabase, SqlQueryable } from './sql.js';
import { SqlWebhookStore } from './sql-webhook.store.js';
import { SecretCipher, type SecretKey } from './secret-cipher.js';
import { num } from './sql-values.js';

/** Options of every SQL storage: its schema and whether it migrates at startup. */
export interface SqlStorageOptions {
  /** PostgreSQL schema holding the tables (default `nestjs_convoy`). */
  schema?: string;
  /**
   * Apply missing migrations at startup (default: true, except under NODE_ENV=production, where a schema that is
   * behind fails startup with SchemaOutdatedError instead: schema changes in production go through your migrations).
   */
  migrate?: boolean;
  /**
   * Keys that encrypt secrets at rest (AES-256-GCM): endpoint signing secrets, endpoints' API-key header values and
   * `{ url, secret }` targets. The first key encrypts what is written; every key decrypts, so add a new key first and
   * keep the old ones until reencryptSecrets() has moved every secret to it. Without keys, secrets are stored as given.
   */
  secretKeys?: SecretKey[];
}

/**
 * ConvoyStorage over any SqlDatabase (`nestjs-convoy/postgres` and `nestjs-convoy/pglite` build it from a pg pool
 * or a PGlite instance): the pipeline's tables in one schema, with their migrations.
 */
export class SqlConvoyStorage implements ConvoyStorage {
  readonly schema: string;
  readonly store: SqlWebhookStore;
  private closing: Promise<void> | undefined;
  private readonly hasSecretKeys: boolean;

  /** Builds the stores without touching the database; open() also checks or migrates the schema. */
  constructor(
    readonly db: SqlDatabase,
    options: Pick<SqlStorageOptions, 'schema' | 'secretKeys'> = {},
  ) {
    this.schema = validateSchemaName(options.schema ?? DEFAULT_SCHEMA);
    this.store = new SqlWebhookStore(db, this.schema, SecretCipher.from(options.secretKeys));
    this.hasSecretKeys = options.secretKeys !== undefined;
  }

  /**
   * The storage, ready: refuses a default isolation level stricter than READ COMMITTED (the claims rely on its
   * re-check of rows changed by a concurrent claimer; REPEATABLE READ or SERIALIZABLE would fail them with
   * serialization errors instead), then migrates (`migrate`, default true outside NODE_ENV=production) or checks that
   * the schema is current (SchemaOutdatedError otherwise). Leaves `db` open when it throws.
   */
  static async open(db: SqlDatabase, options: SqlStorageOptions = {}): Promise<SqlConvoyStorage> {
    if (options.migrate !== undefined && typeof options.migrate !== 'boolean') {
      throw new ConvoyConfigurationError('storage.migrate', 'must be a boolean', 'pass true or false, or leave it out');
    }
    const storage = new SqlConvoyStorage(db, options);
    await storage.checkIsolation();
    if (options.migrate ?? process.env.NODE_ENV !== 'production') await storage.migrate();
    else await storage.checkSchema();
    await storage.checkSecretKeys();
    return storage;
  }

  /**
   * Applies the missing migrations in one transaction that first takes
   * `pg_advisory_xact_lock(hashtext('nestjs_convoy:migrate:' || schema))`: instances starting together queue on the
   * lock, and each one after the first reads (READ COMMITTED: a fresh snapshot per statement) that nothing is left
   * to do. A failing migration rolls back entirely.
   */
  async migrate(): Promise<void> {
    await this.applyMissingMigrations();
  }

  /** migrate(), returning the versions this call applied (empty when another instance had applied them). */
  async applyMissingMigrations(): Promise<number[]> {
    const s = quoteSchema(this.schema);
    return this.db.transaction(async (tx) => {
      await tx.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`nestjs_convoy:migrate:${this.schema}`]);
      // CREATE SCHEMA needs the CREATE privilege on the database even with IF NOT EXISTS: skip it when the schema exists.
      const { rows } = await tx.query<{ present: boolean }>(`SELECT to_regnamespace($1) IS NOT NULL AS present`, [
        this.schema,
      ]);
      const [createSchema, createTable] = bootstrapStatements(this.schema);
      if (!rows[0]?.present) await tx.query(createSchema!);
      await tx.query(createTable!);
      const applied = await appliedVersions(tx, this.schema);
      const done: number[] = [];
      for (const m of migrations(this.schema)) {
        if (applied.has(m.version)) continue;
        for (const statement of m.statements) await tx.query(statement);
        await tx.query(`INSERT INTO ${s}.schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`, [
          m.version,
          m.name,
          Date.now(),
        ]);
        done.push(m.version);
      }
      return done;
    });
  }

  /** Throws SchemaOutdatedError naming the migrations this version needs and the schema lacks (all of them when it does not exist). */
  async checkSchema(): Promise<void> {
    const applied = await appliedVersions(this.db, this.schema);
    const missing = migrations(this.schema).filter((m) => !applied.has(m.version));
    if (missing.length > 0)
      throw new SchemaOutdatedError(
        missing.map(({ version, name }: Migration) => ({ version, name })),
        this.schema,
      );
  }

  /**
   * Re-encrypts every stored secret that is not under the current key (the first of `secretKeys`), also those stored
   * in clear before keys were configured; in batches, while the application runs. Run it after a new key became the
   * first; then the old key can be removed. Needs every key still in use (SecretDecryptionError names a missing one).
   */
  reencryptSecrets(): Promise<{ endpoints: number; deliveries: number }> {
    return this.store.reencryptSecrets();
  }

  /** Closes the database this storage was given to own (a pool or PGlite you passed in stays open); once. */
  close(): Promise<void> {
    this.closing ??= this.db.close();
    return this.closing;
  }

  /** Fails at startup, not on every poll after it, when stored secrets need a key that `secretKeys` lacks. */
  private async checkSecretKeys(): Promise<void> {
    const missing = await this.store.missingSecretKeys();
    if (missing.length === 0) return;
    const ids = missing.map((id) => `"${id}"`).join(', ');
    throw new ConvoyConfigurationError(
      'storage.secretKeys',
      `stored secrets are encrypted under key ${ids}, which ${this.hasSecretKeys ? 'is not among secretKeys' : 'is not given (secretKeys is not set)'}`,
      `add { id: ${ids}, key } to secretKeys (after the key that encrypts); remove an old key only after reencryptSecrets() has moved every secret off it`,
    );
  }

  private async checkIsolation(): Promise<void> {
    const { rows } = await this.db.query<{ level: string }>(`SELECT current_setting('transaction_isolation') AS level`);
    const level = String(rows[0]?.level ?? '').toLowerCase();
    if (level === 'repeatable read' || level === 'serializable') {
      throw new ConvoyConfigurationError(
        'storage',
        `the database connections run at isolation level ${level.toUpperCase()}; the outbox and delivery claims need READ COMMITTED`,
        'use the PostgreSQL default (READ COMMITTED) for these connections: remove default_transaction_isolation from the role, database or connection options',
      );
    }
  }
}

/** Versions recorded in `<schema>.schema_migrations`; none when the table (or the schema) does not exist. */
async function appliedVersions(q: SqlQueryable, schema: string): Promise<Set<number>> {
  const { rows } = await q.query<{ present: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS present`, [
    `${quoteSchema(schema)}.schema_migrations`,
  ]);
  if (!rows[0]?.present) return new Set();
  const applied = await q.query<{ version: unknown }>(`SELECT version FROM ${quoteSchema(schema)}.schema_migrations`);
  return new Set(applied.rows.map((r) => num(r.version)));
}
