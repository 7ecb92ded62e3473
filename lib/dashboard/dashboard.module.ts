import { randomBytes } from 'node:crypto';
import { Logger, Module, UseFilters, UseGuards, type DynamicModule } from '@nestjs/common';
import { ConvoyConfigurationError } from '../errors/configuration.error.js';
import { formParserCheck } from '../ui/form-parser-check.js';
import { controllerAt, normalizeMountPath } from '../ui/mount.js';
import { DashboardExceptionFilter } from './dashboard-exception.filter.js';
import { DashboardController } from './dashboard.controller.js';
import { DASHBOARD_CONFIG, type ConvoyDashboardOptions, type DashboardConfig } from './dashboard.options.js';

const logger = new Logger('ConvoyDashboard');

/** Where a dashboard without a guard is allowed: nowhere a stranger could reach it, one hopes. */
const OPEN_ENVIRONMENTS = ['development', 'test'];

/**
 * The operator dashboard: endpoints, the delivery log, health. Mounted by the app at the path it chooses, behind its
 * guard, on top of ConvoyModule's management API (Convoy or the embedded engine alike):
 *
 *   ConvoyDashboardModule.register({ path: '/webhooks/admin', guard: AdminGuard })
 */
@Module({})
export class ConvoyDashboardModule {
  static register(options: ConvoyDashboardOptions): DynamicModule {
    const base = `/${normalizeMountPath(options?.path ?? '', 'ConvoyDashboardModule.register({ path })')}`;
    const csrfKey = options.csrfKey ?? randomBytes(32);
    if (Buffer.byteLength(csrfKey) < 32) {
      throw new ConvoyConfigurationError(
        'dashboard.csrfKey',
        'is shorter than 32 bytes',
        'give a random key of at least 32 bytes',
      );
    }
    const config: DashboardConfig = {
      base,
      title: options.title ?? 'Webhooks',
      csrfKey,
      guarded: options.guard !== undefined,
    };
    const controller = controllerAt(base, DashboardController);
    if (options.guard) UseGuards(options.guard)(controller);
    UseFilters(new DashboardExceptionFilter(config))(controller);
    return {
      module: ConvoyDashboardModule,
      imports: options.imports ?? [],
      controllers: [controller],
      providers: [
        { provide: DASHBOARD_CONFIG, useFactory: () => checkGuard(config) },
        formParserCheck('ConvoyDashboard', `the dashboard at ${base}`),
      ],
    };
  }
}

/** At startup (so that NODE_ENV is read when the app is created, not when the module file is imported). */
function checkGuard(config: DashboardConfig): DashboardConfig {
  if (config.guarded) return config;
  const env = process.env.NODE_ENV;
  if (env === undefined || !OPEN_ENVIRONMENTS.includes(env)) {
    throw new ConvoyConfigurationError(
      'dashboard.guard',
      `is missing: the dashboard at ${config.base} would let anyone read and change every endpoint and delivery (NODE_ENV is ${env === undefined ? 'not set' : `"${env}"`})`,
      'pass guard: a CanActivate class or instance that admits your operators only (a dashboard without one is allowed only with NODE_ENV=development or test)',
    );
  }
  logger.warn(
    `The dashboard at ${config.base} has no guard: anyone who reaches this app can use it (NODE_ENV=${env}). Production needs a guard.`,
  );
  return config;
}
