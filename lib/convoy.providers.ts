import { Logger, type Provider } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { ConvoyClient } from './client/convoy.client.js';
import { CONVOY_OPTIONS, WEBHOOK_TRANSPORT } from './convoy.constants.js';
import { WebhookEventForwarder } from './event-emitter/webhook-event-forwarder.js';
import { WebhookInterceptor } from './interceptors/webhook.interceptor.js';
import type { ConvoyModuleExtras, ConvoyModuleOptions, ResolvedConvoyOptions } from './options/convoy-module-options.interface.js';
import { resolveModuleOptions } from './options/resolve-module-options.js';
import { WebhookDispatcher } from './publisher/webhook-dispatcher.js';
import { WebhookPublisher } from './publisher/webhook-publisher.js';
import { ConvoyTransport } from './transports/convoy.transport.js';
import { LoggingTransport } from './transports/logging.transport.js';
import type { WebhookTransport } from './transports/webhook-transport.interface.js';

function createTransport(options: ResolvedConvoyOptions, client: ConvoyClient): WebhookTransport {
  if (options.transport === 'convoy') return new ConvoyTransport(client);
  if (options.transport === 'log') {
    if (options.transportIsFallback) {
      new Logger('ConvoyModule').warn(
        'No Convoy credentials are configured, so webhooks are only logged, not delivered. ' +
          'Set apiKey (or username and password) and projectId to deliver them through Convoy.',
      );
    }
    return new LoggingTransport();
  }
  return options.transport;
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
    {
      provide: WebhookDispatcher,
      useFactory: (o: ResolvedConvoyOptions, transport: WebhookTransport) => new WebhookDispatcher(transport, o.dispatcher),
      inject: [CONVOY_OPTIONS, WEBHOOK_TRANSPORT],
    },
    {
      provide: WebhookPublisher,
      useFactory: (o: ResolvedConvoyOptions, dispatcher: WebhookDispatcher) => new WebhookPublisher(dispatcher, o.defaultTarget),
      inject: [CONVOY_OPTIONS, WebhookDispatcher],
    },
    WebhookInterceptor,
    WebhookEventForwarder,
    ...(extras.globalInterceptor === false ? [] : [{ provide: APP_INTERCEPTOR, useExisting: WebhookInterceptor }]),
  ];
}

export const CONVOY_EXPORTS = [ConvoyClient, WebhookPublisher, WebhookInterceptor, WEBHOOK_TRANSPORT, CONVOY_OPTIONS];
