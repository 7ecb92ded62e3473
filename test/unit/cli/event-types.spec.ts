/**
 * `nestjs-convoy event-types sync` through the built bin (dist/esm/cli/main.js, built by `npm test`) against the fake
 * Convoy: a dry run, the sync, a second run that changes nothing, a refusal, and its usage errors.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { FakeConvoy } from '../../support/fake-convoy.js';

const bin = (args: string[], env: Record<string, string> = {}) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((done) => {
    const child = spawn(process.execPath, ['dist/esm/cli/main.js', ...args], {
      env: { PATH: process.env.PATH ?? '', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => done({ code, stdout, stderr }));
  });

describe('nestjs-convoy event-types sync', () => {
  let fake: FakeConvoy;
  let env: Record<string, string>;
  const dir = mkdtempSync(join(tmpdir(), 'nestjs-convoy-event-types-'));
  const url = (path: string) => JSON.stringify(pathToFileURL(resolve(path)).href);
  /** An application's compiled catalog module, as the CLI would find it in its dist/. */
  const catalogModule = join(dir, 'webhooks.mjs');
  writeFileSync(
    catalogModule,
    `import { defineWebhookEvents } from ${url('dist/esm/index.js')};
import { z } from ${url('node_modules/zod/index.js')};
export const billing = defineWebhookEvents({
  'invoice.paid': { schema: z.object({ id: z.string(), total: z.number() }), description: 'Paid.', category: 'billing' },
  'invoice.voided': { type: 'object', required: ['id'] },
});
export const broken = defineWebhookEvents({ 'invoice.broken': { type: 7 } });
`,
  );
  beforeAll(async () => {
    fake = await FakeConvoy.start();
    env = { CONVOY_URL: fake.url, CONVOY_API_KEY: fake.apiKey, CONVOY_PROJECT_ID: fake.projectId };
    fake.eventTypes.set('01OLD', {
      uid: '01OLD',
      name: 'invoice.old',
      category: '',
      description: '',
      json_schema: {},
      deprecated_at: null,
    });
  });
  afterAll(async () => {
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const names = () => [...fake.eventTypes.values()].map((t) => t.name).sort();

  it('--dry-run prints what would change and changes nothing; then the sync; then nothing to do', async () => {
    const args = ['event-types', 'sync', '--catalog', catalogModule, '--export', 'billing'];
    const dry = await bin([...args, '--dry-run'], env);
    expect(dry).toMatchObject({ code: 0, stderr: '' });
    expect(dry.stdout).toBe(
      [
        'would create invoice.paid',
        'would create invoice.voided',
        'would deprecate invoice.old',
        'Dry run, nothing sent: 2 to create, 0 to update, 1 to deprecate, 0 unchanged',
        '',
      ].join('\n'),
    );
    expect(names()).toEqual(['*', 'invoice.old']);
    expect(fake.eventTypes.get('01OLD')!.deprecated_at).toBeNull();

    const sync = await bin(args, env);
    expect(sync).toMatchObject({ code: 0, stderr: '' });
    expect(sync.stdout).toBe(
      [
        'created invoice.paid',
        'created invoice.voided',
        'deprecated invoice.old',
        'Event types synced: 2 created, 0 updated, 1 deprecated, 0 unchanged',
        '',
      ].join('\n'),
    );
    expect(names()).toEqual(['*', 'invoice.old', 'invoice.paid', 'invoice.voided']);
    expect([...fake.eventTypes.values()].find((t) => t.name === 'invoice.paid')).toMatchObject({
      description: 'Paid.',
      category: 'billing',
      json_schema: { type: 'object', required: ['id', 'total'] },
    });

    expect(await bin(args, env)).toMatchObject({
      code: 0,
      stdout: 'Event types synced: 0 created, 0 updated, 0 deprecated, 2 unchanged\n',
    });
  });

  it("exit 1 with the event type and Convoy's answer when Convoy refuses; 2 for usage and settings errors", async () => {
    const refused = await bin(['event-types', 'sync', '--catalog', catalogModule, '--export', 'broken'], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^Could not create event type "invoice\.broken" in Convoy: Convoy answered 400/);
    expect(refused.stderr).not.toContain(fake.apiKey);

    expect(await bin(['event-types', 'sync', '--catalog', catalogModule], env)).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('exports several catalogs (billing, broken); pick one with --export <name>'),
    });
    expect(await bin(['event-types', 'sync'], env)).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('Pass --catalog <module>'),
    });
    expect(await bin(['event-types'], env)).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('nestjs-convoy event-types sync --catalog <module>'),
    });
    const args = ['event-types', 'sync', '--catalog', catalogModule, '--export', 'billing'];
    expect(await bin(args, { CONVOY_URL: fake.url, CONVOY_API_KEY: fake.apiKey })).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('CONVOY_PROJECT_ID'),
    });
  });
});
