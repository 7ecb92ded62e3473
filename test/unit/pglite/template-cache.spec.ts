import { chmod, mkdir, mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { PGlite } from '@electric-sql/pglite';
import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { PGliteStorage } from '../../../lib/storage/pglite/index.js';
import { TemplateCache } from '../../../lib/storage/pglite/template-cache.js';
import { migrations } from '../../../lib/storage/sql/migrations.js';
import type { SqlConvoyStorage } from '../../../lib/storage/sql/sql-storage.js';
import { recordingLogger, type LogLine } from '../../support/recording-logger.js';

/**
 * New PGlite databases from the template, with real PGlite: the first one runs initdb and saves the template, later
 * ones (a folder, or in memory) are copied from it and work (queries, our migrations); a damaged template falls back
 * to initdb and is replaced; `templateCache: false` neither reads nor writes one. Each test has its own template
 * folder, and reads what happened from the log (a folder's) or from the calls to PGlite (in memory, which is quiet).
 */
describe('PGlite template cache', () => {
  let base: string;
  let lines: LogLine[];
  const opened: SqlConvoyStorage[] = [];

  beforeEach(async () => {
    base = await mkdtemp(join(tmpdir(), 'nc-template-'));
    lines = [];
    Logger.overrideLogger(recordingLogger(lines));
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((s) => s.close()));
    Logger.overrideLogger(false);
    await rm(base, { recursive: true, force: true });
  });

  /** Opens a storage, and returns it with what PGliteStorage logged meanwhile. */
  async function open(
    options: Parameters<typeof PGliteStorage.create>[0],
  ): Promise<{ storage: SqlConvoyStorage; log: string[] }> {
    const from = lines.length;
    const storage = await PGliteStorage.create(options);
    opened.push(storage);
    return {
      storage,
      log: lines
        .slice(from)
        .filter((l) => l.context === 'PGliteStorage')
        .map((l) => `${l.level}: ${l.message}`),
    };
  }
  const templates = async (folder: string): Promise<string[]> =>
    (await readdir(folder).catch(() => [])).filter((f) => f.endsWith('.tar.gz'));

  /** The database works, and carries all our migrations. */
  async function expectUsable(storage: SqlConvoyStorage): Promise<void> {
    const { rows } = await storage.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM ${storage.schema}.schema_migrations`,
    );
    expect(rows[0]?.n).toBe(migrations(storage.schema).length);
    expect(await storage.store.claim(10, 1_000, 'token', Date.now())).toEqual([]);
  }

  it('the first new database runs initdb and saves the template once; later ones, in a folder or in memory, are copied from it', async () => {
    const cache = join(base, 'cache');
    const first = await open({ dataDir: join(base, 'one'), templateCache: cache });
    expect(first.log).toEqual([
      `log: Creating a new PGlite database in ${join(base, 'one')} with initdb: takes a few seconds (once: later new databases are copied from a template in ${cache})`,
      expect.stringMatching(/^debug: Saved the PGlite template .*pglite-[\w.+-]+-pg\d+\.tar\.gz$/),
      expect.stringMatching(new RegExp(`^log: Created the PGlite database in ${join(base, 'one')} in \\d+\\.\\d s$`)),
    ]);
    await expectUsable(first.storage);
    const [template] = await templates(cache);
    expect(template).toMatch(/^pglite-[\w.+-]+-pg\d+\.tar\.gz$/);
    const saved = await readFile(join(cache, template!));
    expect([...saved.subarray(0, 2)]).toEqual([0x1f, 0x8b]); // gzip, as PGlite's dumpDataDir('gzip') makes it

    const second = await open({ dataDir: join(base, 'two'), templateCache: cache });
    expect(second.log).toEqual([
      `log: Creating a new PGlite database in ${join(base, 'two')} from the template ${join(cache, template!)}`,
      expect.stringMatching(/^log: Created the PGlite database in .* in \d+\.\d s$/),
    ]);
    await expectUsable(second.storage);

    // In memory too, quietly (no log lines in an app's tests): PGlite is given the template.
    const create = jest.spyOn(PGlite, 'create');
    try {
      const inMemory = await open({ templateCache: cache });
      expect(inMemory.log).toEqual([]);
      expect(create).toHaveBeenCalledTimes(1);
      expect(create.mock.calls[0]![0]).toEqual(
        expect.objectContaining({ dataDir: undefined, loadDataDir: expect.any(Blob) }),
      );
      await expectUsable(inMemory.storage);
    } finally {
      create.mockRestore();
    }

    // The template was written once: the same bytes, and no other file.
    expect(await readdir(cache)).toEqual([template]);
    expect((await readFile(join(cache, template!))).equals(saved)).toBe(true);

    // Reopening a folder copies nothing.
    await second.storage.close();
    const reopened = await open({ dataDir: join(base, 'two'), templateCache: cache });
    expect(reopened.log).toEqual([]);
    await expectUsable(reopened.storage);
  }, 240_000);

  it('a damaged template (not a database, or a truncated file) falls back to initdb and is replaced', async () => {
    const cache = join(base, 'cache');
    await open({ templateCache: cache }); // makes the template
    const [template] = await templates(cache);
    const file = join(cache, template!);
    const size = (await readFile(file)).length;
    /** The template file holds a whole database again. */
    const expectReplaced = async (): Promise<void> => expect((await readFile(file)).length).toBeGreaterThan(size / 2);

    await writeFile(file, gzipSync(Buffer.alloc(4096, 'x'))); // gzip is fine, what it holds is not
    const damaged = await open({ dataDir: join(base, 'one'), templateCache: cache });
    expect(damaged.log[0]).toBe(`warn: The PGlite template in ${cache} is not used (not a tar archive): replacing it`);
    expect(damaged.log[1]).toMatch(/^log: Creating a new PGlite database in .* with initdb/);
    await expectUsable(damaged.storage);
    await expectReplaced();

    await truncate(file, Math.floor((await readFile(file)).length / 2));
    const truncated = await open({ dataDir: join(base, 'two'), templateCache: cache });
    // Refused before PGlite sees it: gzip's checksum.
    expect(truncated.log[0]).toBe(
      `warn: The PGlite template in ${cache} is not used (unexpected end of file): replacing it`,
    );
    expect(truncated.log[1]).toMatch(/with initdb/);
    await expectUsable(truncated.storage);
    await expectReplaced();
  }, 240_000);

  it('a creation cut short (a crash while the folder was being filled) is started again from an empty folder', async () => {
    const cache = join(base, 'cache');
    await open({ templateCache: cache }); // makes the template
    const dataDir = join(base, 'cut-short');
    // What a crash leaves: the marker beside the lock, and a folder with some files, PG_VERSION among them.
    await mkdir(`${dataDir}.lock`, { recursive: true });
    await writeFile(join(`${dataDir}.lock`, 'creating'), '');
    await mkdir(join(dataDir, 'base'), { recursive: true });
    await writeFile(join(dataDir, 'PG_VERSION'), '18\n');
    await writeFile(join(dataDir, 'base', 'half-written'), 'x');
    const again = await open({ dataDir, templateCache: cache });
    expect(again.log).toEqual([
      `warn: The new PGlite database in ${dataDir} was not finished (the process stopped while creating it): creating it again`,
      expect.stringMatching(/^log: Creating a new PGlite database in .* from the template/),
      expect.stringMatching(/^log: Created the PGlite database/),
    ]);
    await expectUsable(again.storage);
    expect(await readdir(join(dataDir, 'base'))).not.toContain('half-written');
    // Finished: the marker is gone, and the next start just opens the folder.
    expect(await readdir(`${dataDir}.lock`)).not.toContain('creating');
    await again.storage.close();
    expect((await open({ dataDir, templateCache: cache })).log).toEqual([]);
  }, 240_000);

  it('templateCache: false runs initdb and neither reads nor saves a template', async () => {
    const { storage, log } = await open({ dataDir: join(base, 'one'), templateCache: false });
    expect(log).toEqual([
      `log: Creating a new PGlite database in ${join(base, 'one')} with initdb: takes a few seconds`,
      expect.stringMatching(/^log: Created the PGlite database in .* in \d+\.\d s$/),
    ]);
    await expectUsable(storage);
    // In memory: PGlite runs initdb itself, and nothing is dumped.
    const create = jest.spyOn(PGlite, 'create');
    const dump = jest.spyOn(PGlite.prototype, 'dumpDataDir');
    try {
      await expectUsable((await open({ templateCache: false })).storage);
      // (PGlite's own initdb makes a second instance through create(); its options are a large object graph.)
      expect(create.mock.calls[0]).toEqual([{ dataDir: undefined }]);
      expect(dump).not.toHaveBeenCalled();
    } finally {
      create.mockRestore();
      dump.mockRestore();
    }
  }, 180_000);

  it('by default the template lives in node_modules/.cache/nestjs-convoy of the working directory', () => {
    expect(TemplateCache.at(undefined, () => undefined)?.folder).toBe(
      join(process.cwd(), 'node_modules', '.cache', 'nestjs-convoy'),
    );
    expect(TemplateCache.at(false, () => undefined)).toBeUndefined();
  });

  it('a template that other users may write is not used', async () => {
    const cache = TemplateCache.at(join(base, 'cache'), () => undefined)!;
    const tar = Buffer.alloc(1024);
    tar.write('ustar', 257, 'latin1'); // enough of a tar for read() (PGlite is not involved here)
    const file = await cache.save({ saved: gzipSync(tar), pgMajor: 18 });
    expect(await cache.read()).toMatchObject({ file });
    await chmod(file, 0o666);
    await expect(cache.read()).rejects.toThrow(/others may write it/);
  });
});
