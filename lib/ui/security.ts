import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Headers for every dashboard and portal response. The CSP allows only the app's own stylesheet and script (no
 * inline script or style, no other origin); `Referrer-Policy` keeps a portal token in the URL from leaking to links;
 * `no-store` keeps delivery bodies and tokens out of caches.
 */
export const PAGE_SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-security-policy': [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; '),
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
});

/** The response methods Express and Fastify share (`res.header`, `res.status`), so pages run on both. */
export interface PageResponse {
  header(name: string, value: string): unknown;
  status(code: number): unknown;
}

export function applySecurityHeaders(res: PageResponse): void {
  for (const [name, value] of Object.entries(PAGE_SECURITY_HEADERS)) res.header(name, value);
}

/**
 * CSRF tokens bound to a session (an operator's guard identity, a portal token): an HMAC of the session under a
 * key the app gives, so nothing is stored and a token from one session is refused in another.
 */
export class CsrfTokens {
  constructor(private readonly key: string | Buffer) {}

  issue(session: string): string {
    return createHmac('sha256', this.key).update('csrf\0').update(session).digest('base64url');
  }

  verify(session: string, token: unknown): boolean {
    if (typeof token !== 'string' || token.length > 100) return false;
    const expected = Buffer.from(this.issue(session));
    const given = Buffer.from(token);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
}

/**
 * A second check for state-changing requests: browsers send `Sec-Fetch-Site` and `Origin`; a cross-site value of
 * either is refused (a missing one is allowed: non-browser clients still need the CSRF token), and so is an opaque
 * `Origin: null` unless Sec-Fetch-Site says same-origin.
 */
export function isCrossSite(headers: Record<string, string | string[] | undefined>, host: string | undefined): boolean {
  const site = headers['sec-fetch-site'];
  if (typeof site === 'string' && site !== 'same-origin' && site !== 'none') return true;
  const origin = headers.origin;
  if (typeof origin !== 'string' || origin === '') return false;
  // Under `Referrer-Policy: no-referrer` (ours) Chromium sends `Origin: null` on same-origin form posts; the
  // browser's own Sec-Fetch-Site then says where the form came from.
  if (origin === 'null' && site === 'same-origin') return false;
  try {
    return new URL(origin).host !== host;
  } catch {
    return true;
  }
}
