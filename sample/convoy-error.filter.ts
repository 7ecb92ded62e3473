import { Catch, HttpStatus, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { ConvoyError, ConvoyHttpError, ConvoyNotConfiguredError } from '../lib/index.js';

/**
 * Maps ConvoyClient errors to HTTP answers: Convoy's 4xx keep their status and message (a bad URL, an unknown
 * endpoint), an unreachable or failing Convoy becomes 502, and a missing configuration 503.
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
  if (error instanceof ConvoyNotConfiguredError) {
    return [HttpStatus.SERVICE_UNAVAILABLE, 'Endpoint management needs Convoy: set CONVOY_API_KEY, CONVOY_PROJECT_ID and CONVOY_URL'];
  }
  if (error instanceof ConvoyHttpError && error.status >= 400 && error.status < 500 && error.status !== 401 && error.status !== 429) {
    return [error.status, error.convoyMessage];
  }
  return [HttpStatus.BAD_GATEWAY, 'Convoy is unavailable, try again later'];
}
