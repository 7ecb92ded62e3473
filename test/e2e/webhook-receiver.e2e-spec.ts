import {
  Controller,
  Headers,
  HttpCode,
  Injectable,
  InternalServerErrorException,
  Logger,
  Param,
  Post,
  UnauthorizedException,
  type INestApplication,
} from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { Webhook } from 'standardwebhooks';
import { request } from 'undici';
import {
  VerifyConvoyWebhook,
  WebhookPayload,
  type SigningEndpoint,
  type WebhookSecretResolver,
} from '../../lib/receiver/index.js';
import { ConvoyModule, WebhookEndpoints, WebhookPublisher } from '../../lib/index.js';
import { signConvoyPayload, signStandardWebhook } from '../../lib/signing/index.js';
import { recordingLogger, type LogLine } from '../support/recording-logger.js';
import { waitUntil } from '../support/wait.js';

/**
 * @VerifyConvoyWebhook + @WebhookPayload in real Nest applications (Express and Fastify) answering real HTTP
 * requests: what gets through, what is turned away (always a bare 401, handler untouched), and the app that
 * forgot `rawBody: true`.
 */

const SECRET = 'e2e-endpoint-secret';
const OLD_SECRET = 'e2e-old-secret';
const NEW_SECRET = 'e2e-new-secret';
const STANDARD_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const TENANT_SECRETS: Record<string, string> = { acme: 'acme-secret', globex: 'globex-secret' };
const ALL_SECRETS = [
  SECRET,
  OLD_SECRET,
  NEW_SECRET,
  STANDARD_SECRET,
  STANDARD_SECRET.slice(6),
  ...Object.values(TENANT_SECRETS),
  'class-secret',
  'method-secret',
];

const ROTATED_OUT_SECRET = 'e2e-rotated-out-secret';

/**
 * Endpoints as Convoy's API and WebhookEndpoints return them (trimmed to what the guard reads), for the routes whose
 * resolver hands the guard the endpoint rather than a bare secret.
 */
const KNOWN_ENDPOINTS: Record<string, SigningEndpoint> = {
  advanced: { secrets: [{ value: SECRET, expires_at: null }], advanced_signatures: true },
  simple: { secrets: [{ value: SECRET, expires_at: null }], advanced_signatures: false },
  rotated: {
    secrets: [
      { value: ROTATED_OUT_SECRET, expires_at: new Date(Date.now() - 60_000).toISOString() },
      { value: NEW_SECRET, expires_at: null },
    ],
    advanced_signatures: true,
  },
};
ALL_SECRETS.push(ROTATED_OUT_SECRET);

/** The endpoint named by the route's `:id`, through a resolver's ModuleRef. */
@Injectable()
class KnownEndpoints {
  get(id: string): SigningEndpoint {
    const endpoint = KNOWN_ENDPOINTS[id];
    if (!endpoint) throw new UnauthorizedException();
    return endpoint;
  }
}

const endpointOfRoute: WebhookSecretResolver = (context, refs) =>
  refs
    .get(KnownEndpoints, { strict: false })
    .get(context.switchToHttp().getRequest<{ params: { id: string } }>().params.id);

/** What the handlers were called with; a rejected request must leave this empty. */
const handled: Array<{ route: string; payload: unknown }> = [];

/** Where the `tenant` route looks its secrets up, through the resolver's ModuleRef. */
@Injectable()
class TenantSecrets {
  secretFor(tenant: string | undefined): string {
    const secret = tenant === undefined ? undefined : TENANT_SECRETS[tenant];
    if (!secret) throw new UnauthorizedException(); // unknown tenant: the resolver answers 401 itself
    return secret;
  }
}

@Controller('webhooks')
class WebhooksController {
  @Post('convoy')
  @HttpCode(200)
  @VerifyConvoyWebhook({ secret: SECRET })
  convoy(@WebhookPayload() payload: unknown) {
    handled.push({ route: 'convoy', payload });
    return { ok: true };
  }

  @Post('sha512')
  @HttpCode(200)
  @VerifyConvoyWebhook({
    secret: SECRET,
    header: 'X-Acme-Signature',
    hash: 'SHA512',
    encoding: 'base64',
    toleranceMs: 60_000,
  })
  sha512(@WebhookPayload() payload: unknown) {
    handled.push({ route: 'sha512', payload });
    return { ok: true };
  }

  @Post('old-secret')
  @HttpCode(200)
  @VerifyConvoyWebhook({ secret: OLD_SECRET })
  oldSecret(@WebhookPayload() payload: unknown) {
    handled.push({ route: 'old-secret', payload });
    return { ok: true };
  }

  @Post('new-secret')
  @HttpCode(200)
  @VerifyConvoyWebhook({ secret: NEW_SECRET })
  newSecret(@WebhookPayload() payload: unknown) {
    handled.push({ route: 'new-secret', payload });
    return { ok: true };
  }

  @Post('standard')
  @HttpCode(200)
  @VerifyConvoyWebhook({ scheme: 'standard', secret: STANDARD_SECRET })
  standard(@WebhookPayload() payload: unknown, @Headers('webhook-id') id: string) {
    handled.push({ route: 'standard', payload });
    return { ok: true, id };
  }

  @Post('tenant')
  @HttpCode(200)
  @VerifyConvoyWebhook({
    // Looked up at request time, per tenant, from a provider.
    secret: async (context, moduleRef) => {
      await new Promise((resolve) => setImmediate(resolve)); // really asynchronous
      const tenant = context.switchToHttp().getRequest<{ headers: Record<string, string | undefined> }>().headers[
        'x-tenant'
      ];
      return moduleRef.get(TenantSecrets, { strict: false }).secretFor(tenant);
    },
  })
  tenant(@WebhookPayload() payload: unknown) {
    handled.push({ route: 'tenant', payload });
    return { ok: true };
  }

  @Post('resolver-fails')
  @HttpCode(200)
  @VerifyConvoyWebhook({
    secret: () => {
      throw new Error('vault unreachable');
    },
  })
  resolverFails() {
    handled.push({ route: 'resolver-fails', payload: undefined });
  }

  @Post('timestamped')
  @HttpCode(200)
  @VerifyConvoyWebhook({ secret: SECRET, requireTimestamp: true })
  timestamped(@WebhookPayload() payload: unknown) {
    handled.push({ route: 'timestamped', payload });
    return { ok: true };
  }

  @Post('timestamped-1s')
  @HttpCode(200)
  @VerifyConvoyWebhook({ secret: SECRET, requireTimestamp: true, toleranceMs: 1_000 })
  timestamped1s(@WebhookPayload() payload: unknown) {
    handled.push({ route: 'timestamped-1s', payload });
    return { ok: true };
  }

  @Post('endpoint/:id')
  @HttpCode(200)
  @VerifyConvoyWebhook({ secret: endpointOfRoute })
  endpoint(@WebhookPayload() payload: unknown) {
    handled.push({ route: 'endpoint', payload });
    return { ok: true };
  }

  @Post('endpoint-simple-allowed/:id')
  @HttpCode(200)
  @VerifyConvoyWebhook({ secret: endpointOfRoute, requireTimestamp: false })
  endpointSimpleAllowed(@WebhookPayload() payload: unknown) {
    handled.push({ route: 'endpoint-simple-allowed', payload });
    return { ok: true };
  }

  @Post('amount')
  @HttpCode(200)
  @VerifyConvoyWebhook({ secret: SECRET })
  amount(@WebhookPayload('amount') amount: unknown) {
    handled.push({ route: 'amount', payload: amount });
    return { amount };
  }
}

/** Options on the controller, overridden on one handler. */
@Controller('scoped')
@VerifyConvoyWebhook({ secret: 'class-secret' })
class ScopedController {
  @Post('inherited')
  @HttpCode(200)
  inherited(@WebhookPayload() payload: unknown) {
    handled.push({ route: 'inherited', payload });
    return { ok: true };
  }

  @Post('overridden')
  @HttpCode(200)
  @VerifyConvoyWebhook({ secret: 'method-secret' })
  overridden(@WebhookPayload() payload: unknown) {
    handled.push({ route: 'overridden', payload });
    return { ok: true };
  }
}

@Controller('unguarded')
class UnguardedController {
  /** Nest's default 401, to compare our rejections with. */
  @Post('plain-401')
  plain401(): never {
    throw new UnauthorizedException();
  }

  /** Nest's default 500 for an InternalServerErrorException. */
  @Post('plain-500')
  plain500(): never {
    throw new InternalServerErrorException();
  }

  @Post()
  @HttpCode(200)
  receive(@WebhookPayload() payload: unknown) {
    handled.push({ route: 'unguarded', payload });
    return { ok: true };
  }
}

interface Started {
  app: INestApplication;
  url: string;
  logs: LogLine[];
}

async function start(platform: 'express' | 'fastify', rawBody: boolean): Promise<Started> {
  const moduleRef = await Test.createTestingModule({
    controllers: [WebhooksController, ScopedController, UnguardedController],
    providers: [TenantSecrets, KnownEndpoints],
  }).compile();
  // compile() installs Nest's TestingLogger; record every line instead.
  const logs: LogLine[] = [];
  Logger.overrideLogger(recordingLogger(logs));
  const app =
    platform === 'fastify'
      ? moduleRef.createNestApplication(new FastifyAdapter(), { rawBody })
      : moduleRef.createNestApplication({ rawBody });
  await app.listen(0, '127.0.0.1');
  return { app, url: await app.getUrl(), logs };
}

interface Answer {
  status: number;
  text: string;
}

async function post(
  url: string,
  path: string,
  body: string | Buffer | undefined,
  headers: Record<string, string>,
): Promise<Answer> {
  const response = await request(url + path, {
    method: 'POST',
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body,
  });
  return { status: response.statusCode, text: await response.body.text() };
}

const now = () => Math.floor(Date.now() / 1000);
// Nest's own bodies for `new UnauthorizedException()` / `new InternalServerErrorException()` (Nest 12 writes
// "message" before "statusCode"; the plain-401 route below checks these are byte for byte what Nest sends).
const UNAUTHORIZED = { status: 401, text: '{"message":"Unauthorized","statusCode":401}' };
const SERVER_ERROR = { status: 500, text: '{"message":"Internal Server Error","statusCode":500}' };

// Not compact, with unicode: only the raw bytes verify; JSON.stringify(req.body) would not give them back.
const BODY = '{ "event": "charge.success",\n  "amount": 1000, "currency": "NGN", "customer": "Zoë 🚚" }';
const PAYLOAD = JSON.parse(BODY) as unknown;
const convoyHeader = (body: string | Buffer, secrets: string[], timestamp = now()) =>
  signConvoyPayload(body, { secrets, advanced: true, timestamp });

describe.each([['Express', 'express'] as const, ['Fastify', 'fastify'] as const])(
  'webhook receiver on %s with rawBody: true',
  (_name, platform) => {
    let started: Started;
    let url: string;
    let logs: LogLine[];

    beforeAll(async () => {
      started = await start(platform, true);
      ({ url, logs } = started);
    });
    afterAll(async () => {
      await started.app.close();
      Logger.overrideLogger(false);
    });
    beforeEach(() => {
      handled.length = 0;
      logs.length = 0;
    });
    afterEach(() => {
      // Whatever happened, no log line ever carries a secret or a signature value.
      const text = JSON.stringify(logs);
      for (const secret of ALL_SECRETS) expect(text).not.toContain(secret);
      expect(text).not.toMatch(/v1=[0-9a-f]{8}|[0-9a-f]{64}/);
    });

    it("rejects with exactly Nest's default 401 and 500 bodies", async () => {
      expect(await post(url, '/unguarded/plain-401', BODY, {})).toEqual(UNAUTHORIZED);
      expect(JSON.parse(UNAUTHORIZED.text)).toEqual({ statusCode: 401, message: 'Unauthorized' });
      expect(await post(url, '/unguarded/plain-500', BODY, {})).toEqual(SERVER_ERROR);
    });

    const warnings = () => logs.filter((l) => l.level === 'warn').map((l) => [l.message, l.context]);
    const errors = () => logs.filter((l) => l.level === 'error').map((l) => l.message);

    describe('accepts', () => {
      it('a valid advanced signature, handing the handler the payload parsed from the signed bytes', async () => {
        const answer = await post(url, '/webhooks/convoy', BODY, {
          'x-convoy-signature': convoyHeader(BODY, [SECRET]),
        });
        expect(answer).toEqual({ status: 200, text: '{"ok":true}' });
        expect(handled).toEqual([{ route: 'convoy', payload: PAYLOAD }]);
        expect(warnings()).toEqual([]);
      });

      it('a valid simple signature (Convoy meta events sign this way)', async () => {
        const header = signConvoyPayload(BODY, { secrets: [SECRET], advanced: false });
        expect(await post(url, '/webhooks/convoy', BODY, { 'X-Convoy-Signature': header })).toEqual({
          status: 200,
          text: '{"ok":true}',
        });
        expect(handled).toEqual([{ route: 'convoy', payload: PAYLOAD }]);
      });

      it('a custom header, hash and encoding', async () => {
        const header = signConvoyPayload(BODY, {
          secrets: [SECRET],
          advanced: true,
          schemes: [{ hash: 'SHA512', encoding: 'base64' }],
        });
        expect(await post(url, '/webhooks/sha512', BODY, { 'x-acme-signature': header })).toEqual({
          status: 200,
          text: '{"ok":true}',
        });
        expect(await post(url, '/webhooks/sha512', BODY, { 'x-convoy-signature': header })).toEqual(UNAUTHORIZED);
        expect(handled).toEqual([{ route: 'sha512', payload: PAYLOAD }]);
      });

      it('valid Standard Webhooks headers on a scheme: "standard" route, ours and the reference package\'s', async () => {
        const ours = signStandardWebhook(BODY, { id: 'msg_ours', secrets: [STANDARD_SECRET] });
        expect(await post(url, '/webhooks/standard', BODY, ours)).toEqual({
          status: 200,
          text: '{"ok":true,"id":"msg_ours"}',
        });
        const date = new Date();
        const theirs = {
          'Webhook-Id': 'msg_theirs',
          'Webhook-Timestamp': String(Math.floor(date.getTime() / 1000)),
          'Webhook-Signature': new Webhook(STANDARD_SECRET).sign('msg_theirs', date, BODY),
        };
        expect(await post(url, '/webhooks/standard', BODY, theirs)).toEqual({
          status: 200,
          text: '{"ok":true,"id":"msg_theirs"}',
        });
        expect(handled).toEqual([
          { route: 'standard', payload: PAYLOAD },
          { route: 'standard', payload: PAYLOAD },
        ]);
      });

      it('a secret resolved by a function at request time', async () => {
        const acme = await post(url, '/webhooks/tenant', BODY, {
          'x-tenant': 'acme',
          'x-convoy-signature': convoyHeader(BODY, [TENANT_SECRETS.acme!]),
        });
        expect(acme).toEqual({ status: 200, text: '{"ok":true}' });
        expect(handled).toEqual([{ route: 'tenant', payload: PAYLOAD }]);
      });

      it('a rotation: a header signed with the old and the new secret verifies against either', async () => {
        const header = convoyHeader(BODY, [OLD_SECRET, NEW_SECRET]);
        expect(header).toMatch(/^t=\d+,v1=[0-9a-f]{64},v1=[0-9a-f]{64}$/);
        expect(await post(url, '/webhooks/old-secret', BODY, { 'x-convoy-signature': header })).toEqual({
          status: 200,
          text: '{"ok":true}',
        });
        expect(await post(url, '/webhooks/new-secret', BODY, { 'x-convoy-signature': header })).toEqual({
          status: 200,
          text: '{"ok":true}',
        });
        // Once the old secret is gone, its signature alone no longer opens the new route.
        expect(
          await post(url, '/webhooks/new-secret', BODY, { 'x-convoy-signature': convoyHeader(BODY, [OLD_SECRET]) }),
        ).toEqual(UNAUTHORIZED);
        expect(handled.map((h) => h.route)).toEqual(['old-secret', 'new-secret']);
      });

      it('controller-level options, overridden by the handler', async () => {
        expect(
          await post(url, '/scoped/inherited', BODY, { 'x-convoy-signature': convoyHeader(BODY, ['class-secret']) }),
        ).toEqual({ status: 200, text: '{"ok":true}' });
        expect(
          await post(url, '/scoped/overridden', BODY, { 'x-convoy-signature': convoyHeader(BODY, ['method-secret']) }),
        ).toEqual({ status: 200, text: '{"ok":true}' });
        expect(
          await post(url, '/scoped/overridden', BODY, { 'x-convoy-signature': convoyHeader(BODY, ['class-secret']) }),
        ).toEqual(UNAUTHORIZED);
        expect(handled.map((h) => h.route)).toEqual(['inherited', 'overridden']);
      });

      it('@WebhookPayload("amount") picks one property', async () => {
        expect(
          await post(url, '/webhooks/amount', BODY, { 'x-convoy-signature': convoyHeader(BODY, [SECRET]) }),
        ).toEqual({ status: 200, text: '{"amount":1000}' });
      });

      it('a signed empty body, whose payload is undefined', async () => {
        const answer = await post(url, '/webhooks/convoy', undefined, {
          'x-convoy-signature': convoyHeader('', [SECRET]),
        });
        expect(answer).toEqual({ status: 200, text: '{"ok":true}' });
        expect(handled).toEqual([{ route: 'convoy', payload: undefined }]);
      });
    });

    describe('answers a bare 401, without running the handler, to', () => {
      const rejections: Array<[string, () => { body: string; headers: Record<string, string> }, string]> = [
        [
          'a tampered body',
          () => ({
            body: BODY.replace('1000', '9000'),
            headers: { 'x-convoy-signature': convoyHeader(BODY, [SECRET]) },
          }),
          'no_matching_signature',
        ],
        [
          'a wrong secret',
          () => ({ body: BODY, headers: { 'x-convoy-signature': convoyHeader(BODY, ['not-the-secret']) } }),
          'no_matching_signature',
        ],
        [
          'a stale timestamp',
          () => ({ body: BODY, headers: { 'x-convoy-signature': convoyHeader(BODY, [SECRET], now() - 3600) } }),
          'timestamp_too_old',
        ],
        [
          'a future timestamp',
          () => ({ body: BODY, headers: { 'x-convoy-signature': convoyHeader(BODY, [SECRET], now() + 3600) } }),
          'timestamp_in_future',
        ],
        ['a missing header', () => ({ body: BODY, headers: {} }), 'missing_signature'],
        [
          'a garbage header',
          () => ({ body: BODY, headers: { 'x-convoy-signature': 'garbage' } }),
          'no_matching_signature',
        ],
        ['t=abc,v1=x', () => ({ body: BODY, headers: { 'x-convoy-signature': 't=abc,v1=x' } }), 'invalid_timestamp'],
        ['an empty header', () => ({ body: BODY, headers: { 'x-convoy-signature': '' } }), 'malformed_signature'],
        // (Two signatures: a lone "v1=…" has no comma, so it would be read as a simple signature.)
        [
          'a header with no timestamp',
          () => ({
            body: BODY,
            headers: { 'x-convoy-signature': convoyHeader(BODY, [OLD_SECRET, SECRET]).replace(/^t=\d+,/, '') },
          }),
          'missing_timestamp',
        ],
        [
          'a re-serialized body (same JSON, other bytes)',
          () => ({ body: JSON.stringify(PAYLOAD), headers: { 'x-convoy-signature': convoyHeader(BODY, [SECRET]) } }),
          'no_matching_signature',
        ],
        [
          'Standard Webhooks headers on a Convoy route',
          () => ({ body: BODY, headers: signStandardWebhook(BODY, { id: 'msg', secrets: [STANDARD_SECRET] }) }),
          'missing_signature',
        ],
      ];

      it.each(rejections)('%s', async (_what, make, reason) => {
        const { body, headers } = make();
        expect(await post(url, '/webhooks/convoy', body, headers)).toEqual(UNAUTHORIZED);
        expect(handled).toEqual([]);
        expect(warnings()).toEqual([
          [
            expect.stringMatching(new RegExp(`^Rejected a webhook for WebhooksController\\.convoy: ${reason} \\(`)),
            'ConvoyWebhookGuard',
          ],
        ]);
      });

      it('a Convoy signature or stale Standard Webhooks headers on a scheme: "standard" route', async () => {
        expect(
          await post(url, '/webhooks/standard', BODY, { 'x-convoy-signature': convoyHeader(BODY, [SECRET]) }),
        ).toEqual(UNAUTHORIZED);
        const stale = signStandardWebhook(BODY, { id: 'msg_old', timestamp: now() - 3600, secrets: [STANDARD_SECRET] });
        expect(await post(url, '/webhooks/standard', BODY, stale)).toEqual(UNAUTHORIZED);
        const tampered = signStandardWebhook(BODY, { id: 'msg_1', secrets: [STANDARD_SECRET] });
        expect(await post(url, '/webhooks/standard', BODY, { ...tampered, 'webhook-id': 'msg_2' })).toEqual(
          UNAUTHORIZED,
        );
        expect(handled).toEqual([]);
        expect(warnings().map(([message]) => /: (\w+) \(/.exec(message as string)?.[1])).toEqual([
          'missing_signature',
          'timestamp_too_old',
          'no_matching_signature',
        ]);
      });

      it("another tenant's signature, or an unknown tenant (the resolver's own 401)", async () => {
        const globexSigned = { 'x-convoy-signature': convoyHeader(BODY, [TENANT_SECRETS.globex!]) };
        expect(await post(url, '/webhooks/tenant', BODY, { 'x-tenant': 'acme', ...globexSigned })).toEqual(
          UNAUTHORIZED,
        );
        expect(await post(url, '/webhooks/tenant', BODY, { 'x-tenant': 'initech', ...globexSigned })).toEqual(
          UNAUTHORIZED,
        );
        expect(handled).toEqual([]);
        expect(errors()).toEqual([]);
      });
    });

    describe('requiring timestamped (advanced) signatures', () => {
      const simpleHeader = (secret = SECRET) => signConvoyPayload(BODY, { secrets: [secret], advanced: false });
      const reasons = () => warnings().map(([message]) => /: (\w+) \(/.exec(message as string)?.[1]);

      it('requireTimestamp: true refuses a valid simple signature and accepts an advanced one', async () => {
        // The very same simple header opens the route that does not require timestamps.
        expect(await post(url, '/webhooks/convoy', BODY, { 'x-convoy-signature': simpleHeader() })).toEqual({
          status: 200,
          text: '{"ok":true}',
        });
        expect(await post(url, '/webhooks/timestamped', BODY, { 'x-convoy-signature': simpleHeader() })).toEqual(
          UNAUTHORIZED,
        );
        expect(
          await post(url, '/webhooks/timestamped', BODY, { 'x-convoy-signature': convoyHeader(BODY, [SECRET]) }),
        ).toEqual({ status: 200, text: '{"ok":true}' });
        expect(handled.map((h) => h.route)).toEqual(['convoy', 'timestamped']);
        expect(warnings()).toEqual([
          [
            'Rejected a webhook for WebhooksController.timestamped: simple_signature_refused (the signature is a simple one ' +
              '(a bare digest that signs no timestamp, so it may be a replay), and advanced signatures (t=…,v1=…) are required here)',
            'ConvoyWebhookGuard',
          ],
        ]);
      });

      it('a captured advanced request replayed after the tolerance is refused', async () => {
        const headers = { 'x-convoy-signature': convoyHeader(BODY, [SECRET]) };
        expect(await post(url, '/webhooks/timestamped-1s', BODY, headers)).toEqual({
          status: 200,
          text: '{"ok":true}',
        });
        // The same bytes and header, sent again once the signed second is more than 1 s (the tolerance) old.
        await new Promise((resolve) => setTimeout(resolve, 2_100));
        expect(await post(url, '/webhooks/timestamped-1s', BODY, headers)).toEqual(UNAUTHORIZED);
        expect(handled.map((h) => h.route)).toEqual(['timestamped-1s']);
        expect(reasons()).toEqual(['timestamp_too_old']);
      });

      it('by default when the resolver returns an endpoint with advanced_signatures: true', async () => {
        expect(await post(url, '/webhooks/endpoint/advanced', BODY, { 'x-convoy-signature': simpleHeader() })).toEqual(
          UNAUTHORIZED,
        );
        expect(
          await post(url, '/webhooks/endpoint/advanced', BODY, { 'x-convoy-signature': convoyHeader(BODY, [SECRET]) }),
        ).toEqual({ status: 200, text: '{"ok":true}' });
        // An endpoint that signs simply keeps working with simple signatures, and with advanced ones.
        expect(await post(url, '/webhooks/endpoint/simple', BODY, { 'x-convoy-signature': simpleHeader() })).toEqual({
          status: 200,
          text: '{"ok":true}',
        });
        expect(
          await post(url, '/webhooks/endpoint/simple', BODY, { 'x-convoy-signature': convoyHeader(BODY, [SECRET]) }),
        ).toEqual({ status: 200, text: '{"ok":true}' });
        // requireTimestamp: false on the route wins over what the endpoint says.
        expect(
          await post(url, '/webhooks/endpoint-simple-allowed/advanced', BODY, { 'x-convoy-signature': simpleHeader() }),
        ).toEqual({ status: 200, text: '{"ok":true}' });
        expect(handled.map((h) => h.route)).toEqual(['endpoint', 'endpoint', 'endpoint', 'endpoint-simple-allowed']);
        expect(reasons()).toEqual(['simple_signature_refused']);
      });

      it("verifies with the endpoint's unexpired secrets only", async () => {
        expect(
          await post(url, '/webhooks/endpoint/rotated', BODY, {
            'x-convoy-signature': convoyHeader(BODY, [NEW_SECRET]),
          }),
        ).toEqual({ status: 200, text: '{"ok":true}' });
        expect(
          await post(url, '/webhooks/endpoint/rotated', BODY, {
            'x-convoy-signature': convoyHeader(BODY, [ROTATED_OUT_SECRET]),
          }),
        ).toEqual(UNAUTHORIZED);
        expect(await post(url, '/webhooks/endpoint/unknown', BODY, { 'x-convoy-signature': simpleHeader() })).toEqual(
          UNAUTHORIZED,
        );
        expect(handled.map((h) => h.route)).toEqual(['endpoint']);
        expect(reasons()).toEqual(['no_matching_signature']);
        expect(errors()).toEqual([]);
      });
    });

    describe('answers 500 and logs why, for bugs in the app', () => {
      it('a secret resolver that throws', async () => {
        expect(
          await post(url, '/webhooks/resolver-fails', BODY, { 'x-convoy-signature': convoyHeader(BODY, [SECRET]) }),
        ).toEqual(SERVER_ERROR);
        expect(handled).toEqual([]);
        expect(errors()).toEqual([
          'Cannot verify webhooks for WebhooksController.resolverFails: could not resolve the webhook secret: vault unreachable',
        ]);
      });

      it('@WebhookPayload() on a route without @VerifyConvoyWebhook (never hands out unverified data)', async () => {
        // A plain Error: Nest logs it and answers its generic 500.
        expect(await post(url, '/unguarded', BODY, {})).toEqual({
          status: 500,
          text: '{"statusCode":500,"message":"Internal server error"}',
        });
        expect(handled).toEqual([]);
        expect(errors().join('\n')).toMatch(
          /@WebhookPayload\(\) in UnguardedController\.receive found no verified webhook: add @VerifyConvoyWebhook/,
        );
      });
    });

    it('answers 400 to an authentic body that is not JSON', async () => {
      const form = 'event=charge.success&amount=1000';
      const answer = await post(url, '/webhooks/convoy', form, {
        'content-type': 'application/x-www-form-urlencoded',
        'x-convoy-signature': convoyHeader(form, [SECRET]),
      });
      expect(answer).toEqual({
        status: 400,
        text: '{"message":"The webhook payload is not valid JSON","error":"Bad Request","statusCode":400}',
      });
      expect(handled).toEqual([]);
    });

    it('turns away a content type Nest keeps no raw body for', async () => {
      const answer = await post(url, '/webhooks/convoy', BODY, {
        'content-type': 'text/plain',
        'x-convoy-signature': convoyHeader(BODY, [SECRET]),
      });
      // Express leaves text/plain unread; Fastify parses it with its own built-in parser, which keeps no raw bytes.
      // Either way there is nothing to verify, and it is not a configuration bug (Convoy never sends text/plain): 401.
      expect(answer).toEqual(UNAUTHORIZED);
      expect(handled).toEqual([]);
      expect(warnings()).toEqual([
        [
          'Rejected a webhook for WebhooksController.convoy: unsupported content type "text/plain" (Nest keeps no raw body for it)',
          'ConvoyWebhookGuard',
        ],
      ]);
    });
  },
);

describe.each([['Express', 'express'] as const, ['Fastify', 'fastify'] as const])(
  'webhook receiver on %s WITHOUT rawBody',
  (_name, platform) => {
    let started: Started;

    beforeAll(async () => {
      started = await start(platform, false);
    });
    afterAll(async () => {
      await started.app.close();
      Logger.overrideLogger(false);
    });
    beforeEach(() => {
      handled.length = 0;
    });

    it('answers 500 to a valid webhook and logs how to enable rawBody, never re-serializing req.body', async () => {
      // A compact body: JSON.stringify(req.body) would reproduce it, so a silent fallback would have answered 200.
      const compact = JSON.stringify(PAYLOAD);
      const answer = await post(started.url, '/webhooks/convoy', compact, {
        'x-convoy-signature': convoyHeader(compact, [SECRET]),
      });
      expect(answer).toEqual(SERVER_ERROR);
      expect(handled).toEqual([]);
      const errors = started.logs.filter((l) => l.level === 'error');
      expect(errors).toEqual([
        {
          level: 'error',
          message: expect.stringMatching(
            /^Cannot verify webhooks for WebhooksController\.convoy: req\.rawBody is missing.*NestFactory\.create\(AppModule, \{ rawBody: true \}\)/,
          ),
          context: 'ConvoyWebhookGuard',
        },
      ]);
      expect(JSON.stringify(started.logs)).not.toContain(SECRET);
    });
  },
);

describe('@VerifyConvoyWebhook options', () => {
  // Checked when the decorator is evaluated (the class is loaded), so a bad deploy fails at boot, not per request.
  it.each([
    ['no options', undefined, /needs an options object with at least \{ secret \}/],
    ['an empty secret', { secret: '' }, /options\.secret must be a non-empty string/],
    ['no secrets', { secret: [] }, /options\.secret must be a non-empty string or a non-empty array/],
    [
      'an unset secret (process.env read too early)',
      { secret: undefined },
      /options\.secret must be .* \(got undefined\)/,
    ],
    ['an unknown scheme', { secret: SECRET, scheme: 'hmac' }, /options\.scheme must be 'convoy' or 'standard'/],
    [
      'a hash with scheme "standard"',
      { secret: STANDARD_SECRET, scheme: 'standard', hash: 'SHA512' },
      /options\.hash applies to scheme 'convoy' only/,
    ],
    [
      'a header with scheme "standard"',
      { secret: STANDARD_SECRET, scheme: 'standard', header: 'x-sig' },
      /options\.header applies to scheme 'convoy' only/,
    ],
    [
      'a Standard Webhooks secret that is not base64',
      { secret: 'whsec_hunter2!', scheme: 'standard' },
      /options\.secret is not a Standard Webhooks secret/,
    ],
    [
      'a header name with a space',
      { secret: SECRET, header: 'x convoy' },
      /options\.header must be an HTTP header name/,
    ],
    ['a lower-case hash', { secret: SECRET, hash: 'sha256' }, /options\.hash must be 'SHA256' or 'SHA512'/],
    ['an unknown encoding', { secret: SECRET, encoding: 'base32' }, /options\.encoding must be 'hex' or 'base64'/],
    [
      'a negative tolerance',
      { secret: SECRET, toleranceMs: -1 },
      /options\.toleranceMs must be a finite number of milliseconds >= 0/,
    ],
    ['the renamed tolerance (seconds)', { secret: SECRET, tolerance: 60 }, /options\.tolerance is now toleranceMs/],
    [
      'a requireTimestamp that is not a boolean',
      { secret: SECRET, requireTimestamp: 'true' },
      /options\.requireTimestamp must be true or false/,
    ],
    [
      'requireTimestamp: false with scheme "standard"',
      { secret: STANDARD_SECRET, scheme: 'standard', requireTimestamp: false },
      /options\.requireTimestamp cannot be false with scheme 'standard': Standard Webhooks always sign a timestamp/,
    ],
  ])('refuses %s with a TypeError', (_what, options, message) => {
    let error: unknown;
    try {
      VerifyConvoyWebhook(options as never);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('hunter2');
  });

  it('accepts a resolver without calling it', () => {
    let calls = 0;
    expect(() =>
      VerifyConvoyWebhook({
        secret: () => {
          calls++;
          return SECRET;
        },
      }),
    ).not.toThrow();
    expect(calls).toBe(0);
  });
});

describe('a receiver whose resolver returns the endpoint from WebhookEndpoints, signed by the embedded engine', () => {
  const received: Array<{ endpointId: string; payload: unknown }> = [];

  @Controller('own')
  class OwnWebhooksController {
    @Post(':endpointId')
    @HttpCode(200)
    @VerifyConvoyWebhook({
      secret: (context, refs) =>
        refs
          .get(WebhookEndpoints, { strict: false })
          .get(context.switchToHttp().getRequest<{ params: { endpointId: string } }>().params.endpointId),
    })
    receive(@Param('endpointId') endpointId: string, @WebhookPayload() payload: unknown) {
      received.push({ endpointId, payload });
      return { ok: true };
    }
  }

  let app: INestApplication;
  let url: string;
  const logs: LogLine[] = [];
  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [ConvoyModule.forRoot({ embedded: { allowedAddresses: ['127.0.0.0/8'] } })],
      controllers: [OwnWebhooksController],
    }).compile();
    Logger.overrideLogger(recordingLogger(logs));
    app = moduleRef.createNestApplication({ rawBody: true });
    await app.listen(0, '127.0.0.1');
    url = await app.getUrl();
  });
  afterAll(async () => {
    await app.close();
    Logger.overrideLogger(false);
  });

  it("accepts the engine's deliveries to an advanced and a simple endpoint, and refuses a simple signature for the advanced one", async () => {
    const endpoints = app.get(WebhookEndpoints);
    const endpointAt = async (name: string, advanced: boolean) => {
      const created = await endpoints.create({ name, url: `${url}/own/pending`, advanced_signatures: advanced });
      // The route names the endpoint, whose id exists only once it is created.
      return endpoints.update(created.uid, { url: `${url}/own/${created.uid}` });
    };
    const advanced = await endpointAt('advanced', true);
    const simple = await endpointAt('simple', false);
    const publisher = app.get(WebhookPublisher);
    await publisher.publish('todo.created', { to: 'advanced' }, { endpointId: advanced.uid });
    await publisher.publish('todo.created', { to: 'simple' }, { endpointId: simple.uid });
    await waitUntil('both deliveries verified', () => received.length === 2);
    expect(received).toEqual(
      expect.arrayContaining([
        { endpointId: advanced.uid, payload: { to: 'advanced' } },
        { endpointId: simple.uid, payload: { to: 'simple' } },
      ]),
    );

    // A simple signature made with the advanced endpoint's own secret: not how that endpoint is ever signed.
    const body = JSON.stringify({ replayed: true });
    const secrets = advanced.secrets.map((s) => s.value);
    const answer = await post(url, `/own/${advanced.uid}`, body, {
      'x-convoy-signature': signConvoyPayload(body, { secrets, advanced: false }),
    });
    expect(answer).toEqual(UNAUTHORIZED);
    expect(received).toHaveLength(2);
    expect(logs.filter((l) => l.level === 'warn').map((l) => l.message)).toEqual([
      expect.stringMatching(/^Rejected a webhook for OwnWebhooksController\.receive: simple_signature_refused \(/),
    ]);
  });
});
