import { Webhook, WebhookVerificationError as PackageVerificationError } from 'standardwebhooks';
import {
  generateStandardWebhookSecret,
  signStandardWebhook,
  verifyStandardWebhook,
  type VerificationFailureReason,
} from '../../../lib/signing/index.js';

/**
 * Standard Webhooks, checked against the spec's example and against the reference `standardwebhooks`
 * npm package in both directions: what we sign it accepts, what it signs we accept.
 */

// The example of the Standard Webhooks spec (and of its reference libraries' tests).
const SPEC = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  payload: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};

const PAYLOAD = '{"event":"charge.success","amount":1000,"currency":"NGN"}';
const nowSeconds = () => Math.floor(Date.now() / 1000);

describe('generateStandardWebhookSecret', () => {
  it('is whsec_ + base64 of 32 random bytes, and the reference package accepts it', () => {
    const secret = generateStandardWebhookSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(secret.slice('whsec_'.length), 'base64')).toHaveLength(32);
    expect(generateStandardWebhookSecret()).not.toBe(secret);
    const headers = signStandardWebhook(PAYLOAD, { id: 'msg_1', secrets: [secret] });
    expect(new Webhook(secret).verify(PAYLOAD, { ...headers })).toEqual(JSON.parse(PAYLOAD));
  });
});

describe('signStandardWebhook', () => {
  it("reproduces the spec's example, with or without the whsec_ prefix", () => {
    const expected = {
      'webhook-id': SPEC.id,
      'webhook-timestamp': String(SPEC.timestamp),
      'webhook-signature': SPEC.signature,
    };
    expect(
      signStandardWebhook(SPEC.payload, { id: SPEC.id, timestamp: SPEC.timestamp, secrets: [SPEC.secret] }),
    ).toEqual(expected);
    expect(
      signStandardWebhook(SPEC.payload, { id: SPEC.id, timestamp: SPEC.timestamp, secrets: [SPEC.secret.slice(6)] }),
    ).toEqual(expected);
    expect(
      signStandardWebhook(Buffer.from(SPEC.payload), {
        id: SPEC.id,
        timestamp: SPEC.timestamp,
        secrets: [SPEC.secret],
      }),
    ).toEqual(expected);
  });

  it('signs what the reference package signs', () => {
    const wh = new Webhook(SPEC.secret);
    expect(wh.sign(SPEC.id, new Date(SPEC.timestamp * 1000), SPEC.payload)).toBe(SPEC.signature);
    const unicode = '{"name":"Zoë Ångström","emoji":"🚚"}';
    expect(
      signStandardWebhook(unicode, { id: 'msg_u', timestamp: SPEC.timestamp, secrets: [SPEC.secret] })[
        'webhook-signature'
      ],
    ).toBe(wh.sign('msg_u', new Date(SPEC.timestamp * 1000), unicode));
  });

  it('whose signatures the reference package verifies: string, Buffer, unicode and empty payloads', () => {
    const secret = generateStandardWebhookSecret();
    const wh = new Webhook(secret);
    for (const payload of [PAYLOAD, Buffer.from(PAYLOAD), '{"city":"Zürich","emoji":"🚚","cjk":"東京"}']) {
      const headers = signStandardWebhook(payload, { id: 'msg_2', secrets: [secret] }); // now: the package checks the real clock
      expect(wh.verify(payload, { ...headers })).toEqual(JSON.parse(payload.toString()));
    }
    expect(wh.verify('', { ...signStandardWebhook('', { id: 'msg_3', secrets: [secret] }) })).toBeUndefined();
    // And it rejects what it should, so the checks above mean something.
    const headers = signStandardWebhook(PAYLOAD, { id: 'msg_4', secrets: [secret] });
    expect(() => wh.verify(PAYLOAD.replace('1000', '9000'), { ...headers })).toThrow(PackageVerificationError);
    expect(() => new Webhook(generateStandardWebhookSecret()).verify(PAYLOAD, { ...headers })).toThrow(
      'No matching signature found',
    );
  });

  it('signs once per secret, space-separated, oldest first: the package verifies a rotation with either secret', () => {
    const [oldSecret, newSecret] = [generateStandardWebhookSecret(), generateStandardWebhookSecret()];
    const headers = signStandardWebhook(PAYLOAD, { id: 'msg_rot', secrets: [oldSecret, newSecret] });
    const [first, second, ...more] = headers['webhook-signature'].split(' ');
    expect(more).toEqual([]);
    const date = new Date(Number(headers['webhook-timestamp']) * 1000);
    expect(first).toBe(new Webhook(oldSecret).sign('msg_rot', date, PAYLOAD));
    expect(second).toBe(new Webhook(newSecret).sign('msg_rot', date, PAYLOAD));
    expect(new Webhook(oldSecret).verify(PAYLOAD, { ...headers })).toEqual(JSON.parse(PAYLOAD));
    expect(new Webhook(newSecret).verify(PAYLOAD, { ...headers })).toEqual(JSON.parse(PAYLOAD));
  });

  it('uses the current time when no timestamp is given', () => {
    const before = nowSeconds();
    const t = Number(signStandardWebhook(PAYLOAD, { id: 'msg', secrets: [SPEC.secret] })['webhook-timestamp']);
    expect(t).toBeGreaterThanOrEqual(before);
    expect(t).toBeLessThanOrEqual(nowSeconds());
  });

  it('refuses a secret that is not base64 with a clear TypeError that does not quote it', () => {
    for (const secret of ['whsec_not base64!', 'whsec_', 'hunter2!', 'whsec_abc', '']) {
      let error: unknown;
      try {
        signStandardWebhook(PAYLOAD, { id: 'msg', secrets: [SPEC.secret, secret] });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(TypeError);
      const message = (error as Error).message;
      expect(message).toMatch(
        /^signStandardWebhook: options\.secrets\[1\] (is not a Standard Webhooks secret: expected "whsec_" followed by standard base64|must be a non-empty string)/,
      );
      if (secret !== '' && secret !== 'whsec_') expect(message).not.toContain(secret);
    }
  });

  it('refuses ids that cannot travel as a header unchanged, and bad timestamps', () => {
    for (const id of ['', ' msg', 'msg ', 'a\nb', 'zoë', 42]) {
      expect(() => signStandardWebhook(PAYLOAD, { id: id as string, secrets: [SPEC.secret] })).toThrow(
        /options\.id must be a non-empty string of printable ASCII/,
      );
    }
    expect(
      signStandardWebhook(PAYLOAD, { id: 'order 42:created', timestamp: 1, secrets: [SPEC.secret] })['webhook-id'],
    ).toBe('order 42:created');
    expect(() => signStandardWebhook(PAYLOAD, { id: 'msg', timestamp: 1.5, secrets: [SPEC.secret] })).toThrow(
      /options\.timestamp must be a whole/,
    );
    expect(() => signStandardWebhook(PAYLOAD, { id: 'msg', secrets: [] })).toThrow(
      /options\.secrets must be a non-empty/,
    );
  });
});

describe('verifyStandardWebhook', () => {
  const secret = SPEC.secret;
  const now = SPEC.timestamp + 5;
  const specHeaders = {
    'webhook-id': SPEC.id,
    'webhook-timestamp': String(SPEC.timestamp),
    'webhook-signature': SPEC.signature,
  };
  const verify = (
    headers: Record<string, string | string[] | undefined>,
    options: Partial<Parameters<typeof verifyStandardWebhook>[2]> = {},
    body: string | Buffer = SPEC.payload,
  ) => verifyStandardWebhook(body, headers, { secret, now, ...options });

  it("accepts the spec's example, with a Buffer body, and with the bare base64 secret", () => {
    expect(verify(specHeaders)).toEqual({ valid: true, timestamp: SPEC.timestamp });
    expect(verify(specHeaders, {}, Buffer.from(SPEC.payload))).toEqual({ valid: true, timestamp: SPEC.timestamp });
    expect(verify(specHeaders, { secret: secret.slice(6) })).toEqual({ valid: true, timestamp: SPEC.timestamp });
  });

  it('accepts what the reference package signs', () => {
    const fresh = generateStandardWebhookSecret();
    const date = new Date();
    for (const payload of [PAYLOAD, Buffer.from('{"city":"Zürich","emoji":"🚚"}')]) {
      const headers = {
        'webhook-id': 'msg_pkg',
        'webhook-timestamp': String(Math.floor(date.getTime() / 1000)),
        'webhook-signature': new Webhook(fresh).sign('msg_pkg', date, payload),
      };
      expect(verifyStandardWebhook(payload, headers, { secret: fresh })).toEqual({
        valid: true,
        timestamp: Math.floor(date.getTime() / 1000),
      });
    }
  });

  it('accepts a rotation (old and new signatures) with either secret, and the package-made pair too', () => {
    const [oldSecret, newSecret] = [generateStandardWebhookSecret(), generateStandardWebhookSecret()];
    const ours = signStandardWebhook(PAYLOAD, { id: 'msg_rot', timestamp: now, secrets: [oldSecret, newSecret] });
    expect(verify(ours, { secret: oldSecret }, PAYLOAD)).toEqual({ valid: true, timestamp: now });
    expect(verify(ours, { secret: newSecret }, PAYLOAD)).toEqual({ valid: true, timestamp: now });
    expect(verify(ours, { secret: [generateStandardWebhookSecret(), newSecret] }, PAYLOAD)).toEqual({
      valid: true,
      timestamp: now,
    });
    expect(verify(ours, { secret: generateStandardWebhookSecret() }, PAYLOAD)).toEqual({
      valid: false,
      reason: 'no_matching_signature',
    });

    const date = new Date(now * 1000);
    const theirs = [
      new Webhook(oldSecret).sign('msg_rot', date, PAYLOAD),
      new Webhook(newSecret).sign('msg_rot', date, PAYLOAD),
    ].join(' ');
    expect(theirs).toBe(ours['webhook-signature']);
    expect(verify({ ...ours, 'webhook-signature': theirs }, { secret: newSecret }, PAYLOAD)).toEqual({
      valid: true,
      timestamp: now,
    });
  });

  it('reads header names case-insensitively, and array values', () => {
    expect(
      verify({
        'Webhook-Id': SPEC.id,
        'WEBHOOK-TIMESTAMP': String(SPEC.timestamp),
        'Webhook-Signature': SPEC.signature,
      }),
    ).toEqual({ valid: true, timestamp: SPEC.timestamp });
    expect(
      verify({ ...specHeaders, 'webhook-id': [SPEC.id], 'webhook-signature': ['v1,AAAA', SPEC.signature] }),
    ).toEqual({ valid: true, timestamp: SPEC.timestamp });
  });

  it('skips versions other than v1 (v1a is asymmetric) and extra spaces', () => {
    expect(
      verify({ ...specHeaders, 'webhook-signature': `v1a,bm90IGFuIGVkMjU1MTkgc2lnbmF0dXJl  ${SPEC.signature}` }),
    ).toEqual({ valid: true, timestamp: SPEC.timestamp });
    expect(verify({ ...specHeaders, 'webhook-signature': `v2,${SPEC.signature.slice(3)}` })).toEqual({
      valid: false,
      reason: 'no_matching_signature',
    });
  });

  it('accepts timestamps exactly at the tolerance, either way', () => {
    for (const t of [now - 300, now + 300]) {
      expect(verify(signStandardWebhook(PAYLOAD, { id: 'm', timestamp: t, secrets: [secret] }), {}, PAYLOAD)).toEqual({
        valid: true,
        timestamp: t,
      });
    }
  });

  describe('rejects, naming the reason', () => {
    const cases: Array<[string, Record<string, string | string[] | undefined>, VerificationFailureReason]> = [
      ['no headers', {}, 'missing_signature'],
      ['no webhook-signature', { ...specHeaders, 'webhook-signature': undefined }, 'missing_signature'],
      ['no webhook-id', { ...specHeaders, 'webhook-id': undefined }, 'missing_webhook_id'],
      ['an empty webhook-id', { ...specHeaders, 'webhook-id': '' }, 'missing_webhook_id'],
      ['two webhook-ids', { ...specHeaders, 'webhook-id': [SPEC.id, 'other'] }, 'malformed_signature'],
      ['no webhook-timestamp', { ...specHeaders, 'webhook-timestamp': undefined }, 'missing_timestamp'],
      ['an empty webhook-timestamp', { ...specHeaders, 'webhook-timestamp': '' }, 'missing_timestamp'],
      ['a non-numeric timestamp', { ...specHeaders, 'webhook-timestamp': 'abc' }, 'invalid_timestamp'],
      ['a fractional timestamp', { ...specHeaders, 'webhook-timestamp': '1614265330.5' }, 'invalid_timestamp'],
      [
        'a timestamp in milliseconds',
        { ...specHeaders, 'webhook-timestamp': String(SPEC.timestamp * 1000) },
        'timestamp_in_future',
      ],
      ['an empty signature header', { ...specHeaders, 'webhook-signature': '' }, 'malformed_signature'],
      [
        'a signature header without a version',
        { ...specHeaders, 'webhook-signature': 'garbage' },
        'malformed_signature',
      ],
      ['a signature over another id', { ...specHeaders, 'webhook-id': 'msg_other' }, 'no_matching_signature'],
      [
        'a signature over another timestamp',
        { ...specHeaders, 'webhook-timestamp': String(SPEC.timestamp + 1) },
        'no_matching_signature',
      ],
      [
        'a tampered signature',
        { ...specHeaders, 'webhook-signature': SPEC.signature.replace('g0h', 'g0i') },
        'no_matching_signature',
      ],
    ];
    it.each(cases)('%s', (_what, headers, reason) => {
      expect(verify(headers)).toEqual({ valid: false, reason });
    });

    it('stale and future timestamps', () => {
      expect(verify(specHeaders, { now: SPEC.timestamp + 301 })).toEqual({ valid: false, reason: 'timestamp_too_old' });
      expect(verify(specHeaders, { now: SPEC.timestamp - 301 })).toEqual({
        valid: false,
        reason: 'timestamp_in_future',
      });
      expect(verify(specHeaders, { now: SPEC.timestamp + 61, toleranceMs: 60_000 })).toEqual({
        valid: false,
        reason: 'timestamp_too_old',
      });
    });

    it('a tampered body and a wrong secret', () => {
      expect(verify(specHeaders, {}, '{"test": 2432232315}')).toEqual({
        valid: false,
        reason: 'no_matching_signature',
      });
      expect(verify(specHeaders, {}, '{"test":2432232314}')).toEqual({ valid: false, reason: 'no_matching_signature' }); // re-serialized
      expect(verify(specHeaders, { secret: generateStandardWebhookSecret() })).toEqual({
        valid: false,
        reason: 'no_matching_signature',
      });
    });

    it('signatures of another length or encoding, without throwing', () => {
      const b64 = SPEC.signature.slice(3);
      for (const signature of [
        b64.slice(0, -4),
        `${b64}AAAA`,
        b64.slice(0, -1),
        Buffer.from(b64, 'base64').toString('hex'),
        `${b64}!`,
        '',
      ]) {
        expect(() => verify({ ...specHeaders, 'webhook-signature': `v1,${signature}` })).not.toThrow();
        expect(verify({ ...specHeaders, 'webhook-signature': `v1,${signature}` })).toEqual({
          valid: false,
          reason: 'no_matching_signature',
        });
      }
    });
  });

  it('refuses unusable options with a TypeError that does not quote the secret', () => {
    expect(() => verify(specHeaders, { secret: 'whsec_not base64!' })).toThrow(
      /options\.secret is not a Standard Webhooks secret/,
    );
    expect(() => verify(specHeaders, { secret: [secret, 'hunter2!'] })).toThrow(
      /options\.secret\[1\] is not a Standard Webhooks secret/,
    );
    expect(() => verify(specHeaders, { secret: [secret, 'hunter2!'] })).not.toThrow(/hunter2/);
    expect(() => verify(specHeaders, { secret: [] })).toThrow(/options\.secret must be a non-empty/);
    expect(() => verify(specHeaders, { toleranceMs: -5 })).toThrow(/toleranceMs/);
    expect(() => verify(specHeaders, { tolerance: 60 } as never)).toThrow(/options\.tolerance is now toleranceMs/);
  });
});
