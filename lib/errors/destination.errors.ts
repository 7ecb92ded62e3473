import { ConvoyError } from './convoy.error.js';
import type { AddressCategory } from '../network/address-policy.js';

/**
 * A webhook destination URL cannot be used (not absolute http(s), carries credentials or a fragment…).
 * The message never quotes the URL, since its path and query may carry tokens.
 */
export class InvalidDestinationError extends ConvoyError {
  override readonly retryable = false;

  constructor(
    /** What is wrong, e.g. `scheme "ftp:" is not allowed; use http: or https:`. Never contains the URL. */
    readonly reason: string,
  ) {
    super(`Invalid webhook destination URL: ${reason}`);
  }
}

/**
 * The SSRF guard refused a webhook destination: the host is, or resolves to, an address the policy does not allow.
 * Retrying will not help until the endpoint's URL, its DNS or the policy changes.
 */
export class DestinationBlockedError extends ConvoyError {
  override readonly retryable = false;
  /**
   * `scheme://host[:port]` of the destination (as `URL.origin`: the port is omitted when it is the scheme's default).
   * Never the path, query or credentials. When the error comes from a bare `createGuardedLookup`, which only sees a
   * hostname, this is the hostname.
   */
  readonly origin: string;

  constructor(
    origin: string,
    /** The refused IP address (the literal host, or the DNS answer that failed). */
    readonly address: string,
    readonly category: AddressCategory,
  ) {
    const safeOrigin = toOrigin(origin);
    const how = isLiteral(safeOrigin, address) ? 'is' : `resolves to ${address}, which is`;
    super(`Webhook destination ${safeOrigin} ${how} ${describe(category)}; refusing to connect (SSRF guard)`);
    this.origin = safeOrigin;
  }
}

/** Keeps only scheme://host:port of anything URL-shaped, so a full URL passed by mistake cannot leak its path or query. */
function toOrigin(value: string): string {
  if (URL.canParse(value)) {
    const url = new URL(value);
    if (url.origin !== 'null') return url.origin;
  }
  // Not a URL (a bare hostname from a lookup): drop anything after a character that cannot be in a hostname.
  return String(value)
    .split(/[/?#@\s]/, 1)[0]!
    .slice(0, 255);
}

function isLiteral(origin: string, address: string): boolean {
  const host = URL.canParse(origin) ? new URL(origin).hostname : origin;
  return host === address || host === `[${address}]`;
}

function describe(category: AddressCategory): string {
  switch (category) {
    case 'metadata':
      return 'a cloud metadata service address';
    case 'unique-local':
      return 'an IPv6 unique-local (private) address';
    case 'cgnat':
      return 'a carrier-grade NAT (100.64.0.0/10) address';
    case 'unspecified':
      return 'the unspecified address';
    case 'reserved':
      return 'a reserved or invalid address';
    case 'nat64':
      return 'a local-use NAT64 address';
    case '6to4':
      return 'a 6to4 tunnel address';
    case 'teredo':
      return 'a Teredo tunnel address';
    case 'public':
      return 'a public address';
    default:
      return `a ${category} address`;
  }
}
