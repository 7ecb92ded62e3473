import type { StandardSchemaV1 } from '@standard-schema/spec';
import { WebhookValidationError } from '../errors/publish.errors.js';
import { importOptional } from '../utils/optional-import.js';
import { isStandardSchema, type JsonSchema, type WebhookEventCatalog } from './webhook-events.js';

/** What a registered catalog does with a payload that does not match: throw, log and send, or not check at all. */
export type EventValidation = 'reject' | 'log' | 'off';

/** Checks one publish against the catalog; returns the data to send (the schema's output), maybe as a Promise. */
export type PayloadCheck = (eventType: string, data: unknown) => unknown;

type Validate = (data: unknown) => StandardSchemaV1.Result<unknown> | Promise<StandardSchemaV1.Result<unknown>>;

/**
 * The publisher's check of a registered catalog (none without one, or with `'off'`). Plain JSON Schemas are compiled
 * once here with ajv (an optional peer: only apps that validate plain JSON Schemas install it).
 */
export async function payloadCheck(
  catalog: WebhookEventCatalog | undefined,
  mode: EventValidation,
  warn: (message: string) => void,
): Promise<PayloadCheck | undefined> {
  if (!catalog || mode === 'off') return undefined;
  const validators = new Map<string, Validate>();
  let compile: ((schema: JsonSchema) => Validate) | undefined;
  for (const [type, { schema }] of Object.entries(catalog.events)) {
    if (isStandardSchema(schema)) {
      // Read once: a vendor may compute its Standard Schema surface in a getter.
      const standard = schema['~standard'];
      validators.set(type, (data) => standard.validate(data));
    } else {
      compile ??= await jsonSchemaCompiler();
      validators.set(type, compile(schema));
    }
  }
  const known = [...validators.keys()].join(', ');
  const refuse = (error: WebhookValidationError, data: unknown): unknown => {
    if (mode === 'reject') throw error;
    warn(`${error.message} (sent anyway: eventValidation is 'log')`);
    return data;
  };
  const settle = (type: string, data: unknown, result: StandardSchemaV1.Result<unknown>): unknown => {
    if (!result.issues) return result.value;
    const issues = result.issues.map((issue) => ({ path: pathOf(issue.path), message: issue.message }));
    const [first] = issues;
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
    const reason = `does not match the catalog's schema of "${type}": ${first?.message ?? 'invalid'}${more}`;
    return refuse(new WebhookValidationError(first?.path ?? 'data', reason, issues), data);
  };
  return (eventType, data) => {
    const validate = validators.get(eventType);
    if (!validate) {
      const reason = `"${eventType}" is not in the event catalog; add it to defineWebhookEvents() (known: ${known})`;
      return refuse(new WebhookValidationError('eventType', reason), data);
    }
    const result = validate(data);
    return result instanceof Promise ? result.then((r) => settle(eventType, data, r)) : settle(eventType, data, result);
  };
}

/** `data.items[2].total` from a Standard Schema issue path. */
function pathOf(path: StandardSchemaV1.Issue['path']): string {
  let out = 'data';
  for (const segment of path ?? []) {
    const key = typeof segment === 'object' ? segment.key : segment;
    if (typeof key === 'number') out += `[${key}]`;
    else if (typeof key === 'string' && /^[A-Za-z_$][\w$]*$/.test(key)) out += `.${key}`;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out;
}

interface AjvError {
  instancePath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
}
type AjvValidate = ((data: unknown) => boolean) & { errors?: AjvError[] | null };
type AjvClass = new (options: object) => { compile(schema: object): AjvValidate };

/** Draft 2020-12 (OpenAPI 3.1's dialect); `format` stays an annotation, as that draft defines it. */
async function jsonSchemaCompiler(): Promise<(schema: JsonSchema) => Validate> {
  const module = await importOptional(() => import('ajv/dist/2020.js'), 'ajv', 'events');
  // A CommonJS module: its class is `default` of the exports, whichever way the build loaded them.
  const exported = module.default as unknown as AjvClass & { default?: AjvClass };
  const Ajv = exported.default ?? exported;
  const ajv = new Ajv({ strict: false, validateFormats: false });
  return (schema) => {
    const validate = ajv.compile(schema);
    return (data) => {
      if (validate(data)) return { value: data };
      return { issues: (validate.errors ?? []).map(issueOf) };
    };
  };
}

/** An ajv error as a Standard Schema issue: its JSON Pointer as a path, a missing property at the end of it. */
function issueOf(error: AjvError): StandardSchemaV1.Issue {
  const path: PropertyKey[] = error.instancePath
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((part) => (/^\d+$/.test(part) ? Number(part) : part));
  if (error.keyword === 'required') path.push(String(error.params.missingProperty));
  return { path, message: error.message ?? error.keyword };
}
