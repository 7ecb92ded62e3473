import {
  Body,
  Controller,
  Delete,
  Get,
  HttpException,
  Param,
  ParseIntPipe,
  Post,
  Put,
  type ExecutionContext,
} from '@nestjs/common';
import { targetFromQuery } from '../../lib/index.js';
import { parseNewTodo, parseTodoChanges, type Todo } from './todo.js';
import { EmitsTodoWebhook } from './todo.events.js';
import { TodosService } from './todos.service.js';

/** `?endpoint=<id>` sends the webhook to that Convoy endpoint; without it, the event is broadcast. */
const target = targetFromQuery('endpoint');

/** What a `todo.failure` webhook carries: which operation failed on which todo, and why. */
function failure(operation: 'retrieve' | 'create' | 'update' | 'delete') {
  return {
    eventType: 'todo.failure' as const,
    data: (error: unknown, context: ExecutionContext) => {
      const id = todoId(context.switchToHttp().getRequest<{ params: { id?: string } }>().params.id);
      const status = error instanceof HttpException ? error.getStatus() : 500;
      const message = error instanceof HttpException ? error.message : 'Internal server error';
      return { operation, ...(id === undefined ? {} : { id }), status, error: message };
    },
  };
}

/** The route's `:id` as a todo id; undefined when it is not one (`/todos/abc`, refused with 400 by ParseIntPipe). */
function todoId(param: string | undefined): number | undefined {
  return param !== undefined && /^-?\d+$/.test(param) && Number.isSafeInteger(Number(param))
    ? Number(param)
    : undefined;
}

@Controller('todos')
export class TodosController {
  constructor(private readonly todos: TodosService) {}

  @Get()
  @EmitsTodoWebhook('todo.retrieved', { target, data: (todos: Todo[]) => ({ todos }) })
  list(): Todo[] {
    return this.todos.list();
  }

  @Get(':id')
  @EmitsTodoWebhook('todo.retrieved', { target, onError: failure('retrieve') })
  get(@Param('id', ParseIntPipe) id: number): Todo {
    return this.todos.get(id);
  }

  @Post()
  @EmitsTodoWebhook('todo.created', { target, onError: failure('create') })
  create(@Body() body: unknown): Todo {
    return this.todos.create(parseNewTodo(body));
  }

  @Put(':id')
  @EmitsTodoWebhook('todo.updated', { target, onError: failure('update') })
  update(@Param('id', ParseIntPipe) id: number, @Body() body: unknown): Todo {
    return this.todos.update(id, parseTodoChanges(body));
  }

  @Delete(':id')
  @EmitsTodoWebhook('todo.deleted', { target, onError: failure('delete') })
  delete(@Param('id', ParseIntPipe) id: number): Todo {
    return this.todos.delete(id);
  }
}
