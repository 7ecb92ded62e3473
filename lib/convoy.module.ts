import {
  Inject,
  Module,
  type DynamicModule,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { ConvoyClient } from './client/convoy.client.js';
import { CONVOY_OPTIONS, WEBHOOK_STORE, WEBHOOK_TRANSPORT } from './convoy.constants.js';
import { ConfigurableModuleClass, type OPTIONS_TYPE } from './convoy.module-definition.js';
import type { ResolvedConvoyOptions } from './options/convoy-module-options.js';
import { DeliveryPipeline } from './pipeline/pipeline.js';
import type { WebhookStore } from './storage/webhook-store.js';
import type { WebhookTransport } from './transports/webhook-transport.interface.js';

/**
 * The Nest module that publishes your events as webhooks, through Convoy or the embedded engine:
 * `ConvoyModule.forRoot({...})` or `ConvoyModule.forRootAsync({ imports, inject, useFactory })`.
 * Registers ConvoyClient and WebhookPublisher (which `@EmitsWebhook` handlers publish through); global unless
 * `isGlobal: false`.
 */
@Module({})
export class ConvoyModule
  extends ConfigurableModuleClass
  implements OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown
{
  constructor(
    @Inject(DeliveryPipeline) private readonly pipeline: DeliveryPipeline,
    @Inject(CONVOY_OPTIONS) private readonly options: ResolvedConvoyOptions,
    @Inject(WEBHOOK_TRANSPORT) private readonly transport: Pick<WebhookTransport, 'start' | 'close'>,
    @Inject(WEBHOOK_STORE) private readonly store: WebhookStore,
    @Inject(ConvoyClient) private readonly client: ConvoyClient,
  ) {
    super();
  }

  /** `forRoot()` with no options: the embedded engine, in memory. */
  static override forRoot(options: typeof OPTIONS_TYPE = {}): DynamicModule {
    return super.forRoot(options);
  }

  /** The transport's own startup checks (Convoy's: the credentials reach the configured project) run before the app starts. */
  async onModuleInit(): Promise<void> {
    await this.transport.start?.();
  }

  /** The pipeline starts working once the application is up. */
  onApplicationBootstrap(): void {
    this.pipeline.start();
  }

  /**
   * Runs after the HTTP server stopped taking requests: first the pipeline drains (without storage it keeps sending
   * what it holds, since that would be lost; with storage pending work stays stored), then the transport closes, then
   * the connection pool the sends needed, then the storage (or the in-memory store, refusing late publishes).
   */
  async onApplicationShutdown(): Promise<void> {
    await this.pipeline.close();
    await this.transport.close?.();
    await this.client.close();
    if (this.options.storage) await this.options.storage.close();
    else await this.store.close();
  }
}
