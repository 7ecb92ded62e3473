import { ConvoyConfigurationError } from '../../errors/configuration.error.js';

/** The schema the SQL storage uses when none is configured. */
export const DEFAULT_SCHEMA = 'nestjs_convoy';

/** One step of the schema, applied once and recorded in `<schema>.schema_migrations`. */
export interface Migration {
  version: number;
  name: string;
  /** The statements, one query each (PGlite's `query()` and pg's extended protocol run one statement at a time). */
  statements: string[];
  /** The same statements as one script. */
  sql: string;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Checks a schema name before it is interpolated into SQL (identifiers cannot be bound as parameters): lower case,
 * digits and underscores, at most 63 characters (PostgreSQL's limit), so that quoting it is enough.
 */
export function validateSchemaName(schema: string): string {
  if (typeof schema !== 'string' || !SCHEMA_NAME.test(schema)) {
    throw new ConvoyConfigurationError(
      'storage.schema',
      `"${String(schema)}" is not a valid schema name`,
      'use lower-case letters, digits and underscores (at most 63, not starting with a digit)',
    );
  }
  return schema;
}

/** `"schema"`: the quoted identifier, for SQL text. */
export const quoteSchema = (schema: string): string => `"${validateSchemaName(schema)}"`;

/** What every migration run needs first: the schema and the table recording applied migrations. */
export function bootstrapStatements(schema: string = DEFAULT_SCHEMA): string[] {
  const s = quoteSchema(schema);
  return [
    `CREATE SCHEMA IF NOT EXISTS ${s}`,
    `CREATE TABLE IF NOT EXISTS ${s}.schema_migrations (
  version integer PRIMARY KEY,
  name text NOT NULL,
  applied_at bigint NOT NULL
)`,
  ];
}

/**
 * Version 1. Design notes:
 * - Times are bigint epoch milliseconds (timezone-free; records that show ISO strings are converted on read).
 * - Payloads are `text`, never jsonb: jsonb would reformat the JSON whose exact bytes the receiver verifies.
 *   Maps and lists nobody signs (headers, targets, secrets, event types) are jsonb, so they can be queried.
 * - Ids are `COLLATE "C"`: pages are ordered by id (UUIDv7, newest first), and byte order is what JavaScript compares.
 * - `seq` (identity) is the outbox's insertion order; with the per-key advisory lock taken by add(), a key's messages
 *   get their seq in commit order.
 */
function initial(s: string): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS ${s}.outbox_messages (
  seq bigint GENERATED ALWAYS AS IDENTITY,
  id text COLLATE "C" PRIMARY KEY,
  event_type text NOT NULL,
  payload text NOT NULL,
  target jsonb NOT NULL,
  idempotency_key text NOT NULL,
  headers jsonb NOT NULL,
  ordering_key text,
  attempts integer NOT NULL DEFAULT 0,
  available_at bigint NOT NULL,
  created_at bigint NOT NULL,
  last_error text,
  lease_token text,
  lease_until bigint,
  CONSTRAINT outbox_messages_lease_check CHECK ((lease_token IS NULL) = (lease_until IS NULL))
)`,
    // claim(): due messages in (available_at, seq) order, read from the index and stopped at LIMIT.
    `CREATE INDEX IF NOT EXISTS outbox_messages_due_idx ON ${s}.outbox_messages (available_at, seq)`,
    // claim(): "is there an earlier message of this key?" is one index probe.
    `CREATE INDEX IF NOT EXISTS outbox_messages_key_idx ON ${s}.outbox_messages (ordering_key, seq) WHERE ordering_key IS NOT NULL`,
    `CREATE TABLE IF NOT EXISTS ${s}.outbox_dead_letters (
  id text COLLATE "C" PRIMARY KEY,
  event_type text NOT NULL,
  payload text NOT NULL,
  target jsonb NOT NULL,
  idempotency_key text NOT NULL,
  headers jsonb NOT NULL,
  ordering_key text,
  attempts integer NOT NULL,
  available_at bigint NOT NULL,
  created_at bigint NOT NULL,
  last_error text,
  dead_at bigint NOT NULL,
  reason text NOT NULL
)`,
    `CREATE TABLE IF NOT EXISTS ${s}.endpoints (
  uid text COLLATE "C" PRIMARY KEY,
  name text NOT NULL,
  url text NOT NULL,
  owner_id text NOT NULL,
  description text NOT NULL,
  secrets jsonb NOT NULL,
  advanced_signatures boolean NOT NULL,
  signature_format text NOT NULL,
  event_types jsonb NOT NULL,
  http_timeout integer NOT NULL,
  rate_limit integer NOT NULL,
  rate_limit_duration integer NOT NULL,
  support_email text NOT NULL,
  api_key_header jsonb,
  status text NOT NULL,
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL
)`,
    `CREATE INDEX IF NOT EXISTS endpoints_owner_idx ON ${s}.endpoints (owner_id, uid)`,
    // Dynamic events ({ url } targets) look their endpoint up by URL on every publish.
    `CREATE INDEX IF NOT EXISTS endpoints_url_idx ON ${s}.endpoints (url)`,
    `CREATE TABLE IF NOT EXISTS ${s}.events (
  uid text COLLATE "C" PRIMARY KEY,
  event_type text NOT NULL,
  idempotency_key text NOT NULL,
  payload text NOT NULL,
  custom_headers jsonb NOT NULL,
  endpoints jsonb NOT NULL,
  is_duplicate_event boolean NOT NULL,
  created_at bigint NOT NULL
)`,
    // One original per idempotency key (Convoy's rule, no time window); duplicates are logged next to it.
    `CREATE UNIQUE INDEX IF NOT EXISTS events_idempotency_key_idx ON ${s}.events (idempotency_key) WHERE NOT is_duplicate_event`,
    `CREATE TABLE IF NOT EXISTS ${s}.deliveries (
  uid text COLLATE "C" PRIMARY KEY,
  event_id text COLLATE "C" NOT NULL REFERENCES ${s}.events (uid) ON DELETE CASCADE,
  endpoint_id text COLLATE "C" NOT NULL,
  event_type text NOT NULL,
  idempotency_key text NOT NULL,
  payload text NOT NULL,
  custom_headers jsonb NOT NULL,
  status text NOT NULL CHECK (status IN ('Scheduled', 'Processing', 'Retry', 'Success', 'Failure', 'Discarded')),
  description text NOT NULL,
  num_trials integer NOT NULL,
  retry_limit integer NOT NULL,
  next_send_at bigint NOT NULL,
  lease_owner text,
  latency_ms integer,
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL,
  CONSTRAINT deliveries_event_endpoint_key UNIQUE (event_id, endpoint_id)
)`,
    `CREATE INDEX IF NOT EXISTS deliveries_status_idx ON ${s}.deliveries (status, next_send_at)`,
    // claimDue() and nextDueAt() read only the deliveries still in play, in due order; the log of finished ones grows.
    `CREATE INDEX IF NOT EXISTS deliveries_due_idx ON ${s}.deliveries (next_send_at) WHERE status IN ('Scheduled', 'Retry', 'Processing')`,
    `CREATE INDEX IF NOT EXISTS deliveries_endpoint_idx ON ${s}.deliveries (endpoint_id, uid)`,
    // No foreign key to endpoints: the log outlives a deleted endpoint.
    `CREATE TABLE IF NOT EXISTS ${s}.delivery_attempts (
  seq bigint GENERATED ALWAYS AS IDENTITY,
  uid text COLLATE "C" PRIMARY KEY,
  delivery_id text COLLATE "C" NOT NULL REFERENCES ${s}.deliveries (uid) ON DELETE CASCADE,
  endpoint_id text NOT NULL,
  url text NOT NULL,
  method text NOT NULL,
  request_headers jsonb NOT NULL,
  http_status integer,
  response_headers jsonb NOT NULL,
  response_body text NOT NULL,
  error text NOT NULL,
  success boolean NOT NULL,
  latency_ms integer NOT NULL,
  requested_at bigint NOT NULL,
  responded_at bigint
)`,
    `CREATE INDEX IF NOT EXISTS delivery_attempts_delivery_idx ON ${s}.delivery_attempts (delivery_id, seq)`,
  ];
}

/**
 * Version 2: one pipeline. `deliveries` becomes the one queue: the embedded engine's endpoint deliveries as before,
 * and hand-overs to the transport (endpoint_id NULL), which were the outbox's messages; a failed hand-over stays there
 * as a Failure (it was a dead letter). Every record time is epoch ms, the secrets' too.
 * - `seq` orders an ordering key's deliveries (a requeue takes a new one); `lease_token` fences every outcome.
 * - No foreign key from deliveries to events: a hand-over has no event row.
 * Re-runnable, like version 1: every step checks what is there first.
 */
function onePipeline(s: string): string[] {
  const unfinished = `status IN ('Scheduled', 'Retry', 'Processing')`;
  const columns = `uid, event_id, endpoint_id, event_type, idempotency_key, payload, custom_headers, target, ordering_key, status, description, num_trials,
    retry_limit, next_send_at, lease_token, latency_ms, created_at, updated_at`;
  const toMs = (field: string): string =>
    `CASE WHEN jsonb_typeof(x.secret->'${field}') = 'string' THEN to_jsonb((extract(epoch FROM (x.secret->>'${field}')::timestamptz) * 1000)::bigint) ELSE x.secret->'${field}' END`;
  return [
    `ALTER TABLE ${s}.deliveries DROP CONSTRAINT IF EXISTS deliveries_event_id_fkey`,
    `DO $$ BEGIN
       IF EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = '${s}.deliveries'::regclass AND attname = 'lease_owner' AND NOT attisdropped) THEN
         ALTER TABLE ${s}.deliveries RENAME COLUMN lease_owner TO lease_token;
       END IF;
     END $$`,
    `ALTER TABLE ${s}.deliveries ALTER COLUMN endpoint_id DROP NOT NULL`,
    `ALTER TABLE ${s}.deliveries ADD COLUMN IF NOT EXISTS target jsonb, ADD COLUMN IF NOT EXISTS ordering_key text,
       ADD COLUMN IF NOT EXISTS seq bigint GENERATED BY DEFAULT AS IDENTITY`,
    `UPDATE ${s}.deliveries SET target = jsonb_build_object('endpointId', endpoint_id) WHERE target IS NULL`,
    `ALTER TABLE ${s}.deliveries ALTER COLUMN target SET NOT NULL`,
    // The outbox's messages and dead letters become hand-overs, in their order (claims of an older version are void).
    `DO $$ BEGIN
       IF to_regclass('${s}.outbox_messages') IS NOT NULL THEN
         INSERT INTO ${s}.deliveries (${columns})
         SELECT id, id, NULL, event_type, idempotency_key, payload, headers, target, ordering_key, CASE WHEN attempts > 0 THEN 'Retry' ELSE 'Scheduled' END,
           coalesce(last_error, ''), attempts, greatest(attempts + 1, 20), available_at, NULL, NULL, created_at, created_at
         FROM ${s}.outbox_messages ORDER BY seq;
         INSERT INTO ${s}.deliveries (${columns})
         SELECT id, id, NULL, event_type, idempotency_key, payload, headers, target, ordering_key, 'Failure', reason, attempts, attempts, dead_at, NULL, NULL,
           created_at, dead_at
         FROM ${s}.outbox_dead_letters ORDER BY dead_at;
       END IF;
     END $$`,
    `DROP TABLE IF EXISTS ${s}.outbox_messages`,
    `DROP TABLE IF EXISTS ${s}.outbox_dead_letters`,
    // claim(): "is there an earlier unfinished delivery of this key?" is one index probe.
    `CREATE INDEX IF NOT EXISTS deliveries_chain_idx ON ${s}.deliveries (ordering_key, seq) WHERE ordering_key IS NOT NULL AND ${unfinished}`,
    // stats(): the failed hand-overs (the dead letters) are counted from an index.
    `CREATE INDEX IF NOT EXISTS deliveries_failed_hand_overs_idx ON ${s}.deliveries (uid) WHERE endpoint_id IS NULL AND status = 'Failure'`,
    `UPDATE ${s}.endpoints SET secrets = coalesce((
       SELECT jsonb_agg(x.secret || jsonb_build_object('created_at', ${toMs('created_at')}, 'expires_at', ${toMs('expires_at')}) ORDER BY x.n)
       FROM jsonb_array_elements(secrets) WITH ORDINALITY AS x(secret, n)), '[]'::jsonb)`,
  ];
}

/**
 * Version 3: retention. prune() finds the oldest finished deliveries, attempts and events from these indexes, so a
 * run reads what it deletes rather than the whole log. Indexes only: additive.
 */
function retention(s: string): string[] {
  return [
    `CREATE INDEX IF NOT EXISTS deliveries_finished_idx ON ${s}.deliveries (updated_at, uid) WHERE status IN ('Success', 'Failure', 'Discarded')`,
    `CREATE INDEX IF NOT EXISTS delivery_attempts_seq_idx ON ${s}.delivery_attempts (seq)`,
    `CREATE INDEX IF NOT EXISTS events_created_idx ON ${s}.events (created_at, uid)`,
  ];
}

/**
 * Version 4: the trace context travels with the event. The W3C `traceparent` and `tracestate` of the publish span
 * (OpenTelemetry), so that an attempt made by another process, or after a restart, links back to it. Nullable
 * columns only: additive, and instant (no rewrite of the table).
 */
function traceContext(s: string): string[] {
  return [
    `ALTER TABLE ${s}.deliveries ADD COLUMN IF NOT EXISTS traceparent text, ADD COLUMN IF NOT EXISTS tracestate text`,
  ];
}

const DEFINITIONS: Array<{ version: number; name: string; statements: (quotedSchema: string) => string[] }> = [
  { version: 1, name: 'initial', statements: initial },
  { version: 2, name: 'one-pipeline', statements: onePipeline },
  { version: 3, name: 'retention', statements: retention },
  { version: 4, name: 'trace-context', statements: traceContext },
];

/** The shipped migrations for `schema`, in the order they must be applied. */
export function migrations(schema: string = DEFAULT_SCHEMA): Migration[] {
  const s = quoteSchema(schema);
  return DEFINITIONS.map(({ version, name, statements }) => {
    const list = statements(s);
    return { version, name, statements: list, sql: toScript(list) };
  });
}

/** The tables the stores write (what tests empty between cases). */
export const STORAGE_TABLES = ['endpoints', 'events', 'deliveries', 'delivery_attempts'] as const;

/**
 * Everything as one script, for your own migration tool (or `psql -f`): the schema, every migration, and the rows of
 * `schema_migrations` that tell checkSchema() they are applied. Safe to run on a schema that already has them.
 */
export function migrationSql(schema: string = DEFAULT_SCHEMA): string {
  const s = quoteSchema(schema);
  const parts = [...bootstrapStatements(schema)];
  for (const m of migrations(schema)) {
    parts.push(`-- ${m.version}: ${m.name}`, ...m.statements);
    parts.push(
      `INSERT INTO ${s}.schema_migrations (version, name, applied_at) VALUES (${m.version}, '${m.name}', (extract(epoch FROM clock_timestamp()) * 1000)::bigint) ON CONFLICT (version) DO NOTHING`,
    );
  }
  return toScript(parts);
}

function toScript(statements: string[]): string {
  return statements.map((st) => (st.startsWith('--') ? st : `${st};`)).join('\n\n') + '\n';
}
