import { ConvoyHttpError } from '../../errors/convoy-api.errors.js';
import { ConvoyError } from '../../errors/convoy.error.js';
import { InvalidEndpointError, WebhookNotFoundError, WebhookStateError } from '../../errors/endpoint.errors.js';

/**
 * Convoy's answers in the management API's error types, so callers handle one set whichever transport runs.
 * Convoy answers "not found" with 404 on reads but 400 on writes, so a 400 saying "not found" is a 404 too.
 * Any other 400 is an invalid request for endpoint writes with a body, and a state error otherwise (e.g. pausing an
 * inactive endpoint), as the embedded engine reports them; `badRequest` overrides that choice.
 */
export async function mapConvoyError<T>(
  resource: 'endpoint' | 'delivery',
  id: string | undefined,
  call: () => Promise<T>,
  badRequest: 'invalid' | 'state' = resource === 'endpoint' ? 'invalid' : 'state',
): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (!(error instanceof ConvoyHttpError)) throw error;
    if (
      id !== undefined &&
      (error.status === 404 || (error.status === 400 && /not found/i.test(error.convoyMessage)))
    ) {
      throw Object.assign(new WebhookNotFoundError(resource, id), { cause: error });
    }
    if (error.status === 400 && badRequest === 'invalid')
      throw Object.assign(new InvalidEndpointError('(request)', `refused by Convoy: ${error.convoyMessage}`), {
        cause: error,
      });
    if (error.status === 400)
      throw Object.assign(new WebhookStateError(`Convoy refused: ${error.convoyMessage}`), { cause: error });
    throw error;
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
