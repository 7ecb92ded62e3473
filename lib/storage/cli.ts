#!/usr/bin/env node
/**
 * nestjs-convoy sql | migrate | status  [--schema <name>] [--url <postgres url>]
 *   sql      prints the schema as SQL, for your own migration tool (no database needed)
 *   migrate  applies the missing migrations to DATABASE_URL (or --url), under the advisory lock
 *   status   exits 0 when the schema is current, 1 when migrations are missing (a CI or deploy gate)
 */
import { SchemaOutdatedError } from '../errors/outbox.errors.js';
import { DEFAULT_SCHEMA, migrationSql } from './migrations.js';

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const flag = (name: string): string | undefined => {
    const i = rest.indexOf(`--${name}`);
    return i >= 0 ? rest[i + 1] : undefined;
  };
  const schema = flag('schema') ?? DEFAULT_SCHEMA;
  if (command === 'sql') {
    process.stdout.write(`${migrationSql(schema)}\n`);
    return 0;
  }
  if (command !== 'migrate' && command !== 'status') {
    process.stderr.write('usage: nestjs-convoy sql | migrate | status  [--schema <name>] [--url <postgres url>]\n');
    return 2;
  }
  const url = flag('url') ?? process.env.DATABASE_URL;
  if (!url) {
    process.stderr.write('Set DATABASE_URL (or pass --url postgres://…) to reach the database.\n');
    return 2;
  }
  const { PostgresStorage } = await import('../postgres/index.js');
  try {
    const storage = await PostgresStorage.create({ connectionString: url, schema, migrate: command === 'migrate' });
    await storage.close();
    process.stdout.write(command === 'migrate' ? `The ${schema} schema is up to date.\n` : `The ${schema} schema is current.\n`);
    return 0;
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    return error instanceof SchemaOutdatedError ? 1 : 2;
  }
}

void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
