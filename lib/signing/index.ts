export {
  signConvoyPayload,
  verifyConvoySignature,
  CONVOY_SIGNATURE_HEADER,
  DEFAULT_SIGNATURE_SCHEME,
  DEFAULT_SIGNATURE_TOLERANCE_MS,
  type SignatureHash,
  type SignatureEncoding,
  type SignatureScheme,
  type SignConvoyPayloadOptions,
  type VerifyConvoySignatureOptions,
} from './convoy-signature.js';
export {
  generateStandardWebhookSecret,
  signStandardWebhook,
  verifyStandardWebhook,
  type StandardWebhookHeaders,
  type SignStandardWebhookOptions,
  type VerifyStandardWebhookOptions,
} from './standard-webhooks.js';
export {
  WebhookVerificationError,
  VERIFICATION_FAILURE_DESCRIPTIONS,
  type VerificationFailureReason,
  type VerificationResult,
} from '../errors/verification.errors.js';
