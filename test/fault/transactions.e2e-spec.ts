import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { ConvoyModule, TransactionRequiredError, WebhookPublisher, type ConvoyStorage } from '../../lib/index.js';
import { PGliteStorage } from '../../lib/storage/pglite/index.js';
import { PostgresStorage } from '../../lib/storage/postgres/index.js';
import { FakeConvoy } from '../support/fake-convoy.js';
import { databaseUrl, describeWithPostgres, dropSchema, uniqueSchema, waitUntil } from './support/postgres.js';

async function start(fake: FakeConvoy, storage: ConvoyStorage): Promise<INestApplicationContext> {
  return NestFactory.createApplicationContext(
    ConvoyModule.forRoot({ convoy: fake.clientOptions, storage, delivery: { pollIntervalMs: 50 } }),
    { logger: false },
  );
}

/** Time enough for several relay polls: what has not arrived by then was not going to. */
const severalPolls = () => new Promise((r) => setTimeout(r, 400));

/**
 * Transactional publish on PostgreSQL: the event exists if and only if the caller's transaction commits,
 * and events sharing an ordering key are handed over in commit order.
 */
describeWithPostgres('publishInTransaction on PostgreSQL', () => {
  let fake: FakeConvoy;
  let schema: string;
  let pool: pg.Pool;
  let app: INestApplicationContext;
  let publisher: WebhookPublisher;

  beforeEach(async () => {
    fake = await FakeConvoy.start();
    schema = uniqueSchema('nc_tx');
    pool = new pg.Pool({ connectionString: databaseUrl, max: 6 });
    await pool.query(
      `CREATE SCHEMA "${schema}"; CREATE TABLE "${schema}".todos (id serial PRIMARY KEY, title text NOT NULL)`,
    );
    app = await start(fake, await PostgresStorage.create({ pool, schema }));
    publisher = app.get(WebhookPublisher);
  });
  afterEach(async () => {
    await app.close();
    await pool.end();
    await fake.close();
    await dropSchema(schema);
  });

  /** The business change and its event in one transaction, as an app would do it. */
  async function createTodo(
    title: string,
    outcome: 'commit' | 'rollback',
    options: { orderingKey?: string } = {},
  ): Promise<string> {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const { rows } = await client.query(`INSERT INTO "${schema}".todos (title) VALUES ($1) RETURNING id`, [title]);
      const receipt = await publisher.publishInTransaction(client, 'todo.created', { id: rows[0].id, title }, options);
      await client.query(outcome === 'commit' ? 'COMMIT' : 'ROLLBACK');
      return receipt.idempotencyKey;
    } finally {
      client.release();
    }
  }

  it('a committed change sends its event; a rolled-back one never does', async () => {
    const committed = await createTodo('kept', 'commit');
    const rolledBack = await createTodo('undone', 'rollback');
    await waitUntil('the committed event arrived', () =>
      [...fake.events.values()].some((e) => e.idempotency_key === committed),
    );
    await severalPolls();
    expect([...fake.events.values()].map((e) => e.idempotency_key)).toEqual([committed]);
    expect(fake.eventRequests().some((r) => r.body.idempotency_key === rolledBack)).toBe(false);
    expect((await pool.query(`SELECT title FROM "${schema}".todos`)).rows).toEqual([{ title: 'kept' }]);
    expect(await publisher.stats()).toMatchObject({ pending: 0, inFlight: 0 });
  });

  it('an event is not sent while its transaction is still open', async () => {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const { idempotencyKey } = await publisher.publishInTransaction(client, 'todo.created', { open: true });
      await severalPolls();
      expect(fake.eventRequests()).toEqual([]);
      await client.query('COMMIT');
      await waitUntil('the event arrived after the commit', () =>
        [...fake.events.values()].some((e) => e.idempotency_key === idempotencyKey),
      );
    } finally {
      client.release();
    }
  });

  it('refuses a pool or a client outside a transaction, storing nothing', async () => {
    await expect(publisher.publishInTransaction(pool, 'todo.created', {})).rejects.toBeInstanceOf(
      TransactionRequiredError,
    );
    const client = await pool.connect();
    try {
      await expect(publisher.publishInTransaction(client, 'todo.created', {})).rejects.toBeInstanceOf(
        TransactionRequiredError,
      );
    } finally {
      client.release();
    }
    await severalPolls();
    expect(fake.eventRequests()).toEqual([]);
    expect(await publisher.stats()).toMatchObject({ pending: 0 });
  });

  it('same ordering key: events go out in commit order, not in the order their transactions began', async () => {
    const first = await pool.connect();
    const second = await pool.connect();
    try {
      await first.query('BEGIN');
      await second.query('BEGIN');
      await publisher.publishInTransaction(
        first,
        'order.updated',
        { step: 'began first, commits second' },
        { orderingKey: 'order-7' },
      );
      // The second publish waits on the key's lock until the first transaction ends.
      const secondPublish = publisher.publishInTransaction(
        second,
        'order.updated',
        { step: 'began second, commits first' },
        { orderingKey: 'order-7' },
      );
      const raced = await Promise.race([
        secondPublish.then(() => 'published'),
        new Promise((r) => setTimeout(() => r('waiting'), 300)),
      ]);
      expect(raced).toBe('waiting');
      await first.query('COMMIT');
      await secondPublish;
      await second.query('COMMIT');
    } finally {
      first.release();
      second.release();
    }
    await waitUntil('both events arrived', () => fake.events.size === 2);
    expect(fake.acceptedEvents().map((e) => (e.data as { step: string }).step)).toEqual([
      'began first, commits second',
      'began second, commits first',
    ]);
  });
});

/** The same guarantee on PGlite, inside a PGlite transaction. */
describe('publishInTransaction on PGlite', () => {
  let fake: FakeConvoy;
  let app: INestApplicationContext;
  let db: PGlite;

  beforeAll(async () => {
    fake = await FakeConvoy.start();
    db = await PGlite.create();
    await db.exec('CREATE TABLE todos (id serial PRIMARY KEY, title text NOT NULL)');
    app = await start(fake, await PGliteStorage.create({ pglite: db }));
  });
  afterAll(async () => {
    await app.close();
    await db.close();
    await fake.close();
  });

  it('commits send, rollbacks do not', async () => {
    const publisher = app.get(WebhookPublisher);
    const kept = await db.transaction(async (tx) => {
      await tx.query(`INSERT INTO todos (title) VALUES ('kept')`);
      return (await publisher.publishInTransaction(tx, 'todo.created', { title: 'kept' })).idempotencyKey;
    });
    const undone = db.transaction(async (tx) => {
      await tx.query(`INSERT INTO todos (title) VALUES ('undone')`);
      await publisher.publishInTransaction(tx, 'todo.created', { title: 'undone' });
      throw new Error('the business logic changed its mind');
    });
    await expect(undone).rejects.toThrow('changed its mind');
    await waitUntil('the committed event arrived', () => fake.events.size === 1);
    await severalPolls();
    expect(fake.acceptedEvents().map((e) => e.idempotency_key)).toEqual([kept]);
    expect((await db.query('SELECT title FROM todos')).rows).toEqual([{ title: 'kept' }]);
  });
});

/** The README's Kysely recipe: a transaction's connection adapted in one line. */
describeWithPostgres('publishInTransaction through Kysely', () => {
  it('commits send, rollbacks do not', async () => {
    const { CompiledQuery, Kysely, PostgresDialect } = await import('kysely');
    const fake = await FakeConvoy.start();
    const schema = uniqueSchema('nc_kysely');
    const pool = new pg.Pool({ connectionString: databaseUrl, max: 4 });
    const db = new Kysely<Record<string, never>>({ dialect: new PostgresDialect({ pool }) });
    const app = await start(fake, await PostgresStorage.create({ pool, schema }));
    try {
      const publisher = app.get(WebhookPublisher);
      const publishWith = (trx: { executeQuery: typeof db.executeQuery }) => ({
        query: (text: string, params: unknown[] = []) =>
          trx.executeQuery(CompiledQuery.raw(text, params)) as Promise<{ rows: never[] }>,
      });
      const kept = await db
        .transaction()
        .execute(
          async (trx) =>
            (await publisher.publishInTransaction(publishWith(trx), 'todo.created', { kept: true })).idempotencyKey,
        );
      await expect(
        db.transaction().execute(async (trx) => {
          await publisher.publishInTransaction(publishWith(trx), 'todo.created', { kept: false });
          throw new Error('rolled back');
        }),
      ).rejects.toThrow('rolled back');
      await waitUntil('the committed event arrived', () => fake.events.size === 1);
      await severalPolls();
      expect(fake.acceptedEvents().map((e) => e.idempotency_key)).toEqual([kept]);
    } finally {
      await app.close();
      await db.destroy();
      await fake.close();
      await dropSchema(schema);
    }
  });
});
