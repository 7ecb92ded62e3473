import { BadRequestException } from '@nestjs/common';

/** A todo as in Convoy's FastAPI and Flask tutorials (`id`, `item`), with when it was made and changed. */
export interface Todo {
  id: number;
  item: string;
  completed: boolean;
  created_at: string;
  updated_at: string;
}

/** `POST /todos`: the tutorials' `{ "id": 1, "item": "…" }`; `id` is optional (the next free one when absent). */
export interface NewTodo {
  id?: number;
  item: string;
  completed?: boolean;
}

/** `PUT /todos/:id`: the fields to change. */
export interface TodoChanges {
  item?: string;
  completed?: boolean;
}

/** Checks a `POST /todos` body by hand, to keep the sample free of validation libraries. */
export function parseNewTodo(body: unknown): NewTodo {
  const { id, item, completed } = fieldsOf(body);
  if (id !== undefined && (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 1))
    throw new BadRequestException('id must be a whole number >= 1 (or left out for the next free one)');
  if (typeof item !== 'string' || item.trim() === '') throw new BadRequestException('item must be a non-empty string');
  return { id, item, completed: parseCompleted(completed) };
}

/** Checks a `PUT /todos/:id` body: `item`, `completed`, or both. */
export function parseTodoChanges(body: unknown): TodoChanges {
  const { item, completed } = fieldsOf(body);
  if (item === undefined && completed === undefined) throw new BadRequestException('Expected item and/or completed');
  if (item !== undefined && (typeof item !== 'string' || item.trim() === ''))
    throw new BadRequestException('item must be a non-empty string');
  return { item, completed: parseCompleted(completed) };
}

function fieldsOf(body: unknown): Record<string, unknown> {
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw new BadRequestException('Expected a JSON object body');
  return body as Record<string, unknown>;
}

function parseCompleted(completed: unknown): boolean | undefined {
  if (completed !== undefined && typeof completed !== 'boolean')
    throw new BadRequestException('completed must be true or false');
  return completed;
}
