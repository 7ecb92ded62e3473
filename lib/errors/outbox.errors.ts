import { ConvoyError } from './convoy.error.js';
import { redactUrls } from '../utils/redact.js';

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

/**
 * The storage failed or could not be reached (the database is down, the connection was cut, PGlite was closed), in
 * publish(), in the management API or in the pipeline. `cause` is the driver's error. A publish that failed this way
 * was not stored (or, if the commit's answer was what got lost, is stored once: its idempotency key dedupes a retry).
 */
export class StorageUnavailableError extends ConvoyError {
  override readonly retryable = true;

  constructor(
    /** The store operation that failed, e.g. `enqueue` (publish) or `listEndpoints`. */
    readonly operation: string,
    cause: unknown,
  ) {
    super(
      `The webhook storage is unavailable (${operation} failed: ${redactUrls(String((cause as Error)?.message ?? cause))}). ` +
        'Check that the database is up and reachable; the call can be retried once it is',
      { cause },
    );
  }
}

/**
 * A secret stored encrypted (storage option `secretKeys`) cannot be read: the key it was written with is not
 * configured, or the stored value fails authentication (changed in the database, or cut). Names the key id, never a
 * key or a secret.
 */
export class SecretDecryptionError extends ConvoyError {
  constructor(
    /** The id of the key the stored value says it was encrypted with. */
    readonly keyId: string,
    /** `unknown-key`: no configured key has this id; `tampered`: the value does not authenticate under it. */
    readonly reason: 'unknown-key' | 'tampered',
    known: string[],
  ) {
    super(
      reason === 'unknown-key'
        ? `A stored secret is encrypted with key "${keyId}", which is not in the storage option secretKeys (configured: ${known.join(', ') || 'none'}). ` +
            'Add that key back to secretKeys; remove it only after reencryptSecrets() has moved every secret to the current key'
        : `A stored secret encrypted with key "${keyId}" failed authentication: the stored value was changed or cut, so it is refused`,
    );
  }
}
