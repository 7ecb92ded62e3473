import { Validator } from '@seriousme/openapi-schema-validator';
import { defineWebhookEvents, webhooksOpenApi, type WebhooksOpenApiOptions } from '../../../lib/index.js';
import { isStandardSchema } from '../../../lib/catalog/webhook-events.js';
import { todoEvents } from '../../../sample/todos/todo.events.js';

/** The OpenAPI 3.1 document of a catalog's webhooks, checked by an OpenAPI validator. */

const options: WebhooksOpenApiOptions = { title: 'Todo webhooks', version: '1.0.0' };

interface Operation {
  tags?: string[];
  description?: string;
  parameters: Array<{ name: string; in: string; required: boolean }>;
  requestBody: { content: { 'application/json': { schema: Record<string, unknown>; example?: unknown } } };
}
const operations = (document: Record<string, unknown>) =>
  Object.entries(document.webhooks as Record<string, { post: Operation }>).map(
    ([type, item]) => [type, item.post] as const,
  );

async function validate(document: unknown) {
  return new Validator().validate(JSON.parse(JSON.stringify(document)) as Record<string, unknown>);
}

describe('webhooksOpenApi()', () => {
  it("documents the sample's catalog as a valid OpenAPI 3.1 document, one webhook per event type", async () => {
    const document = webhooksOpenApi(todoEvents, options);
    expect(await validate(document)).toEqual({ valid: true });
    expect(document).toMatchObject({ openapi: '3.1.1', info: options, tags: [{ name: 'health' }, { name: 'todos' }] });
    expect(operations(document).map(([type]) => type)).toEqual(Object.keys(todoEvents.events));
    const [, created] = operations(document).find(([type]) => type === 'todo.created')!;
    expect(created).toMatchObject({ tags: ['todos'], description: 'A todo was created.' });
    const body = created.requestBody.content['application/json'];
    expect(body.schema).toMatchObject({
      type: 'object',
      required: ['id', 'item', 'completed', 'created_at', 'updated_at'],
      properties: { created_at: { type: 'string', format: 'date-time' } },
    });
    expect(body.schema).not.toHaveProperty('$schema');
    expect(body.example).toEqual(todoEvents.events['todo.created']!.example);
  });

  it("each example of the sample's catalog matches its own schema", async () => {
    for (const [type, definition] of Object.entries(todoEvents.events)) {
      if (!isStandardSchema(definition.schema)) throw new Error(`${type}: expected a zod schema`);
      const result = await definition.schema['~standard'].validate(definition.example);
      expect([type, result.issues]).toEqual([type, undefined]);
    }
  });

  it('names the headers of the chosen signature scheme, as the signers set them', () => {
    const names = (signature: 'convoy' | 'standard') =>
      operations(webhooksOpenApi(todoEvents, { ...options, signature }))[0]![1].parameters.map((p) => [p.name, p.in]);
    expect(names('convoy')).toEqual([
      ['X-Convoy-Signature', 'header'],
      ['X-Convoy-Idempotency-Key', 'header'],
    ]);
    expect(names('standard')).toEqual([
      ['webhook-id', 'header'],
      ['webhook-timestamp', 'header'],
      ['webhook-signature', 'header'],
      ['X-Convoy-Idempotency-Key', 'header'],
    ]);
  });

  it('the validator does catch a broken document (so the passes above mean something)', async () => {
    const document = webhooksOpenApi(todoEvents, options) as { webhooks: Record<string, { post: object }> };
    document.webhooks['todo.created']!.post = { ...document.webhooks['todo.created']!.post, responses: 'none' };
    expect((await validate(document)).valid).toBe(false);
  });

  it('takes a plain JSON Schema as it is, and `jsonSchema` for a Standard Schema that cannot convert itself', async () => {
    const opaque = {
      '~standard': { version: 1 as const, vendor: 'opaque', validate: (value: unknown) => ({ value }) },
    };
    const jsonSchema = { type: 'object', properties: { id: { type: 'string' } } };
    const catalog = defineWebhookEvents({
      'invoice.paid': { type: 'object', required: ['id'] },
      'invoice.voided': { schema: opaque, jsonSchema },
    });
    const document = webhooksOpenApi(catalog, options);
    expect(await validate(document)).toEqual({ valid: true });
    expect(operations(document).map(([, op]) => op.requestBody.content['application/json'].schema)).toEqual([
      { type: 'object', required: ['id'] },
      jsonSchema,
    ]);
    expect(() => webhooksOpenApi(defineWebhookEvents({ 'invoice.voided': opaque }), options)).toThrow(
      /events\["invoice\.voided"\]\.jsonSchema": is needed: the opaque schema cannot give its JSON Schema/,
    );
  });

  it('refuses a missing title or version, and an unknown scheme', () => {
    expect(() => webhooksOpenApi(todoEvents, { version: '1' } as WebhooksOpenApiOptions)).toThrow(
      /"title": must be a non-empty string, got undefined/,
    );
    expect(() => webhooksOpenApi(todoEvents, { ...options, version: ' ' })).toThrow(/"version": must be a non-empty/);
    expect(() => webhooksOpenApi(todoEvents, { ...options, signature: 'svix' as never })).toThrow(
      /"signature": expected "convoy" or "standard", got a string/,
    );
  });
});
