// Compile-time checks of the typed event catalog, run by `npm run typecheck` (tsc), not by Jest: each
// `@ts-expect-error` line must be an error, so a catalog type that lets a typo or a wrong payload through fails tsc.
import { Controller, Get, Injectable } from '@nestjs/common';
import { Observable, of } from 'rxjs';
import { z } from 'zod';
import { defineWebhookEvents, emitsWebhookFor, WebhookPublisher } from '../../lib/index.js';
import { EmitsTodoWebhook, todoEvents } from '../../sample/todos/todo.events.js';
import type { Todo } from '../../sample/todos/todo.js';

declare const todo: Todo;

@Injectable()
export class TodoNotifier {
  constructor(private readonly publisher: WebhookPublisher<typeof todoEvents>) {}

  async valid(): Promise<void> {
    await this.publisher.publish('todo.created', todo);
    await this.publisher.publish('todo.retrieved', { todos: [todo] });
    await this.publisher.publish('todo.failure', { operation: 'delete', status: 404, error: 'Todo 1 not found' });
  }

  async typos(): Promise<void> {
    // @ts-expect-error -- a typo in the event type
    await this.publisher.publish('todo.cretaed', todo);
    // @ts-expect-error -- a payload of the wrong shape (item is a string)
    await this.publisher.publish('todo.created', { ...todo, item: 42 });
    // @ts-expect-error -- a payload missing a field
    await this.publisher.publish('todo.updated', { id: 1, item: 'x' });
    // @ts-expect-error -- not an operation of todo.failure
    await this.publisher.publish('todo.failure', { operation: 'archive', status: 500, error: 'x' });
  }
}

/** Without a catalog, the publisher takes any string and any data, as before. */
export async function untyped(publisher: WebhookPublisher): Promise<void> {
  await publisher.publish('anything.at.all', { whatever: true });
  await publisher.publish('todo.cretaed', 42);
}

@Controller('typed')
export class TypedController {
  @Get('a')
  @EmitsTodoWebhook('todo.created')
  created(): Todo {
    return todo;
  }

  @Get('b')
  @EmitsTodoWebhook('todo.updated')
  async updated(): Promise<Todo> {
    return todo;
  }

  @Get('c')
  @EmitsTodoWebhook('todo.deleted')
  deleted(): Observable<Todo> {
    return of(todo);
  }

  @Get('d')
  @EmitsTodoWebhook('todo.retrieved', { data: (todos: Todo[]) => ({ todos }) })
  list(): Todo[] {
    return [todo];
  }

  @Get('e')
  @EmitsTodoWebhook('ping', { onError: 'todo.failure' })
  ping(): { message: string } {
    return { message: 'pong' };
  }

  @Get('typo')
  // @ts-expect-error -- a typo in the event type
  @EmitsTodoWebhook('todo.cretaed')
  typo(): Todo {
    return todo;
  }

  @Get('wrong-result')
  // @ts-expect-error -- the handler's result is not the payload of todo.created
  @EmitsTodoWebhook('todo.created')
  wrongResult(): { message: string } {
    return { message: 'pong' };
  }

  @Get('wrong-data')
  // @ts-expect-error -- data() does not return the payload of todo.retrieved
  @EmitsTodoWebhook('todo.retrieved', { data: (todos: Todo[]) => todos.length })
  wrongData(): Todo[] {
    return [todo];
  }

  @Get('wrong-on-error')
  // @ts-expect-error -- onError names an event type outside the catalog
  @EmitsTodoWebhook('ping', { onError: 'todo.oops' })
  wrongOnError(): { message: string } {
    return { message: 'pong' };
  }
}

/** A plain JSON Schema types the event types; its payload is unknown. */
export const jsonEvents = defineWebhookEvents({ 'invoice.paid': { type: 'object', required: ['id'] } });
export async function jsonSchemaCatalog(publisher: WebhookPublisher<typeof jsonEvents>): Promise<void> {
  await publisher.publish('invoice.paid', { id: 'inv_1' });
  // @ts-expect-error -- not in the catalog
  await publisher.publish('invoice.void', { id: 'inv_1' });
}

/** A schema alone, without { schema }, types its payload too. */
export const bare = defineWebhookEvents({ 'user.signed_up': z.object({ email: z.email() }) });
export const EmitsUserWebhook = emitsWebhookFor(bare);
export async function bareSchema(publisher: WebhookPublisher<typeof bare>): Promise<void> {
  await publisher.publish('user.signed_up', { email: 'a@example.com' });
  // @ts-expect-error -- email is required
  await publisher.publish('user.signed_up', {});
}
