// 4. The durable path: publish() with storage on PostgreSQL (with DATABASE_URL) and PGlite, from 16 callers at once
// (concurrent publishes share one commit, a group commit), then end to end (stored, claimed, sent to the Convoy sink,
// completed), against a loop of plain single-row INSERTs of the same size, 16 at a time, on the same database.
// Alternated rounds, medians; CPU µs per event beside each rate (this process: the PostgreSQL server is another one).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NestFactory } from '@nestjs/core';
import { ConvoyModule, WebhookPublisher } from '../../lib/index.js';
import { PGliteStorage } from '../../lib/storage/pglite/index.js';
import { PostgresStorage } from '../../lib/storage/postgres/index.js';
import type { SqlConvoyStorage } from '../../lib/storage/sql/sql-storage.js';
import { sinkCounts, type Sink } from '../support/sink-client.js';
import { API_KEY, PROJECT, todo } from '../support/constants.js';
import { concurrently, cpuTime, medianRate, type Rate } from '../support/measure.js';
import { n, type BenchReport } from '../support/report.js';

/** Callers publishing at the same time (requests of an app), and INSERTs at a time in the baseline. */
const PUBLISHERS = 16;
/** Hand-overs to Convoy at the same time (the outbox's default). */
const CONCURRENCY = 8;
const ROUNDS = 5;
/** Rounds before those measured: each contestant kept getting faster for its first rounds (JIT, the database's caches). */
const WARM_UP_ROUNDS = 3;

interface Database {
  name: string;
  events: number;
  /** `publishOnly`: a schema of its own, so that what the publish-only instance stored is not sent later. */
  open: (publishOnly?: boolean) => Promise<SqlConvoyStorage>;
  /** Targets of the PostgreSQL rows (issue 11, item 8); PGlite's are reported. */
  targets: boolean;
  cleanup: () => Promise<void>;
}

/** The baseline: `rows` plain INSERTs of one row each (the event's size), `PUBLISHERS` at a time. */
async function plainInserts(storage: SqlConvoyStorage, table: string, rows: number, round: number): Promise<Rate> {
  const payload = JSON.stringify(todo);
  const { result: seconds, cpuUs } = await cpuTime(() =>
    concurrently(rows, PUBLISHERS, (i) =>
      storage.db.query(`INSERT INTO ${table} (id, event_type, payload) VALUES ($1, $2, $3)`, [
        `row-${round}-${i}`,
        'todo.created',
        payload,
      ]),
    ),
  );
  return { rate: rows / seconds, cpu: cpuUs / rows };
}

const appOn = (sink: Sink, storage: SqlConvoyStorage, worker: boolean) =>
  NestFactory.createApplicationContext(
    ConvoyModule.forRoot({
      convoy: { baseUrl: `${sink.ready.url}/api`, apiKey: API_KEY, projectId: PROJECT },
      defaultTarget: { broadcast: true },
      storage,
      delivery: { concurrency: CONCURRENCY, worker },
    }),
    { logger: false },
  );

/**
 * publish() alone: PUBLISHERS callers until each resolved (committed), on an instance that does not deliver
 * (`worker: false`), so that the CPU measured is publishing's, as the INSERT loop's is the INSERTs'.
 */
async function publishOnly(sink: Sink, storage: SqlConvoyStorage, events: number): Promise<Rate> {
  const app = await appOn(sink, storage, false);
  try {
    const publisher = app.get(WebhookPublisher);
    await publisher.publish('todo.created', todo); // warm the connections
    const before = (await publisher.stats()).pending; // the earlier rounds' are still there: nothing sends them
    const { result: seconds, cpuUs } = await cpuTime(async () => {
      const started = performance.now();
      await concurrently(events, PUBLISHERS, () => publisher.publish('todo.created', todo));
      return (performance.now() - started) / 1000;
    });
    if ((await publisher.stats()).pending !== before + events) throw new Error('bench: not every event was stored');
    return { rate: events / seconds, cpu: cpuUs / events };
  } finally {
    await app.close(); // closes the storage too
  }
}

/** End to end on a whole instance: publish() from PUBLISHERS callers while it delivers, until the sink answered every event. */
async function throughOutbox(
  sink: Sink,
  storage: SqlConvoyStorage,
  events: number,
): Promise<{ stored: Rate; relayed: Rate }> {
  const app = await appOn(sink, storage, true);
  try {
    const publisher = app.get(WebhookPublisher);
    await publisher.publish('todo.created', todo); // warm the connections
    await publisher.flush();
    const before = (await sinkCounts(sink)).events;
    const started = performance.now();
    const cpuBefore = process.cpuUsage();
    await concurrently(events, PUBLISHERS, () => publisher.publish('todo.created', todo));
    const storedSeconds = (performance.now() - started) / 1000;
    const storedCpu = process.cpuUsage(cpuBefore);
    await publisher.flush(); // resolves when Convoy has answered 201 for every event
    const relayedSeconds = (performance.now() - started) / 1000;
    const relayedCpu = process.cpuUsage(cpuBefore);
    const arrived = (await sinkCounts(sink)).events - before;
    if (arrived !== events) throw new Error(`bench: the sink received ${arrived} events, expected ${events}`);
    const perEvent = (cpu: NodeJS.CpuUsage) => (cpu.user + cpu.system) / events;
    return {
      stored: { rate: events / storedSeconds, cpu: perEvent(storedCpu) },
      relayed: { rate: events / relayedSeconds, cpu: perEvent(relayedCpu) },
    };
  } finally {
    await app.close(); // closes the storage too
  }
}

export async function durable(report: BenchReport, sink: Sink): Promise<void> {
  const databases: Database[] = [];
  const databaseUrl = process.env.DATABASE_URL;
  if (databaseUrl) {
    const schema = `nc_bench_${process.pid}`;
    databases.push({
      name: 'PostgreSQL',
      events: 10_000,
      targets: true,
      open: (publishOnly) =>
        PostgresStorage.create({ connectionString: databaseUrl, schema: publishOnly ? `${schema}_web` : schema }),
      cleanup: async () => {
        const storage = await PostgresStorage.create({ connectionString: databaseUrl, schema });
        await storage.db.query(`DROP SCHEMA "${schema}" CASCADE`);
        await storage.db.query(`DROP SCHEMA IF EXISTS "${schema}_web" CASCADE`);
        await storage.close();
      },
    });
  } else {
    console.log('  (DATABASE_URL is not set: PostgreSQL is not measured)');
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'nestjs-convoy-bench-'));
  databases.push({
    name: 'PGlite',
    events: 5_000,
    targets: false,
    open: (publishOnly) => PGliteStorage.create({ dataDir, ...(publishOnly ? { schema: 'nc_bench_web' } : {}) }),
    cleanup: async () => {
      rmSync(dataDir, { recursive: true, force: true });
      rmSync(`${dataDir}.lock`, { recursive: true, force: true }); // the data folder's lock stays beside it, released
    },
  });

  for (const database of databases) {
    try {
      const table = `bench_plain_${process.pid}`;
      const inserts: Rate[] = [],
        stored: Rate[] = [],
        relayed: Rate[] = [],
        storedWhileDelivering: Rate[] = [];
      for (let round = -WARM_UP_ROUNDS; round < ROUNDS; round++) {
        // A storage per round: the app closes it. Negative rounds warm up.
        const storage = await database.open();
        if (round === -WARM_UP_ROUNDS)
          await storage.db.query(
            `CREATE TABLE ${table} (id text PRIMARY KEY, event_type text NOT NULL, payload text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())`,
          );
        const plain = await plainInserts(storage, table, database.events, round);
        if (round === ROUNDS - 1) await storage.db.query(`DROP TABLE ${table}`);
        const ours = await throughOutbox(sink, storage, database.events);
        const published = await publishOnly(sink, await database.open(true), database.events);
        if (round < 0) continue;
        inserts.push(plain);
        stored.push(published);
        storedWhileDelivering.push(ours.stored);
        relayed.push(ours.relayed);
      }
      const k = (xs: Rate[]) => xs.map((x) => n(x.rate)).join('/');
      console.log(
        `  ${database.name} rounds (ev/s): INSERTs ${k(inserts)}, stored ${k(stored)}, end to end ${k(relayed)}`,
      );
      const baseline = medianRate(inserts);
      const row = (name: string, ours: Rate, target: number | undefined) =>
        report.addRates({
          section: '4 durable path',
          name,
          ours,
          baseline,
          unit: 'ev/s',
          baselineUnit: 'rows/s',
          atLeast: database.targets ? target : undefined,
        });
      row(
        `${database.name}: publish() committed (${PUBLISHERS} callers, group commit, a worker: false instance) vs plain single-row INSERTs (${PUBLISHERS} at a time)`,
        medianRate(stored),
        1.0,
      );
      row(
        `${database.name}: publish() committed while the same instance delivers vs plain INSERTs`,
        medianRate(storedWhileDelivering),
        undefined,
      );
      row(
        `${database.name}: end to end (stored, claimed, sent to Convoy, completed) vs plain INSERTs`,
        medianRate(relayed),
        0.8,
      );
    } finally {
      await database.cleanup();
    }
  }
}
