import { randomBytes } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { ConfigService } from '@nestjs/config';
import type { PortalModuleOptions } from '../../lib/portal/index.js'; // in your app: 'nestjs-convoy/portal'

/**
 * The customer portal's options from the environment: PORTAL_SIGNING_KEY (32 bytes or more; the same on every
 * instance), else a key made at startup, so links stop working on restart; PUBLIC_URL, the app's address in links
 * (default http://localhost:<PORT>).
 */
export function portalOptionsFromEnv(config: ConfigService): Omit<PortalModuleOptions, 'path'> {
  let signingKey = config.get<string>('PORTAL_SIGNING_KEY') || undefined;
  if (!signingKey) {
    new Logger('Portal').warn(
      'PORTAL_SIGNING_KEY is not set: portal links are signed with a key made at startup and stop working on restart',
    );
    signingKey = randomBytes(32).toString('base64');
  }
  const baseUrl = config.get<string>('PUBLIC_URL') || `http://localhost:${config.get<string>('PORT') || 3000}`;
  return { signingKey, baseUrl, title: 'Todo webhooks' };
}
