import { Controller, Get } from '@nestjs/common';
import { targetFromQuery } from '../lib/index.js';
import { EmitsTodoWebhook } from './todos/todo.events.js';

@Controller()
export class AppController {
  /** As in Convoy's tutorials: GET / answers and publishes a `ping` webhook. */
  @Get()
  @EmitsTodoWebhook('ping', { target: targetFromQuery('endpoint') })
  ping(): { message: string } {
    return { message: 'pong' };
  }
}
