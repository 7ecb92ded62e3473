import { ConvoyError } from './convoy.error.js';

/** One problem a catalog's schema found in a payload. */
export interface WebhookValidationIssue {
  /** Where, e.g. `data.items[2].total`. */
  path: string;
  /** The schema library's message, e.g. "Invalid input: expected number, received string". */
  message: string;
}

/** publish() was given an event type, data or options it cannot send. Nothing was queued. */
export class WebhookValidationError extends ConvoyError {
  constructor(
    /** The argument at fault: `eventType`, `data` (or a path into it, like `data.items[2].total`), or an option name. */
    readonly field: string,
    readonly reason: string,
    /** Every problem the event catalog's schema found (the first is `field`); empty for other checks. */
    readonly issues: readonly WebhookValidationIssue[] = [],
  ) {
    super(`Cannot publish webhook: ${field} ${reason}`);
  }
}

/** publish() was called after the application began shutting down and the buffer was drained. */
export class PublisherClosedError extends ConvoyError {
  constructor() {
    super('Cannot publish webhook: the publisher is shut down (the application is closing)');
  }
}

/** The in-process buffer is full and `dispatcher.whenFull` is 'reject'. Nothing was queued; try again later. */
export class PublishBufferFullError extends ConvoyError {
  override readonly retryable = true;

  constructor(readonly capacity: number) {
    super(
      `Cannot publish webhook: ${capacity} events are already waiting to be sent (dispatcher.bufferSize). ` +
        'The transport is slower than the publish rate or unavailable; retry later, raise bufferSize, or set ' +
        "dispatcher.whenFull to 'wait'",
    );
  }
}
