import pg from 'pg';
import { ConvoyError, StorageUnavailableError } from '../../lib/index.js';
import { PGliteStorage } from '../../lib/storage/pglite/index.js';
import { PostgresStorage } from '../../lib/storage/postgres/index.js';
import type { SqlConvoyStorage } from '../../lib/storage/sql/sql-storage.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { Harness, LOOPBACK, type RunningApp } from '../support/embedded-app.js';
import { databaseUrl, describeWithPostgres, dropSchema, uniqueSchema, waitUntil } from './support/postgres.js';

/**
 * Issue 12, item 6: when the database goes away, publish() and the management API reject with StorageUnavailableError
 * (the driver's error as `cause`), never with the driver's own error (`Connection terminated unexpectedly`,
 * `read ECONNRESET`, `PGlite is closed`).
 */

const h = new Harness();
afterEach(() => h.cleanup());

/** Every call an application makes that reads or writes the storage, each to its outcome (a value or the error). */
async function everyCall(app: RunningApp, endpointId: string): Promise<Record<string, unknown>> {
  const outcome = (p: Promise<unknown>): Promise<unknown> =>
    p.then(
      () => 'ok',
      (e: unknown) => e,
    );
  return {
    'publish (broadcast)': await outcome(app.publisher.publish('todo.created', { n: 1 })),
    'publish ({ endpointId })': await outcome(app.publisher.publish('todo.created', { n: 2 }, { endpointId })),
    'publish ({ url })': await outcome(
      app.publisher.publish('todo.created', { n: 3 }, { url: 'http://127.0.0.1:9/new' }),
    ),
    'publisher.stats()': await outcome(app.publisher.stats()),
    'endpoints.create()': await outcome(app.endpoints.create({ name: 'x', url: 'http://127.0.0.1:9/x' })),
    'endpoints.list()': await outcome(app.endpoints.list()),
    'endpoints.get()': await outcome(app.endpoints.get(endpointId)),
    'endpoints.pause()': await outcome(app.endpoints.pause(endpointId)),
    'deliveries.list()': await outcome(app.deliveries.list()),
  };
}

/** Each outcome's error class, and that its cause is the driver's error. */
function classes(outcomes: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(outcomes).map(([call, e]) => [
      call,
      e instanceof StorageUnavailableError && e.cause instanceof Error && !(e.cause instanceof ConvoyError)
        ? 'StorageUnavailableError with the cause'
        : e instanceof Error
          ? `${e.constructor.name}: ${e.message}`
          : String(e),
    ]),
  );
}

const ALL_TYPED = (outcomes: Record<string, unknown>) =>
  Object.fromEntries(Object.keys(outcomes).map((call) => [call, 'StorageUnavailableError with the cause']));

describeWithPostgres('PostgreSQL cut off mid-run', () => {
  let schema: string;
  let proxy: TcpProxy;
  let proxyUrl: string;
  let storage: SqlConvoyStorage;

  beforeEach(async () => {
    schema = uniqueSchema('nc_cut');
    const target = new URL(databaseUrl!);
    proxy = await TcpProxy.start(target.hostname, Number(target.port || 5432));
    proxyUrl = TcpProxy.route(databaseUrl!, proxy);
    storage = await PostgresStorage.create({ connectionString: proxyUrl, schema, max: 4 });
  });
  afterEach(async () => {
    await h.cleanup();
    await proxy.close();
    await dropSchema(schema);
  });

  it('publish() and management calls reject with StorageUnavailableError while it is cut, and work again after', async () => {
    const app = await h.start({ storage, embedded: { allowedAddresses: LOOPBACK } });
    const endpoint = await app.endpoints.create({ name: 'e', url: 'http://127.0.0.1:9/hook' });
    // The caller's own transaction, on a connection through the proxy too.
    const tx = new pg.Client({ connectionString: proxyUrl });
    tx.on('error', () => undefined); // the cut ends it
    await tx.connect();
    await tx.query('BEGIN');

    // Publishes in flight when the connection is cut, then every call while it stays cut.
    const inFlight = Array.from({ length: 50 }, (_, n) =>
      app.publisher.publish('todo.created', { n }).then(
        () => 'stored',
        (e: unknown) => e,
      ),
    );
    proxy.down();
    const raced = await Promise.all(inFlight);
    const failed = raced.filter((r) => r !== 'stored');
    expect(failed.filter((e) => !(e instanceof StorageUnavailableError))).toEqual([]);

    const outcomes = {
      ...(await everyCall(app, endpoint.uid)),
      'publishInTransaction()': await app.publisher
        .publishInTransaction(tx, 'todo.created', {})
        .catch((e: unknown) => e),
    };
    expect(classes(outcomes)).toEqual(ALL_TYPED(outcomes));
    // The driver's own words are in the cause, not the caller's error class.
    const causes = Object.values(outcomes).map((e) => String((e as Error).cause));
    expect(causes.some((c) => /Connection terminated|ECONNRESET|ECONNREFUSED|closed/i.test(c))).toBe(true);

    await tx.end().catch(() => undefined);
    proxy.up();
    await waitUntil('publish works again', () =>
      app.publisher.publish('todo.created', { back: true }).then(
        () => true,
        () => false,
      ),
    );
  });

  it('a database that stops answering (no reset): calls fail with StorageUnavailableError after queryTimeoutMs', async () => {
    const silentSchema = uniqueSchema('nc_silent');
    const quick = await PostgresStorage.create({
      connectionString: proxyUrl,
      schema: silentSchema,
      queryTimeoutMs: 500,
      connectTimeoutMs: 500,
    });
    try {
      const app = await h.start({ storage: quick, embedded: { allowedAddresses: LOOPBACK } });
      const endpoint = await app.endpoints.create({ name: 'e', url: 'http://127.0.0.1:9/hook' });
      proxy.silence();
      const outcomes = await everyCall(app, endpoint.uid);
      expect(classes(outcomes)).toEqual(ALL_TYPED(outcomes));
      expect(String((outcomes['endpoints.list()'] as Error).cause)).toMatch(/timeout/i);
      proxy.up();
      await waitUntil('publish works again', () =>
        app.publisher.publish('todo.created', { back: true }).then(
          () => true,
          () => false,
        ),
      );
    } finally {
      await h.cleanup();
      await dropSchema(silentSchema);
    }
  });

  it('startup against a database that is down or silent fails with StorageUnavailableError, without the password', async () => {
    const withPassword = new URL(proxyUrl);
    withPassword.password = 'hunter2-not-shown';
    proxy.down();
    const refused = await PostgresStorage.create({ connectionString: withPassword.href, schema }).catch(
      (e: unknown) => e,
    );
    expect(refused).toBeInstanceOf(StorageUnavailableError);
    expect((refused as StorageUnavailableError).operation).toBe('open');
    proxy.up();
    proxy.silence();
    const silent = await PostgresStorage.create({
      connectionString: withPassword.href,
      schema,
      connectTimeoutMs: 300,
    }).catch((e: unknown) => e);
    expect(silent).toBeInstanceOf(StorageUnavailableError);
    expect(String((silent as Error).cause)).toMatch(/timeout/i);
    for (const error of [refused, silent]) expect(String((error as Error).message)).not.toContain('hunter2');
  });
});

describe('PGlite closed under the running application', () => {
  it('publish() and management calls reject with StorageUnavailableError', async () => {
    const storage = await PGliteStorage.create({});
    const app = await h.start({ storage, embedded: { allowedAddresses: LOOPBACK } });
    const endpoint = await app.endpoints.create({ name: 'e', url: 'http://127.0.0.1:9/hook' });
    await storage.close();

    const outcomes = await everyCall(app, endpoint.uid);
    expect(classes(outcomes)).toEqual(ALL_TYPED(outcomes));
    expect(String((outcomes['endpoints.list()'] as Error).cause)).toMatch(/closed/i);
  });
});
