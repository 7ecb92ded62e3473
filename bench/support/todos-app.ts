// The sample's Todo API in a separate process, for the interceptor benchmark: the sample's own TodosController
// (`POST /todos` with @EmitsWebhook('todo.created')) beside PlainTodosController, the identical route without it,
// InterceptedTodosController, the identical route with an interceptor that does nothing, and QuickTodosController,
// the route with @EmitsWebhook('todo.created') without onError (the sample's has one, which brings an interceptor).
// BENCH_TRANSPORT=null sends through a transport that does no I/O; =convoy sends to the Convoy sink at BENCH_CONVOY_URL.
import 'reflect-metadata';
import {
  Body,
  Controller,
  Injectable,
  Module,
  Post,
  UseInterceptors,
  type CallHandler,
  type NestInterceptor,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  ConvoyModule,
  EmitsWebhook,
  WebhookPublisher,
  type ConvoyModuleOptions,
  type WebhookTransport,
} from '../../lib/index.js';
import { parseNewTodo, type Todo } from '../../sample/todos/todo.js';
import { TodosController } from '../../sample/todos/todos.controller.js';
import { TodosService } from '../../sample/todos/todos.service.js';
import { serveCommands } from './child.js';
import { API_KEY, PROJECT } from './constants.js';

@Controller('plain-todos')
class PlainTodosController {
  constructor(private readonly todos: TodosService) {}

  @Post()
  create(@Body() body: unknown): Todo {
    return this.todos.create(parseNewTodo(body));
  }
}

/** An interceptor that does nothing: what Nest's interceptor path costs a route by itself. */
@Injectable()
class PassThroughInterceptor implements NestInterceptor {
  intercept(_context: unknown, next: CallHandler) {
    return next.handle();
  }
}

@Controller('intercepted-todos')
@UseInterceptors(PassThroughInterceptor)
class InterceptedTodosController {
  constructor(private readonly todos: TodosService) {}

  @Post()
  create(@Body() body: unknown): Todo {
    return this.todos.create(parseNewTodo(body));
  }
}

@Controller('quick-todos')
class QuickTodosController {
  constructor(private readonly todos: TodosService) {}

  @Post()
  @EmitsWebhook('todo.created')
  create(@Body() body: unknown): Todo {
    return this.todos.create(parseNewTodo(body));
  }
}

/** Accepts every event without I/O: what is left is the cost of the interceptor, publish() and the dispatcher. */
class NullTransport implements WebhookTransport {
  readonly name = 'null';
  sent = 0;
  async send(): Promise<void> {
    this.sent++;
  }
}

const nullTransport = new NullTransport();
const convoyUrl = process.env.BENCH_CONVOY_URL;
const options: ConvoyModuleOptions =
  process.env.BENCH_TRANSPORT === 'convoy'
    ? { convoy: { baseUrl: `${convoyUrl}/api`, apiKey: API_KEY, projectId: PROJECT } }
    : { transport: nullTransport };

@Module({
  imports: [ConvoyModule.forRoot({ ...options, delivery: { bufferSize: 100_000 } })],
  controllers: [TodosController, PlainTodosController, InterceptedTodosController, QuickTodosController],
  providers: [TodosService],
})
class BenchTodosModule {}

const app = await NestFactory.create(BenchTodosModule, { logger: false });
await app.listen(0, '127.0.0.1');
const todos = app.get(TodosService);
const publisher = app.get(WebhookPublisher);
serveCommands(
  {
    /** Webhooks handed to the transport so far (the null transport's count, or the dispatcher's sent). */
    sent: async () =>
      process.env.BENCH_TRANSPORT === 'convoy'
        ? (await publisher.flush(), (await publisher.stats()).sent)
        : (await publisher.flush(), nullTransport.sent),
    /** This process's CPU time so far (user + system, µs), for CPU per request. */
    cpu: () => {
      const { user, system } = process.cpuUsage();
      return user + system;
    },
    /** Forgets the todos created so far, so every round starts from the same heap. */
    reset: () => {
      for (const todo of todos.list()) todos.delete(todo.id);
      globalThis.gc?.();
    },
  },
  { url: await app.getUrl() },
);
