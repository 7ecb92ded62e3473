import { CsrfTokens, isCrossSite, PAGE_SECURITY_HEADERS } from '../../../lib/ui/security.js';
import { SignedTokens } from '../../../lib/ui/signed-token.js';
import { normalizeMountPath } from '../../../lib/ui/mount.js';
import { renderPage } from '../../../lib/ui/page.js';
import { html } from '../../../lib/ui/html.js';

const KEY = 'k'.repeat(32);

describe('SignedTokens', () => {
  const tokens = new SignedTokens(KEY);

  it('gives back the claims of a token it signed, until it expires', () => {
    const token = tokens.sign({ owner: 'acme' }, 60_000, 1_000_000);
    expect(tokens.verify<{ owner: string }>(token, 1_000_000)).toEqual({
      ok: true,
      claims: { owner: 'acme', exp: 1_060 },
    });
    expect(tokens.verify(token, 1_060_000)).toEqual({ ok: false, problem: 'expired' });
  });

  it('refuses a token whose claims were changed, or signed with another key', () => {
    const token = tokens.sign({ owner: 'acme' }, 60_000);
    const [, mac] = token.split('.');
    const forged = `${Buffer.from(JSON.stringify({ owner: 'other', exp: 9e9 })).toString('base64url')}.${mac}`;
    expect(tokens.verify(forged)).toEqual({ ok: false, problem: 'signature' });
    expect(new SignedTokens('x'.repeat(32)).verify(token)).toEqual({ ok: false, problem: 'signature' });
  });

  it('refuses malformed and oversized tokens, and a short key', () => {
    for (const bad of [undefined, '', 'abc', 'a.b.c', 'x'.repeat(5_000), 42]) {
      expect(tokens.verify(bad).ok).toBe(false);
    }
    expect(() => new SignedTokens('short')).toThrow('at least 32 bytes');
  });
});

describe('CsrfTokens', () => {
  const csrf = new CsrfTokens(KEY);

  it('accepts the token of the same session only', () => {
    const token = csrf.issue('session-a');
    expect(csrf.verify('session-a', token)).toBe(true);
    expect(csrf.verify('session-b', token)).toBe(false);
    expect(csrf.verify('session-a', undefined)).toBe(false);
    expect(csrf.verify('session-a', token.slice(1))).toBe(false);
  });
});

describe('isCrossSite', () => {
  it('refuses cross-site fetch metadata and a foreign Origin, allows same-origin and their absence', () => {
    expect(isCrossSite({ 'sec-fetch-site': 'cross-site' }, 'app.test')).toBe(true);
    expect(isCrossSite({ 'sec-fetch-site': 'same-site' }, 'app.test')).toBe(true);
    expect(isCrossSite({ origin: 'https://evil.test' }, 'app.test')).toBe(true);
    expect(isCrossSite({ origin: 'not a url' }, 'app.test')).toBe(true);
    expect(isCrossSite({ 'sec-fetch-site': 'same-origin', origin: 'http://app.test' }, 'app.test')).toBe(false);
    expect(isCrossSite({}, 'app.test')).toBe(false);
    // What Chromium sends with a form under Referrer-Policy: no-referrer.
    expect(isCrossSite({ 'sec-fetch-site': 'same-origin', origin: 'null' }, 'app.test')).toBe(false);
    expect(isCrossSite({ origin: 'null' }, 'app.test')).toBe(true);
  });
});

describe('page shell', () => {
  it('has a strict CSP with no inline script or style', () => {
    const csp = PAGE_SECURITY_HEADERS['content-security-policy']!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
  });

  it('escapes the title and notice, and links the stylesheet under the mount path', () => {
    const page = renderPage({
      title: '<b>t</b>',
      brand: 'Webhooks',
      assetsPath: '/webhooks/admin/',
      body: html`<p>ok</p>`,
      notice: { kind: 'bad', text: '<script>x</script>' },
    });
    expect(page).toContain('<h1>&lt;b&gt;t&lt;/b&gt;</h1>');
    expect(page).toContain('&lt;script&gt;x&lt;/script&gt;');
    expect(page).toContain('href="/webhooks/admin/assets/ui.css"');
  });

  it('normalizes mount paths and refuses ones that escape', () => {
    expect(normalizeMountPath('/webhooks/admin/', 'path')).toBe('webhooks/admin');
    for (const bad of ['', '/', '/a/../b', '/a?b', '/a b'])
      expect(() => normalizeMountPath(bad, 'path')).toThrow('path must be');
  });
});
