import {
  HttpException,
  Injectable,
  Logger,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { Observable } from 'rxjs';
import { EMITS_WEBHOOK_METADATA } from '../convoy.constants.js';
import type { EmitsWebhookSpec } from './emits-webhook.decorator.js';
import { WebhookPublisher } from './webhook-publisher.js';

/**
 * Marks a handler call already handled, so that the WebhookInterceptor `@EmitsWebhook` puts on a handler and one the
 * app adds (globally, or on the controller) never publish twice.
 * Nest runs a route's global, controller and method interceptors with one ExecutionContext, so the mark goes on
 * it: a small object of one shape (marking the request, or a WeakSet of requests, cost µs per request).
 */
const HANDLED = Symbol.for('nestjs-convoy:webhook-interceptor'); // global: both builds' interceptors see it
/** A handler without `@EmitsWebhook()`, in the interceptor's cache. */
const NONE: EmitsWebhookSpec[] = [];
const RESOLVED = Promise.resolve();
const ignore = (): void => undefined;

/**
 * Turns the results of `@EmitsWebhook()` handlers into webhooks. The events are accepted by the publisher before the
 * response is sent (so, with durable storage, they survive a crash right after), while the actual
 * sending happens in the background. A publishing failure is logged, never turned into an error response.
 */
@Injectable()
export class WebhookInterceptor implements NestInterceptor {
  private readonly logger = new Logger('WebhookInterceptor');
  /** Each handler's specs (NONE: not decorated), see specsOf(). */
  private readonly specsByHandler = new WeakMap<object, EmitsWebhookSpec[]>();

  constructor(
    private readonly reflector: Reflector,
    private readonly publisher: WebhookPublisher,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const specs = this.specsOf(context.getHandler());
    if (specs === undefined || this.alreadyHandled(context)) return next.handle();
    // One Observable rather than a chain of operators (it runs on every decorated request): values pass through,
    // and completion (or the error) is held back until the webhooks are accepted by the publisher.
    return new Observable((subscriber) => {
      let result: unknown;
      return next.handle().subscribe({
        next: (value) => {
          result = value;
          subscriber.next(value);
        },
        error: (error: unknown) => void this.publishFailure(specs, context, error).then(() => subscriber.error(error)),
        complete: () => void this.publishSuccess(specs, context, result).then(() => subscriber.complete()),
      });
    });
  }

  /**
   * The handler's specs, read once per handler (decorators run when the class is defined): a metadata lookup walks
   * the handler's prototype chain on every request, undecorated routes included.
   */
  private specsOf(handler: object): EmitsWebhookSpec[] | undefined {
    let specs = this.specsByHandler.get(handler);
    if (specs === undefined) {
      const found = this.reflector.get<EmitsWebhookSpec[] | undefined>(EMITS_WEBHOOK_METADATA, handler as never);
      specs = found?.length ? found : NONE;
      this.specsByHandler.set(handler, specs);
    }
    return specs === NONE ? undefined : specs;
  }

  private alreadyHandled(context: ExecutionContext): boolean {
    const marked = context as ExecutionContext & { [HANDLED]?: true };
    if (marked[HANDLED]) return true;
    marked[HANDLED] = true;
    return false;
  }

  /**
   * Publishes each spec's event in turn; never rejects. Promise chains rather than async functions: each event
   * otherwise made several promises and closures (a share of what the decorator costs per request).
   */
  private publishSuccess(specs: EmitsWebhookSpec[], context: ExecutionContext, result: unknown): Promise<void> {
    let done = this.publishResult(specs[0]!, context, result);
    for (let i = 1; i < specs.length; i++) {
      const spec = specs[i]!;
      done = done.then(() => this.publishResult(spec, context, result));
    }
    return done;
  }

  private publishResult({ eventType, options }: EmitsWebhookSpec, context: ExecutionContext, result: unknown) {
    try {
      const data = options.data ? options.data(result, context) : result;
      if (data === undefined) {
        throw new Error('the handler returned nothing; return the data, or set the data option of @EmitsWebhook');
      }
      return this.logged(
        eventType,
        context,
        this.publisher.publish(eventType, data, options.target?.(context, result)),
      );
    } catch (error) {
      this.logFailure(eventType, context, error);
      return RESOLVED;
    }
  }

  private async publishFailure(specs: EmitsWebhookSpec[], context: ExecutionContext, error: unknown): Promise<void> {
    for (const { options } of specs) {
      if (options.onError === undefined) continue;
      const onError = typeof options.onError === 'string' ? { eventType: options.onError } : options.onError;
      await this.safely(onError.eventType, context, async () => {
        const data = onError.data ? onError.data(error, context) : describeError(error);
        await this.publisher.publish(onError.eventType, data, options.target?.(context, undefined));
      });
    }
  }

  private async safely(eventType: string, context: ExecutionContext, publish: () => Promise<void>): Promise<void> {
    try {
      await publish();
    } catch (error) {
      this.logFailure(eventType, context, error);
    }
  }

  /** `publishing`, resolved either way: a failure is logged. */
  private logged(eventType: string, context: ExecutionContext, publishing: Promise<unknown>): Promise<void> {
    return publishing.then(ignore, (error: unknown) => this.logFailure(eventType, context, error));
  }

  private logFailure(eventType: string, context: ExecutionContext, error: unknown): void {
    const where = `${context.getClass().name}.${context.getHandler().name}`;
    this.logger.error(
      `Could not publish ${eventType} from ${where}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

/** `{ statusCode, message }` of an HttpException; a generic 500 for anything else, so internals never leak. */
function describeError(error: unknown): { statusCode: number; message: unknown; error?: string } {
  if (!(error instanceof HttpException)) return { statusCode: 500, message: 'Internal server error' };
  const response = error.getResponse();
  if (typeof response === 'string') return { statusCode: error.getStatus(), message: response };
  const body = response as { message?: unknown; error?: unknown };
  return {
    statusCode: error.getStatus(),
    message: body.message ?? error.message,
    ...(typeof body.error === 'string' ? { error: body.error } : {}),
  };
}
