import { jest } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { request } from 'undici';
import type { LogLine } from '../support/recording-logger.js';
import { clearSampleEnv, startSample } from '../support/sample-app.js';

/** The sample's portal (issue 13, item 6): GET /portal-link?owner=<id> and the portal mounted at /webhooks/portal. */
describe('the sample app: portal links', () => {
  let app: INestApplication | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
    clearSampleEnv();
  });

  async function get(url: string, headers: Record<string, string> = {}) {
    const response = await request(url, { headers });
    return { status: response.statusCode, headers: response.headers, text: await response.body.text() };
  }

  it('GET /portal-link?owner=<id> answers { url } under PUBLIC_URL; the link opens that owner’s portal', async () => {
    let url: string;
    let logs: LogLine[];
    ({ app, url, logs } = await startSample({
      PORTAL_SIGNING_KEY: 'sample-portal-signing-key-0123456789abcdef',
      PUBLIC_URL: 'https://todo.example',
    }));
    const answer = await get(`${url}/portal-link?owner=customer-1`);
    expect(answer.status).toBe(200);
    const link = (JSON.parse(answer.text) as { url: string }).url;
    expect(link).toMatch(/^https:\/\/todo\.example\/webhooks\/portal\?token=[\w-]+\.[\w-]+$/);
    const landing = await get(`${url}${new URL(link).pathname}${new URL(link).search}`);
    expect(landing.status).toBe(200);
    // PUBLIC_URL is https: the session cookie is Secure.
    const cookie = String(landing.headers['set-cookie']);
    expect(cookie).toMatch(/; HttpOnly; SameSite=Strict; Secure$/);
    const page = await get(`${url}/webhooks/portal`, { cookie: cookie.split(';')[0]! });
    expect(page.status).toBe(200);
    expect(page.text).toContain('Webhooks of <strong>customer-1</strong>');
    expect(page.text).toContain('Todo webhooks');
    // The sample's catalog is what the customer can subscribe to.
    expect((await get(`${url}/webhooks/portal/events`, { cookie: cookie.split(';')[0]! })).text).toContain(
      'todo.created',
    );
    expect(logs.filter((l) => /PORTAL_SIGNING_KEY/.test(l.message))).toEqual([]);
  });

  it('refuses a missing, empty or oversized owner with 400', async () => {
    let url: string;
    ({ app, url } = await startSample({ PORTAL_SIGNING_KEY: 'sample-portal-signing-key-0123456789abcdef' }));
    for (const query of ['', '?owner=', `?owner=${'a'.repeat(256)}`, '?owner=%20x', '?owner=a&owner=b']) {
      const answer = await get(`${url}/portal-link${query}`);
      expect({ query, status: answer.status }).toEqual({ query, status: 400 });
    }
  });

  it('without PORTAL_SIGNING_KEY, makes a key at startup and says so', async () => {
    const warnings: string[] = [];
    const { Logger } = await import('@nestjs/common');
    const spy = jest.spyOn(Logger.prototype, 'warn').mockImplementation((message: unknown) => {
      warnings.push(String(message));
    });
    try {
      let url: string;
      ({ app, url } = await startSample({}));
      expect(warnings.filter((w) => w.includes('PORTAL_SIGNING_KEY is not set'))).toHaveLength(1);
      const link = (JSON.parse((await get(`${url}/portal-link?owner=acme`)).text) as { url: string }).url;
      expect(link).toMatch(/^http:\/\/localhost:3000\/webhooks\/portal\?token=/);
    } finally {
      spy.mockRestore();
    }
  });
});
