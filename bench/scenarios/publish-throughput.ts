// 1. Publish throughput to Convoy, and 4. the durable outbox.
// Events/s through WebhookPublisher to the Convoy sink (a separate process): the in-memory path, then the outbox on
// PGlite and on PostgreSQL (with DATABASE_URL). Baselines in the same run: (a) a raw undici Pool loop sending the
// same requests at the same concurrency (the practical limit), (b) the same loop over global fetch (what Convoy's
// JavaScript SDK uses), and for the outbox (c) a plain INSERT loop of the same rows on the same database (the issue
// sets no target there: reported).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NestFactory } from '@nestjs/core';
import { Pool } from 'undici';
import { ConvoyModule, WebhookPublisher, type ConvoyStorage } from '../../lib/index.js';
import { DEFAULT_API_VERSION } from '../../lib/options/resolve-client-options.js';
import { PACKAGE_VERSION } from '../../lib/version.js';
import { PGliteStorage } from '../../lib/storage/pglite/index.js';
import { PostgresStorage } from '../../lib/storage/postgres/index.js';
import type { SqlConvoyStorage } from '../../lib/storage/sql/sql-storage.js';
import { sinkCounts, type Sink } from '../support/sink-client.js';
import { API_KEY, PROJECT, todo } from '../support/constants.js';
import { concurrently, median } from '../support/measure.js';
import { n, type BenchReport } from '../support/report.js';

/** Sends at the same time, for us (the dispatcher's and the relay's default) and for the baselines. */
const CONCURRENCY = 8;
/** Callers publishing at the same time (requests of an app). */
const PUBLISHERS = 16;

const eventCount = async (sink: Sink) => (await sinkCounts(sink)).events;

/** What ConvoyTransport sends for a broadcast, byte for byte the same request, for the baselines. */
const body = (i: number) => JSON.stringify({ event_type: 'todo.created', data: todo, idempotency_key: `bench-${i}` });
const path = `/api/v1/projects/${PROJECT}/events/broadcast`;
const headers = {
  authorization: `Bearer ${API_KEY}`,
  'x-convoy-version': DEFAULT_API_VERSION,
  'user-agent': `nestjs-convoy/${PACKAGE_VERSION}`,
  accept: 'application/json',
  'content-type': 'application/json',
};

/** (a) The practical limit: undici's documented request API, what a hand-written client would use. */
async function rawUndici(sink: Sink, events: number): Promise<number> {
  const pool = new Pool(sink.ready.url, { connections: CONCURRENCY });
  const seconds = await concurrently(events, CONCURRENCY, (i) =>
    pool.request({ method: 'POST', path, headers, body: body(i) }).then((r) => r.body.text()),
  );
  await pool.close();
  return events / seconds;
}

/** The floor below (a): undici's low-level dispatch() with a handler that only collects the answer (what ConvoyClient does). */
async function rawDispatch(sink: Sink, events: number): Promise<number> {
  const pool = new Pool(sink.ready.url, { connections: CONCURRENCY });
  const seconds = await concurrently(
    events,
    CONCURRENCY,
    (i) =>
      new Promise((resolve, reject) => {
        const chunks: Buffer[] = [];
        pool.dispatch(
          { method: 'POST', path, headers, body: body(i) },
          {
            onRequestStart: () => undefined, // marks the handler as undici's current API
            onResponseData: (_c, chunk) => void chunks.push(chunk),
            onResponseEnd: () => resolve(Buffer.concat(chunks).toString()),
            onResponseError: (_c, error) => reject(error),
          },
        );
      }),
  );
  await pool.close();
  return events / seconds;
}

/** (b) A loop over global fetch, as Convoy's JavaScript SDK sends. */
async function rawFetch(sink: Sink, events: number): Promise<number> {
  const url = sink.ready.url + path;
  const seconds = await concurrently(events, CONCURRENCY, (i) =>
    fetch(url, { method: 'POST', headers, body: body(i) }).then((r) => r.text()),
  );
  return events / seconds;
}

interface PublisherRun {
  /** publish() resolved for every event (in memory: buffered; with the outbox: committed). */
  storedPerSecond: number;
  /** The sink answered 201 for every event. */
  relayedPerSecond: number;
}

async function throughPublisher(sink: Sink, events: number, storage?: ConvoyStorage): Promise<PublisherRun> {
  const app = await NestFactory.createApplicationContext(
    ConvoyModule.forRoot({
      baseUrl: `${sink.ready.url}/api`,
      apiKey: API_KEY,
      projectId: PROJECT,
      verifyProject: false, // the sink answers event creation only
      defaultTarget: { broadcast: true },
      storage,
      dispatcher: { concurrency: CONCURRENCY }, // and the default buffer of 10 000 events, publish() waiting when it is full
      outbox: { concurrency: CONCURRENCY },
    }),
    { logger: false },
  );
  try {
    const publisher = app.get(WebhookPublisher);
    await publisher.publish('todo.created', todo); // warm the connections
    await publisher.flush();
    const before = await eventCount(sink);
    const started = performance.now();
    const storedSeconds = await concurrently(events, PUBLISHERS, () => publisher.publish('todo.created', todo));
    await publisher.flush(); // resolves when Convoy has answered 201 for every event
    const relayedSeconds = (performance.now() - started) / 1000;
    const arrived = (await eventCount(sink)) - before;
    if (arrived !== events) throw new Error(`bench: the sink received ${arrived} events, expected ${events}`);
    return { storedPerSecond: events / storedSeconds, relayedPerSecond: events / relayedSeconds };
  } finally {
    await app.close();
  }
}

/** The outbox's baseline: the same number of rows, INSERTed one statement each, same concurrency, same database. */
async function plainInserts(storage: SqlConvoyStorage, table: string, rows: number, loops: number): Promise<number> {
  await storage.db.query(
    `CREATE TABLE ${table} (id text PRIMARY KEY, event_type text NOT NULL, payload text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())`,
  );
  const payload = JSON.stringify(todo);
  const seconds = await concurrently(rows, loops, (i) =>
    storage.db.query(`INSERT INTO ${table} (id, event_type, payload) VALUES ($1, $2, $3)`, [
      `row-${i}`,
      'todo.created',
      payload,
    ]),
  );
  await storage.db.query(`DROP TABLE ${table}`);
  return rows / seconds;
}

export async function publishThroughput(report: BenchReport, sink: Sink): Promise<void> {
  const N = 20_000;
  // Alternated rounds, medians: a noisy moment hurts one round, not one contestant.
  const undici: number[] = [],
    floor: number[] = [],
    fetched: number[] = [],
    memory: number[] = [];
  // Warm-up: a whole round each (the first round ran 10-20 % slower for everyone: JIT, sockets, the sink's own warm-up).
  await rawUndici(sink, N);
  await rawDispatch(sink, N);
  await rawFetch(sink, 2_000);
  await throughPublisher(sink, N);
  for (let round = 0; round < 7; round++) {
    undici.push(await rawUndici(sink, N));
    memory.push((await throughPublisher(sink, N)).relayedPerSecond);
    floor.push(await rawDispatch(sink, N));
    if (round < 3) fetched.push(await rawFetch(sink, N / 2));
  }
  const a = median(undici),
    b = median(fetched),
    ours = median(memory),
    low = median(floor);
  const k = (xs: number[]) => xs.map((x) => (x / 1000).toFixed(1)).join('/');
  console.log(`  rounds (thousand ev/s): ours ${k(memory)}, Pool.request ${k(undici)}, Pool.dispatch ${k(floor)}`);
  const section = '1 publish → Convoy';
  report.add({
    section,
    name: `in-memory path vs raw undici Pool.request loop (${CONCURRENCY} at a time)`,
    ours: `${n(ours)} ev/s`,
    baseline: `${n(a)} ev/s`,
    ratio: ours / a,
    target: '≥ 0.9',
    met: ours / a >= 0.9,
  });
  report.add({
    section,
    name: 'in-memory path vs a global fetch loop (Convoy JS SDK)',
    ours: `${n(ours)} ev/s`,
    baseline: `${n(b)} ev/s`,
    ratio: ours / b,
    target: '≥ 3',
    met: ours / b >= 3,
  });
  report.add({
    section,
    name: 'in-memory path vs raw undici Pool.dispatch loop (the floor)',
    ours: `${n(ours)} ev/s`,
    baseline: `${n(low)} ev/s`,
    ratio: ours / low,
    target: 'reported',
  });

  const databases: Array<{
    name: string;
    open: () => Promise<SqlConvoyStorage>;
    events: number;
    cleanup: () => Promise<void>;
  }> = [];
  const dataDir = mkdtempSync(join(tmpdir(), 'nestjs-convoy-bench-'));
  databases.push({
    name: 'PGlite',
    events: 5_000,
    open: () => PGliteStorage.create({ dataDir }),
    cleanup: async () => rmSync(dataDir, { recursive: true, force: true }),
  });
  const databaseUrl = process.env.DATABASE_URL;
  if (databaseUrl) {
    const schema = `nc_bench_${process.pid}`;
    databases.push({
      name: 'PostgreSQL',
      events: 10_000,
      open: () => PostgresStorage.create({ connectionString: databaseUrl, schema }),
      cleanup: async () => {
        const storage = await PostgresStorage.create({ connectionString: databaseUrl, schema });
        await storage.db.query(`DROP SCHEMA "${schema}" CASCADE`);
        await storage.close();
      },
    });
  } else {
    console.log('  (DATABASE_URL is not set: the PostgreSQL outbox is not measured)');
  }
  for (const database of databases) {
    try {
      const storage = await database.open();
      const inserts = await plainInserts(storage, `bench_plain_${process.pid}`, database.events, PUBLISHERS);
      const run = await throughPublisher(sink, database.events, storage); // closes the storage with the app
      report.add({
        section,
        name: `outbox on ${database.name}, end to end, vs raw undici Pool`,
        ours: `${n(run.relayedPerSecond)} ev/s`,
        baseline: `${n(a)} ev/s`,
        ratio: run.relayedPerSecond / a,
        target: 'reported',
      });
      report.add({
        section: '4 outbox',
        name: `${database.name}: stored (publish() committed, ${PUBLISHERS} callers) vs plain INSERTs`,
        ours: `${n(run.storedPerSecond)} ev/s`,
        baseline: `${n(inserts)} rows/s`,
        ratio: run.storedPerSecond / inserts,
        target: 'reported',
      });
      report.add({
        section: '4 outbox',
        name: `${database.name}: relayed to Convoy (stored, claimed, sent, completed) vs plain INSERTs`,
        ours: `${n(run.relayedPerSecond)} ev/s`,
        baseline: `${n(inserts)} rows/s`,
        ratio: run.relayedPerSecond / inserts,
        target: 'reported',
      });
    } finally {
      await database.cleanup();
    }
  }
}
