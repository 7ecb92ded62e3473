export { ConvoyDashboardModule } from './dashboard.module.js';
export type { ConvoyDashboardOptions } from './dashboard.options.js';
