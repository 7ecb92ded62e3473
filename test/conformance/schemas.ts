/**
 * JSON Schemas derived, at test time, from the client's declared types (response-types.ts, which names
 * lib/client/convoy.types.ts), with ts-json-schema-generator; validated with ajv. Strict on purpose:
 * - a property the type does not declare fails (additionalProperties: false), so every field Convoy sends is typed;
 * - a declared-required property must be present, and `null` only passes where the type says `| null`.
 * Nothing here runs in the library: both packages are devDependencies.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';
import { createGenerator } from 'ts-json-schema-generator';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');

let definitions: Record<string, unknown> | undefined;
const validators = new Map<string, ValidateFunction>();
let ajv: Ajv | undefined;

/** All definitions reachable from RouteResponses and ConvoyErrorEnvelope (generated once per process: ~2 s). */
function schemaDefinitions(): Record<string, unknown> {
  if (definitions) return definitions;
  const generator = createGenerator({
    path: join(here, 'response-types.ts'),
    tsconfig: join(root, 'tsconfig.json'),
    skipTypeCheck: true, // npm run typecheck does that
    expose: 'all',
    topRef: false,
    additionalProperties: false,
    jsDoc: 'none',
  });
  definitions = {
    ...(generator.createSchema('RouteResponses').definitions ?? {}),
    ...(generator.createSchema('ConvoyErrorEnvelope').definitions ?? {}),
    RouteResponses: generator.createSchema('RouteResponses'),
    ConvoyErrorEnvelope: generator.createSchema('ConvoyErrorEnvelope'),
  };
  for (const key of ['RouteResponses', 'ConvoyErrorEnvelope'])
    delete (definitions[key] as { definitions?: unknown }).definitions;
  return definitions;
}

/** The routes RouteResponses declares, e.g. "GET /endpoints/{endpointID}". */
export function declaredRoutes(): string[] {
  const routes = schemaDefinitions().RouteResponses as { properties: Record<string, unknown> };
  return Object.keys(routes.properties);
}

/** A validator of a route's 2xx `data`, or of Convoy's error envelope (`route` = 'error'). */
export function validatorFor(route: string): ValidateFunction {
  const cached = validators.get(route);
  if (cached) return cached;
  const defs = schemaDefinitions();
  ajv ??= new Ajv({ allErrors: true, strict: false });
  let schema: Record<string, unknown>;
  if (route === 'error') schema = { ...(defs.ConvoyErrorEnvelope as object), definitions: defs };
  else {
    const declared = (defs.RouteResponses as { properties: Record<string, object> }).properties[route];
    if (!declared) throw new Error(`response-types.ts declares no type for ${route}`);
    schema = { ...declared, definitions: defs };
  }
  const validate = ajv.compile(schema);
  validators.set(route, validate);
  return validate;
}

/** Ajv's errors as short lines, e.g. "/content/0/cb_state must be string". */
export function describeErrors(validate: ValidateFunction): string[] {
  return (validate.errors ?? []).map(
    (e) =>
      `${e.instancePath || '(data)'} ${e.message}${e.params && 'additionalProperty' in e.params ? `: ${String(e.params.additionalProperty)}` : ''}`,
  );
}
