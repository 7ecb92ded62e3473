import { BadRequestException, Body, Controller, Post } from '@nestjs/common';
import { InvalidEndpointError, WebhookEndpoints, type WebhookEndpoint, type WebhookEndpointInput } from 'nestjs-convoy';

/** Registers an endpoint (Convoy's fields: name, url, secret, …) with whichever transport runs. */
@Controller('endpoints')
export class EndpointsController {
  constructor(private readonly endpoints: WebhookEndpoints) {}

  @Post()
  async create(@Body() body: WebhookEndpointInput): Promise<WebhookEndpoint> {
    try {
      return await this.endpoints.create(body);
    } catch (error) {
      // A bad field, or a URL the SSRF guard refuses: the caller's mistake, not a 500.
      if (error instanceof InvalidEndpointError) throw new BadRequestException(error.message);
      throw error;
    }
  }
}
