import { parseDestinationUrl } from '../network/destination.js';
import type { InvalidDestinationError } from '../errors/destination.errors.js';
import { WebhookValidationError } from '../errors/publish.errors.js';
import { DEFAULT_LIMITS, type Limits } from '../options/option-tables.js';
import { describeValue } from '../utils/describe-value.js';
import { USERINFO } from '../utils/redact.js';
import type { PublishOptions, WebhookTarget } from './webhook.types.js';

const MAX_IDEMPOTENCY_KEY_LENGTH = 255; // also for ordering keys
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Headers the delivery sets itself; Convoy silently ignores custom values for some of them, so refuse them loudly. */
const RESERVED_HEADERS = new Set([
  'content-type',
  'content-length',
  'content-encoding',
  'accept-encoding',
  'transfer-encoding',
  'connection',
  'host',
  'x-convoy-signature',
  'x-convoy-idempotency-key',
  'webhook-id',
  'webhook-timestamp',
  'webhook-signature',
]);
const PUBLISH_OPTION_KEYS = [
  'endpointId',
  'ownerId',
  'broadcast',
  'url',
  'secret',
  'idempotencyKey',
  'headers',
  'orderingKey',
];

/** What a limit refuses, in words: the size, the limit, and the option that changes it. */
export const overLimit = (size: number, max: number, unit: string, option: keyof Limits): string =>
  `is ${size} ${unit}; at most ${max} are allowed (raise limits.${option} to allow more)`;

/**
 * Letters, marks, digits, punctuation and symbols of any script: no white space, and no control, format (bidi
 * overrides, zero-width characters), private-use, unassigned or lone surrogate code points, which make two
 * different types look the same in a dashboard or a log.
 */
const EVENT_TYPE = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]+$/u;

export function validateEventType(eventType: unknown, maxLength: number = DEFAULT_LIMITS.maxEventTypeLength): string {
  if (typeof eventType !== 'string' || eventType === '') {
    throw new WebhookValidationError(
      'eventType',
      `must be a non-empty string such as "todo.created", got ${describeValue(eventType)}`,
    );
  }
  if (eventType.length > maxLength) {
    throw new WebhookValidationError(
      'eventType',
      overLimit(eventType.length, maxLength, 'characters long', 'maxEventTypeLength'),
    );
  }
  if (!EVENT_TYPE.test(eventType)) {
    throw new WebhookValidationError(
      'eventType',
      'must be printable characters without spaces, control, bidi or zero-width characters, such as "todo.created"',
    );
  }
  return eventType;
}

/**
 * Serializes data to compact JSON, refusing what JSON would silently change or cannot hold: circular structures,
 * BigInt, functions, symbols and symbol keys, NaN/Infinity, Map/Set, typed arrays and Buffers, undefined array
 * elements and holes, a top-level undefined, and a payload over `maxBytes` (UTF-8).
 */
export function serializeData(data: unknown, maxBytes: number = DEFAULT_LIMITS.maxPayloadBytes): string {
  if (data === undefined) {
    throw new WebhookValidationError(
      'data',
      'is undefined; pass a JSON value (an object, array, string, number, boolean or null)',
    );
  }
  let text: string | undefined;
  try {
    // Plain data (the common case) is checked by a walk and serialized without a replacer: a replacer is a call
    // from C++ into JS per value, which made this the costliest step of publish() (npm run bench). Anything the
    // walk is unsure of (toJSON, Map, cycles, deep nesting) takes the exact path: the replacer sees what JSON sees.
    text = isPlainJson(data, 0) ? JSON.stringify(data) : JSON.stringify(data, refuseLossyValues);
  } catch {
    // Walk again only on failure, to name the exact place: the common path pays for one stringify.
    throw locateProblem(data);
  }
  if (text === undefined)
    throw new WebhookValidationError('data', `is ${describeValue(data)}, which is not JSON-serializable`);
  // A UTF-16 unit is 1 to 3 UTF-8 bytes: only a long text needs counting.
  if (text.length * 3 > maxBytes) {
    const bytes = text.length > maxBytes ? text.length : Buffer.byteLength(text);
    if (bytes > maxBytes)
      throw new WebhookValidationError(
        'data',
        `${overLimit(bytes, maxBytes, 'bytes as JSON', 'maxPayloadBytes')}; send a reference (an id or a URL) to large content instead`,
      );
  }
  return flat(text);
}

/**
 * V8 builds a longer JSON.stringify() result as a chain of pieces and joins them where the text is first read
 * whole (when it is signed or sent). The event waits in the queue before that, so its pieces would be copied by
 * every young-generation collection meanwhile, and then kept beside the joined copy: reading the text whole here
 * (ToNumber does) joins it while the pieces are young, and they die in the next collection.
 */
function flat(text: string): string {
  void Number(text);
  return text;
}

/** True when JSON.stringify(value) keeps everything as it is; false when unsure (the caller then checks exactly). */
function isPlainJson(value: unknown, depth: number): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'object': {
      if (value === null) return true;
      if (depth > 64) return false;
      if (Array.isArray(value)) {
        if (hasNamedProperties(value)) return false;
        for (let i = 0; i < value.length; i++)
          if (value[i] === undefined || !isPlainJson(value[i], depth + 1)) return false;
        return true;
      }
      if (value instanceof Date) return true; // toJSON gives a string, or null for an invalid date, as JSON does
      if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return false;
      // A boxed number may hold NaN: the exact path checks it.
      if (Object.getPrototypeOf(value) !== Object.prototype && (isLossyObject(value) || value instanceof Number))
        return false;
      if (hasSymbolKeys(value)) return false;
      const record = value as Record<string, unknown>;
      for (const key in record) {
        if (!Object.hasOwn(record, key)) continue; // JSON takes own properties only (for-in allocates no key list)
        const child = record[key];
        if (child !== undefined && !isPlainJson(child, depth + 1)) return false; // an undefined property is left out, as JSON does
      }
      return true;
    }
    default:
      return false; // bigint, function, symbol, undefined
  }
}

/** Map, Set and their weak kinds: JSON sends them as `{}`. */
const isCollection = (value: object): boolean =>
  value instanceof Map || value instanceof Set || value instanceof WeakMap || value instanceof WeakSet;

/** Typed arrays, DataView, Buffer and ArrayBuffer: JSON sends them as numbered keys, `{}` or `{type,data}`. */
const isBinary = (value: object): boolean => ArrayBuffer.isView(value) || value instanceof ArrayBuffer;

/** Object(Symbol()) and Object(1n): JSON sends the first as `{}` and cannot send the second. */
const isBoxedSymbolOrBigInt = (value: object): boolean => value instanceof Symbol || value instanceof BigInt;

const isLossyObject = (value: object): boolean =>
  isCollection(value) || isBinary(value) || isBoxedSymbolOrBigInt(value);

/** An array with properties besides its elements (`Object.assign([1], { total: 1 })`): JSON leaves them out. */
function hasNamedProperties(array: unknown[]): boolean {
  return Object.keys(array).length !== array.length;
}

/** JSON leaves symbol-keyed properties out. */
function hasSymbolKeys(value: object): boolean {
  for (const symbol of Object.getOwnPropertySymbols(value))
    if (Object.prototype.propertyIsEnumerable.call(value, symbol)) return true;
  return false;
}

function refuseLossyValues(this: unknown, key: string, value: unknown): unknown {
  switch (typeof value) {
    case 'bigint':
    case 'function':
    case 'symbol':
      throw new TypeError('lossy');
    case 'undefined':
      // A property holding undefined is left out, as in JSON; an array element would silently become null.
      if (Array.isArray(this)) throw new TypeError('lossy');
      return value;
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError('lossy');
      return value;
    case 'object': {
      if (value === null) return value;
      // The holder's own value, before a toJSON (Buffer has one) replaced it; read without calling a getter again.
      const raw: unknown = Object.getOwnPropertyDescriptor(this, key)?.value;
      if (
        isLossyObject(value) ||
        hasSymbolKeys(value) ||
        (Array.isArray(value) && hasNamedProperties(value)) ||
        (value instanceof Number && !Number.isFinite(value.valueOf())) ||
        (raw !== value && typeof raw === 'object' && isBinary(raw!))
      )
        throw new TypeError('lossy');
      return value;
    }
    default:
      return value;
  }
}

function locateProblem(root: unknown): WebhookValidationError {
  const ancestors: unknown[] = [];
  const visit = (value: unknown, path: string, key: string, inArray: boolean): WebhookValidationError | undefined => {
    if (value !== null && typeof value === 'object' && isBinary(value))
      return new WebhookValidationError(
        path,
        `is a ${value.constructor?.name ?? 'binary buffer'}, which JSON would turn into an object of numbers; send it as a base64 string (Buffer.from(…).toString('base64'))`,
      );
    if (value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
      try {
        value = (value as { toJSON: (key: string) => unknown }).toJSON(key);
      } catch (error) {
        return new WebhookValidationError(path, `has a toJSON() that threw: ${(error as Error).message}`);
      }
    }
    if (value instanceof Number || value instanceof String || value instanceof Boolean) value = value.valueOf(); // as JSON does
    switch (typeof value) {
      case 'bigint':
        return new WebhookValidationError(
          path,
          'is a BigInt, which JSON cannot represent; convert it to a string or number first',
        );
      case 'function':
        return new WebhookValidationError(path, 'is a function, which JSON cannot represent');
      case 'symbol':
        return new WebhookValidationError(path, 'is a symbol, which JSON cannot represent');
      case 'undefined':
        return inArray
          ? new WebhookValidationError(path, 'is undefined inside an array, which JSON would turn into null; use null')
          : undefined;
      case 'number':
        return Number.isFinite(value)
          ? undefined
          : new WebhookValidationError(
              path,
              `is ${value}, which JSON would turn into null; send null or a string instead`,
            );
      case 'object': {
        if (value === null) return undefined;
        if (value instanceof Map || value instanceof WeakMap)
          return new WebhookValidationError(
            path,
            'is a Map, which JSON would send as {}; convert it with Object.fromEntries()',
          );
        if (value instanceof Set || value instanceof WeakSet)
          return new WebhookValidationError(
            path,
            'is a Set, which JSON would send as {}; convert it with Array.from()',
          );
        if (value instanceof Symbol)
          return new WebhookValidationError(path, 'is a boxed symbol (Object(Symbol())), which JSON would send as {}');
        if (value instanceof BigInt)
          return new WebhookValidationError(
            path,
            'is a boxed BigInt, which JSON cannot represent; convert it to a string or number first',
          );
        if (ancestors.includes(value))
          return new WebhookValidationError(
            path,
            'refers back to one of its own parents (a circular structure), which JSON cannot represent',
          );
        ancestors.push(value);
        const isArray = Array.isArray(value);
        let entries: Array<[string, string, unknown]>;
        try {
          const array = value as unknown[];
          const hole = isArray ? array.findIndex((_, i) => !(i in array)) : -1; // findIndex visits holes, map skips them
          if (hole >= 0)
            return new WebhookValidationError(
              `${path}[${hole}]`,
              'is a hole in a sparse array (like [1,,3]), which JSON would turn into null; fill it (e.g. with null)',
            );
          const named = isArray ? Object.keys(array).find((k) => !/^(?:0|[1-9]\d*)$/.test(k)) : undefined;
          if (named !== undefined)
            return new WebhookValidationError(
              `${path}.${named}`,
              'is a named property of an array, which JSON leaves out; put the array and the property in an object',
            );
          const symbol = Object.getOwnPropertySymbols(value).find((s) =>
            Object.prototype.propertyIsEnumerable.call(value, s),
          );
          if (symbol)
            return new WebhookValidationError(
              `${path}[${String(symbol)}]`,
              'is a property with a symbol key, which JSON leaves out; use a string key',
            );
          entries = isArray
            ? array.map((v, i) => [`[${i}]`, String(i), v])
            : Object.entries(value).map(([k, v]) => [`.${k}`, k, v]);
        } catch (error) {
          return new WebhookValidationError(
            path,
            `could not be read (a property getter threw: ${(error as Error).message})`,
          );
        }
        for (const [suffix, childKey, child] of entries) {
          const found = visit(child, path + suffix, childKey, isArray);
          if (found) return found;
        }
        ancestors.pop();
        return undefined;
      }
      default:
        return undefined;
    }
  };
  try {
    return visit(root, 'data', '', false) ?? new WebhookValidationError('data', 'could not be serialized to JSON');
  } catch (error) {
    if (error instanceof RangeError)
      return new WebhookValidationError('data', 'is nested too deeply to serialize to JSON');
    return new WebhookValidationError('data', `could not be serialized to JSON: ${(error as Error).message}`);
  }
}

export interface ValidatedPublishOptions {
  target: WebhookTarget | undefined;
  idempotencyKey: string | undefined;
  headers: Record<string, string>;
  orderingKey: string | undefined;
}

/** Shared by every message without custom headers (frozen: nothing may add to it), rather than an object each. */
const NO_HEADERS: Record<string, string> = Object.freeze({});
const NO_OPTIONS: ValidatedPublishOptions = Object.freeze({
  target: undefined,
  idempotencyKey: undefined,
  headers: NO_HEADERS,
  orderingKey: undefined,
});

export function validatePublishOptions(
  options: unknown,
  limits: Readonly<Limits> = DEFAULT_LIMITS,
): ValidatedPublishOptions {
  if (options === undefined) return NO_OPTIONS;
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new WebhookValidationError('options', `must be an object, got ${describeValue(options)}`);
  }
  const o = options as PublishOptions & Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!PUBLISH_OPTION_KEYS.includes(key) && o[key] !== undefined) {
      throw new WebhookValidationError(
        `options.${key}`,
        `is not a publish option; known options are ${PUBLISH_OPTION_KEYS.join(', ')}`,
      );
    }
  }
  return {
    target: validateTarget(o, 'options', limits.maxUrlLength),
    idempotencyKey:
      o.idempotencyKey === undefined
        ? undefined
        : validateKey('idempotencyKey', o.idempotencyKey, 'it is sent as an HTTP header'),
    headers: o.headers === undefined ? NO_HEADERS : validateHeaders(o.headers, limits),
    orderingKey:
      o.orderingKey === undefined ? undefined : validateKey('orderingKey', o.orderingKey, 'e.g. an order id'),
  };
}

/** Reads the target fields of publish options (or of a defaultTarget); undefined when none is set. */
export function validateTarget(
  o: PublishOptions,
  where: string,
  maxUrlLength: number = DEFAULT_LIMITS.maxUrlLength,
): WebhookTarget | undefined {
  const chosen = (['endpointId', 'ownerId', 'url'] as const).filter((k) => o[k] !== undefined);
  if (o.broadcast !== undefined && typeof o.broadcast !== 'boolean') {
    throw new WebhookValidationError(`${where}.broadcast`, `must be true or false, got ${describeValue(o.broadcast)}`);
  }
  const names = [...chosen, ...(o.broadcast ? ['broadcast'] : [])];
  if (names.length > 1) {
    throw new WebhookValidationError(
      where,
      `name more than one target (${names.join(', ')}); pick one of endpointId, ownerId, broadcast or url`,
    );
  }
  if (o.secret !== undefined && o.url === undefined) {
    throw new WebhookValidationError(
      `${where}.secret`,
      'is only used with url (it signs the endpoint Convoy creates for that URL)',
    );
  }
  if (o.broadcast) return { broadcast: true };
  const key = chosen[0];
  if (key === undefined) return undefined;
  const value = o[key];
  if (typeof value !== 'string' || value.trim() === '' || CONTROL_CHARS.test(value)) {
    throw new WebhookValidationError(
      `${where}.${key}`,
      `must be a non-empty string without control characters, got ${describeValue(value)}`,
    );
  }
  if (key !== 'url' && value.length > MAX_IDEMPOTENCY_KEY_LENGTH)
    throw new WebhookValidationError(
      `${where}.${key}`,
      `is ${value.length} characters long; at most ${MAX_IDEMPOTENCY_KEY_LENGTH} are allowed (a fixed bound: ids are short)`,
    );
  if (key === 'endpointId') return { endpointId: value };
  if (key === 'ownerId') return { ownerId: value };
  const tooLong = urlLengthProblem(value, maxUrlLength);
  if (tooLong) throw new WebhookValidationError(`${where}.url`, tooLong);
  // First: in `user:pw@host/x` (no scheme) the "scheme" would be the user, which must not be quoted.
  if (USERINFO.test(value)) {
    throw new WebhookValidationError(`${where}.url`, 'contains credentials; pass them as headers instead');
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new WebhookValidationError(
      `${where}.url`,
      'is not an absolute URL (expected e.g. "https://example.com/webhooks")',
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new WebhookValidationError(
      `${where}.url`,
      `uses ${url.protocol}; only http: and https: URLs can receive webhooks`,
    );
  }
  try {
    parseDestinationUrl(value); // what else the SSRF guard refuses of a URL's form (a fragment, port 0), for every transport
  } catch (error) {
    throw new WebhookValidationError(`${where}.url`, (error as InvalidDestinationError).reason);
  }
  if (o.secret !== undefined && !isEndpointSecret(o.secret)) {
    throw new WebhookValidationError(`${where}.secret`, `${ENDPOINT_SECRET_RULE}, as an endpoint's secret`);
  }
  return o.secret === undefined ? { url: value } : { url: value, secret: o.secret };
}

export const ENDPOINT_SECRET_RULE = 'must be 8 to 256 characters without white space';

/** An endpoint's signing secret, whether given at creation or with a `{ url, secret }` target. */
export function isEndpointSecret(secret: unknown): secret is string {
  return typeof secret === 'string' && secret.length >= 8 && secret.length <= 256 && !/\s/.test(secret);
}

/** Why a URL is too long, before parsing (a 20 MB string is not worth parsing) and after (normalizing can lengthen it). */
export function urlLengthProblem(url: string | URL, max: number): string | undefined {
  const length = typeof url === 'string' ? url.length : url.href.length;
  return length > max ? overLimit(length, max, 'characters long', 'maxUrlLength') : undefined;
}

/** Printable ASCII without surrounding spaces: idempotency keys travel as HTTP headers (X-Convoy-Idempotency-Key, webhook-id). */
const PRINTABLE_KEY = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/;

function validateKey(option: 'idempotencyKey' | 'orderingKey', key: unknown, why: string): string {
  if (typeof key !== 'string' || key === '') {
    throw new WebhookValidationError(`options.${option}`, `must be a non-empty string, got ${describeValue(key)}`);
  }
  if (key.length > MAX_IDEMPOTENCY_KEY_LENGTH || !PRINTABLE_KEY.test(key)) {
    throw new WebhookValidationError(
      `options.${option}`,
      `must be at most ${MAX_IDEMPOTENCY_KEY_LENGTH} printable ASCII characters, without surrounding spaces (${why})`,
    );
  }
  return key;
}

function validateHeaders(headers: unknown, limits: Readonly<Limits>): Record<string, string> {
  if (headers === null || typeof headers !== 'object' || Array.isArray(headers)) {
    throw new WebhookValidationError(
      'options.headers',
      `must be an object of header names to string values, got ${describeValue(headers)}`,
    );
  }
  const entries = Object.entries(headers);
  if (entries.length > limits.maxHeaders)
    throw new WebhookValidationError(
      'options.headers',
      `${overLimit(entries.length, limits.maxHeaders, 'headers', 'maxHeaders')}; receivers refuse requests with too many headers (HTTP 431)`,
    );
  const result: Record<string, string> = {};
  let bytes = 0;
  for (const [name, value] of entries) {
    // Counted first, so that a huge name is never quoted in an error.
    bytes += name.length + (typeof value === 'string' ? value.length : 0);
    if (bytes > limits.maxHeaderBytes)
      throw new WebhookValidationError(
        'options.headers',
        `${overLimit(bytes, limits.maxHeaderBytes, 'bytes or more (names and values)', 'maxHeaderBytes')}; receivers refuse large headers (HTTP 431)`,
      );
    if (!HEADER_NAME.test(name))
      throw new WebhookValidationError(`options.headers["${name}"]`, 'is not a valid HTTP header name');
    // An own "__proto__" key would set the result's prototype rather than a header: the header would vanish.
    if (name === '__proto__')
      throw new WebhookValidationError(`options.headers["${name}"]`, 'is not a header name that can be sent');
    if (RESERVED_HEADERS.has(name.toLowerCase())) {
      throw new WebhookValidationError(
        `options.headers["${name}"]`,
        'is set by the delivery itself and cannot be overridden',
      );
    }
    if (typeof value !== 'string' || !/^[\t\x20-\x7e]*$/.test(value)) {
      throw new WebhookValidationError(
        `options.headers["${name}"]`,
        'must be a string of printable ASCII characters (no line breaks)',
      );
    }
    result[name] = value;
  }
  return result;
}
