import { PostgresStorage } from '../../lib/storage/postgres/index.js';
import { Harness } from '../support/embedded-app.js';
import { databaseUrl, describeWithPostgres, dropSchema, uniqueSchema, waitUntil } from './support/postgres.js';
import { TcpProxy } from '../support/tcp-proxy.js';

const ROUNDS = 20;
/** A short lease, so that some cuts outlast it: the hard case, where the lease runs out while an attempt is in flight. */
const LEASE_MS = 1_000;

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const between = (min: number, max: number) => min + Math.floor(Math.random() * (max - min));

/**
 * Database cuts: the embedded engine delivers a stream of events to a loopback receiver over PostgreSQL, reached
 * through a TCP proxy that cuts every connection at random moments, for tens of rounds, sometimes keeping the
 * database away for longer than a lease. The receiver counts each event (by its idempotency key): every one arrives,
 * and none twice.
 */
describeWithPostgres('database connection cut at random points (PostgreSQL through a TCP proxy)', () => {
  const h = new Harness();
  let schema: string;
  let proxy: TcpProxy;
  let duplicatedAfterCuts: string[] | undefined;

  beforeEach(async () => {
    schema = uniqueSchema('nc_cut');
    const target = new URL(databaseUrl!);
    proxy = await TcpProxy.start(target.hostname, Number(target.port || 5432));
  });
  afterEach(async () => {
    proxy.up();
    await h.cleanup();
    await proxy.close();
    await dropSchema(schema);
  });

  it(`${ROUNDS} rounds of cuts while events flow: no loss (duplicates counted)`, async () => {
    const storage = await PostgresStorage.create({ connectionString: TcpProxy.route(databaseUrl!, proxy), schema });
    // Answers take a while, so that many attempts are in flight when a cut comes.
    const receiver = await h.receiver(() => ({ delayMs: between(0, 50) }));
    const app = await h.start({
      storage,
      embedded: { allowedAddresses: ['127.0.0.0/8'] },
      delivery: {
        leaseMs: LEASE_MS,
        endpointConcurrency: 16,
        retry: { strategy: 'linear', delayMs: 100, attempts: 1_000 },
      },
    });
    await app.endpoints.create({ name: 'cut', url: `${receiver.url}/hook` });

    // publish() fails while the database is away: the caller tries again with the same idempotency key, which
    // stores the event once even when the failed try had in fact been committed.
    const published: string[] = [];
    const publish = async (key: string): Promise<void> => {
      for (;;) {
        try {
          await app.publisher.publish('cut.test', { key }, { idempotencyKey: key });
          published.push(key);
          return;
        } catch {
          await pause(50);
        }
      }
    };
    // A steady stream, so that cuts land at every step: publish, claim, attempt in flight, outcome, lease renewal.
    let producing = true;
    const producer = (async () => {
      const sending: Array<Promise<void>> = [];
      for (let i = 0; producing; i++) {
        sending.push(publish(`ev-${i}`));
        await pause(10);
      }
      await Promise.all(sending);
    })();
    for (let round = 0; round < ROUNDS; round++) {
      await pause(between(100, 800));
      // Half the cuts are a reset and an immediate reconnect; the others keep the database away for one to two and a
      // half leases, so that leases run out while attempts and their outcomes wait for it.
      if (round % 2 === 0) proxy.cut();
      else {
        proxy.down();
        await pause(between(LEASE_MS, LEASE_MS * 2.5));
        proxy.up();
      }
    }
    producing = false;
    await producer;
    expect(proxy.cutConnections).toBeGreaterThan(ROUNDS); // the cuts really broke connections in use

    const perKey = new Map<string, number>();
    const count = () => {
      perKey.clear();
      for (const request of receiver.received) {
        const key = request.headers['x-convoy-idempotency-key'] as string;
        perKey.set(key, (perKey.get(key) ?? 0) + 1);
      }
    };
    await waitUntil('every published event arrived', () => {
      count();
      return published.every((key) => perKey.has(key));
    });
    await waitUntil('nothing left to deliver', async () => {
      const stats = await app.publisher.stats();
      return stats.pending === 0 && stats.inFlight === 0;
    });
    count();
    const duplicates = [...perKey].filter(([, n]) => n > 1).map(([key, n]) => `${key} ×${n}`);
    const lost = published.filter((key) => !perKey.has(key));
    console.info(
      `database cuts: ${ROUNDS} rounds, ${proxy.cutConnections} connections cut, ${published.length} events, ` +
        `${duplicates.length} duplicated, ${lost.length} lost`,
    );
    expect(lost).toEqual([]);
    duplicatedAfterCuts = duplicates;
  });

  it('no event was delivered twice across the cuts', () => {
    expect(duplicatedAfterCuts).toEqual([]);
  });
});
