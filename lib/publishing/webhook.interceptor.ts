import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import type { Observable } from 'rxjs';
import { EMITS_WEBHOOK_METADATA } from '../convoy.constants.js';
import type { EmitsWebhookSpec } from './emits-webhook.decorator.js';
import { callPublishing } from './handler-webhooks.js';
import { WebhookPublisher } from './webhook-publisher.js';

/**
 * Publishes the events of an `@EmitsWebhook()` handler that has `onError`, from around Nest's whole call of it: a
 * pipe's refusal (a 400 before the handler runs) reaches an interceptor, not the handler, and publishes the failure
 * event too. `@EmitsWebhook` applies it to those handlers only (and publishes itself for the others): an interceptor
 * costs every request of a route it is on.
 */
@Injectable()
export class WebhookInterceptor implements NestInterceptor {
  constructor(private readonly publisher: WebhookPublisher) {}

  /** Each handler's specs, read once (every request of the route needs them). */
  private readonly specsOf = new WeakMap<object, EmitsWebhookSpec[]>();

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const handler = context.getHandler();
    let specs = this.specsOf.get(handler);
    if (specs === undefined) {
      specs = Reflect.getMetadata(EMITS_WEBHOOK_METADATA, handler) as EmitsWebhookSpec[];
      this.specsOf.set(handler, specs);
    }
    return callPublishing(this.publisher, specs, context, () => next.handle()) as Observable<unknown>;
  }
}
