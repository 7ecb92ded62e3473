import { HttpException, Logger, type ExecutionContext } from '@nestjs/common';
import { isObservable, Observable } from 'rxjs';
import type { EmitsWebhookSpec } from './emits-webhook.decorator.js';
import type { WebhookPublisher } from './webhook-publisher.js';

const logger = new Logger('EmitsWebhook');
const RESOLVED = Promise.resolve();
const ignore = (): void => undefined;

/**
 * Calls a handler decorated with `@EmitsWebhook()` and publishes its events: after its result (value, Promise or the
 * last value of an Observable) for each spec, or each spec's onError event when it throws. The result reaches the
 * caller once the publisher accepted the events (so, with durable storage, they survive a crash right after); the
 * sending happens in the background. A publishing failure is logged, never turned into an error response.
 */
export function callPublishing(
  publisher: WebhookPublisher,
  specs: EmitsWebhookSpec[],
  context: ExecutionContext,
  call: () => unknown,
): unknown {
  let result: unknown;
  try {
    result = call();
  } catch (error) {
    return publishFailure(publisher, specs, context, error).then(() => Promise.reject(error));
  }
  if (isObservable(result)) {
    const source = result;
    // Values pass through; completion (or the error) is held back until the webhooks are accepted.
    return new Observable((subscriber) => {
      let last: unknown;
      return source.subscribe({
        next: (value) => {
          last = value;
          subscriber.next(value);
        },
        error: (error: unknown) =>
          void publishFailure(publisher, specs, context, error).then(() => subscriber.error(error)),
        complete: () => void publishSuccess(publisher, specs, context, last).then(() => subscriber.complete()),
      });
    });
  }
  return Promise.resolve(result).then(
    (value) => publishSuccess(publisher, specs, context, value).then(() => value),
    (error: unknown) => publishFailure(publisher, specs, context, error).then(() => Promise.reject(error)),
  );
}

/** Publishes each spec's event in turn; never rejects. */
function publishSuccess(
  publisher: WebhookPublisher,
  specs: EmitsWebhookSpec[],
  context: ExecutionContext,
  result: unknown,
): Promise<void> {
  let done = publishResult(publisher, specs[0]!, context, result);
  for (let i = 1; i < specs.length; i++) {
    const spec = specs[i]!;
    done = done.then(() => publishResult(publisher, spec, context, result));
  }
  return done;
}

function publishResult(
  publisher: WebhookPublisher,
  { eventType, options }: EmitsWebhookSpec,
  context: ExecutionContext,
  result: unknown,
): Promise<void> {
  try {
    const data = options.data ? options.data(result, context) : result;
    if (data === undefined) {
      throw new Error('the handler returned nothing; return the data, or set the data option of @EmitsWebhook');
    }
    return publisher
      .publish(eventType, data, options.target?.(context, result))
      .then(ignore, (error: unknown) => logFailure(eventType, context, error));
  } catch (error) {
    logFailure(eventType, context, error);
    return RESOLVED;
  }
}

/** Publishes each spec's onError event in turn; never rejects. */
async function publishFailure(
  publisher: WebhookPublisher,
  specs: EmitsWebhookSpec[],
  context: ExecutionContext,
  error: unknown,
): Promise<void> {
  for (const { options } of specs) {
    if (options.onError === undefined) continue;
    const onError = typeof options.onError === 'string' ? { eventType: options.onError } : options.onError;
    try {
      const data = onError.data ? onError.data(error, context) : describeError(error);
      await publisher.publish(onError.eventType, data, options.target?.(context, undefined));
    } catch (failure) {
      logFailure(onError.eventType, context, failure);
    }
  }
}

function logFailure(eventType: string, context: ExecutionContext, error: unknown): void {
  const where = `${context.getClass().name}.${context.getHandler().name}`;
  logger.error(
    `Could not publish ${eventType} from ${where}: ${error instanceof Error ? error.message : String(error)}`,
  );
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
