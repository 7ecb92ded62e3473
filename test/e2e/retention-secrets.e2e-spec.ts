import { randomBytes } from 'node:crypto';
import { verifyConvoySignature } from '../../lib/signing/index.js';
import { PGliteStorage } from '../../lib/storage/pglite/index.js';
import { PostgresStorage } from '../../lib/storage/postgres/index.js';
import { quoteSchema } from '../../lib/storage/sql/migrations.js';
import type { SqlConvoyStorage } from '../../lib/storage/sql/sql-storage.js';
import { DATABASE_URL, testSchemaName } from '../contract/backends.js';
import { Harness, LOOPBACK } from '../support/embedded-app.js';
import { waitUntil } from '../support/wait.js';
import { dropSchema } from '../fault/support/postgres.js';

/**
 * Retention and secrets at rest in a real application (embedded engine, real receiver on 127.0.0.1), on PGlite and
 * PostgreSQL: with `secretKeys`, what the receiver gets verifies with the endpoint's secret (and a dynamic target's)
 * while the database holds them only sealed; the retention timer keeps the log at `maxRows` while events flow.
 */
const backends: Array<{
  name: string;
  open: (secretKeys: Array<{ id: string; key: string }>) => Promise<SqlConvoyStorage>;
  skip?: string;
}> = [
  { name: 'PGlite', open: (secretKeys) => PGliteStorage.create({ secretKeys }) },
  {
    name: 'PostgreSQL',
    open: (secretKeys) =>
      PostgresStorage.create({ connectionString: DATABASE_URL!, schema: testSchemaName(), secretKeys }),
    skip: DATABASE_URL ? undefined : 'DATABASE_URL is not set: the PostgreSQL run is skipped',
  },
];

const h = new Harness();
afterEach(() => h.cleanup());

for (const { name, open, skip } of backends) {
  (skip ? describe.skip : describe)(`retention and secrets at rest in an app on ${name}`, () => {
    let storage: SqlConvoyStorage | undefined;
    afterEach(async () => {
      if (storage && name === 'PostgreSQL') {
        await h.cleanup();
        await dropSchema(storage.schema);
      }
      storage = undefined;
    });

    it('deliveries verify with the secrets the database holds only sealed, and the log stays at maxRows', async () => {
      storage = await open([{ id: 'k1', key: randomBytes(32).toString('base64') }]);
      const receiver = await h.receiver();
      const app = await h.start({
        storage,
        embedded: { allowedAddresses: LOOPBACK },
        delivery: { retry: { attempts: 1 }, pollIntervalMs: 50 },
        retention: { maxRows: 5, intervalMs: 100, batchSize: 2 },
      });
      const secret = 'endpoint-secret-at-rest-31';
      const dynamicSecret = 'dynamic-secret-at-rest-72';
      const endpoint = await app.endpoints.create({
        name: 'at rest',
        url: `${receiver.url}/hook`,
        secret,
        authentication: {
          type: 'api_key',
          api_key: { header_name: 'X-Api-Key', header_value: 'header-value-at-rest-9' },
        },
      });
      for (let i = 0; i < 12; i++) await app.publisher.publish('todo.created', { i }, { endpointId: endpoint.uid });
      await app.publisher.publish('todo.dynamic', { i: 12 }, { url: `${receiver.url}/dynamic`, secret: dynamicSecret });
      await waitUntil('13 webhooks arrived', () => receiver.received.length === 13);

      for (const got of receiver.received) {
        const header = got.headers['x-convoy-signature'] as string;
        const expected = got.path === '/dynamic' ? dynamicSecret : secret;
        expect(verifyConvoySignature(got.raw, header, { secret: expected })).toMatchObject({ valid: true });
      }
      expect(
        receiver.received
          .filter((r) => r.path === '/hook')
          .every((r) => r.headers['x-api-key'] === 'header-value-at-rest-9'),
      ).toBe(true);

      const s = quoteSchema(storage.schema);
      const { rows } = await storage.db.query<{ text: string }>(
        `SELECT secrets::text || coalesce(api_key_header::text, '') AS text FROM ${s}.endpoints
         UNION ALL SELECT target::text FROM ${s}.deliveries`,
      );
      const columns = rows.map((r) => r.text).join('\n');
      for (const clear of [secret, dynamicSecret, 'header-value-at-rest-9']) expect(columns).not.toContain(clear);
      expect(columns).toContain('enc:v1:k1:');

      const count = async (table: string): Promise<number> => {
        const result = await storage!.db.query<{ n: string | number }>(`SELECT count(*) AS n FROM ${s}.${table}`);
        return Number(result.rows[0]!.n);
      };
      // Events: the newest maxRows, and those a kept delivery still refers to.
      await waitUntil(
        'the retention timer pruned the log to maxRows',
        async () =>
          (await count('deliveries')) <= 5 && (await count('delivery_attempts')) <= 5 && (await count('events')) <= 10,
      );
      // The log still reads what it kept (the most recently finished, in whatever order the attempts ended).
      const { content } = await app.deliveries.list({ perPage: 10 });
      expect(content.length).toBeGreaterThan(0);
      expect(content.length).toBeLessThanOrEqual(5);
      for (const d of content) expect((await app.deliveries.get(d.uid)).status).toBe('Success');
    });
  });
}
