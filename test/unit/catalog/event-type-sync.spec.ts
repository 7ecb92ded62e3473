/**
 * syncEventTypes() against the fake Convoy, which keeps event types as the real one does (test/conformance): a "*"
 * type in every project, unique names, updates that keep a field sent empty or left out, deprecation that nothing
 * takes back.
 */
import { z } from 'zod';
import { ConvoyClient, EventTypeSyncError, syncEventTypes } from '../../../lib/client/index.js';
import { ConvoyConfigurationError, defineWebhookEvents } from '../../../lib/index.js';
import { FakeConvoy } from '../../support/fake-convoy.js';

const todo = z.object({ id: z.number().int(), item: z.string() });

describe('syncEventTypes()', () => {
  let fake: FakeConvoy;
  let client: ConvoyClient;
  beforeEach(async () => {
    fake = await FakeConvoy.start();
    client = new ConvoyClient({ ...fake.clientOptions, retry: false });
  });
  afterEach(async () => {
    await client.close();
    await fake.close();
  });

  const writes = () => fake.requests.filter((r) => r.route.startsWith('/event-types') && r.method !== 'GET');
  const stored = (name: string) => [...fake.eventTypes.values()].find((t) => t.name === name);
  const v1 = defineWebhookEvents({
    'todo.created': { schema: todo, description: 'A todo was created.', category: 'todos' },
    'todo.deleted': { schema: todo.pick({ id: true }), category: 'todos' },
    'todo.archived': { type: 'object', required: ['id'] }, // a plain JSON Schema
  });

  it('creates the missing event types with their description, category and JSON Schema; "*" stays', async () => {
    const report = await syncEventTypes(client, v1);
    expect(report).toEqual({
      created: ['todo.created', 'todo.deleted', 'todo.archived'],
      updated: [],
      deprecated: [],
      unchanged: [],
      changes: {},
      deprecatedInConvoy: [],
    });
    expect(writes().map((r) => `${r.method} ${r.route}`)).toEqual([
      'POST /event-types',
      'POST /event-types',
      'POST /event-types',
    ]);
    expect(writes()[0]!.body).toEqual({
      name: 'todo.created',
      description: 'A todo was created.',
      category: 'todos',
      json_schema: {
        type: 'object',
        properties: {
          id: { type: 'integer', minimum: -9007199254740991, maximum: 9007199254740991 },
          item: { type: 'string' },
        },
        required: ['id', 'item'],
        additionalProperties: false,
      },
    });
    expect(writes()[1]!.body).not.toHaveProperty('description'); // none in the catalog: Convoy's default ""
    expect(stored('todo.archived')).toMatchObject({ json_schema: { type: 'object', required: ['id'] } });
    expect(stored('*')).toMatchObject({ deprecated_at: null });
  });

  it('is idempotent: a second run sends nothing and reports everything unchanged', async () => {
    await syncEventTypes(client, v1);
    const before = writes().length;
    // Convoy stores the schema as jsonb, which reorders keys: not a change.
    const created = stored('todo.created')!;
    created.json_schema = Object.fromEntries(Object.entries(created.json_schema).reverse());
    const again = await syncEventTypes(client, v1);
    expect(again).toMatchObject({
      created: [],
      updated: [],
      deprecated: [],
      unchanged: ['todo.created', 'todo.deleted', 'todo.archived'],
    });
    expect(writes()).toHaveLength(before);
  });

  it('updates what changed (only those fields), deprecates what the catalog dropped, never deletes', async () => {
    await syncEventTypes(client, v1);
    const v2 = defineWebhookEvents({
      'todo.created': { schema: todo, description: 'A todo was added.', category: 'todos' },
      'todo.deleted': { schema: todo.pick({ id: true, item: true }), category: 'todos' },
    });
    const before = writes().length;
    const report = await syncEventTypes(client, v2);
    expect(report).toMatchObject({
      created: [],
      updated: ['todo.created', 'todo.deleted'],
      deprecated: ['todo.archived'],
      unchanged: [],
      changes: { 'todo.created': ['description'], 'todo.deleted': ['json_schema'] },
    });
    const sent = writes().slice(before);
    expect(sent.map((r) => `${r.method} ${r.route.replace(/\/01\w+/, '/{id}')}`)).toEqual([
      'PUT /event-types/{id}',
      'PUT /event-types/{id}',
      'POST /event-types/{id}/deprecate',
    ]);
    expect(sent[0]!.body).toEqual({ description: 'A todo was added.' });
    expect(stored('todo.deleted')!.json_schema.required).toEqual(['id', 'item']);
    expect(stored('todo.archived')!.deprecated_at).toEqual(expect.any(String));
    expect(stored('*')!.deprecated_at).toBeNull();
    expect(fake.eventTypes.size).toBe(4); // nothing deleted

    // Again: nothing to do, and the deprecated type is not deprecated a second time.
    const after = writes().length;
    expect(await syncEventTypes(client, v2)).toMatchObject({ updated: [], deprecated: [], created: [] });
    expect(writes()).toHaveLength(after);
  });

  it('a catalog entry back after its deprecation is reported (Convoy cannot take it back), not created again', async () => {
    await syncEventTypes(client, v1);
    await syncEventTypes(client, defineWebhookEvents({ 'todo.created': v1.events['todo.created']! }));
    const report = await syncEventTypes(client, v1);
    expect(report.created).toEqual([]);
    expect(report.deprecatedInConvoy).toEqual(['todo.deleted', 'todo.archived']);
    expect(report.unchanged).toEqual(['todo.created', 'todo.deleted', 'todo.archived']);
  });

  it('a description or category dropped from the catalog is no change (Convoy keeps it on update)', async () => {
    await syncEventTypes(client, v1);
    const bare = defineWebhookEvents({ ...v1.events, 'todo.created': { schema: todo } });
    const before = writes().length;
    expect((await syncEventTypes(client, bare)).unchanged).toContain('todo.created');
    expect(writes()).toHaveLength(before);
  });

  it('dryRun reports the same changes and sends only the list', async () => {
    await syncEventTypes(client, v1);
    const v2 = defineWebhookEvents({
      'todo.created': { schema: todo, description: 'Changed.' },
      'todo.renamed': { schema: todo },
    });
    const before = fake.requests.length;
    const report = await syncEventTypes(client, v2, { dryRun: true });
    expect(report).toMatchObject({
      created: ['todo.renamed'],
      updated: ['todo.created'],
      deprecated: ['todo.archived', 'todo.deleted'], // by name
    });
    expect(fake.requests.slice(before).map((r) => `${r.method} ${r.route}`)).toEqual(['GET /event-types']);
  });

  it("Convoy refusing a change: EventTypeSyncError naming the type, the step and Convoy's answer, what was done before", async () => {
    // Convoy validates json_schema on create; an invalid schema is refused with 400.
    const bad = defineWebhookEvents({
      'todo.created': { schema: todo },
      'todo.broken': { type: 7 as unknown as string },
      'todo.never': { schema: todo },
    });
    const error = (await syncEventTypes(client, bad).catch((e: unknown) => e)) as EventTypeSyncError;
    expect(error).toBeInstanceOf(EventTypeSyncError);
    expect(error).toMatchObject({
      eventType: 'todo.broken',
      operation: 'create',
      retryable: false,
      done: { created: ['todo.created'], updated: [], deprecated: [] },
    });
    expect(error.message).toMatch(
      /^Could not create event type "todo\.broken" in Convoy: Convoy answered 400 .*invalid JSON schema/,
    );
    expect(error.message).not.toContain(fake.apiKey);
    expect(stored('todo.never')).toBeUndefined(); // stopped at the first failure

    // An unreachable Convoy while listing: retryable, no event type named.
    fake.setRule(() => ({ status: 503 }));
    const down = (await syncEventTypes(client, v1).catch((e: unknown) => e)) as EventTypeSyncError;
    fake.setRule(undefined);
    expect(down).toMatchObject({ eventType: undefined, operation: 'list', retryable: true });
    expect(down.message).toMatch(/^Could not list the event types in Convoy: Convoy answered 503/);
  });

  it('a schema without a JSON Schema stops the sync before anything is sent; an empty catalog is refused', async () => {
    const opaque = {
      '~standard': { version: 1, vendor: 'custom', validate: (value: unknown) => ({ value }) },
    } as const;
    const catalog = defineWebhookEvents({ 'todo.created': { schema: todo }, 'todo.opaque': { schema: opaque } });
    const error = await syncEventTypes(client, catalog).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EventTypeSyncError);
    expect(error).toMatchObject({ eventType: 'todo.opaque', operation: 'schema' });
    expect((error as Error).message).toMatch(/Cannot sync event type "todo\.opaque": .*jsonSchema/);
    expect(fake.requests.filter((r) => r.route.startsWith('/event-types'))).toEqual([]);

    await expect(syncEventTypes(client, defineWebhookEvents({}))).rejects.toThrow(ConvoyConfigurationError);
    expect(fake.requests.filter((r) => r.route.startsWith('/event-types'))).toEqual([]);
  });
});
