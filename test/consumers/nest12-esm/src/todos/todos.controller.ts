import { BadRequestException, Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { EmitsWebhook } from 'nestjs-convoy';
import type { Todo } from './todo.js';
import { TodosService } from './todos.service.js';

@Controller('todos')
export class TodosController {
  constructor(private readonly todos: TodosService) {}

  /** The returned todo is the webhook's data; a refused body (400) publishes nothing. */
  @Post()
  @EmitsWebhook('todo.created')
  create(@Body() body: { title?: unknown }): Todo {
    if (typeof body?.title !== 'string' || body.title.trim() === '')
      throw new BadRequestException('title must be a non-empty string');
    return this.todos.create(body.title);
  }

  @Post(':id/complete')
  @HttpCode(200)
  complete(@Param('id') id: string): Promise<Todo> {
    return this.todos.complete(id);
  }
}
