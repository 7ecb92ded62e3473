import { Injectable, NotFoundException } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { WebhookPublisher } from 'nestjs-convoy';
import type { Todo } from './todo.js';

/** An in-memory todo list that publishes from a provider, the way any service would. */
@Injectable()
export class TodosService {
  private readonly todos = new Map<string, Todo>();

  constructor(private readonly webhooks: WebhookPublisher) {}

  create(title: string): Todo {
    // Ids that are unique across restarts, since the outbox (and its idempotency keys) outlives this process.
    const todo: Todo = { id: randomUUID(), title, completed: false };
    this.todos.set(todo.id, todo);
    return todo;
  }

  /**
   * Publishes todo.completed itself (rather than through @EmitsWebhook): the idempotency key is derived from the
   * todo, so completing it twice delivers one webhook.
   */
  async complete(id: string): Promise<Todo> {
    const todo = this.todos.get(id);
    if (!todo) throw new NotFoundException(`Todo ${id} not found`);
    todo.completed = true;
    await this.webhooks.publish('todo.completed', todo, { idempotencyKey: `todo-${id}-completed` });
    return todo;
  }
}
