import { ConvoyConfigurationError } from '../errors/configuration.error.js';
import { CONVOY_SIGNATURE_HEADER } from '../signing/convoy-signature.js';
import { describeValue } from '../utils/describe-value.js';
import { jsonSchemaOf, type WebhookEventCatalog } from './webhook-events.js';

/** Options of webhooksOpenApi(). */
export interface WebhooksOpenApiOptions {
  /** The document's `info.title`, e.g. "Acme webhooks". */
  title: string;
  /** The document's `info.version`: the version of your webhooks, not of OpenAPI. */
  version: string;
  /** `info.description`. */
  description?: string;
  /**
   * The headers the receivers verify: `'convoy'` (`X-Convoy-Signature`, what Convoy and, by default, the embedded
   * engine send) or `'standard'` (Standard Webhooks' `webhook-id`, `webhook-timestamp`, `webhook-signature`). Default `'convoy'`.
   */
  signature?: 'convoy' | 'standard';
}

interface HeaderParameter {
  name: string;
  in: 'header';
  required: true;
  description: string;
  schema: { type: 'string' };
}

const header = (name: string, description: string): HeaderParameter => ({
  name,
  in: 'header',
  required: true,
  description,
  schema: { type: 'string' },
});

const IDEMPOTENCY = header(
  'X-Convoy-Idempotency-Key',
  "The event's idempotency key, the same on every retry: process an event once per key.",
);

/** The headers of each scheme, named as the signers set them (lib/signing) and the receiver guard reads them. */
const SIGNATURE_HEADERS: Record<'convoy' | 'standard', HeaderParameter[]> = {
  convoy: [
    header(
      CONVOY_SIGNATURE_HEADER,
      'HMAC-SHA256 of the raw body with the endpoint\'s secret, hex: `t=<unix seconds>,v1=<hmac of "<t>,<body>">` ' +
        "(advanced signatures, Convoy's default; one v1 per active secret) or the bare HMAC of the body (simple).",
    ),
    IDEMPOTENCY,
  ],
  standard: [
    header('webhook-id', 'The Standard Webhooks message id (the idempotency key), the same on every retry.'),
    header('webhook-timestamp', 'When the attempt was signed, in unix seconds.'),
    header(
      'webhook-signature',
      'Space-separated `v1,<base64 HMAC-SHA256 of "<webhook-id>.<webhook-timestamp>.<body>">`, one per active secret.',
    ),
    IDEMPOTENCY,
  ],
};

/**
 * An OpenAPI 3.1 document of the webhooks your receivers get: one `webhooks` entry per event type of the catalog,
 * with its payload's JSON Schema, its example and the signature headers. Serve it (e.g. `GET /openapi/webhooks.json`)
 * or write it with `npx nestjs-convoy openapi --catalog <module>`.
 */
export function webhooksOpenApi(
  catalog: WebhookEventCatalog,
  options: WebhooksOpenApiOptions,
): Record<string, unknown> {
  for (const key of ['title', 'version'] as const) {
    const value = (options as Partial<WebhooksOpenApiOptions> | undefined)?.[key];
    if (typeof value !== 'string' || value.trim() === '')
      throw new ConvoyConfigurationError(
        key,
        `must be a non-empty string, got ${describeValue(value)}`,
        `pass webhooksOpenApi(catalog, { title: 'Acme webhooks', version: '1.0.0' })`,
      );
  }
  const signature = options.signature ?? 'convoy';
  if (signature !== 'convoy' && signature !== 'standard')
    throw new ConvoyConfigurationError(
      'signature',
      `expected "convoy" or "standard", got ${describeValue(signature)}`,
      'pick the scheme your endpoints use',
    );
  const webhooks: Record<string, unknown> = {};
  const tags = new Set<string>();
  for (const [type, definition] of Object.entries(catalog.events)) {
    if (definition.category) tags.add(definition.category);
    const media: Record<string, unknown> = { schema: jsonSchemaOf(type, definition) };
    if (definition.example !== undefined) media.example = definition.example;
    webhooks[type] = {
      post: {
        operationId: type,
        summary: type,
        ...(definition.description ? { description: definition.description } : {}),
        ...(definition.category ? { tags: [definition.category] } : {}),
        parameters: SIGNATURE_HEADERS[signature],
        requestBody: { required: true, content: { 'application/json': media } },
        responses: {
          '2XX': { description: 'Received. Any other status, or no answer in time, makes the sender retry later.' },
        },
      },
    };
  }
  return {
    openapi: '3.1.1',
    info: {
      title: options.title,
      version: options.version,
      ...(options.description ? { description: options.description } : {}),
    },
    ...(tags.size > 0 ? { tags: [...tags].map((name) => ({ name })) } : {}),
    webhooks,
  };
}
