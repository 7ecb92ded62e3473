import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import { WebhookEndpoints, type WebhookEndpoint, type WebhookEndpointInput } from '../../lib/index.js';

/**
 * Manages the endpoints that receive the todo webhooks, through WebhookEndpoints: the same routes, fields and
 * errors with Convoy and with the embedded engine. Bodies use Convoy's field names (name, url, secret,
 * owner_id, event_types, advanced_signatures, http_timeout, rate_limit, …).
 */
@Controller('endpoints')
export class EndpointsController {
  constructor(private readonly endpoints: WebhookEndpoints) {}

  @Post()
  create(@Body() body: WebhookEndpointInput): Promise<WebhookEndpoint> {
    return this.endpoints.create(body);
  }

  @Get()
  async list(@Query('owner') ownerId?: string): Promise<WebhookEndpoint[]> {
    const all: WebhookEndpoint[] = [];
    for await (const endpoint of this.endpoints.iterate({ perPage: 100, ownerId })) all.push(endpoint);
    return all;
  }

  @Get(':id')
  get(@Param('id') id: string): Promise<WebhookEndpoint> {
    return this.endpoints.get(id);
  }

  @Put(':id')
  update(@Param('id') id: string, @Body() body: WebhookEndpointInput): Promise<WebhookEndpoint> {
    return this.endpoints.update(id, body);
  }

  @Delete(':id')
  async delete(@Param('id') id: string): Promise<{ deleted: string }> {
    await this.endpoints.delete(id);
    return { deleted: id };
  }

  /** Toggles active and paused. */
  @Post(':id/pause')
  @HttpCode(200)
  pause(@Param('id') id: string): Promise<WebhookEndpoint> {
    return this.endpoints.pause(id);
  }

  @Post(':id/activate')
  @HttpCode(200)
  activate(@Param('id') id: string): Promise<WebhookEndpoint> {
    return this.endpoints.activate(id);
  }

  /** Rotates the secret: body `{ "expiration": <seconds the old one keeps signing>, "secret"?: "…" }`. */
  @Post(':id/expire-secret')
  @HttpCode(200)
  expireSecret(
    @Param('id') id: string,
    @Body() body: { secret?: string; expiration: number },
  ): Promise<WebhookEndpoint> {
    return this.endpoints.expireSecret(id, body);
  }
}
