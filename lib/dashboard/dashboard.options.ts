import type { CanActivate, ModuleMetadata, Type } from '@nestjs/common';

/** What `ConvoyDashboardModule.register()` takes. */
export interface ConvoyDashboardOptions {
  /** Where the dashboard is served, e.g. `/webhooks/admin`. */
  path: string;
  /**
   * Who may use it: a Nest guard (class or instance) run before every dashboard route, pages, forms and assets
   * alike. Required unless NODE_ENV is `development` or `test`: the dashboard shows every endpoint and delivery and
   * can change them.
   */
  guard?: CanActivate | Type<CanActivate>;
  /**
   * The key of the CSRF tokens (at least 32 bytes). Default: a random key per process, which is enough for one
   * instance; several instances behind one address need the same key, or a form from one is refused by another.
   */
  csrfKey?: string | Buffer;
  /** Shown at the top left and in the title bar. Default "Webhooks". */
  title?: string;
  /** Modules the guard's dependencies come from. */
  imports?: ModuleMetadata['imports'];
}

/** The options as the controller uses them. */
export interface DashboardConfig {
  /** `/webhooks/admin`: no trailing slash. */
  base: string;
  title: string;
  csrfKey: string | Buffer;
  guarded: boolean;
}

export const DASHBOARD_CONFIG = Symbol.for('nestjs-convoy:dashboard-config');
