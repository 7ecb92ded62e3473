import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';

/**
 * The built package as users load it: ESM import and CommonJS require() of `nestjs-convoy` and
 * `nestjs-convoy/testing`, resolved through package.json "exports" (npm test builds dist first):
 * `import` gets dist/esm, `require` gets dist/cjs, real CommonJS.
 */
describe('dist smoke test', () => {
  const node = (args: string[]): string =>
    execFileSync(process.execPath, args, { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });

  it('dist has both builds of every entry point', () => {
    // Every file package.json "exports" names, for import and require.
    const exports = (JSON.parse(readFileSync('package.json', 'utf8')) as { exports: Record<string, unknown> }).exports;
    const files = Object.entries(exports)
      .filter(([subpath]) => subpath !== './package.json')
      .flatMap(([, conditions]) =>
        Object.values(conditions as Record<string, Record<string, string>>).flatMap((c) => [c.types, c.default]),
      );
    expect(files.length).toBeGreaterThanOrEqual(24);
    expect(files.filter((file) => !existsSync(file))).toEqual([]);
    expect(JSON.parse(readFileSync('dist/cjs/package.json', 'utf8'))).toEqual({ type: 'commonjs' });
  });

  it('the packed files hold every source that a source map or declaration map points to, and nothing for the repo only', () => {
    const [pack] = JSON.parse(
      execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { encoding: 'utf8' }),
    ) as Array<{ files: Array<{ path: string }> }>;
    const files = new Set(pack!.files.map((f) => f.path));
    const maps = [...files].filter((path) => path.endsWith('.map'));
    const sources = [...files].filter((path) => path.startsWith('lib/') && path.endsWith('.ts'));
    expect(maps.length).toBe(4 * sources.length); // a .js.map and a .d.ts.map per source, in both builds
    const missing = maps.flatMap((map) =>
      (JSON.parse(readFileSync(map, 'utf8')) as { sources: string[] }).sources
        .map((source) => normalize(join(dirname(map), source)))
        .filter((source) => !files.has(source)),
    );
    expect(missing).toEqual([]);
    expect([...files].filter((path) => !/^(dist\/(esm|cjs)\/|lib\/)/.test(path)).sort()).toEqual([
      'CHANGELOG.md',
      'LICENSE',
      'README.md',
      'package.json',
    ]);
  });

  it('imports as ESM', () => {
    const out = node([
      '--input-type=module',
      '-e',
      `
      import * as lib from 'nestjs-convoy';
      import * as testing from 'nestjs-convoy/testing';
      console.log(JSON.stringify([typeof lib.ConvoyModule.forRoot, typeof lib.ConvoyModule.forRootAsync, typeof lib.ConvoyClient,
        typeof lib.WebhookPublisher, typeof lib.EmitsWebhook, typeof lib.ConvoyError,
        typeof testing.RecordingTransport, typeof testing.ConvoyTestingModule.forRoot]));
    `,
    ]);
    expect(JSON.parse(out)).toEqual(Array(8).fill('function'));
  });

  it('nestjs-convoy/receiver exports what receiving apps need (guard, payload, verify and sign functions), not the client', () => {
    const out = node([
      '--input-type=module',
      '-e',
      `
      import * as receiver from 'nestjs-convoy/receiver';
      const sig = receiver.signConvoyPayload('{"a":1}', { secrets: ['s3cret-value'], advanced: true });
      const ok = receiver.verifyConvoySignature('{"a":1}', sig, { secret: 's3cret-value' });
      console.log(JSON.stringify([typeof receiver.VerifyConvoyWebhook, typeof receiver.WebhookPayload, ok.valid, 'ConvoyClient' in receiver, typeof receiver.verifyStandardWebhook]));
    `,
    ]);
    expect(JSON.parse(out)).toEqual(['function', 'function', true, false, 'function']);
  });

  it('nestjs-convoy/terminus exports the health indicator', () => {
    const out = node([
      '--input-type=module',
      '-e',
      `
      import * as terminus from 'nestjs-convoy/terminus';
      console.log(typeof terminus.WebhooksHealthIndicator);
    `,
    ]);
    expect(out.trim()).toBe('function');
  });

  it('nestjs-convoy/portal exports the portal module and WebhookPortal', () => {
    const out = node([
      '--input-type=module',
      '-e',
      `
      import * as portal from 'nestjs-convoy/portal';
      console.log(JSON.stringify([typeof portal.ConvoyPortalModule, typeof portal.WebhookPortal, typeof portal.InvalidPortalLinkError]));
    `,
    ]);
    expect(JSON.parse(out)).toEqual(['function', 'function', 'function']);
  });

  it('require() from CommonJS loads the CommonJS build (no require(esm) of this package)', () => {
    const out = node([
      '-e',
      `
      const lib = require('nestjs-convoy');
      const testing = require('nestjs-convoy/testing');
      const receiver = require('nestjs-convoy/receiver');
      const paths = ['nestjs-convoy', 'nestjs-convoy/client', 'nestjs-convoy/embedded', 'nestjs-convoy/storage', 'nestjs-convoy/testing', 'nestjs-convoy/receiver',
        'nestjs-convoy/postgres', 'nestjs-convoy/pglite', 'nestjs-convoy/terminus', 'nestjs-convoy/portal', 'nestjs-convoy/dashboard']
        .map((id) => require('node:path').relative(process.cwd(), require.resolve(id)));
      const ownModules = Object.keys(require.cache).filter((file) => file.startsWith(process.cwd() + '/dist/'));
      console.log(JSON.stringify([typeof lib.ConvoyModule, typeof lib.ConvoyClient, typeof testing.RecordingTransport, typeof receiver.VerifyConvoyWebhook,
        paths, ownModules.length > 0 && ownModules.every((file) => file.includes('/dist/cjs/'))]));
    `,
    ]);
    expect(JSON.parse(out)).toEqual([
      'function',
      'function',
      'function',
      'function',
      [
        'dist/cjs/index.js',
        'dist/cjs/client/index.js',
        'dist/cjs/transports/embedded/index.js',
        'dist/cjs/storage/index.js',
        'dist/cjs/testing/index.js',
        'dist/cjs/receiver/index.js',
        'dist/cjs/storage/postgres/index.js',
        'dist/cjs/storage/pglite/index.js',
        'dist/cjs/terminus/index.js',
        'dist/cjs/portal/index.js',
        'dist/cjs/dashboard/index.js',
      ],
      true,
    ]);
  });

  it('a plain ConvoyClient works from the built code', () => {
    const out = node([
      '--input-type=module',
      '-e',
      `
      import { ConvoyClient, ConvoyConfigurationError } from 'nestjs-convoy';
      try { new ConvoyClient({ apiKey: 'CO.x' }); } catch (e) { console.log(e instanceof ConvoyConfigurationError, e.option); }
    `,
    ]);
    expect(out.trim()).toBe('true projectId');
  });
});
