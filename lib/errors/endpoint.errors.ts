import { ConvoyError } from './convoy.error.js';

/** An endpoint create or update request was refused; nothing changed. Maps to HTTP 400. */
export class InvalidEndpointError extends ConvoyError {
  constructor(
    /** The field at fault, e.g. `url` or `http_timeout`. */
    readonly field: string,
    readonly reason: string,
    /** What refused it, when not the field's own check: the SSRF guard's error, or the resolver's. */
    cause?: unknown,
  ) {
    super(`Invalid endpoint: ${field} ${reason}`, cause === undefined ? undefined : { cause });
  }
}

/** No endpoint (or delivery) with that id. Maps to HTTP 404. */
export class WebhookNotFoundError extends ConvoyError {
  constructor(
    readonly resource: 'endpoint' | 'delivery' | 'attempt',
    readonly id: string,
  ) {
    super(`No ${resource} with id "${id}"`);
  }
}

/** The operation is not possible in the resource's current state (e.g. resending a delivery that succeeded). Maps to HTTP 409. */
export class WebhookStateError extends ConvoyError {
  constructor(message: string) {
    super(message);
  }
}

/** The management API needs the Convoy or the embedded transport. */
export class ManagementUnavailableError extends ConvoyError {
  constructor() {
    super(
      'Endpoint and delivery management needs the "convoy" or the "embedded" transport; the active transport keeps no endpoints',
    );
  }
}

export const unavailable = (): Promise<never> => Promise.reject(new ManagementUnavailableError());
