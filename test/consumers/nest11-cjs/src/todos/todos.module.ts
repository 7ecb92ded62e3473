import { Module } from '@nestjs/common';
import { TodosController } from './todos.controller';
import { TodosService } from './todos.service';

// WebhookPublisher comes from ConvoyModule, which is global: nothing to import here.
@Module({ controllers: [TodosController], providers: [TodosService] })
export class TodosModule {}
