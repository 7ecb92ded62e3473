import type { StandardJSONSchemaV1, StandardSchemaV1 } from '@standard-schema/spec';
import { ConvoyConfigurationError } from '../errors/configuration.error.js';
import { WebhookValidationError } from '../errors/publish.errors.js';
import { validateEventType } from '../publishing/validate-webhook.js';
import { describeValue } from '../utils/describe-value.js';

/** A JSON Schema (draft 2020-12, the dialect of OpenAPI 3.1) as a plain object. */
export type JsonSchema = Record<string, unknown>;

/** One event type of a catalog: the schema of its payload, and what the documents say about it. */
export interface WebhookEventDefinition<Schema extends StandardSchemaV1 | JsonSchema = StandardSchemaV1 | JsonSchema> {
  /** A Standard Schema (zod, valibot, arktype…), or a plain JSON Schema (run-time validation then needs `ajv`). */
  schema: Schema;
  /** What happened, for the customers who receive it (OpenAPI `description`, Convoy's event type description). */
  description?: string;
  /** A group of event types, e.g. `'todos'` (OpenAPI tag, Convoy's event type category). */
  category?: string;
  /** A payload as the receiver gets it, for the documents. */
  example?: unknown;
  /** The payload's JSON Schema for the documents, when `schema` cannot give one itself (no Standard JSON Schema). */
  jsonSchema?: JsonSchema;
}

/** The payload type of a catalog entry: a Standard Schema's input type, `unknown` for a plain JSON Schema. */
type PayloadOf<Entry> = Entry extends StandardSchemaV1
  ? StandardSchemaV1.InferInput<Entry>
  : Entry extends { schema: infer Schema }
    ? Schema extends StandardSchemaV1
      ? StandardSchemaV1.InferInput<Schema>
      : unknown
    : unknown;

/**
 * The event types an application publishes, each with its payload schema: made by defineWebhookEvents(), registered
 * with `ConvoyModule.forRoot({ events })`, and typing `WebhookPublisher<typeof catalog>` and `emitsWebhookFor(catalog)`.
 */
export interface WebhookEventCatalog<Payloads extends Record<string, unknown> = Record<string, unknown>> {
  /** Each event type's definition, in the order given. */
  readonly events: Readonly<Record<string, WebhookEventDefinition>>;
  /** Carries the payload type of each event type for the compiler; always undefined at run time. */
  readonly types?: Payloads;
}

/** The event types of a catalog (`string` for the default, untyped catalog). */
export type EventTypeOf<Catalog extends WebhookEventCatalog> = keyof NonNullable<Catalog['types']> & string;
/** The payload type of one event type of a catalog. */
export type EventPayloadOf<Catalog extends WebhookEventCatalog, Type extends string> = NonNullable<
  Catalog['types']
>[Type];

/**
 * Declares the event types an application publishes and the schema of each payload.
 *
 *   export const todoEvents = defineWebhookEvents({
 *     'todo.created': { schema: todoSchema, description: 'A todo was created', category: 'todos', example },
 *     'todo.deleted': todoSchema, // a schema alone is fine too
 *   });
 *
 * A schema is any Standard Schema (zod, valibot, arktype…) or a plain JSON Schema object.
 */
export function defineWebhookEvents<
  const Events extends Record<string, StandardSchemaV1 | JsonSchema | WebhookEventDefinition>,
>(events: Events): WebhookEventCatalog<{ [Type in keyof Events & string]: PayloadOf<Events[Type]> }> {
  if (events === null || typeof events !== 'object' || Array.isArray(events))
    throw new ConvoyConfigurationError(
      'events',
      `expected an object of event types, got ${describeValue(events)}`,
      fix,
    );
  const definitions: Record<string, WebhookEventDefinition> = {};
  for (const [type, entry] of Object.entries(events)) {
    const at = `events["${type}"]`;
    try {
      validateEventType(type);
    } catch (error) {
      if (error instanceof WebhookValidationError) throw new ConvoyConfigurationError(at, error.reason, fix);
      throw error;
    }
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry))
      throw new ConvoyConfigurationError(at, `expected a schema or { schema, … }, got ${describeValue(entry)}`, fix);
    const definition = isStandardSchema(entry) || !('schema' in entry) ? { schema: entry } : entry;
    if (definition.schema === null || typeof definition.schema !== 'object' || Array.isArray(definition.schema))
      throw new ConvoyConfigurationError(
        `${at}.schema`,
        `expected a schema, got ${describeValue(definition.schema)}`,
        fix,
      );
    definitions[type] = definition as WebhookEventDefinition;
  }
  return { events: definitions };
}

const fix =
  "pass { 'todo.created': schema, … }: event type names to a Standard Schema, a JSON Schema or { schema, description?, category?, example? }";

/** A catalog as defineWebhookEvents() makes it (from either build of the package). */
export function isWebhookEventCatalog(value: unknown): value is WebhookEventCatalog {
  const events = (value as WebhookEventCatalog | null)?.events;
  return (
    events !== null &&
    typeof events === 'object' &&
    Object.values(events).every((d) => d !== null && typeof d === 'object' && typeof d.schema === 'object')
  );
}

export function isStandardSchema(schema: unknown): schema is StandardSchemaV1 {
  const standard = (schema as Partial<StandardSchemaV1> | null)?.['~standard'];
  return typeof standard === 'object' && standard !== null && typeof standard.validate === 'function';
}

/**
 * The JSON Schema of an event's payload, for the documents: `jsonSchema` if given, a plain JSON Schema as it is, or
 * the Standard Schema's own (Standard JSON Schema, e.g. zod 4) of its output (what publish() sends once validated).
 */
export function jsonSchemaOf(type: string, definition: WebhookEventDefinition): JsonSchema {
  if (definition.jsonSchema) return definition.jsonSchema;
  const schema = definition.schema;
  if (!isStandardSchema(schema)) return schema;
  const converter = (schema['~standard'] as Partial<StandardJSONSchemaV1.Props>).jsonSchema;
  if (typeof converter?.output !== 'function')
    throw new ConvoyConfigurationError(
      `events["${type}"].jsonSchema`,
      `is needed: the ${schema['~standard'].vendor} schema cannot give its JSON Schema (it does not implement Standard JSON Schema)`,
      "pass { schema, jsonSchema } with the payload's JSON Schema, e.g. from your schema library's converter",
    );
  const { $schema: _, ...jsonSchema } = converter.output({ target: 'draft-2020-12' });
  return jsonSchema;
}
