import { mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { Logger } from '@nestjs/common';
import type { PGlite as PGliteClass } from '@electric-sql/pglite';
import { ConvoyConfigurationError } from '../../errors/configuration.error.js';
import { importOptional } from '../../utils/optional-import.js';
import type { SqlDatabase, SqlQueryable } from '../sql/sql.js';
import { SqlConvoyStorage, type SqlStorageOptions } from '../sql/sql-storage.js';
import { DataDirLock } from './data-dir-lock.js';
import { dumpTemplate, TemplateCache } from './template-cache.js';

export { SqlConvoyStorage, type SqlStorageOptions } from '../sql/sql-storage.js';
export { SqlWebhookStore } from '../sql/sql-webhook.store.js';
export { DEFAULT_SCHEMA, migrations, migrationSql, type Migration } from '../sql/migrations.js';
export type { SqlDatabase, SqlQueryable } from '../sql/sql.js';
export type { SecretKey } from '../sql/secret-cipher.js';
export type { ConvoyStorage } from '../convoy-storage.interface.js';
export { DataDirInUseError, type DataDirHolder } from '../../errors/pglite.errors.js';

/** What the storage uses of a PGlite instance. */
export interface PGliteLike extends SqlQueryable {
  transaction<T>(work: (tx: SqlQueryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** Options of PGliteStorage.create(): a data folder or your instance, the template cache, the schema. */
export interface PGliteStorageOptions extends SqlStorageOptions {
  /**
   * A directory for the database files (created if missing); omit for an in-memory database (lost on exit). One
   * process at a time opens it: the lock is the folder `<dataDir>.lock` beside it (see DataDirInUseError).
   */
  dataDir?: string;
  /** Or your PGlite instance: used as it is, and left open by close(). */
  pglite?: PGliteLike;
  /**
   * Where new databases (a new `dataDir`, or in memory) are copied from: a pristine database saved the first time
   * one is created (initdb, seconds), per PGlite version. Default `node_modules/.cache/nestjs-convoy` under the
   * working directory when that node_modules exists; a folder of your own; or `false` to run initdb every time.
   */
  templateCache?: string | false;
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
   * A `dataDir` is locked for this process until close() (DataDirInUseError while another process has it open).
   * A new database is copied from the template (see `templateCache`); the very first one runs initdb (seconds).
   */
  static async create(options: PGliteStorageOptions = {}): Promise<SqlConvoyStorage> {
    if (options.pglite !== undefined && options.dataDir !== undefined) {
      throw new ConvoyConfigurationError(
        'storage',
        'PGliteStorage takes `pglite` or `dataDir`, not both',
        'pass your PGlite instance, or the directory for a new one',
      );
    }
    if (options.pglite !== undefined) return SqlConvoyStorage.open(fromPGlite(options.pglite), options);
    const { dataDir, templateCache } = options;
    if (dataDir !== undefined && (typeof dataDir !== 'string' || dataDir === '')) {
      throw new ConvoyConfigurationError(
        'storage.dataDir',
        'is empty or not a string',
        'pass a directory path, or leave it out for an in-memory database',
      );
    }
    if (
      templateCache !== undefined &&
      templateCache !== false &&
      (typeof templateCache !== 'string' || templateCache === '')
    ) {
      throw new ConvoyConfigurationError(
        'storage.templateCache',
        'must be a folder path or false',
        'pass a folder, false to run initdb for every new database, or leave it out',
      );
    }
    const { PGlite } = await importOptional(() => import('@electric-sql/pglite'), '@electric-sql/pglite', 'storage');
    const folder = localFolder(dataDir);
    let lock: DataDirLock | undefined;
    if (folder !== undefined) {
      await mkdir(dirname(resolve(folder)), { recursive: true }); // for the lock beside the folder, which is made later
      lock = await DataDirLock.acquire(folder, (problem) =>
        logger.error(`The PGlite data folder ${folder} is no longer locked for this process: ${problem}`),
      );
    }
    let instance: PGliteClass;
    try {
      instance = await openDatabase(PGlite, dataDir, folder, lock, templateCache);
    } catch (error) {
      await lock?.release();
      throw error;
    }
    const db: SqlDatabase = {
      ...fromPGlite(instance as unknown as PGliteLike),
      close: async () => {
        try {
          await instance.close();
        } finally {
          await lock?.release();
        }
      },
    };
    try {
      return await SqlConvoyStorage.open(db, options);
    } catch (error) {
      await db.close().catch(() => undefined);
      throw error;
    }
  }
}

const logger = new Logger('PGliteStorage');
const QUIET: Pick<Logger, 'log' | 'warn' | 'debug'> = {
  log: () => undefined,
  warn: () => undefined,
  debug: () => undefined,
};

/** The folder of a data directory on this machine's file system (a path or file://); undefined for memory:// or idb://. */
function localFolder(dataDir: string | undefined): string | undefined {
  if (dataDir === undefined) return undefined;
  if (dataDir.startsWith('file://')) return dataDir.slice('file://'.length);
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(dataDir) ? undefined : dataDir;
}

/**
 * PGlite on `dataDir`: an existing database is opened; a new one (a missing or empty folder, or in memory) is loaded
 * from the template, or made by initdb, which then becomes the template. For a folder it logs what it does, as a new
 * database takes a moment and the very first one several seconds: an app's first start must not look hung. In
 * memory (tests, mostly) it says nothing. While a folder is being filled, a marker in its lock folder says so: a
 * creation cut short (a crash) is started again from an empty folder rather than opened half-written.
 */
async function openDatabase(
  PGlite: typeof PGliteClass,
  dataDir: string | undefined,
  folder: string | undefined,
  lock: DataDirLock | undefined,
  templateCache: string | false | undefined,
): Promise<PGliteClass> {
  const creating = lock === undefined ? undefined : join(dirname(lock.file), 'creating');
  if (folder !== undefined && creating !== undefined) {
    if (await exists(creating)) {
      logger.warn(
        `The new PGlite database in ${resolve(folder)} was not finished (the process stopped while creating it): creating it again`,
      );
      await emptyFolder(folder);
    } else {
      const found = await folderContents(folder);
      if (found === 'other')
        logger.log(
          `The PGlite data folder ${resolve(folder)} is not empty but holds no database (no PG_VERSION): PGlite runs initdb in it (takes a few seconds)`,
        );
      if (found !== 'nothing') return PGlite.create({ dataDir });
    }
  } else if (dataDir !== undefined && !dataDir.startsWith('memory://')) {
    return PGlite.create({ dataDir }); // another kind of store (idb://): PGlite's own way
  }
  const where = folder === undefined ? 'in memory' : `in ${resolve(folder)}`;
  const say = folder === undefined ? QUIET : logger;
  const started = Date.now();
  const created = (db: PGliteClass): PGliteClass => {
    say.log(`Created the PGlite database ${where} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return db;
  };
  if (creating !== undefined) await writeFile(creating, '');
  const cache = TemplateCache.at(templateCache, (problem) => say.debug(problem));
  const cached = await cache
    ?.read()
    .catch(
      (error: Error) =>
        void say.warn(`The PGlite template in ${cache.folder} is not used (${error.message}): replacing it`),
    );
  if (cache && cached) {
    say.log(`Creating a new PGlite database ${where} from the template ${cached.file}`);
    try {
      const db = await PGlite.create({ dataDir, loadDataDir: new Blob([cached.tar]) });
      if (creating !== undefined) await rm(creating);
      return created(db);
    } catch (error) {
      say.warn(`The PGlite template ${cached.file} could not be loaded (${(error as Error).message}): replacing it`);
      await cache.discard(cached.file);
      if (folder !== undefined) await emptyFolder(folder);
    }
  }
  say.log(
    `Creating a new PGlite database ${where} with initdb: takes a few seconds${cache ? ` (once: later new databases are copied from a template in ${cache.folder})` : ''}`,
  );
  const db = await PGlite.create({ dataDir });
  try {
    if (cache) {
      await dumpTemplate(db)
        .then((template) => cache.save(template))
        .then(
          (file) => say.debug(`Saved the PGlite template ${file}`),
          (error: Error) => say.debug(`The PGlite template could not be saved in ${cache.folder}: ${error.message}`),
        );
    }
    if (creating !== undefined) await rm(creating);
  } catch (error) {
    await db.close().catch(() => undefined);
    throw error;
  }
  return created(db);
}

const exists = (path: string): Promise<boolean> =>
  stat(path).then(
    () => true,
    () => false,
  );

/** What a data folder holds: nothing (missing or empty), a database (PG_VERSION), or other files. */
async function folderContents(folder: string): Promise<'nothing' | 'database' | 'other'> {
  const entries: string[] = await readdir(folder).catch((error: NodeJS.ErrnoException) =>
    error.code === 'ENOENT' ? [] : Promise.reject(error),
  );
  return entries.length === 0 ? 'nothing' : entries.includes('PG_VERSION') ? 'database' : 'other';
}

/** Removes what a failed creation left in the folder. */
async function emptyFolder(folder: string): Promise<void> {
  const entries = await readdir(folder).catch(() => []);
  await Promise.all(entries.map((entry) => rm(join(folder, entry), { recursive: true, force: true })));
}
