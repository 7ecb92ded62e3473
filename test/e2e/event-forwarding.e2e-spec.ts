import { Logger, type DynamicModule, type INestApplication } from '@nestjs/common';
import { EventEmitter2, EventEmitterModule } from '@nestjs/event-emitter';
import { Test } from '@nestjs/testing';
import { ConvoyConfigurationError, WebhookPublisher, type ConvoyModuleOptions } from '../../lib/index.js';
import { ConvoyTestingModule, RecordingTransport } from '../../lib/testing/index.js';
import { recordingLogger, type LogLine } from '../support/recording-logger.js';
import { waitUntil } from '../support/wait.js';

/** The @nestjs/event-emitter bridge: `forward` rules turn emitted events into webhooks. */

const forward: ConvoyModuleOptions['forward'] = [
  'todo.*',
  {
    event: 'invoice.**',
    eventType: (name) => 'billing.' + name,
    data: (payload) => ({ wrapped: payload }),
    options: (payload) => ({ ownerId: (payload as { customer: string }).customer }),
  },
];

let running: INestApplication | undefined;

async function start(imports: DynamicModule[]) {
  const moduleRef = await Test.createTestingModule({ imports }).compile();
  // compile() installs Nest's TestingLogger, which prints errors; record every line instead.
  const logs: LogLine[] = [];
  Logger.overrideLogger(recordingLogger(logs));
  const app = moduleRef.createNestApplication();
  running = app;
  await app.listen(0, '127.0.0.1');
  return {
    app,
    logs,
    emitter: app.get(EventEmitter2),
    recorder: app.get(RecordingTransport),
    publisher: app.get(WebhookPublisher),
  };
}

afterEach(async () => {
  await running?.close();
  running = undefined;
  Logger.overrideLogger(false);
});

describe.each([
  ['default', {}],
  ['wildcard', { wildcard: true }],
])('forwarding from EventEmitterModule.forRoot() (%s)', (_name, emitterOptions) => {
  let app: INestApplication;
  let emitter: EventEmitter2;
  let recorder: RecordingTransport;
  let publisher: WebhookPublisher;
  let logs: LogLine[];

  beforeEach(async () => {
    ({ app, emitter, recorder, publisher, logs } = await start([
      EventEmitterModule.forRoot(emitterOptions),
      ConvoyTestingModule.forRoot({ forward }),
    ]));
  });

  it('publishes an emitted todo.created as a todo.created webhook carrying the payload', async () => {
    emitter.emit('todo.created', { id: 1, title: 'Write tests' });
    await publisher.flush();
    expect(recorder.sent).toHaveLength(1);
    expect(recorder.sent[0]).toMatchObject({
      eventType: 'todo.created',
      data: { id: 1, title: 'Write tests' },
      target: { broadcast: true },
    });
  });

  it('does not forward events the patterns do not match ("*" is one segment)', async () => {
    await emitter.emitAsync('todo.item.created', { id: 2 });
    await emitter.emitAsync('user.created', { id: 3 });
    await emitter.emitAsync('todo', { id: 4 });
    await publisher.flush();
    expect(recorder.sent).toEqual([]);
    // The same emitter does forward a matching name, so the silence above is the patterns' doing.
    await emitter.emitAsync('todo.deleted', { id: 5 });
    await publisher.flush();
    expect(recorder.sent.map((w) => w.eventType)).toEqual(['todo.deleted']);
  });

  it('applies a rule with eventType, data and options functions ("**" is any number of segments)', async () => {
    await emitter.emitAsync('invoice.paid', { customer: 'cus_1', total: 5 });
    await emitter.emitAsync('invoice.eu.refunded', { customer: 'cus_2', total: 7 });
    await publisher.flush();
    expect(recorder.sent.map((w) => [w.eventType, w.data, w.target])).toEqual([
      ['billing.invoice.paid', { wrapped: { customer: 'cus_1', total: 5 } }, { ownerId: 'cus_1' }],
      ['billing.invoice.eu.refunded', { wrapped: { customer: 'cus_2', total: 7 } }, { ownerId: 'cus_2' }],
    ]);
  });

  it('emitAsync() resolves once the webhook was accepted', async () => {
    await emitter.emitAsync('todo.created', { id: 6 });
    // Accepted means held by the publisher's buffer; sending starts on a later turn.
    expect(await publisher.stats()).toMatchObject({ pending: 1, sent: 0 });
    await publisher.flush();
    expect(recorder.ofType('todo.created').map((w) => w.data)).toEqual([{ id: 6 }]);
  });

  it('logs a payload that is not JSON-serializable, without throwing into the emitter', async () => {
    expect(() => emitter.emit('todo.created', { id: 7n })).not.toThrow();
    await expect(emitter.emitAsync('todo.updated', { id: 8n })).resolves.toBeDefined();
    await publisher.flush();
    expect(recorder.sent).toEqual([]);
    const errors = logs.filter((l) => l.level === 'error');
    expect(errors.map((l) => l.context)).toEqual(['WebhookEventForwarder', 'WebhookEventForwarder']);
    expect(errors[0]!.message).toMatch(
      /^Could not forward event "todo\.created" as webhook todo\.created: .*data\.id is a BigInt/,
    );
    expect(errors[1]!.message).toMatch(
      /^Could not forward event "todo\.updated" as webhook todo\.updated: .*data\.id is a BigInt/,
    );
    // The bridge keeps working after a bad payload.
    await emitter.emitAsync('todo.created', { id: 9 });
    await publisher.flush();
    expect(recorder.sent.map((w) => w.data)).toEqual([{ id: 9 }]);
  });

  it('stops forwarding once the application is closed (its listener is removed)', async () => {
    expect(emitter.listenersAny()).toHaveLength(1);
    await app.close();
    running = undefined;
    expect(emitter.listenersAny()).toHaveLength(0);
    // Were the listener still there, it would try the closed publisher and log an error.
    await emitter.emitAsync('todo.created', { id: 10 });
    expect(recorder.sent).toEqual([]);
    expect(logs.filter((l) => l.level === 'error')).toEqual([]);
  });
});

describe('forwarding, other cases', () => {
  it('emitAsync() waits while publish() waits for room in a full buffer', async () => {
    // One slot, taken by an event that waits for its retry: the next publish() cannot be accepted before it is sent.
    const { emitter, recorder, publisher } = await start([
      EventEmitterModule.forRoot(),
      ConvoyTestingModule.forRoot({ forward, delivery: { bufferSize: 1 } }),
    ]);
    recorder.failNext();
    await emitter.emitAsync('todo.first', { n: 1 });
    await waitUntil(
      'the first attempt failed',
      async () => (await publisher.stats()).inFlight === 0 && recorder.sent.length === 0,
    );
    expect(await publisher.stats()).toMatchObject({ pending: 1, inFlight: 0, sent: 0, failed: 0 });

    const second = emitter.emitAsync('todo.second', { n: 2 });
    await Promise.resolve();
    expect(recorder.ofType('todo.second')).toEqual([]);
    await second;
    // By the time emitAsync resolved, the first event had been sent (freeing the only slot) and the second accepted.
    expect(recorder.ofType('todo.first').map((w) => w.attempt)).toEqual([2]);
    expect(await publisher.stats()).toMatchObject({ pending: 1 });
    await publisher.flush();
    expect(recorder.sent.map((w) => [w.eventType, w.attempt])).toEqual([
      ['todo.first', 2],
      ['todo.second', 1],
    ]);
  });

  it('a rule whose eventType function throws is logged, not thrown into the emitter', async () => {
    const { emitter, recorder, publisher, logs } = await start([
      EventEmitterModule.forRoot(),
      ConvoyTestingModule.forRoot({
        forward: [
          {
            event: 'todo.*',
            eventType: () => {
              throw new Error('no type for you');
            },
          },
          'todo.created',
        ],
      }),
    ]);
    await expect(emitter.emitAsync('todo.created', { id: 1 })).resolves.toBeDefined();
    await publisher.flush();
    // The failing rule is skipped; the next matching rule still publishes.
    expect(recorder.sent.map((w) => w.eventType)).toEqual(['todo.created']);
    expect(logs.filter((l) => l.level === 'error').map((l) => l.message)).toEqual([
      expect.stringMatching(/^Could not forward event "todo\.created".*: no type for you$/),
    ]);
  });

  it('with wildcard: true, an event emitted by name segments is forwarded under its dotted name', async () => {
    const { emitter, recorder, publisher } = await start([
      EventEmitterModule.forRoot({ wildcard: true }),
      ConvoyTestingModule.forRoot({ forward }),
    ]);
    await emitter.emitAsync(['todo', 'created'], { id: 1 });
    await publisher.flush();
    expect(recorder.sent.map((w) => [w.eventType, w.data])).toEqual([['todo.created', { id: 1 }]]);
  });

  it('without forward rules, nothing listens to the emitter and nothing is published', async () => {
    const { emitter, recorder, publisher } = await start([EventEmitterModule.forRoot(), ConvoyTestingModule.forRoot()]);
    expect(emitter.listenersAny()).toHaveLength(0);
    await emitter.emitAsync('todo.created', { id: 1 });
    await publisher.flush();
    expect(recorder.sent).toEqual([]);
  });

  it('fails at startup with ConvoyConfigurationError("forward") when EventEmitterModule is not imported', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [ConvoyTestingModule.forRoot({ forward: ['todo.*'] })],
    }).compile();
    Logger.overrideLogger(false);
    const app = moduleRef.createNestApplication();
    running = app;
    const error = await app.listen(0, '127.0.0.1').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConvoyConfigurationError);
    expect((error as ConvoyConfigurationError).option).toBe('forward');
    expect((error as ConvoyConfigurationError).message).toMatch(/EventEmitterModule/);
  });
});
