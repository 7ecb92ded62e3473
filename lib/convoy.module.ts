import { Inject, Module, type DynamicModule, type OnApplicationBootstrap, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { ConvoyClient } from './client/convoy.client.js';
import { StartupProjectCheck } from './client/project-check.js';
import { CONVOY_OPTIONS, PUBLISH_SINK, WEBHOOK_TRANSPORT } from './convoy.constants.js';
import { EmbeddedTransport } from './embedded/embedded.transport.js';
import { ConfigurableModuleClass, type OPTIONS_TYPE } from './convoy.module-definition.js';
import type { ResolvedConvoyOptions } from './options/convoy-module-options.interface.js';
import type { PublishSink } from './publisher/publish-sink.js';
import { ConvoyTransport } from './transports/convoy.transport.js';
import type { WebhookTransport } from './transports/webhook-transport.interface.js';

/**
 * ConvoyModule.forRoot(options) or ConvoyModule.forRootAsync({ imports, inject, useFactory | useClass | useExisting }).
 * Registers ConvoyClient, WebhookPublisher and the global WebhookInterceptor; global unless `isGlobal: false`.
 */
@Module({})
export class ConvoyModule extends ConfigurableModuleClass implements OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown {
  private projectCheck: StartupProjectCheck | undefined;

  constructor(
    @Inject(PUBLISH_SINK) private readonly sink: PublishSink,
    @Inject(CONVOY_OPTIONS) private readonly options: ResolvedConvoyOptions,
    @Inject(WEBHOOK_TRANSPORT) private readonly transport: WebhookTransport,
    @Inject(ConvoyClient) private readonly client: ConvoyClient,
  ) {
    super();
  }

  /** `forRoot()` with no options: the embedded engine, in memory. */
  static override forRoot(options: typeof OPTIONS_TYPE = {}): DynamicModule {
    return super.forRoot(options);
  }

  /**
   * With the Convoy transport: the credentials must reach the configured project (Convoy would otherwise quietly use
   * the key's project). Wrong settings stop startup; an unreachable Convoy does not (see StartupProjectCheck).
   */
  async onModuleInit(): Promise<void> {
    // The transport actually in use: a test that overrides WEBHOOK_TRANSPORT calls no Convoy, so nothing to check.
    if (!(this.transport instanceof ConvoyTransport) || !this.options.verifyProject || !this.client.configured) return;
    this.projectCheck = new StartupProjectCheck(this.client, Math.min(this.options.clientOptions?.timeout ?? 10_000, 5_000));
    await this.projectCheck.run();
  }

  /** The outbox relay and the embedded engine start working once the application is up. */
  onApplicationBootstrap(): void {
    this.sink.start?.();
    if (this.transport instanceof EmbeddedTransport) this.transport.engine.start();
  }

  /**
   * Runs after the HTTP server stopped taking requests: first the in-memory dispatcher sends what it buffered (the
   * outbox relay just finishes its sends: pending messages stay stored), then the transport closes, then the
   * connection pool the sends needed, then the storage.
   */
  async onApplicationShutdown(): Promise<void> {
    this.projectCheck?.stop();
    await this.sink.close();
    await this.transport.close?.();
    await this.client.close();
    await this.options.storage?.close();
  }
}
