#!/usr/bin/env node
// Proves that the packed tarball works in real Nest apps (see README.md beside this file):
//
//   node test/consumers/run.mjs [path/to/nestjs-convoy-x.y.z.tgz]
//
// Without a tarball, `npm pack` builds one from the repository. Each app is copied to a fresh temporary folder,
// installed from its lockfile, given the tarball, type-checked, built, booted (a webhook goes through the embedded
// engine to the app's own verifying receiver), stopped, and tested with its own Jest; then a type-check matrix
// compiles one file importing every subpath under several TypeScript versions and module resolutions.
// Every check prints `PASS <app> <check>` or `FAIL <app> <check>: <reason>`; the last line is
// `consumers: N passed, N failed`, and the exit code is 1 when anything failed. Plain Node, no dependencies.
import { spawn } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../..');
const DATABASE_URL = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
/** The Nest 11 app's outbox schema: one per run, so that runs never collide; dropped at the end. */
const SCHEMA = `consumer_nest11_${process.pid}`;

/** The apps, in the order they run (one after the other: the machine has 2 cores). */
const APPS = [
  {
    name: 'nest11-cjs',
    env: () => ({ DATABASE_URL, CONVOY_SCHEMA: SCHEMA }),
    // Its tests run twice: with ts-jest (jest.config.js, type-checked) and with @swc/jest; neither transforms node_modules.
    jestConfigs: { jest: 'jest.config.js', 'jest-swc': 'jest.swc.config.js' },
    // CommonJS: TypeScript 5.0, 5.7 (the app's own) and 6.0, each with node10, node16 and nodenext.
    matrix: {
      flavour: 'cjs',
      typescripts: ['typescript-5.0', 'typescript', 'typescript-6.0'],
      modes: [
        { name: 'node10', module: 'commonjs', moduleResolution: 'node10' },
        { name: 'node16', module: 'node16', moduleResolution: 'node16' },
        { name: 'nodenext', module: 'nodenext', moduleResolution: 'nodenext' },
      ],
    },
    cleanup: dropSchema,
  },
  {
    name: 'nest12-esm',
    env: (work) => ({ CONVOY_DATA_DIR: join(work, '.data', 'convoy') }),
    jestConfigs: { jest: 'jest.config.js' },
    // ESM: TypeScript 6.0 (the app's own) and 5.7, with nodenext and bundler.
    matrix: {
      flavour: 'esm',
      typescripts: ['typescript', 'typescript-5.7'],
      modes: [
        { name: 'nodenext', module: 'nodenext', moduleResolution: 'nodenext' },
        { name: 'bundler', module: 'esnext', moduleResolution: 'bundler' },
      ],
    },
  },
];

const results = { passed: 0, failed: 0 };
/** What this runner started and has not seen end, each with how to kill it (only these, by their own ids). */
const children = new Map();
process.on('exit', () => children.forEach((kill) => kill()));
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(130));

const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;
const tail = (text, lines = 25) =>
  text
    .trimEnd()
    .split('\n')
    .slice(-lines)
    .map((line) => `    | ${line}`)
    .join('\n');

class CheckError extends Error {
  constructor(message, output = '') {
    super(message);
    this.output = output;
  }
}

/** Runs one check: prints its PASS/FAIL line with the time it took; returns whether it passed. */
async function check(app, name, work) {
  const started = Date.now();
  try {
    const note = await work();
    results.passed++;
    console.log(`PASS ${app} ${name} (${seconds(Date.now() - started)})${note ? ` ${note}` : ''}`);
    return true;
  } catch (error) {
    results.failed++;
    console.log(`FAIL ${app} ${name}: ${error.message} (${seconds(Date.now() - started)})`);
    if (error.output && !error.message.includes(error.output.trim())) console.log(tail(error.output));
    return false;
  }
}

function notRun(app, name, because) {
  results.failed++;
  console.log(`FAIL ${app} ${name}: not run (${because})`);
}

/** A child process with its output (stdout and stderr together), ended by its own process group on timeout. */
function run(command, args, { cwd, env, timeoutMs = 10 * 60_000 } = {}) {
  return new Promise((resolvePromise) => {
    const child = spawn(command, args, { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const killGroup = () => {
      try {
        process.kill(-child.pid, 'SIGKILL'); // the child's own process group: npm and what it started
      } catch {
        // already gone
      }
    };
    children.set(child, killGroup);
    let output = '';
    let timedOut = false;
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, timeoutMs);
    child.on('error', (error) => (output += `\n${error.message}`));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      resolvePromise({ code, signal, output, timedOut });
    });
  });
}

async function mustRun(command, args, options, what = [basename(command), ...args].join(' ')) {
  const result = await run(command, args, options);
  if (result.timedOut) throw new CheckError(`${what} timed out`, result.output);
  if (result.code !== 0) throw new CheckError(`${what} exited ${result.code ?? result.signal}`, result.output);
  return result.output;
}

/**
 * The environment of everything the runner starts: no Convoy credentials (so the embedded engine delivers), and
 * none of the npm_* variables of an enclosing `npm run` (its prefix would point npm back at the repository), except
 * the cache, registry and user config.
 */
function childEnv(extra = {}) {
  const env = { ...process.env, NO_COLOR: '1', CI: 'true' };
  const keepNpm = new Set(['npm_config_cache', 'npm_config_registry', 'npm_config_userconfig']);
  for (const key of Object.keys(env)) {
    const npmVariable = key.toLowerCase().startsWith('npm_') && !keepNpm.has(key.toLowerCase());
    if (
      npmVariable ||
      key.startsWith('CONVOY_') ||
      key === 'NODE_OPTIONS' ||
      key === 'FORCE_COLOR' ||
      key === 'DATABASE_URL'
    )
      delete env[key];
  }
  return { ...env, ...extra };
}

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const npmFlags = ['--prefer-offline', '--no-audit', '--no-fund'];

async function packTarball(into) {
  const output = await mustRun(npm, ['pack', '--pack-destination', into], { cwd: repo, env: childEnv() }, 'npm pack');
  const tarballs = readdirSync(into).filter((file) => file.endsWith('.tgz'));
  if (tarballs.length !== 1) throw new CheckError(`npm pack left ${tarballs.length} tarballs in ${into}`, output);
  return join(into, tarballs[0]);
}

// ---------------------------------------------------------------------------------------------------------------
// The booted app, over HTTP (loopback only).

/** Starts `node dist/main.js` on PORT=0 and resolves with its URL once it logs "Listening on http://…". */
function boot(cwd, env) {
  const child = spawn(process.execPath, ['dist/main.js'], {
    cwd,
    env: { ...env, PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.set(child, () => child.kill('SIGKILL'));
  const app = {
    child,
    log: '',
    exited: new Promise((r) => child.on('exit', (code, signal) => (children.delete(child), r({ code, signal })))),
  };
  child.stdout.on('data', (chunk) => (app.log += chunk));
  child.stderr.on('data', (chunk) => (app.log += chunk));
  app.ready = new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new CheckError('no "Listening on" line within 60 s', app.log)), 60_000);
    const onData = () => {
      const match = /Listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(app.log);
      if (match) {
        clearTimeout(timer);
        app.url = match[1];
        resolvePromise(app.url);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    app.exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new CheckError(`exited (${code ?? signal}) before listening`, app.log));
    });
  });
  return app;
}

async function http(app, method, path, { json, body, headers = {} } = {}) {
  const response = await fetch(`${app.url}${path}`, {
    method,
    headers: json === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: json === undefined ? body : JSON.stringify(json),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await response.text();
  let parsed;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = text;
  }
  return { status: response.status, headers: response.headers, body: parsed, text };
}

async function expectStatus(app, method, path, status, options) {
  const response = await http(app, method, path, options);
  if (response.status !== status)
    throw new CheckError(
      `${method} ${path} answered ${response.status}, expected ${status}: ${response.text.slice(0, 300)}`,
      app.log,
    );
  return response.body;
}

/** Polls GET /receiver (what arrived and verified) until `match` finds an entry; 30 s at most. */
async function waitForWebhook(app, what, match) {
  const deadline = Date.now() + 30_000;
  let received = [];
  while (Date.now() < deadline) {
    received = (await http(app, 'GET', '/receiver')).body;
    const found = Array.isArray(received) ? received.find(match) : undefined;
    if (found) return found;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new CheckError(
    `${what} did not reach /receiver within 30 s (received: ${JSON.stringify(received).slice(0, 300)})`,
    app.log,
  );
}

/** Convoy's advanced signature, computed here independently of the package: t=<ts>,v1=hex(HMAC-SHA256(secret, "<ts>,<body>")). */
function convoySignature(secret, body, timestamp = Math.floor(Date.now() / 1000)) {
  return `t=${timestamp},v1=${createHmac('sha256', secret).update(`${timestamp},${body}`).digest('hex')}`;
}

const RUNTIME_STEPS = [
  'endpoint',
  'deliver-todo.created',
  'deliver-todo.completed',
  'receiver-signatures',
  'health',
  'portal',
];

async function runtimeChecks(name, cwd, env) {
  const secret = `receiver-${randomBytes(8).toString('hex')}`;
  let app;
  const booted = await check(name, 'boot', async () => {
    app = boot(cwd, { ...env, RECEIVER_SECRET: secret });
    return `at ${await app.ready}`;
  });
  if (!booted) {
    for (const step of [...RUNTIME_STEPS, 'shutdown']) notRun(name, step, 'boot failed');
    if (app) app.child.kill('SIGKILL');
    return;
  }
  const state = {};
  const work = {
    // An endpoint of the embedded engine pointing at the app's own receiver, signed with the receiver's secret.
    endpoint: async () => {
      const endpoint = await expectStatus(app, 'POST', '/endpoints', 201, {
        json: { name: 'self', url: `${app.url}/receiver`, secret },
      });
      if (typeof endpoint?.uid !== 'string') throw new CheckError(`no endpoint uid in ${JSON.stringify(endpoint)}`);
    },
    // @EmitsWebhook on POST /todos: the todo arrives at /receiver, which recorded it only after its signature verified.
    'deliver-todo.created': async () => {
      const title = `todo from ${name} ${randomBytes(4).toString('hex')}`;
      state.todo = await expectStatus(app, 'POST', '/todos', 201, { json: { title } });
      const got = await waitForWebhook(
        app,
        'todo.created',
        (w) => w.payload?.id === state.todo.id && w.payload.completed === false,
      );
      if (JSON.stringify(got.payload) !== JSON.stringify({ id: state.todo.id, title, completed: false }))
        throw new CheckError(`payload ${JSON.stringify(got.payload)}`);
      if (typeof got.idempotencyKey !== 'string' || got.idempotencyKey === '')
        throw new CheckError('delivered without X-Convoy-Idempotency-Key');
    },
    // WebhookPublisher in TodosService, with its own idempotency key.
    'deliver-todo.completed': async () => {
      if (!state.todo) throw new CheckError('no todo (deliver-todo.created failed)');
      await expectStatus(app, 'POST', `/todos/${state.todo.id}/complete`, 200);
      const got = await waitForWebhook(
        app,
        'todo.completed',
        (w) => w.payload?.id === state.todo.id && w.payload.completed === true,
      );
      if (got.idempotencyKey !== `todo-${state.todo.id}-completed`)
        throw new CheckError(`idempotency key ${got.idempotencyKey}`);
    },
    // The guard itself: a signature made here (not by the package) verifies, a wrong secret and no signature get 401.
    'receiver-signatures': async () => {
      const body = JSON.stringify({ probe: randomBytes(4).toString('hex') });
      const post = (headers) =>
        http(app, 'POST', '/receiver', { body, headers: { 'content-type': 'application/json', ...headers } });
      const wrong = await post({ 'x-convoy-signature': convoySignature('not-the-receiver-secret', body) });
      const missing = await post({});
      const right = await post({ 'x-convoy-signature': convoySignature(secret, body) });
      const statuses = `wrong secret ${wrong.status}, no signature ${missing.status}, right secret ${right.status}`;
      if (wrong.status !== 401 || missing.status !== 401 || right.status !== 200)
        throw new CheckError(statuses, app.log);
      await waitForWebhook(app, 'the probe', (w) => JSON.stringify(w.payload) === body);
    },
    // nestjs-convoy/terminus: up, and durable (the outbox is in PostgreSQL or PGlite, not in memory).
    health: async () => {
      const health = await expectStatus(app, 'GET', '/health', 200);
      const webhooks = health?.info?.webhooks;
      if (webhooks?.status !== 'up' || webhooks.durable !== true)
        throw new CheckError(`GET /health: ${JSON.stringify(health)}`);
      if (!(webhooks.sent >= 2)) throw new CheckError(`GET /health counts ${webhooks.sent} sent, expected at least 2`);
    },
    // nestjs-convoy/portal on this app's HTTP adapter: a link opens a session, the portal lists the customer's
    // endpoints, and an unknown page is the portal's 404 with its CSP (its catch-all route is adapter-specific).
    portal: async () => {
      const link = await expectStatus(app, 'GET', '/portal-link?owner=consumer-check', 200);
      if (typeof link?.url !== 'string') throw new CheckError(`no link in ${JSON.stringify(link)}`);
      const landing = await http(app, 'GET', link.url);
      const cookie = landing.headers
        .getSetCookie()
        .find((c) => c.startsWith('convoy_portal='))
        ?.split(';')[0];
      if (landing.status !== 200 || !cookie)
        throw new CheckError(`the link answered ${landing.status} without a session cookie`, app.log);
      const home = await http(app, 'GET', '/webhooks/portal', { headers: { cookie } });
      if (home.status !== 200 || !home.text.includes('Endpoints'))
        throw new CheckError(`GET /webhooks/portal answered ${home.status}: ${home.text.slice(0, 200)}`, app.log);
      const missing = await http(app, 'GET', '/webhooks/portal/no/such/page', { headers: { cookie } });
      const csp = missing.headers.get('content-security-policy') ?? '';
      if (missing.status !== 404 || !csp.includes("default-src 'none'"))
        throw new CheckError(`an unknown portal page answered ${missing.status} (CSP "${csp}")`, app.log);
    },
  };
  for (const step of RUNTIME_STEPS) await check(name, step, work[step]);

  // SIGTERM: the app closes itself (outbox, engine, pools) and must exit 0 with nothing left open.
  await check(name, 'shutdown', async () => {
    app.child.kill('SIGTERM');
    const timeout = new Promise((r) => setTimeout(() => r('timeout'), 30_000));
    const outcome = await Promise.race([app.exited, timeout]);
    if (outcome === 'timeout') {
      app.child.kill('SIGKILL');
      throw new CheckError('still running 30 s after SIGTERM (a handle left open?)', app.log);
    }
    if (outcome.code !== 0) throw new CheckError(`exited ${outcome.code ?? outcome.signal} after SIGTERM`, app.log);
    const errors = app.log.split('\n').filter((line) => /\bERROR\b/.test(line));
    if (errors.length > 0) throw new CheckError(`exited 0, but logged ${errors.length} error line(s)`, app.log);
  });
}

// ---------------------------------------------------------------------------------------------------------------
// The type-check matrix: typecheck/all-subpaths.ts under each TypeScript version and module resolution.

async function matrixChecks(name, cwd, { flavour, typescripts, modes }) {
  for (const alias of typescripts) {
    const version = JSON.parse(readFileSync(join(cwd, 'node_modules', alias, 'package.json'), 'utf8')).version;
    for (const mode of modes) {
      await check(name, `types-ts${version}-${flavour}-${mode.name}`, async () => {
        const config = `tsconfig.matrix-${alias}-${mode.name}.json`;
        const major = Number(version.split('.')[0]);
        writeFileSync(
          join(cwd, config),
          JSON.stringify({
            compilerOptions: {
              module: mode.module,
              moduleResolution: mode.moduleResolution,
              // TypeScript 6 deprecates node10 (still what many CommonJS apps use); this keeps it working.
              ...(major >= 6 && mode.moduleResolution === 'node10' ? { ignoreDeprecations: '6.0' } : {}),
              target: 'ES2022',
              lib: ['ES2023'],
              types: ['node'],
              strict: true,
              esModuleInterop: true,
              // The package's own declarations are checked too (with skipLibCheck they could silently turn to any).
              skipLibCheck: false,
              noEmit: true,
            },
            files: ['typecheck/all-subpaths.ts'],
          }),
        );
        const result = await run(
          process.execPath,
          [join('node_modules', alias, 'bin', 'tsc'), '-p', config, '--listFiles'],
          { cwd, env: childEnv(), timeoutMs: 5 * 60_000 },
        );
        if (result.timedOut) throw new CheckError('tsc timed out', result.output);
        const lines = result.output.replaceAll(`${cwd}/`, '').split('\n');
        const errors = lines.filter((line) => /error TS\d+/.test(line));
        // Errors in the package or in the file are ours; errors inside other packages' declarations are noted only.
        const ours = errors.filter((line) => /^(node_modules\/nestjs-convoy\/|typecheck\/)/.test(line));
        if (ours.length > 0) throw new CheckError(`${ours.length} error(s): ${ours[0]}`, ours.join('\n'));
        if (result.code !== 0 && errors.length === 0) throw new CheckError(`tsc exited ${result.code}`, result.output);
        // Each module kind must read its own build's declarations: CommonJS dist/cjs, ESM dist/esm.
        const used = new Set(
          lines.map((line) => /node_modules\/nestjs-convoy\/dist\/(cjs|esm)\//.exec(line)?.[1]).filter(Boolean),
        );
        if (used.size !== 1 || !used.has(flavour))
          throw new CheckError(
            `read the declarations of dist/${[...used].join(' and dist/') || 'nothing'}, expected dist/${flavour}`,
          );
        return errors.length > 0
          ? `(ignored ${errors.length} error(s) in other packages' declarations: ${errors[0]})`
          : '';
      });
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------

const SUBPATHS = [
  'nestjs-convoy',
  'nestjs-convoy/client',
  'nestjs-convoy/embedded',
  'nestjs-convoy/storage',
  'nestjs-convoy/testing',
  'nestjs-convoy/receiver',
  'nestjs-convoy/postgres',
  'nestjs-convoy/pglite',
  'nestjs-convoy/terminus',
  'nestjs-convoy/portal',
  'nestjs-convoy/dashboard',
];

/**
 * Where Node resolves each subpath from the app: require() must land in dist/cjs, import in dist/esm. (Node ≥ 20.19
 * would also require() the ESM build, so a CommonJS app that merely runs does not prove this.)
 */
async function resolveSubpaths(cwd, flavour) {
  const list = JSON.stringify(SUBPATHS);
  const args =
    flavour === 'cjs'
      ? ['-e', `for (const s of ${list}) console.log(require.resolve(s))`]
      : ['--input-type=module', '-e', `for (const s of ${list}) console.log(import.meta.resolve(s))`];
  const output = await mustRun(
    process.execPath,
    args,
    { cwd, env: childEnv(), timeoutMs: 60_000 },
    'resolving the subpaths',
  );
  const resolved = output.trim().split('\n');
  const wrong = resolved.filter((file) => !file.includes(`/node_modules/nestjs-convoy/dist/${flavour}/`));
  if (resolved.length !== SUBPATHS.length || wrong.length > 0)
    throw new CheckError(`expected every subpath in dist/${flavour}`, output);
}

async function dropSchema(name, cwd) {
  const schema = SCHEMA;
  await check(name, 'drop-schema', async () => {
    // Through the app's own pg (the runner has no dependencies).
    const script = `const { Client } = require('pg');
      const client = new Client({ connectionString: process.env.DATABASE_URL });
      client.connect().then(() => client.query('DROP SCHEMA IF EXISTS ${schema} CASCADE')).then(() => client.end())
        .catch((error) => { console.error(error.message); process.exit(1); });`;
    await mustRun(
      process.execPath,
      ['-e', script],
      { cwd, env: childEnv({ DATABASE_URL }), timeoutMs: 60_000 },
      `DROP SCHEMA ${schema}`,
    );
  });
}

async function consumer(app, tarball, root) {
  const name = app.name;
  const cwd = join(root, name);
  console.log(`\n== ${name} (${cwd})`);
  const started = Date.now();
  const env = childEnv(app.env(cwd));

  const installed =
    (await check(name, 'npm-ci', async () => {
      cpSync(join(here, name), cwd, {
        recursive: true,
        filter: (path) => !['node_modules', 'dist', '.data'].includes(basename(path)),
      });
      await mustRun(npm, ['ci', ...npmFlags], { cwd, env: childEnv() });
    })) &&
    (await check(name, 'install-tarball', async () => {
      // No flag such as --legacy-peer-deps: the app's own dependencies must satisfy the package's peers as they are.
      const { code, signal, output, timedOut } = await run(npm, ['install', ...npmFlags, tarball], {
        cwd,
        env: childEnv(),
      });
      // A consumer must get no peer-dependency complaint, and no engine warning about what the package brings.
      const problems = output
        .split('\n')
        .filter((line) => /ERESOLVE|peer ?dep|Could not resolve dependency|Conflicting peer/i.test(line));
      const engine = [...output.matchAll(/EBADENGINE\s+package: '([^']+)'/g)]
        .map((m) => m[1])
        .filter((pkg) => /^(undici|nestjs-convoy)@/.test(pkg));
      if (problems.length > 0)
        throw new CheckError(
          `npm complained: ${problems
            .map((line) => line.trim())
            .join(' / ')
            .slice(0, 400)}`,
          output,
        );
      if (engine.length > 0) throw new CheckError(`EBADENGINE for ${engine.join(', ')}`, output);
      if (timedOut || code !== 0)
        throw new CheckError(`npm install <tarball> ${timedOut ? 'timed out' : `exited ${code ?? signal}`}`, output);
      const version = JSON.parse(
        readFileSync(join(cwd, 'node_modules', 'nestjs-convoy', 'package.json'), 'utf8'),
      ).version;
      return `(nestjs-convoy ${version})`;
    }));

  if (installed) await check(name, 'resolve-subpaths', () => resolveSubpaths(cwd, app.matrix.flavour));
  else notRun(name, 'resolve-subpaths', 'install failed');
  if (!installed) {
    const matrix = app.matrix.typescripts.flatMap((alias) =>
      app.matrix.modes.map((mode) => `types-${alias}-${app.matrix.flavour}-${mode.name}`),
    );
    for (const step of [
      'typecheck',
      'build',
      'boot',
      ...RUNTIME_STEPS,
      'shutdown',
      ...Object.keys(app.jestConfigs),
      ...matrix,
    ])
      notRun(name, step, 'install failed');
  } else {
    const tsc = join('node_modules', 'typescript', 'bin', 'tsc');
    await check(name, 'typecheck', () =>
      mustRun(
        process.execPath,
        [tsc, '--noEmit', '-p', 'tsconfig.json'],
        { cwd, env, timeoutMs: 5 * 60_000 },
        'tsc --noEmit',
      ).then(() => ''),
    );
    const built = await check(name, 'build', () =>
      mustRun(
        process.execPath,
        [tsc, '-p', 'tsconfig.build.json'],
        { cwd, env, timeoutMs: 5 * 60_000 },
        'tsc -p tsconfig.build.json',
      ).then(() => ''),
    );
    if (built) await runtimeChecks(name, cwd, env);
    else for (const step of ['boot', ...RUNTIME_STEPS, 'shutdown']) notRun(name, step, 'build failed');
    for (const [step, config] of Object.entries(app.jestConfigs)) {
      await check(name, step, async () => {
        const output = await mustRun(
          npm,
          ['test', '--', '--config', config],
          { cwd, env, timeoutMs: 10 * 60_000 },
          `npm test -- --config ${config}`,
        );
        return `(${/Tests:\s+(.+)/.exec(output)?.[1]?.trim() ?? 'no summary'})`;
      });
    }
    await matrixChecks(name, cwd, app.matrix);
  }
  if (app.cleanup) {
    if (installed) await app.cleanup(name, cwd);
    else notRun(name, 'drop-schema', 'install failed');
  }
  console.log(`== ${name}: ${seconds(Date.now() - started)}`);
}

const started = Date.now();
const root = mkdtempSync(join(tmpdir(), 'nestjs-convoy-consumers-'));
let tarball = process.argv[2] ? resolve(process.argv[2]) : undefined;
if (tarball) {
  if (!existsSync(tarball)) {
    console.log(`FAIL runner tarball: ${tarball} does not exist`);
    results.failed++;
    tarball = undefined;
  }
} else {
  await check('runner', 'npm-pack', async () => {
    const packDir = join(root, 'pack');
    mkdirSync(packDir);
    tarball = await packTarball(packDir);
    return `(${basename(tarball)})`;
  });
}
if (tarball) {
  console.log(`tarball: ${tarball}`);
  for (const app of APPS) await consumer(app, tarball, root);
}
// Several hundred MB: removed, unless CONSUMERS_KEEP=1 asks to keep it for a look.
const keep = process.env.CONSUMERS_KEEP === '1';
console.log(
  `\ntotal: ${seconds(Date.now() - started)}; work folder ${keep ? `kept: ${root}` : 'removed (CONSUMERS_KEEP=1 keeps it)'}`,
);
if (!keep) rmSync(root, { recursive: true, force: true });
console.log(`consumers: ${results.passed} passed, ${results.failed} failed`);
process.exit(results.failed === 0 ? 0 : 1);
