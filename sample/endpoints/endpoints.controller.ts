import { BadRequestException, Body, Controller, Delete, Get, Param, Post, Put } from '@nestjs/common';
import { ConvoyClient, type ConvoyEndpoint, type CreateEndpointRequest } from '../../lib/index.js';

/** Manages the Convoy endpoints that receive the todo webhooks, through ConvoyClient. */
@Controller('endpoints')
export class EndpointsController {
  constructor(private readonly convoy: ConvoyClient) {}

  /**
   * Creates the endpoint and a catch-all subscription for it: Convoy delivers an endpoint nothing
   * without a subscription (its events end as "empty subscriptions" failures).
   */
  @Post()
  async create(@Body() body: unknown): Promise<ConvoyEndpoint> {
    const input = endpointInput(body);
    const endpoint = await this.convoy.endpoints.create(input);
    await this.convoy.subscriptions.create({ name: `${endpoint.name}-all-events`, endpoint_id: endpoint.uid });
    return endpoint;
  }

  @Get()
  async list(): Promise<ConvoyEndpoint[]> {
    const endpoints: ConvoyEndpoint[] = [];
    for await (const endpoint of this.convoy.endpoints.iterate({ perPage: 100 })) endpoints.push(endpoint);
    return endpoints;
  }

  @Get(':id')
  get(@Param('id') id: string): Promise<ConvoyEndpoint> {
    return this.convoy.endpoints.get(id);
  }

  @Put(':id')
  async update(@Param('id') id: string, @Body() body: unknown): Promise<ConvoyEndpoint> {
    // Convoy's update requires name and url; fill them in from the current endpoint when omitted.
    const current = await this.convoy.endpoints.get(id);
    const changes = (body ?? {}) as Partial<CreateEndpointRequest>;
    return this.convoy.endpoints.update(id, endpointInput({ name: current.name, url: current.url, ...changes }));
  }

  @Delete(':id')
  async delete(@Param('id') id: string): Promise<{ deleted: string }> {
    await this.convoy.endpoints.delete(id);
    return { deleted: id };
  }
}

const FIELDS = ['name', 'url', 'secret', 'owner_id', 'description', 'advanced_signatures', 'http_timeout', 'rate_limit', 'rate_limit_duration', 'support_email'] as const;

function endpointInput(body: unknown): CreateEndpointRequest {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new BadRequestException('Expected a JSON object body');
  const input = body as Record<string, unknown>;
  if (typeof input.url !== 'string' || !/^https?:\/\//.test(input.url)) throw new BadRequestException('url must be an http(s) URL');
  const picked: Record<string, unknown> = { name: typeof input.name === 'string' && input.name !== '' ? input.name : new URL(input.url).host };
  for (const field of FIELDS) if (input[field] !== undefined && field !== 'name') picked[field] = input[field];
  return picked as unknown as CreateEndpointRequest;
}
