import { Injectable, NotFoundException } from '@nestjs/common';
import type { Todo, TodoInput } from './todo.js';

/** An in-memory todo list, as in Convoy's tutorials. */
@Injectable()
export class TodosService {
  private readonly todos = new Map<number, Todo>();
  private nextId = 1;

  list(): Todo[] {
    return [...this.todos.values()];
  }

  get(id: number): Todo {
    const todo = this.todos.get(id);
    if (!todo) throw new NotFoundException(`Todo ${id} not found`);
    return todo;
  }

  create(input: TodoInput): Todo {
    const now = new Date().toISOString();
    const todo: Todo = {
      id: this.nextId++,
      title: input.title!,
      description: input.description ?? '',
      completed: input.completed ?? false,
      created_at: now,
      updated_at: now,
    };
    this.todos.set(todo.id, todo);
    return todo;
  }

  update(id: number, input: TodoInput): Todo {
    const todo = this.get(id);
    const updated: Todo = {
      ...todo,
      ...(input.title !== undefined ? { title: input.title } : {}),
      ...(input.description !== undefined ? { description: input.description } : {}),
      ...(input.completed !== undefined ? { completed: input.completed } : {}),
      updated_at: new Date().toISOString(),
    };
    this.todos.set(id, updated);
    return updated;
  }

  delete(id: number): Todo {
    const todo = this.get(id);
    this.todos.delete(id);
    return todo;
  }
}
