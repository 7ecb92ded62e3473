import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * `@opentelemetry/api` is an optional peer: the built package, as ESM and as CommonJS, loads and publishes in a
 * process where it cannot be found (a resolve hook refuses it, as if it were not installed), and the message carries
 * no trace context.
 */
describe('without @opentelemetry/api installed', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'nc-no-otel-'));
    // ESM: a loader hook that refuses every @opentelemetry package.
    writeFileSync(
      join(dir, 'hooks.mjs'),
      `export async function resolve(specifier, context, next) {
         if (specifier.startsWith('@opentelemetry/')) {
           const error = new Error("Cannot find package '" + specifier + "'");
           error.code = 'ERR_MODULE_NOT_FOUND';
           throw error;
         }
         return next(specifier, context);
       }`,
    );
    writeFileSync(
      join(dir, 'register.mjs'),
      `import { register } from 'node:module'; register(${JSON.stringify(`file://${join(dir, 'hooks.mjs')}`)});`,
    );
    // CommonJS: the same refusal in require()'s resolution.
    writeFileSync(
      join(dir, 'refuse.cjs'),
      `const Module = require('node:module');
       const resolve = Module._resolveFilename;
       Module._resolveFilename = function (request, ...rest) {
         if (request.startsWith('@opentelemetry/')) {
           const error = new Error("Cannot find module '" + request + "'");
           error.code = 'MODULE_NOT_FOUND';
           throw error;
         }
         return resolve.call(this, request, ...rest);
       };`,
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const node = (args: string[]): string =>
    execFileSync(process.execPath, args, { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } }).trim();

  /** Publishes one event through the recording transport; prints what the process saw. */
  const publishing = (load: string) => `
    ${load}
    const { NestFactory } = lib.core;
    const app = await NestFactory.createApplicationContext(
      lib.convoy.ConvoyModule.forRoot({ transport: recorder }), { logger: false });
    const receipt = await app.get(lib.convoy.WebhookPublisher).publish('todo.created', { id: 1 });
    await app.get(lib.convoy.WebhookPublisher).flush();
    const [sent] = recorder.sent;
    console.log(JSON.stringify({ api, sent: sent?.id === receipt.id, traceparent: sent?.traceparent ?? null }));
    await app.close();`;

  it('ESM: loads, publishes and sends', () => {
    const out = node([
      '--import',
      `file://${join(dir, 'register.mjs')}`,
      '--input-type=module',
      '-e',
      publishing(`
        import 'reflect-metadata';
        const api = await import('@opentelemetry/api').then(() => 'found', (e) => e.code);
        const lib = { core: await import('@nestjs/core'), convoy: await import('nestjs-convoy') };
        const recorder = new (await import('nestjs-convoy/testing')).RecordingTransport();`),
    ]);
    expect(JSON.parse(out)).toEqual({ api: 'ERR_MODULE_NOT_FOUND', sent: true, traceparent: null });
  });

  it('CommonJS: loads, publishes and sends', () => {
    const out = node([
      '--require',
      join(dir, 'refuse.cjs'),
      '-e',
      `(async () => {${publishing(`
        require('reflect-metadata');
        let api = 'found';
        try { require('@opentelemetry/api'); } catch (e) { api = e.code; }
        const lib = { core: require('@nestjs/core'), convoy: require('nestjs-convoy') };
        const recorder = new (require('nestjs-convoy/testing').RecordingTransport)();`)}
      })().catch((e) => { console.error(e); process.exit(1); });`,
    ]);
    expect(JSON.parse(out)).toEqual({ api: 'MODULE_NOT_FOUND', sent: true, traceparent: null });
  });
});
