import { ConvoyError } from './convoy.error.js';

/** link() was given an owner id or an expiry it cannot sign. Exported by `nestjs-convoy/portal`. */
export class InvalidPortalLinkError extends ConvoyError {
  constructor(
    readonly field: 'ownerId' | 'expiresInMs',
    readonly reason: string,
  ) {
    super(`Invalid portal link: ${field} ${reason}`);
  }
}
