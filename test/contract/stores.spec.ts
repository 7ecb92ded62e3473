import { storeContract } from './store.contract.js';
import { DATABASE_URL, inMemoryBackend, pgliteBackend, postgresBackend, runCase, type Backend } from './backends.js';

/**
 * One contract, three stores: every WebhookStore case runs against the in-memory store, PGlite and PostgreSQL
 * (DATABASE_URL; skipped with a message when it is unset). The SQL stores run the same SQL. A case that needs a kind
 * of store (memory, SQL, two transactions at once) is skipped elsewhere, under its own name.
 */
const backends: Array<{ name: string; open: () => Promise<Backend>; skip?: string }> = [
  { name: 'in-memory', open: async () => inMemoryBackend() },
  { name: 'PGlite', open: pgliteBackend },
  {
    name: 'PostgreSQL',
    open: () => postgresBackend(DATABASE_URL!),
    skip: DATABASE_URL
      ? undefined
      : 'DATABASE_URL is not set (e.g. postgres://postgres@127.0.0.1:5432/test): the PostgreSQL contract run is skipped',
  },
];

/** What each backend can run: a case's `requires`. */
const abilities: Record<string, Array<'memory' | 'sql' | 'parallelTransactions'>> = {
  'in-memory': ['memory'],
  PGlite: ['sql'],
  PostgreSQL: ['sql', 'parallelTransactions'],
};

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

    for (const c of storeContract) {
      const runs = c.requires === undefined || abilities[name]!.includes(c.requires);
      (runs ? it : it.skip)(runs ? c.name : `${c.name} (needs ${c.requires})`, async () =>
        runCase(c, await backend.context()),
      );
    }
  });
}
