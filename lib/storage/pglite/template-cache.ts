import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { gunzip as gunzipCallback } from 'node:zlib';

const gunzip = promisify(gunzipCallback);
// zlib in the thread pool calls back once per chunk: large chunks unpack a template in a few callbacks, not thousands.
const CHUNK = 4 << 20;

/** What a template is made of: a PGlite instance just created by initdb. */
export interface TemplateSource {
  query<T>(text: string): Promise<{ rows: T[] }>;
  dumpDataDir(compression: 'gzip'): Promise<Blob>;
}

/** A pristine database as PGlite's dumpDataDir('gzip') makes it (a tar.gz of its folder), and its PostgreSQL major version. */
export interface Template {
  saved: Uint8Array;
  pgMajor: number;
}

/** Dumps `db`, just created by initdb, as a template. */
export async function dumpTemplate(db: TemplateSource): Promise<Template> {
  await db.query('CHECKPOINT'); // everything in the files, so that a copy has nothing to replay when it starts
  const { rows } = await db.query<{ version: string }>("SELECT current_setting('server_version_num') AS version");
  const saved = new Uint8Array(await (await db.dumpDataDir('gzip')).arrayBuffer());
  return { saved, pgMajor: Math.floor(Number(rows[0]?.version) / 10_000) };
}

/**
 * Pristine PGlite databases (just initialized, before any migration), saved once per PGlite version, from which new
 * databases are loaded (PGlite's own loadDataDir), much quicker than PostgreSQL's initdb inside WebAssembly.
 * One file per PGlite version and PostgreSQL major version, `pglite-<version>-pg<major>.tar.gz`. Written whole or
 * not at all (temp file, then rename); a file that another user could have written is not used; read() unpacks it
 * (gzip's checksum refuses a damaged file, which PGlite's own unpacking would also report as an unhandled rejection,
 * crashing the app).
 */
export class TemplateCache {
  private constructor(
    readonly folder: string,
    /** `pglite-<version>-pg`, followed by the PostgreSQL major version and `.tar.gz`. */
    private readonly prefix: string,
  ) {}

  /**
   * The cache in `folder`, by default `node_modules/.cache/nestjs-convoy` under the working directory when that
   * node_modules exists (where babel and terser keep theirs); undefined when disabled (`false`) or there is no place
   * for it. `problem` hears why not.
   */
  static at(folder: string | false | undefined, problem: (text: string) => void): TemplateCache | undefined {
    if (folder === false) return undefined;
    const modules = join(process.cwd(), 'node_modules');
    if (folder === undefined && !existsSync(modules)) {
      problem(`no template cache: ${modules} does not exist (set the storage option templateCache to a folder)`);
      return undefined;
    }
    const version = pgliteVersion();
    if (version === undefined) {
      problem(`no template cache: the version of @electric-sql/pglite installed for ${process.cwd()} is unknown`);
      return undefined;
    }
    return new TemplateCache(resolve(folder ?? join(modules, '.cache', 'nestjs-convoy')), `pglite-${version}-pg`);
  }

  /** The template's file and tar, or undefined when there is none yet. Throws when it cannot be read, is damaged or is not trusted. */
  async read(): Promise<{ file: string; tar: Uint8Array } | undefined> {
    const names = await readdir(this.folder).catch((error: NodeJS.ErrnoException) =>
      error.code === 'ENOENT' ? [] : Promise.reject(error),
    );
    const name = names.find((n) => n.startsWith(this.prefix) && /^\d+\.tar\.gz$/.test(n.slice(this.prefix.length)));
    if (name === undefined) return undefined;
    const file = join(this.folder, name);
    for (const path of [this.folder, file]) {
      if (await writableByOthers(path)) throw new Error(`${path} is not owned by this user, or others may write it`);
    }
    const tar = await gunzip(await readFile(file), { chunkSize: CHUNK });
    // PGlite reports a file that is not a tar as an unhandled rejection too: look at the first header's magic first.
    if (Buffer.from(tar.subarray(257, 262)).toString('latin1') !== 'ustar') throw new Error('not a tar archive');
    return { file, tar };
  }

  /** Saves the template, whole or not at all; returns its file. */
  async save(template: Template): Promise<string> {
    if (!Number.isInteger(template.pgMajor) || template.pgMajor <= 0)
      throw new Error('the database has no PostgreSQL version');
    const file = join(this.folder, `${this.prefix}${template.pgMajor}.tar.gz`);
    await mkdir(this.folder, { recursive: true, mode: 0o755 });
    const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      await writeFile(temp, template.saved, { mode: 0o644 });
      await rename(temp, file);
    } catch (error) {
      await unlink(temp).catch(() => undefined);
      throw error;
    }
    return file;
  }

  /** Removes a template that could not be loaded. */
  async discard(file: string): Promise<void> {
    await unlink(file).catch(() => undefined);
  }
}

/** The version in the package.json of the @electric-sql/pglite that the working directory resolves. */
function pgliteVersion(): string | undefined {
  try {
    const entry = createRequire(join(process.cwd(), 'index.js')).resolve('@electric-sql/pglite');
    for (let dir = dirname(entry); dir !== dirname(dir); dir = dirname(dir)) {
      if (!existsSync(join(dir, 'package.json'))) continue;
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name !== '@electric-sql/pglite') continue;
      return typeof pkg.version === 'string' && /^[\w.+-]+$/.test(pkg.version) ? pkg.version : undefined;
    }
  } catch {
    // not resolvable from here
  }
  return undefined;
}

/** Whether `path` belongs to another user (root aside) or is writable by its group or everyone. POSIX only. */
async function writableByOthers(path: string): Promise<boolean> {
  const uid = process.getuid?.();
  if (uid === undefined) return false;
  const { uid: owner, mode } = await stat(path);
  return (owner !== uid && owner !== 0) || (mode & 0o022) !== 0;
}
