import { Logger, type Provider } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { ConvoyClient } from './client/convoy.client.js';
import { CONVOY_OPTIONS, WEBHOOK_STORE, WEBHOOK_TRANSPORT } from './convoy.constants.js';
import { chooseStore } from './transports/embedded/embedded-options.js';
import { EmbeddedTransport } from './transports/embedded/embedded.transport.js';
import { WebhookEventForwarder } from './publishing/webhook-event-forwarder.js';
import { WebhookInterceptor } from './publishing/webhook.interceptor.js';
import { UnavailableWebhookDeliveries, WebhookDeliveries } from './management/webhook-deliveries.js';
import { UnavailableWebhookEndpoints, WebhookEndpoints } from './management/webhook-endpoints.js';
import { AddressPolicy } from './transports/embedded/network/address-policy.js';
import { createGuardedAgent } from './transports/embedded/network/destination.js';
import type {
  ConvoyModuleExtras,
  ConvoyModuleOptions,
  ResolvedConvoyOptions,
} from './options/convoy-module-options.interface.js';
import { resolveModuleOptions } from './options/resolve-module-options.js';
import { WebhookOutbox } from './management/webhook-outbox.js';
import { handOverRoute } from './pipeline/hand-over.route.js';
import { InMemoryWebhookStore } from './storage/in-memory.store.js';
import { DeliveryPipeline, type DeliveryRoute, type PipelineSettings } from './pipeline/pipeline.js';
import { HAND_OVER_RETRY } from './pipeline/retry-policy.js';
import type { WebhookStore } from './storage/webhook-store.js';
import { WebhookPublisher } from './publishing/webhook-publisher.js';
import { ConvoyTransport } from './transports/convoy/convoy.transport.js';
import { LoggingTransport } from './transports/logging.transport.js';
import type { WebhookTransport } from './transports/webhook-transport.interface.js';
import { otherBuildAliases, shareInjectables, type Class } from './utils/both-builds.js';

const logger = new Logger('ConvoyModule');

/** The pipeline's store: the module's storage, else the embedded engine's own, else memory (bounded by the dispatcher's buffer). */
function createStore(options: ResolvedConvoyOptions): WebhookStore {
  if (options.transport === 'embedded') {
    const store = chooseStore(
      options.embedded,
      options.storage?.store,
      options.dispatcher.bufferSize,
      options.dispatcher.whenFull,
    );
    if (store.volatile)
      logger.warn(
        'The embedded engine keeps endpoints and pending deliveries in memory: they are lost when the process exits. Configure a durable store for production.',
      );
    return store;
  }
  if (options.storage) return options.storage.store;
  if (process.env.NODE_ENV === 'production') {
    logger.warn(
      'Published events wait in memory until sent: a crash loses them. Pass `storage` (nestjs-convoy/postgres or /pglite) for a durable outbox.',
    );
  }
  return new InMemoryWebhookStore({ capacity: options.dispatcher.bufferSize, whenFull: options.dispatcher.whenFull });
}

function createTransport(
  options: ResolvedConvoyOptions,
  client: ConvoyClient,
  store: WebhookStore,
): WebhookTransport | DeliveryRoute {
  switch (options.transport) {
    case 'convoy':
      return new ConvoyTransport(client, {
        verifyProject: options.verifyProject,
        timeoutMs: Math.min(options.clientOptions?.timeout ?? 10_000, 5_000),
      });
    case 'embedded': {
      const embedded = options.embedded;
      const policy = new AddressPolicy({
        allowPrivateNetworks: embedded.allowPrivateNetworks,
        allowedAddresses: embedded.allowedAddresses,
      });
      const agent = createGuardedAgent(policy, {
        lookupAll: embedded.lookup,
        connections: embedded.worker.endpointConcurrency,
        keepAliveTimeout: 30_000,
      });
      if (options.transportIsFallback)
        logger.log('No Convoy credentials are configured: webhooks are signed and delivered by the embedded engine.');
      return new EmbeddedTransport({
        store,
        policy,
        agent,
        lookupAll: embedded.lookup,
        http: { userAgent: embedded.userAgent, maxResponseBytes: embedded.maxResponseBytes },
        disableEndpointOnFailure: embedded.worker.disableEndpointOnFailure,
        retry: embedded.worker.retry,
      });
    }
    case 'log':
      logger.warn('The log transport is active: webhooks are only logged, not delivered.');
      return new LoggingTransport();
    default:
      return options.transport;
  }
}

/** A transport that hands events over is routed as a whole; the embedded engine routes them itself. */
const routeOf = (transport: WebhookTransport | DeliveryRoute): DeliveryRoute =>
  'plan' in transport && typeof transport.plan === 'function'
    ? transport
    : handOverRoute(transport as WebhookTransport);

function pipelineSettings(o: ResolvedConvoyOptions): PipelineSettings {
  if (o.transport === 'embedded') {
    const w = o.embedded.worker;
    return {
      concurrency: w.concurrency,
      endpointConcurrency: w.endpointConcurrency,
      batchSize: 50,
      leaseMs: 30_000,
      pollIntervalMs: w.pollIntervalMs,
      drainTimeoutMs: o.dispatcher.drainTimeout,
      retry: w.retry,
    };
  }
  const s = o.storage
    ? o.outbox
    : {
        ...o.dispatcher,
        pollIntervalMs: 1_000,
        leaseMs: 30_000,
        batchSize: 50,
        drainTimeout: o.dispatcher.drainTimeout,
      };
  return {
    concurrency: s.concurrency,
    endpointConcurrency: s.concurrency,
    batchSize: s.batchSize,
    leaseMs: s.leaseMs,
    pollIntervalMs: s.pollIntervalMs,
    drainTimeoutMs: s.drainTimeout,
    retry: {
      ...HAND_OVER_RETRY,
      attempts: s.maxAttempts,
      delayMs: s.baseDelayMs,
      maxDelayMs: s.maxDelayMs,
      maxRetryAfterMs: s.maxRetryAfterMs,
    },
  };
}

/** The module's providers; plain classes built by factories, so each can also be used without Nest. */
export function convoyProviders(optionsToken: string | symbol, extras: ConvoyModuleExtras): Provider[] {
  return [
    {
      provide: CONVOY_OPTIONS,
      useFactory: (raw: ConvoyModuleOptions) => resolveModuleOptions(raw),
      inject: [optionsToken],
    },
    {
      provide: ConvoyClient,
      useFactory: (o: ResolvedConvoyOptions) =>
        o.clientOptions ? new ConvoyClient(o.clientOptions) : new ConvoyClient(null),
      inject: [CONVOY_OPTIONS],
    },
    { provide: WEBHOOK_STORE, useFactory: createStore, inject: [CONVOY_OPTIONS] },
    { provide: WEBHOOK_TRANSPORT, useFactory: createTransport, inject: [CONVOY_OPTIONS, ConvoyClient, WEBHOOK_STORE] },
    {
      provide: DeliveryPipeline,
      useFactory: (o: ResolvedConvoyOptions, store: WebhookStore, transport: WebhookTransport | DeliveryRoute) =>
        new DeliveryPipeline(store, routeOf(transport), pipelineSettings(o)),
      inject: [CONVOY_OPTIONS, WEBHOOK_STORE, WEBHOOK_TRANSPORT],
    },
    {
      provide: WebhookPublisher,
      useFactory: (o: ResolvedConvoyOptions, pipeline: DeliveryPipeline) =>
        new WebhookPublisher(pipeline, o.defaultTarget),
      inject: [CONVOY_OPTIONS, DeliveryPipeline],
    },
    {
      provide: WebhookEndpoints,
      useFactory: (t: WebhookTransport | DeliveryRoute) => t.endpoints ?? new UnavailableWebhookEndpoints(),
      inject: [WEBHOOK_TRANSPORT],
    },
    {
      provide: WebhookDeliveries,
      useFactory: (t: WebhookTransport | DeliveryRoute) => t.deliveries ?? new UnavailableWebhookDeliveries(),
      inject: [WEBHOOK_TRANSPORT],
    },
    { provide: WebhookOutbox, useFactory: (store: WebhookStore) => new WebhookOutbox(store), inject: [WEBHOOK_STORE] },
    WebhookInterceptor,
    WebhookEventForwarder,
    ...(extras.globalInterceptor === false ? [] : [{ provide: APP_INTERCEPTOR, useExisting: WebhookInterceptor }]),
    ...otherBuildAliases(INJECTABLES),
  ];
}

/** The classes an app injects. */
const INJECTABLES = [
  ConvoyClient,
  WebhookPublisher,
  WebhookOutbox,
  WebhookInterceptor,
  WebhookEndpoints,
  WebhookDeliveries,
];
shareInjectables(INJECTABLES);

/** What the module exports: the injectables (under the other build's classes too) and the tokens. */
export function convoyExports(): Array<Class | symbol> {
  return [
    ...INJECTABLES,
    ...otherBuildAliases(INJECTABLES).map((alias) => alias.provide),
    DeliveryPipeline,
    WEBHOOK_TRANSPORT,
    WEBHOOK_STORE,
    CONVOY_OPTIONS,
  ];
}
