import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataDirInUseError } from '../../../lib/errors/pglite.errors.js';
import { ConvoyError } from '../../../lib/index.js';
import { DataDirLock } from '../../../lib/storage/pglite/data-dir-lock.js';
import { PGliteStorage } from '../../../lib/storage/pglite/index.js';
import { PGliteProcess } from './support/pglite-process.js';

/**
 * One process per PGlite data folder, with real PGlite and real child processes (on the built package): a second
 * opener fails at once with DataDirInUseError, close() and a killed holder free the folder, racers get exactly one
 * winner, and a lock whose holder is gone (our own pid in a lock we did not take, a reused pid, a silent other host)
 * is taken over.
 */
describe('PGlite data folder lock', () => {
  let base: string;
  let templateCache: string;
  const children: PGliteProcess[] = [];
  const child = (...args: Parameters<typeof PGliteProcess.start>): PGliteProcess => {
    const started = PGliteProcess.start(...args);
    children.push(started);
    return started;
  };

  // One template for the file's databases: only the first one runs initdb.
  beforeAll(async () => {
    base = await mkdtemp(join(tmpdir(), 'nc-lock-'));
    templateCache = join(base, 'template');
  });
  afterEach(async () => {
    await Promise.all(children.splice(0).map((c) => c.stop()));
  });
  afterAll(async () => {
    await rm(base, { recursive: true, force: true });
  });

  let n = 0;
  const newDataDir = (): string => join(base, `data-${++n}`);
  const lockFolder = (dataDir: string): string => `${dataDir}.lock`;
  /** A lock file as another process would leave it. */
  async function plantLock(dataDir: string, holder: Record<string, unknown>): Promise<void> {
    await mkdir(lockFolder(dataDir), { recursive: true });
    await writeFile(
      join(lockFolder(dataDir), '7.json'),
      JSON.stringify({ since: new Date().toISOString(), token: 'planted', ...holder }),
    );
  }
  /** This process's start time in /proc (Linux), as the lock records it. */
  const procStart = (pid: number): string | undefined => {
    try {
      const line = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return line.slice(line.lastIndexOf(')') + 2).split(' ')[19];
    } catch {
      return undefined;
    }
  };

  it('a second process opening the folder fails at once with DataDirInUseError naming the folder, the holder and what to do', async () => {
    const dataDir = newDataDir();
    const holder = child('storage', dataDir, { templateCache });
    expect(await holder.outcome()).toEqual({ opened: true });

    const error = await PGliteStorage.create({ dataDir, templateCache }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DataDirInUseError);
    expect(error).toBeInstanceOf(ConvoyError);
    const inUse = error as DataDirInUseError;
    expect(inUse.dataDir).toBe(dataDir);
    expect(inUse.holder).toMatchObject({ pid: holder.pid, host: hostname() });
    expect(inUse.heldByThisProcess).toBe(false);
    expect(inUse.message).toContain(
      `The PGlite data folder ${dataDir} is in use by process ${holder.pid} on host ${hostname()}`,
    );
    expect(inUse.message).toMatch(
      /Stop that process \(an `npm run start:dev` still running in another terminal\?\), give each process its own dataDir, or use PostgreSQL/,
    );

    // And from another process too: a third one fails the same way.
    const third = child('storage', dataDir, { templateCache });
    expect(await third.outcome()).toMatchObject({
      error: 'DataDirInUseError',
      message: expect.stringContaining(`in use by process ${holder.pid}`),
    });
  }, 180_000);

  it('close() releases the folder: another process opens it next', async () => {
    const dataDir = newDataDir();
    const storage = await PGliteStorage.create({ dataDir, templateCache });
    await storage.close();
    const next = child('storage', dataDir, { templateCache });
    expect(await next.outcome()).toEqual({ opened: true });
    next.send('close');
    await next.next((m) => m.closed === true);
    const again = await PGliteStorage.create({ dataDir, templateCache });
    await again.close();
  }, 180_000);

  it('a process that exits without close() marks its lock released on the way out', async () => {
    const dataDir = newDataDir();
    const holder = child('lock', dataDir);
    expect(await holder.outcome()).toEqual({ opened: true });
    holder.send('exit');
    expect((await holder.exited).code).toBe(0);
    const files = (await readdir(lockFolder(dataDir))).filter((f) => f.endsWith('.json'));
    expect(files).toHaveLength(1);
    expect(JSON.parse(await readFile(join(lockFolder(dataDir), files[0]!), 'utf8'))).toMatchObject({
      pid: holder.pid,
      released: true,
    });
  });

  it('a holder killed with SIGKILL does not block the next open', async () => {
    const dataDir = newDataDir();
    const holder = child('storage', dataDir, { templateCache });
    expect(await holder.outcome()).toEqual({ opened: true });
    await holder.stop(); // SIGKILL: no close(), no exit handler
    expect((await holder.exited).signal).toBe('SIGKILL');
    const storage = await PGliteStorage.create({ dataDir, templateCache });
    try {
      expect((await storage.db.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    } finally {
      await storage.close();
    }
  }, 180_000);

  it('two processes racing for a new folder: exactly one opens it, the other gets DataDirInUseError', async () => {
    const dataDir = newDataDir();
    const racers = [
      child('storage', dataDir, { templateCache, go: true }),
      child('storage', dataDir, { templateCache, go: true }),
    ];
    await Promise.all(racers.map((r) => r.next((m) => m.ready === true)));
    racers.forEach((r) => r.send('go'));
    const outcomes = await Promise.all(racers.map((r) => r.outcome()));
    expect(outcomes.filter((o) => o.opened)).toHaveLength(1);
    expect(outcomes.filter((o) => o.error === 'DataDirInUseError')).toHaveLength(1);
  }, 180_000);

  it('several processes taking over a stale lock together: exactly one gets it', async () => {
    const dataDir = newDataDir();
    await plantLock(dataDir, { pid: 2 ** 22 + 1, host: hostname() }); // above Linux's pid_max: never alive
    const racers = Array.from({ length: 4 }, () => child('lock', dataDir, { go: true }));
    await Promise.all(racers.map((r) => r.next((m) => m.ready === true)));
    racers.forEach((r) => r.send('go'));
    const outcomes = await Promise.all(racers.map((r) => r.outcome()));
    expect(outcomes.filter((o) => o.opened)).toHaveLength(1);
    expect(outcomes.filter((o) => o.error === 'DataDirInUseError')).toHaveLength(3);
    // The winner's lock is the only one left.
    const winner = racers[outcomes.findIndex((o) => o.opened)]!;
    const files = (await readdir(lockFolder(dataDir))).filter((f) => f.endsWith('.json'));
    expect(files).toHaveLength(1);
    expect(JSON.parse(await readFile(join(lockFolder(dataDir), files[0]!), 'utf8'))).toMatchObject({ pid: winner.pid });
  }, 120_000);

  it('a second open in this process fails with DataDirInUseError until the first storage is closed', async () => {
    const dataDir = newDataDir();
    const first = await PGliteStorage.create({ dataDir, templateCache });
    const error = await PGliteStorage.create({ dataDir, templateCache }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DataDirInUseError);
    expect((error as DataDirInUseError).heldByThisProcess).toBe(true);
    expect((error as DataDirInUseError).message).toMatch(
      /is already open in this process \(pid \d+, since .*\): close that storage/,
    );
    await first.close();
    const second = await PGliteStorage.create({ dataDir, templateCache });
    await second.close();
  }, 120_000);

  it('opens racing in this process: exactly one takes the lock', async () => {
    const dataDir = newDataDir();
    const outcomes = await Promise.allSettled(Array.from({ length: 4 }, () => DataDirLock.acquire(dataDir)));
    const taken = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
    expect(taken).toHaveLength(1);
    for (const o of outcomes)
      if (o.status === 'rejected')
        expect(o.reason).toMatchObject({ name: 'DataDirInUseError', heldByThisProcess: true });
    await taken[0]!.release();
  });

  it('a lock naming our own pid that this process did not take is stale (a restarted container is pid 1 again)', async () => {
    const dataDir = newDataDir();
    await plantLock(dataDir, { pid: process.pid, host: hostname(), procStart: procStart(process.pid) });
    const storage = await PGliteStorage.create({ dataDir, templateCache });
    await storage.close();
  }, 120_000);

  it('a live pid on this host holds the lock, unless /proc says it is another process now (a reused pid)', async () => {
    const dataDir = newDataDir();
    await plantLock(dataDir, { pid: process.ppid, host: hostname(), procStart: procStart(process.ppid) });
    await expect(DataDirLock.acquire(dataDir)).rejects.toBeInstanceOf(DataDirInUseError);
    if (procStart(process.ppid) !== undefined) {
      await plantLock(dataDir, { pid: process.ppid, host: hostname(), procStart: '1' });
      const lock = await DataDirLock.acquire(dataDir);
      await lock.release();
    }
  });

  it('a lock from another host holds while its heartbeat is fresh, and is stale once it stops', async () => {
    const dataDir = newDataDir();
    await plantLock(dataDir, { pid: process.pid, host: 'another-host.example' });
    const error = await DataDirLock.acquire(dataDir).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DataDirInUseError);
    expect((error as DataDirInUseError).message).toContain(`on host another-host.example`);
    const longAgo = new Date(Date.now() - 10 * 60_000);
    await utimes(join(lockFolder(dataDir), '7.json'), longAgo, longAgo);
    const lock = await DataDirLock.acquire(dataDir);
    await lock.release();
  });

  it('a released lock is free, and a damaged lock file is stale', async () => {
    const dataDir = newDataDir();
    await plantLock(dataDir, { pid: process.ppid, host: hostname(), released: true });
    const lock = await DataDirLock.acquire(dataDir);
    await lock.release();
    await writeFile(join(lockFolder(dataDir), '99.json'), '{"pid": 12');
    const again = await DataDirLock.acquire(dataDir);
    await again.release();
  });
});
