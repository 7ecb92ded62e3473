/**
 * The embedded engine with a registered catalog: an endpoint's `event_types` may name only the catalog's types, "*",
 * and patterns matching one of them, on create, update and replace; a refused request changes nothing. Without a
 * catalog, any type is accepted as before.
 */
import { z } from 'zod';
import { defineWebhookEvents, InvalidEndpointError } from '../../lib/index.js';
import { Harness } from '../support/embedded-app.js';

const todo = z.object({ id: z.number() });
const events = defineWebhookEvents({ 'todo.created': todo, 'todo.deleted': todo, 'invoice.paid': todo });

describe('embedded engine: endpoint event_types checked against the catalog', () => {
  const harness = new Harness();
  afterEach(() => harness.cleanup());

  const refusal = (promise: Promise<unknown>) =>
    promise.then(
      () => undefined,
      (e: unknown) => e as InvalidEndpointError,
    );

  it('accepts "*", catalog types and patterns matching one; refuses the rest on create, naming them and the known ones', async () => {
    const { endpoints } = await harness.embedded({}, { events });
    const receiver = await harness.receiver();
    const ok = await endpoints.create({
      name: 'ok',
      url: `${receiver.url}/ok`,
      event_types: ['*', 'todo.created', 'todo.*', 'invoice.**'],
    });
    expect(ok.event_types).toEqual(['*', 'todo.created', 'todo.*', 'invoice.**']);

    const typo = await refusal(
      endpoints.create({
        name: 'typo',
        url: `${receiver.url}/typo`,
        event_types: ['todo.created', 'todo.cretaed', 'billing.*'],
      }),
    );
    expect(typo).toBeInstanceOf(InvalidEndpointError);
    expect(typo).toMatchObject({ field: 'event_types' });
    expect(typo!.message).toBe(
      'Invalid endpoint: event_types names event types that are not in the event catalog: "todo.cretaed", "billing.*" ' +
        '(known: "*", "todo.created", "todo.deleted", "invoice.paid"; a pattern such as "todo.*" must match one of them)',
    );
    expect((await endpoints.list()).content.map((e) => e.name)).toEqual(['ok']); // nothing stored
  });

  it('update and replace are checked too, and a refused one leaves the endpoint as it was', async () => {
    const { endpoints } = await harness.embedded({}, { events });
    const receiver = await harness.receiver();
    const created = await endpoints.create({ name: 'e', url: receiver.url, event_types: ['todo.created'] });
    expect(await refusal(endpoints.update(created.uid, { event_types: ['todo.updated'] }))).toMatchObject({
      field: 'event_types',
      message: expect.stringContaining('"todo.updated"'),
    });
    expect(
      await refusal(endpoints.replace(created.uid, { name: 'e', url: receiver.url, event_types: ['invoice.void'] })),
    ).toMatchObject({ field: 'event_types', message: expect.stringContaining('"invoice.void"') });
    expect((await endpoints.get(created.uid)).event_types).toEqual(['todo.created']);
    expect((await endpoints.update(created.uid, { event_types: ['todo.deleted'] })).event_types).toEqual([
      'todo.deleted',
    ]);
  });

  it('a long catalog is listed truncated', async () => {
    const many = defineWebhookEvents(Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`type.n${i}`, todo])));
    const { endpoints } = await harness.embedded({}, { events: many });
    const receiver = await harness.receiver();
    const error = await refusal(endpoints.create({ name: 'x', url: receiver.url, event_types: ['type.n30'] }));
    expect(error!.message).toContain('"type.n19" and 10 more;');
    expect(error!.message).not.toContain('"type.n20"');
  });

  it('without a catalog, any event type is accepted', async () => {
    const { endpoints } = await harness.embedded();
    const receiver = await harness.receiver();
    const created = await endpoints.create({ name: 'any', url: receiver.url, event_types: ['todo.cretaed'] });
    expect(created.event_types).toEqual(['todo.cretaed']);
  });
});
