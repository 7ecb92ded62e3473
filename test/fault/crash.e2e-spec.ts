import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { NestFactory } from '@nestjs/core';
import type { INestApplicationContext } from '@nestjs/common';
import { ConvoyModule } from '../../lib/index.js';
import { PGliteStorage } from '../../lib/storage/pglite/index.js';
import { PostgresStorage } from '../../lib/storage/postgres/index.js';
import type { SqlConvoyStorage } from '../../lib/storage/postgres/index.js';
import { FakeConvoy } from '../support/fake-convoy.js';
import { databaseUrl, dropSchema, uniqueSchema, waitUntil } from './support/postgres.js';

/** After a crash, every pending delivery is sent within this of the restart (the hardening issue's bound). */
const RECOVERY_BOUND_MS = 30_000;

/** Where the crashed process kept its work: a PostgreSQL schema, or a PGlite data folder. */
interface Backend {
  /** The child's environment for it. */
  env: Record<string, string>;
  open(): Promise<SqlConvoyStorage>;
  /** Closes what open() opened (a failed test never reaches the app that would), then removes the data. */
  remove(): Promise<void>;
}

/** open() and remove() over `create`/`drop`: a storage left open (a PGlite folder lock, a pool) would keep Jest alive. */
function tracked(create: () => Promise<SqlConvoyStorage>, drop: () => Promise<void>) {
  const opened: SqlConvoyStorage[] = [];
  return {
    open: async () => {
      const storage = await create();
      opened.push(storage);
      return storage;
    },
    remove: async () => {
      await Promise.all(opened.map((storage) => storage.close().catch(() => undefined)));
      await drop();
    },
  };
}

const backends: Array<[string, () => Promise<Backend>]> = [
  [
    'PGlite',
    async () => {
      const folder = await mkdtemp(join(tmpdir(), 'nc-crash-'));
      const dataDir = join(folder, 'db');
      return {
        env: { PGLITE_DIR: dataDir },
        ...tracked(
          () => PGliteStorage.create({ dataDir }),
          () => rm(folder, { recursive: true, force: true }),
        ),
      };
    },
  ],
  [
    'PostgreSQL',
    async () => {
      const schema = uniqueSchema('nc_crash');
      return {
        env: { DATABASE_URL: databaseUrl!, CRASH_SCHEMA: schema },
        ...tracked(
          () => PostgresStorage.create({ connectionString: databaseUrl!, schema }),
          () => dropSchema(schema),
        ),
      };
    },
  ],
];
if (!databaseUrl) backends.pop(); // support/postgres.ts said why

/**
 * Crash: a process publishing a stream of events is killed with SIGKILL mid-stream, while its relay has sends in
 * flight. After a restart on the same storage with the default lease, every event whose publish() had resolved
 * reaches Convoy within the recovery bound (the dead process's leases run out first), and each idempotency key is
 * accepted once (a resend after the kill is dropped by Convoy as a duplicate).
 */
describe.each(backends)('crash (SIGKILL) with durable storage: %s', (name, backendFor) => {
  let fake: FakeConvoy;
  let backend: Backend;
  let restarted: INestApplicationContext | undefined;

  beforeEach(async () => {
    fake = await FakeConvoy.start();
    backend = await backendFor();
  });
  afterEach(async () => {
    await restarted?.close();
    restarted = undefined;
    await fake.close();
    await backend.remove();
  });

  /** Runs the publishing child until `stopWhen` holds, then sends it `signal`; returns the keys it printed. */
  async function publishInChild(signal: NodeJS.Signals, stopWhen: (keys: string[]) => boolean) {
    const child = spawn(process.execPath, ['test/fault/support/publisher-process.mjs'], {
      env: {
        ...process.env,
        NODE_OPTIONS: '',
        ...backend.env,
        CONVOY_URL: fake.url,
        CONVOY_API_KEY: fake.apiKey,
        CONVOY_PROJECT_ID: fake.projectId,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on('exit', (code, sig) => resolve({ code, signal: sig })),
    );
    const keys: string[] = [];
    let ready = false;
    let signalledAt = 0;
    for await (const line of createInterface({ input: child.stdout })) {
      if (line === 'ready') ready = true;
      else keys.push(line);
      if (!signalledAt && stopWhen(keys)) {
        signalledAt = Date.now();
        child.kill(signal);
        if (signal === 'SIGKILL') break;
      }
    }
    const exit = await exited;
    return { keys, ready, stderr, exit, exitMs: Date.now() - signalledAt };
  }

  /** Starts the application again on the same storage, with the default delivery options (the lease above all). */
  async function restart(storage: SqlConvoyStorage): Promise<void> {
    restarted = await NestFactory.createApplicationContext(
      ConvoyModule.forRoot({ convoy: fake.clientOptions, storage }),
      { logger: false },
    );
  }

  function acceptedPerKey(): Map<string, number> {
    const perKey = new Map<string, number>();
    for (const event of fake.events.values())
      if (!event.is_duplicate_event) perKey.set(event.idempotency_key, (perKey.get(event.idempotency_key) ?? 0) + 1);
    return perKey;
  }

  it(`every event whose publish() resolved arrives within ${RECOVERY_BOUND_MS / 1000} s of a restart, each key once`, async () => {
    // A slow Convoy keeps sends in flight, so the kill lands between Convoy's 201 and the outbox's bookkeeping too.
    // Once enough went through, Convoy stops answering, and the kill waits for a send it holds: so the dead process
    // certainly leaves claimed work behind (under load, its few ordered sends could all be between claims).
    let holding = false;
    let held = 0;
    fake.setRule((r) => {
      if (!holding || r.method !== 'POST' || !r.path.includes('/events')) return { delayMs: 15 };
      held++;
      return { hang: true };
    });
    const {
      keys: resolvedKeys,
      ready,
      stderr,
      exit,
    } = await publishInChild('SIGKILL', (keys) => {
      holding ||= keys.length >= 400 && fake.events.size >= 50;
      return held > 0;
    });
    expect(exit.signal).toBe('SIGKILL');
    expect({ ready, stderr }).toEqual({ ready: true, stderr: '' });
    const beforeRestart = fake.events.size;
    expect(beforeRestart).toBeLessThan(resolvedKeys.length); // the kill really left work behind

    fake.setRule(undefined);
    const restartedAt = Date.now();
    const storage = await backend.open();
    // Some of it claimed by the dead process: sent only once its leases have run out. (Counted by status, not by
    // unexpired lease: under load, reopening the storage can take longer than what was left of a lease.)
    const claimed = await storage.store.listDeliveries({ statuses: ['Processing'] }, { limit: 10 });
    expect(claimed.items.length).toBeGreaterThan(0);
    await restart(storage);
    const accepted = () =>
      new Set([...fake.events.values()].filter((e) => !e.is_duplicate_event).map((e) => e.idempotency_key));
    await waitUntil(
      `every resolved key was accepted by Convoy, within ${RECOVERY_BOUND_MS} ms of the restart`,
      () => resolvedKeys.every((key) => accepted().has(key)),
      RECOVERY_BOUND_MS - (Date.now() - restartedAt),
    );
    console.info(`${name}: every event arrived ${Date.now() - restartedAt} ms after the restart (SIGKILL)`);
    await waitUntil('the outbox is empty', async () => (await storage.store.stats(Date.now())).pending === 0);

    // Each key accepted exactly once: resends after the kill (if any) were stored by Convoy as duplicates.
    const perKey = acceptedPerKey();
    expect([...perKey.values()].every((n) => n === 1)).toBe(true);
    expect(resolvedKeys.filter((key) => perKey.get(key) !== 1)).toEqual([]);
  });

  const onPostgres = name === 'PostgreSQL' ? it : it.skip; // SIGTERM's hand-back is the same SQL on PGlite
  onPostgres(
    'SIGTERM with work pending: the process exits promptly, and the next start sends everything, each key once',
    async () => {
      await fake.refuseConnections(); // Convoy is down: everything the child publishes stays pending
      const { keys, ready, stderr, exit, exitMs } = await publishInChild('SIGTERM', (k) => k.length >= 200);
      expect({ ready, stderr }).toEqual({ ready: true, stderr: '' });
      // Nest closes the app, then re-raises the signal to exit.
      expect(exit.signal === 'SIGTERM' || exit.code === 0).toBe(true);
      expect(exitMs).toBeLessThan(15_000); // promptly: it does not wait for Convoy to come back
      expect(fake.events.size).toBe(0);

      await fake.acceptConnections();
      await restart(await backend.open());
      await waitUntil('every published event arrived', () => keys.every((key) => acceptedPerKey().has(key)));
      expect([...acceptedPerKey().values()].every((n) => n === 1)).toBe(true);
    },
  );
});
