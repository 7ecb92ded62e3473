import { outboxContract } from './outbox-store.contract.js';
import { webhookStoreContract } from './webhook-store.contract.js';
import { DATABASE_URL, inMemoryBackend, pgliteBackend, postgresBackend, runCase, type Backend } from './backends.js';

/**
 * One contract, three stores: every OutboxStore and WebhookStore case runs against the in-memory stores, PGlite and
 * PostgreSQL (DATABASE_URL; skipped with a message when it is unset). The SQL stores run the same SQL.
 */
const backends: Array<{ name: string; open: () => Promise<Backend>; skip?: string }> = [
  { name: 'in-memory', open: async () => inMemoryBackend() },
  { name: 'PGlite', open: pgliteBackend },
  {
    name: 'PostgreSQL',
    open: () => postgresBackend(DATABASE_URL!),
    skip: DATABASE_URL ? undefined : 'DATABASE_URL is not set (e.g. postgres://postgres@127.0.0.1:5432/test): the PostgreSQL contract run is skipped',
  },
];

for (const { name, open, skip } of backends) {
  const suite = skip ? describe.skip : describe;
  if (skip) console.info(`[contract] ${name}: ${skip}`);

  suite(`store contract on ${name}`, () => {
    let backend: Backend;
    beforeAll(async () => {
      const started = Date.now();
      backend = await open();
      if (process.env.CONTRACT_TIMINGS) console.info(`[contract] ${name} ready in ${Date.now() - started} ms`);
    });
    afterEach(() => backend.reset());
    afterAll(() => backend?.close());

    describe('OutboxStore', () => {
      for (const c of outboxContract) it(c.name, async () => runCase(c, await backend.context('outbox')));
    });
    describe('WebhookStore', () => {
      for (const c of webhookStoreContract) it(c.name, async () => runCase(c, await backend.context('webhooks')));
    });
  });
}
