import { ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import type { NewTodo, Todo, TodoChanges } from './todo.js';

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

  create(input: NewTodo): Todo {
    const id = input.id ?? this.nextId;
    if (this.todos.has(id)) throw new ConflictException(`Todo ${id} already exists`);
    this.nextId = Math.max(this.nextId, id + 1);
    const now = new Date().toISOString();
    const todo: Todo = { id, item: input.item, completed: input.completed ?? false, created_at: now, updated_at: now };
    this.todos.set(id, todo);
    return todo;
  }

  update(id: number, changes: TodoChanges): Todo {
    const todo = this.get(id);
    const updated: Todo = {
      ...todo,
      ...(changes.item !== undefined ? { item: changes.item } : {}),
      ...(changes.completed !== undefined ? { completed: changes.completed } : {}),
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
