export { ConvoyPortalModule, PORTAL_OPTIONS } from './portal.module.js';
export type { PortalModuleAsyncOptions, PortalModuleOptions } from './portal.options.js';
export { InvalidPortalLinkError } from '../errors/portal.errors.js';
export { WebhookPortal, type PortalLink, type PortalLinkOptions } from './webhook-portal.js';
