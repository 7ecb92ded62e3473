import { execFileSync } from 'node:child_process';

/**
 * The built storage subpaths as users load them (npm test builds dist first): `nestjs-convoy/postgres` and
 * `nestjs-convoy/pglite` resolve through package.json "exports", and neither they nor the core load a database
 * driver until a storage is created (a resolve hook fails any import of `pg` or `@electric-sql/pglite`).
 */
describe('dist smoke test: storage subpaths', () => {
  const hook = encodeURIComponent(
    `export async function resolve(specifier, context, next) {
      if (specifier === 'pg' || specifier.startsWith('pg/') || specifier.startsWith('@electric-sql/pglite')) throw new Error('driver loaded: ' + specifier);
      return next(specifier, context);
    }`,
  );
  const register = encodeURIComponent(
    `import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${hook}`)});`,
  );
  const node = (code: string, blockDrivers: boolean): string =>
    execFileSync(
      process.execPath,
      [...(blockDrivers ? ['--import', `data:text/javascript,${register}`] : []), '--input-type=module', '-e', code],
      {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'], // a failing child's stderr goes into the thrown error, not the test output
        env: { ...process.env, NODE_OPTIONS: '' },
      },
    );

  // The same block for require(): any load of a driver throws.
  const requireHook = `const M = require('node:module'); const load = M._load;
    M._load = function (request, ...rest) {
      if (request === 'pg' || request.startsWith('pg/') || request.startsWith('@electric-sql/pglite')) throw new Error('driver loaded: ' + request);
      return load.call(this, request, ...rest);
    };`;
  const nodeCjs = (code: string): string =>
    execFileSync(process.execPath, ['-e', `${requireHook}\n${code}`], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_OPTIONS: '' },
    });

  it('the driver block works (a control: importing pg under the hook fails)', () => {
    expect(() => node(`await import('pg');`, true)).toThrow(/driver loaded: pg/);
  });

  it('importing the core and the storage subpaths loads no driver', () => {
    const out = node(
      `const core = await import('nestjs-convoy');
       const pgSub = await import('nestjs-convoy/postgres');
       const lite = await import('nestjs-convoy/pglite');
       const storage = await import('nestjs-convoy/storage');
       console.log(JSON.stringify([typeof core.ConvoyModule, typeof pgSub.PostgresStorage.create, typeof pgSub.fromPgPool, typeof pgSub.migrationSql,
         typeof lite.PGliteStorage.create, typeof lite.fromPGlite, typeof lite.SqlConvoyStorage, typeof storage.SqlConvoyStorage,
         typeof storage.InMemoryWebhookStore]));`,
      true,
    );
    expect(JSON.parse(out)).toEqual(Array(9).fill('function'));
  });

  it('requiring the core and both subpaths from CommonJS loads no driver (and the block works)', () => {
    expect(() => nodeCjs(`require('pg');`)).toThrow(/driver loaded: pg/);
    const out = nodeCjs(
      `const core = require('nestjs-convoy'); const pgSub = require('nestjs-convoy/postgres'); const lite = require('nestjs-convoy/pglite');
       console.log(JSON.stringify([typeof core.ConvoyModule, typeof pgSub.PostgresStorage.create, typeof lite.PGliteStorage.create]));`,
    );
    expect(JSON.parse(out)).toEqual(Array(3).fill('function'));
  });

  it('nestjs-convoy/pglite opens an in-memory database from the built code', () => {
    const out = node(
      `import { PGliteStorage } from 'nestjs-convoy/pglite';
       const storage = await PGliteStorage.create();
       const delivery = { uid: 'm1', event_id: 'm1', endpoint_id: null, event_type: 't', idempotency_key: 'm1', payload: '{"x": 1.0}', custom_headers: {},
         target: { broadcast: true }, ordering_key: null, status: 'Scheduled', description: '', num_trials: 0, retry_limit: 1, next_send_at: 1, lease_token: null,
         latency_ms: null, created_at: 1, updated_at: 1 };
       await storage.store.enqueue([{ deliveries: [delivery] }]);
       const [m] = await storage.store.claim(2, 10, 'tok', 100);
       await storage.close();
       console.log(m.payload);`,
      false,
    );
    expect(out.trim()).toBe('{"x": 1.0}');
  });

  it('migrationSql() from the built code names the schema', () => {
    const out = node(
      `import { migrationSql } from 'nestjs-convoy/postgres'; console.log(migrationSql('app_hooks').includes('"app_hooks".outbox_messages'));`,
      true,
    );
    expect(out.trim()).toBe('true');
  });
});
