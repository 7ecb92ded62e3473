import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * README's option tables are generated from lib/options/option-tables.ts (names and defaults from the built
 * tables, descriptions from their doc comments) by scripts/options-tables.mjs; this keeps them from drifting.
 */
const root = fileURLToPath(new URL('../..', import.meta.url));
const script = join(root, 'scripts/options-tables.mjs');
const check = (...extra: string[]) =>
  spawnSync(process.execPath, [script, '--check', ...extra], { cwd: root, encoding: 'utf8' });

describe("README's option tables", () => {
  it('match the option tables (npm run docs:options rewrites them)', () => {
    const run = check();
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
  });

  it('--check fails on a README whose table was edited by hand, or lost its marker', () => {
    const dir = mkdtempSync(join(tmpdir(), 'options-tables-'));
    try {
      const readme = readFileSync(join(root, 'README.md'), 'utf8');
      const row = '| `delivery.drainTimeoutMs` | `10000` |';
      expect(readme).toContain(row);
      const edited = join(dir, 'README.md');
      writeFileSync(edited, readme.replace(row, '| `delivery.drainTimeoutMs` | `5000` |'));
      const drift = check('--readme', edited);
      expect(drift.status).toBe(1);
      expect(drift.stderr).toMatch(/option tables differ .* run npm run docs:options/);

      writeFileSync(edited, readme.replace('<!-- options:retry -->', ''));
      const unmarked = check('--readme', edited);
      expect(unmarked.status).toBe(1);
      expect(unmarked.stderr).toMatch(/no marker <!-- options:retry -->/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
