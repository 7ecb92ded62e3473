import { randomBytes } from 'node:crypto';
import { ForbiddenException } from '@nestjs/common';
import { applySecurityHeaders, CsrfTokens, isCrossSite, type PageResponse } from '../ui/security.js';

/** The request fields the dashboard reads (Express and Fastify both have them). */
export interface DashboardRequest {
  method: string;
  headers: Record<string, string | string[] | undefined>;
  query: Record<string, unknown>;
  body?: unknown;
  protocol?: string;
  /** Set by an authentication guard (Passport and most others): binds the CSRF token to the operator too. */
  user?: unknown;
}

export interface DashboardResponse extends PageResponse {
  send(body: string): unknown;
}

export const SESSION_COOKIE = 'convoy_dashboard';
const SESSION_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export function readCookie(req: DashboardRequest, name: string): string | undefined {
  const header = req.headers.cookie;
  if (typeof header !== 'string') return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * The browser session the CSRF tokens are bound to: a random cookie (HttpOnly, SameSite=Strict, limited to the
 * dashboard's path), set on the first page, plus the guard's user id when there is one, so that a token copied from
 * one operator's page is refused in another's.
 */
export class DashboardSessions {
  private readonly csrf: CsrfTokens;

  constructor(
    key: string | Buffer,
    private readonly base: string,
  ) {
    this.csrf = new CsrfTokens(key);
  }

  /** For a page: the session (set as a cookie when the browser has none yet) and its CSRF token. */
  open(req: DashboardRequest, res: DashboardResponse): string {
    let session = readCookie(req, SESSION_COOKIE);
    if (!session || !SESSION_PATTERN.test(session)) {
      session = randomBytes(32).toString('base64url');
      const secure = req.protocol === 'https' ? '; Secure' : '';
      res.header('set-cookie', `${SESSION_COOKIE}=${session}; Path=${this.base}; HttpOnly; SameSite=Strict${secure}`);
    }
    return this.csrf.issue(bind(session, req));
  }

  /** For a state-changing request: refuses (403) a cross-site one, one without the session, or a wrong token. */
  check(req: DashboardRequest): void {
    if (isCrossSite(req.headers, headerOf(req, 'host'))) throw new ForbiddenException('Cross-site request refused');
    const session = readCookie(req, SESSION_COOKIE);
    const token =
      typeof req.body === 'object' && req.body !== null ? (req.body as Record<string, unknown>)._csrf : undefined;
    if (!session || !SESSION_PATTERN.test(session) || !this.csrf.verify(bind(session, req), token)) {
      throw new ForbiddenException('Missing or invalid CSRF token: reload the page and try again');
    }
  }
}

function bind(session: string, req: DashboardRequest): string {
  const user = req.user as { id?: unknown; sub?: unknown } | undefined;
  const id = user?.id ?? user?.sub;
  return typeof id === 'string' || typeof id === 'number' ? `${session}\0${id}` : session;
}

export function headerOf(req: DashboardRequest, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export function sendHtml(res: DashboardResponse, status: number, page: string): void {
  applySecurityHeaders(res);
  res.status(status);
  res.header('content-type', 'text/html; charset=utf-8');
  res.send(page);
}

/** 303 See Other: after a form, the browser GETs the result (a reload does not post again). */
export function redirect(res: DashboardResponse, location: string): void {
  applySecurityHeaders(res);
  res.status(303);
  res.header('location', location);
  res.send('');
}
