import { Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { APP_FILTER } from '@nestjs/core';
import { ConvoyModule } from '../lib/index.js'; // in your app: from 'nestjs-convoy'
import { ConvoyDashboardModule } from '../lib/dashboard/index.js'; // in your app: from 'nestjs-convoy/dashboard'
import { AppController } from './app.controller.js';
import { ConvoyErrorFilter } from './convoy-error.filter.js';
import { convoyOptionsFromEnv } from './convoy.config.js';
import { DeliveriesController } from './deliveries/deliveries.controller.js';
import { EndpointsController } from './endpoints/endpoints.controller.js';
import { OpenApiController } from './openapi/openapi.controller.js';
import { ConvoyPortalModule } from '../lib/portal/index.js'; // in your app: 'nestjs-convoy/portal'
import { PortalLinkController } from './portal/portal-link.controller.js';
import { portalOptionsFromEnv } from './portal/portal.config.js';
import { ReceiverController } from './receiver/receiver.controller.js';
import { TodosController } from './todos/todos.controller.js';
import { TodosService } from './todos/todos.service.js';

@Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true }),
    ConvoyModule.forRootAsync({ inject: [ConfigService], useFactory: convoyOptionsFromEnv }),
    // The customer portal at /webhooks/portal; GET /portal-link?owner=<id> hands out links to it.
    ConvoyPortalModule.registerAsync({
      path: '/webhooks/portal',
      inject: [ConfigService],
      useFactory: portalOptionsFromEnv,
    }),
    // The operator dashboard at /admin, open to anyone: allowed only with NODE_ENV=development (main.ts's default) or
    // test. Production needs a guard: ConvoyDashboardModule.register({ path: '/admin', guard: YourAdminGuard }).
    ConvoyDashboardModule.register({ path: '/admin' }),
  ],
  controllers: [
    AppController,
    TodosController,
    EndpointsController,
    DeliveriesController,
    ReceiverController,
    OpenApiController,
    PortalLinkController,
  ],
  providers: [TodosService, { provide: APP_FILTER, useClass: ConvoyErrorFilter }],
})
export class AppModule {}
