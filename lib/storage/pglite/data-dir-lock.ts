import { randomBytes } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { link, mkdir, readdir, readFile, realpath, rename, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { ConvoyError } from '../../errors/convoy.error.js';
import { DataDirInUseError, type DataDirHolder } from '../../errors/pglite.errors.js';

/** The holder touches its lock file this often, so that a process on another host can tell it is still there. */
const HEARTBEAT_MS = 5_000;
/** A lock from another host whose file was not touched for this long is stale (its holder is gone, or cut off). */
const OTHER_HOST_STALE_MS = 30_000;
const LOCK_FILE = /^(\d+)\.json$/;

interface LockRecord extends DataDirHolder {
  /** Random: tells this process's locks from an older process's that had the same pid (a restarted container's pid 1). */
  token: string;
  /** Linux: the process's start time from /proc/<pid>/stat, which tells a pid reused by another process. */
  procStart?: string;
  released?: boolean;
}

// Tokens of the locks this process holds, shared by the ESM and CommonJS builds (see utils/both-builds.ts).
const HELD = ((globalThis as Record<symbol, unknown>)[Symbol.for('nestjs-convoy:pglite-locks')] ??=
  new Set<string>()) as Set<string>;
const OPEN = new Set<DataDirLock>();
const releaseAllOnExit = (): void => OPEN.forEach((lock) => lock.releaseOnExit());

/**
 * One process per PGlite data folder: two would each run their own PostgreSQL over the same files and silently
 * diverge. The lock is a folder beside the data folder, `<dataDir>.lock`, of numbered files `<n>.json`: the highest
 * number is the lock, naming its holder (pid, host, start time). To take the lock, a process creates the next
 * number (write a temp file, then link() it: the file appears complete, or not at all, and only once), so of several
 * processes taking a free or stale lock together exactly one gets that number. Numbers only grow (a released lock
 * stays, marked released), and a process that created a number checks that it is still the highest, so a slow
 * process that took an old number (cleaned up meanwhile) backs off.
 *
 * A lock is free when released, and stale when its holder is gone: on this host (same hostname), its pid is not
 * alive, belongs to another process now (a different start time in /proc), or is our own pid in a lock this process
 * did not take (a restarted container's pid 1); from another host (a shared folder), its file was not touched by the
 * heartbeat for OTHER_HOST_STALE_MS. A free or stale lock is taken at once.
 *
 * Not a library: proper-lockfile and lockfile judge a lock by its age alone (a restart after a crash waits for the
 * stale timeout, or takes the lock of a live process that is busy) and do not check the holder's pid.
 */
export class DataDirLock {
  private readonly heartbeat: NodeJS.Timeout;
  private released = false;

  private constructor(
    /** The lock file. */
    readonly file: string,
    private readonly record: LockRecord,
    private readonly onLost: (problem: string) => void,
  ) {
    OPEN.add(this);
    if (OPEN.size === 1) process.on('exit', releaseAllOnExit);
    this.heartbeat = setInterval(() => {
      const now = new Date();
      utimes(this.file, now, now).catch((error) => {
        clearInterval(this.heartbeat);
        this.onLost(`its lock file ${this.file} is gone (${(error as Error).message})`);
      });
    }, HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  /** Takes the lock of `dataDir`, or throws DataDirInUseError naming the holder. */
  static async acquire(dataDir: string, onLost: (problem: string) => void = () => undefined): Promise<DataDirLock> {
    const folder = `${await canonicalPath(dataDir)}.lock`;
    await mkdir(folder, { recursive: true });
    const record: LockRecord = {
      pid: process.pid,
      host: hostname(),
      since: new Date().toISOString(),
      token: randomBytes(8).toString('hex'),
      procStart: procInfo(process.pid)?.start,
    };
    // Held from the start, so that another open in this process, racing this one, sees our file as live.
    HELD.add(record.token);
    try {
      // Each pass either throws, takes the lock, or sees that another process took a number meanwhile.
      for (let pass = 0; pass < 10; pass++) {
        const top = await newestLock(folder);
        if (top?.record && !top.record.released && !(await isStale(top.record, top.file))) {
          const { pid, host, since, token } = top.record;
          throw new DataDirInUseError(dataDir, { pid, host, since }, pid === process.pid && HELD.has(token));
        }
        const n = (top?.n ?? 0) + 1;
        const file = join(folder, `${n}.json`);
        if (!(await createOnce(file, JSON.stringify(record)))) continue;
        if ((await lockNumbers(folder))[0] !== n) {
          await unlink(file).catch(() => undefined);
          continue;
        }
        for (const older of (await lockNumbers(folder)).filter((m) => m < n))
          await unlink(join(folder, `${older}.json`)).catch(() => undefined);
        return new DataDirLock(file, record, onLost);
      }
      throw new ConvoyError(
        `Could not take the lock ${folder} of the PGlite data folder ${dataDir}: other processes kept taking it`,
      );
    } catch (error) {
      HELD.delete(record.token);
      throw error;
    }
  }

  /** Marks the lock released, so that the next process (or this one) can take it; once. */
  async release(): Promise<void> {
    if (!this.forget()) return;
    await replaceFile(this.file, JSON.stringify({ ...this.record, released: true })).catch(() => undefined);
  }

  /** release() for process.on('exit'), where only synchronous work runs. */
  releaseOnExit(): void {
    if (!this.forget()) return;
    try {
      const temp = tempName(this.file);
      writeFileSync(temp, JSON.stringify({ ...this.record, released: true }));
      renameSync(temp, this.file);
    } catch {
      // The pid check finds the lock stale anyway, once this process is gone.
    }
  }

  private forget(): boolean {
    if (this.released) return false;
    this.released = true;
    clearInterval(this.heartbeat);
    HELD.delete(this.record.token);
    OPEN.delete(this);
    if (OPEN.size === 0) process.off('exit', releaseAllOnExit);
    return true;
  }
}

/** The absolute path with symbolic links resolved (of its parent when it does not exist yet): one folder, one lock. */
async function canonicalPath(path: string): Promise<string> {
  const absolute = resolve(path);
  try {
    return await realpath(absolute);
  } catch {
    return join(await realpath(dirname(absolute)).catch(() => dirname(absolute)), basename(absolute));
  }
}

/** The lock numbers in `folder`, highest first. */
async function lockNumbers(folder: string): Promise<number[]> {
  const names = await readdir(folder);
  return names
    .flatMap((name) => LOCK_FILE.exec(name)?.[1] ?? [])
    .map(Number)
    .sort((a, b) => b - a);
}

/** The highest lock and its record (undefined when unreadable: gone meanwhile, or damaged). */
async function newestLock(folder: string): Promise<{ n: number; file: string; record?: LockRecord } | undefined> {
  const n = (await lockNumbers(folder))[0];
  if (n === undefined) return undefined;
  const file = join(folder, `${n}.json`);
  try {
    const record = JSON.parse(await readFile(file, 'utf8')) as LockRecord;
    return { n, file, record: typeof record?.pid === 'number' && typeof record.host === 'string' ? record : undefined };
  } catch {
    return { n, file };
  }
}

async function isStale(holder: LockRecord, file: string): Promise<boolean> {
  if (holder.host !== hostname()) {
    const touched = await stat(file).then(
      (s) => s.mtimeMs,
      () => 0,
    );
    return Date.now() - touched > OTHER_HOST_STALE_MS;
  }
  if (holder.pid === process.pid) return !HELD.has(holder.token);
  const proc = procInfo(holder.pid);
  if (proc?.state === 'Z') return true; // exited, not yet reaped by its parent
  if (!isAlive(holder.pid)) return true;
  return holder.procStart !== undefined && proc !== undefined && proc.start !== holder.procStart;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'; // alive, another user's
  }
}

/** Linux: a process's state and start time (clock ticks after boot), from /proc/<pid>/stat; undefined elsewhere. */
function procInfo(pid: number): { state: string; start: string } | undefined {
  try {
    const line = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (command) state ppid ...": the command may hold spaces and parentheses; starttime is field 22.
    const fields = line.slice(line.lastIndexOf(')') + 2).split(' ');
    return fields[19] === undefined ? undefined : { state: fields[0]!, start: fields[19] };
  } catch {
    return undefined;
  }
}

/** Creates `file` with `content` unless it exists: true when this call created it. */
async function createOnce(file: string, content: string): Promise<boolean> {
  const temp = tempName(file);
  await writeFile(temp, content);
  try {
    await link(temp, file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}

async function replaceFile(file: string, content: string): Promise<void> {
  const temp = tempName(file);
  await writeFile(temp, content);
  await rename(temp, file);
}

const tempName = (file: string): string => `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
