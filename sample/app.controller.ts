import { Controller, Get } from '@nestjs/common';
import { EmitsWebhook, targetFromQuery } from '../lib/index.js';

@Controller()
export class AppController {
  /** As in Convoy's tutorials: GET / answers and publishes a `ping` webhook. */
  @Get()
  @EmitsWebhook('ping', { target: targetFromQuery('endpoint') })
  ping(): { message: string } {
    return { message: 'pong' };
  }
}
