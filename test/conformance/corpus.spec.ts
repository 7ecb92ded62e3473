/**
 * The recorded corpus against the client's declared types: every answer a real Convoy gave must validate against the
 * schema derived from the type the client promises for that route (strictly: no undeclared field, no missing
 * required one, null only where declared). A failure here means the types lie about what Convoy sends.
 */
import { envelope, loadCorpus } from './corpus.js';
import { declaredRoutes, describeErrors, validatorFor } from './schemas.js';

/** Routes a community Convoy cannot answer with data (so only their error answers are recorded), and why. */
const NOT_RECORDABLE: Record<string, string> = {
  'POST /portal-links': 'licensed (portal_links): a community Convoy answers 401 "Access denied"',
  'GET /portal-links': 'licensed (portal_links)',
  'GET /portal-links/{portalLinkID}': 'licensed (portal_links)',
  'PUT /portal-links/{portalLinkID}': 'licensed (portal_links)',
  'PUT /portal-links/{portalLinkID}/revoke': 'licensed (portal_links)',
  'GET /portal-links/{portalLinkID}/refresh_token': 'licensed (portal_links)',
  'POST /subscriptions/test_filter': 'licensed (advanced_subscriptions): a community Convoy answers 400',
  'GET /meta-events/{metaEventID}':
    'no meta event exists: Convoy refuses a loopback meta-event URL, and the recorder sends nothing elsewhere',
  'PUT /meta-events/{metaEventID}/resend': 'no meta event exists (see above)',
};

describe('the recorded Convoy corpus', () => {
  const { meta, exchanges } = loadCorpus();

  it('says which Convoy it came from', () => {
    expect(meta).toEqual({
      convoyVersion: expect.stringMatching(/^v\d+\.\d+\.\d+/),
      edition: expect.any(String),
      apiVersion: '2025-11-24',
      recordedAt: expect.any(String),
      command: 'npm run record:convoy',
    });
    expect(exchanges.length).toBeGreaterThan(100);
  });

  it('holds no credential, secret, token or signature', () => {
    const text = JSON.stringify(exchanges);
    expect(text).not.toMatch(/CO\.[A-Za-z0-9]{8,}\.[A-Za-z0-9]{16,}/); // a Convoy key or PAT
    expect(text).not.toMatch(/t=\d{10},v1=/); // a signature header
    for (const x of exchanges) {
      const walk = (v: unknown, key: string): void => {
        if (Array.isArray(v)) return v.forEach((item) => walk(item, key));
        if (v && typeof v === 'object') return Object.entries(v).forEach(([k, item]) => walk(item, k));
        if (
          ['secret', 'header_value', 'password', 'token', 'X-Convoy-Signature'].includes(key) &&
          typeof v === 'string' &&
          v !== ''
        )
          expect(v).toMatch(/^<[a-z_-]+>$/);
      };
      walk(x, '');
    }
  });

  it('covers every route the client has: with a 2xx answer, or an error answer where a community Convoy has no other', () => {
    for (const route of declaredRoutes()) {
      const recorded = exchanges.filter((x) => x.route === route);
      const ok = recorded.filter((x) => x.response.status < 300);
      if (NOT_RECORDABLE[route])
        expect({ route, errors: recorded.length > 0, ok: ok.length }).toEqual({ route, errors: true, ok: 0 });
      else expect({ route, ok: ok.length > 0 }).toEqual({ route, ok: true });
    }
  });

  // One test per recorded answer, named after what the recorder did, so a failure names the route and the field.
  for (const x of loadCorpus().exchanges) {
    const ok = x.response.status < 300;
    it(`${x.route} → ${x.response.status}: ${x.name}`, () => {
      const validate = validatorFor(ok ? x.route : 'error');
      const value = ok ? (envelope(x).data ?? null) : x.response.body;
      const valid = validate(value);
      expect(valid ? [] : describeErrors(validate)).toEqual([]);
    });
  }
});
