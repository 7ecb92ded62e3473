import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { ConvoyConfigurationError } from '../errors/configuration.error.js';
import { importOptional } from '../storage/optional-import.js';
import type { SqlDatabase, SqlQueryable } from '../storage/sql.js';
import { SqlConvoyStorage, type SqlStorageOptions } from '../storage/sql-storage.js';

export { SqlConvoyStorage, type SqlStorageOptions } from '../storage/sql-storage.js';
export { SqlOutboxStore } from '../storage/sql-outbox.store.js';
export { SqlWebhookStore } from '../storage/sql-webhook.store.js';
export { DEFAULT_SCHEMA, migrations, migrationSql, type Migration } from '../storage/migrations.js';
export type { SqlDatabase, SqlQueryable } from '../storage/sql.js';
export type { ConvoyStorage } from '../storage/convoy-storage.interface.js';

/** What the storage uses of a PGlite instance. */
export interface PGliteLike extends SqlQueryable {
  transaction<T>(work: (tx: SqlQueryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface PGliteStorageOptions extends SqlStorageOptions {
  /** A directory for the database files (created if missing); omit for an in-memory database (lost on exit). */
  dataDir?: string;
  /** Or your PGlite instance: used as it is, and left open by close(). */
  pglite?: PGliteLike;
}

/**
 * A SqlDatabase over PGlite. PGlite is one connection: its transaction() runs alone (other queries wait for it),
 * which keeps transactions correct but serializes them. `close: true` makes close() close the instance.
 */
export function fromPGlite(db: PGliteLike, options: { close?: boolean } = {}): SqlDatabase {
  return {
    query: (text, params) => db.query(text, params),
    transaction: (work) => db.transaction((tx) => work(tx)),
    close: async () => {
      if (options.close) await db.close();
    },
  };
}

/** `nestjs-convoy/pglite`: durable storage in PGlite (PostgreSQL in WebAssembly, in process), the same SQL as PostgreSQL. */
export class PGliteStorage {
  /**
   * Opens the storage on your `pglite` instance, or on a new one in `dataDir` (or in memory), then migrates or checks
   * the schema (see SqlStorageOptions.migrate). An instance it opened is closed when opening fails and on close().
   * Opening a new data directory takes seconds (initdb); reopening one is faster.
   */
  static async create(options: PGliteStorageOptions = {}): Promise<SqlConvoyStorage> {
    if (options.pglite !== undefined && options.dataDir !== undefined) {
      throw new ConvoyConfigurationError('storage', 'PGliteStorage takes `pglite` or `dataDir`, not both', 'pass your PGlite instance, or the directory for a new one');
    }
    if (options.pglite !== undefined) return SqlConvoyStorage.open(fromPGlite(options.pglite), options);
    const { dataDir } = options;
    if (dataDir !== undefined && (typeof dataDir !== 'string' || dataDir === '')) {
      throw new ConvoyConfigurationError('storage.dataDir', 'is empty or not a string', 'pass a directory path, or leave it out for an in-memory database');
    }
    const { PGlite } = await importOptional(() => import('@electric-sql/pglite'), '@electric-sql/pglite', 'storage');
    // A plain path (not memory:// or idb://): make sure its parent exists; PGlite creates the directory itself.
    if (dataDir !== undefined && !/^[a-z]+:\/\//i.test(dataDir)) await mkdir(dirname(resolve(dataDir)), { recursive: true });
    const instance = await PGlite.create(dataDir);
    const db = fromPGlite(instance as unknown as PGliteLike, { close: true });
    try {
      return await SqlConvoyStorage.open(db, options);
    } catch (error) {
      await db.close().catch(() => undefined);
      throw error;
    }
  }
}
