import { applyDecorators, SetMetadata, UseGuards, type ExecutionContext } from '@nestjs/common';
import type { ModuleRef } from '@nestjs/core';
import {
  checkSecretList,
  checkTolerance,
  type SignatureEncoding,
  type SignatureHash,
} from '../signing/convoy-signature.js';
import { secretKey } from '../signing/standard-webhooks.js';
import { describeValue } from '../utils/describe-value.js';
import { ConvoyWebhookGuard, VERIFY_CONVOY_WEBHOOK_METADATA } from './convoy-webhook.guard.js';

/**
 * The endpoint a webhook was signed for, as Convoy's API, ConvoyClient and WebhookEndpoints return it (only these two
 * fields are read). Returned by a secret resolver, it gives the guard the endpoint's secrets that have not expired,
 * and tells it whether the sender signs with advanced signatures.
 */
export interface SigningEndpoint {
  secrets: Array<{ value: string; expires_at?: string | null }>;
  advanced_signatures: boolean;
}

/**
 * Looks the secret(s) up at request time: from configuration, per tenant, from a vault. `moduleRef` reaches any
 * provider, e.g. `(_, refs) => refs.get(ConfigService, { strict: false }).getOrThrow('CONVOY_WEBHOOK_SECRET')`.
 * Return the endpoint itself ({@link SigningEndpoint}) when you have it: an endpoint with `advanced_signatures: true`
 * then refuses simple signatures (see `requireTimestamp`).
 */
export type WebhookSecretResolver = (
  context: ExecutionContext,
  moduleRef: ModuleRef,
) => string | string[] | SigningEndpoint | Promise<string | string[] | SigningEndpoint>;

/** Options of `@VerifyConvoyWebhook()`: the secret(s), the signature scheme (Convoy or Standard Webhooks), the replay window. */
export interface VerifyConvoyWebhookOptions {
  /**
   * The endpoint secret, several (during a rotation: any one may match), or a function returning them at request
   * time. Prefer the function when the secret comes from configuration: a decorator argument is evaluated when the
   * class is loaded, before ConfigModule has read anything.
   */
  secret: string | string[] | WebhookSecretResolver;
  /** `convoy` (X-Convoy-Signature, simple or advanced) or `standard` (Standard Webhooks headers). Default `convoy`. */
  scheme?: 'convoy' | 'standard';
  /** Convoy scheme: the signature header (case-insensitive). Default `x-convoy-signature`. */
  header?: string;
  /** Convoy scheme: default `SHA256`. */
  hash?: SignatureHash;
  /** Convoy scheme: default `hex`. */
  encoding?: SignatureEncoding;
  /** How far the signed timestamp may be from now, either way. Default 300 000 (5 minutes). */
  toleranceMs?: number;
  /**
   * Convoy scheme: refuse simple signatures (a bare digest that signs no timestamp, so a captured request replays
   * forever) and accept only advanced ones (`t=…,v1=…`). Default: on when the secret resolver returns the endpoint
   * and it has `advanced_signatures: true`; off otherwise, since a bare secret says nothing about how its sender
   * signs. Standard Webhooks always sign a timestamp.
   */
  requireTimestamp?: boolean;
}

/**
 * Accepts a request only if it carries a valid webhook signature over its raw body; anything else gets a bare 401.
 * On a handler or a controller (the handler's options win). Needs an app created with `{ rawBody: true }`.
 * Read the verified payload with `@WebhookPayload()`.
 *
 *   `@Post('webhooks/convoy')`
 *   `@VerifyConvoyWebhook({ secret: (_, refs) => refs.get(ConfigService, { strict: false }).getOrThrow('CONVOY_WEBHOOK_SECRET') })`
 *   `receive(@WebhookPayload() event: ChargeSucceeded) { … }`
 *
 * Throws a TypeError at once (when the class is loaded) for options that could never work.
 */
export function VerifyConvoyWebhook(options: VerifyConvoyWebhookOptions): ClassDecorator & MethodDecorator {
  checkOptions(options);
  return applyDecorators(SetMetadata(VERIFY_CONVOY_WEBHOOK_METADATA, options), UseGuards(ConvoyWebhookGuard));
}

const CHOICES = { scheme: ['convoy', 'standard'], hash: ['SHA256', 'SHA512'], encoding: ['hex', 'base64'] } as const;

function checkOptions(options: VerifyConvoyWebhookOptions): void {
  const where = '@VerifyConvoyWebhook';
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`${where} needs an options object with at least { secret } (got ${describeValue(options)})`);
  }
  for (const [key, allowed] of Object.entries(CHOICES) as Array<[keyof typeof CHOICES, readonly string[]]>) {
    const value = options[key];
    if (value !== undefined && !allowed.includes(value))
      throw new TypeError(`${where}: options.${key} must be ${allowed.map((v) => `'${v}'`).join(' or ')}`);
  }
  const scheme = options.scheme ?? 'convoy';
  if (typeof options.secret !== 'function') {
    const secrets = checkSecretList(options.secret, `${where}: options.secret`);
    if (scheme === 'standard')
      secrets.forEach((secret, i) =>
        secretKey(secret, `${where}: options.secret${secrets.length > 1 ? `[${i}]` : ''}`),
      );
  }
  if (scheme === 'standard') {
    for (const key of ['header', 'hash', 'encoding'] as const) {
      if (options[key] !== undefined) {
        throw new TypeError(
          `${where}: options.${key} applies to scheme 'convoy' only; Standard Webhooks have fixed headers and HMAC-SHA256/base64`,
        );
      }
    }
  }
  if (
    options.header !== undefined &&
    (typeof options.header !== 'string' || !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(options.header))
  ) {
    throw new TypeError(`${where}: options.header must be an HTTP header name (got ${describeValue(options.header)})`);
  }
  checkTolerance(options, where); // the verifiers' own check, at decoration time
  if (options.requireTimestamp !== undefined && typeof options.requireTimestamp !== 'boolean') {
    throw new TypeError(`${where}: options.requireTimestamp must be true or false`);
  }
  if (scheme === 'standard' && options.requireTimestamp === false) {
    throw new TypeError(
      `${where}: options.requireTimestamp cannot be false with scheme 'standard': Standard Webhooks always sign a timestamp`,
    );
  }
}
