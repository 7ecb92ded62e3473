import { ENDPOINT_SECRET_RULE, isEndpointSecret } from '../../publishing/validate-webhook.js';
import { randomBytes } from 'node:crypto';
import { InvalidEndpointError, WebhookNotFoundError, WebhookStateError } from '../../errors/endpoint.errors.js';
import type { AddressPolicy } from '../../network/address-policy.js';
import { checkDestination, type LookupAll } from '../../network/destination.js';
import { DestinationBlockedError, InvalidDestinationError } from '../../errors/destination.errors.js';
import { generateStandardWebhookSecret } from '../../signing/standard-webhooks.js';
import { describeValue } from '../../utils/describe-value.js';
import { uuidv7 } from '../../utils/uuid.js';
import { DEFAULT_LIMITS, type Limits } from '../../options/option-tables.js';
import { overLimit } from '../../publishing/validate-webhook.js';
import { matchesEventPattern } from '../../utils/glob.js';
import type {
  EndpointFilter,
  EndpointRecord,
  PageRequest,
  RecordPage,
  SecretRecord,
  SignatureFormat,
} from '../../storage/records.js';
import type { WebhookStore } from '../../storage/webhook-store.js';
import { parseEndpointUrl } from '../../management/webhook-endpoints.js';
import type { WebhookEndpointInput } from '../../management/webhook-management.types.js';

const UNSUPPORTED = ['slack_webhook_url', 'teams_webhook_url', 'mtls_client_cert'] as const;
const KNOWN = new Set([
  'name',
  'url',
  'secret',
  'owner_id',
  'description',
  'advanced_signatures',
  'support_email',
  'http_timeout',
  'rate_limit',
  'rate_limit_duration',
  'content_type',
  'is_disabled',
  'authentication',
  'event_types',
  'signature_format',
  ...UNSUPPORTED,
]);

/** Convoy generates 25 characters of this alphabet when no secret is given. */
function convoyStyleSecret(): string {
  return randomBytes(19).toString('base64url').slice(0, 25);
}

/**
 * The embedded engine's endpoints: Convoy's operations and fields, validated up front (a refused request
 * changes nothing and throws InvalidEndpointError naming the field). Every URL passes the SSRF guard when
 * it is created or changed, and again before every send.
 */
export class EndpointRegistry {
  constructor(
    private readonly store: WebhookStore,
    private readonly policy: AddressPolicy,
    private readonly lookupAll?: LookupAll,
    readonly limits: Readonly<Limits> = DEFAULT_LIMITS,
    /** The registered catalog's event types: an endpoint may subscribe only to them (and "*", and patterns matching them). */
    private readonly catalogTypes?: readonly string[],
  ) {}

  async create(input: WebhookEndpointInput): Promise<EndpointRecord> {
    const fields = await this.validate(input, undefined);
    const now = Date.now();
    const format = fields.signature_format ?? 'convoy';
    const record: EndpointRecord = {
      uid: uuidv7(),
      name: fields.name ?? new URL(fields.url!).host,
      url: fields.url!,
      owner_id: fields.owner_id ?? '',
      description: fields.description ?? '',
      secrets: [
        secretRecord(
          fields.secret ?? (format === 'standard' ? generateStandardWebhookSecret() : convoyStyleSecret()),
          now,
        ),
      ],
      advanced_signatures: fields.advanced_signatures ?? true,
      signature_format: format,
      event_types: fields.event_types ?? ['*'],
      http_timeout: fields.http_timeout ?? 10,
      rate_limit: fields.rate_limit ?? 0,
      rate_limit_duration: fields.rate_limit_duration ?? 0,
      support_email: fields.support_email ?? '',
      api_key_header: fields.api_key_header ?? null,
      status: fields.is_disabled ? 'inactive' : 'active',
      created_at: now,
      updated_at: now,
    };
    await this.store.insertEndpoint(record);
    return record;
  }

  /** Changes the given fields; omitted ones keep their value. Secrets change only through expireSecret(). */
  async update(uid: string, input: WebhookEndpointInput): Promise<EndpointRecord> {
    const current = await this.get(uid);
    if (input.secret !== undefined)
      throw new InvalidEndpointError('secret', 'cannot be changed by an update; rotate it with expireSecret()');
    const fields = await this.validate(input, current);
    const { secret: _secret, is_disabled, ...changes } = fields;
    const updated: EndpointRecord = {
      ...current,
      ...Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== undefined)),
      ...(is_disabled === undefined
        ? {}
        : { status: is_disabled ? 'inactive' : current.status === 'inactive' ? 'active' : current.status }),
      updated_at: Date.now(),
    };
    if (!(await this.store.updateEndpoint(updated))) throw new WebhookNotFoundError('endpoint', uid);
    return updated;
  }

  async get(uid: string): Promise<EndpointRecord> {
    const endpoint = await this.store.getEndpoint(uid);
    if (!endpoint) throw new WebhookNotFoundError('endpoint', uid);
    return endpoint;
  }

  list(filter: EndpointFilter, page: PageRequest): Promise<RecordPage<EndpointRecord>> {
    return this.store.listEndpoints(filter, page);
  }

  async delete(uid: string): Promise<void> {
    if (!(await this.store.deleteEndpoint(uid))) throw new WebhookNotFoundError('endpoint', uid);
  }

  /** As Convoy's pause: toggles active and paused; any other status is an error. Paused endpoints keep their deliveries waiting. */
  async pause(uid: string): Promise<EndpointRecord> {
    const endpoint = await this.get(uid);
    if (endpoint.status === 'inactive')
      throw new WebhookStateError(`Endpoint ${uid} is inactive; activate it instead of pausing`);
    return this.setStatus(endpoint, endpoint.status === 'active' ? 'paused' : 'active');
  }

  /** Inactive or paused becomes active (after a 410, exhausted retries, or a pause). */
  async activate(uid: string): Promise<EndpointRecord> {
    return this.setStatus(await this.get(uid), 'active');
  }

  /** Disables an endpoint (410 Gone, or retries exhausted with disableEndpointOnFailure). */
  async deactivate(uid: string): Promise<void> {
    const endpoint = await this.store.getEndpoint(uid);
    if (endpoint && endpoint.status !== 'inactive') await this.setStatus(endpoint, 'inactive');
  }

  /**
   * Adds a new secret (given, or generated) and lets the current ones sign for `expiration` more seconds:
   * advanced signatures carry both meanwhile, so receivers can switch without losing a webhook.
   */
  async expireSecret(uid: string, input: { secret?: string; expiration: number }): Promise<EndpointRecord> {
    const endpoint = await this.get(uid);
    if (
      typeof input?.expiration !== 'number' ||
      !Number.isInteger(input.expiration) ||
      input.expiration < 0 ||
      input.expiration > 30 * 86_400
    ) {
      throw new InvalidEndpointError('expiration', 'must be a whole number of seconds from 0 to 2592000 (30 days)');
    }
    const next =
      input.secret === undefined
        ? endpoint.signature_format === 'standard'
          ? generateStandardWebhookSecret()
          : convoyStyleSecret()
        : checkSecret(input.secret, endpoint.signature_format);
    const now = Date.now();
    const expiresAt = now + input.expiration * 1000;
    const secrets = activeSecrets(endpoint, now).map((s) =>
      s.expires_at === null || s.expires_at > expiresAt ? { ...s, expires_at: expiresAt } : s,
    );
    const updated = { ...endpoint, secrets: [...secrets, secretRecord(next, now)], updated_at: now };
    await this.store.updateEndpoint(updated);
    return updated;
  }

  private async setStatus(endpoint: EndpointRecord, status: EndpointRecord['status']): Promise<EndpointRecord> {
    const updated = { ...endpoint, status, updated_at: Date.now() };
    await this.store.updateEndpoint(updated);
    return updated;
  }

  /** Checks every given field; on create, name and url are required. Returns the normalized fields. */
  private async validate(input: WebhookEndpointInput, current: EndpointRecord | undefined): Promise<NormalizedFields> {
    if (input === null || typeof input !== 'object' || Array.isArray(input))
      throw new InvalidEndpointError('(body)', `must be an object, got ${describeValue(input)}`);
    for (const key of Object.keys(input)) {
      if ((input as Record<string, unknown>)[key] === undefined) continue;
      if (!KNOWN.has(key)) throw new InvalidEndpointError(key, 'is not an endpoint field');
      if ((UNSUPPORTED as readonly string[]).includes(key))
        throw new InvalidEndpointError(key, 'is not supported by the embedded engine (use Convoy for it)');
    }
    const out: NormalizedFields = {};
    if (input.url !== undefined || !current) out.url = await this.checkUrl(input.url);
    if (input.name !== undefined) out.name = text('name', input.name, 1, 255);
    if (input.description !== undefined) out.description = text('description', input.description, 0, 1024);
    if (input.owner_id !== undefined) out.owner_id = text('owner_id', input.owner_id, 0, 255);
    if (input.support_email !== undefined) out.support_email = text('support_email', input.support_email, 0, 255);
    if (input.advanced_signatures !== undefined)
      out.advanced_signatures = bool('advanced_signatures', input.advanced_signatures);
    if (input.is_disabled !== undefined) out.is_disabled = bool('is_disabled', input.is_disabled);
    if (input.http_timeout !== undefined) out.http_timeout = int('http_timeout', input.http_timeout, 1, 300);
    if (input.rate_limit !== undefined) out.rate_limit = int('rate_limit', input.rate_limit, 0, 1_000_000);
    if (input.rate_limit_duration !== undefined)
      out.rate_limit_duration = int('rate_limit_duration', input.rate_limit_duration, 0, 86_400);
    const rateLimit = out.rate_limit ?? current?.rate_limit ?? 0;
    const rateDuration = out.rate_limit_duration ?? current?.rate_limit_duration ?? 0;
    if (rateLimit > 0 && rateDuration === 0)
      throw new InvalidEndpointError('rate_limit_duration', 'must be set (in seconds) when rate_limit is');
    if (input.content_type !== undefined && input.content_type !== 'application/json') {
      throw new InvalidEndpointError('content_type', 'must be application/json in the embedded engine');
    }
    if (input.signature_format !== undefined) {
      if (input.signature_format !== 'convoy' && input.signature_format !== 'standard')
        throw new InvalidEndpointError('signature_format', 'must be "convoy" or "standard"');
      if (current && input.signature_format !== current.signature_format)
        throw new InvalidEndpointError(
          'signature_format',
          'cannot change after creation (the secrets differ); create a new endpoint',
        );
      out.signature_format = input.signature_format;
    }
    if (input.secret !== undefined) out.secret = checkSecret(input.secret, out.signature_format ?? 'convoy');
    if (input.event_types !== undefined) {
      const max = this.limits.maxEventTypeLength;
      if (
        !Array.isArray(input.event_types) ||
        input.event_types.length === 0 ||
        input.event_types.length > 100 ||
        !input.event_types.every((t) => typeof t === 'string' && t.trim() !== '' && t.length <= max)
      ) {
        throw new InvalidEndpointError(
          'event_types',
          `must be 1 to 100 event types (non-empty strings of at most ${max} characters: limits.maxEventTypeLength), e.g. ["*"] or ["todo.created", "todo.*"]`,
        );
      }
      out.event_types = [...new Set(input.event_types)];
      if (this.catalogTypes) checkAgainstCatalog(out.event_types, this.catalogTypes);
    }
    if (input.authentication !== undefined)
      out.api_key_header = apiKeyHeader(input.authentication, this.limits.maxHeaderBytes);
    return out;
  }

  /**
   * The URL's form (parseEndpointUrl), then the SSRF guard on every address it resolves to. A host that does not
   * resolve (ENOTFOUND, EAI_AGAIN…) is a bad URL for the caller too, like a blocked one: the guard's and the
   * resolver's errors both become InvalidEndpointError, the original as `cause`.
   */
  private async checkUrl(url: unknown): Promise<string> {
    const parsed = parseEndpointUrl(url, this.limits.maxUrlLength);
    try {
      await checkDestination(parsed, this.policy, this.lookupAll);
    } catch (error) {
      if (error instanceof DestinationBlockedError || error instanceof InvalidDestinationError)
        throw new InvalidEndpointError('url', error.message, error);
      const code = (error as { code?: unknown })?.code;
      throw new InvalidEndpointError(
        'url',
        `host "${parsed.hostname}" could not be resolved (${typeof code === 'string' ? code : String((error as Error)?.message ?? error)}); check the name and this machine's DNS`,
        error,
      );
    }
    return parsed.toString();
  }
}

type NormalizedFields = Partial<Omit<EndpointRecord, 'secrets' | 'status'>> & {
  secret?: string;
  is_disabled?: boolean;
};

/** Secrets that still sign at `now` (expired ones are dropped). */
export function activeSecrets(endpoint: EndpointRecord, now: number = Date.now()): SecretRecord[] {
  return endpoint.secrets.filter((s) => s.expires_at === null || s.expires_at > now);
}

function secretRecord(value: string, now: number): SecretRecord {
  return { uid: uuidv7(), value, expires_at: null, created_at: now };
}

function checkSecret(secret: unknown, format: SignatureFormat): string {
  if (!isEndpointSecret(secret)) throw new InvalidEndpointError('secret', ENDPOINT_SECRET_RULE);
  if (format === 'standard' && !/^whsec_[A-Za-z0-9+/]+={0,2}$/.test(secret)) {
    throw new InvalidEndpointError(
      'secret',
      'must be a Standard Webhooks secret: "whsec_" followed by base64 (omit it to have one generated)',
    );
  }
  return secret;
}

function text(field: string, value: unknown, min: number, max: number): string {
  if (typeof value !== 'string' || value.length < min || value.length > max || /[\u0000-\u001f]/.test(value)) {
    throw new InvalidEndpointError(field, `must be a string of ${min} to ${max} characters without control characters`);
  }
  return value;
}

function bool(field: string, value: unknown): boolean {
  if (typeof value !== 'boolean')
    throw new InvalidEndpointError(field, `must be true or false, got ${describeValue(value)}`);
  return value;
}

function int(field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidEndpointError(field, `must be a whole number from ${min} to ${max}`);
  }
  return value;
}

function apiKeyHeader(auth: unknown, maxBytes: number): { name: string; value: string } | null {
  if (auth === null) return null;
  const a = auth as { type?: unknown; api_key?: { header_name?: unknown; header_value?: unknown } };
  if (a?.type !== 'api_key')
    throw new InvalidEndpointError('authentication', 'supports only type "api_key" in the embedded engine');
  const name = a.api_key?.header_name;
  const value = a.api_key?.header_value;
  if (
    typeof name !== 'string' ||
    !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name) ||
    typeof value !== 'string' ||
    /[\r\n]/.test(value)
  ) {
    throw new InvalidEndpointError(
      'authentication.api_key',
      'needs a valid header_name and a single-line header_value',
    );
  }
  if (name.length + value.length > maxBytes)
    throw new InvalidEndpointError(
      'authentication.api_key',
      overLimit(name.length + value.length, maxBytes, 'bytes (name and value)', 'maxHeaderBytes'),
    );
  return { name, value };
}

/**
 * With a registered catalog, an endpoint subscribing to a type the application never publishes is a typo that would
 * silently receive nothing: each entry must be "*", a catalog type, or a pattern (`todo.*`, `todo.**`) matching one.
 */
function checkAgainstCatalog(eventTypes: readonly string[], catalogTypes: readonly string[]): void {
  const unknown = eventTypes.filter(
    (t) => t !== '*' && !catalogTypes.some((known) => known === t || matchesEventPattern(t, known)),
  );
  if (unknown.length === 0) return;
  const quoted = (xs: readonly string[], max: number) =>
    xs
      .slice(0, max)
      .map((x) => JSON.stringify(x))
      .join(', ') + (xs.length > max ? ` and ${xs.length - max} more` : '');
  throw new InvalidEndpointError(
    'event_types',
    `names event types that are not in the event catalog: ${quoted(unknown, 10)}` +
      ` (known: "*", ${quoted(catalogTypes, 20)}; a pattern such as "todo.*" must match one of them)`,
  );
}
