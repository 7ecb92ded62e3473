import type { ExecutionContext } from '@nestjs/common';
import { EMITS_WEBHOOK_METADATA } from '../convoy.constants.js';
import { validateEventType } from './validate-webhook.js';
import { EVENT_TYPE_LENGTH_BOUND } from '../options/option-tables.js';
import type { PublishOptions } from './webhook.types.js';

/** Options of `@EmitsWebhook()`: the webhook's data and target, and an event for a handler that throws. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any: a typed `data(result: Todo)` must fit EmitsWebhookSpec's options
export interface EmitsWebhookOptions<TResult = any> {
  /** The webhook's data. Default: the handler's result. */
  data?: (result: TResult, context: ExecutionContext) => unknown;
  /**
   * Target (and idempotency key, headers) from the request, e.g. `?endpoint=`.
   * Default: the module's defaultTarget. Also used for `onError`, then with `result` undefined.
   */
  target?: (context: ExecutionContext, result: TResult | undefined) => PublishOptions | undefined;
  /**
   * An event type to publish when the handler throws, e.g. 'todo.failure'. The exception still reaches the
   * client unchanged. Data: `{ statusCode, message }` of an HttpException (500 and a generic message for any
   * other error, so internals never leak into a webhook), or your own `data(error, context)`.
   */
  onError?: string | { eventType: string; data?: (error: unknown, context: ExecutionContext) => unknown };
}

/** What `@EmitsWebhook()` records on a handler for the interceptor. */
export interface EmitsWebhookSpec {
  eventType: string;
  options: EmitsWebhookOptions;
}

/**
 * Publishes a webhook after the decorated route handler succeeds (value, Promise or Observable).
 * Stackable: each `@EmitsWebhook()` publishes its own event. Needs ConvoyModule (which applies
 * WebhookInterceptor globally) or `@UseInterceptors(WebhookInterceptor)`.
 *
 *   `@Post()` `@EmitsWebhook('todo.created', { target: targetFromQuery('endpoint') })`
 *   `create(@Body() dto: CreateTodo) { return this.todos.create(dto); }`
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any: a typed `data(result: Todo)` must fit EmitsWebhookSpec's options
export function EmitsWebhook<TResult = any>(
  eventType: string,
  options: EmitsWebhookOptions<TResult> = {},
): MethodDecorator {
  // The module's limits.maxEventTypeLength applies when publishing; at load, only its highest value is known.
  validateEventType(eventType, EVENT_TYPE_LENGTH_BOUND);
  if (options.onError !== undefined)
    validateEventType(
      typeof options.onError === 'string' ? options.onError : options.onError.eventType,
      EVENT_TYPE_LENGTH_BOUND,
    );
  return (_target, _key, descriptor) => {
    const handler = descriptor.value as object;
    const existing = (Reflect.getMetadata(EMITS_WEBHOOK_METADATA, handler) as EmitsWebhookSpec[] | undefined) ?? [];
    // Decorators apply bottom-up; prepend so that events publish in the order they are written.
    Reflect.defineMetadata(EMITS_WEBHOOK_METADATA, [{ eventType, options }, ...existing], handler);
    return descriptor;
  };
}

/**
 * A `target` that reads an endpoint id from a query parameter (as Convoy's tutorials do with `?endpoint=`),
 * and uses the module's defaultTarget when it is absent.
 */
export function targetFromQuery(parameter = 'endpoint'): (context: ExecutionContext) => PublishOptions | undefined {
  return (context) => {
    const request = context.switchToHttp().getRequest<{ url?: string; query?: Record<string, unknown> }>();
    // No query string, no lookup: Express 5 parses `req.query` anew on every read, a real share of a small request.
    if (typeof request?.url === 'string' && !request.url.includes('?')) return undefined;
    const value = request?.query?.[parameter];
    return typeof value === 'string' && value !== '' ? { endpointId: value } : undefined;
  };
}
