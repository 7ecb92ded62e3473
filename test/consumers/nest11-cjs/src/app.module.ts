import { Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { TerminusModule } from '@nestjs/terminus';
import { ConvoyModule } from 'nestjs-convoy';
import { WebhooksHealthIndicator } from 'nestjs-convoy/terminus';
import { convoyOptions } from './convoy.config';
import { TodosModule } from './todos/todos.module';
import { EndpointsController } from './webhooks/endpoints.controller';
import { HealthController } from './webhooks/health.controller';
import { ReceiverController } from './webhooks/receiver.controller';

@Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true }),
    ConvoyModule.forRootAsync({ imports: [ConfigModule], inject: [ConfigService], useFactory: convoyOptions }),
    TerminusModule,
    TodosModule,
  ],
  controllers: [EndpointsController, ReceiverController, HealthController],
  providers: [WebhooksHealthIndicator],
})
export class AppModule {}
