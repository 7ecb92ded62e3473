import { Controller, Get } from '@nestjs/common';
import { webhooksOpenApi } from '../../lib/index.js'; // in your app: from 'nestjs-convoy'
import { todoEvents } from '../todos/todo.events.js';

/** The OpenAPI 3.1 document of the sample's webhooks, for the people who write receivers. */
@Controller('openapi')
export class OpenApiController {
  private readonly document = webhooksOpenApi(todoEvents, {
    title: 'Todo webhooks',
    version: '1.0.0',
    description:
      'The webhooks the todo sample sends, signed by Convoy (or the embedded engine) with X-Convoy-Signature.',
  });

  @Get('webhooks.json')
  webhooks(): Record<string, unknown> {
    return this.document;
  }
}
