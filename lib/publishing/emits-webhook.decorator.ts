import { UseInterceptors, type ExecutionContext } from '@nestjs/common';
import type { Observable } from 'rxjs';
import type { EventTypeOf, WebhookEventCatalog } from '../catalog/webhook-events.js';
import { EMITS_WEBHOOK_METADATA } from '../convoy.constants.js';
import { ConvoyConfigurationError } from '../errors/configuration.error.js';
import { validateEventType } from './validate-webhook.js';
import { EVENT_TYPE_LENGTH_BOUND } from '../options/option-tables.js';
import type { PublishOptions } from './webhook.types.js';
import { WebhookInterceptor } from './webhook.interceptor.js';

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
 * Stackable: each `@EmitsWebhook()` publishes its own event. Applies WebhookInterceptor to the handler it decorates
 * (once, however many are stacked), so only these handlers pay for an interceptor; needs ConvoyModule.
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
  return (target, key, descriptor) => {
    const handler = descriptor.value as object;
    const existing = (Reflect.getMetadata(EMITS_WEBHOOK_METADATA, handler) as EmitsWebhookSpec[] | undefined) ?? [];
    // Decorators apply bottom-up; prepend so that events publish in the order they are written.
    Reflect.defineMetadata(EMITS_WEBHOOK_METADATA, [{ eventType, options }, ...existing], handler);
    // On the handler, not every route: an interceptor costs each request of a route it is on (Nest wraps the handler
    // in Observables), whether or not it publishes.
    if (existing.length === 0) UseInterceptors(WebhookInterceptor)(target, key, descriptor);
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

/** A method decorator that only fits handlers whose result (value, Promise or Observable) is a `Result`. */
export type TypedMethodDecorator<Result> = <
  Handler extends (...args: never[]) => Result | Promise<Result> | Observable<Result>,
>(
  target: object,
  key: string | symbol,
  descriptor: TypedPropertyDescriptor<Handler>,
) => TypedPropertyDescriptor<Handler>;

/** `@EmitsWebhook()` typed by a catalog: see emitsWebhookFor(). */
export interface TypedEmitsWebhook<Payloads extends Record<string, unknown>> {
  /** The handler's result is the payload. */
  <Type extends keyof Payloads & string>(
    eventType: Type,
    options?: TypedEmitsWebhookOptions<Payloads, Payloads[Type]> & { data?: undefined },
  ): TypedMethodDecorator<Payloads[Type]>;
  /** `data` makes the payload from the handler's result. */
  <Type extends keyof Payloads & string, Result>(
    eventType: Type,
    options: TypedEmitsWebhookOptions<Payloads, Result> & {
      data: (result: Result, context: ExecutionContext) => Payloads[Type];
    },
  ): TypedMethodDecorator<Result>;
}

/** EmitsWebhookOptions with `onError` limited to the catalog's event types. */
export type TypedEmitsWebhookOptions<Payloads extends Record<string, unknown>, Result> = Omit<
  EmitsWebhookOptions<Result>,
  'onError'
> & {
  onError?:
    | (keyof Payloads & string)
    | {
        [Type in keyof Payloads & string]: {
          eventType: Type;
          data?: (error: unknown, context: ExecutionContext) => Payloads[Type];
        };
      }[keyof Payloads & string];
};

/**
 * `@EmitsWebhook()` typed by an event catalog: an event type outside the catalog, or a handler whose result is not
 * the event's payload (without `data`; with `data`, its return value), is a compile error, and an unknown type throws
 * when the class is loaded.
 *
 *   export const EmitsTodoWebhook = emitsWebhookFor(todoEvents);
 *   `@Post()` `@EmitsTodoWebhook('todo.created')` `create(@Body() dto: NewTodo): Todo { … }`
 */
export function emitsWebhookFor<Catalog extends WebhookEventCatalog>(
  catalog: Catalog,
): TypedEmitsWebhook<{ [Type in EventTypeOf<Catalog>]: NonNullable<Catalog['types']>[Type] }> {
  const known = (type: string) => {
    if (Object.hasOwn(catalog.events, type)) return;
    throw new ConvoyConfigurationError(
      'eventType',
      `"${type}" is not in the event catalog`,
      `add it to defineWebhookEvents() (known: ${Object.keys(catalog.events).join(', ')})`,
    );
  };
  return ((eventType: string, options: EmitsWebhookOptions = {}) => {
    known(eventType);
    if (options.onError !== undefined)
      known(typeof options.onError === 'string' ? options.onError : options.onError.eventType);
    return EmitsWebhook(eventType, options);
  }) as never;
}
