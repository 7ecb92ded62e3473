import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import {
  InvalidEndpointError,
  WebhookEndpoints,
  type WebhookEndpoint,
  type WebhookEndpointInput,
} from '../../lib/index.js';

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
    return this.endpoints.create(body).catch((error: unknown) => Promise.reject(unresolvable(body, error) ?? error));
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
    return this.endpoints
      .update(id, body)
      .catch((error: unknown) => Promise.reject(unresolvable(body, error) ?? error));
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

/**
 * The embedded engine resolves an endpoint's host when the endpoint is created or changed (the SSRF guard checks
 * every address), and passes the resolver's own error on when that fails. For the caller this is a bad URL, like a
 * blocked one: InvalidEndpointError (400), rather than a 500. Only an error about the URL's own host is turned
 * into it, never one about something else (e.g. the database's host).
 */
function unresolvable(body: WebhookEndpointInput | undefined, error: unknown): InvalidEndpointError | undefined {
  const { code, hostname } = (error ?? {}) as { code?: unknown; hostname?: unknown };
  if (typeof code !== 'string' || typeof hostname !== 'string') return undefined;
  const url = typeof body?.url === 'string' && URL.canParse(body.url) ? new URL(body.url) : undefined;
  if (url?.hostname.toLowerCase() !== hostname.toLowerCase()) return undefined;
  return new InvalidEndpointError(
    'url',
    `host "${hostname}" could not be resolved (${code}); check the name and this machine's DNS`,
  );
}
