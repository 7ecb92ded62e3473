import { Module, type DynamicModule, type NestModule, type Provider } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { ConvoyClient } from '../client/convoy.client.js';
import { CONVOY_OPTIONS } from '../convoy.constants.js';
import type { ResolvedConvoyOptions } from '../options/convoy-module-options.js';
import { formParserCheck } from '../ui/form-parser-check.js';
import { controllerAt, normalizeMountPath } from '../ui/mount.js';
import { otherBuildAliases, shareInjectables } from '../utils/both-builds.js';
import { PortalController, routeNotFound } from './portal.controller.js';
import {
  resolvePortalOptions,
  type PortalModuleAsyncOptions,
  type PortalModuleOptions,
  type ResolvedPortalOptions,
} from './portal.options.js';
import { WebhookPortal } from './webhook-portal.js';

shareInjectables([WebhookPortal]);

/** Injection token of the portal's validated options. */
export const PORTAL_OPTIONS = Symbol.for('nestjs-convoy:portal-options');

/**
 * The customer portal, mounted where the app chooses: each customer (an `owner_id`) opens it from a signed,
 * expiring link (`WebhookPortal.link()`) and manages only their own endpoints and deliveries, through the
 * management API of ConvoyModule (which must be imported, and global as it is by default).
 *
 *   ConvoyPortalModule.register({ path: '/webhooks/portal', signingKey: process.env.PORTAL_SIGNING_KEY })
 */
@Module({})
export class ConvoyPortalModule implements NestModule {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  /** Runs once the app's HTTP adapter is known, right before its routes are registered. */
  configure(): void {
    routeNotFound(this.adapterHost.httpAdapter?.getType());
  }

  static register(options: PortalModuleOptions): DynamicModule {
    const { path, ...rest } = options ?? ({} as PortalModuleOptions);
    return ConvoyPortalModule.build(path, [
      { provide: PORTAL_OPTIONS, useFactory: () => resolvePortalOptions(path, rest) },
    ]);
  }

  /** The same, with the key and the rest from a factory (e.g. ConfigService); `path` is given here. */
  static registerAsync(options: PortalModuleAsyncOptions): DynamicModule {
    const module = ConvoyPortalModule.build(options.path, [
      {
        provide: PORTAL_OPTIONS,
        useFactory: async (...args: unknown[]) =>
          resolvePortalOptions(options.path, await options.useFactory(...(args as never[]))),
        inject: (options.inject ?? []) as never[],
      },
    ]);
    return { ...module, imports: (options.imports ?? []) as DynamicModule['imports'] };
  }

  private static build(path: string, optionsProviders: Provider[]): DynamicModule {
    let mount: string;
    try {
      mount = normalizeMountPath(typeof path === 'string' ? path : '', 'path');
    } catch {
      // resolvePortalOptions reports it, with the option's name
      resolvePortalOptions(path, {} as Omit<PortalModuleOptions, 'path'>);
      throw new Error('unreachable');
    }
    return {
      module: ConvoyPortalModule,
      controllers: [controllerAt(mount, PortalController)],
      providers: [
        ...optionsProviders,
        {
          provide: WebhookPortal,
          useFactory: (o: ResolvedPortalOptions, client: ConvoyClient, convoy: ResolvedConvoyOptions) =>
            new WebhookPortal(o, { client, active: convoy.transport === 'convoy' }),
          inject: [PORTAL_OPTIONS, ConvoyClient, CONVOY_OPTIONS],
        },
        ...otherBuildAliases([WebhookPortal]),
        formParserCheck('ConvoyPortal', `the portal at /${mount}`),
      ],
      exports: [WebhookPortal, ...otherBuildAliases([WebhookPortal]).map((alias) => alias.provide)],
    };
  }
}
