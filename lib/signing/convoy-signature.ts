import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';
import { describeValue } from '../utils/describe-value.js';
import type { VerificationFailureReason, VerificationResult } from '../errors/verification.errors.js';

/**
 * Convoy's outbound webhook signatures (`X-Convoy-Signature`), exactly as Convoy computes them
 * (frain-dev/convoy `pkg/signature`), so that a receiver written for Convoy accepts what we sign and
 * we accept what Convoy signs.
 */

/** The HMAC hash of a signature scheme. */
export type SignatureHash = 'SHA256' | 'SHA512';
/** How a signature scheme writes the HMAC. */
export type SignatureEncoding = 'hex' | 'base64';

/** One of a project's signature versions; the k-th scheme (from 0) is labelled `v{k+1}` in advanced headers. */
export interface SignatureScheme {
  hash: SignatureHash;
  encoding: SignatureEncoding;
}

/** Convoy's default: one version, HMAC-SHA256, hex. */
export const DEFAULT_SIGNATURE_SCHEME: Readonly<SignatureScheme> = Object.freeze({ hash: 'SHA256', encoding: 'hex' });

/** The header Convoy puts the signature in (its default `config.signature.header`). */
export const CONVOY_SIGNATURE_HEADER = 'X-Convoy-Signature';

/** Default replay window of the verifiers: 5 minutes, as Convoy's SDKs. */
export const DEFAULT_SIGNATURE_TOLERANCE_MS = 300_000;

/** Options of signConvoyPayload(): the secrets, advanced or simple, the schemes and the timestamp. */
export interface SignConvoyPayloadOptions {
  /** The endpoint's active secrets, oldest first. Simple mode signs with the newest (last) only. */
  secrets: string[];
  /** Advanced signatures (`t=…,v1=…`, Convoy's default for new endpoints) or simple ones (the bare digest). */
  advanced: boolean;
  /** The project's signature versions, in order. Default: `[{ hash: 'SHA256', encoding: 'hex' }]`. Simple mode uses the last one. */
  schemes?: SignatureScheme[];
  /** Advanced mode: the signing time in unix seconds. Default: now. Convoy takes a new one on every attempt. */
  timestamp?: number;
}

/**
 * The `X-Convoy-Signature` value for `payload`, computed like Convoy does.
 *
 * `payload` is signed byte for byte as given: pass the exact bytes you send as the body. Convoy signs the compact
 * JSON of the event data (no whitespace outside strings, no HTML escaping), so send compact JSON
 * (`JSON.stringify(data)`); never pretty-print it, and never re-serialize between signing and sending.
 *
 * - Simple mode: `enc(HMAC(newest secret, payload))` with the last scheme.
 * - Advanced mode: `t=<timestamp>` then, for each scheme k and each secret (oldest first),
 *   `,v{k+1}=enc(HMAC(secret, "<timestamp>,<payload>"))`. During a secret roll: `t=…,v1=<old>,v1=<new>`.
 *
 * Throws a TypeError for unusable options (no secrets, an unknown hash or encoding, a timestamp that is not a
 * whole number of seconds); the message never contains a secret.
 */
export function signConvoyPayload(payload: string | Buffer, options: SignConvoyPayloadOptions): string {
  const where = 'signConvoyPayload';
  const secrets = checkSecretList(options?.secrets, `${where}: options.secrets`);
  if (typeof options.advanced !== 'boolean') {
    throw new TypeError(`${where}: options.advanced must be true or false (got ${describeValue(options.advanced)})`);
  }
  const schemes = checkSchemes(options.schemes ?? [DEFAULT_SIGNATURE_SCHEME], where);
  // A string is fed to the HMAC as UTF-8 directly (no Buffer copy of the payload per signature: this runs per delivery).
  const body = typeof payload === 'string' ? payload : toBytes(payload, where);

  if (!options.advanced) {
    const scheme = schemes[schemes.length - 1]!;
    return encode(hmac(scheme.hash, secrets[secrets.length - 1]!, body), scheme.encoding);
  }

  const timestamp = options.timestamp ?? nowInSeconds();
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) {
    throw new TypeError(
      `${where}: options.timestamp must be a whole, non-negative number of unix seconds (got ${describeNumber(timestamp)})`,
    );
  }
  const prefix = `${timestamp},`;
  const parts = [`t=${timestamp}`];
  schemes.forEach((scheme, k) => {
    for (const secret of secrets)
      parts.push(`v${k + 1}=${encode(hmac(scheme.hash, secret, prefix, body), scheme.encoding)}`);
  });
  return parts.join(',');
}

/**
 * signConvoyPayload() with Convoy's default scheme (HMAC-SHA256, hex), for secrets already validated (an endpoint's):
 * the embedded engine signs every attempt, and skipping the option checks and intermediate arrays keeps that cheap.
 * The same output as signConvoyPayload(payload, { secrets, advanced, timestamp }).
 */
export function signConvoyPayloadSha256(
  payload: string,
  secrets: readonly string[],
  advanced: boolean,
  timestamp: number = nowInSeconds(),
): string {
  if (!advanced)
    return createHmac('sha256', keyObject(secrets[secrets.length - 1]!))
      .update(payload)
      .digest('hex');
  const prefix = `${timestamp},`;
  let header = `t=${timestamp}`;
  for (const secret of secrets)
    header += `,v1=${createHmac('sha256', keyObject(secret)).update(prefix).update(payload).digest('hex')}`;
  return header;
}

/** Options of verifyConvoySignature(): the secret(s), the schemes and the replay window. */
export interface VerifyConvoySignatureOptions {
  /** The endpoint's secret, or several (during a roll, or for several senders): any one of them may match. */
  secret: string | string[];
  /** Default `SHA256`. */
  hash?: SignatureHash;
  /** Default `hex`. */
  encoding?: SignatureEncoding;
  /** How far the signed timestamp may be from now, in the past or in the future. Default 300 000 (5 minutes). */
  toleranceMs?: number;
  /** The current time in unix seconds. Default: the system clock. */
  now?: number;
  /**
   * Refuse simple signatures (`simple_signature_refused`): accept only advanced ones (`t=…,v1=…`), whose signed
   * timestamp bounds replays. Default false. Turn it on when the sender signs advanced (an endpoint with
   * `advanced_signatures: true`, Convoy's default); leave it off for Convoy's meta events, which are signed simply.
   */
  requireTimestamp?: boolean;
}

/**
 * Checks an `X-Convoy-Signature` header against the raw request body. Never throws for anything the request
 * carries (only for unusable options); a rejection says why in `reason`.
 *
 * - A header with a comma, or starting with `t=`, is an advanced signature: `key=value` pairs in any order,
 *   exactly one `t` (an integer), and every key starting with `v` is a candidate signature (whatever the scheme
 *   number, so a receiver verifying one scheme accepts headers that carry several). The timestamp must be within
 *   `toleranceMs` of `now` in both directions (Convoy's SDKs only check the past; we also refuse the future).
 * - Anything else is a simple signature: the bare digest of the body. **Simple mode signs no timestamp, so it
 *   cannot prevent replays**: a captured request verifies forever. Prefer advanced signatures (Convoy's default),
 *   and refuse simple ones with `requireTimestamp: true`.
 *
 * Signatures are compared as decoded bytes with `crypto.timingSafeEqual`, against every secret, without stopping
 * at the first match, so the time taken says nothing about which bytes or which secret matched.
 *
 * `rawBody` must be the body's bytes exactly as received (not `JSON.stringify(req.body)`).
 */
export function verifyConvoySignature(
  rawBody: string | Buffer,
  header: string | undefined,
  options: VerifyConvoySignatureOptions,
): VerificationResult {
  const where = 'verifyConvoySignature';
  const secrets = checkSecretList(options?.secret, `${where}: options.secret`);
  const hash = checkHash(options.hash ?? DEFAULT_SIGNATURE_SCHEME.hash, where);
  const encoding = checkEncoding(options.encoding ?? DEFAULT_SIGNATURE_SCHEME.encoding, where);
  const tolerance = checkTolerance(options, where);
  const now = checkNow(options.now, where);
  const requireTimestamp = checkRequireTimestamp(options.requireTimestamp, where);
  const body = toBytes(rawBody, where);

  if (header === undefined || header === null) return rejected('missing_signature');
  if (typeof header !== 'string') return rejected('malformed_signature');
  const value = header.trim();
  if (value === '') return rejected('malformed_signature');

  if (!value.includes(',') && !value.startsWith('t=')) {
    // Refused before any digest is computed: whether it would have matched is not worth saying.
    if (requireTimestamp) return rejected('simple_signature_refused');
    // Simple mode: the whole header is one digest of the body.
    const expected = secrets.map((secret) => hmac(hash, secret, body));
    return anyMatch([decode(value, encoding)], expected) ? { valid: true } : rejected('no_matching_signature');
  }

  const parsed = parseAdvancedHeader(value);
  if ('reason' in parsed) return rejected(parsed.reason);
  const timestampCheck = checkTimestamp(parsed.timestamp, now, tolerance);
  if (typeof timestampCheck === 'string') return rejected(timestampCheck);

  const prefix = Buffer.from(`${parsed.timestamp},`, 'utf8');
  const expected = secrets.map((secret) => hmac(hash, secret, prefix, body));
  const candidates = parsed.signatures.map((signature) => decode(signature, encoding));
  return anyMatch(candidates, expected)
    ? { valid: true, timestamp: timestampCheck.timestamp }
    : rejected('no_matching_signature');
}

/** `t` and the candidate signatures of an advanced header, parsed by key (Convoy puts `t` first; nothing requires it). */
function parseAdvancedHeader(
  value: string,
): { timestamp: string; signatures: string[] } | { reason: VerificationFailureReason } {
  let timestamp: string | undefined;
  const signatures: string[] = [];
  for (const rawPart of value.split(',')) {
    const part = rawPart.trim(); // Node joins repeated headers with ", "
    const equals = part.indexOf('=');
    if (equals <= 0) return { reason: 'malformed_signature' }; // an empty part, no '=', or no key
    // Split at the first '=' only: base64 values end with '=' padding.
    const key = part.slice(0, equals).trim();
    const item = part.slice(equals + 1).trim();
    if (key === 't') {
      if (timestamp !== undefined) return { reason: 'malformed_signature' }; // two timestamps: which one was signed?
      timestamp = item;
    } else if (key.startsWith('v')) {
      signatures.push(item);
    }
    // Other keys are ignored, as Convoy's Go verifier does, so that a future key does not break receivers.
  }
  if (timestamp === undefined) return { reason: 'missing_timestamp' };
  if (signatures.length === 0) return { reason: 'malformed_signature' };
  return { timestamp, signatures };
}

// ---- helpers shared with standard-webhooks.ts (not part of the public API) ----

/** Validates a signed timestamp (decimal integer seconds) against now ± tolerance (both in seconds). */
export function checkTimestamp(
  value: string,
  now: number,
  tolerance: number,
): { timestamp: number } | VerificationFailureReason {
  // Digits only: no "1.7e9", "0x…", "Infinity" or " 17 " that Number() would accept.
  if (!/^-?\d{1,16}$/.test(value)) return 'invalid_timestamp';
  const timestamp = Number(value);
  if (!Number.isSafeInteger(timestamp)) return 'invalid_timestamp';
  if (now - timestamp > tolerance) return 'timestamp_too_old';
  if (timestamp - now > tolerance) return 'timestamp_in_future';
  return { timestamp };
}

/**
 * Whether any candidate equals any expected digest. Every pair of equal length is compared with
 * timingSafeEqual and the loop never stops early, so the time spent does not depend on which secret
 * or candidate matched. A candidate of another length (or undecodable) cannot match; lengths are public.
 */
export function anyMatch(candidates: Array<Buffer | undefined>, expected: Buffer[]): boolean {
  let matched = false;
  for (const candidate of candidates) {
    if (candidate === undefined) continue;
    for (const digest of expected) {
      if (candidate.length === digest.length && timingSafeEqual(candidate, digest)) matched = true;
    }
  }
  return matched;
}

/** The bytes of a signature in `encoding`, or undefined if it is not valid in that encoding (Buffer.from would silently drop bad characters). */
export function decode(signature: string, encoding: SignatureEncoding): Buffer | undefined {
  if (encoding === 'hex') {
    return signature.length % 2 === 0 && /^[0-9a-fA-F]*$/.test(signature) ? Buffer.from(signature, 'hex') : undefined;
  }
  return isBase64(signature) ? Buffer.from(signature, 'base64') : undefined;
}

/** Standard (padded) base64, as Go's StdEncoding and Standard Webhooks write it. */
export function isBase64(value: string): boolean {
  return value.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(value);
}

/** HMAC of the parts in order (strings as UTF-8). Keys are turned into KeyObjects once: they repeat on every delivery. */
export function hmac(hash: SignatureHash, key: string | Buffer, ...parts: Array<string | Buffer>): Buffer {
  const mac = createHmac(hash === 'SHA512' ? 'sha512' : 'sha256', typeof key === 'string' ? keyObject(key) : key);
  for (const part of parts) mac.update(part);
  return mac.digest();
}

/** Secret → its KeyObject, for the secrets in use (bounded: cleared when it grows past what endpoints need). */
const keyObjects = new Map<string, KeyObject>();

function keyObject(secret: string): KeyObject {
  let key = keyObjects.get(secret);
  if (!key) {
    if (keyObjects.size >= 1_000) keyObjects.clear();
    key = createSecretKey(secret, 'utf8');
    keyObjects.set(secret, key);
  }
  return key;
}

export function toBytes(payload: string | Buffer, where: string): Buffer {
  if (typeof payload === 'string') return Buffer.from(payload, 'utf8');
  if (Buffer.isBuffer(payload)) return payload;
  const bytes: unknown = payload;
  if (bytes instanceof Uint8Array) return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  throw new TypeError(
    `${where}: the payload must be a string or a Buffer holding the exact bytes sent (got ${describeValue(payload)})`,
  );
}

export function nowInSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** A non-empty list of non-empty strings, from one string or an array. The message never quotes a secret. */
export function checkSecretList(value: unknown, what: string): string[] {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.length === 0) {
    throw new TypeError(
      `${what} must be a non-empty string or a non-empty array of them (got ${describeValue(value)})`,
    );
  }
  list.forEach((secret: unknown, i) => {
    if (typeof secret !== 'string' || secret === '') {
      throw new TypeError(
        `${what}${Array.isArray(value) ? `[${i}]` : ''} must be a non-empty string (got ${describeValue(secret)})`,
      );
    }
  });
  return list as string[];
}

/** The replay window in seconds (the unit of signed timestamps), from the options' `toleranceMs`. */
export function checkTolerance(options: { toleranceMs?: number }, where: string): number {
  refuseRenamedTolerance(options, where);
  const value = options.toleranceMs;
  const toleranceMs = value ?? DEFAULT_SIGNATURE_TOLERANCE_MS;
  if (typeof toleranceMs !== 'number' || !Number.isFinite(toleranceMs) || toleranceMs < 0) {
    throw new TypeError(
      `${where}: options.toleranceMs must be a finite number of milliseconds >= 0 (got ${describeNumber(value)})`,
    );
  }
  return toleranceMs / 1000;
}

/** `tolerance` (seconds) was renamed: read silently as absent, a window meant to be short would be 5 minutes. */
function refuseRenamedTolerance(options: object, where: string): void {
  if ((options as { tolerance?: unknown }).tolerance !== undefined)
    throw new TypeError(`${where}: options.tolerance is now toleranceMs, in milliseconds (300 s is 300000)`);
}

export function checkNow(value: number | undefined, where: string): number {
  if (value === undefined) return nowInSeconds();
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new TypeError(`${where}: options.now must be a finite number of unix seconds (got ${describeNumber(value)})`);
  }
  return value;
}

function checkRequireTimestamp(value: unknown, where: string): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') {
    throw new TypeError(`${where}: options.requireTimestamp must be true or false (got ${describeValue(value)})`);
  }
  return value;
}

function checkHash(value: unknown, where: string): SignatureHash {
  if (value !== 'SHA256' && value !== 'SHA512') {
    throw new TypeError(
      `${where}: hash must be 'SHA256' or 'SHA512' (got ${typeof value === 'string' ? JSON.stringify(value) : describeValue(value)})`,
    );
  }
  return value;
}

function checkEncoding(value: unknown, where: string): SignatureEncoding {
  if (value !== 'hex' && value !== 'base64') {
    throw new TypeError(
      `${where}: encoding must be 'hex' or 'base64' (got ${typeof value === 'string' ? JSON.stringify(value) : describeValue(value)})`,
    );
  }
  return value;
}

function checkSchemes(value: unknown, where: string): SignatureScheme[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new TypeError(
      `${where}: options.schemes must be a non-empty array of { hash, encoding } (got ${describeValue(value)})`,
    );
  }
  return value.map((scheme: Partial<SignatureScheme> | undefined, i) => ({
    hash: checkHash(scheme?.hash, `${where}: options.schemes[${i}]`),
    encoding: checkEncoding(scheme?.encoding, `${where}: options.schemes[${i}]`),
  }));
}

function encode(digest: Buffer, encoding: SignatureEncoding): string {
  return digest.toString(encoding);
}

function describeNumber(value: unknown): string {
  return typeof value === 'number' ? String(value) : describeValue(value);
}

function rejected(reason: VerificationFailureReason): VerificationResult {
  return { valid: false, reason };
}
