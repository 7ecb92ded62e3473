import { BadRequestException } from '@nestjs/common';

export interface Todo {
  id: number;
  title: string;
  description: string;
  completed: boolean;
  created_at: string;
  updated_at: string;
}

export interface TodoInput {
  title?: string;
  description?: string;
  completed?: boolean;
}

/** Checks a create/update body by hand, to keep the sample free of validation libraries. */
export function parseTodoInput(body: unknown, { partial }: { partial: boolean }): TodoInput {
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw new BadRequestException('Expected a JSON object body');
  const { title, description, completed } = body as Record<string, unknown>;
  if (!(partial && title === undefined) && (typeof title !== 'string' || title.trim() === '')) {
    throw new BadRequestException('title must be a non-empty string');
  }
  if (description !== undefined && typeof description !== 'string')
    throw new BadRequestException('description must be a string');
  if (completed !== undefined && typeof completed !== 'boolean')
    throw new BadRequestException('completed must be true or false');
  return { title: title as string | undefined, description, completed };
}
