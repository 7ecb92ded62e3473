import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** `nestjs-convoy/dashboard` as users load it (npm test builds dist first): import gets dist/esm, require dist/cjs. */
describe('nestjs-convoy/dashboard in the built package', () => {
  const node = (args: string[]): string =>
    execFileSync(process.execPath, args, { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });

  it('is imported from the ESM build and required from the CommonJS build, with declarations for node10 too', () => {
    const esm = node([
      '--input-type=module',
      '-e',
      `import * as d from 'nestjs-convoy/dashboard';
       console.log(JSON.stringify([typeof d.ConvoyDashboardModule, import.meta.resolve('nestjs-convoy/dashboard').includes('/dist/esm/dashboard/index.js')]));`,
    ]);
    expect(JSON.parse(esm)).toEqual(['function', true]);
    const cjs = node([
      '-e',
      `const d = require('nestjs-convoy/dashboard');
       console.log(JSON.stringify([typeof d.ConvoyDashboardModule, require.resolve('nestjs-convoy/dashboard').endsWith('dist/cjs/dashboard/index.js')]));`,
    ]);
    expect(JSON.parse(cjs)).toEqual(['function', true]);
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as {
      typesVersions: Record<string, Record<string, string[]>>;
    };
    expect(pkg.typesVersions['*']!.dashboard).toEqual(['./dist/cjs/dashboard/index.d.ts']);
    expect(readFileSync('dist/cjs/dashboard/index.d.ts', 'utf8')).toContain('ConvoyDashboardModule');
  });
});
