import { createHmac, timingSafeEqual } from 'node:crypto';

/** Why a token was refused; the page shows one message for all, tests and logs can tell them apart. */
export type TokenProblem = 'malformed' | 'signature' | 'expired';

export type TokenCheck<T> = { ok: true; claims: T & { exp: number } } | { ok: false; problem: TokenProblem };

const MAX_TOKEN_LENGTH = 2_048;

/**
 * Compact signed tokens (`<base64url JSON>.<base64url HMAC-SHA256>`) with an expiry in epoch seconds: what a portal
 * link carries. The key is the app's; at least 32 bytes so the HMAC cannot be guessed.
 */
export class SignedTokens {
  constructor(private readonly key: string | Buffer) {
    if (Buffer.byteLength(key) < 32) throw new RangeError('the signing key must be at least 32 bytes');
  }

  /** A token of `claims` with `exp` (epoch seconds, as JWTs carry it) `expiresInMs` from `now`, rounded down. */
  sign<T extends object>(claims: T, expiresInMs: number, now = Date.now()): string {
    const body = Buffer.from(JSON.stringify({ ...claims, exp: Math.floor((now + expiresInMs) / 1000) })).toString(
      'base64url',
    );
    return `${body}.${this.mac(body)}`;
  }

  verify<T extends object>(token: unknown, now = Date.now()): TokenCheck<T> {
    if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) return { ok: false, problem: 'malformed' };
    const [body, mac, extra] = token.split('.');
    if (!body || !mac || extra !== undefined) return { ok: false, problem: 'malformed' };
    const expected = Buffer.from(this.mac(body));
    const given = Buffer.from(mac);
    if (given.length !== expected.length || !timingSafeEqual(given, expected))
      return { ok: false, problem: 'signature' };
    let claims: unknown;
    try {
      claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
    } catch {
      return { ok: false, problem: 'malformed' };
    }
    if (typeof claims !== 'object' || claims === null || typeof (claims as { exp?: unknown }).exp !== 'number') {
      return { ok: false, problem: 'malformed' };
    }
    if ((claims as { exp: number }).exp * 1000 <= now) return { ok: false, problem: 'expired' };
    return { ok: true, claims: claims as T & { exp: number } };
  }

  private mac(body: string): string {
    return createHmac('sha256', this.key).update(body).digest('base64url');
  }
}
