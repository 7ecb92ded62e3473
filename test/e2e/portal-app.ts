import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  ConvoyModule,
  WebhookDeliveries,
  WebhookEndpoints,
  WebhookPublisher,
  type ConvoyModuleOptions,
} from '../../lib/index.js';
import { ConvoyPortalModule, WebhookPortal, type PortalModuleOptions } from '../../lib/portal/index.js';

export const SIGNING_KEY = 'portal-test-signing-key-0123456789abcdef';

/** A real Nest app on 127.0.0.1:<random port> with ConvoyModule and the portal at /webhooks/portal. */
export interface PortalApp {
  app: INestApplication;
  /** http://127.0.0.1:<port> */
  origin: string;
  portal: WebhookPortal;
  endpoints: WebhookEndpoints;
  deliveries: WebhookDeliveries;
  publisher: WebhookPublisher;
  close(): Promise<void>;
}

export async function startPortalApp(
  convoy: ConvoyModuleOptions,
  portal: Partial<PortalModuleOptions> = {},
): Promise<PortalApp> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      ConvoyModule.forRoot(convoy),
      ConvoyPortalModule.register({ path: '/webhooks/portal', signingKey: SIGNING_KEY, ...portal }),
    ],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.listen(0, '127.0.0.1');
  const origin = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  let closing: Promise<void> | undefined;
  return {
    app,
    origin,
    portal: app.get(WebhookPortal),
    endpoints: app.get(WebhookEndpoints),
    deliveries: app.get(WebhookDeliveries),
    publisher: app.get(WebhookPublisher),
    close: () => (closing ??= app.close()),
  };
}

export interface PortalResponse {
  status: number;
  headers: Headers;
  text: string;
}

/**
 * A customer's HTTP client of the portal, as a browser would be: it opens a link (keeping the session cookie the
 * portal sets) and sends forms with the CSRF token of the page they came from.
 */
export class PortalVisitor {
  cookie: string | undefined;

  constructor(readonly origin: string) {}

  /** Opens a portal link (absolute, or a path under the app). */
  async open(link: string): Promise<PortalResponse> {
    const response = await this.get(link.startsWith('http') ? link : `${this.origin}${link}`);
    const set = response.headers.get('set-cookie');
    const match = set?.match(/^convoy_portal=([^;]*)/);
    if (match) this.cookie = match[1] === '' ? undefined : match[1];
    return response;
  }

  async get(pathOrUrl: string, headers: Record<string, string> = {}): Promise<PortalResponse> {
    const url = pathOrUrl.startsWith('http') ? pathOrUrl : `${this.origin}${pathOrUrl}`;
    const response = await fetch(url, {
      redirect: 'manual',
      headers: { ...(this.cookie ? { cookie: `convoy_portal=${this.cookie}` } : {}), ...headers },
    });
    return { status: response.status, headers: response.headers, text: await response.text() };
  }

  /** The CSRF token of a page (every form of a session carries the same one). */
  static csrfOf(page: PortalResponse): string {
    const match = page.text.match(/name="_csrf" value="([^"]+)"/);
    if (!match) throw new Error(`no CSRF token on the page (status ${page.status}): ${page.text.slice(0, 300)}`);
    return match[1]!;
  }

  /** POSTs a form; `csrf` is added as `_csrf` unless undefined. */
  async post(
    path: string,
    fields: Record<string, string | string[]>,
    options: { csrf?: string; headers?: Record<string, string> } = {},
  ): Promise<PortalResponse> {
    const body = new URLSearchParams();
    for (const [name, value] of Object.entries(fields))
      for (const v of Array.isArray(value) ? value : [value]) body.append(name, v);
    if (options.csrf !== undefined) body.append('_csrf', options.csrf);
    const response = await fetch(`${this.origin}${path}`, {
      method: 'POST',
      redirect: 'manual',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        ...(this.cookie ? { cookie: `convoy_portal=${this.cookie}` } : {}),
        ...options.headers,
      },
      body,
    });
    return { status: response.status, headers: response.headers, text: await response.text() };
  }

  /** GETs `page` for its CSRF token, then POSTs the form to `path` with it. */
  async submit(page: string, path: string, fields: Record<string, string | string[]>): Promise<PortalResponse> {
    const csrf = PortalVisitor.csrfOf(await this.get(page));
    return this.post(path, fields, { csrf });
  }
}
