import { Module } from '@nestjs/common';
import { TodosController } from './todos.controller.js';
import { TodosService } from './todos.service.js';

// WebhookPublisher comes from ConvoyModule, which is global: nothing to import here.
@Module({ controllers: [TodosController], providers: [TodosService] })
export class TodosModule {}
