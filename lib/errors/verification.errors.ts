import { ConvoyError } from './convoy.error.js';

/** Why a webhook signature was rejected. Safe to log: it never says anything about the secret. */
export type VerificationFailureReason =
  | 'missing_signature'
  | 'malformed_signature'
  | 'missing_timestamp'
  | 'invalid_timestamp'
  | 'timestamp_too_old'
  | 'timestamp_in_future'
  | 'no_matching_signature'
  /** Standard Webhooks only: the `webhook-id` header is absent or empty. */
  | 'missing_webhook_id'
  /** Convoy scheme with `requireTimestamp`: a simple signature (a bare digest, no signed timestamp). */
  | 'simple_signature_refused';

/** The outcome of verifyConvoySignature() and verifyStandardWebhook(). */
export type VerificationResult =
  | {
      valid: true;
      /** The signed timestamp (unix seconds); absent for Convoy's simple mode, which signs none. */
      timestamp?: number;
    }
  | { valid: false; reason: VerificationFailureReason };

/** What each reason means, for log lines and error messages. */
export const VERIFICATION_FAILURE_DESCRIPTIONS: Readonly<Record<VerificationFailureReason, string>> = {
  missing_signature: 'the request carries no signature header',
  malformed_signature: 'the signature header cannot be parsed',
  missing_timestamp: 'the signature carries no timestamp',
  invalid_timestamp: 'the signed timestamp is not an integer number of seconds',
  timestamp_too_old: 'the signed timestamp is older than the tolerance (a replay, or clocks out of sync)',
  timestamp_in_future: 'the signed timestamp is further in the future than the tolerance (clocks out of sync?)',
  no_matching_signature:
    'no signature matches the body with any of the secrets (wrong secret, hash or encoding, or a modified body)',
  missing_webhook_id: 'the webhook-id header is missing',
  simple_signature_refused:
    'the signature is a simple one (a bare digest that signs no timestamp, so it may be a replay), and advanced signatures (t=…,v1=…) are required here',
};

/**
 * A webhook's signature did not verify. Carries the typed `reason`; the message names the reason and never
 * contains a secret or a signature value.
 */
export class WebhookVerificationError extends ConvoyError {
  constructor(readonly reason: VerificationFailureReason) {
    super(
      `Webhook signature verification failed (${reason}): ${VERIFICATION_FAILURE_DESCRIPTIONS[reason] ?? 'unknown reason'}`,
    );
  }
}
