import {
  BadRequestException,
  HttpException,
  Injectable,
  InternalServerErrorException,
  Logger,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { ModuleRef, Reflector } from '@nestjs/core';
import { checkSecretList, verifyConvoySignature } from '../signing/convoy-signature.js';
import { verifyStandardWebhook } from '../signing/standard-webhooks.js';
import { VERIFICATION_FAILURE_DESCRIPTIONS, type VerificationResult } from '../errors/verification.errors.js';
import type { SigningEndpoint, VerifyConvoyWebhookOptions } from './verify-convoy-webhook.decorator.js';

/** Metadata key under which `@VerifyConvoyWebhook()` stores its options (on the handler or the controller). */
export const VERIFY_CONVOY_WEBHOOK_METADATA = 'nestjs-convoy:verify-webhook';

/** Where a verified webhook is kept on the request. Symbol.for, so that two copies of the package still agree. */
const VERIFIED_WEBHOOK = Symbol.for('nestjs-convoy:verified-webhook');

/** A request that passed ConvoyWebhookGuard. */
export interface VerifiedWebhook {
  /** The body parsed as JSON from the verified bytes (undefined for an empty body). */
  payload: unknown;
  /** The exact bytes that were verified. */
  rawBody: Buffer;
  /** The signed timestamp (unix seconds); absent for Convoy's simple signatures. */
  timestamp?: number;
  scheme: 'convoy' | 'standard';
}

interface WebhookRequest {
  headers: Record<string, string | string[] | undefined>;
  rawBody?: unknown;
  [VERIFIED_WEBHOOK]?: VerifiedWebhook;
}

/** The verified webhook of a request that ConvoyWebhookGuard let through, or undefined. */
export function getVerifiedWebhook(request: object): VerifiedWebhook | undefined {
  return (request as WebhookRequest)[VERIFIED_WEBHOOK];
}

/** Media types whose raw bytes Nest keeps as `req.rawBody` when the app is created with `rawBody: true`. */
const RAW_BODY_TYPES = new Set(['application/json', 'application/x-www-form-urlencoded']);

/**
 * Lets a request through only if its signature verifies over the raw body bytes, with the options of
 * `@VerifyConvoyWebhook()`. Use it through that decorator.
 *
 * - Rejections answer 401 with Nest's default body and nothing more (an attacker learns nothing); the typed
 *   reason is logged at warn level, without secrets or signature values.
 * - The app must keep raw bodies (`NestFactory.create(AppModule, { rawBody: true })`): a signature is over
 *   bytes, and re-serializing `req.body` does not give them back. Without them the guard logs how to fix it
 *   and answers 500, since that is a configuration bug.
 * - On success the payload, parsed from the verified bytes, is attached to the request for `@WebhookPayload()`.
 */
@Injectable()
export class ConvoyWebhookGuard implements CanActivate {
  private readonly logger = new Logger('ConvoyWebhookGuard');

  constructor(
    private readonly reflector: Reflector,
    private readonly moduleRef: ModuleRef,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const where = `${context.getClass().name}.${context.getHandler().name}`;
    const options = this.reflector.getAllAndOverride<VerifyConvoyWebhookOptions | undefined>(
      VERIFY_CONVOY_WEBHOOK_METADATA,
      [context.getHandler(), context.getClass()],
    );
    if (!options) {
      throw this.misconfigured(
        where,
        'ConvoyWebhookGuard has no options here; apply it with @VerifyConvoyWebhook({ secret }) rather than @UseGuards',
      );
    }
    if (context.getType() !== 'http') {
      throw this.misconfigured(
        where,
        `@VerifyConvoyWebhook only works on HTTP routes (this is "${context.getType()}")`,
      );
    }
    const request = context.switchToHttp().getRequest<WebhookRequest>();
    // On both the controller and the handler, the guard runs twice with the same (overriding) options.
    if (request[VERIFIED_WEBHOOK]) return true;

    const rawBody = this.rawBodyOf(request, where);
    const { secret, advancedSignatures } = await this.resolveSecret(options, context, where);
    const scheme = options.scheme ?? 'convoy';
    // An endpoint known to sign with timestamps never sends a simple signature: one that arrives may be a replay.
    const requireTimestamp = options.requireTimestamp ?? advancedSignatures;

    let result: VerificationResult;
    try {
      result =
        scheme === 'standard'
          ? verifyStandardWebhook(rawBody, request.headers, { secret, toleranceMs: options.toleranceMs })
          : verifyConvoySignature(rawBody, headerValue(request.headers, options.header ?? 'x-convoy-signature'), {
              secret,
              hash: options.hash,
              encoding: options.encoding,
              toleranceMs: options.toleranceMs,
              requireTimestamp,
            });
    } catch (error) {
      // Only unusable options throw (e.g. a secret that is not base64); their messages never hold a secret.
      throw this.misconfigured(where, error instanceof Error ? error.message : String(error));
    }

    if (!result.valid) {
      this.logger.warn(
        `Rejected a webhook for ${where}: ${result.reason} (${VERIFICATION_FAILURE_DESCRIPTIONS[result.reason]})`,
      );
      throw new UnauthorizedException();
    }

    request[VERIFIED_WEBHOOK] = { payload: parsePayload(rawBody), rawBody, timestamp: result.timestamp, scheme };
    return true;
  }

  /** The bytes that were signed. */
  private rawBodyOf(request: WebhookRequest, where: string): Buffer {
    const raw = request.rawBody;
    if (Buffer.isBuffer(raw)) return raw;
    if (raw instanceof Uint8Array) return Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
    // No body was sent at all: the signed payload is empty, nothing was lost.
    if (!hasBody(request.headers)) return Buffer.alloc(0);

    const mediaType = String(headerValue(request.headers, 'content-type') ?? '')
      .split(';')[0]!
      .trim()
      .toLowerCase();
    if (RAW_BODY_TYPES.has(mediaType)) {
      // Nest parsed this body without keeping its bytes: the app was created without rawBody (or without body parsing).
      throw this.misconfigured(
        where,
        'req.rawBody is missing, so the exact bytes that were signed are unknown (re-serializing req.body would not ' +
          'give them back). Create the app with NestFactory.create(AppModule, { rawBody: true }) (Express and Fastify ' +
          "alike) and keep Nest's body parser on",
      );
    }
    // Nest keeps raw bytes only for JSON and form bodies, which is all Convoy sends: this request is not one of its webhooks.
    const shown = mediaType.slice(0, 100).replace(/[^\x20-\x7e]/g, '?'); // the sender's text: keep the log line clean
    this.logger.warn(
      `Rejected a webhook for ${where}: unsupported content type "${shown}" (Nest keeps no raw body for it)`,
    );
    throw new UnauthorizedException();
  }

  /** The secret(s) to verify with, and whether the endpoint they belong to is known to sign with timestamps. */
  private async resolveSecret(
    options: VerifyConvoyWebhookOptions,
    context: ExecutionContext,
    where: string,
  ): Promise<{ secret: string | string[]; advancedSignatures: boolean }> {
    let resolved: unknown;
    try {
      resolved = typeof options.secret === 'function' ? await options.secret(context, this.moduleRef) : options.secret;
    } catch (error) {
      // A resolver may answer on purpose, e.g. UnauthorizedException for an unknown tenant.
      if (error instanceof HttpException) throw error;
      throw this.misconfigured(
        where,
        `could not resolve the webhook secret: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    try {
      if (isEndpoint(resolved)) return endpointSecrets(resolved);
      checkSecretList(resolved, 'the secret resolved for @VerifyConvoyWebhook');
    } catch (error) {
      throw this.misconfigured(where, (error as Error).message);
    }
    return { secret: resolved as string | string[], advancedSignatures: false };
  }

  /** A bug in the app, not in the request: say how to fix it in the log, answer a bare 500. */
  private misconfigured(where: string, problem: string): InternalServerErrorException {
    this.logger.error(`Cannot verify webhooks for ${where}: ${problem}`);
    return new InternalServerErrorException();
  }
}

function isEndpoint(value: unknown): value is SigningEndpoint {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && 'secrets' in value;
}

/** The endpoint's secrets that still sign (an expired one is no longer used by the sender), and how it signs. */
function endpointSecrets(endpoint: SigningEndpoint): { secret: string[]; advancedSignatures: boolean } {
  const what = 'the endpoint resolved for @VerifyConvoyWebhook';
  if (typeof endpoint.advanced_signatures !== 'boolean') {
    throw new TypeError(`${what} has no boolean advanced_signatures (is it a Convoy endpoint?)`);
  }
  if (!Array.isArray(endpoint.secrets)) throw new TypeError(`${what}: secrets must be an array of { value }`);
  const now = Date.now();
  const active = endpoint.secrets.filter((s) => !s?.expires_at || Date.parse(s.expires_at) > now).map((s) => s?.value);
  return {
    secret: checkSecretList(active, `${what}: the values of its unexpired secrets`),
    advancedSignatures: endpoint.advanced_signatures,
  };
}

function headerValue(headers: WebhookRequest['headers'], name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value.join(', ') : value;
}

function hasBody(headers: WebhookRequest['headers']): boolean {
  if (headers['transfer-encoding'] !== undefined) return true;
  const length = Number(headerValue(headers, 'content-length') ?? 0);
  return !(Number.isFinite(length) && length === 0);
}

/** JSON from the verified bytes, so the handler sees exactly what was signed. */
function parsePayload(rawBody: Buffer): unknown {
  if (rawBody.length === 0) return undefined;
  try {
    return JSON.parse(rawBody.toString('utf8'));
  } catch {
    // The sender is authenticated, so saying what is wrong leaks nothing.
    throw new BadRequestException('The webhook payload is not valid JSON');
  }
}
