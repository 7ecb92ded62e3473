import { Logger } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { z } from 'zod';
import {
  ConvoyConfigurationError,
  defineWebhookEvents,
  emitsWebhookFor,
  WebhookPublisher,
  WebhookValidationError,
  type WebhookEventCatalog,
} from '../../../lib/index.js';
import type { EventValidation } from '../../../lib/catalog/payload-validation.js';
import { resolveModuleOptions } from '../../../lib/options/convoy-module-options.js';
import { ConvoyTestingModule, RecordingTransport } from '../../../lib/testing/index.js';
import { todoEvents } from '../../../sample/todos/todo.events.js';
import { recordingLogger, type LogLine } from '../../support/recording-logger.js';

/** publish() against a registered catalog: what is refused (with the path), logged, sent, and what changes nothing. */

const todo = {
  id: 1,
  item: 'Buy milk',
  completed: false,
  created_at: '2026-01-01T09:00:00.000Z',
  updated_at: '2026-01-01T09:00:00.000Z',
};

/** An app with the recording transport and this catalog; its publisher untyped, to send what tsc would refuse. */
async function start(events: WebhookEventCatalog | undefined, eventValidation?: EventValidation) {
  const logs: LogLine[] = [];
  const moduleRef = await Test.createTestingModule({
    imports: [ConvoyTestingModule.forRoot({ events, eventValidation })],
  }).compile();
  Logger.overrideLogger(recordingLogger(logs));
  const app = await moduleRef.init();
  return {
    publisher: app.get(WebhookPublisher) as WebhookPublisher,
    recorder: app.get(RecordingTransport),
    logs,
    close: () => app.close(),
  };
}

let running: Awaited<ReturnType<typeof start>> | undefined;
const startApp = async (...args: Parameters<typeof start>) => (running = await start(...args));
afterEach(async () => {
  await running?.close();
  running = undefined;
});

async function refusal(publish: Promise<unknown>): Promise<WebhookValidationError> {
  const error = await publish.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(WebhookValidationError);
  return error as WebhookValidationError;
}

describe('a registered catalog, eventValidation "reject" (the default outside production)', () => {
  it('refuses a wrong payload with the path of the problem, and sends nothing', async () => {
    const { publisher, recorder } = await startApp(todoEvents);
    const error = await refusal(publisher.publish('todo.created', { ...todo, item: 42 }));
    expect(error.field).toBe('data.item');
    expect(error.message).toMatch(/todo\.created.*expected string/);
    expect(error.issues).toEqual([{ path: 'data.item', message: expect.stringMatching(/expected string/) }]);
    await publisher.flush();
    expect(recorder.sent).toHaveLength(0);
  });

  it('names every problem, nested in arrays too', async () => {
    const { publisher } = await startApp(todoEvents);
    const error = await refusal(
      publisher.publish('todo.failure', { operation: 'archive', id: 1.5, status: 404, error: 'x' }),
    );
    expect(error.issues.map((i) => i.path)).toEqual(['data.operation', 'data.id']);
    expect(error.message).toContain('(and 1 more)');
    const nested = await refusal(
      publisher.publish('todo.retrieved', { todos: [todo, { ...todo, created_at: 'yesterday' }] }),
    );
    expect(nested.issues.map((i) => i.path)).toContain('data.todos[1].created_at');
  });

  it('refuses an event type outside the catalog, naming the known ones', async () => {
    const { publisher, recorder } = await startApp(todoEvents);
    const error = await refusal(publisher.publish('todo.cretaed', todo));
    expect(error.field).toBe('eventType');
    expect(error.message).toMatch(/"todo\.cretaed" is not in the event catalog.*todo\.created/);
    await publisher.flush();
    expect(recorder.sent).toHaveLength(0);
  });

  it("sends a valid payload as the schema's output (zod drops keys the schema does not name)", async () => {
    const { publisher, recorder } = await startApp(todoEvents);
    await publisher.publish('todo.created', { ...todo, password_hash: 'x' });
    await publisher.flush();
    expect(recorder.sent.map((w) => w.data)).toEqual([todo]);
  });

  it('awaits an asynchronous Standard Schema', async () => {
    const positive = {
      '~standard': {
        version: 1 as const,
        vendor: 'test',
        validate: async (value: unknown) =>
          typeof value === 'number' && value > 0
            ? { value }
            : { issues: [{ message: 'must be a positive number', path: [{ key: 'amount' }] }] },
      },
    };
    const { publisher, recorder } = await startApp(defineWebhookEvents({ 'payment.made': positive }));
    const error = await refusal(publisher.publish('payment.made', -1));
    expect(error.field).toBe('data.amount');
    await publisher.publish('payment.made', 5);
    await publisher.flush();
    expect(recorder.sent.map((w) => w.data)).toEqual([5]);
  });
});

describe('a plain JSON Schema, validated with ajv', () => {
  const invoices = defineWebhookEvents({
    'invoice.paid': {
      type: 'object',
      required: ['id', 'lines'],
      properties: {
        id: { type: 'string' },
        lines: { type: 'array', items: { type: 'object', properties: { total: { type: 'number' } } } },
        'paid at': { type: 'string', format: 'date-time' },
      },
    },
  });

  it('refuses a wrong payload with the path, a missing property included', async () => {
    const { publisher, recorder } = await startApp(invoices);
    const wrong = await refusal(
      publisher.publish('invoice.paid', { id: 'inv_1', lines: [{ total: 1 }, { total: '2' }] }),
    );
    expect(wrong.field).toBe('data.lines[1].total');
    expect(wrong.reason).toMatch(/must be number/);
    const missing = await refusal(publisher.publish('invoice.paid', { lines: [] }));
    expect(missing.field).toBe('data.id');
    const odd = await refusal(publisher.publish('invoice.paid', { id: 'inv_1', lines: [], 'paid at': 5 }));
    expect(odd.field).toBe('data["paid at"]');
    await publisher.publish('invoice.paid', { id: 'inv_1', lines: [{ total: 2 }], 'paid at': 'not checked' });
    await publisher.flush();
    expect(recorder.sent).toHaveLength(1); // format is an annotation in draft 2020-12
  });
});

describe('the other modes, and no catalog', () => {
  it('"log" warns (path and problem, not the data) and sends the payload as given', async () => {
    const { publisher, recorder, logs } = await startApp(todoEvents, 'log');
    await publisher.publish('todo.created', { ...todo, item: 'secret-ish', completed: 'yes' });
    await publisher.publish('todo.unknown', { any: 1 });
    await publisher.flush();
    expect(recorder.sent.map((w) => w.eventType)).toEqual(['todo.created', 'todo.unknown']);
    expect(recorder.sent[0]!.data).toMatchObject({ completed: 'yes' });
    const warnings = logs.filter((l) => l.level === 'warn').map((l) => l.message);
    expect(warnings).toEqual([
      expect.stringMatching(/data\.completed does not match.*sent anyway/),
      expect.stringMatching(/"todo\.unknown" is not in the event catalog.*sent anyway/),
    ]);
    expect(warnings.join()).not.toContain('secret-ish');
  });

  it('"off" checks nothing: the catalog only types and documents', async () => {
    const { publisher, recorder } = await startApp(todoEvents, 'off');
    await publisher.publish('todo.created', { item: 42 });
    await publisher.flush();
    expect(recorder.sent.map((w) => w.data)).toEqual([{ item: 42 }]);
  });

  it('without a catalog, any event type and data are sent as before', async () => {
    const { publisher, recorder } = await startApp(undefined);
    await publisher.publish('todo.cretaed', { item: 42, extra: true });
    await publisher.flush();
    expect(recorder.sent.map((w) => [w.eventType, w.data])).toEqual([['todo.cretaed', { item: 42, extra: true }]]);
  });
});

describe('options and definitions', () => {
  const warn = () => undefined;

  it("defaults eventValidation to 'reject', and to 'log' under NODE_ENV=production", () => {
    expect(resolveModuleOptions({ events: todoEvents }, warn).eventValidation).toBe('reject');
    const before = process.env.NODE_ENV;
    process.env.NODE_ENV = 'production';
    try {
      expect(resolveModuleOptions({ events: todoEvents }, warn).eventValidation).toBe('log');
    } finally {
      process.env.NODE_ENV = before;
    }
  });

  it('refuses what is not a catalog or a mode, and warns about a mode without a catalog', () => {
    expect(() => resolveModuleOptions({ events: { 'todo.created': z.string() } as never }, warn)).toThrow(
      /"events": expected a catalog from defineWebhookEvents/,
    );
    expect(() => resolveModuleOptions({ events: todoEvents, eventValidation: 'strict' as never }, warn)).toThrow(
      /"eventValidation": expected "reject", "log" or "off", got "strict"/,
    );
    const warnings: string[] = [];
    resolveModuleOptions({ eventValidation: 'log' }, (m) => warnings.push(m));
    expect(warnings).toEqual(['eventValidation has no effect: no events catalog is registered']);
  });

  it('defineWebhookEvents() refuses bad event types and entries, naming them', () => {
    expect(() => defineWebhookEvents({ ' todo.created': z.string() })).toThrow(ConvoyConfigurationError);
    expect(() => defineWebhookEvents({ ' todo.created': z.string() })).toThrow(/events\[" todo\.created"\]/);
    expect(() => defineWebhookEvents({ 'todo.created': 'string' as never })).toThrow(
      /events\["todo\.created"\]": expected a schema or \{ schema, … \}, got a string/,
    );
    expect(() => defineWebhookEvents({ 'todo.created': { schema: null } as never })).toThrow(
      /events\["todo\.created"\]\.schema": expected a schema/,
    );
  });

  it('emitsWebhookFor() refuses an event type outside the catalog when the class is declared', () => {
    const Emits = emitsWebhookFor(todoEvents) as unknown as (type: string, options?: object) => unknown;
    expect(() => Emits('todo.cretaed')).toThrow(/"todo\.cretaed" is not in the event catalog/);
    expect(() => Emits('ping', { onError: 'todo.oops' })).toThrow(/"todo\.oops" is not in the event catalog/);
    expect(() => Emits('ping', { onError: 'todo.failure' })).not.toThrow();
  });
});
