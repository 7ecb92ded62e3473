import { createParamDecorator, Inject, UseInterceptors, type ExecutionContext } from '@nestjs/common';
import { INTERCEPTORS_METADATA, PROPERTY_DEPS_METADATA, ROUTE_ARGS_METADATA } from '@nestjs/common/constants.js';
import type { Observable } from 'rxjs';
import type { EventTypeOf, WebhookEventCatalog } from '../catalog/webhook-events.js';
import { EMITS_WEBHOOK_METADATA } from '../convoy.constants.js';
import { ConvoyConfigurationError } from '../errors/configuration.error.js';
import { validateEventType } from './validate-webhook.js';
import { EVENT_TYPE_LENGTH_BOUND } from '../options/option-tables.js';
import type { PublishOptions } from './webhook.types.js';
import { callPublishing } from './handler-webhooks.js';
import { WebhookPublisher } from './webhook-publisher.js';
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
   * An event type to publish when the handler throws (or a pipe refuses its arguments), e.g. 'todo.failure'. The
   * exception still reaches the client unchanged. The handler then runs inside an interceptor of ours, which costs
   * the route Nest's interceptor path (tens of µs per request). Data: `{ statusCode, message }` of an HttpException
   * (500 and a generic message for any other error, so internals never leak into a webhook), or your own
   * `data(error, context)`.
   */
  onError?: string | { eventType: string; data?: (error: unknown, context: ExecutionContext) => unknown };
}

/** What `@EmitsWebhook()` records on a handler. */
export interface EmitsWebhookSpec {
  eventType: string;
  options: EmitsWebhookOptions;
}

/**
 * Publishes a webhook after the decorated route handler succeeds (value, Promise or Observable).
 * Stackable: each `@EmitsWebhook()` publishes its own event. It wraps the handler itself (no interceptor: Nest's
 * interceptor path costs every request of a route it is on, unless `onError` needs one) and reaches the app's
 * WebhookPublisher through the controller, so the controller's module needs ConvoyModule (global by default).
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
    const existing =
      (Reflect.getMetadata(EMITS_WEBHOOK_METADATA, descriptor.value as object) as EmitsWebhookSpec[] | undefined) ?? [];
    // Once, however many are stacked: the first (lowest) one wraps the handler; the others add their specs.
    if (existing.length === 0) descriptor.value = publishingHandler(target, key, descriptor.value as never) as never;
    // Decorators apply bottom-up; prepend so that events publish in the order they are written.
    Reflect.defineMetadata(EMITS_WEBHOOK_METADATA, [{ eventType, options }, ...existing], descriptor.value as object);
    // A pipe's refusal never reaches the handler: only an interceptor sees it, so onError brings one, which then
    // publishes every spec of the handler (the wrapper, without its hidden argument, is the handler as written).
    const interceptors = (Reflect.getMetadata(INTERCEPTORS_METADATA, descriptor.value as object) ?? []) as unknown[];
    if (options.onError !== undefined && !interceptors.includes(WebhookInterceptor)) {
      UseInterceptors(WebhookInterceptor)(target, key, descriptor);
      removeCallContext(target, key);
    }
    return descriptor;
  };
}

/** The controller property that holds the app's WebhookPublisher (Nest injects it). */
const PUBLISHER = Symbol.for('nestjs-convoy:emits-webhook-publisher');

/**
 * The handler's hidden last argument: the call's ExecutionContext, behind a function so that a global pipe that
 * walks its arguments' objects does not walk into the request.
 */
const callContext = (_data: unknown, context: ExecutionContext) => () => context;
const CallContext = createParamDecorator(callContext);

/** Takes the hidden argument off a handler that WebhookInterceptor publishes for: Nest need not make it per call. */
function removeCallContext(target: object, key: string | symbol): void {
  const routeArgs = Reflect.getMetadata(ROUTE_ARGS_METADATA, target.constructor, key) as Record<string, unknown>;
  const kept = Object.entries(routeArgs).filter(([, arg]) => (arg as { factory?: unknown }).factory !== callContext);
  Reflect.defineMetadata(ROUTE_ARGS_METADATA, Object.fromEntries(kept), target.constructor, key);
}

type Handler = (this: Record<symbol, unknown>, ...args: unknown[]) => unknown;

/**
 * The handler, wrapped: called by Nest with the hidden context argument, it publishes the specs' events; called
 * without it (a unit test, or a handler with onError, which WebhookInterceptor publishes for), it is the handler as
 * written.
 */
function publishingHandler(target: object, key: string | symbol, handler: Handler): Handler {
  const routeArgs = (Reflect.getMetadata(ROUTE_ARGS_METADATA, target.constructor, key) ?? {}) as Record<
    string,
    { index: number }
  >;
  const index = Math.max(handler.length, ...Object.values(routeArgs).map((arg) => arg.index + 1));
  CallContext()(target, key, index);
  const injected = (Reflect.getMetadata(PROPERTY_DEPS_METADATA, target.constructor) ?? []) as Array<{ key: unknown }>;
  if (!injected.some((dependency) => dependency.key === PUBLISHER)) Inject(WebhookPublisher)(target, PUBLISHER);
  // Read at the first call: every @EmitsWebhook of the handler has run by then.
  let specs: EmitsWebhookSpec[] | undefined;
  const wrapped: Handler = function (...args) {
    const contextOf = args[index];
    const publisher = this[PUBLISHER] as WebhookPublisher | undefined;
    if (typeof contextOf !== 'function' || publisher === undefined) return handler.apply(this, args);
    args.length = index; // the handler sees its own arguments only
    specs ??= Reflect.getMetadata(EMITS_WEBHOOK_METADATA, wrapped) as EmitsWebhookSpec[];
    return callPublishing(publisher, specs, (contextOf as () => ExecutionContext)(), () => handler.apply(this, args));
  };
  // What the decorators below this one recorded on the handler (routes, guards' metadata) stays on it.
  for (const metadataKey of Reflect.getOwnMetadataKeys(handler))
    Reflect.defineMetadata(metadataKey, Reflect.getOwnMetadata(metadataKey, handler), wrapped);
  Object.defineProperty(wrapped, 'name', { value: handler.name });
  return wrapped;
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
