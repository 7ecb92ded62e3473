import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** PostgreSQL for the fault tests: DATABASE_URL, and a throwaway schema per test that is dropped afterwards. */
export const databaseUrl = process.env.DATABASE_URL;

export const describeWithPostgres = databaseUrl ? describe : describe.skip;
if (!databaseUrl)
  console.info(
    'fault tests on PostgreSQL skipped: set DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/test) to run them',
  );

export function uniqueSchema(prefix: string): string {
  return `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
}

export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

export { waitUntil } from '../../support/wait.js';
