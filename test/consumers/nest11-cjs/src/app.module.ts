import { randomBytes } from 'node:crypto';
import { Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { TerminusModule } from '@nestjs/terminus';
import { ConvoyModule } from 'nestjs-convoy';
import { ConvoyPortalModule } from 'nestjs-convoy/portal';
import { WebhooksHealthIndicator } from 'nestjs-convoy/terminus';
import { convoyOptions } from './convoy.config';
import { TodosModule } from './todos/todos.module';
import { EndpointsController } from './webhooks/endpoints.controller';
import { HealthController } from './webhooks/health.controller';
import { PortalLinkController } from './webhooks/portal-link.controller';
import { ReceiverController } from './webhooks/receiver.controller';

@Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true }),
    ConvoyModule.forRootAsync({ imports: [ConfigModule], inject: [ConfigService], useFactory: convoyOptions }),
    TerminusModule,
    TodosModule,
    // The customer portal (a random key when none is set: links then last as long as the process).
    ConvoyPortalModule.register({
      path: '/webhooks/portal',
      signingKey: process.env.PORTAL_SIGNING_KEY ?? randomBytes(32).toString('base64'),
    }),
  ],
  controllers: [EndpointsController, ReceiverController, HealthController, PortalLinkController],
  providers: [WebhooksHealthIndicator],
})
export class AppModule {}
