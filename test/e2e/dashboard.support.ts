import type { CanActivate, INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Module, type Type } from '@nestjs/common';
import { request } from 'undici';
import { ConvoyDashboardModule } from '../../lib/dashboard/index.js';
import {
  ConvoyModule,
  WebhookDeliveries,
  WebhookEndpoints,
  WebhookPublisher,
  type ConvoyModuleOptions,
} from '../../lib/index.js';
import type { ConvoyStorage } from '../../lib/storage/index.js';
import { PGliteStorage } from '../../lib/storage/pglite/index.js';
import { PostgresStorage } from '../../lib/storage/postgres/index.js';
import { databaseUrl, dropSchema, uniqueSchema } from '../fault/support/postgres.js';
import { FakeConvoy } from '../support/fake-convoy.js';
import { LOOPBACK } from '../support/embedded-app.js';

/** A real Nest app (Express, listen(0) on 127.0.0.1) with ConvoyModule and the dashboard at `/webhooks/admin`. */
export interface DashboardApp {
  app: INestApplication;
  url: string;
  base: string;
  endpoints: WebhookEndpoints;
  deliveries: WebhookDeliveries;
  publisher: WebhookPublisher;
  close(): Promise<void>;
}

export const BASE = '/webhooks/admin';

export async function startDashboard(
  convoy: ConvoyModuleOptions,
  dashboard: { guard?: CanActivate | Type<CanActivate>; csrfKey?: string } = {},
): Promise<DashboardApp> {
  @Module({ imports: [ConvoyModule.forRoot(convoy), ConvoyDashboardModule.register({ path: BASE, ...dashboard })] })
  class AppModule {}
  const app = await NestFactory.create(AppModule, { logger: false, abortOnError: false });
  await app.listen(0, '127.0.0.1');
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  let closing: Promise<void> | undefined;
  return {
    app,
    url,
    base: `${url}${BASE}`,
    endpoints: app.get(WebhookEndpoints),
    deliveries: app.get(WebhookDeliveries),
    publisher: app.get(WebhookPublisher),
    close: () => (closing ??= app.close()),
  };
}

/** Where the dashboard suites run: the embedded engine on PGlite and on PostgreSQL, and Convoy (the fake one). */
export interface Backend {
  name: string;
  transport: 'embedded' | 'convoy';
  skip?: string;
  open: () => Promise<{ options: ConvoyModuleOptions; fake?: FakeConvoy; close: () => Promise<void> }>;
}

const fastRetry = { strategy: 'linear' as const, delayMs: 0, attempts: 2 };

export const BACKENDS: Backend[] = [
  {
    name: 'embedded engine on PGlite',
    transport: 'embedded',
    async open() {
      const storage = await PGliteStorage.create();
      return { options: embeddedOptions(storage), close: async () => {} };
    },
  },
  {
    name: 'embedded engine on PostgreSQL',
    transport: 'embedded',
    skip: databaseUrl ? undefined : 'DATABASE_URL is not set',
    async open() {
      const schema = uniqueSchema('nc_dash');
      const storage = await PostgresStorage.create({ connectionString: databaseUrl!, schema });
      return { options: embeddedOptions(storage), close: () => dropSchema(schema) };
    },
  },
  {
    name: 'Convoy (fake)',
    transport: 'convoy',
    async open() {
      const fake = await FakeConvoy.start();
      return { options: { convoy: fake.clientOptions }, fake, close: () => fake.close() };
    },
  },
];

function embeddedOptions(storage: ConvoyStorage): ConvoyModuleOptions {
  // Two attempts, back to back: a delivery to a failing receiver is soon a Failure, which the dashboard can resend.
  return { storage, embedded: { allowedAddresses: LOOPBACK }, delivery: { retry: fastRetry } };
}

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** A browser-like client: keeps the dashboard's cookie, reads the CSRF token of the last page, sends forms. */
export class DashboardClient {
  cookie = '';
  csrf = '';

  constructor(readonly base: string) {}

  async get(path: string, headers: Record<string, string> = {}): Promise<Reply> {
    const reply = await this.send('GET', path, undefined, headers);
    const token = /name="_csrf" value="([^"]+)"/.exec(reply.text);
    if (token) this.csrf = token[1]!;
    return reply;
  }

  /** POSTs a form with the session's token (unless `_csrf` is given) and the dashboard's own Origin. */
  post(path: string, form: Record<string, string | string[]>, headers: Record<string, string> = {}): Promise<Reply> {
    const body = new URLSearchParams();
    if (!('_csrf' in form)) body.append('_csrf', this.csrf);
    for (const [k, v] of Object.entries(form)) for (const value of [v].flat()) body.append(k, value);
    return this.send('POST', path, body.toString(), {
      'content-type': 'application/x-www-form-urlencoded',
      origin: new URL(this.base).origin,
      ...headers,
    });
  }

  async send(method: string, path: string, body: string | undefined, headers: Record<string, string>): Promise<Reply> {
    const res = await request(`${this.base}${path}`, {
      method: method as 'GET',
      body,
      headers: { ...(this.cookie ? { cookie: this.cookie } : {}), ...headers },
    });
    const setCookie = res.headers['set-cookie'];
    for (const c of [setCookie ?? []].flat()) this.cookie = c.split(';')[0]!;
    return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
  }
}

/** The text a page shows in an element with this id (tags removed, entities decoded): what a reader sees. */
export function decode(text: string): string {
  return text
    .replace(/<[^>]*>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');
}
