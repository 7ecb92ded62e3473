import { z } from 'zod';
import { defineWebhookEvents, emitsWebhookFor } from '../../lib/index.js'; // in your app: from 'nestjs-convoy'

/** A todo as its webhooks carry it (the shape of `Todo` in todo.ts). */
const todo = z.object({
  id: z.number().int().min(1),
  item: z.string().min(1),
  completed: z.boolean(),
  created_at: z.iso.datetime(),
  updated_at: z.iso.datetime(),
});

const example = {
  id: 1,
  item: 'Buy milk',
  completed: false,
  created_at: '2026-01-01T09:00:00.000Z',
  updated_at: '2026-01-01T09:00:00.000Z',
};

/**
 * The sample's webhooks and their payloads: registered with ConvoyModule (`events`), so publish() checks each
 * payload; typing the publisher and `@EmitsTodoWebhook()`; documented at `GET /openapi/webhooks.json`.
 */
export const todoEvents = defineWebhookEvents({
  ping: {
    schema: z.object({ message: z.string() }),
    description: '`GET /` was called.',
    category: 'health',
    example: { message: 'pong' },
  },
  'todo.created': { schema: todo, description: 'A todo was created.', category: 'todos', example },
  'todo.updated': {
    schema: todo,
    description: 'A todo was changed.',
    category: 'todos',
    example: { ...example, completed: true, updated_at: '2026-01-01T10:00:00.000Z' },
  },
  'todo.deleted': {
    schema: todo,
    description: 'A todo was deleted; the payload is the todo as it was.',
    category: 'todos',
    example,
  },
  'todo.retrieved': {
    schema: z.union([todo, z.object({ todos: z.array(todo) })]),
    description: 'One todo (`GET /todos/:id`) or all of them (`GET /todos`, as `{ todos }`) were read.',
    category: 'todos',
    example: { todos: [example] },
  },
  'todo.failure': {
    schema: z.object({
      operation: z.enum(['retrieve', 'create', 'update', 'delete']),
      id: z.number().int().optional(),
      status: z.number().int(),
      error: z.string(),
    }),
    description: 'An operation on a todo failed; the client got `status` and `error`.',
    category: 'todos',
    example: { operation: 'retrieve', id: 42, status: 404, error: 'Todo 42 not found' },
  },
});

/** `@EmitsWebhook()` typed by the catalog: a typo in an event type, or a handler returning another shape, fails tsc. */
export const EmitsTodoWebhook = emitsWebhookFor(todoEvents);
