#!/usr/bin/env node
/**
 * nestjs-convoy sql | migrate | status | reencrypt  [--schema <name>] [--url <postgres url>]
 * nestjs-convoy doctor  [--env-file <path>]
 * nestjs-convoy openapi --catalog <module> [--export <name>] [--title <t>] [--doc-version <v>] [--signature convoy|standard] [--out <file>]
 * nestjs-convoy event-types sync --catalog <module> [--export <name>] [--dry-run] [--env-file <path>]
 *   sql      prints the schema as SQL, for your own migration tool (no database needed)
 *   migrate  applies the missing migrations to DATABASE_URL (or --url), under the advisory lock
 *   status   exits 0 when the schema is current, 1 when migrations are missing (a CI or deploy gate)
 *   reencrypt  moves every stored secret to the first of the keys in NESTJS_CONVOY_SECRET_KEYS (a JSON array of
 *            { id, key }, the storage option secretKeys), those stored in clear included
 *   doctor   checks, with CONVOY_URL, CONVOY_API_KEY (or CONVOY_USERNAME/CONVOY_PASSWORD) and CONVOY_PROJECT_ID,
 *            that publishing to Convoy will work; exits 0 when it will, 1 when not
 *   openapi  writes the OpenAPI 3.1 document of the webhooks of the catalog that <module> exports
 *   event-types sync  makes the Convoy project's event types (CONVOY_* as for doctor) match that catalog: creates,
 *            updates, deprecates (never deletes); --dry-run prints what would change
 */
import { parseArgs } from 'node:util';
import { SchemaOutdatedError } from '../errors/outbox.errors.js';
import { DEFAULT_SCHEMA, migrationSql } from '../storage/sql/migrations.js';
import type { SecretKey } from '../storage/sql/secret-cipher.js';
import type { SqlConvoyStorage } from '../storage/sql/sql-storage.js';

const USAGE =
  'usage: nestjs-convoy sql | migrate | status | reencrypt  [--schema <name>] [--url <postgres url>]\n' +
  '       nestjs-convoy doctor  [--env-file <path>]\n' +
  '       nestjs-convoy openapi --catalog <module> [--export <name>] [--title <title>] [--doc-version <version>]\n' +
  '                             [--signature convoy|standard] [--out <file>]\n' +
  '       nestjs-convoy event-types sync --catalog <module> [--export <name>] [--dry-run] [--env-file <path>]\n';

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        schema: { type: 'string' },
        url: { type: 'string' },
        'env-file': { type: 'string' },
        catalog: { type: 'string' },
        export: { type: 'string' },
        title: { type: 'string' },
        'doc-version': { type: 'string' },
        signature: { type: 'string' },
        out: { type: 'string' },
        'dry-run': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [command, ...extra] = positionals;
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const eventTypes = command === 'event-types' && extra.length === 1 && extra[0] === 'sync';
  const commands = ['sql', 'migrate', 'status', 'reencrypt', 'doctor', 'openapi'];
  if (!eventTypes && (extra.length > 0 || !commands.includes(command ?? ''))) {
    process.stderr.write(USAGE);
    return 2;
  }
  if ((command === 'doctor' || eventTypes) && values['env-file']) {
    try {
      process.loadEnvFile(values['env-file']);
    } catch (error) {
      process.stderr.write(`Cannot read ${values['env-file']}: ${(error as Error).message}\n`);
      return 2;
    }
  }
  if (eventTypes) {
    const { eventTypesSync } = await import('./event-types.js');
    return eventTypesSync(
      { catalog: values.catalog, export: values.export, dryRun: values['dry-run'] },
      process.env,
      (line) => process.stdout.write(`${line}\n`),
      (line) => process.stderr.write(`${line}\n`),
    );
  }
  if (command === 'doctor') {
    const { doctor } = await import('./doctor.js');
    return doctor(process.env, (line) => process.stdout.write(`${line}\n`));
  }
  if (command === 'openapi') {
    const { openapi } = await import('./openapi.js');
    return openapi({ ...values, docVersion: values['doc-version'] }, (text) => process.stdout.write(text));
  }
  const schema = values.schema ?? DEFAULT_SCHEMA;
  if (command === 'sql') {
    process.stdout.write(`${migrationSql(schema)}\n`);
    return 0;
  }
  const url = values.url ?? process.env.DATABASE_URL;
  if (!url) {
    process.stderr.write('Set DATABASE_URL (or pass --url postgres://…) to reach the database.\n');
    return 2;
  }
  const { PostgresStorage } = await import('../storage/postgres/index.js');
  if (command === 'reencrypt')
    return reencrypt((secretKeys) =>
      PostgresStorage.create({ connectionString: url, schema, migrate: false, secretKeys }),
    );
  try {
    const storage = await PostgresStorage.create({ connectionString: url, schema, migrate: command === 'migrate' });
    await storage.close();
    process.stdout.write(
      command === 'migrate' ? `The ${schema} schema is up to date.\n` : `The ${schema} schema is current.\n`,
    );
    return 0;
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    return error instanceof SchemaOutdatedError ? 1 : 2;
  }
}

/** Re-encrypts under the keys of NESTJS_CONVOY_SECRET_KEYS; errors name the entry at fault, never a key. */
async function reencrypt(open: (secretKeys: SecretKey[]) => Promise<SqlConvoyStorage>): Promise<number> {
  let secretKeys: SecretKey[];
  try {
    secretKeys = JSON.parse(process.env.NESTJS_CONVOY_SECRET_KEYS ?? '') as SecretKey[];
  } catch {
    process.stderr.write(
      'Set NESTJS_CONVOY_SECRET_KEYS to the storage option secretKeys as JSON, the new key first: [{"id":"k2","key":"…"},{"id":"k1","key":"…"}]\n',
    );
    return 2;
  }
  try {
    const storage = await open(secretKeys);
    try {
      const { endpoints, deliveries } = await storage.reencryptSecrets();
      process.stdout.write(
        `Re-encrypted the secrets of ${endpoints} endpoints and ${deliveries} deliveries under key "${secretKeys[0]!.id}".\n`,
      );
      return 0;
    } finally {
      await storage.close();
    }
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    return error instanceof SchemaOutdatedError ? 1 : 2;
  }
}

void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
