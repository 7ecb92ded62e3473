/**
 * The public surface is reviewed through api-report.md: `scripts/api-report.mjs --check` must pass on the repository
 * (the committed report matches the code, the root has at most 70 exports, each with a doc comment), and must fail,
 * saying why, on a package that breaks any of those rules (a small package written to a temporary folder).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const script = join(root, 'scripts/api-report.mjs');

function report(cwd: string, check: boolean): { status: number | null; output: string } {
  const args = [script, '--cwd', cwd, ...(check ? ['--check'] : [])];
  const result = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 120_000 });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('api-report.md', () => {
  it('matches the code, and the root stays within 70 documented exports', () => {
    const { status, output } = report(root, true);
    expect({ status, output }).toEqual({ status: 0, output: 'api-report.md matches the code.\n' });
  });

  it('lists every package.json entry point', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { exports: Record<string, unknown> };
    const headings = [...readFileSync(join(root, 'api-report.md'), 'utf8').matchAll(/^## (\S+) \(\d+\)$/gm)].map(
      (match) => match[1],
    );
    const entries = Object.keys(pkg.exports)
      .filter((key) => key !== './package.json')
      .map((key) => (key === '.' ? 'nestjs-convoy' : `nestjs-convoy/${key.slice(2)}`));
    expect(headings).toEqual(entries);
  });
});

describe('scripts/api-report.mjs --check', () => {
  let dir: string;
  const write = (file: string, text: string): void => {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    writeFileSync(join(dir, file), text);
  };
  /** `count` documented constants in lib/index.ts, plus `extra` lines. */
  const rootWith = (count: number, extra = ''): string =>
    Array.from({ length: count }, (_, i) => `/** Constant number ${i}. */\nexport const c${i} = ${i};\n`).join('') +
    extra;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'api-report-'));
    const entry = (file: string) => ({
      import: { types: `./dist/esm/${file}.d.ts`, default: `./dist/esm/${file}.js` },
      require: { types: `./dist/cjs/${file}.d.ts`, default: `./dist/cjs/${file}.js` },
    });
    write(
      'package.json',
      JSON.stringify({
        name: 'demo',
        type: 'module',
        exports: { '.': entry('index'), './extra': entry('extra/index'), './package.json': './package.json' },
      }),
    );
    write(
      'tsconfig.build.json',
      JSON.stringify({
        compilerOptions: {
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          rootDir: 'lib',
          outDir: 'dist/esm',
        },
        include: ['lib'],
      }),
    );
    write(
      'lib/thing.ts',
      '/** A thing. It has two sentences. */\nexport class Thing {}\n/** Options of a thing. */\nexport interface ThingOptions {}\n',
    );
    write('lib/extra/index.ts', "export { Thing } from '../thing.js';\nexport const undocumented = 1;\n");
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes a report that the check then accepts: kinds, first sentences, deprecated and type-only exports, every entry', () => {
    write(
      'lib/index.ts',
      rootWith(
        2,
        "export { Thing, type ThingOptions } from './thing.js';\n/**\n * Old.\n * @deprecated Use Thing.\n */\nexport type Old = string;\n",
      ),
    );
    expect(report(dir, false).status).toBe(0);
    expect(readFileSync(join(dir, 'api-report.md'), 'utf8')).toContain(
      [
        '## demo (5)',
        '',
        '- `Old` type (deprecated): Old.',
        '- `Thing` class: A thing.',
        '- `ThingOptions` interface: Options of a thing.',
        '- `c0` const: Constant number 0.',
        '- `c1` const: Constant number 1.',
        '',
        '## demo/extra (2)',
        '',
        '- `Thing` class: A thing.',
        '- `undocumented` const',
      ].join('\n'),
    );
    expect(report(dir, true)).toEqual({ status: 0, output: 'api-report.md matches the code.\n' });

    write('lib/index.ts', rootWith(2, "export type { Thing } from './thing.js';\n"));
    expect(report(dir, false).status).toBe(0);
    expect(readFileSync(join(dir, 'api-report.md'), 'utf8')).toContain('- `Thing` class (type only): A thing.');
  });

  it('fails when an export is added without updating the report, and prints the diff', () => {
    write('lib/index.ts', rootWith(3));
    expect(report(dir, false).status).toBe(0);
    write('lib/index.ts', rootWith(3, '/** Added later. */\nexport function added(): void {}\n'));
    const { status, output } = report(dir, true);
    expect(status).toBe(1);
    expect(output).toContain('api-report.md differs from the code');
    expect(output).toContain('+ - `added` function: Added later.');
    expect(output).toContain('- ## demo (3)\n+ ## demo (4)');
  });

  it('fails when the root has more than 70 exports', () => {
    write('lib/index.ts', rootWith(70));
    expect(report(dir, false).status).toBe(0);
    expect(report(dir, true).status).toBe(0);
    write('lib/index.ts', rootWith(71));
    const { status, output } = report(dir, true);
    expect(status).toBe(1);
    expect(output).toContain('The root exports 71 names, more than 70');
  });

  it('fails when a root export has no doc comment (a subpath export may have none)', () => {
    write('lib/index.ts', rootWith(1, 'export const bare = 1;\nexport interface Shape {}\n'));
    expect(report(dir, false).status).toBe(0);
    const { status, output } = report(dir, true);
    expect(status).toBe(1);
    expect(output).toBe('Root exports without a doc comment (say in one line what each is for): Shape, bare.\n');
  });
});
