import { jest } from '@jest/globals';
import {
  BadRequestException,
  Body,
  Controller,
  Get,
  HttpException,
  Inject,
  Logger,
  Module,
  NotFoundException,
  Param,
  ParseIntPipe,
  Post,
  UseInterceptors,
  UsePipes,
  type ArgumentMetadata,
  type CallHandler,
  type DynamicModule,
  type ExecutionContext,
  type INestApplication,
  type NestInterceptor,
  type PipeTransform,
  type Type,
} from '@nestjs/common';
import { INTERCEPTORS_METADATA } from '@nestjs/common/constants.js';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { map, Observable } from 'rxjs';
import { request } from 'undici';
import { ConvoyModule, EmitsWebhook, targetFromQuery, WebhookPublisher, type PublishReceipt } from '../../lib/index.js';
import { WebhookInterceptor } from '../../lib/publishing/webhook.interceptor.js';
import { ConvoyTestingModule, RecordingTransport } from '../../lib/testing/index.js';
import { recordingLogger, type LogLine } from '../support/recording-logger.js';

/**
 * @EmitsWebhook in a real Nest application answering real HTTP requests,
 * with webhooks landing in the RecordingTransport of ConvoyTestingModule.
 */

interface Todo {
  id: number;
  title: string;
}

/** The last response object the `accepted` route saw, to check whether it was already sent when publish() resolved. */
let lastResponse: { headersSent: boolean } | undefined;

@Controller('todos')
class TodosController {
  constructor(@Inject(RecordingTransport) private readonly recorder: RecordingTransport) {}

  @Post()
  @EmitsWebhook('todo.created', { target: targetFromQuery('endpoint') })
  create(@Body() body: { title: string }): Todo {
    return { id: 1, title: body.title };
  }

  @Get('promise')
  @EmitsWebhook('todo.fetched')
  async fetch(): Promise<Todo> {
    await new Promise((resolve) => setImmediate(resolve)); // really asynchronous, not an already-resolved value
    return { id: 2, title: 'from a promise' };
  }

  @Get('observable')
  @EmitsWebhook('todo.streamed')
  stream(): Observable<{ n: number; publishedBeforeComplete?: number }> {
    return new Observable((subscriber) => {
      subscriber.next({ n: 1 });
      subscriber.next({ n: 2 });
      // The last value comes later; count what was published until then (must be nothing).
      setImmediate(() => {
        subscriber.next({ n: 3, publishedBeforeComplete: this.recorder.sent.length });
        subscriber.complete();
      });
    });
  }

  @Post('shaped')
  @EmitsWebhook('todo.shaped', {
    data: (todo: Todo, context: ExecutionContext) => ({
      title: todo.title,
      tenant: context.switchToHttp().getRequest<{ headers: Record<string, string> }>().headers['x-tenant'],
      handler: `${context.getClass().name}.${context.getHandler().name}`,
    }),
  })
  shaped(@Body() body: { title: string }): Todo {
    return { id: 3, title: body.title };
  }

  @Post(':id/assign')
  @EmitsWebhook('todo.assigned', {
    // Both the request and the result decide: endpoint from ?to=, idempotency key from the todo's id.
    target: (context: ExecutionContext, result: Todo | undefined) => ({
      endpointId: context.switchToHttp().getRequest<{ query: { to: string } }>().query.to,
      idempotencyKey: `todo-${result?.id}-assigned`,
    }),
  })
  assign(@Param('id') id: string): Todo {
    return { id: Number(id), title: 'assigned' };
  }

  @Post('multi')
  @EmitsWebhook('todo.first')
  @EmitsWebhook('todo.second', { data: (todo: Todo) => ({ id: todo.id }) })
  @EmitsWebhook('todo.third')
  multi(): Todo {
    return { id: 4, title: 'many events' };
  }

  @Get('missing')
  @EmitsWebhook('todo.retrieved', { onError: 'todo.failure', target: targetFromQuery('endpoint') })
  missing(): Todo {
    throw new NotFoundException('Todo 7 not found');
  }

  @Get('by-id/:id')
  @EmitsWebhook('todo.retrieved', { onError: 'todo.failure' })
  byId(@Param('id', ParseIntPipe) id: number): Todo {
    return { id, title: 'by id' };
  }

  @Get('missing-plain')
  missingPlain(): Todo {
    throw new NotFoundException('Todo 7 not found');
  }

  @Get('crash')
  @EmitsWebhook('todo.retrieved', { onError: 'todo.failure' })
  crash(): Todo {
    throw new Error('connect ECONNREFUSED db.internal:5432 (password=hunter2)');
  }

  @Get('crash-plain')
  crashPlain(): Todo {
    throw new Error('connect ECONNREFUSED db.internal:5432 (password=hunter2)');
  }

  @Post('invalid')
  @EmitsWebhook('todo.created', {
    onError: {
      eventType: 'todo.rejected',
      data: (error: unknown, context: ExecutionContext) => ({
        status: error instanceof HttpException ? error.getStatus() : 'unknown',
        handler: context.getHandler().name,
      }),
    },
  })
  invalid(): Todo {
    throw new BadRequestException(['title must be a string']);
  }

  @Post('nothing')
  @EmitsWebhook('todo.touched')
  nothing(): void {
    return undefined;
  }

  @Post('data-throws')
  @EmitsWebhook('todo.mapped', {
    data: () => {
      throw new Error('mapper exploded');
    },
  })
  dataThrows(): Todo {
    return { id: 5, title: 'saved anyway' };
  }

  @Post('bigint')
  @EmitsWebhook('todo.totalled', { data: (todo: Todo) => ({ ...todo, total: 10n }) })
  bigint(): Todo {
    return { id: 6, title: 'big total' };
  }

  @Get('error-mapper-throws')
  @EmitsWebhook('todo.retrieved', {
    onError: {
      eventType: 'todo.failure',
      data: () => {
        throw new Error('error mapper exploded');
      },
    },
  })
  errorMapperThrows(): Todo {
    throw new NotFoundException('Todo 8 not found');
  }

  @Post('accepted')
  @EmitsWebhook('todo.accepted', {
    data: (todo: Todo, context: ExecutionContext) => {
      lastResponse = context.switchToHttp().getResponse();
      return todo;
    },
  })
  accepted(): Todo {
    return { id: 9, title: 'accepted first' };
  }

  @Get('plain')
  plain(): Todo {
    return { id: 10, title: 'no webhook' };
  }
}

/** Wraps every answer in `{ data }`, as an app's own response interceptor might. */
class EnvelopeInterceptor implements NestInterceptor {
  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(map((data: unknown) => ({ data })));
  }
}

/** Records the kind of every argument it is given, as an app's global pipe that walks arguments might. */
class RecordingPipe implements PipeTransform {
  static seen: Array<{ type: string; value: string }> = [];
  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    RecordingPipe.seen.push({ type: metadata.type, value: typeof value });
    return value;
  }
}

/** An app's interceptor and pipe around decorated handlers. */
@Controller('local')
@UseInterceptors(EnvelopeInterceptor)
@UsePipes(RecordingPipe)
class LocallyInterceptedController {
  @Post()
  @EmitsWebhook('local.created')
  create(): Todo {
    return { id: 11, title: 'local' };
  }

  @Get('fail')
  @EmitsWebhook('local.read', { onError: 'local.failure' })
  fail(): Todo {
    throw new NotFoundException('gone');
  }

  /** onError on the upper decorator: the lower one wrapped the handler before it. */
  @Get('read')
  @EmitsWebhook('local.read', { onError: 'local.failure' })
  @EmitsWebhook('local.seen')
  read(): Todo {
    return { id: 13, title: 'read' };
  }
}

@Controller('unwired')
class UnwiredController {
  @Post()
  @EmitsWebhook('unwired.created')
  create(): Todo {
    return { id: 12, title: 'no interceptor' };
  }

  @Post('twice')
  @EmitsWebhook('unwired.first')
  @EmitsWebhook('unwired.second')
  twice(): Todo {
    return { id: 14, title: 'two events' };
  }
}

interface Started {
  app: INestApplication;
  url: string;
  logs: LogLine[];
}

let running: INestApplication | undefined;

async function start(
  imports: DynamicModule[],
  controllers: Type[],
  options: { fastify?: boolean } = {},
): Promise<Started> {
  const moduleRef = await Test.createTestingModule({ imports, controllers }).compile();
  // compile() installs Nest's TestingLogger, which prints errors; record every line instead.
  const logs: LogLine[] = [];
  Logger.overrideLogger(recordingLogger(logs));
  const app = options.fastify
    ? moduleRef.createNestApplication(new FastifyAdapter())
    : moduleRef.createNestApplication();
  running = app;
  await app.listen(0, '127.0.0.1');
  return { app, url: await app.getUrl(), logs };
}

afterEach(async () => {
  await running?.close();
  running = undefined;
  lastResponse = undefined;
  Logger.overrideLogger(false);
});

interface Answer {
  status: number;
  body: unknown;
}

async function call(
  url: string,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const response = await request(url + path, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.body.text();
  const json = String(response.headers['content-type'] ?? '').includes('json');
  return { status: response.statusCode, body: json ? JSON.parse(text) : text };
}

/** Waits until everything published was sent, then returns what the recorder holds. */
async function delivered(app: INestApplication) {
  await app.get(WebhookPublisher).flush();
  return app.get(RecordingTransport).sent;
}

describe('@EmitsWebhook (Express)', () => {
  let app: INestApplication;
  let url: string;
  let logs: LogLine[];
  let recorder: RecordingTransport;

  beforeEach(async () => {
    ({ app, url, logs } = await start(
      [ConvoyTestingModule.forRoot()],
      [TodosController, LocallyInterceptedController],
    ));
    recorder = app.get(RecordingTransport);
  });

  const errorLogs = () => logs.filter((l) => l.level === 'error');

  it('publishes a plain return value as the data, to the default broadcast target', async () => {
    const answer = await call(url, 'POST', '/todos', { title: 'Write tests' });
    expect(answer).toEqual({ status: 201, body: { id: 1, title: 'Write tests' } });
    const sent = await delivered(app);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({
      eventType: 'todo.created',
      data: { id: 1, title: 'Write tests' },
      target: { broadcast: true },
      attempt: 1,
    });
    // The payload is the exact JSON of the result.
    expect(sent[0]!.payload).toBe('{"id":1,"title":"Write tests"}');
  });

  it('publishes the resolved value of a Promise', async () => {
    const answer = await call(url, 'GET', '/todos/promise');
    expect(answer).toEqual({ status: 200, body: { id: 2, title: 'from a promise' } });
    const sent = await delivered(app);
    expect(sent.map((w) => [w.eventType, w.data])).toEqual([['todo.fetched', { id: 2, title: 'from a promise' }]]);
  });

  it('publishes only the last value of an Observable, once, after it completed', async () => {
    const answer = await call(url, 'GET', '/todos/observable');
    // Nest answers with the last value; nothing was published while the earlier values went by.
    expect(answer).toEqual({ status: 200, body: { n: 3, publishedBeforeComplete: 0 } });
    const sent = await delivered(app);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ eventType: 'todo.streamed', data: { n: 3, publishedBeforeComplete: 0 } });
  });

  it('shapes the data with options.data(result, context)', async () => {
    const answer = await call(url, 'POST', '/todos/shaped', { title: 'Shaped' }, { 'x-tenant': 'acme' });
    expect(answer).toEqual({ status: 201, body: { id: 3, title: 'Shaped' } }); // the client still gets the handler's result
    const [webhook] = await delivered(app);
    expect(webhook!.data).toEqual({ title: 'Shaped', tenant: 'acme', handler: 'TodosController.shaped' });
  });

  it('lets options.target(context, result) pick the endpoint and idempotency key', async () => {
    await call(url, 'POST', '/todos/42/assign?to=ep_42');
    const [webhook] = await delivered(app);
    expect(webhook).toMatchObject({
      eventType: 'todo.assigned',
      target: { endpointId: 'ep_42' },
      idempotencyKey: 'todo-42-assigned',
    });
  });

  it('targetFromQuery("endpoint") sends to ?endpoint=, and to the default broadcast without it', async () => {
    await call(url, 'POST', '/todos?endpoint=ep_1', { title: 'a' });
    await call(url, 'POST', '/todos', { title: 'b' });
    await call(url, 'POST', '/todos?endpoint=', { title: 'c' }); // empty counts as absent
    const sent = await delivered(app);
    expect(sent.map((w) => w.target)).toEqual([{ endpointId: 'ep_1' }, { broadcast: true }, { broadcast: true }]);
  });

  it('publishes one event per @EmitsWebhook, in the order they are written', async () => {
    await call(url, 'POST', '/todos/multi');
    const sent = await delivered(app);
    expect(sent.map((w) => w.eventType)).toEqual(['todo.first', 'todo.second', 'todo.third']);
    expect(sent.map((w) => w.data)).toEqual([
      { id: 4, title: 'many events' },
      { id: 4 },
      { id: 4, title: 'many events' },
    ]);
    // Each is its own event.
    expect(new Set(sent.map((w) => w.id)).size).toBe(3);
  });

  it('onError publishes { statusCode, message, error } of an HttpException; the client gets the same answer as without the decorator', async () => {
    const answer = await call(url, 'GET', '/todos/missing?endpoint=ep_err');
    const plain = await call(url, 'GET', '/todos/missing-plain');
    expect(answer).toEqual({ status: 404, body: { statusCode: 404, message: 'Todo 7 not found', error: 'Not Found' } });
    expect(answer).toEqual(plain);
    const sent = await delivered(app);
    expect(sent).toHaveLength(1); // the failure only, never the success event
    expect(sent[0]).toMatchObject({
      eventType: 'todo.failure',
      data: { statusCode: 404, message: 'Todo 7 not found', error: 'Not Found' },
      // target() still applies, with result undefined.
      target: { endpointId: 'ep_err' },
    });
  });

  it("onError publishes a pipe's refusal too (a 400 before the handler runs), and the success once", async () => {
    expect(await call(url, 'GET', '/todos/by-id/abc')).toEqual({
      status: 400,
      body: { statusCode: 400, message: 'Validation failed (numeric string is expected)', error: 'Bad Request' },
    });
    expect((await call(url, 'GET', '/todos/by-id/3')).body).toEqual({ id: 3, title: 'by id' });
    const sent = await delivered(app);
    expect(sent.map((w) => [w.eventType, w.data])).toEqual([
      [
        'todo.failure',
        { statusCode: 400, message: 'Validation failed (numeric string is expected)', error: 'Bad Request' },
      ],
      ['todo.retrieved', { id: 3, title: 'by id' }],
    ]);
  });

  it('onError publishes a generic 500 for a non-HTTP error, leaking nothing; the client gets the usual 500', async () => {
    const answer = await call(url, 'GET', '/todos/crash');
    const plain = await call(url, 'GET', '/todos/crash-plain');
    expect(answer).toEqual({ status: 500, body: { statusCode: 500, message: 'Internal server error' } });
    expect(answer).toEqual(plain);
    const sent = await delivered(app);
    expect(sent.map((w) => [w.eventType, w.data])).toEqual([
      ['todo.failure', { statusCode: 500, message: 'Internal server error' }],
    ]);
    expect(sent[0]!.payload).not.toMatch(/hunter2|ECONNREFUSED|db\.internal/);
  });

  it('onError { eventType, data } publishes the custom data; the exception still reaches the client', async () => {
    const answer = await call(url, 'POST', '/todos/invalid');
    expect(answer).toEqual({
      status: 400,
      body: { statusCode: 400, message: ['title must be a string'], error: 'Bad Request' },
    });
    const sent = await delivered(app);
    expect(sent.map((w) => [w.eventType, w.data])).toEqual([['todo.rejected', { status: 400, handler: 'invalid' }]]);
  });

  it('publishes nothing when the handler returns undefined and there is no data option, and still answers', async () => {
    const answer = await call(url, 'POST', '/todos/nothing');
    expect(answer).toEqual({ status: 201, body: '' });
    expect(await delivered(app)).toEqual([]);
    expect(await app.get(WebhookPublisher).stats()).toMatchObject({ sent: 0, failed: 0 });
    expect(errorLogs().map((l) => l.message)).toEqual([
      expect.stringMatching(
        /^Could not publish todo\.touched from TodosController\.nothing: the handler returned nothing/,
      ),
    ]);
  });

  it('a data function that throws never changes the response, and is logged', async () => {
    const answer = await call(url, 'POST', '/todos/data-throws');
    expect(answer).toEqual({ status: 201, body: { id: 5, title: 'saved anyway' } });
    expect(await delivered(app)).toEqual([]);
    expect(errorLogs()).toEqual([
      {
        level: 'error',
        message: 'Could not publish todo.mapped from TodosController.dataThrows: mapper exploded',
        context: 'EmitsWebhook',
      },
    ]);
  });

  it('data that JSON cannot hold (a BigInt) never changes the response, and is logged naming the field', async () => {
    const answer = await call(url, 'POST', '/todos/bigint');
    expect(answer).toEqual({ status: 201, body: { id: 6, title: 'big total' } });
    expect(await delivered(app)).toEqual([]);
    const [line, ...more] = errorLogs();
    expect(more).toEqual([]);
    expect(line!.message).toMatch(
      /^Could not publish todo\.totalled from TodosController\.bigint: .*data\.total is a BigInt/,
    );
  });

  it('an onError data function that throws is logged, and the client still gets the original error', async () => {
    const answer = await call(url, 'GET', '/todos/error-mapper-throws');
    expect(answer).toEqual({ status: 404, body: { statusCode: 404, message: 'Todo 8 not found', error: 'Not Found' } });
    expect(await delivered(app)).toEqual([]);
    expect(errorLogs().map((l) => l.message)).toEqual([
      'Could not publish todo.failure from TodosController.errorMapperThrows: error mapper exploded',
    ]);
  });

  it('accepts the event before the response is sent', async () => {
    const publisher = app.get(WebhookPublisher);
    const publish = publisher.publish.bind(publisher);
    let headersSentWhenAccepted: boolean | undefined;
    jest.spyOn(publisher, 'publish').mockImplementation(async (...args): Promise<PublishReceipt> => {
      const receipt = await publish(...args);
      headersSentWhenAccepted = lastResponse?.headersSent;
      return receipt;
    });

    const answer = await call(url, 'POST', '/todos/accepted');
    expect(answer.status).toBe(201);
    expect(headersSentWhenAccepted).toBe(false);
    // Right after the response arrived, the publisher already holds (or has sent) the event.
    const { pending, inFlight, sent } = await publisher.stats();
    expect(pending + inFlight + sent).toBe(1);
    await publisher.flush();
    expect(recorder.ofType('todo.accepted').map((w) => w.data)).toEqual([{ id: 9, title: 'accepted first' }]);
  });

  it('a route without @EmitsWebhook publishes nothing', async () => {
    const answer = await call(url, 'GET', '/todos/plain');
    expect(answer).toEqual({ status: 200, body: { id: 10, title: 'no webhook' } });
    expect(await delivered(app)).toEqual([]);
    expect(await app.get(WebhookPublisher).stats()).toEqual({
      durable: false,
      pending: 0,
      inFlight: 0,
      lagMs: 0,
      sent: 0,
      failed: 0,
      deadLetters: 0,
    });
  });

  it("runs inside the app's own interceptors: the event carries the handler's result, the response theirs", async () => {
    expect(await call(url, 'POST', '/local')).toEqual({ status: 201, body: { data: { id: 11, title: 'local' } } });
    expect((await call(url, 'GET', '/local/fail')).status).toBe(404);
    const sent = await delivered(app);
    expect(sent.map((w) => [w.eventType, w.data])).toEqual([
      ['local.created', { id: 11, title: 'local' }],
      ['local.failure', { statusCode: 404, message: 'gone', error: 'Not Found' }],
    ]);
  });

  it("hands an app's pipes its hidden context argument as a function, never the request itself", async () => {
    RecordingPipe.seen = [];
    expect((await call(url, 'POST', '/local')).status).toBe(201);
    expect(RecordingPipe.seen).toEqual([{ type: 'custom', value: 'function' }]);
    expect((await delivered(app)).map((w) => w.eventType)).toEqual(['local.created']);
  });

  it('gives a handler with onError (published by the interceptor) no hidden argument, wherever onError is', async () => {
    RecordingPipe.seen = [];
    expect((await call(url, 'GET', '/local/fail')).status).toBe(404);
    expect((await call(url, 'GET', '/local/read')).status).toBe(200);
    expect(RecordingPipe.seen).toEqual([]);
    expect((await delivered(app)).map((w) => [w.eventType, w.data])).toEqual([
      ['local.failure', { statusCode: 404, message: 'gone', error: 'Not Found' }],
      ['local.read', { id: 13, title: 'read' }],
      ['local.seen', { id: 13, title: 'read' }],
    ]);
  });

  it('called directly (as in a unit test), a decorated handler is the handler as written and publishes nothing', async () => {
    expect(new LocallyInterceptedController().create()).toEqual({ id: 11, title: 'local' });
    expect(() => new LocallyInterceptedController().fail()).toThrow(NotFoundException);
    expect(await delivered(app)).toEqual([]);
  });
});

describe('@EmitsWebhook with other module settings', () => {
  it('without ?endpoint=, targetFromQuery falls back to a configured defaultTarget', async () => {
    const { app, url } = await start(
      [ConvoyTestingModule.forRoot({ defaultTarget: { ownerId: 'o' } })],
      [TodosController],
    );
    await call(url, 'POST', '/todos', { title: 'a' });
    await call(url, 'POST', '/todos?endpoint=ep_1', { title: 'b' });
    const sent = await delivered(app);
    expect(sent.map((w) => w.target)).toEqual([{ ownerId: 'o' }, { endpointId: 'ep_1' }]);
  });

  it('@EmitsWebhook alone publishes, each stacked one its own event; only a handler with onError gets an interceptor', async () => {
    const recorder = new RecordingTransport();
    const { app, url } = await start([ConvoyModule.forRoot({ transport: recorder })], [UnwiredController]);
    await call(url, 'POST', '/unwired');
    await call(url, 'POST', '/unwired/twice');
    await app.get(WebhookPublisher).flush();
    expect(recorder.sent.map((w) => w.eventType)).toEqual(['unwired.created', 'unwired.first', 'unwired.second']);
    // An interceptor costs every request of a route it is on: only onError, which must see a pipe's refusal, needs one.
    const interceptorsOf = (type: Type, key: string) =>
      Reflect.getMetadata(INTERCEPTORS_METADATA, Object.getOwnPropertyDescriptor(type.prototype, key)!.value as object);
    expect(interceptorsOf(UnwiredController, 'twice')).toBeUndefined();
    expect(interceptorsOf(TodosController, 'create')).toBeUndefined();
    expect(interceptorsOf(TodosController, 'plain')).toBeUndefined();
    expect(interceptorsOf(TodosController, 'missing')).toEqual([WebhookInterceptor]);
  });

  it('with isGlobal: false, a feature module that imports the same ConvoyModule publishes from its handlers', async () => {
    const recorder = new RecordingTransport();
    const convoy = ConvoyModule.forRoot({ transport: recorder, isGlobal: false });
    @Module({ imports: [convoy], controllers: [UnwiredController] })
    class FeatureModule {}
    const moduleRef = await Test.createTestingModule({ imports: [convoy, FeatureModule] }).compile();
    const app = moduleRef.createNestApplication();
    running = app;
    await app.listen(0, '127.0.0.1');
    expect((await call(await app.getUrl(), 'POST', '/unwired')).status).toBe(201);
    await app.get(WebhookPublisher).flush();
    expect(recorder.sent.map((w) => w.eventType)).toEqual(['unwired.created']);
  });

  it('with isGlobal: false, a feature module that does not import ConvoyModule fails at startup, naming the publisher', async () => {
    @Module({ controllers: [UnwiredController] })
    class FeatureModule {}
    const error = await Test.createTestingModule({
      imports: [ConvoyModule.forRoot({ transport: new RecordingTransport(), isGlobal: false }), FeatureModule],
    })
      .compile()
      .catch((e: unknown) => e);
    expect(String(error)).toMatch(/can't resolve dependencies of the UnwiredController[\s\S]*WebhookPublisher/);
  });

  it('refuses the removed globalInterceptor option by name', async () => {
    await expect(
      start([ConvoyModule.forRoot({ transport: new RecordingTransport(), globalInterceptor: false } as never)], []),
    ).rejects.toThrow(
      /"globalInterceptor": is not an option. Fix: remove it: @EmitsWebhook publishes from the handlers it decorates/,
    );
  });
});

describe('@EmitsWebhook on Fastify', () => {
  let app: INestApplication;
  let url: string;

  beforeEach(async () => {
    ({ app, url } = await start([ConvoyTestingModule.forRoot()], [TodosController, LocallyInterceptedController], {
      fastify: true,
    }));
  });

  it('publishes a handler result with the target from the query', async () => {
    const answer = await call(url, 'POST', '/todos?endpoint=ep_f', { title: 'On Fastify' });
    expect(answer).toEqual({ status: 201, body: { id: 1, title: 'On Fastify' } });
    const sent = await delivered(app);
    expect(sent.map((w) => [w.eventType, w.data, w.target])).toEqual([
      ['todo.created', { id: 1, title: 'On Fastify' }, { endpointId: 'ep_f' }],
    ]);
  });

  it('publishes the last value of an Observable and shapes data from the request', async () => {
    expect((await call(url, 'GET', '/todos/observable')).body).toEqual({ n: 3, publishedBeforeComplete: 0 });
    await call(url, 'POST', '/todos/shaped', { title: 'S' }, { 'x-tenant': 'fast' });
    const sent = await delivered(app);
    expect(sent.map((w) => w.data)).toEqual([
      { n: 3, publishedBeforeComplete: 0 },
      { title: 'S', tenant: 'fast', handler: 'TodosController.shaped' },
    ]);
  });

  it('publishes onError and passes the exception through unchanged', async () => {
    const answer = await call(url, 'GET', '/todos/missing');
    expect(answer).toEqual({ status: 404, body: { statusCode: 404, message: 'Todo 7 not found', error: 'Not Found' } });
    const sent = await delivered(app);
    expect(sent.map((w) => [w.eventType, w.data])).toEqual([
      ['todo.failure', { statusCode: 404, message: 'Todo 7 not found', error: 'Not Found' }],
    ]);
  });

  it("publishes the handler's result once inside the app's own interceptor", async () => {
    expect((await call(url, 'POST', '/local')).body).toEqual({ data: { id: 11, title: 'local' } });
    expect((await delivered(app)).map((w) => [w.eventType, w.data])).toEqual([
      ['local.created', { id: 11, title: 'local' }],
    ]);
  });
});
