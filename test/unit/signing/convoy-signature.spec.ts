import { jest } from '@jest/globals';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ConvoyError } from '../../../lib/errors/convoy.error.js';
import {
  signConvoyPayload,
  verifyConvoySignature,
  WebhookVerificationError,
  type SignatureEncoding,
  type SignatureHash,
  type VerificationFailureReason,
} from '../../../lib/signing/index.js';
import { signConvoyPayloadSha256 } from '../../../lib/signing/convoy-signature.js';

/**
 * Convoy's X-Convoy-Signature, checked against Convoy's shared vectors and against digests computed
 * independently (Python's hmac module), never against our own signer alone.
 */

const SECRET = 'convoy-webhook-secret';
const PAYLOAD = '{"event":"charge.success","amount":1000,"currency":"NGN"}';
const T = 1700000000;

interface SignatureVector {
  name: string;
  description: string;
  advanced: boolean;
  hash: SignatureHash;
  encoding: SignatureEncoding;
  secret: string;
  payload: string;
  header: string;
  tolerance: number;
  valid: boolean;
}

// Convoy's pkg/signature/testdata/signature-vectors.json lives beside the repo, never inside it.
const vectorsPath = path.resolve(process.cwd(), '../shared/convoy/signature-vectors.json');
const haveVectors = existsSync(vectorsPath);
const vectors: SignatureVector[] = haveVectors ? JSON.parse(readFileSync(vectorsPath, 'utf8')) : [];
if (!haveVectors)
  console.info(
    `Skipping Convoy's shared signature vectors: ${vectorsPath} does not exist (it comes with ../shared beside the repo).`,
  );

// What each invalid shared vector must be rejected for (the file only says "invalid").
const expectedReasons: Record<string, VerificationFailureReason> = {
  advanced_tamper: 'no_matching_signature',
  advanced_expired: 'timestamp_too_old',
  advanced_multi_v1_none_valid: 'no_matching_signature',
  advanced_t_infinity: 'invalid_timestamp',
  advanced_numeric_signature: 'no_matching_signature',
  advanced_missing_timestamp: 'missing_timestamp',
  simple_tamper: 'no_matching_signature',
};

(haveVectors ? describe : describe.skip)("Convoy's shared signature vectors (signature-vectors.json)", () => {
  it('holds the 17 cases every official SDK tests against', () => {
    expect(vectors).toHaveLength(17);
    expect(new Set(vectors.map((v) => v.name)).size).toBe(17);
  });

  // The vectors are signed at t=1700000000 and meant to be checked against the real clock (as the SDKs do):
  // a 100-year tolerance accepts them, advanced_expired's 300 s rejects them.
  // (Jest refuses describe.each over an empty table even inside describe.skip, hence the placeholder.)
  const table = haveVectors
    ? vectors.map((v) => [v.name, v] as const)
    : [['(no vectors)', {} as SignatureVector] as const];
  describe.each(table)('%s', (_name, vector) => {
    const verify = () =>
      verifyConvoySignature(vector.payload, vector.header, {
        secret: vector.secret,
        hash: vector.hash,
        encoding: vector.encoding,
        toleranceMs: vector.tolerance * 1000, // the vectors give seconds
      });

    if (vector.valid) {
      it('verifies', () => {
        expect(verify()).toEqual(vector.advanced ? { valid: true, timestamp: T } : { valid: true });
      });

      it('is reproduced by signConvoyPayload', () => {
        const signed = signConvoyPayload(vector.payload, {
          secrets: [vector.secret],
          advanced: vector.advanced,
          schemes: [{ hash: vector.hash, encoding: vector.encoding }],
          timestamp: T,
        });
        // Canonical headers (simple, or "t=…,v1=…" with one signature) must match exactly; the others
        // (t last, a decoy v1) must contain our signature.
        const canonical = !vector.advanced || /^t=\d+,v1=[^,]+$/.test(vector.header);
        if (canonical) {
          expect(signed).toBe(vector.header);
        } else {
          const ours = signed.split(',').find((part) => part.startsWith('v1='))!;
          expect(vector.header.split(',')).toContain(ours);
        }
      });
    } else {
      it('is rejected', () => {
        const result = verify();
        expect(result.valid).toBe(false);
        const reason = expectedReasons[vector.name];
        if (reason) expect(result).toEqual({ valid: false, reason });
      });
    }
  });
});

describe('signConvoyPayload', () => {
  it("reproduces the README's vector in simple and advanced mode", () => {
    expect(signConvoyPayload(PAYLOAD, { secrets: [SECRET], advanced: false })).toBe(
      '244449b7f48cbc2709060c9dcdc2b3aa47a78f540430579015c579fb12defbb4',
    );
    expect(signConvoyPayload(PAYLOAD, { secrets: [SECRET], advanced: true, timestamp: T })).toBe(
      't=1700000000,v1=77b8b9269f25a199846a55a2bd25b3fba151c70fdae60bb1dcd87fbbc943c55c',
    );
  });

  // Digests below were computed with Python's hmac module, independently of this code.
  const OLD = 'd23c8d6a94cf3cc378e5fbde063707fcdb4f207891601f4ef5dada8cfd67f8d2';
  const NEW = 'cb437d0a83d1c94bce5b8a813d2705d9025fe2e4225189225396852e4001bf2b';
  const ROTATION = `t=1700000000,v1=${OLD},v1=${NEW}`;

  it('signs with every active secret, oldest first, during a rotation', () => {
    expect(signConvoyPayload(PAYLOAD, { secrets: ['old-secret', 'new-secret'], advanced: true, timestamp: T })).toBe(
      ROTATION,
    );
  });

  it('labels scheme k as v{k+1}, each with every secret', () => {
    const header = signConvoyPayload(PAYLOAD, {
      secrets: ['old-secret', 'new-secret'],
      advanced: true,
      timestamp: T,
      schemes: [
        { hash: 'SHA256', encoding: 'hex' },
        { hash: 'SHA512', encoding: 'base64' },
      ],
    });
    expect(header).toBe(
      `${ROTATION},v2=ieq2LhIEweVKJxv4v93+SCCSBpOK1y2DS/Mnuy1ldZb5mp/PhpjgBsHiGtWdadknCbXFsC65nCdhcCxe9j+W7Q==` +
        ',v2=8yprmeZeaNEuHA3YxZqM6q70r9pr2GwTsvhEIV3sjhz9GjLfls3ZUIfMXP6+YVEHo2VaJAvT+xBKMg+Z3ev/xw==',
    );
  });

  it('simple mode signs with the newest secret and the last scheme only, with no timestamp', () => {
    expect(signConvoyPayload(PAYLOAD, { secrets: ['old-secret', 'new-secret'], advanced: false, timestamp: T })).toBe(
      'c8aa110bccd7dddd164092c59cf6e9a9ba656a02595c2b98737d533b1e101755',
    );
    const lastScheme = signConvoyPayload(PAYLOAD, {
      secrets: ['old-secret', 'new-secret'],
      advanced: false,
      schemes: [
        { hash: 'SHA256', encoding: 'hex' },
        { hash: 'SHA512', encoding: 'base64' },
      ],
    });
    expect(lastScheme).toBe('EW9qQua7APdsKNO6GYGUgVD0K/x/p3FL2+XwkyEf+GoRa4PpqC1WQGtEBVyyFw1vr++Qz3SdFy4L008MHHUm4w==');
  });

  it('signs an empty payload', () => {
    expect(signConvoyPayload('', { secrets: [SECRET], advanced: false })).toBe(
      'e709b8ce50dca28f26eb106767c5b41ca9e7c13dbd62e21e39a15a053285b11f',
    );
    expect(signConvoyPayload('', { secrets: [SECRET], advanced: true, timestamp: T })).toBe(
      't=1700000000,v1=1396875e834a08455311fa34d2e27621f7aa856be7d0344b2720c112a6a62492',
    );
  });

  const UNICODE = '{"name":"Zoë Ångström","city":"Zürich","emoji":"🚚","cjk":"東京"}';

  it('signs the UTF-8 bytes of a unicode payload', () => {
    expect(signConvoyPayload(UNICODE, { secrets: [SECRET], advanced: true, timestamp: T })).toBe(
      't=1700000000,v1=62cae365d7227240b8248ff681c74215f009f3a246403279277aba92f2561b9a',
    );
    expect(
      signConvoyPayload(UNICODE, {
        secrets: [SECRET],
        advanced: false,
        schemes: [{ hash: 'SHA256', encoding: 'base64' }],
      }),
    ).toBe('g/VXzFSqoeq6whWTv1auizSnWkILPH66xekKfI6V7Wc=');
  });

  it('signs a Buffer byte for byte, even bytes that are not UTF-8', () => {
    expect(signConvoyPayload(Buffer.from(UNICODE, 'utf8'), { secrets: [SECRET], advanced: true, timestamp: T })).toBe(
      signConvoyPayload(UNICODE, { secrets: [SECRET], advanced: true, timestamp: T }),
    );
    // A UTF-8 round trip would turn 0xff 0xfe into U+FFFD and change the digest.
    const binary = Buffer.from([0x7b, 0xff, 0xfe, 0x00, 0x7d]);
    expect(signConvoyPayload(binary, { secrets: [SECRET], advanced: true, timestamp: T })).toBe(
      't=1700000000,v1=15250520bac3c2c38867260df2ccdde3547a08537e75284f122ee8bf4ecc5731',
    );
  });

  it('signs the payload as given, never re-serialized', () => {
    const pretty = JSON.stringify(JSON.parse(PAYLOAD), null, 2);
    expect(signConvoyPayload(pretty, { secrets: [SECRET], advanced: false })).not.toBe(
      signConvoyPayload(PAYLOAD, { secrets: [SECRET], advanced: false }),
    );
  });

  it('uses the current time when no timestamp is given', () => {
    const before = Math.floor(Date.now() / 1000);
    const t = Number(/^t=(\d+),/.exec(signConvoyPayload(PAYLOAD, { secrets: [SECRET], advanced: true }))![1]);
    expect(t).toBeGreaterThanOrEqual(before);
    expect(t).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
  });

  it('refuses unusable options with a TypeError that never quotes a secret', () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ secrets: [], advanced: true }, /options\.secrets must be a non-empty string or a non-empty array/],
      [
        { secrets: ['hunter2', ''], advanced: true },
        /options\.secrets\[1\] must be a non-empty string \(got an empty string\)/,
      ],
      [{ secrets: ['hunter2'], advanced: 'yes' }, /options\.advanced must be true or false/],
      [{ secrets: ['hunter2'], advanced: true, schemes: [] }, /options\.schemes must be a non-empty array/],
      [
        { secrets: ['hunter2'], advanced: true, schemes: [{ hash: 'MD5', encoding: 'hex' }] },
        /schemes\[0\]: hash must be 'SHA256' or 'SHA512' \(got "MD5"\)/,
      ],
      [
        { secrets: ['hunter2'], advanced: true, schemes: [{ hash: 'SHA256', encoding: 'base32' }] },
        /encoding must be 'hex' or 'base64'/,
      ],
      [
        { secrets: ['hunter2'], advanced: true, timestamp: 1700000000.5 },
        /timestamp must be a whole, non-negative number of unix seconds \(got 1700000000\.5\)/,
      ],
      [{ secrets: ['hunter2'], advanced: true, timestamp: 1700000000000n }, /timestamp must be/],
    ];
    for (const [options, message] of cases) {
      const error = (() => {
        try {
          signConvoyPayload(PAYLOAD, options as never);
        } catch (e) {
          return e as Error;
        }
        throw new Error(
          `accepted ${JSON.stringify(options, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}`,
        );
      })();
      expect(error).toBeInstanceOf(TypeError);
      expect(error.message).toMatch(message);
      expect(error.message).not.toContain('hunter2');
    }
    expect(() => signConvoyPayload({ a: 1 } as never, { secrets: [SECRET], advanced: false })).toThrow(
      /payload must be a string or a Buffer/,
    );
  });
});

describe('signConvoyPayloadSha256 (the signer of the embedded engine)', () => {
  const payload = '{"id":42,"title":"Buy milk","note":"caf\u00e9 ☕"}';
  it.each([
    ['simple, one secret', ['s3cret-one'], false],
    ['simple, during a roll (signs with the newest)', ['s3cret-one', 's3cret-two'], false],
    ['advanced, one secret', ['s3cret-one'], true],
    ['advanced, during a roll (one v1 per secret, oldest first)', ['s3cret-one', 's3cret-two'], true],
  ])('%s: the same header as signConvoyPayload', (_name, secrets, advanced) => {
    const timestamp = 1_700_000_000;
    const fast = signConvoyPayloadSha256(payload, secrets, advanced, timestamp);
    expect(fast).toBe(signConvoyPayload(payload, { secrets, advanced, timestamp }));
    if (advanced)
      expect(verifyConvoySignature(payload, fast, { secret: secrets, now: timestamp })).toEqual({
        valid: true,
        timestamp,
      });
  });

  it('signs with the current time by default', () => {
    const header = signConvoyPayloadSha256(payload, ['s3cret-one'], true);
    expect(verifyConvoySignature(payload, header, { secret: 's3cret-one' })).toMatchObject({ valid: true });
  });
});

describe('verifyConvoySignature', () => {
  const now = T + 10;
  const verify = (
    header: string | undefined,
    options: Partial<Parameters<typeof verifyConvoySignature>[2]> = {},
    body: string | Buffer = PAYLOAD,
  ) => verifyConvoySignature(body, header, { secret: SECRET, now, ...options });
  const advanced = (payload: string | Buffer = PAYLOAD, timestamp = T) =>
    signConvoyPayload(payload, { secrets: [SECRET], advanced: true, timestamp });
  const v1 = 'v1=77b8b9269f25a199846a55a2bd25b3fba151c70fdae60bb1dcd87fbbc943c55c';

  describe('accepts', () => {
    it('an advanced signature, returning its timestamp', () => {
      expect(verify(`t=${T},${v1}`)).toEqual({ valid: true, timestamp: T });
    });

    it('a simple signature, with no timestamp (simple mode cannot prevent replays)', () => {
      const simple = '244449b7f48cbc2709060c9dcdc2b3aa47a78f540430579015c579fb12defbb4';
      expect(verify(simple)).toEqual({ valid: true });
      // Years later, still valid: nothing in a simple signature dates it.
      expect(verify(simple, { now: T + 10 * 365 * 86400 })).toEqual({ valid: true });
      expect(verify(simple.toUpperCase())).toEqual({ valid: true }); // hex is case-insensitive bytes
    });

    it('a rotation header with the old secret, the new one, or both', () => {
      const header = signConvoyPayload(PAYLOAD, {
        secrets: ['old-secret', 'new-secret'],
        advanced: true,
        timestamp: T,
      });
      expect(verify(header, { secret: 'old-secret' })).toEqual({ valid: true, timestamp: T });
      expect(verify(header, { secret: 'new-secret' })).toEqual({ valid: true, timestamp: T });
      expect(verify(header, { secret: ['new-secret', 'old-secret'] })).toEqual({ valid: true, timestamp: T });
      expect(verify(header, { secret: 'third-secret' })).toEqual({ valid: false, reason: 'no_matching_signature' });
    });

    it('one header against any of several receiver secrets', () => {
      expect(verify(`t=${T},${v1}`, { secret: ['someone-else', SECRET] })).toEqual({ valid: true, timestamp: T });
    });

    it('a two-scheme header (v1 SHA256 hex, v2 SHA512 base64) with either scheme configured', () => {
      const header = signConvoyPayload(PAYLOAD, {
        secrets: [SECRET],
        advanced: true,
        timestamp: T,
        schemes: [
          { hash: 'SHA256', encoding: 'hex' },
          { hash: 'SHA512', encoding: 'base64' },
        ],
      });
      expect(header).toBe(
        `t=${T},${v1},v2=shIuJSzSWCzyJcsrjUzu3p40Mp4v6VwCYZw+1dSj2ac+a+ry3/jnbXGmk64ZjO5AaF7tEq1O4uAz3C0Dme3gVw==`,
      );
      expect(verify(header)).toEqual({ valid: true, timestamp: T });
      expect(verify(header, { hash: 'SHA512', encoding: 'base64' })).toEqual({ valid: true, timestamp: T });
      expect(verify(header, { hash: 'SHA512', encoding: 'hex' })).toEqual({
        valid: false,
        reason: 'no_matching_signature',
      });
    });

    it('an empty, a unicode and a Buffer payload', () => {
      expect(verify(advanced(''), {}, '')).toEqual({ valid: true, timestamp: T });
      expect(verify(advanced(''), {}, Buffer.alloc(0))).toEqual({ valid: true, timestamp: T });
      const unicode = '{"name":"Zoë Ångström","emoji":"🚚"}';
      expect(verify(advanced(unicode), {}, Buffer.from(unicode))).toEqual({ valid: true, timestamp: T });
      const binary = Buffer.from([0x7b, 0xff, 0xfe, 0x00, 0x7d]);
      expect(verify(advanced(binary), {}, binary)).toEqual({ valid: true, timestamp: T });
      expect(verify(advanced(binary), {}, binary.toString('utf8'))).toEqual({
        valid: false,
        reason: 'no_matching_signature',
      });
    });

    it('pairs in any order, with spaces (Node joins repeated headers with ", ") and unknown keys ignored', () => {
      expect(verify(`${v1},t=${T}`)).toEqual({ valid: true, timestamp: T });
      expect(verify(` t=${T} , ${v1} `)).toEqual({ valid: true, timestamp: T });
      expect(verify(`t=${T},x-future=1,${v1}`)).toEqual({ valid: true, timestamp: T });
    });

    it('base64 signatures whose padding contains "="', () => {
      const header = signConvoyPayload(PAYLOAD, {
        secrets: [SECRET],
        advanced: true,
        timestamp: T,
        schemes: [{ hash: 'SHA256', encoding: 'base64' }],
      });
      expect(header).toMatch(/=$/);
      expect(verify(header, { encoding: 'base64' })).toEqual({ valid: true, timestamp: T });
    });

    it('timestamps exactly at the tolerance, in the past and in the future', () => {
      expect(verify(advanced(PAYLOAD, now - 300))).toEqual({ valid: true, timestamp: now - 300 });
      expect(verify(advanced(PAYLOAD, now + 300))).toEqual({ valid: true, timestamp: now + 300 });
      expect(verify(advanced(PAYLOAD, now - 60), { toleranceMs: 60_000 })).toEqual({
        valid: true,
        timestamp: now - 60,
      });
    });

    it('takes toleranceMs in milliseconds: 1 500 accepts a timestamp 1 s old and refuses one 2 s old', () => {
      expect(verify(advanced(PAYLOAD, now - 1), { toleranceMs: 1_500 })).toEqual({ valid: true, timestamp: now - 1 });
      expect(verify(advanced(PAYLOAD, now - 2), { toleranceMs: 1_500 })).toMatchObject({
        valid: false,
        reason: 'timestamp_too_old',
      });
    });

    it('by default against the system clock', () => {
      const header = signConvoyPayload(PAYLOAD, { secrets: [SECRET], advanced: true });
      expect(verifyConvoySignature(PAYLOAD, header, { secret: SECRET }).valid).toBe(true);
      const stale = signConvoyPayload(PAYLOAD, {
        secrets: [SECRET],
        advanced: true,
        timestamp: Math.floor(Date.now() / 1000) - 3600,
      });
      expect(verifyConvoySignature(PAYLOAD, stale, { secret: SECRET })).toEqual({
        valid: false,
        reason: 'timestamp_too_old',
      });
    });
  });

  describe('rejects, naming the reason', () => {
    const cases: Array<[string, string | undefined, VerificationFailureReason]> = [
      ['no header', undefined, 'missing_signature'],
      ['an empty header', '', 'malformed_signature'],
      ['a blank header', '   ', 'malformed_signature'],
      ['a lone comma', ',', 'malformed_signature'],
      ['an empty pair', `t=${T},,${v1}`, 'malformed_signature'],
      ['a pair without "="', `t=${T},v1`, 'malformed_signature'],
      ['a pair without a key', `t=${T},=abc`, 'malformed_signature'],
      ['two timestamps', `t=${T},t=${T + 1},${v1}`, 'malformed_signature'],
      ['a timestamp and no signature', `t=${T}`, 'malformed_signature'],
      ['signatures and no timestamp', `${v1},v2=abc`, 'missing_timestamp'],
      ['a non-numeric timestamp', 't=abc,v1=x', 'invalid_timestamp'],
      ['an empty timestamp', `t=,${v1}`, 'invalid_timestamp'],
      ['Infinity', `t=Infinity,${v1}`, 'invalid_timestamp'],
      ['a fractional timestamp', `t=1700000000.5,${v1}`, 'invalid_timestamp'],
      ['an exponent', `t=1.7e9,${v1}`, 'invalid_timestamp'],
      ['a hex timestamp', `t=0x6553f100,${v1}`, 'invalid_timestamp'],
      ['an unsafe integer', `t=99999999999999999,${v1}`, 'invalid_timestamp'],
      [
        'a stale timestamp',
        signConvoyPayload(PAYLOAD, { secrets: [SECRET], advanced: true, timestamp: now - 301 }),
        'timestamp_too_old',
      ],
      [
        'a future timestamp',
        signConvoyPayload(PAYLOAD, { secrets: [SECRET], advanced: true, timestamp: now + 301 }),
        'timestamp_in_future',
      ],
      ['garbage', 'garbage', 'no_matching_signature'],
      [
        'a tampered simple signature',
        '244449b7f48cbc2709060c9dcdc2b3aa47a78f540430579015c579fb12defbb0',
        'no_matching_signature',
      ],
      ['a signature over another timestamp', `t=${T + 1},${v1}`, 'no_matching_signature'],
    ];
    it.each(cases)('%s', (_what, header, reason) => {
      expect(verify(header)).toEqual({ valid: false, reason });
    });

    it('a tampered body', () => {
      expect(verify(`t=${T},${v1}`, {}, PAYLOAD.replace('1000', '9000'))).toEqual({
        valid: false,
        reason: 'no_matching_signature',
      });
      // Re-serializing changes the bytes: a pretty-printed body with the same meaning does not verify.
      expect(verify(`t=${T},${v1}`, {}, JSON.stringify(JSON.parse(PAYLOAD), null, 1))).toEqual({
        valid: false,
        reason: 'no_matching_signature',
      });
    });

    it('the wrong secret, hash or encoding', () => {
      expect(verify(`t=${T},${v1}`, { secret: 'wrong' })).toEqual({ valid: false, reason: 'no_matching_signature' });
      expect(verify(`t=${T},${v1}`, { hash: 'SHA512' })).toEqual({ valid: false, reason: 'no_matching_signature' });
      expect(verify(`t=${T},${v1}`, { encoding: 'base64' })).toEqual({ valid: false, reason: 'no_matching_signature' });
    });

    it('signatures of another length or encoding, without throwing (timingSafeEqual would throw on unequal lengths)', () => {
      const hex = v1.slice(3);
      for (const signature of [
        hex.slice(0, -2),
        `${hex}00`,
        hex.slice(0, -1),
        `${hex.slice(0, -1)}g`,
        '',
        'zz',
        Buffer.from(hex, 'hex').toString('base64'),
      ]) {
        expect(() => verify(`t=${T},v1=${signature}`)).not.toThrow();
        expect(verify(`t=${T},v1=${signature}`)).toEqual({ valid: false, reason: 'no_matching_signature' });
        expect(verify(signature === '' ? ' ' : signature)).toEqual({
          valid: false,
          reason: signature === '' ? 'malformed_signature' : 'no_matching_signature',
        });
      }
      // Buffer.from(hex) would stop at the first bad character and decode a valid signature followed by junk.
      expect(verify(`t=${T},${v1}zz`)).toEqual({ valid: false, reason: 'no_matching_signature' });
      // Base64 with bad characters or padding is not silently decoded into something shorter.
      expect(verify(`t=${T},v1=@@@@`, { encoding: 'base64' })).toEqual({
        valid: false,
        reason: 'no_matching_signature',
      });
      expect(verify('JERJt/SMvCcJBgydzcKzqkenj1QEMFeQFcV5+xLe+7Q', { encoding: 'base64' })).toEqual({
        valid: false,
        reason: 'no_matching_signature',
      });
      expect(verify('JERJt/SMvCcJBgydzcKzqkenj1QEMFeQFcV5+xLe+7Q=', { encoding: 'base64' })).toEqual({ valid: true });
    });
  });

  describe('with requireTimestamp: true', () => {
    const simple = '244449b7f48cbc2709060c9dcdc2b3aa47a78f540430579015c579fb12defbb4';

    it('refuses a valid simple signature, which could be a replay', () => {
      expect(verify(simple)).toEqual({ valid: true });
      expect(verify(simple, { requireTimestamp: true })).toEqual({ valid: false, reason: 'simple_signature_refused' });
      // A lone "v1=…" has no timestamp either.
      expect(verify(v1, { requireTimestamp: true })).toEqual({ valid: false, reason: 'simple_signature_refused' });
    });

    it('still accepts an advanced signature within the tolerance, and refuses one outside it', () => {
      expect(verify(`t=${T},${v1}`, { requireTimestamp: true })).toEqual({ valid: true, timestamp: T });
      expect(verify(`t=${T},${v1}`, { requireTimestamp: true, now: T + 301 })).toEqual({
        valid: false,
        reason: 'timestamp_too_old',
      });
      expect(verify(`t=${T},${v1}`, { requireTimestamp: false })).toEqual({ valid: true, timestamp: T });
    });

    it('must be a boolean', () => {
      expect(() => verify(`t=${T},${v1}`, { requireTimestamp: 'yes' as never })).toThrow(
        /verifyConvoySignature: options\.requireTimestamp must be true or false \(got a string\)/,
      );
    });
  });

  it('refuses unusable options with a TypeError that never quotes a secret', () => {
    expect(() => verify(`t=${T},${v1}`, { secret: [] })).toThrow(TypeError);
    expect(() => verify(`t=${T},${v1}`, { secret: '' })).toThrow(/options\.secret must be a non-empty string/);
    expect(() => verify(`t=${T},${v1}`, { hash: 'sha256' as SignatureHash })).toThrow(
      /hash must be 'SHA256' or 'SHA512' \(got "sha256"\)/,
    );
    expect(() => verify(`t=${T},${v1}`, { toleranceMs: -1 })).toThrow(
      /toleranceMs must be a finite number of milliseconds >= 0/,
    );
    expect(() => verify(`t=${T},${v1}`, { toleranceMs: Number.NaN })).toThrow(/toleranceMs/);
    // The old option in seconds is refused by name: read as absent, a 60 s window would silently be 5 minutes.
    expect(() => verify(`t=${T},${v1}`, { tolerance: 60 } as never)).toThrow(/options\.tolerance is now toleranceMs/);
    expect(() => verify(`t=${T},${v1}`, { now: Number.POSITIVE_INFINITY })).toThrow(/options\.now/);
    const error = (() => {
      try {
        verify(`t=${T},${v1}`, { secret: ['hunter2', 42 as never] });
      } catch (e) {
        return e as Error;
      }
      return undefined;
    })();
    expect(error?.message).toMatch(/options\.secret\[1\] must be a non-empty string \(got a number\)/);
    expect(error?.message).not.toContain('hunter2');
  });
});

describe('constant-time comparison', () => {
  // A fresh copy of the module whose node:crypto.timingSafeEqual is a spy around the real one.
  async function withSpiedCrypto() {
    const crypto = await import('node:crypto');
    const timingSafeEqual = jest.fn(crypto.timingSafeEqual);
    jest.resetModules();
    jest.unstable_mockModule('node:crypto', () => ({ ...crypto, default: crypto, timingSafeEqual }));
    const signing = await import('../../../lib/signing/convoy-signature.js');
    return { timingSafeEqual, signing };
  }

  it('compares every candidate with every secret through timingSafeEqual, without stopping at the first match', async () => {
    const { timingSafeEqual, signing } = await withSpiedCrypto();
    const header = signing.signConvoyPayload(PAYLOAD, {
      secrets: ['a-secret', 'b-secret'],
      advanced: true,
      timestamp: T,
    });
    // 2 candidates x 3 secrets; the very first pair already matches.
    const result = signing.verifyConvoySignature(PAYLOAD, header, {
      secret: ['a-secret', 'b-secret', 'c-secret'],
      now: T,
    });
    expect(result).toEqual({ valid: true, timestamp: T });
    expect(timingSafeEqual).toHaveBeenCalledTimes(6);
    expect(timingSafeEqual.mock.results.map((r) => r.value)).toEqual([true, false, false, false, true, false]);
    // Decoded bytes (32 for SHA-256) are compared, not strings.
    for (const [a, b] of timingSafeEqual.mock.calls) {
      expect(Buffer.isBuffer(a) && Buffer.isBuffer(b)).toBe(true);
      expect([(a as Buffer).length, (b as Buffer).length]).toEqual([32, 32]);
    }

    timingSafeEqual.mockClear();
    signing.verifyConvoySignature(PAYLOAD, '244449b7f48cbc2709060c9dcdc2b3aa47a78f540430579015c579fb12defbb4', {
      secret: [SECRET, 'other'],
    });
    expect(timingSafeEqual).toHaveBeenCalledTimes(2); // the simple header too
  });

  it('with requireTimestamp, refuses a simple signature before comparing anything', async () => {
    const { timingSafeEqual, signing } = await withSpiedCrypto();
    const simple = '244449b7f48cbc2709060c9dcdc2b3aa47a78f540430579015c579fb12defbb4';
    expect(signing.verifyConvoySignature(PAYLOAD, simple, { secret: SECRET, requireTimestamp: true })).toEqual({
      valid: false,
      reason: 'simple_signature_refused',
    });
    expect(timingSafeEqual).not.toHaveBeenCalled();
  });

  it('never calls timingSafeEqual with buffers of unequal length', async () => {
    const { timingSafeEqual, signing } = await withSpiedCrypto();
    const result = signing.verifyConvoySignature(PAYLOAD, `t=${T},v1=abcd,v1=${'00'.repeat(64)}`, {
      secret: SECRET,
      now: T,
    });
    expect(result).toEqual({ valid: false, reason: 'no_matching_signature' });
    expect(timingSafeEqual).not.toHaveBeenCalled();
  });
});

describe('WebhookVerificationError', () => {
  it('is a ConvoyError with the typed reason, named in its message', () => {
    const error = new WebhookVerificationError('timestamp_too_old');
    expect(error).toBeInstanceOf(ConvoyError);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('WebhookVerificationError');
    expect(error.reason).toBe('timestamp_too_old');
    expect(error.retryable).toBe(false);
    expect(error.message).toBe(
      'Webhook signature verification failed (timestamp_too_old): the signed timestamp is older than the tolerance (a replay, or clocks out of sync)',
    );
  });

  it('has a message for every reason a verifier returns', () => {
    const reasons: VerificationFailureReason[] = [
      'missing_signature',
      'malformed_signature',
      'missing_timestamp',
      'invalid_timestamp',
      'timestamp_too_old',
      'timestamp_in_future',
      'no_matching_signature',
      'missing_webhook_id',
      'simple_signature_refused',
    ];
    for (const reason of reasons) {
      expect(new WebhookVerificationError(reason).message).toMatch(
        new RegExp(`^Webhook signature verification failed \\(${reason}\\): \\w`),
      );
    }
  });
});
