import { Controller, Inject, Injectable, Logger, Module, Post, type INestApplication, type Type } from '@nestjs/common';
import { Test, type TestingModuleBuilder } from '@nestjs/testing';
import diagnostics from 'node:diagnostics_channel';
import { request } from 'undici';
import {
  ConvoyClient,
  ConvoyModule,
  EmitsWebhook,
  WEBHOOK_TRANSPORT,
  WebhookPublisher,
  type DeliveryOptions,
} from '../../../lib/index.js';
import { ConvoyTestingModule, RecordingTransport, type RecordedWebhook } from '../../../lib/testing/index.js';
import { recordingLogger, type LogLine } from '../../support/recording-logger.js';

/** The public testing kit (nestjs-convoy/testing), used the way an application's own tests would use it. */

@Controller('todos')
class TodosController {
  @Post()
  @EmitsWebhook('todo.created')
  create() {
    return { id: 1, title: 'Write tests' };
  }
}

/** An application service, as a user would write one: both testing-kit services are injectable without imports. */
@Injectable()
class TodoNotifier {
  constructor(
    readonly publisher: WebhookPublisher,
    @Inject(RecordingTransport) readonly recorder: RecordingTransport,
  ) {}
}

let running: INestApplication | undefined;

async function start(builder: TestingModuleBuilder) {
  const moduleRef = await builder.compile();
  // compile() installs Nest's TestingLogger, which prints errors; record every line instead.
  const logs: LogLine[] = [];
  Logger.overrideLogger(recordingLogger(logs));
  const app = moduleRef.createNestApplication();
  running = app;
  await app.listen(0, '127.0.0.1');
  return { app, logs, url: await app.getUrl() };
}

afterEach(async () => {
  await running?.close();
  running = undefined;
  Logger.overrideLogger(false);
});

async function post(url: string): Promise<number> {
  const response = await request(url, { method: 'POST' });
  await response.body.dump();
  return response.statusCode;
}

describe('ConvoyTestingModule and RecordingTransport', () => {
  let app: INestApplication;
  let url: string;
  let logs: LogLine[];
  let recorder: RecordingTransport;
  let publisher: WebhookPublisher;

  beforeEach(async () => {
    ({ app, url, logs } = await start(
      Test.createTestingModule({
        imports: [ConvoyTestingModule.forRoot()],
        controllers: [TodosController],
        providers: [TodoNotifier],
      }),
    ));
    recorder = app.get(RecordingTransport);
    publisher = app.get(WebhookPublisher);
  });

  it('needs no credentials, and injects the RecordingTransport (the active transport) and WebhookPublisher', () => {
    expect(recorder).toBeInstanceOf(RecordingTransport);
    expect(app.get(WEBHOOK_TRANSPORT)).toBe(recorder);
    expect(publisher).toBeInstanceOf(WebhookPublisher);
    const notifier = app.get(TodoNotifier);
    expect(notifier.publisher).toBe(publisher);
    expect(notifier.recorder).toBe(recorder);
    expect(app.get(ConvoyClient).configured).toBe(false);
    // No "only logged, not delivered" warning: the recorder was chosen on purpose.
    expect(logs.filter((l) => l.level === 'warn')).toEqual([]);
  });

  it("records a controller's @EmitsWebhook", async () => {
    expect(await post(`${url}/todos`)).toBe(201);
    const webhook = await recorder.waitFor('todo.created');
    expect(webhook).toMatchObject({
      eventType: 'todo.created',
      data: { id: 1, title: 'Write tests' },
      target: { broadcast: true },
      attempt: 1,
    });
  });

  it('sent holds every webhook in order, with its data parsed back and its delivery details; ofType filters', async () => {
    const first = await publisher.publish(
      'a.one',
      { x: 1 },
      { endpointId: 'ep_1', idempotencyKey: 'key-1', headers: { 'X-Trace': 't1' } },
    );
    await publisher.publish('b.two', [1, 2]);
    await publisher.publish('a.one', 'third');
    await publisher.flush();

    expect(recorder.sent.map((w) => w.eventType)).toEqual(['a.one', 'b.two', 'a.one']);
    expect(recorder.sent[0]).toEqual({
      id: first.id,
      eventType: 'a.one',
      data: { x: 1 },
      payload: '{"x":1}',
      target: { endpointId: 'ep_1' },
      idempotencyKey: 'key-1',
      headers: { 'X-Trace': 't1' },
      createdAt: expect.any(Number),
      attempt: 1,
    });
    expect(recorder.ofType('a.one').map((w) => w.data)).toEqual([{ x: 1 }, 'third']);
    expect(recorder.ofType('b.two').map((w) => w.data)).toEqual([[1, 2]]);
    expect(recorder.ofType('c.three')).toEqual([]);
  });

  it('waitFor resolves with a webhook that was already received', async () => {
    const receipt = await publisher.publish('todo.created', { id: 1 });
    const webhook = await recorder.waitFor('todo.created');
    expect(webhook.id).toBe(receipt.id);
  });

  it('waitFor waits for a webhook that arrives later, ignoring other types', async () => {
    expect(recorder.sent).toEqual([]);
    let settled: RecordedWebhook | undefined;
    const waiting = recorder.waitFor('todo.done').then((w) => (settled = w));

    await publisher.publish('todo.other', { id: 1 });
    await publisher.flush();
    await new Promise((resolve) => setImmediate(resolve)); // give a wrong early resolution every chance to show
    expect(settled).toBeUndefined();

    const receipt = await publisher.publish('todo.done', { id: 2 });
    await waiting;
    expect(settled).toMatchObject({ id: receipt.id, eventType: 'todo.done', data: { id: 2 } });
  });

  it('waitFor with a predicate picks the matching webhook, received or still to come', async () => {
    await publisher.publish('todo.updated', { id: 1, done: false });
    await publisher.publish('todo.updated', { id: 1, done: true });
    const done = await recorder.waitFor('todo.updated', (w) => (w.data as { done: boolean }).done);
    expect(done.data).toEqual({ id: 1, done: true });

    const later = recorder.waitFor('todo.updated', (w) => (w.data as { id: number }).id === 2);
    await publisher.publish('todo.updated', { id: 3, done: true }); // same type, not matching
    await publisher.publish('todo.updated', { id: 2, done: false });
    expect((await later).data).toEqual({ id: 2, done: false });
  });

  it('waitFor rejects after its timeout, listing the types received', async () => {
    await expect(recorder.waitFor('todo.deleted', undefined, 30)).rejects.toThrow(
      'No todo.deleted webhook within 30 ms (received: none)',
    );
    await publisher.publish('todo.created', { id: 1 });
    await publisher.publish('todo.updated', { id: 1 });
    await expect(recorder.waitFor('todo.deleted', undefined, 30)).rejects.toThrow(
      'No todo.deleted webhook within 30 ms (received: todo.created, todo.updated)',
    );
    // A predicate that matches nothing times out the same way.
    await expect(recorder.waitFor('todo.created', () => false, 30)).rejects.toThrow(
      /^No todo\.created webhook within 30 ms/,
    );
  });

  it('failNext fails a send; the pipeline retries and records the second attempt', async () => {
    recorder.failNext();
    const receipt = await publisher.publish('todo.created', { id: 1 });
    await publisher.flush();
    expect(recorder.sent.map((w) => [w.id, w.attempt])).toEqual([[receipt.id, 2]]);
    expect(await publisher.stats()).toMatchObject({ sent: 1, failed: 0 });
    expect(logs.filter((l) => l.level === 'warn').map((l) => l.message)).toEqual([
      expect.stringMatching(
        /^todo\.created .* attempt 1 via recording failed, retrying in \d+ ms: RecordingTransport: scripted failure$/,
      ),
    ]);

    recorder.failNext(new Error('flaky'), 2);
    await publisher.publish('todo.updated', { id: 1 });
    await publisher.flush();
    expect(recorder.ofType('todo.updated').map((w) => w.attempt)).toEqual([3]);
  });

  it('failNext with an error whose retryable is false drops the webhook', async () => {
    recorder.failNext(Object.assign(new Error('endpoint gone'), { retryable: false }));
    await publisher.publish('todo.created', { id: 1 });
    await publisher.flush();
    expect(recorder.sent).toEqual([]);
    expect(await publisher.stats()).toMatchObject({ sent: 0, failed: 1 });
    expect(logs.filter((l) => l.level === 'error').map((l) => l.message)).toEqual([
      expect.stringMatching(/was NOT sent \(not retryable\): endpoint gone$/),
    ]);

    // The scripted failure is used up: the next webhook goes through at once.
    await publisher.publish('todo.created', { id: 2 });
    await publisher.flush();
    expect(recorder.sent.map((w) => [w.data, w.attempt])).toEqual([[{ id: 2 }, 1]]);
  });

  it('clear forgets what was received and any scripted failures', async () => {
    await publisher.publish('todo.created', { id: 1 });
    await publisher.flush();
    const sent = recorder.sent;
    recorder.failNext(new Error('never used'), 3);
    recorder.clear();
    expect(sent).toEqual([]); // the same array, emptied
    expect(recorder.ofType('todo.created')).toEqual([]);

    await publisher.publish('todo.created', { id: 2 });
    await publisher.flush();
    expect(recorder.sent.map((w) => [w.data, w.attempt])).toEqual([[{ id: 2 }, 1]]);
  });
});

describe('overriding the transport of a real application module', () => {
  // The application's own module, configured for a real Convoy (nothing listens on port 9).
  function appModule(delivery?: DeliveryOptions): Type {
    @Controller('orders')
    class OrdersController {
      @Post()
      @EmitsWebhook('order.placed')
      place() {
        return { id: 'ord_1' };
      }
    }
    @Module({
      imports: [
        ConvoyModule.forRoot({
          convoy: { apiKey: 'CO.x', projectId: 'p1', baseUrl: 'http://127.0.0.1:9/api' },
          delivery,
        }),
      ],
      controllers: [OrdersController],
    })
    class AppModule {}
    return AppModule;
  }

  /** Every undici request made to the configured Convoy origin (the ConvoyClient's pool is undici). */
  const convoyRequests: string[] = [];
  let requestSeen: (() => void) | undefined;
  const onRequest = (message: unknown): void => {
    const { origin, path } = (message as { request: { origin: unknown; path: string } }).request;
    if (String(origin).replace(/\/$/, '') !== 'http://127.0.0.1:9') return;
    convoyRequests.push(path);
    requestSeen?.();
  };
  beforeAll(() => diagnostics.subscribe('undici:request:create', onRequest));
  afterAll(() => diagnostics.unsubscribe('undici:request:create', onRequest));
  beforeEach(() => {
    convoyRequests.length = 0;
    requestSeen = undefined;
  });

  it('overrideProvider(WEBHOOK_TRANSPORT).useValue(recorder) keeps every event in the recorder, off the network', async () => {
    const recorder = new RecordingTransport();
    const { app, url } = await start(
      Test.createTestingModule({ imports: [appModule()] })
        .overrideProvider(WEBHOOK_TRANSPORT)
        .useValue(recorder),
    );
    expect(app.get(WEBHOOK_TRANSPORT)).toBe(recorder);
    expect(app.get(ConvoyClient).configured).toBe(true); // the app's real Convoy configuration is still in place

    expect(await post(`${url}/orders`)).toBe(201);
    await app.get(WebhookPublisher).flush();
    expect(recorder.sent.map((w) => [w.eventType, w.data])).toEqual([['order.placed', { id: 'ord_1' }]]);
    expect(await app.get(WebhookPublisher).stats()).toMatchObject({ sent: 1, failed: 0 });
    await app.close();
    running = undefined;
    expect(convoyRequests).toEqual([]);
  });

  it('without the override, the same module does call Convoy (so the check above can fail)', async () => {
    const { app, url } = await start(
      Test.createTestingModule({ imports: [appModule({ retry: { attempts: 1 }, drainTimeoutMs: 1_000 })] }),
    );
    const called = new Promise<void>((resolve) => (requestSeen = resolve));
    expect(await post(`${url}/orders`)).toBe(201);
    await called;
    // The startup check (GET the project; Convoy is down here, so it is retried in the background), then the event.
    expect(convoyRequests[0]).toBe('/api/v1/projects/p1');
    expect(convoyRequests.filter((path) => path !== '/api/v1/projects/p1')).toEqual([
      '/api/v1/projects/p1/events/broadcast',
    ]);
    await app.get(WebhookPublisher).flush();
  });
});
