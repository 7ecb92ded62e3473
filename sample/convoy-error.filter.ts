import { Catch, HttpStatus, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import {
  ConvoyError,
  ConvoyHttpError,
  InvalidEndpointError,
  ManagementUnavailableError,
  StorageUnavailableError,
  WebhookNotFoundError,
  WebhookStateError,
} from '../lib/index.js';
import { ConvoyNotConfiguredError } from '../lib/client/index.js'; // in your app: from 'nestjs-convoy/client'

/**
 * Maps the library's errors to HTTP answers: a refused endpoint is 400, an unknown id 404, a wrong state 409, the
 * database away 503; Convoy's other 4xx keep their status and message; an unreachable or failing Convoy is 502.
 */
@Catch(ConvoyError)
export class ConvoyErrorFilter implements ExceptionFilter {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(error: ConvoyError, host: ArgumentsHost): void {
    const [status, message] = describe(error);
    this.adapterHost.httpAdapter.reply(host.switchToHttp().getResponse(), { statusCode: status, message }, status);
  }
}

function describe(error: ConvoyError): [number, string] {
  if (error instanceof InvalidEndpointError) return [HttpStatus.BAD_REQUEST, error.message];
  if (error instanceof WebhookNotFoundError) return [HttpStatus.NOT_FOUND, error.message];
  if (error instanceof WebhookStateError) return [HttpStatus.CONFLICT, error.message];
  if (
    error instanceof ConvoyNotConfiguredError ||
    error instanceof ManagementUnavailableError ||
    error instanceof StorageUnavailableError
  )
    return [HttpStatus.SERVICE_UNAVAILABLE, error.message];
  if (
    error instanceof ConvoyHttpError &&
    error.status >= 400 &&
    error.status < 500 &&
    error.status !== 401 &&
    error.status !== 429
  ) {
    return [error.status, error.convoyMessage];
  }
  return [HttpStatus.BAD_GATEWAY, 'Convoy is unavailable, try again later'];
}
