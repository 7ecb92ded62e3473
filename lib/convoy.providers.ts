import { Logger, type Provider } from '@nestjs/common';
import { ConvoyClient } from './client/convoy.client.js';
import { CONVOY_OPTIONS, WEBHOOK_STORE, WEBHOOK_TRANSPORT } from './convoy.constants.js';
import { EmbeddedTransport } from './transports/embedded/embedded.transport.js';
import { WebhookEventForwarder } from './publishing/webhook-event-forwarder.js';
import { WebhookInterceptor } from './publishing/webhook.interceptor.js';
import { UnavailableWebhookDeliveries, WebhookDeliveries } from './management/webhook-deliveries.js';
import { UnavailableWebhookEndpoints, WebhookEndpoints } from './management/webhook-endpoints.js';
import { AddressPolicy } from './network/address-policy.js';
import { createGuardedAgent } from './network/destination.js';
import { ConvoyConfigurationError } from './errors/configuration.error.js';
import {
  resolveModuleOptions,
  type ConvoyModuleOptions,
  type ResolvedConvoyOptions,
} from './options/convoy-module-options.js';
import { WebhookOutbox } from './management/webhook-outbox.js';
import { handOverRoute } from './pipeline/hand-over.route.js';
import { InMemoryWebhookStore } from './storage/in-memory.store.js';
import { DeliveryPipeline, type DeliveryRoute, type PipelineSettings } from './pipeline/pipeline.js';
import { reportingUnavailable, type WebhookStore } from './storage/webhook-store.js';
import { WebhookPublisher } from './publishing/webhook-publisher.js';
import { payloadCheck } from './catalog/payload-validation.js';
import { ConvoyTransport } from './transports/convoy/convoy.transport.js';
import { LoggingTransport } from './transports/logging.transport.js';
import type { WebhookTransport } from './transports/webhook-transport.interface.js';
import { otherBuildAliases, shareInjectables, type Class } from './utils/both-builds.js';
import { otelApi } from './telemetry/otel-api.js';
import { WebhookTelemetry } from './telemetry/webhook-telemetry.js';

const logger = new Logger('ConvoyModule');

/**
 * The pipeline's store: the embedded engine's own, else the module's storage, else memory (bounded by
 * delivery.bufferSize); memory for the embedded engine is refused under NODE_ENV=production unless allowed.
 */
function createStore(o: ResolvedConvoyOptions): WebhookStore {
  const memory = () => new InMemoryWebhookStore({ capacity: o.delivery.bufferSize, whenFull: o.delivery.whenFull });
  if (o.transport === 'embedded') {
    const store = o.embedded.store ?? o.storage?.store ?? memory();
    if (store.volatile && process.env.NODE_ENV === 'production' && !o.embedded.allowInMemoryStorage)
      throw new ConvoyConfigurationError(
        'embedded.store',
        'is the in-memory store while NODE_ENV=production: a restart would lose every endpoint and pending delivery',
        'pass `storage` (nestjs-convoy/postgres or /pglite) to ConvoyModule, use Convoy, or set embedded.allowInMemoryStorage: true if you accept the loss',
      );
    if (store.volatile)
      logger.warn(
        'The embedded engine keeps endpoints and pending deliveries in memory: they are lost when the process exits. Configure a durable store for production.',
      );
    return reportingUnavailable(store);
  }
  if (o.storage) return reportingUnavailable(o.storage.store);
  if (process.env.NODE_ENV === 'production') {
    logger.warn(
      'Published events wait in memory until sent: a crash loses them. Pass `storage` (nestjs-convoy/postgres or /pglite) for a durable outbox.',
    );
  }
  return memory();
}

/** The module's telemetry, once `@opentelemetry/api` has been looked for (it loads with the package, if installed). */
async function createTelemetry(options: ResolvedConvoyOptions): Promise<WebhookTelemetry> {
  return options.telemetry === false ? WebhookTelemetry.off : new WebhookTelemetry(options.telemetry, await otelApi());
}

function createTransport(
  options: ResolvedConvoyOptions,
  client: ConvoyClient,
  store: WebhookStore,
  telemetry: WebhookTelemetry,
): WebhookTransport | DeliveryRoute {
  switch (options.transport) {
    case 'convoy':
      return new ConvoyTransport(
        client,
        {
          verifyProject: options.convoy.verifyProject,
          timeoutMs: Math.min(options.convoy.timeoutMs, 5_000),
          syncEventTypes: options.syncEventTypes ? options.events : undefined,
        },
        options.limits,
        {
          telemetry,
          projectUrl: `${options.convoy.baseUrl.replace(/\/+$/, '')}/v1/projects/${encodeURIComponent(client.projectId ?? '')}`,
        },
      );
    case 'embedded': {
      const embedded = options.embedded;
      const policy = new AddressPolicy({
        allowPrivateNetworks: embedded.allowPrivateNetworks,
        allowedAddresses: embedded.allowedAddresses,
      });
      const agent = createGuardedAgent(policy, {
        lookupAll: embedded.lookup,
        connections: options.delivery.endpointConcurrency,
        keepAliveTimeoutMs: 30_000,
      });
      if (options.transportIsFallback)
        logger.log('No Convoy credentials are configured: webhooks are signed and delivered by the embedded engine.');
      return new EmbeddedTransport({
        store,
        policy,
        agent,
        lookupAll: embedded.lookup,
        http: { userAgent: embedded.userAgent, maxResponseBytes: embedded.maxResponseBytes },
        disableEndpointOnFailure: embedded.disableEndpointOnFailure,
        circuitBreaker: embedded.circuitBreaker,
        retry: options.delivery.retry,
        limits: options.limits,
        catalogTypes: options.events ? Object.keys(options.events.events) : undefined,
        telemetry,
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

/** Hand-overs have no endpoints: their per-endpoint limit is the overall one. */
const pipelineSettings = ({ delivery: d, transport, retention }: ResolvedConvoyOptions): PipelineSettings => ({
  ...d,
  endpointConcurrency: transport === 'embedded' ? d.endpointConcurrency : d.concurrency,
  retention,
});

/** The module's providers; plain classes built by factories, so each can also be used without Nest. */
export function convoyProviders(optionsToken: string | symbol): Provider[] {
  return [
    {
      provide: CONVOY_OPTIONS,
      useFactory: (raw: ConvoyModuleOptions) => resolveModuleOptions(raw, (message) => logger.warn(message)),
      inject: [optionsToken],
    },
    {
      provide: ConvoyClient,
      useFactory: (o: ResolvedConvoyOptions) =>
        o.clientOptions ? new ConvoyClient(o.clientOptions) : new ConvoyClient(null),
      inject: [CONVOY_OPTIONS],
    },
    { provide: WEBHOOK_STORE, useFactory: createStore, inject: [CONVOY_OPTIONS] },
    { provide: WebhookTelemetry, useFactory: createTelemetry, inject: [CONVOY_OPTIONS] },
    {
      provide: WEBHOOK_TRANSPORT,
      useFactory: createTransport,
      inject: [CONVOY_OPTIONS, ConvoyClient, WEBHOOK_STORE, WebhookTelemetry],
    },
    {
      provide: DeliveryPipeline,
      useFactory: (
        o: ResolvedConvoyOptions,
        store: WebhookStore,
        transport: WebhookTransport | DeliveryRoute,
        telemetry: WebhookTelemetry,
      ) => new DeliveryPipeline(store, routeOf(transport), pipelineSettings(o), telemetry),
      inject: [CONVOY_OPTIONS, WEBHOOK_STORE, WEBHOOK_TRANSPORT, WebhookTelemetry],
    },
    {
      provide: WebhookPublisher,
      useFactory: async (
        o: ResolvedConvoyOptions,
        pipeline: DeliveryPipeline,
        telemetry: WebhookTelemetry,
        transport: WebhookTransport | DeliveryRoute,
      ) =>
        new WebhookPublisher(
          pipeline,
          o.defaultTarget,
          o.limits,
          await payloadCheck(o.events, o.eventValidation, (message) => logger.warn(message)),
          telemetry,
          transport.checkTargetUrl?.bind(transport),
        ),
      inject: [CONVOY_OPTIONS, DeliveryPipeline, WebhookTelemetry, WEBHOOK_TRANSPORT],
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
