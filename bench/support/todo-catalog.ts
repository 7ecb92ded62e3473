// The event catalog of scenario 6: bench/support/constants.ts's todo as an application would describe it in zod.
import { z } from 'zod';
import { defineWebhookEvents } from '../../lib/index.js';

export const todoCatalog = defineWebhookEvents({
  'todo.created': z.object({
    id: z.number().int().min(1),
    title: z.string().min(1),
    description: z.string(),
    completed: z.boolean(),
    tags: z.array(z.string()),
    created_at: z.iso.datetime(),
  }),
});
