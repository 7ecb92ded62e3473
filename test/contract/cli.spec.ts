import { Validator } from '@seriousme/openapi-schema-validator';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { PostgresStorage } from '../../lib/storage/postgres/index.js';
import { endpoint } from './store.contract.js';

/** The `nestjs-convoy` bin (dist/esm/cli/main.js, built by `npm test`): sql, migrate, status, openapi. */
const run = (args: string[], env: Record<string, string | undefined> = {}) => {
  const result = spawnSync(process.execPath, ['dist/esm/cli/main.js', ...args], {
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: '', ...env },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
};

describe('nestjs-convoy CLI', () => {
  it('sql prints the schema for your own migration tool, in the schema you name', () => {
    const { code, stdout } = run(['sql', '--schema', 'my_hooks']);
    expect(code).toBe(0);
    expect(stdout).toContain('CREATE SCHEMA IF NOT EXISTS "my_hooks"');
    expect(stdout).toMatch(/CREATE TABLE IF NOT EXISTS "my_hooks"\.outbox_messages/);
  });

  it('explains its usage and a missing DATABASE_URL', () => {
    expect(run(['frobnicate'])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('usage: nestjs-convoy sql | migrate | status'),
    });
    expect(run(['status'], { DATABASE_URL: '' })).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('Set DATABASE_URL'),
    });
  });

  const url = process.env.DATABASE_URL;
  (url ? it : it.skip)('status fails (exit 1) until migrate has run, then passes: a deploy gate', async () => {
    const schema = `nc_cli_${process.pid}_${randomBytes(3).toString('hex')}`;
    try {
      const behind = run(['status', '--schema', schema]);
      expect(behind.code).toBe(1);
      expect(behind.stderr).toMatch(new RegExp(`The ${schema} schema is missing migrations 1 \\(initial\\)`));
      expect(run(['migrate', '--schema', schema])).toMatchObject({
        code: 0,
        stdout: `The ${schema} schema is up to date.\n`,
      });
      expect(run(['status', '--schema', schema])).toMatchObject({
        code: 0,
        stdout: `The ${schema} schema is current.\n`,
      });
    } finally {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await client.end();
    }
  });
  (url ? it : it.skip)('reencrypt moves stored secrets to the first key of NESTJS_CONVOY_SECRET_KEYS', async () => {
    const schema = `nc_cli_${process.pid}_${randomBytes(3).toString('hex')}`;
    const k1 = { id: 'k1', key: randomBytes(32).toString('base64') };
    const k2 = { id: 'k2', key: randomBytes(32).toString('hex') };
    const storage = await PostgresStorage.create({ connectionString: url, schema, secretKeys: [k1] });
    try {
      await storage.store.insertEndpoint(endpoint('ep_1'));
      const keys = (list: unknown) => ({ NESTJS_CONVOY_SECRET_KEYS: JSON.stringify(list) });
      expect(run(['reencrypt', '--schema', schema], { NESTJS_CONVOY_SECRET_KEYS: '' })).toMatchObject({
        code: 2,
        stderr: expect.stringContaining('Set NESTJS_CONVOY_SECRET_KEYS'),
      });
      const bad = run(['reencrypt', '--schema', schema], keys([{ id: 'k2', key: k2.key.slice(2) }, k1]));
      expect(bad).toMatchObject({ code: 2, stderr: expect.stringContaining('storage.secretKeys[0].key') });
      expect(bad.stderr).not.toContain(k2.key.slice(2));
      expect(run(['reencrypt', '--schema', schema], keys([k2, k1]))).toMatchObject({
        code: 0,
        stdout: 'Re-encrypted the secrets of 1 endpoints and 0 deliveries under key "k2".\n',
      });
      const { rows } = await storage.db.query<{ secrets: string }>(
        `SELECT secrets::text AS secrets FROM "${schema}".endpoints`,
      );
      expect(rows[0]!.secrets).toContain('enc:v1:k2:');
      expect(rows[0]!.secrets).not.toContain('enc:v1:k1:');
    } finally {
      await storage.db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await storage.close();
    }
  });
  if (!url) console.info('CLI migrate/status test skipped: set DATABASE_URL to run it');

  describe('openapi', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nestjs-convoy-cli-'));
    const url = (path: string) => JSON.stringify(pathToFileURL(resolve(path)).href);
    /** An application's compiled catalog module, as the CLI would find it in its dist/. */
    const catalogModule = join(dir, 'webhooks.mjs');
    writeFileSync(
      catalogModule,
      `import { defineWebhookEvents } from ${url('dist/esm/index.js')};
import { z } from ${url('node_modules/zod/index.js')};
export const billing = defineWebhookEvents({
  'invoice.paid': { schema: z.object({ id: z.string(), total: z.number() }), description: 'Paid.', example: { id: 'inv_1', total: 5 } },
  'invoice.voided': { type: 'object', required: ['id'] },
});
export const other = 42;
`,
    );
    const twoCatalogs = join(dir, 'two.mjs');
    writeFileSync(
      twoCatalogs,
      `import { defineWebhookEvents } from ${url('dist/esm/index.js')};
export const a = defineWebhookEvents({ 'a.happened': { type: 'object' } });
export const b = defineWebhookEvents({ 'b.happened': { type: 'object' } });
`,
    );
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('writes the OpenAPI 3.1 document of the catalog a module exports, valid, with the signature headers', async () => {
      const out = join(dir, 'webhooks.json');
      const args = ['openapi', '--catalog', catalogModule, '--title', 'Billing webhooks', '--doc-version', '2.1.0'];
      expect(run([...args, '--signature', 'standard', '--out', out])).toMatchObject({ code: 0, stdout: '' });
      const document = JSON.parse(readFileSync(out, 'utf8'));
      expect(await new Validator().validate(document)).toEqual({ valid: true });
      expect(document.info).toEqual({ title: 'Billing webhooks', version: '2.1.0' });
      expect(Object.keys(document.webhooks)).toEqual(['invoice.paid', 'invoice.voided']);
      const paid = document.webhooks['invoice.paid'].post;
      expect(paid.requestBody.content['application/json']).toMatchObject({
        schema: { type: 'object', required: ['id', 'total'] },
        example: { id: 'inv_1', total: 5 },
      });
      expect(paid.parameters.map((p: { name: string }) => p.name)).toContain('webhook-signature');
      // Without --out, to stdout; title and version from ./package.json.
      const printed = run(['openapi', '--catalog', catalogModule]);
      expect(printed.code).toBe(0);
      expect(JSON.parse(printed.stdout).info).toEqual({ title: 'nestjs-convoy webhooks', version: '0.1.0' });
    });

    it('says what is wrong: no --catalog, no catalog in the module, several catalogs', () => {
      expect(run(['openapi'])).toMatchObject({ code: 2, stderr: expect.stringContaining('Pass --catalog <module>') });
      expect(run(['openapi', '--catalog', join(dir, 'missing.mjs')])).toMatchObject({
        code: 2,
        stderr: expect.stringContaining('Cannot import'),
      });
      expect(run(['openapi', '--catalog', twoCatalogs])).toMatchObject({
        code: 2,
        stderr: expect.stringContaining('exports several catalogs (a, b); pick one with --export <name>'),
      });
      expect(run(['openapi', '--catalog', twoCatalogs, '--export', 'b'])).toMatchObject({ code: 0 });
      expect(run(['openapi', '--catalog', catalogModule, '--export', 'other'])).toMatchObject({
        code: 2,
        stderr: expect.stringContaining('exports no catalog named other (catalogs: billing)'),
      });
      expect(run(['openapi', '--catalog', catalogModule, '--signature', 'svix'])).toMatchObject({
        code: 2,
        stderr: expect.stringContaining('expected "convoy" or "standard"'),
      });
    });
  });
});
