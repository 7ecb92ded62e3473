import { ConvoyConfigurationError } from '../../../lib/index.js';
import { resolvePortalOptions } from '../../../lib/portal/portal.options.js';
import { ownerIdProblem, WebhookPortal } from '../../../lib/portal/webhook-portal.js';
import { SignedTokens } from '../../../lib/ui/signed-token.js';

const KEY = 'unit-test-portal-signing-key-0123456789';

describe('ConvoyPortalModule options', () => {
  it('normalizes the path and baseUrl, with defaults for the rest', () => {
    expect(resolvePortalOptions('/webhooks/portal/', { signingKey: KEY, baseUrl: 'https://app.example/' })).toEqual({
      path: 'webhooks/portal',
      signingKey: KEY,
      baseUrl: 'https://app.example',
      title: 'Webhooks',
      convoyPortalLinks: true,
      testEvent: { eventType: 'webhook.test', data: { message: 'A test event sent from the webhook portal' } },
      actionsPerMinute: 30,
    });
    expect(resolvePortalOptions('/p', { signingKey: KEY, actionsPerMinute: false }).actionsPerMinute).toBe(false);
  });

  it.each([
    ['path', '../up', { signingKey: KEY }],
    ['path', '', { signingKey: KEY }],
    ['signingKey', '/p', {}],
    ['signingKey', '/p', { signingKey: 'x'.repeat(31) }],
    ['signingKey', '/p', { signingKey: Buffer.alloc(16) }],
    ['baseUrl', '/p', { signingKey: KEY, baseUrl: 'ftp://app.example' }],
    ['baseUrl', '/p', { signingKey: KEY, baseUrl: 'https://app.example/?a=1' }],
    ['baseUrl', '/p', { signingKey: KEY, baseUrl: 'https://user:pw@app.example' }],
    ['title', '/p', { signingKey: KEY, title: '' }],
    ['testEvent', '/p', { signingKey: KEY, testEvent: { eventType: '' } }],
    ['actionsPerMinute', '/p', { signingKey: KEY, actionsPerMinute: 0 }],
    ['actionsPerMinute', '/p', { signingKey: KEY, actionsPerMinute: 1.5 }],
    ['actionsPerMinute', '/p', { signingKey: KEY, actionsPerMinute: 10_001 }],
    ['actionsPerMinute', '/p', { signingKey: KEY, actionsPerMinute: '30' }],
    ['actionsPerMinute', '/p', { signingKey: KEY, actionsPerMinute: true }],
  ])('refuses a bad %s at startup, naming it and never the key', (option, path, options) => {
    let error: unknown;
    try {
      resolvePortalOptions(path, options as never);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConvoyConfigurationError);
    expect((error as ConvoyConfigurationError).option).toBe(`portal.${option}`);
    expect((error as Error).message).not.toContain(KEY);
  });

  it('owner ids: 1 to 255 characters, no control characters, not blank or padded', () => {
    expect(ownerIdProblem('acme-1')).toBeUndefined();
    expect(ownerIdProblem('ünïcødé 客户')).toBeUndefined();
    for (const bad of ['', ' ', 'a'.repeat(256), 'a\u0000b', 'a\u007fb', ' a', 'a ', 42, undefined])
      expect(ownerIdProblem(bad)).toEqual(expect.any(String));
  });

  it('a token is for the portal and one owner: another purpose, or a missing owner, is refused', () => {
    const portal = new WebhookPortal(resolvePortalOptions('/p', { signingKey: KEY }), {
      client: undefined as never,
      active: false,
    });
    const token = new URL(portal.appLink('acme').url, 'http://x').searchParams.get('token')!;
    expect(portal.verify(token)).toMatchObject({ owner: 'acme', token });
    const tokens = new SignedTokens(KEY);
    expect(portal.verify(tokens.sign({ typ: 'dashboard', owner: 'acme' }, 60_000))).toBe('malformed');
    expect(portal.verify(tokens.sign({ typ: 'portal' }, 60_000))).toBe('malformed');
    expect(portal.verify(tokens.sign({ typ: 'portal', owner: '' }, 60_000))).toBe('malformed');
    expect(portal.verify(tokens.sign({ typ: 'portal', owner: 'acme' }, -1_000))).toBe('expired');
  });
});
