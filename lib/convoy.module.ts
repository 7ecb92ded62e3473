import { Inject, Module, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { ConvoyClient } from './client/convoy.client.js';
import { WEBHOOK_TRANSPORT } from './convoy.constants.js';
import { EmbeddedTransport } from './embedded/embedded.transport.js';
import { ConfigurableModuleClass } from './convoy.module-definition.js';
import { WebhookDispatcher } from './publisher/webhook-dispatcher.js';
import type { WebhookTransport } from './transports/webhook-transport.interface.js';

/**
 * ConvoyModule.forRoot(options) or ConvoyModule.forRootAsync({ imports, inject, useFactory | useClass | useExisting }).
 * Registers ConvoyClient, WebhookPublisher and the global WebhookInterceptor; global unless `isGlobal: false`.
 */
@Module({})
export class ConvoyModule extends ConfigurableModuleClass implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    @Inject(WebhookDispatcher) private readonly dispatcher: WebhookDispatcher,
    @Inject(WEBHOOK_TRANSPORT) private readonly transport: WebhookTransport,
    @Inject(ConvoyClient) private readonly client: ConvoyClient,
  ) {
    super();
  }

  /** The embedded engine starts delivering once the application is up. */
  onApplicationBootstrap(): void {
    if (this.transport instanceof EmbeddedTransport) this.transport.engine.start();
  }

  /**
   * Runs after the HTTP server stopped taking requests: first send what is buffered (within
   * dispatcher.drainTimeout), then close the transport, then the connection pool the sends needed.
   */
  async onApplicationShutdown(): Promise<void> {
    await this.dispatcher.close();
    await this.transport.close?.();
    await this.client.close();
  }
}
