import { Controller, HttpCode, Post, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import fc from 'fast-check';
import { request } from 'undici';
import { VerifyConvoyWebhook } from '../../../lib/receiver/index.js';
import {
  signConvoyPayload,
  signStandardWebhook,
  VERIFICATION_FAILURE_DESCRIPTIONS,
  verifyConvoySignature,
  verifyStandardWebhook,
  WebhookVerificationError,
  type VerificationResult,
} from '../../../lib/signing/index.js';

/**
 * Property-based: the signature header parsers take whatever a request carries. Over arbitrary strings (and
 * non-strings), they never throw: they answer valid, or invalid with one of the typed reasons (what
 * WebhookVerificationError carries). A correct signature verifies with any well-formed noise around it, and any
 * change to one of its characters is refused. The guard answers every forged header with 401, never 500.
 */
const SECRET = 'property-secret';
const STANDARD_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const NOW = 1_700_000_000;
const REASONS = Object.keys(VERIFICATION_FAILURE_DESCRIPTIONS);

/** A refusal must be a typed reason that WebhookVerificationError can carry. */
function expectTypedRefusal(result: VerificationResult): void {
  expect(result.valid).toBe(false);
  if (result.valid) return;
  expect(REASONS).toContain(result.reason);
  expect(new WebhookVerificationError(result.reason).message).toContain(
    VERIFICATION_FAILURE_DESCRIPTIONS[result.reason],
  );
}

const anyHeader = (): fc.Arbitrary<unknown> =>
  fc.oneof(
    fc.string({ maxLength: 200 }),
    fc.string({ unit: 'binary', maxLength: 100 }),
    fc.stringMatching(/^(t=-?\d{0,20},?)?(v\d?=[0-9a-fA-F+/=]{0,70},?){0,3}$/),
    fc
      .array(fc.tuple(fc.constantFrom('t', 'v1', 'v2', 'x', ''), fc.string({ maxLength: 20 })), { maxLength: 5 })
      .map((pairs) => pairs.map(([k, v]) => `${k}=${v}`).join(',')),
    fc.anything({ maxDepth: 1 }),
  );

describe('signature header parsers over arbitrary input (fast-check)', () => {
  it('verifyConvoySignature never throws for any header or body, and refuses with a typed reason', () => {
    fc.assert(
      fc.property(
        anyHeader(),
        fc.oneof(
          fc.string(),
          fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
        ),
        fc.boolean(),
        (header, body, requireTimestamp) => {
          const result = verifyConvoySignature(body, header as string, {
            secret: SECRET,
            now: NOW,
            requireTimestamp,
          });
          expectTypedRefusal(result);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('verifyStandardWebhook never throws for any headers, and refuses with a typed reason', () => {
    const value = fc.oneof(anyHeader(), fc.array(fc.string({ maxLength: 30 }), { maxLength: 3 }));
    fc.assert(
      fc.property(
        fc.record(
          { 'webhook-id': value, 'webhook-timestamp': value, 'webhook-signature': value, 'Webhook-Signature': value },
          { requiredKeys: [] },
        ),
        fc.string(),
        (headers, body) => {
          const result = verifyStandardWebhook(body, headers as Record<string, string>, {
            secret: STANDARD_SECRET,
            now: NOW,
          });
          expectTypedRefusal(result);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a valid advanced signature verifies with noise around it, and fails once any of its characters changes', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 100 }),
        fc.array(fc.stringMatching(/^x[a-z]{0,3}=[ -+\--~]{0,10}$/), { maxLength: 3 }),
        fc.nat(),
        fc.constantFrom(...'0123456789abcdefABCDEF=,; tv'.split('')),
        (body, noise, at, replacement) => {
          const header = signConvoyPayload(body, { secrets: [SECRET], advanced: true, timestamp: NOW });
          const noisy = [header, ...noise].join(', ');
          expect(verifyConvoySignature(body, noisy, { secret: SECRET, now: NOW })).toEqual({
            valid: true,
            timestamp: NOW,
          });

          const i = header.indexOf('v1=') + 3 + (at % 64);
          fc.pre(header[i]!.toLowerCase() !== replacement.toLowerCase()); // hex is case-insensitive
          const changed = header.slice(0, i) + replacement + header.slice(i + 1);
          expectTypedRefusal(verifyConvoySignature(body, changed, { secret: SECRET, now: NOW }));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a valid Standard Webhooks signature fails once any character of id, timestamp or signature changes', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 100 }),
        fc.nat(),
        fc.constantFrom('A', 'z', '0', '+', '/', ' ', ','),
        (body, at, c) => {
          const headers: Record<string, string> = {
            ...signStandardWebhook(body, { id: 'msg_1', secrets: [STANDARD_SECRET], timestamp: NOW }),
          };
          expect(verifyStandardWebhook(body, headers, { secret: STANDARD_SECRET, now: NOW }).valid).toBe(true);
          const name = (['webhook-id', 'webhook-timestamp', 'webhook-signature'] as const)[at % 3]!;
          const value = headers[name]!;
          const i = Math.floor(at / 3) % value.length;
          fc.pre(value[i] !== c);
          // The base64 character before padding has unused low bits: some changes decode to the same digest.
          fc.pre(!(name === 'webhook-signature' && value[i + 1] === '='));
          headers[name] = value.slice(0, i) + c + value.slice(i + 1);
          const result = verifyStandardWebhook(body, headers, { secret: STANDARD_SECRET, now: NOW });
          // A changed timestamp can still be in the window but then no longer matches: refused either way.
          expectTypedRefusal(result);
        },
      ),
      { numRuns: 300 },
    );
  });
});

@Controller()
class HookController {
  @Post('hook')
  @HttpCode(200)
  @VerifyConvoyWebhook({ secret: SECRET })
  hook(): string {
    return 'ok';
  }
}

describe('the receiving guard over arbitrary signature headers (fast-check, real HTTP)', () => {
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({ controllers: [HookController] }).compile();
    app = moduleRef.createNestApplication({ rawBody: true, logger: false });
    await app.listen(0, '127.0.0.1');
    url = `${await app.getUrl()}/hook`;
  });
  afterAll(() => app.close());

  it('answers 401 to every forged header, never an error of its own', async () => {
    // What an HTTP client can send as a header value: printable Latin-1, no line breaks.
    const sendable = fc.oneof(
      fc.stringMatching(/^[\t\x20-\x7e]{0,200}$/),
      fc.stringMatching(/^t=\d{1,12}(,v1=[0-9a-f]{0,64}){1,3}$/),
    );
    await fc.assert(
      fc.asyncProperty(sendable, fc.string({ maxLength: 50 }), async (header, text) => {
        const response = await request(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-convoy-signature': header },
          body: JSON.stringify({ text }),
        });
        await response.body.text();
        expect(response.statusCode).toBe(401);
      }),
      { numRuns: 40 },
    );
  });
});
