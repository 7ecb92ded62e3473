import { Logger, type Provider } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { ConvoyClient } from './client/convoy.client.js';
import { CONVOY_OPTIONS, PUBLISH_SINK, WEBHOOK_TRANSPORT } from './convoy.constants.js';
import { EmbeddedEngine } from './embedded/embedded-engine.js';
import { chooseStore, type ResolvedEmbeddedOptions } from './embedded/embedded-options.js';
import { EmbeddedTransport } from './embedded/embedded.transport.js';
import { WebhookEventForwarder } from './event-emitter/webhook-event-forwarder.js';
import { WebhookInterceptor } from './interceptors/webhook.interceptor.js';
import { ConvoyWebhookDeliveries, EmbeddedWebhookDeliveries, UnavailableWebhookDeliveries, WebhookDeliveries } from './management/webhook-deliveries.js';
import { ConvoyWebhookEndpoints, EmbeddedWebhookEndpoints, UnavailableWebhookEndpoints, WebhookEndpoints } from './management/webhook-endpoints.js';
import { AddressPolicy } from './network/address-policy.js';
import { createGuardedAgent } from './network/destination.js';
import type { ConvoyModuleExtras, ConvoyModuleOptions, ResolvedConvoyOptions } from './options/convoy-module-options.interface.js';
import { resolveModuleOptions } from './options/resolve-module-options.js';
import { OutboxRelay } from './outbox/outbox-relay.js';
import { WebhookOutbox } from './outbox/webhook-outbox.js';
import type { PublishSink } from './publisher/publish-sink.js';
import { WebhookDispatcher } from './publisher/webhook-dispatcher.js';
import type { ConvoyStorage } from './storage/convoy-storage.interface.js';
import { WebhookPublisher } from './publisher/webhook-publisher.js';
import { ConvoyTransport } from './transports/convoy.transport.js';
import { LoggingTransport } from './transports/logging.transport.js';
import type { WebhookTransport } from './transports/webhook-transport.interface.js';
import { otherBuildAliases, shareInjectables } from './utils/both-builds.js';

const logger = new Logger('ConvoyModule');

function createEmbeddedTransport(options: ResolvedEmbeddedOptions, fallback: boolean, drainTimeoutMs: number, storage: ConvoyStorage | undefined): EmbeddedTransport {
  const store = chooseStore(options, storage?.webhooks);
  const policy = new AddressPolicy({ allowPrivateNetworks: options.allowPrivateNetworks, allowedAddresses: options.allowedAddresses });
  const agent = createGuardedAgent(policy, { lookupAll: options.lookup, connections: options.worker.endpointConcurrency, keepAliveTimeout: 30_000 });
  const engine = new EmbeddedEngine({ store, policy, agent, lookupAll: options.lookup, worker: options.worker, http: { userAgent: options.userAgent, maxResponseBytes: options.maxResponseBytes }, drainTimeoutMs });
  if (fallback) logger.log('No Convoy credentials are configured: webhooks are signed and delivered by the embedded engine.');
  if (store.volatile) {
    logger.warn('The embedded engine keeps endpoints and pending deliveries in memory: they are lost when the process exits. Configure a durable store for production.');
  }
  return new EmbeddedTransport(engine);
}

function createTransport(options: ResolvedConvoyOptions, client: ConvoyClient): WebhookTransport {
  switch (options.transport) {
    case 'convoy':
      return new ConvoyTransport(client);
    case 'embedded':
      return createEmbeddedTransport(options.embedded, options.transportIsFallback, options.dispatcher.drainTimeout, options.storage);
    case 'log':
      logger.warn('The log transport is active: webhooks are only logged, not delivered.');
      return new LoggingTransport();
    default:
      return options.transport;
  }
}

/** With storage, the durable outbox and its relay; without, the in-memory dispatcher. */
function createSink(options: ResolvedConvoyOptions, transport: WebhookTransport): PublishSink {
  if (options.storage) return new OutboxRelay(options.storage.outbox, transport, options.outbox);
  if (process.env.NODE_ENV === 'production') {
    logger.warn('Published events wait in memory until sent: a crash loses them. Pass `storage` (nestjs-convoy/postgres or /pglite) for a durable outbox.');
  }
  return new WebhookDispatcher(transport, options.dispatcher);
}

/** The module's providers; plain classes built by factories, so each can also be used without Nest. */
export function convoyProviders(optionsToken: string | symbol, extras: ConvoyModuleExtras): Provider[] {
  return [
    { provide: CONVOY_OPTIONS, useFactory: (raw: ConvoyModuleOptions) => resolveModuleOptions(raw), inject: [optionsToken] },
    {
      provide: ConvoyClient,
      useFactory: (o: ResolvedConvoyOptions) => (o.clientOptions ? new ConvoyClient(o.clientOptions) : new ConvoyClient(null)),
      inject: [CONVOY_OPTIONS],
    },
    { provide: WEBHOOK_TRANSPORT, useFactory: createTransport, inject: [CONVOY_OPTIONS, ConvoyClient] },
    { provide: PUBLISH_SINK, useFactory: createSink, inject: [CONVOY_OPTIONS, WEBHOOK_TRANSPORT] },
    {
      provide: WebhookPublisher,
      useFactory: (o: ResolvedConvoyOptions, sink: PublishSink) => new WebhookPublisher(sink, o.defaultTarget),
      inject: [CONVOY_OPTIONS, PUBLISH_SINK],
    },
    {
      provide: WebhookEndpoints,
      useFactory: (transport: WebhookTransport, client: ConvoyClient): WebhookEndpoints =>
        transport instanceof EmbeddedTransport
          ? new EmbeddedWebhookEndpoints(transport.engine)
          : transport instanceof ConvoyTransport
            ? new ConvoyWebhookEndpoints(client)
            : new UnavailableWebhookEndpoints(),
      inject: [WEBHOOK_TRANSPORT, ConvoyClient],
    },
    {
      provide: WebhookDeliveries,
      useFactory: (transport: WebhookTransport, client: ConvoyClient, o: ResolvedConvoyOptions): WebhookDeliveries =>
        transport instanceof EmbeddedTransport
          ? new EmbeddedWebhookDeliveries(transport.engine, o.embedded.worker.retry)
          : transport instanceof ConvoyTransport
            ? new ConvoyWebhookDeliveries(client)
            : new UnavailableWebhookDeliveries(),
      inject: [WEBHOOK_TRANSPORT, ConvoyClient, CONVOY_OPTIONS],
    },
    { provide: WebhookOutbox, useFactory: (sink: PublishSink) => new WebhookOutbox(sink), inject: [PUBLISH_SINK] },
    WebhookInterceptor,
    WebhookEventForwarder,
    ...(extras.globalInterceptor === false ? [] : [{ provide: APP_INTERCEPTOR, useExisting: WebhookInterceptor }]),
    ...otherBuildAliases(INJECTABLES),
  ];
}

/** The classes an app injects. */
const INJECTABLES = [ConvoyClient, WebhookPublisher, WebhookOutbox, WebhookInterceptor, WebhookEndpoints, WebhookDeliveries];
shareInjectables(INJECTABLES);

/** What the module exports: the injectables (under the other build's classes too) and the tokens. */
export function convoyExports(): Array<Function | symbol> {
  return [...INJECTABLES, ...otherBuildAliases(INJECTABLES).map((alias) => alias.provide), WEBHOOK_TRANSPORT, PUBLISH_SINK, CONVOY_OPTIONS];
}
