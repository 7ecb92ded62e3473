import { randomBytes } from 'node:crypto';
import { describeValue } from '../utils/describe-value.js';
import {
  anyMatch,
  checkNow,
  checkSecretList,
  checkTimestamp,
  checkTolerance,
  decode,
  hmac,
  isBase64,
  nowInSeconds,
  toBytes,
} from './convoy-signature.js';
import type { VerificationFailureReason, VerificationResult } from '../errors/verification.errors.js';

/**
 * Standard Webhooks (https://www.standardwebhooks.com) symmetric signatures:
 * headers `webhook-id`, `webhook-timestamp` (unix seconds) and `webhook-signature`
 * (`v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>`, space-separated, one per secret),
 * where the key is the base64-decoded part of the `whsec_…` secret.
 */

const SECRET_PREFIX = 'whsec_';

/** The three headers of a Standard Webhooks request (a type alias, so it can be passed where a header record is expected). */
export type StandardWebhookHeaders = {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
};

/** A new random secret: `whsec_` + base64 of 32 random bytes (the spec asks for 24 to 64 bytes). */
export function generateStandardWebhookSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString('base64');
}

/** Options of signStandardWebhook(): the message id, the secret(s) and the timestamp. */
export interface SignStandardWebhookOptions {
  /** The message id (`webhook-id`): unique per message, the same on every retry, so receivers can deduplicate. */
  id: string;
  /** Unix seconds. Default: now. */
  timestamp?: number;
  /** `whsec_<base64>` secrets (or the bare base64), oldest first; one signature per secret. */
  secrets: string[];
}

/**
 * The Standard Webhooks headers for `payload`, signed byte for byte as given (send exactly these bytes).
 * Throws a TypeError for an unusable secret (not base64, or empty), id or timestamp; never quoting the secret.
 */
export function signStandardWebhook(
  payload: string | Buffer,
  options: SignStandardWebhookOptions,
): StandardWebhookHeaders {
  const where = 'signStandardWebhook';
  const keys = checkSecretList(options?.secrets, `${where}: options.secrets`).map((secret, i) =>
    secretKey(secret, `${where}: options.secrets[${i}]`),
  );
  const id = options.id;
  // A header value: printable ASCII, and no leading or trailing space, which receivers would trim before verifying.
  if (typeof id !== 'string' || !/^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/.test(id)) {
    throw new TypeError(
      `${where}: options.id must be a non-empty string of printable ASCII without leading or trailing spaces, to travel as the webhook-id header (got ${describeValue(id)})`,
    );
  }
  const timestamp = options.timestamp ?? nowInSeconds();
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) {
    throw new TypeError(
      `${where}: options.timestamp must be a whole, non-negative number of unix seconds (got ${typeof timestamp === 'number' ? timestamp : describeValue(timestamp)})`,
    );
  }
  const prefix = Buffer.from(`${id}.${timestamp}.`, 'utf8');
  const body = toBytes(payload, where);
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': keys.map((key) => `v1,${hmac('SHA256', key, prefix, body).toString('base64')}`).join(' '),
  };
}

/** Options of verifyStandardWebhook(): the secret(s) and the replay window. */
export interface VerifyStandardWebhookOptions {
  /** One secret or several (during a rotation): any one of them may match. `whsec_<base64>` or the bare base64. */
  secret: string | string[];
  /** How far `webhook-timestamp` may be from now, in the past or in the future. Default 300 000 (5 minutes). */
  toleranceMs?: number;
  /** The current time in unix seconds. Default: the system clock. */
  now?: number;
}

/**
 * Checks the Standard Webhooks headers against the raw body. Header names are case-insensitive. Never throws for
 * anything the request carries (only for unusable options, such as a secret that is not base64).
 * Only `v1` (symmetric) signatures are checked; others (`v1a`, asymmetric) are skipped. Comparison is
 * constant-time over the decoded bytes, against every secret.
 */
export function verifyStandardWebhook(
  rawBody: string | Buffer,
  headers: Record<string, string | string[] | undefined>,
  options: VerifyStandardWebhookOptions,
): VerificationResult {
  const where = 'verifyStandardWebhook';
  const keys = checkSecretList(options?.secret, `${where}: options.secret`).map((secret, i) =>
    secretKey(secret, `${where}: options.secret${Array.isArray(options.secret) ? `[${i}]` : ''}`),
  );
  const tolerance = checkTolerance(options, where);
  const now = checkNow(options.now, where);
  const body = toBytes(rawBody, where);

  const lower = lowerCaseHeaders(headers ?? {});
  const signatureHeader = single(lower['webhook-signature'], ' ');
  if (signatureHeader === undefined) return rejected('missing_signature');
  if (signatureHeader === null) return rejected('malformed_signature');
  const id = single(lower['webhook-id']);
  if (id === null) return rejected('malformed_signature');
  if (id === undefined || id.trim() === '') return rejected('missing_webhook_id');
  const timestampHeader = single(lower['webhook-timestamp']);
  if (timestampHeader === null) return rejected('invalid_timestamp');
  if (timestampHeader === undefined || timestampHeader.trim() === '') return rejected('missing_timestamp');

  // "v1,<base64> v1,<base64> v1a,<…>": an entry without a comma is not a signature.
  const entries: Array<{ version: string; signature: string }> = [];
  for (const entry of signatureHeader.split(' ')) {
    const comma = entry.indexOf(',');
    if (comma > 0) entries.push({ version: entry.slice(0, comma), signature: entry.slice(comma + 1) });
  }
  if (entries.length === 0) return rejected('malformed_signature');

  const timestampCheck = checkTimestamp(timestampHeader.trim(), now, tolerance);
  if (typeof timestampCheck === 'string') return rejected(timestampCheck);

  // Sign what was received: the id and timestamp exactly as sent.
  const prefix = Buffer.from(`${id}.${timestampHeader.trim()}.`, 'utf8');
  const expected = keys.map((key) => hmac('SHA256', key, prefix, body));
  const candidates = entries.filter((e) => e.version === 'v1').map((e) => decode(e.signature, 'base64'));
  return anyMatch(candidates, expected)
    ? { valid: true, timestamp: timestampCheck.timestamp }
    : rejected('no_matching_signature');
}

/** The HMAC key of a `whsec_<base64>` (or bare base64) secret; a TypeError naming `what` (never the secret) otherwise. */
export function secretKey(secret: string, what: string): Buffer {
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  if (encoded === '' || !isBase64(encoded)) {
    throw new TypeError(
      `${what} is not a Standard Webhooks secret: expected "whsec_" followed by standard base64 (the secret is not shown)`,
    );
  }
  return Buffer.from(encoded, 'base64');
}

function lowerCaseHeaders(
  headers: Record<string, string | string[] | undefined>,
): Record<string, string | string[] | undefined> {
  const lower: Record<string, string | string[] | undefined> = {};
  for (const [name, value] of Object.entries(headers)) lower[name.toLowerCase()] = value;
  return lower;
}

/**
 * One header value: undefined if absent, null if it came several times and cannot be combined
 * (repeated `webhook-signature` headers are combined with `joinWith`, since each holds a list).
 */
function single(value: string | string[] | undefined, joinWith?: string): string | undefined | null {
  if (value === undefined) return undefined;
  if (typeof value === 'string') return value;
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) return null;
  if (value.length === 0) return undefined;
  if (value.length === 1) return value[0];
  return joinWith === undefined ? null : value.join(joinWith);
}

function rejected(reason: VerificationFailureReason): VerificationResult {
  return { valid: false, reason };
}
