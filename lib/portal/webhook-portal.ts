import { createHmac } from 'node:crypto';
import type { ConvoyClient } from '../client/convoy.client.js';
import { ConvoyFeatureUnavailableError } from '../errors/client.errors.js';
import { InvalidPortalLinkError } from '../errors/portal.errors.js';
import { CsrfTokens } from '../ui/security.js';
import { SignedTokens, type TokenProblem } from '../ui/signed-token.js';
import { ActionLimiter } from './action-limiter.js';
import type { ResolvedPortalOptions } from './portal.options.js';

/** A link to one customer's portal, as link() returns it. */
export interface PortalLink {
  url: string;
  /** When the link stops working; `null` for a Convoy portal link, which works until revoked in Convoy. */
  expiresAt: Date | null;
  /** `'app'`: this module's portal, served by your app; `'convoy'`: Convoy's own portal (licensed Convoy only). */
  provider: 'app' | 'convoy';
}

/** Options of link(). */
export interface PortalLinkOptions {
  /** How long the link (and the portal session it opens) lasts, whole seconds from 1 s to 7 days. Default 1 hour. */
  expiresInMs?: number;
}

/** Who a portal request acts for, once its token has been checked. */
export interface PortalSession {
  owner: string;
  /** The token itself: the session the CSRF tokens are bound to. */
  token: string;
  /** Epoch seconds. */
  exp: number;
}

const MAX_EXPIRES_IN_MS = 7 * 24 * 3_600_000;
const DEFAULT_EXPIRES_IN_MS = 3_600_000;
const CONVOY_REFUSAL_MEMORY_MS = 10 * 60_000;

/** An owner id as Convoy and the engine take it: 1 to 255 characters, no control characters, not blank. */
export function ownerIdProblem(ownerId: unknown): string | undefined {
  if (typeof ownerId !== 'string') return `must be a string, got ${typeof ownerId}`;
  if (ownerId.trim() === '') return 'must not be empty';
  if (ownerId.length > 255) return 'must be at most 255 characters';
  if (/[\u0000-\u001f\u007f-\u009f]/.test(ownerId)) return 'must not contain control characters';
  if (ownerId !== ownerId.trim()) return 'must not start or end with white space';
  return undefined;
}

/**
 * Signed, expiring links to the customer portal, one owner each: `portal.link(customerId, { expiresInMs: 3_600_000 })`.
 * Injectable where ConvoyPortalModule is imported. On the Convoy transport it returns Convoy's own portal link
 * when the Convoy licence allows it, else a link to this module's portal.
 */
export class WebhookPortal {
  private readonly tokens: SignedTokens;
  /** CSRF tokens bound to each portal session, under a key derived from the signing key (never the key itself). */
  readonly csrf: CsrfTokens;
  /** Each customer's allowance of form posts (undefined: no limit). */
  readonly actions: ActionLimiter | undefined;
  private convoyRefusedUntil = 0;

  constructor(
    readonly options: ResolvedPortalOptions,
    private readonly convoy: { client: ConvoyClient; active: boolean },
  ) {
    this.tokens = new SignedTokens(options.signingKey);
    this.csrf = new CsrfTokens(createHmac('sha256', options.signingKey).update('nestjs-convoy portal csrf').digest());
    this.actions = options.actionsPerMinute === false ? undefined : new ActionLimiter(options.actionsPerMinute);
  }

  /** A link that opens `ownerId`'s portal (their endpoints and deliveries only) until it expires. */
  async link(ownerId: string, options: PortalLinkOptions = {}): Promise<PortalLink> {
    const problem = ownerIdProblem(ownerId);
    if (problem) throw new InvalidPortalLinkError('ownerId', problem);
    if ((options as { expiresIn?: unknown }).expiresIn !== undefined)
      throw new InvalidPortalLinkError('expiresInMs', 'is the option now (expiresIn, in seconds, was renamed)');
    const expiresInMs = options.expiresInMs ?? DEFAULT_EXPIRES_IN_MS;
    // Whole seconds: the link's token carries its expiry in epoch seconds.
    if (!Number.isInteger(expiresInMs / 1000) || expiresInMs < 1000 || expiresInMs > MAX_EXPIRES_IN_MS)
      throw new InvalidPortalLinkError(
        'expiresInMs',
        `must be whole seconds in ms, from 1000 to ${MAX_EXPIRES_IN_MS} (7 days), such as 3600000 for an hour`,
      );
    if (this.convoy.active && this.options.convoyPortalLinks && Date.now() >= this.convoyRefusedUntil) {
      const convoyLink = await this.convoyLink(ownerId);
      if (convoyLink) return convoyLink;
    }
    return this.appLink(ownerId, expiresInMs);
  }

  /** A link to this module's portal, whatever the transport. */
  appLink(ownerId: string, expiresInMs = DEFAULT_EXPIRES_IN_MS, now = Date.now()): PortalLink {
    const problem = ownerIdProblem(ownerId);
    if (problem) throw new InvalidPortalLinkError('ownerId', problem);
    const token = this.tokens.sign({ typ: 'portal', owner: ownerId }, expiresInMs, now);
    const url = `${this.options.baseUrl ?? ''}/${this.options.path}?token=${token}`;
    return { url, expiresAt: new Date(Math.floor((now + expiresInMs) / 1000) * 1000), provider: 'app' };
  }

  /** Checks a token (signature, expiry, purpose, owner): the session, or why it was refused. */
  verify(token: unknown, now = Date.now()): PortalSession | TokenProblem {
    const check = this.tokens.verify<{ typ?: unknown; owner?: unknown }>(token, now);
    if (!check.ok) return check.problem;
    const { typ, owner, exp } = check.claims;
    if (typ !== 'portal' || typeof owner !== 'string' || ownerIdProblem(owner)) return 'malformed';
    return { owner, token: token as string, exp };
  }

  /**
   * Convoy's portal link for the owner: an existing one that can manage endpoints, else a new one. Undefined when the
   * licence has no portal links (remembered for a while, so that each call does not ask Convoy again).
   */
  private async convoyLink(ownerId: string): Promise<PortalLink | undefined> {
    try {
      const page = await this.convoy.client.portalLinks.list({ ownerId, perPage: 50 });
      const existing = page.content.find((l) => l.owner_id === ownerId && l.can_manage_endpoint);
      const link =
        existing ??
        (await this.convoy.client.portalLinks.create({
          name: `portal-${ownerId}`.slice(0, 100),
          owner_id: ownerId,
          can_manage_endpoint: true,
        }));
      return { url: link.url, expiresAt: null, provider: 'convoy' };
    } catch (error) {
      if (!(error instanceof ConvoyFeatureUnavailableError)) throw error;
      this.convoyRefusedUntil = Date.now() + CONVOY_REFUSAL_MEMORY_MS;
      return undefined;
    }
  }
}
