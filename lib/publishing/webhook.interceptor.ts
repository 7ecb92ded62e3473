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
 * Marks a handler call already handled, so that a global and a local WebhookInterceptor never publish twice.
 * Nest runs a route's global, controller and method interceptors with one ExecutionContext, so the mark goes on
 * it: a small object of one shape (marking the request, or a WeakSet of requests, cost µs per request).
 */
const HANDLED = Symbol.for('nestjs-convoy:webhook-interceptor'); // global: both builds' interceptors see it

/**
 * Turns the results of `@EmitsWebhook()` handlers into webhooks. The events are accepted by the publisher before the
 * response is sent (so, with durable storage, they survive a crash right after), while the actual
 * sending happens in the background. A publishing failure is logged, never turned into an error response.
 */
@Injectable()
export class WebhookInterceptor implements NestInterceptor {
  private readonly logger = new Logger('WebhookInterceptor');

  constructor(
    private readonly reflector: Reflector,
    private readonly publisher: WebhookPublisher,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const specs = this.reflector.get<EmitsWebhookSpec[] | undefined>(EMITS_WEBHOOK_METADATA, context.getHandler());
    if (!specs?.length || this.alreadyHandled(context)) return next.handle();
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

  private alreadyHandled(context: ExecutionContext): boolean {
    const marked = context as ExecutionContext & { [HANDLED]?: true };
    if (marked[HANDLED]) return true;
    marked[HANDLED] = true;
    return false;
  }

  private async publishSuccess(specs: EmitsWebhookSpec[], context: ExecutionContext, result: unknown): Promise<void> {
    for (const { eventType, options } of specs) {
      await this.safely(eventType, context, async () => {
        const data = options.data ? options.data(result, context) : result;
        if (data === undefined) {
          throw new Error('the handler returned nothing; return the data, or set the data option of @EmitsWebhook');
        }
        await this.publisher.publish(eventType, data, options.target?.(context, result));
      });
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
      const where = `${context.getClass().name}.${context.getHandler().name}`;
      this.logger.error(
        `Could not publish ${eventType} from ${where}: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
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
