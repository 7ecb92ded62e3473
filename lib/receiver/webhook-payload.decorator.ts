import { createParamDecorator, type ExecutionContext, type PipeTransform, type Type } from '@nestjs/common';
import { getVerifiedWebhook } from './convoy-webhook.guard.js';

/**
 * The verified webhook's payload, parsed as JSON from the exact bytes that were signed (not `req.body`, which a
 * body parser or middleware may have changed). `@WebhookPayload('amount')` picks one top-level property.
 * Pipes work as with `@Body()`: `@WebhookPayload(new ValidationPipe())`.
 *
 * Only on routes guarded by `@VerifyConvoyWebhook()`; anywhere else it fails (500) rather than hand out
 * unverified data.
 *
 * (Typed by hand: the type tsc would infer names Nest 12's ParameterDecoratorOptions, which Nest 11 lacks.)
 */
export const WebhookPayload: (
  ...propertyOrPipes: Array<string | PipeTransform | Type<PipeTransform>>
) => ParameterDecorator = createParamDecorator((property: string | undefined, context: ExecutionContext): unknown => {
  const verified = getVerifiedWebhook(context.switchToHttp().getRequest<object>());
  if (!verified) {
    throw new Error(
      `@WebhookPayload() in ${context.getClass().name}.${context.getHandler().name} found no verified webhook: ` +
        'add @VerifyConvoyWebhook({ secret }) to the handler or its controller',
    );
  }
  const { payload } = verified;
  if (property === undefined) return payload;
  return payload !== null && typeof payload === 'object' ? (payload as Record<string, unknown>)[property] : undefined;
});
