import { ConvoyError } from './convoy.error.js';

/**
 * publishInTransaction() was given a connection that is not inside a transaction (a pool, or a client before
 * BEGIN): the event would be stored even if the business change rolled back. Nothing was stored.
 */
export class TransactionRequiredError extends ConvoyError {
  constructor() {
    super(
      'publishInTransaction() needs a connection inside an open transaction (a pg client after BEGIN, a PGlite transaction); ' +
        'outside one, use publish()',
    );
  }
}

/** The database schema is older than this version of nestjs-convoy expects. Maps to a failed startup. */
export class SchemaOutdatedError extends ConvoyError {
  constructor(
    readonly missing: Array<{ version: number; name: string }>,
    readonly schema: string,
  ) {
    super(
      `The ${schema} schema is missing migrations ${missing.map((m) => `${m.version} (${m.name})`).join(', ')}. ` +
        'Apply them with `npx nestjs-convoy migrate` (DATABASE_URL), with the SQL from `npx nestjs-convoy sql` in your own ' +
        'migration tool, or set the storage option `migrate: true` (the default outside NODE_ENV=production)',
    );
  }
}
